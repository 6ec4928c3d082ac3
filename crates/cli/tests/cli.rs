//! The binary as a user meets it: clear one-line errors with exit code 2 and
//! nothing half-written. (The real-browser walk is in `browser.rs`.)

mod common;
use common::{add_admin, assert_success, assert_usage_error, dialtone};

/// `dialtone demo` with `flags`, its data in `data`, on any free port.
fn demo_with(flags: &[&str], data: &std::path::Path) -> std::process::Output {
    let mut args = vec!["demo"];
    args.extend_from_slice(flags);
    args.extend([
        "--data-dir",
        data.to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
    ]);
    dialtone(&args)
}

#[test]
fn unknown_scenario_is_a_usage_error_naming_the_valid_ones() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = demo_with(&["--scenario", "nope"], &data);
    assert_usage_error(
        &out,
        "unknown scenario `nope`: use one of core-software-version",
    );
    assert!(!data.exists(), "nothing written for a bad flag");
    let out = dialtone(&["drill", "--scenario", "nope"]);
    assert_usage_error(&out, "unknown scenario `nope`");
}

#[test]
fn a_sender_that_is_no_address_is_a_usage_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = dir.path().join("dialtone.toml");
    std::fs::write(
        &config,
        "[notify.smtp]\nhost = \"127.0.0.1\"\nsecurity = \"none\"\nfrom = \"not an address\"\n",
    )
    .unwrap();
    let out = demo_with(&["--config", config.to_str().unwrap()], &data);
    assert_usage_error(
        &out,
        &format!(
            "{}: notify.smtp.from: `not an address` is not an address",
            config.display()
        ),
    );
    assert!(!data.exists(), "nothing written for a bad configuration");
}

#[test]
fn bad_flag_values_are_usage_errors() {
    assert_usage_error(
        &dialtone(&["demo", "--speed", "fast"]),
        "`fast` is not a number",
    );
    assert_usage_error(
        &dialtone(&["drill", "--cells", "many"]),
        "invalid value 'many' for '--cells",
    );
    assert_usage_error(
        &dialtone(&["drill", "--all", "--scenario", "dns-failure"]),
        "cannot be used with",
    );
    assert_usage_error(
        &dialtone(&["drill", "--cells", "99999999999"]),
        "more than the twin simulates",
    );
    assert_usage_error(
        &dialtone(&["user", "link", "ada", "--base-url", "not a url"]),
        "is not an http(s) address",
    );
}

#[test]
fn an_occupied_port_is_a_usage_error_and_writes_nothing() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = dialtone(&[
        "demo",
        "--listen",
        &addr,
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    assert_usage_error(&out, "cannot listen on");
    assert!(!data.exists());
}

#[test]
fn an_unwritable_data_dir_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"not a directory").unwrap();
    let data = file.join("data");
    let out = dialtone(&[
        "demo",
        "--listen",
        "127.0.0.1:0",
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    assert_usage_error(&out, "cannot create data directory");
}

#[test]
fn scenarios_lists_the_first_scenario() {
    let out = dialtone(&["scenarios"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("core-software-version"));
}

#[test]
fn a_token_is_created_once_and_revoked_by_its_id() {
    let dir = tempfile::tempdir().expect("temp dir");
    add_admin(dir.path(), dir.path());
    let data = dir.path().to_str().expect("utf-8 path");
    let created = dialtone(&["token", "create", "--user", "ada", "--data-dir", data]);
    assert_success(&created);
    let token = String::from_utf8_lossy(&created.stdout).trim().to_string();
    // dt_<id>_<secret>
    let id = token.split('_').nth(1).expect("a token id");
    // As the help names it: the `dt_<id>_` part.
    let named = format!("dt_{id}_");
    let revoked = dialtone(&["token", "revoke", &named, "--data-dir", data]);
    assert_success(&revoked);
    let again = dialtone(&["token", "revoke", id, "--data-dir", data]);
    assert_eq!(
        again.status.code(),
        Some(2),
        "an unknown token is a usage error"
    );
    assert_usage_error(
        &dialtone(&["token", "revoke", "1", "--data-dir", data]),
        "name it by the 16 hexadecimal digits after `dt_`",
    );
}

#[test]
fn detect_writes_scores_and_a_chart_and_summarises_on_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("cpu.csv");
    let mut rows = String::from("timestamp,value\n");
    for t in 0..300 {
        let value = if t == 250 {
            500.0
        } else {
            10.0 + (t % 5) as f64
        };
        rows.push_str(&format!("{},{value}\n", 1_700_000_000 + 60 * t));
    }
    rows.push_str("1700017940,,\n");
    std::fs::write(&input, rows).unwrap();
    let output = dir.path().join("scored.csv");
    let detect = |chart: &std::path::Path| {
        dialtone(&[
            "detect",
            "--input",
            input.to_str().unwrap(),
            "--output",
            output.to_str().unwrap(),
            "--plot",
            chart.to_str().unwrap(),
        ])
    };
    let chart = dir.path().join("cpu.svg");
    let out = detect(&chart);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "stderr: {stderr}");
    assert_eq!(
        std::fs::read_to_string(&output).unwrap().lines().count(),
        302
    );
    assert!(
        stderr.starts_with("301 rows, 1 at or above the alarm threshold 0.52; 1 passed through"),
        "{stderr}"
    );
    assert!(stderr.contains("first alarms: 1700015000\n"), "{stderr}");
    let svg = std::fs::read_to_string(&chart).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("cpu.csv"), "{svg}");
    assert_eq!(
        svg.matches("fill=\"#d93025\" opacity").count(),
        1,
        "one alarm shaded"
    );

    let out = detect(&dir.path().join("no/such/dir/cpu.svg"));
    assert_usage_error(&out, "choose a --plot in a writable directory");

    // The scores' own file by another name (through `sub/..`, which a
    // comparison of paths alone does not see through; a `.` it would): the
    // chart would be drawn over the scores, which were kept intact when
    // anything failed.
    let before = std::fs::read_to_string(&output).unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    let out = detect(&dir.path().join("sub").join("..").join("scored.csv"));
    assert_usage_error(&out, "--output and --plot name the same file");
    assert_eq!(std::fs::read_to_string(&output).unwrap(), before);
}

#[test]
fn bench_nab_draws_every_file_with_its_windows() {
    // Set by scripts/test; the NAB subset must be there (see bench's nab_official test).
    let shared = std::env::var_os("DIALTONE_SHARED").map_or_else(
        || std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"),
        std::path::PathBuf::from,
    );
    let nab = shared.join("nab");
    assert!(
        nab.join("labels").is_dir(),
        "NAB data not found at {}",
        nab.display()
    );
    let charts = tempfile::tempdir().unwrap();
    let out = dialtone(&[
        "bench",
        "nab",
        "--data",
        nab.to_str().unwrap(),
        "--plot-dir",
        charts.path().join("new").to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "stderr: {stderr}");
    let files: usize = std::fs::read_dir(nab.join("data"))
        .unwrap()
        .map(|category| std::fs::read_dir(category.unwrap().path()).unwrap().count())
        .sum();
    assert!(
        stderr.contains(&format!("charts: {files} files in")),
        "{stderr}"
    );
    let charts_written = std::fs::read_dir(charts.path().join("new"))
        .unwrap()
        .count();
    assert_eq!(charts_written, files);
    let taxi =
        std::fs::read_to_string(charts.path().join("new/realKnownCause__nyc_taxi.svg")).unwrap();
    assert!(taxi.contains("amber: NAB window") && taxi.contains("#e8710a\" opacity"));
    assert!(taxi.contains("shaded red: standard detection"));
    assert!(taxi.contains("grey: probation (not scored)") && taxi.contains("#9aa0a6"));
    let flat = std::fs::read_to_string(
        charts
            .path()
            .join("new/artificialNoAnomaly__art_flatline.svg"),
    )
    .unwrap();
    assert!(!flat.contains("amber:"), "no windows, no amber key");
}

#[test]
fn a_reader_that_stops_early_ends_a_report_quietly() {
    // The pipe's read end is closed before the command writes: `| head` at its most abrupt.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_dialtone"))
        .arg("scenarios")
        .stdin(std::process::Stdio::null())
        .stdout(writer)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "stderr: {stderr}");
    assert!(stderr.is_empty(), "{stderr}");
}

#[test]
fn commands_on_a_database_do_not_create_one_where_there_is_none() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("typo");
    let data = data.to_str().unwrap();
    for args in [
        vec!["postmortem", "3", "--data-dir", data],
        vec!["user", "link", "ada", "--data-dir", data],
        vec!["token", "revoke", "abc", "--data-dir", data],
    ] {
        assert_usage_error(&dialtone(&args), "there is no Dialtone database in");
    }
    assert!(!dir.path().join("typo").exists(), "nothing created");
    let file = dir.path().join("notes.csv");
    std::fs::write(&file, "a,b\n").unwrap();
    assert_usage_error(
        &dialtone(&["postmortem", "3", "--data-dir", file.to_str().unwrap()]),
        "notes.csv is a file: --data-dir names the directory",
    );
    // One that creates one where there is none says the same.
    assert_usage_error(
        &demo_with(&[], &file),
        "notes.csv is a file: --data-dir names the directory",
    );
}

#[test]
fn a_missing_configuration_file_points_to_one_to_start_from() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("dialtone.toml");
    assert_usage_error(
        &dialtone(&["demo", "--config", missing.to_str().unwrap()]),
        "`examples/dialtone.toml` is one to start from",
    );
}

#[test]
fn out_of_range_runs_are_usage_errors() {
    assert_usage_error(
        &dialtone(&["drill", "--seed", "18446744073709551615", "--seeds", "2"]),
        "runs past the largest seed",
    );
    assert_usage_error(
        &dialtone(&[
            "drill",
            "--all",
            "--seed",
            "18446744073709551615",
            "--seeds",
            "1",
        ]),
        "runs past the largest seed a suite can reach",
    );
    assert_usage_error(
        &dialtone(&["bench", "rca", "--warmup-minutes", "1"]),
        "shorter than the engine's start-up grace",
    );
}

#[test]
fn detect_refuses_a_directory_as_output_before_scoring() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.csv");
    std::fs::write(&input, "timestamp,value\n1,2\n").unwrap();
    let out = dialtone(&[
        "detect",
        "--input",
        input.to_str().unwrap(),
        "--output",
        dir.path().to_str().unwrap(),
    ]);
    assert_usage_error(&out, "is a directory");
}

#[test]
fn a_failed_write_names_the_output() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.csv");
    std::fs::write(&input, "timestamp,value\n1,2\n").unwrap();
    let input = input.to_str().unwrap();
    // A device that is always full: every write fails, as on a full disk.
    for (flag, args) in [
        (
            "--output",
            vec!["detect", "--input", input, "--output", "/dev/full"],
        ),
        (
            "--plot",
            vec![
                "detect",
                "--input",
                input,
                "--output",
                "/dev/null",
                "--plot",
                "/dev/full",
            ],
        ),
    ] {
        let out = dialtone(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(
            stderr.contains(&format!("writing {flag} /dev/full")),
            "{stderr}"
        );
    }
}

/// The commands people run first teach by example in `--help`: the
/// argument structs' doc comments, not a one-line summary that replaced them.
#[test]
fn long_help_shows_the_details_and_an_example() {
    for command in ["demo", "drill", "detect", "rca", "assess", "postmortem"] {
        let out = dialtone(&[command, "--help"]);
        assert!(out.status.success(), "{command}");
        let help = String::from_utf8_lossy(&out.stdout);
        let before_usage = help.split("Usage:").next().unwrap_or_default();
        assert!(
            before_usage.contains("\n\n") && before_usage.contains("Example: dialtone "),
            "{command} --help:\n{help}"
        );
    }
}

#[test]
fn help_that_cannot_be_written_is_no_success() {
    for flag in ["--help", "--version"] {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let status = std::process::Command::new(env!("CARGO_BIN_EXE_dialtone"))
            .arg(flag)
            .stdout(full)
            .stderr(std::process::Stdio::null())
            .status()
            .unwrap();
        assert_eq!(status.code(), Some(1), "{flag}");
    }
}

#[test]
fn an_empty_topology_is_a_usage_error_not_a_perfect_network() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.toml");
    std::fs::write(&empty, "").unwrap();
    let out = dialtone(&["assess", empty.to_str().unwrap()]);
    assert_usage_error(&out, "describes no elements");
}

/// `dialtone user add NAME --role admin` on a new data directory, with no
/// password on standard input.
fn add_admin_named(name: &str) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    dialtone(&[
        "user",
        "add",
        name,
        "--role",
        "admin",
        "--data-dir",
        data.to_str().unwrap(),
    ])
}

#[test]
fn a_user_name_is_lowercase_so_no_two_look_alike() {
    assert_usage_error(&add_admin_named("Ada"), "use 1 to 64 lowercase letters");
}

#[test]
fn a_user_without_a_password_is_a_usage_error() {
    assert_usage_error(&add_admin_named("ada"), "no password on standard input");
}

#[test]
fn a_new_data_directory_is_its_owners_alone() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    add_admin(dir.path(), &data);
    let mode = std::fs::metadata(&data).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o700, "{mode:o}");
}

/// A --plot-dir that cannot be made is refused before the run, which may
/// take minutes: here the data would fail the run, and it is the
/// directory that is named.
#[test]
fn a_bad_plot_dir_fails_before_the_benchmark_runs() {
    let dir = tempfile::tempdir().unwrap();
    let nab = dir.path().join("nab");
    std::fs::create_dir_all(nab.join("data/cat")).unwrap();
    std::fs::write(nab.join("data/cat/f.csv"), "not,a,nab,file\n").unwrap();
    let kpi = dir.path().join("kpi");
    std::fs::create_dir_all(&kpi).unwrap();
    std::fs::write(kpi.join("k.csv"), "not a kpi file\n").unwrap();
    let file = dir.path().join("file");
    std::fs::write(&file, "").unwrap();
    let charts = file.join("charts");
    // A directory that exists and where nobody may write, root included.
    for charts in [charts.to_str().unwrap(), "/proc"] {
        for (bench, data) in [("nab", &nab), ("kpi", &kpi)] {
            let out = dialtone(&[
                "bench",
                bench,
                "--data",
                data.to_str().unwrap(),
                "--plot-dir",
                charts,
            ]);
            assert_usage_error(&out, &format!("cannot write in --plot-dir {charts}"));
        }
    }
}
