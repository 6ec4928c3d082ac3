//! `dialtone bench statuspage` end to end: Dialtone and a real nginx under a
//! real wrk, briefly.
//!
//! Runs only where the test command set DIALTONE_BENCH_TESTS=1 (scripts/test
//! installs Debian's `wrk` and `nginx` and sets it).

mod common;
use common::dialtone;

#[test]
fn both_servers_answer_under_load() {
    if std::env::var("DIALTONE_BENCH_TESTS").as_deref() != Ok("1") {
        eprintln!(
            "skipped: set DIALTONE_BENCH_TESTS=1 with wrk and nginx installed (scripts/test does)"
        );
        return;
    }
    let out = dialtone(&[
        "bench",
        "statuspage",
        "--duration-secs",
        "1",
        "--rounds",
        "1",
        "--connections",
        "4",
        "--threads",
        "1",
        "--json",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "stderr: {stderr}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    for side in ["dialtone", "nginx"] {
        let rps = report[side]["requests_per_sec_median"].as_f64().unwrap();
        assert!(rps > 0.0, "{side}: {report}");
        let p99 = report[side]["latency_p99_ms_median"].as_f64().unwrap();
        assert!(p99 > 0.0, "{side}: {report}");
        assert_eq!(report[side]["runs"].as_array().unwrap().len(), 1);
    }
    assert!(report["ratio"].as_f64().unwrap() > 0.0);
}
