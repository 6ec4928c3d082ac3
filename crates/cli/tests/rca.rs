//! `dialtone rca` as a user meets it: the shipped example names the AMF
//! software version, with the deployment before the onset as evidence; the
//! directory layout reads the same; bad input is refused with file:line and
//! exit code 2.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

mod common;
use common::dialtone;

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples")
}

fn example(name: &str) -> String {
    examples().join(name).display().to_string()
}

/// Minute at which the AMF software version fails in the example.
const FAULT_MINUTE: u32 = 66;

/// The example telemetry, `examples/small-mobile-telemetry.csv`: 80 minutes
/// from 2024-05-01 12:00 UTC of the cells' registration success and three core
/// instances' procedure success, with a fixed pseudo-random jitter. From
/// minute 66 both AMFs (one version, `amf-22.4.1`) fail their procedures and
/// every cell loses registrations; the SMF stays healthy.
///
/// Regenerate with `DIALTONE_WRITE_EXAMPLES=1 cargo test -p dialtone --test rca`.
fn example_telemetry() -> String {
    // (element, KPI, healthy level, level once failed, jitter amplitude)
    let series = [
        ("cell-n1-1", "attach_success_pct", 99.2, Some(21.0), 0.6),
        ("cell-n1-2", "attach_success_pct", 99.0, Some(18.0), 0.6),
        ("cell-n2-1", "attach_success_pct", 99.3, Some(25.0), 0.6),
        ("cell-s1-1", "attach_success_pct", 98.9, Some(19.0), 0.6),
        ("cell-s1-2", "attach_success_pct", 99.1, Some(23.0), 0.6),
        ("amf-1", "procedure_success_pct", 99.8, Some(31.0), 0.2),
        ("amf-2", "procedure_success_pct", 99.7, Some(28.0), 0.2),
        ("smf-1", "procedure_success_pct", 99.9, None, 0.2),
    ];
    let mut state: u32 = 1;
    let mut out = String::from("timestamp,series,value\n");
    for minute in 0..80u32 {
        let stamp = format!("2024-05-01T{:02}:{:02}:00Z", 12 + minute / 60, minute % 60);
        for (element, kpi, healthy, failed, amplitude) in series {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let jitter = f64::from(state >> 16) / 65_536.0 - 0.5;
            let level = match failed {
                Some(f) if minute >= FAULT_MINUTE => f,
                _ => healthy,
            };
            let value = level + amplitude * jitter;
            writeln!(out, "{stamp},{element}/{kpi},{value:.2}").unwrap();
        }
    }
    out
}

#[test]
fn the_example_telemetry_is_what_the_helper_writes() {
    let path = examples().join("small-mobile-telemetry.csv");
    if std::env::var_os("DIALTONE_WRITE_EXAMPLES").is_some() {
        std::fs::write(&path, example_telemetry()).unwrap();
    }
    assert_eq!(std::fs::read_to_string(&path).unwrap(), example_telemetry());
}

/// `dialtone rca` over the example topology and `telemetry`.
fn rca_on(telemetry: &str, extra: &[&str]) -> std::process::Output {
    let topology = example("small-mobile.toml");
    let mut args = vec!["rca", "--topology", &topology, "--telemetry", telemetry];
    args.extend(extra);
    dialtone(&args)
}

fn rca(extra: &[&str]) -> std::process::Output {
    rca_on(&example("small-mobile-telemetry.csv"), extra)
}

fn success(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

#[test]
fn the_example_names_the_amf_version_with_its_deployment_as_evidence() {
    let changes = example("small-mobile-changes.csv");
    let json: serde_json::Value =
        serde_json::from_str(&success(&rca(&["--changes", &changes, "--json"]))).unwrap();
    let top = &json["candidates"][0];
    assert_eq!(top["element"], "amf-22.4.1", "{json:#}");
    assert!(top["confidence"].as_f64().unwrap() > 0.9, "{json:#}");
    let evidence: Vec<&str> = top["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|l| l.as_str())
        .collect();
    assert!(
        evidence
            .iter()
            .any(|l| l.starts_with("deployment 'AMF 22.4.1 hotfix' on amf-22.4.1 ")),
        "{evidence:?}"
    );
    // 2024-05-01 13:06 UTC, the fault's first minute.
    assert_eq!(json["onset"], 1_714_564_800 + 60 * i64::from(FAULT_MINUTE));
}

#[test]
fn a_time_the_telemetry_does_not_cover_is_a_usage_error() {
    for (at, words) in [
        (
            "2024-05-01T11:00:00Z",
            "is before the first sample (2024-05-01 12:00 UTC)",
        ),
        (
            "2099-01-01T00:00:00Z",
            "is after the last sample (2024-05-01 13:19 UTC)",
        ),
    ] {
        let out = rca(&["--at", at]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(words), "{stderr}");
    }
}

#[test]
fn the_example_output_matches_its_golden_file() {
    let text = success(&rca(&["--changes", &example("small-mobile-changes.csv")]));
    insta::with_settings!({
        snapshot_path => examples().join("expected"),
        prepend_module_to_snapshot => false,
        omit_expression => true,
    }, {
        insta::assert_snapshot!("small-mobile-rca", text);
    });
}

#[test]
fn a_directory_of_series_files_reads_like_the_long_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut files: std::collections::BTreeMap<String, String> = Default::default();
    for line in example_telemetry().lines().skip(1) {
        let mut fields = line.split(',');
        let (t, name, v) = (
            fields.next().unwrap(),
            fields.next().unwrap(),
            fields.next().unwrap(),
        );
        // A file name cannot hold `/`: files are named ELEMENT:KPI.csv.
        let file = files
            .entry(name.replace('/', ":"))
            .or_insert_with(|| "timestamp,value\n".into());
        writeln!(file, "{t},{v}").unwrap();
    }
    for (name, text) in &files {
        std::fs::write(dir.path().join(format!("{name}.csv")), text).unwrap();
    }
    std::fs::write(dir.path().join("README.txt"), "not a series").unwrap();
    let from_dir = rca_on(dir.path().to_str().unwrap(), &["--json"]);
    let from_file: serde_json::Value = serde_json::from_str(&success(&rca(&["--json"]))).unwrap();
    let from_dir: serde_json::Value = serde_json::from_str(&success(&from_dir)).unwrap();
    assert_eq!(from_dir, from_file);
    assert_eq!(from_file["candidates"][0]["element"], "amf-22.4.1");
}

#[test]
fn bad_telemetry_is_a_usage_error_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.csv");
    let mut text = example_telemetry();
    text.push_str("2024-05-01T13:20:00Z,amf-9/procedure_success_pct,99\n");
    std::fs::write(&bad, &text).unwrap();
    let bad = bad.to_str().unwrap();
    let out = rca_on(bad, &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(
            "bad.csv: line 642: series `amf-9/procedure_success_pct`: unknown element `amf-9`"
        ),
        "{stderr}"
    );
    let out = rca_on(bad, &["--lenient"]);
    assert!(success(&out).contains("1. amf-22.4.1"));
    assert!(String::from_utf8_lossy(&out.stderr).contains("warning: skipped: "));
    let early = rca(&["--at", "2023-01-01T00:00:00Z"]);
    assert_eq!(early.status.code(), Some(2));
    // Inside the last minute with data (13:19): covered; past it: not.
    success(&rca(&["--at", "2024-05-01 13:19:30"]));
    let late = rca(&["--at", "2024-05-01 13:20:00"]);
    assert_eq!(late.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&late.stderr).contains("after the last sample"),
        "{late:?}"
    );
}

#[test]
fn at_ranks_an_earlier_minute() {
    let quiet = success(&rca(&["--at", "2024-05-01 13:00:00"]));
    assert!(
        quiet.contains("ranked at 2024-05-01 13:00 UTC: 0 broken observations"),
        "{quiet}"
    );
    assert!(quiet.contains("nothing is broken"), "{quiet}");
    // Inside the first hour the detectors are still training: "cannot
    // tell", not "nothing is broken".
    let training = rca(&["--at", "2024-05-01 12:30:00"]);
    assert_eq!(training.status.code(), Some(2), "{training:?}");
    assert!(
        String::from_utf8_lossy(&training.stderr).contains(
            "first hour, which only trains the detectors: give a time from 2024-05-01 13:00"
        ),
        "{training:?}"
    );
}
