//! `dialtone demo` as a service: one per data directory, stopped by SIGTERM
//! as by Ctrl-C, and clear about a database it cannot use.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

mod common;
use common::{add_admin, assert_usage_error, dialtone};

/// Kills the demo if a test fails before stopping it.
struct Demo(Child);

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Demo {
    /// Stops the demo as an operator's Ctrl-C or a service manager would
    /// (SIGTERM); returns how it exited and what it wrote to stderr.
    fn stop(&mut self) -> (std::process::ExitStatus, String) {
        let term = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status()
            .unwrap();
        assert!(term.success());
        let status = self.0.wait().unwrap();
        let mut stderr = String::new();
        (self.0.stderr.take().unwrap())
            .read_to_string(&mut stderr)
            .unwrap();
        (status, stderr)
    }
}

/// Runs a demo on `data` to its end: for the runs refused at start-up.
fn demo_once(data: &Path) -> std::process::Output {
    dialtone(&[
        "demo",
        "--listen",
        "127.0.0.1:0",
        "--data-dir",
        data.to_str().unwrap(),
    ])
}

/// Starts a small, quick demo on `data`, waits for its banner and returns
/// it with the status page's address the banner gives.
fn start_demo(data: &Path) -> (Demo, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_dialtone"))
        .args(["demo", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data)
        .args(["--cells", "24", "--warmup-hours", "2"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starts");
    let stdout = child.stdout.take().expect("piped");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(url) = line.trim().strip_prefix("status page") {
                let _ = tx.send(url.trim().trim_end_matches('/').to_string());
            }
        }
    });
    let url = (rx.recv_timeout(Duration::from_secs(180))).expect("the demo came up");
    (Demo(child), url)
}

/// The body of `GET url` (plain HTTP/1.0, as the demo serves).
fn http_get(url: &str) -> String {
    use std::io::Write;
    let (host, path) = url
        .strip_prefix("http://")
        .unwrap()
        .split_once('/')
        .unwrap();
    let mut stream = std::net::TcpStream::connect(host).unwrap();
    write!(stream, "GET /{path} HTTP/1.0\r\nHost: {host}\r\n\r\n").unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).unwrap();
    reply
}

#[cfg(unix)]
#[test]
fn a_second_demo_on_a_data_dir_is_refused_readers_are_not_and_sigterm_stops_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (mut first, url) = start_demo(&data);
    let pid = first.0.id();
    // Listening on port 0, it tells the port it was given, in the banner
    // and in the page's own address.
    assert!(!url.ends_with(":0"), "{url}");
    let summary = http_get(&format!("{url}/api/v2/summary.json"));
    assert!(summary.contains(&format!("\"url\":\"{url}\"")), "{summary}");

    let second = demo_once(&data);
    assert_usage_error(
        &second,
        &format!("is in use by another dialtone (pid {pid})"),
    );
    let reader = dialtone(&[
        "user",
        "link",
        "demo-admin",
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    assert!(
        reader.status.success(),
        "readers need no lock: {}",
        String::from_utf8_lossy(&reader.stderr)
    );

    let (status, stderr) = first.stop();
    assert_eq!(status.code(), Some(0), "stderr: {stderr}");
    assert!(stderr.contains("stopping..."), "{stderr}");

    // Stopped, it lets the next one in.
    let _next = start_demo(&data);
}

#[test]
fn a_file_that_is_not_a_database_is_named_with_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    std::fs::write(data.join("dialtone.sqlite"), vec![b'x'; 8192]).unwrap();
    let out = demo_once(&data);
    assert_usage_error(
        &out,
        "is not a Dialtone database or is damaged: move it aside",
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("writable"), "{stderr}");
}

#[test]
fn a_postmortem_never_overwrites_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    add_admin(dir.path(), &data);
    let db = data.join("dialtone.sqlite");
    let before = std::fs::read(&db).unwrap();
    for name in [
        "dialtone.sqlite",
        "dialtone.sqlite-wal",
        "dialtone.sqlite-shm",
        "dialtone.lock",
    ] {
        let out = dialtone(&[
            "postmortem",
            "1",
            "--data-dir",
            data.to_str().unwrap(),
            "--output",
            data.join(name).to_str().unwrap(),
        ]);
        assert_usage_error(&out, "is a file of the database in");
    }
    // Through another spelling of the directory too.
    let dotted = data.join(".").join("dialtone.sqlite");
    let out = dialtone(&[
        "postmortem",
        "1",
        "--data-dir",
        data.to_str().unwrap(),
        "--output",
        dotted.to_str().unwrap(),
    ]);
    assert_usage_error(&out, "is a file of the database in");
    assert_eq!(
        std::fs::read(&db).unwrap(),
        before,
        "the database is untouched"
    );
}

#[cfg(unix)]
#[test]
fn changes_event_watches_and_firing_probes_recorded_before_a_restart_are_given_to_the_next_run() {
    use dialtone_engine::{ChangeEvent, ChangeKind, EventWatch, ProbeAlert};
    use dialtone_store::{PlanStore, SqliteStore};
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    // As the API of an earlier run kept them, all still ahead in network time.
    let later = 4_000_000_000;
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let store = SqliteStore::open(&data).await.unwrap();
        for element in ["bridge-conference-1", "gone-since"] {
            let change = ChangeEvent {
                at: later,
                element: element.into(),
                kind: ChangeKind::Config,
                description: "bridge pool resized".into(),
            };
            store.save_change(&change).await.unwrap();
        }
        let watch = EventWatch {
            name: "Board call".into(),
            element: "bridge-conference-1".into(),
            start: later,
            end: later + 3600,
            fallback: None,
        };
        store.save_watch(&watch).await.unwrap();
        // A probe heard of a minute ago, and one not for six hours (which
        // the running server would have taken as resolved).
        let now = dialtone_server::unix_now();
        for (id, heard_at) in [("fresh", now - 60), ("stale", now - 6 * 3600)] {
            let probe = ProbeAlert {
                id: id.into(),
                element: "bridge-conference-1".into(),
                services: 0b1,
                firing: true,
            };
            store.record_probes(&[probe], heard_at).await.unwrap();
        }
        store.close().await;
    });
    let (mut demo, _) = start_demo(&data);
    let (_, stderr) = demo.stop();
    assert!(
        stderr.contains("a recorded change is skipped: change names element `gone-since`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("resumed 2 recorded change(s) and 1 event watch(es)"),
        "{stderr}"
    );
    assert!(stderr.contains("resumed 1 firing probe(s)"), "{stderr}");
}
