//! The scenario library as a suite: every real outage is detected and its
//! root cause named first, on a network small enough for a debug build.
//! That includes `dns-failure`, a slow network-wide data degradation: it
//! needs the detector's episode filter to alarm on the first sample of a
//! slowly rising episode (see BENCHMARKS.md, "Drill suite").

use dialtone_drill::{SuiteConfig, suite};

#[test]
fn a_small_suite_detects_every_outage_and_names_its_cause() {
    let config = SuiteConfig::all(1, 1, 90, 26 * 3600);
    let mut last = 0;
    let card = suite(&config, |done, total| {
        assert!(done >= last && done <= total, "progress moves forward");
        last = done;
    })
    .expect("suite runs");
    assert_eq!(card.scenarios.len(), dialtone_sim::scenarios().len());
    assert_eq!(card.runs.len(), card.scenarios.len());
    for row in &card.scenarios {
        let fault = row.faults > 0;
        assert_eq!(
            row.detection_rate.is_some(),
            fault,
            "{}: rates only where a fault was injected",
            row.scenario
        );
        if fault {
            // Whatever is detected is named right.
            assert_eq!(row.root_cause_top1, row.detection_rate, "{row:?}");
        }
        if fault {
            assert_eq!(row.detection_rate, Some(1.0), "{row:?}");
        }
        assert_eq!(row.false_incidents, 0, "{row:?}");
    }
    let total = &card.total;
    assert_eq!(total.runs as usize, card.runs.len());
    assert_eq!(
        total.detected,
        card.scenarios.iter().map(|r| r.detected).sum::<u32>()
    );
    assert!(total.detection_rate.is_some_and(|r| r >= 0.9), "{total:?}");
    assert!(total.median_time_to_detect_s.is_some_and(|t| t <= 120));
    assert!(total.p95_time_to_detect_s >= total.median_time_to_detect_s);
    assert!(total.simulated_weeks > 1.0, "quiet-week alone is one");
}
