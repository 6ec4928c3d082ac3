//! Behaviour of the whole twin through its public API.

use dialtone_model::{ElementKind, Kpi, Service, Timestamp};

use super::*;

const HOUR: i64 = 3600;
const ATTACH: usize = 0;
const CALL_SETUP: usize = 1;
const THROUGHPUT: usize = 3;
const LATENCY: usize = 4;
const TRAFFIC: usize = 5;

fn config(scenario: &str, cells: usize) -> TwinConfig {
    TwinConfig {
        cells,
        scenario: scenario.into(),
        // Monday 10:00: a busy morning, clear of the day's normal events.
        fault_at: DEFAULT_START + 10 * HOUR,
        ..TwinConfig::default()
    }
}

/// Every series' value per minute, NaN where no sample was emitted.
struct Recording {
    start: Timestamp,
    width: usize,
    values: Vec<f64>,
}

impl Recording {
    fn run(twin: &mut Twin, minutes: usize) -> Recording {
        let width = twin.series().len();
        let start = twin.now();
        let mut values = vec![f64::NAN; width * minutes];
        let mut out = Vec::new();
        for m in 0..minutes {
            twin.step(&mut out);
            for s in &out {
                values[m * width + s.series as usize] = s.value;
            }
        }
        Recording {
            start,
            width,
            values,
        }
    }

    fn minute(&self, t: Timestamp) -> usize {
        ((t - self.start) / 60) as usize
    }

    fn get(&self, minute: usize, series: usize) -> f64 {
        self.values[minute * self.width + series]
    }

    fn minutes(&self) -> usize {
        self.values.len() / self.width
    }

    /// Mean of a series over minutes `from..to`, skipping missing samples;
    /// NaN (which compares false with everything) when all are missing.
    fn mean(&self, series: usize, from: usize, to: usize) -> f64 {
        let v: Vec<f64> = (from..to)
            .map(|m| self.get(m, series))
            .filter(|v| !v.is_nan())
            .collect();
        v.iter().sum::<f64>() / v.len() as f64
    }

    fn median(&self, series: usize) -> f64 {
        let mut v: Vec<f64> = (0..self.minutes())
            .map(|m| self.get(m, series))
            .filter(|v| !v.is_nan())
            .collect();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    }

    /// Whether cell `c` looks broken over the 10 minutes from `from`: what a
    /// reasonable detector would flag, far outside binomial noise.
    fn cell_degraded(&self, c: usize, from: usize, medians: &[f64]) -> bool {
        let s = |k: usize| c * Kpi::CELL.len() + k;
        let to = (from + 10).min(self.minutes());
        self.mean(s(ATTACH), from, to) < 85.0
            || self.mean(s(CALL_SETUP), from, to) < 80.0
            || self.mean(s(THROUGHPUT), from, to) < 0.4 * medians[s(THROUGHPUT)]
            || self.mean(s(LATENCY), from, to) > 2.5 * medians[s(LATENCY)]
    }

    fn medians(&self) -> Vec<f64> {
        (0..self.width).map(|s| self.median(s)).collect()
    }
}

fn cell_count(twin: &Twin) -> usize {
    twin.series()
        .iter()
        .filter(|k| k.kpi == Kpi::AttachSuccess)
        .count()
}

/// Cell indices (series order) that `failed` takes service from.
fn cells_lost(twin: &Twin, failed: &[usize]) -> Vec<usize> {
    let t = twin.topology();
    let lost = t.propagate(failed);
    (0..cell_count(twin))
        .filter(|&c| {
            let id = &twin.series()[c * Kpi::CELL.len()].element;
            lost[t.index_of(id).unwrap()] != 0
        })
        .collect()
}

#[test]
fn same_seed_gives_identical_samples_and_another_seed_does_not() {
    let cfg = TwinConfig {
        cells: 60,
        fault_at: DEFAULT_START + 30 * 60,
        ..TwinConfig::default()
    };
    let run = |cfg: TwinConfig| {
        let mut twin = Twin::new(cfg).unwrap();
        let rec = Recording::run(&mut twin, 90);
        rec.values.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
    };
    assert_eq!(run(cfg.clone()), run(cfg.clone()));
    assert_ne!(run(cfg.clone()), run(TwinConfig { seed: 2, ..cfg }));
}

#[test]
fn network_has_the_promised_shape() {
    let twin = Twin::new(config("quiet-week", 300)).unwrap();
    let t = twin.topology();
    let of_kind = |k: ElementKind| t.elements().iter().filter(|e| e.kind == k).count();
    assert!((4..=6).contains(&of_kind(ElementKind::Region)));
    assert_eq!(of_kind(ElementKind::Cell), 300);
    assert_eq!(of_kind(ElementKind::Site), 100);
    for e in t.elements() {
        if e.kind == ElementKind::Cell {
            assert!(
                (500..3000).contains(&e.subscribers) && e.emergency_capable && e.region.is_some()
            );
        }
        if matches!(e.kind, ElementKind::CoreInstance | ElementKind::CorePool) {
            assert!(e.function.is_some(), "{} has no function", e.id);
        }
    }
    assert!(t.index_of("cell-north-0001-1").is_some() && t.index_of("pool-amf-north").is_some());
    // A fixed broadband gateway per region and one conference bridge report too.
    let regions = of_kind(ElementKind::Region);
    assert_eq!(of_kind(ElementKind::ConferenceBridge), 1);
    assert_eq!(
        twin.series().len(),
        300 * 6 + (of_kind(ElementKind::CoreInstance) + regions + 1) * 2
    );
}

#[test]
fn ground_truth_matches_what_propagation_says() {
    let runs = scenarios()
        .iter()
        .flat_map(|i| [(i, 1, 300), (i, 2, 300), (i, 3, network::MIN_CELLS)]);
    for (info, seed, cells) in runs {
        let twin = Twin::new(TwinConfig {
            seed,
            ..config(info.id, cells)
        })
        .unwrap();
        let t = twin.topology();
        for truth in twin.ground_truth() {
            let root = t
                .index_of(&truth.root_cause)
                .expect("root cause is an element");
            assert_eq!(
                truth.affected_cells,
                cells_lost(&twin, &[root]).len(),
                "{}",
                info.id
            );
            // The bridge serves conference calls, not cells.
            assert_eq!(
                truth.affected_cells > 0,
                info.id != "conference-bridge-degradation"
            );
            assert!(truth.onset <= truth.symptoms_at && truth.symptoms_at < truth.end);
            assert_eq!(truth.settled_at, truth.end + info.aftermath_secs);
        }
        let truths = twin.ground_truth();
        match info.id {
            "quiet-week" | "planned-maintenance" => assert!(truths.is_empty()),
            "core-software-version" => {
                let root = t.element(t.index_of(&truths[0].root_cause).unwrap());
                assert_eq!(root.kind, ElementKind::SoftwareVersion);
                assert_eq!(root.function.as_deref(), Some("AMF"));
                assert!(
                    truths[0].affected_cells < cells,
                    "some pools run another version"
                );
            }
            "single-cell-hardware-fault" => assert_eq!(truths[0].affected_cells, 1),
            "dns-failure" => assert!(truths[0].symptoms_at > truths[0].onset, "caches delay it"),
            // A tiny network has one agg router and one grid feed per region.
            "regional-power-outage" if cells < 300 => {}
            "regional-power-outage" => {
                // No router explains the same cells, or the root would be ambiguous.
                let root = t.index_of(&truths[0].root_cause).unwrap();
                let by_grid = cells_lost(&twin, &[root]);
                for (i, e) in t.elements().iter().enumerate() {
                    if e.kind == ElementKind::Router {
                        assert_ne!(cells_lost(&twin, &[i]), by_grid, "{} explains it too", e.id);
                    }
                }
            }
            "expansion-misconfig-attach-storm" => {
                let root = t.element(t.index_of(&truths[0].root_cause).unwrap());
                assert_eq!(root.kind, ElementKind::ConfigSystem);
                assert_eq!(root.function.as_deref(), Some("AMF"));
                assert_eq!(truths[0].affected_cells, cells, "every device detaches");
                assert!(
                    truths[0].settled_at > truths[0].end,
                    "the storm outlasts it"
                );
            }
            "core-routing-filter-removed" | "peering-route-flood-zombie-ran" => {
                let root = t.index_of(&truths[0].root_cause).unwrap();
                assert_eq!(truths[0].affected_cells, cells);
                let lost = t.propagate(&[root]);
                let down = |k: ElementKind| {
                    t.elements()
                        .iter()
                        .enumerate()
                        .any(|(i, e)| e.kind == k && lost[i] != 0)
                };
                // Fixed broadband fails with mobile in both; only the routing
                // failure takes the sites off air, the peering flood leaves a
                // zombie RAN over a core it cannot reach.
                assert!(t.index_of("bng-north").is_some_and(|b| lost[b] != 0));
                let routing = info.id == "core-routing-filter-removed";
                assert_eq!(down(ElementKind::Site), routing);
                assert_eq!(down(ElementKind::CoreInstance), routing);
            }
            "transport-mgmt-packet-storm" => {
                let root = t.element(t.index_of(&truths[0].root_cause).unwrap());
                assert_eq!(root.kind, ElementKind::Link);
                assert!(truths[0].affected_cells < cells, "one segment of two");
            }
            "fiber-cut-ims-registration-storm" => {
                let root = t.index_of(&truths[0].root_cause).unwrap();
                assert_eq!(t.element(root).kind, ElementKind::Link);
                assert_eq!(truths[0].affected_cells, cells, "voice everywhere");
                let lost = t.propagate(&[root]);
                assert!(
                    t.elements().iter().enumerate().all(
                        |(i, e)| e.kind != ElementKind::Cell || lost[i] == Service::Voice.bit()
                    ),
                    "only voice is lost"
                );
            }
            "conference-bridge-degradation" => {
                let root = t.element(t.index_of(&truths[0].root_cause).unwrap());
                assert_eq!(root.kind, ElementKind::ConferenceBridge);
            }
            "overlapping-faults" => {
                let [grid, cell] = truths else {
                    panic!("two faults: {truths:?}")
                };
                let (g, c) = (
                    t.index_of(&grid.root_cause).unwrap(),
                    t.index_of(&cell.root_cause).unwrap(),
                );
                assert_eq!(t.element(g).kind, ElementKind::PowerFeed);
                assert_eq!(t.element(c).kind, ElementKind::Cell);
                assert_ne!(t.element(g).region, t.element(c).region);
                assert!(!cells_lost(&twin, &[g]).contains(&cells_lost(&twin, &[c])[0]));
                assert!(
                    grid.onset < cell.onset && cell.onset < grid.end,
                    "they overlap"
                );
            }
            other => panic!("untested scenario {other}"),
        }
    }
}

#[test]
fn transport_storm_blinds_most_of_the_sites_it_cuts_off() {
    let mut twin = Twin::new(config("transport-mgmt-packet-storm", 300)).unwrap();
    let truth = twin.ground_truth()[0].clone();
    let root = twin.topology().index_of(&truth.root_cause).unwrap();
    let affected = cells_lost(&twin, &[root]);
    let rec = Recording::run(&mut twin, 11 * 60);
    let during = rec.minute(truth.symptoms_at) + 5;
    let reports = |c: usize| !rec.get(during, c * Kpi::CELL.len() + ATTACH).is_nan();
    let dark = affected.iter().filter(|&&c| !reports(c)).count();
    let share = dark as f64 / affected.len() as f64;
    assert!(
        (0.4..0.8).contains(&share),
        "{dark} of {} dark",
        affected.len()
    );
    assert!(
        (0..cell_count(&twin)).all(|c| affected.contains(&c) || reports(c)),
        "cells elsewhere keep reporting"
    );
    // Those still reporting are off air.
    let medians = rec.medians();
    for &c in affected.iter().filter(|&&c| reports(c)) {
        assert!(rec.cell_degraded(c, during, &medians), "cell {c}");
    }
}

#[test]
fn attach_storm_keeps_registration_down_after_the_rollback() {
    let mut twin = Twin::new(config("expansion-misconfig-attach-storm", 120)).unwrap();
    let truth = twin.ground_truth()[0].clone();
    let rec = Recording::run(&mut twin, 17 * 60);
    let attach = |from: Timestamp| {
        let m = rec.minute(from);
        (0..120)
            .map(|c| rec.mean(c * Kpi::CELL.len() + ATTACH, m, m + 10))
            .sum::<f64>()
            / 120.0
    };
    let before = attach(truth.onset - 30 * 60);
    let storm = attach(truth.end + 30 * 60);
    let after = attach(truth.settled_at + 30 * 60);
    assert!(storm < before - 20.0, "storm {storm} vs before {before}");
    assert!(after > before - 1.0, "after {after} vs before {before}");
}

#[test]
fn the_fiber_cut_hits_its_region_hardest() {
    let mut twin = Twin::new(config("fiber-cut-ims-registration-storm", 300)).unwrap();
    let truth = twin.ground_truth()[0].clone();
    let region = twin
        .topology()
        .element(twin.topology().index_of(&truth.root_cause).unwrap())
        .region
        .clone()
        .unwrap();
    let rec = Recording::run(&mut twin, 11 * 60);
    let m = rec.minute(truth.symptoms_at) + 3;
    let (mut inside, mut outside) = (Vec::new(), Vec::new());
    for (c, key) in twin
        .series()
        .iter()
        .step_by(Kpi::CELL.len())
        .take(300)
        .enumerate()
    {
        let cs = rec.mean(c * Kpi::CELL.len() + CALL_SETUP, m, m + 10);
        let data = rec.mean(c * Kpi::CELL.len() + THROUGHPUT, m, m + 10)
            / rec.mean(c * Kpi::CELL.len() + THROUGHPUT, m - 40, m - 20);
        assert!(data > 0.7, "data keeps working on {}", key.element);
        if key.element.starts_with(&format!("cell-{region}-")) {
            inside.push(cs);
        } else {
            outside.push(cs);
        }
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    assert!(mean(&inside) < 30.0, "isolated region {}", mean(&inside));
    assert!(
        (30.0..80.0).contains(&mean(&outside)),
        "storm elsewhere {}",
        mean(&outside)
    );
}

#[test]
fn the_common_mode_version_spans_regions_and_mixed_pools() {
    for seed in 1..=10 {
        common_mode_version_spans_regions_and_mixed_pools(seed);
    }
}

fn common_mode_version_spans_regions_and_mixed_pools(seed: u64) {
    let twin = Twin::new(TwinConfig {
        seed,
        ..config("core-software-version", 300)
    })
    .unwrap();
    let t = twin.topology();
    let version = t.index_of(&twin.ground_truth()[0].root_cause).unwrap();
    let lost = t.propagate(&[version]);
    let (mut dead_pools, mut surviving_pools) = (0, 0);
    for (i, e) in t.elements().iter().enumerate() {
        if e.kind == ElementKind::CorePool && e.function.as_deref() == Some("AMF") {
            let members = t.groups_of(i).flat_map(|g| g.members.clone());
            let on_version = members.filter(|&m| lost[m] != 0).count();
            match (on_version, lost[i] != 0) {
                (_, true) => dead_pools += 1,
                (1.., false) => surviving_pools += 1,
                _ => {}
            }
        }
    }
    assert!(
        dead_pools >= 2,
        "a redundant pair on one version in several regions"
    );
    assert!(surviving_pools >= 1, "a pool mixing versions keeps working");
}

#[test]
fn losing_one_pool_member_degrades_no_cell() {
    let twin = Twin::new(config("quiet-week", 120)).unwrap();
    let t = twin.topology();
    for (i, e) in t.elements().iter().enumerate() {
        if e.kind == ElementKind::CoreInstance {
            assert!(
                cells_lost(&twin, &[i]).is_empty(),
                "losing {} hurts cells",
                e.id
            );
        }
    }
}

#[test]
fn faulty_version_cells_degrade_other_cells_do_not_and_all_recover() {
    let cfg = config("core-software-version", 120);
    let mut twin = Twin::new(cfg.clone()).unwrap();
    let truth = twin.ground_truth()[0].clone();
    let root = twin.topology().index_of(&truth.root_cause).unwrap();
    let affected = cells_lost(&twin, &[root]);
    let rec = Recording::run(&mut twin, 13 * 60);
    let medians = rec.medians();
    let onset = rec.minute(truth.symptoms_at);
    let end = rec.minute(truth.end);
    for c in 0..cell_count(&twin) {
        let hit = affected.contains(&c);
        assert_eq!(
            rec.cell_degraded(c, onset, &medians),
            hit,
            "cell {c} during the fault"
        );
        assert!(
            !rec.cell_degraded(c, end + 25, &medians),
            "cell {c} has not recovered"
        );
        for from in (0..rec.minutes())
            .step_by(10)
            .filter(|&m| m + 10 <= onset || m >= end + 25)
        {
            assert!(
                !rec.cell_degraded(c, from, &medians),
                "cell {c} degraded at minute {from}"
            );
        }
        if hit {
            let a = rec.mean(c * 6 + ATTACH, onset + 2, end);
            assert!(
                (5.0..=35.0).contains(&a),
                "attach success falls to 5-30%, got {a}"
            );
            let traffic = rec.mean(c * 6 + TRAFFIC, onset + 2, end)
                / rec.mean(c * 6 + TRAFFIC, onset - 20, onset);
            assert!(traffic < 0.2, "traffic falls, got {traffic}");
        }
    }
    // Instances running the version fail their procedures; the others do not.
    let t = twin.topology();
    for (s, key) in twin.series().iter().enumerate() {
        if key.kpi == Kpi::ProcedureSuccess {
            let on_version = t.propagate(&[root])[t.index_of(&key.element).unwrap()] != 0;
            let ok = rec.mean(s, onset + 2, end);
            assert_eq!(
                ok < 20.0,
                on_version,
                "{} procedure success {ok}",
                key.element
            );
        }
    }
}

#[test]
fn normal_events_cause_no_cell_degradation() {
    let mut twin = Twin::new(config("quiet-week", 120)).unwrap();
    let rec = Recording::run(&mut twin, 2 * 24 * 60);
    let medians = rec.medians();
    for c in 0..cell_count(&twin) {
        for from in (0..rec.minutes()).step_by(10) {
            assert!(
                !rec.cell_degraded(c, from, &medians),
                "cell {c} degraded at minute {from}"
            );
        }
    }

    // The stadium crowd on day 0: a few cells' traffic several times the
    // same minute of day 1, with no failures (checked above).
    let kickoff = rec.minute(DEFAULT_START + 19 * HOUR);
    let surged = (0..cell_count(&twin))
        .filter(|&c| {
            let s = c * 6 + TRAFFIC;
            rec.mean(s, kickoff + 30, kickoff + 90)
                > 2.5 * rec.mean(s, kickoff + 1470, kickoff + 1530)
        })
        .count();
    assert!((3..=6).contains(&surged), "{surged} cells surged");

    // The night upgrade: the member is silent, its peer carries double.
    let w = &twin.maintenance_windows()[0];
    let member = twin
        .series()
        .iter()
        .position(|k| k.element == w.element)
        .unwrap();
    let (from, to) = (rec.minute(w.start), rec.minute(w.end));
    assert!((from..to).all(|m| rec.get(m, member).is_nan()));
    assert!(!rec.get(to + 1, member).is_nan());
    let pool = twin.topology().elements().iter().position(|e| {
        e.kind == ElementKind::CorePool
            && twin
                .topology()
                .groups_of(twin.topology().index_of(&e.id).unwrap())
                .any(|g| {
                    g.members
                        .contains(&twin.topology().index_of(&w.element).unwrap())
                })
    });
    let pool = pool.expect("the member is in a pool");
    let peer = twin
        .topology()
        .groups_of(pool)
        .flat_map(|g| g.members.clone())
        .find(|&m| twin.topology().element(m).id != w.element);
    let peer_id = &twin.topology().element(peer.unwrap()).id;
    let rate = twin
        .series()
        .iter()
        .position(|k| &k.element == peer_id && k.kpi == Kpi::ProcedureRate)
        .unwrap();
    let ratio = rec.mean(rate, from, to) / rec.mean(rate, from - 1440, to - 1440);
    assert!(ratio > 1.6, "peer carries the load: x{ratio}");

    // Collection gaps: some series have minutes with no sample at all.
    let missing = (0..rec.minutes())
        .filter(|&m| (0..cell_count(&twin) * 6).any(|s| rec.get(m, s).is_nan()))
        .count();
    assert!((10..=30).contains(&missing), "{missing} minutes with a gap");
}

#[test]
fn planned_maintenance_locks_a_site_and_degrades_nothing() {
    let mut twin = Twin::new(config("planned-maintenance", 120)).unwrap();
    let rec = Recording::run(&mut twin, 14 * 60);
    let medians = rec.medians();
    let windows = twin.maintenance_windows().to_vec();
    let site = windows
        .iter()
        .find(|w| w.element.starts_with("site-"))
        .expect("a site window");
    let (from, to) = (rec.minute(site.start), rec.minute(site.end));
    for c in 0..cell_count(&twin) {
        let id = &twin.series()[c * 6].element;
        let on_site = id.starts_with(&site.element.replacen("site-", "cell-", 1));
        assert_eq!(rec.get(from + 5, c * 6).is_nan(), on_site, "{id}");
        for from in (0..rec.minutes()).step_by(10) {
            assert!(
                !rec.cell_degraded(c, from, &medians),
                "cell {c} degraded at minute {from}"
            );
        }
    }
    assert!(!rec.get(to, 0).is_nan() || from == 0);
}

#[test]
fn single_cell_fault_stays_one_cell() {
    let mut twin = Twin::new(config("single-cell-hardware-fault", 120)).unwrap();
    let truth = twin.ground_truth()[0].clone();
    let rec = Recording::run(&mut twin, 11 * 60);
    let medians = rec.medians();
    let onset = rec.minute(truth.symptoms_at);
    let degraded: Vec<String> = (0..cell_count(&twin))
        .filter(|&c| rec.cell_degraded(c, onset, &medians))
        .map(|c| twin.series()[c * 6].element.clone())
        .collect();
    assert_eq!(degraded, vec![truth.root_cause]);
}

#[test]
fn restore_ends_the_fault_early_and_kpis_recover() {
    let mut twin = Twin::new(config("core-software-version", 60)).unwrap();
    let root = twin.ground_truth()[0].root_cause.clone();
    let onset = twin.ground_truth()[0].onset;
    let mut out = Vec::new();
    assert!(
        !twin.restore(&root, onset - 60),
        "nothing to restore before the fault"
    );
    while twin.now() < onset + 20 * 60 {
        twin.step(&mut out);
    }
    let now = twin.now();
    let aftermath = twin.ground_truth()[0].settled_at - twin.ground_truth()[0].end;
    assert!(
        twin.restore(&root, now - 600),
        "the past is not rewritten, the fault ends now"
    );
    assert_eq!(twin.ground_truth()[0].end, now);
    assert_eq!(twin.ground_truth()[0].settled_at, now + aftermath);
    assert!(!twin.restore(&root, now), "already over");
    assert!(!twin.restore("no-such-element", now));
    let cells = cells_lost(&twin, &[twin.topology().index_of(&root).unwrap()]);
    let rec = Recording::run(&mut twin, 40);
    for c in cells {
        assert!(rec.mean(c * 6 + ATTACH, 30, 40) > 95.0, "cell {c} recovers");
    }
}

#[test]
fn a_match_keeps_its_crowd_where_the_other_match_shares_cells() {
    // The first seed whose two matches share a cell.
    let (mut twin, shared) = (0..200)
        .find_map(|seed| {
            let twin = Twin::new(TwinConfig {
                seed,
                ..config("quiet-week", MIN_CELLS)
            })
            .unwrap();
            let [day0, day5] = &twin.plan.crowds[..] else {
                panic!("two matches are planned");
            };
            let shared = day0.cells.start.max(day5.cells.start);
            (shared < day0.cells.end.min(day5.cells.end)).then_some((twin, shared))
        })
        .expect("some seed's matches share a cell");
    let day0 = &twin.plan.crowds[0];
    let peak = day0.peak[shared - day0.cells.start];
    let minutes = (day0.kickoff - twin.now) / 60 + 30;
    let mut out = Vec::new();
    for _ in 0..minutes {
        twin.step(&mut out);
    }
    assert_eq!(twin.crowd[shared], peak, "cell {shared} at the day-0 match");
}

#[test]
fn overlapping_faults_refuses_a_fault_too_short_to_overlap() {
    let short = TwinConfig {
        fault_duration_secs: 59 * 60,
        ..config("overlapping-faults", MIN_CELLS)
    };
    let err = Twin::new(short).unwrap_err();
    assert!(
        matches!(err, SimError::FaultTooShortToOverlap { least: 3600, .. }),
        "{err}"
    );
    let long_enough = TwinConfig {
        fault_duration_secs: 60 * 60,
        ..config("overlapping-faults", MIN_CELLS)
    };
    Twin::new(long_enough).unwrap();
}

#[test]
fn bad_configurations_say_what_to_fix() {
    let err = Twin::new(config("meteor-strike", 120)).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, SimError::UnknownScenario(_)));
    for s in scenarios() {
        assert!(msg.contains(s.id), "{msg}");
    }
    assert!(matches!(
        Twin::new(config("quiet-week", 5)),
        Err(SimError::TooFewCells(5))
    ));
    assert!(matches!(
        Twin::new(TwinConfig {
            cells: 99_999_999_999,
            ..TwinConfig::default()
        }),
        Err(SimError::TooManyCells(99_999_999_999))
    ));
    let unaligned = TwinConfig {
        start: DEFAULT_START + 1,
        ..TwinConfig::default()
    };
    assert!(matches!(
        Twin::new(unaligned),
        Err(SimError::UnalignedStart(_))
    ));
    let early = TwinConfig {
        fault_at: DEFAULT_START - 60,
        ..TwinConfig::default()
    };
    assert!(matches!(
        Twin::new(early),
        Err(SimError::FaultBeforeStart { .. })
    ));
}

#[test]
fn every_scenario_runs_at_the_minimum_size() {
    for info in scenarios() {
        let mut twin = Twin::new(config(info.id, network::MIN_CELLS)).unwrap();
        let mut out = Vec::new();
        let t = twin.step(&mut out);
        assert_eq!(t, DEFAULT_START);
        assert_eq!(twin.now(), DEFAULT_START + 60);
        assert!(!out.is_empty() && out.windows(2).all(|w| w[0].series < w[1].series));
    }
}
