//! Reproduces NAB's official per-file scores of four reference detectors from
//! their result files: every Score (to 1e-9) and every TP/TN/FP/FN count.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use dialtone_bench::nab::{
    LabeledFile, load_profiles, load_window_labels, read_result, score_file,
};

/// `$DIALTONE_SHARED`, else `shared/` beside the workspace root.
fn nab_dir() -> PathBuf {
    let shared = std::env::var_os("DIALTONE_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    let nab = shared.join("nab");
    assert!(
        nab.join("results/expected_scores.csv").is_file(),
        "NAB data not found at {}: set DIALTONE_SHARED to the directory holding nab/ \
         (this test must not pass without its data)",
        nab.display()
    );
    nab
}

/// A result file's labelled rows and anomaly scores.
fn load_result(
    nab: &Path,
    detector: &str,
    file: &str,
    labels: &[[String; 2]],
) -> (LabeledFile, Vec<f64>) {
    let result = read_result(nab, detector, file).unwrap_or_else(|e| panic!("{e}"));
    let labeled =
        LabeledFile::locate(file, &result.timestamps, labels).unwrap_or_else(|e| panic!("{e}"));
    // The windows we placed must be exactly the rows NAB labelled.
    let mut ours = vec![false; result.timestamps.len()];
    for w in &labeled.windows {
        ours[w.start..=w.end].fill(true);
    }
    assert_eq!(
        ours, result.labels,
        "{:?}: windows disagree with the label column",
        result.path
    );
    (labeled, result.scores)
}

#[test]
fn reproduces_every_official_file_score() {
    let nab = nab_dir();
    let profiles = load_profiles(&nab.join("config/profiles.json")).unwrap();
    let labels = load_window_labels(&nab.join("labels/combined_windows.json")).unwrap();
    let mut expected = csv::Reader::from_path(nab.join("results/expected_scores.csv")).unwrap();
    let mut cache: HashMap<(String, String), (LabeledFile, Vec<f64>)> = HashMap::new();
    let (mut checked, mut failures) = (0, Vec::new());
    for record in expected.records() {
        let r = record.unwrap();
        let [detector, profile, file] = [0, 1, 2].map(|i| r[i].to_owned());
        let num = |i: usize| r[i].parse::<f64>().unwrap();
        let count = |i: usize| r[i].parse::<usize>().unwrap();
        let costs = profiles
            .iter()
            .find(|p| p.name == profile)
            .expect("known profile")
            .costs;
        let (labeled, scores) = cache
            .entry((detector.clone(), file.clone()))
            .or_insert_with(|| load_result(&nab, &detector, &file, &labels[&file]));
        let got = score_file(labeled, scores, &costs, num(3)).unwrap();
        let want = (count(5), count(6), count(7), count(8));
        if (got.score - num(4)).abs() > 1e-9 || (got.tp, got.tn, got.fp, got.fn_) != want {
            failures.push(format!(
                "{detector} {profile} {file}: got {} {:?}, want {} {want:?}",
                got.score,
                (got.tp, got.tn, got.fp, got.fn_),
                num(4)
            ));
        }
        assert_eq!(labeled.rows, count(9), "{file}: Total_Count");
        checked += 1;
    }
    assert_eq!(checked, 420, "expected_scores.csv should have 420 rows");
    assert!(
        failures.is_empty(),
        "{} of 420 rows differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
