//! The shipped example topologies and their expected findings (golden files
//! under `examples/expected/`; review changes with `cargo insta review`).

use std::path::{Path, PathBuf};

use dialtone_assess::{Assessment, Options, assess, render_html};
use serde_json::json;

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples")
}

fn run(name: &str) -> (dialtone_model::Topology, Assessment) {
    let t = dialtone_topofile::load(&examples().join(name)).unwrap();
    let a = assess(&t, &Options::default(), &mut |_| {});
    (t, a)
}

/// The findings a reviewer checks, without the bulky blast-radius list.
fn findings(a: &Assessment) -> serde_json::Value {
    json!({
        "summary": a.summary,
        "single_points_of_failure": a.single_points_of_failure.iter()
            .map(|s| json!([s.element, s.loss.cells, s.loss.subscribers, s.physical_cut]))
            .collect::<Vec<_>>(),
        "common_modes": a.redundant_sets.iter()
            .flat_map(|s| s.shared_causes.iter().map(move |c| json!([c.event, c.shared, s.members])))
            .collect::<Vec<_>>(),
        "physical": a.physical,
        "availability": a.availability.rows.iter()
            .map(|r| format!("{} {} {:.8} ({:.1} min/yr)", r.region, r.service, r.availability, r.minutes_down_per_year))
            .collect::<Vec<_>>(),
        "availability_method": a.availability.method,
        "risks": a.risks.iter().take(10)
            .map(|r| json!({"title": r.title, "fix": r.fix, "emergency_cells": r.loss.emergency_cells}))
            .collect::<Vec<_>>(),
    })
}

fn golden(name: &str, value: &serde_json::Value) {
    insta::with_settings!({
        snapshot_path => examples().join("expected"),
        prepend_module_to_snapshot => false,
        omit_expression => true,
    }, {
        insta::assert_json_snapshot!(name, value);
    });
}

#[test]
fn small_mobile_findings() {
    let (t, a) = run("small-mobile.toml");
    let causes: Vec<&str> = a
        .redundant_sets
        .iter()
        .flat_map(|s| s.shared_causes.iter().map(|c| c.event.as_str()))
        .collect();
    assert!(causes.contains(&"amf-22.4.1"), "{causes:?}");
    assert!(causes.contains(&"feed-main"), "{causes:?}");
    assert!(a.physical.bridges.contains(&"fiber-south".to_owned()));
    assert!(
        a.risks[0]
            .fix
            .contains("runs one version (amf-22.4.1): stagger upgrades")
    );
    let html = render_html(&t, &a, "small-mobile.toml");
    assert!(html.contains("<svg") && html.contains("amf-22.4.1"));
    // Self-contained: nothing to run, nothing to fetch.
    assert!(!html.contains("<script") && !html.contains("<link") && !html.contains("src="));
    golden("small-mobile", &findings(&a));
}

#[test]
fn edge_list_findings() {
    let (_, a) = run("edges.csv");
    golden("edges", &findings(&a));
}

/// Two pools over the same instances, one needing any of them and one two
/// of three: the shared software of two instances defeats the second, and
/// the finding must not depend on which pool the file lists first.
#[test]
fn common_modes_do_not_depend_on_the_order_of_pools() {
    let pool = |id: &str, need: &str| {
        format!("[[element]]\nid = \"{id}\"\nkind = \"core_pool\"\n{need}\n")
    };
    let any = pool("pool-a", "any_of = [\"x\", \"y\", \"z\"]");
    let two = pool("pool-b", "k_of_n = { k = 2, of = [\"x\", \"y\", \"z\"] }");
    let rest = r#"
[[element]]
id = "x"
kind = "core_instance"
software = "sw-1"
[[element]]
id = "y"
kind = "core_instance"
software = "sw-1"
[[element]]
id = "z"
kind = "core_instance"
software = "sw-2"
[[element]]
id = "cell-1"
kind = "cell"
subscribers = 1000
needs = ["pool-a", "pool-b"]
"#;
    let common_modes = |text: String| {
        let t = dialtone_topofile::parse_toml(&text, "pools.toml").unwrap();
        let a = assess(&t, &Options::default(), &mut |_| {});
        let events: Vec<String> = (a.redundant_sets.iter())
            .flat_map(|s| s.shared_causes.iter().map(|c| c.event.clone()))
            .collect();
        events
    };
    let any_first = common_modes(format!("{any}{two}{rest}"));
    let two_first = common_modes(format!("{two}{any}{rest}"));
    assert_eq!(any_first, two_first);
    assert!(
        any_first.iter().any(|e| e.contains("sw-1")),
        "{any_first:?}"
    );
}

fn assess_toml(text: &str) -> Assessment {
    let t = dialtone_topofile::parse_toml(text, "probe.toml").unwrap();
    assess(&t, &Options::default(), &mut |_| {})
}

fn risk<'a>(a: &'a Assessment, title_part: &str) -> &'a dialtone_assess::Risk {
    (a.risks.iter())
        .find(|r| r.title.contains(title_part))
        .unwrap_or_else(|| panic!("no risk with {title_part:?}: {:#?}", a.risks))
}

/// Three UPFs, each down a tenth of the time, and a cell needing `k` of
/// them; the pool and the cell never fail on their own.
fn upf_pool(k: u32) -> String {
    let mut text = String::from(
        "[defaults.core_pool]\nmtbf_hours = 1e12\nmttr_hours = 1e-9\n\
         [defaults.cell]\nmtbf_hours = 1e12\nmttr_hours = 1e-9\n",
    );
    for i in 1..=3 {
        text += &format!(
            "[[element]]\nid = \"upf-{i}\"\nkind = \"core_instance\"\nfunction = \"UPF\"\n\
             mtbf_hours = 90\nmttr_hours = 10\n"
        );
    }
    text += &format!(
        "[[element]]\nid = \"pool-upf\"\nkind = \"core_pool\"\n\
         k_of_n = {{ k = {k}, of = [\"upf-1\", \"upf-2\", \"upf-3\"] }}\n\
         [[element]]\nid = \"cell-1\"\nkind = \"cell\"\nsubscribers = 500\nneeds = [\"pool-upf\"]\n"
    );
    text
}

/// A pool that only falls when all three fail has no cut set of order 2;
/// its order-3 cut set is still a risk: 0.1^3 x 8,760 h x 500.
#[test]
fn an_order_3_cut_set_is_ranked_as_a_risk() {
    let a = assess_toml(&upf_pool(1));
    assert_eq!(a.summary.cut_sets_order_3, 1);
    let r = risk(&a, "all of upf-1, upf-2, upf-3 failing together");
    assert_eq!(r.category, "cut set");
    assert!(
        (r.expected_subscriber_hours_per_year - 4_380.0).abs() < 1e-6,
        "{r:?}"
    );
    assert!(r.fix.contains("survives 2 failures only"), "{}", r.fix);
}

/// A 2-of-3 pool is one risk naming the pool, scored with the probability
/// that any two are down at once (1 - 0.972), not one pair's 0.01.
#[test]
fn a_k_of_n_pool_is_one_risk_with_all_its_cut_sets() {
    let a = assess_toml(&upf_pool(2));
    let cut_sets: Vec<_> = a.risks.iter().filter(|r| r.category == "cut set").collect();
    assert_eq!(cut_sets.len(), 1, "{cut_sets:#?}");
    let r = cut_sets[0];
    assert_eq!(
        r.title,
        "any 2 of upf-1, upf-2, upf-3 failing together take the UPF pool of 3 down"
    );
    assert!(
        (r.expected_subscriber_hours_per_year - 0.028 * 8_760.0 * 500.0).abs() < 1e-6,
        "{r:?}"
    );
}

/// A pair whose members each ride on four links of their own, each link
/// down half the time: the chance that any of a member's links is down is a
/// probability (the sum of theirs, used before, was 2, and the pair's 4).
#[test]
fn a_cut_set_is_never_likelier_than_certain() {
    let mut text = String::from(
        "[defaults.cell]\nmtbf_hours = 1e12\nmttr_hours = 1e-9\n\
         [defaults.core_pool]\nmtbf_hours = 1e12\nmttr_hours = 1e-9\n",
    );
    for i in 1..=8 {
        text += &format!(
            "[[element]]\nid = \"uplink-{i}\"\nkind = \"link\"\nmtbf_hours = 10\nmttr_hours = 10\n"
        );
    }
    text += "[[element]]\nid = \"smf-1\"\nkind = \"core_instance\"\nfunction = \"SMF\"\n\
             needs = [\"uplink-1\", \"uplink-2\", \"uplink-3\", \"uplink-4\"]\n\
             [[element]]\nid = \"smf-2\"\nkind = \"core_instance\"\nfunction = \"SMF\"\n\
             needs = [\"uplink-5\", \"uplink-6\", \"uplink-7\", \"uplink-8\"]\n\
             [[element]]\nid = \"pool-smf\"\nkind = \"core_pool\"\nany_of = [\"smf-1\", \"smf-2\"]\n\
             [[element]]\nid = \"cell-1\"\nkind = \"cell\"\nsubscribers = 500\nneeds = [\"pool-smf\"]\n";
    let a = assess_toml(&text);
    let cut_sets: Vec<_> = (a.redundant_sets.iter())
        .flat_map(|s| &s.examples)
        .collect();
    assert!(!cut_sets.is_empty(), "{:#?}", a.redundant_sets);
    for c in cut_sets {
        assert!((0.0..=1.0).contains(&c.probability), "{c:?}");
    }
}

/// Every cell reaches `core-r` through r-a, whose two uplinks meet again
/// at core-r; `ims-1` carries voice only; `cell-z` serves no one.
const CONVERGING: &str = r#"
[defaults.link]
mtbf_hours = 1e12
mttr_hours = 1e-9
[defaults.cell]
mtbf_hours = 1e12
mttr_hours = 1e-9
[[element]]
id = "core-r"
kind = "router"
region = "east"
mtbf_hours = 900
mttr_hours = 100
[[element]]
id = "r-a"
kind = "router"
region = "east"
mtbf_hours = 1e12
mttr_hours = 1e-9
[[element]]
id = "r-b"
kind = "router"
mtbf_hours = 80
mttr_hours = 20
[[element]]
id = "r-c"
kind = "router"
mtbf_hours = 80
mttr_hours = 20
[[link]]
from = "r-a"
to = "r-b"
[[link]]
from = "r-a"
to = "r-c"
[[link]]
from = "r-b"
to = "core-r"
[[link]]
from = "r-c"
to = "core-r"
[[element]]
id = "ims-1"
kind = "core_instance"
function = "IMS"
mtbf_hours = 95
mttr_hours = 5
[[element]]
id = "cell-1"
kind = "cell"
region = "east"
subscribers = 100
needs = ["r-a"]
[[element]]
id = "cell-2"
kind = "cell"
region = "east"
subscribers = 300
needs = ["r-a"]
[[dependency]]
element = "cell-1"
needs = ["ims-1"]
services = ["voice"]
[[dependency]]
element = "cell-2"
needs = ["ims-1"]
services = ["voice"]
[[element]]
id = "cell-z"
kind = "cell"
region = "west"
subscribers = 0
needs = ["router-z"]
[[element]]
id = "router-z"
kind = "router"
region = "west"
mtbf_hours = 50
mttr_hours = 50
"#;

/// core-r is where both uplinks meet again: a single point of failure with
/// a router's fix, not a common mode asking for diverse paths.
#[test]
fn an_upstream_element_that_defeats_a_pair_is_a_single_point_of_failure() {
    let a = assess_toml(CONVERGING);
    let r = risk(&a, "core-r");
    assert_eq!(r.category, "single point of failure");
    assert_eq!(r.title, "core-r (router) alone takes 2 cells down");
    assert!(r.fix.contains("add a second router"), "{}", r.fix);
    assert!(!a.risks.iter().any(|r| r.category == "common mode"));
    assert_eq!(a.summary.common_mode_groups, 0);
}

/// Losing one service says which: the IMS takes voice away, not the cells.
#[test]
fn a_single_point_names_the_services_it_takes() {
    let a = assess_toml(CONVERGING);
    assert_eq!(
        risk(&a, "ims-1").title,
        "ims-1 (core instance) alone takes voice down on 2 cells"
    );
    assert_eq!(
        risk(&a, "router-z").title,
        "router-z (router) alone takes 1 cell down"
    );
}

/// A cell serving no subscribers costs no subscriber-hours and does not
/// pull down the `all` rows, which the east's subscribers alone make.
#[test]
fn a_cell_without_subscribers_weighs_nothing_where_counts_are_given() {
    let a = assess_toml(CONVERGING);
    assert_eq!(risk(&a, "router-z").expected_subscriber_hours_per_year, 0.0);
    let row = |region: &str| {
        (a.availability.rows.iter())
            .find(|r| r.region == region && r.service == "registration")
            .expect("a row")
            .availability
    };
    assert!((row("all") - row("east")).abs() < 1e-12);
    // The west's own rows still say how its cell fares.
    assert!((row("west") - 0.5).abs() < 1e-9, "{}", row("west"));
}

/// A pool is already its members' redundancy: its own failure is its
/// selection and load balancing, and the fix says so.
#[test]
fn a_pool_is_not_told_to_add_a_standby() {
    let a = assess_toml(&upf_pool(2));
    let fix = &risk(&a, "pool-upf (core pool)").fix;
    assert!(!fix.contains("standby"), "{fix}");
    assert!(fix.contains("load balancing"), "{fix}");
}

/// One region counted in subscribers, one with no counts: the `all` rows
/// weigh by subscribers, so the cell nobody is counted on does not dilute
/// what ten thousand subscribers see; its own region still has its rows.
#[test]
fn the_all_row_weighs_regions_in_one_unit() {
    let t = dialtone_topofile::parse_toml(
        r#"
[[element]]
id = "cell-n"
kind = "cell"
region = "north"
subscribers = 10000
needs = ["site-n"]
[[element]]
id = "site-n"
kind = "site"
[[element]]
id = "cell-s"
kind = "cell"
region = "south"
needs = ["site-s"]
[[element]]
id = "site-s"
kind = "site"
mtbf_hours = 100
mttr_hours = 100
"#,
        "mix.toml",
    )
    .unwrap();
    let a = assess(&t, &Options::default(), &mut |_| {});
    let voice = |region: &str| {
        (a.availability.rows.iter())
            .find(|r| r.region == region && r.service == "voice")
            .expect("a row")
            .availability
    };
    let (north, south, all) = (voice("north"), voice("south"), voice("all"));
    assert!((all - north).abs() < 1e-12, "{north} {south} {all}");
    assert!((south - 0.5).abs() < 1e-3, "{south}");
}

#[test]
fn the_report_of_a_network_too_large_to_draw_whole_is_the_same_every_time() {
    // Risks enough that their neighbourhoods overflow the drawing.
    let t = dialtone_assess::synthetic::generate(10_000, 7);
    let options = Options {
        top_risks: 500,
        ..Options::default()
    };
    let a = assess(&t, &options, &mut |_| {});
    let first = render_html(&t, &a, "synthetic");
    assert_eq!(render_html(&t, &a, "synthetic"), first);
}
