//! `dialtone assess` as a user meets it: a ranked list, JSON for scripts, an
//! HTML report, and bad files refused with file:line and exit code 2.

use std::path::Path;
mod common;
use common::{assert_success, dialtone};

fn example(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(name)
        .display()
        .to_string()
}

#[test]
fn assess_ranks_the_planted_weaknesses_with_fixes() {
    let out = dialtone(&["assess", &example("small-mobile.toml")]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_success(&out);
    assert!(stdout.contains("  1. [common mode] amf-22.4.1"), "{stdout}");
    assert!(
        stdout.contains("fix: the AMF pair runs one version"),
        "{stdout}"
    );
    assert!(stdout.contains("feed-main"), "{stdout}");
    assert!(
        stdout.contains("vendor defects, ranked above, are not in it (exact):"),
        "{stdout}"
    );
}

#[test]
fn assess_writes_json_and_a_self_contained_html_report() {
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("report.html");
    let out = dialtone(&[
        "assess",
        &example("edges.csv"),
        "--json",
        "--html",
        html.to_str().unwrap(),
    ]);
    assert_success(&out);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        json["summary"]["single_points_of_failure"]
            .as_u64()
            .unwrap()
            > 0
    );
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("<svg") && !page.contains("<script"));
}

#[test]
fn a_bad_topology_is_a_usage_error_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "[[element]]\nid = \"a\"\nkind = \"cell\"\nneeds = [\"ghost\"]\n",
    )
    .unwrap();
    let out = dialtone(&["assess", bad.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("bad.toml:4: `a` refers to unknown element `ghost`"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    let missing = dialtone(&["assess", "/nonexistent/net.toml"]);
    assert_eq!(missing.status.code(), Some(2));
}

#[test]
fn bench_assess_prints_its_figures_as_json_for_scripts() {
    let out = dialtone(&[
        "bench",
        "assess",
        "--elements",
        "200",
        "--repetitions",
        "1",
        "--rounds",
        "10",
        "--json",
    ]);
    assert_success(&out);
    let figures: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    assert_eq!(figures["benchmark"], "assess");
    assert!(
        figures["assess_secs_median"]
            .as_f64()
            .is_some_and(|s| s > 0.0)
    );
    assert!(figures["elements"].as_u64().is_some_and(|n| n > 100));
}

/// One cell, one region: the counts read "1 cell", "1 region", "1 single
/// point of failure", never "1 cells".
#[test]
fn assess_counts_read_in_the_singular_for_one() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("one.toml");
    std::fs::write(
        &file,
        "[[element]]\nid = \"site-1\"\nkind = \"site\"\nregion = \"r\"\n\
         [[element]]\nid = \"cell-1\"\nkind = \"cell\"\nregion = \"r\"\nsubscribers = 10\nneeds = [\"site-1\"]\n",
    )
    .unwrap();
    let out = dialtone(&["assess", file.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_success(&out);
    assert!(
        stdout.contains("2 elements, 1 cell, 10 subscribers, 1 region\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("1 single point of failure, 0 common-mode causes"),
        "{stdout}"
    );
    assert!(
        stdout.contains("site-1 (site) alone takes 1 cell down"),
        "{stdout}"
    );
    assert!(stdout.contains("10 subscribers on 1 cell;"), "{stdout}");
    assert!(!stdout.contains(" 1 cells"), "{stdout}");
}
