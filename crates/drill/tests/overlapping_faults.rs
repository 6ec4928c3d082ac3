//! Two independent faults that overlap in time become two incidents, each
//! naming its own cause, and neither fault is reported twice. Seed 4 is the
//! case that needs knock-on claims: the grid outage also disturbs its region's
//! AMF, and without the first incident claiming that, the leftover blurred the
//! second fault (found 38 minutes late and blamed on the AMF).

use dialtone_drill::{DrillConfig, drill};
use dialtone_sim::TwinConfig;

#[test]
fn two_overlapping_faults_become_two_incidents_with_their_own_causes() {
    for seed in 1..=4 {
        let base = TwinConfig::default();
        let card = drill(
            &DrillConfig::new(TwinConfig {
                seed,
                cells: 120,
                scenario: "overlapping-faults".into(),
                fault_at: base.start + 26 * 3600,
                ..base
            }),
            |_, _| {},
        )
        .expect("drill runs");
        let [grid, cell] = &card.faults[..] else {
            panic!("two faults injected: {card:?}");
        };
        assert!(grid.root_cause_truth.starts_with("grid-"), "{grid:?}");
        assert!(cell.root_cause_truth.starts_with("cell-"), "{cell:?}");
        assert!(cell.fault_onset > grid.fault_onset, "the cell fails second");
        for fault in [grid, cell] {
            assert_eq!(fault.root_cause_rank, Some(1), "seed {seed}: {card:#?}");
        }
        assert_ne!(grid.incident_id, cell.incident_id, "two incidents, not one");
        assert!(
            cell.detected_at < grid.resolved_at,
            "the second opened while the first was open: {card:#?}"
        );
        assert_eq!(
            card.false_incidents, 0,
            "seed {seed}: {:?}",
            card.false_incident_details
        );
    }
}
