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

/// One region counted in subscribers, one with no counts: the `all` rows
/// weigh every cell alike, so the region without counts does not vanish
/// beside ten thousand subscribers.
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
    // Two cells, one each: the mean of the two regions.
    assert!(
        (all - (north + south) / 2.0).abs() < 1e-9,
        "{north} {south} {all}"
    );
}
