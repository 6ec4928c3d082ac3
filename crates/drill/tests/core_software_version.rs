//! The foundation's promise: the software-version outage is detected, its
//! version is named first, and the warm-up raises no false incident.

use dialtone_drill::{DrillConfig, drill};
use dialtone_sim::TwinConfig;

fn config(seed: u64) -> DrillConfig {
    let base = TwinConfig::default();
    DrillConfig::new(TwinConfig {
        seed,
        cells: 120,
        scenario: "core-software-version".into(),
        fault_at: base.start + 26 * 3600,
        ..base
    })
}

#[test]
fn detected_named_first_and_quiet_before_on_three_seeds() {
    for seed in 1..=3 {
        let card = drill(&config(seed), |_, _| {}).expect("drill runs");
        assert!(
            card.detected_at.is_some(),
            "seed {seed}: not detected: {card:?}"
        );
        assert_eq!(
            card.root_cause, card.root_cause_truth,
            "seed {seed}: {card:?}"
        );
        assert_eq!(card.root_cause_rank, Some(1), "seed {seed}");
        assert_eq!(
            card.false_incidents_before_fault, 0,
            "seed {seed}: {:?}",
            card.false_incident_details
        );
        let ttd = card.time_to_detect_s.expect("detected");
        assert!(ttd <= 120, "seed {seed}: took {ttd} s");
        assert_eq!(
            card.status_published_at, card.detected_at,
            "the page says so the minute it opens"
        );
        assert!(
            card.resolved_at.is_some(),
            "seed {seed}: the incident resolves after recovery"
        );
    }
}

#[test]
fn a_drill_replays_bit_for_bit() {
    let a = drill(&config(7), |_, _| {}).unwrap();
    let b = drill(&config(7), |_, _| {}).unwrap();
    assert_eq!(a, b);
}
