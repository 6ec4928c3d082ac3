//! The shipped examples load, and every class of invalid file is refused with
//! an error that points at the right line and element.

use std::path::Path;

use dialtone_model::{ElementKind, Redundancy};
use dialtone_topofile::{TopoFileError, load, parse_csv, parse_toml};
use proptest::prelude::*;

fn example(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(name)
}

#[test]
fn the_small_mobile_example_loads_with_its_shorthands_expanded() {
    let t = load(&example("small-mobile.toml")).unwrap();
    let version = t
        .index_of("amf-22.4.1")
        .expect("software = ... creates the version");
    assert_eq!(t.element(version).kind, ElementKind::SoftwareVersion);
    assert_eq!(t.dependents(version).len(), 2, "both AMFs run it");
    let feed = t.index_of("feed-main").unwrap();
    assert_eq!(t.element(feed).mtbf_hours, Some(20000.0), "kind default");
    let fiber = t.index_of("fiber-south").unwrap();
    assert_eq!(t.element(fiber).mttr_hours, Some(10.0));
    let upf = t.index_of("pool-upf").unwrap();
    assert_eq!(
        t.groups_of(upf).next().unwrap().redundancy,
        Redundancy::KOfN(2)
    );
    // Parallel links from agg-north are one any-of group of two link elements.
    let agg = t.index_of("agg-north").unwrap();
    let uplinks = t
        .groups_of(agg)
        .find(|g| g.redundancy == Redundancy::AnyOf)
        .unwrap();
    assert_eq!(uplinks.members.len(), 2);
}

#[test]
fn the_edge_list_example_loads_with_kinds_from_ids() {
    let t = load(&example("edges.csv")).unwrap();
    let kind = |id: &str| t.element(t.index_of(id).unwrap()).kind;
    assert_eq!(kind("cell-a1"), ElementKind::Cell);
    assert_eq!(kind("amf-1"), ElementKind::CoreInstance);
    assert_eq!(kind("sw-amf-1.2"), ElementKind::SoftwareVersion);
    assert_eq!(kind("power-1"), ElementKind::PowerFeed);
    assert_eq!(kind("link-site-a-agg-1-2"), ElementKind::Link);
    let site = t.index_of("site-a").unwrap();
    assert_eq!(t.groups_of(site).next().unwrap().members.len(), 2);
}

fn toml_error(text: &str) -> TopoFileError {
    parse_toml(text, "net.toml").expect_err("must be refused")
}

fn assert_points_at(e: &TopoFileError, line: usize, needles: &[&str]) {
    let message = e.to_string();
    assert_eq!(e.line(), Some(line), "{message}");
    assert!(
        message.starts_with("net.") && message.contains(&format!(":{line}: ")),
        "{message}"
    );
    for n in needles {
        assert!(message.contains(n), "`{n}` not in: {message}");
    }
    assert!(!message.contains('\n'), "one line: {message}");
}

const TWO: &str = r#"
[[element]]
id = "a"
kind = "router"

[[element]]
id = "b"
kind = "router"
"#;

#[test]
fn a_duplicate_id_points_at_the_second_definition() {
    let e = toml_error(&format!(
        "{TWO}\n[[element]]\nid = \"a\"\nkind = \"cell\"\n"
    ));
    assert!(matches!(
        e,
        TopoFileError::DuplicateId { first_line: 3, .. }
    ));
    assert_points_at(&e, 11, &["`a`", "line 3"]);
}

#[test]
fn an_unknown_reference_points_at_the_reference() {
    let text = "[[element]]\nid = \"a\"\nkind = \"cell\"\nneeds = [\n  \"b\",\n  \"nowhere\",\n]\n\n[[element]]\nid = \"b\"\nkind = \"site\"\n";
    assert_points_at(&toml_error(text), 6, &["`a`", "`nowhere`"]);
    let in_dependency = format!("{TWO}\n[[dependency]]\nelement = \"a\"\nneeds = [\"ghost\"]\n");
    assert_points_at(&toml_error(&in_dependency), 12, &["`ghost`"]);
}

#[test]
fn an_undefined_element_with_dependencies_is_named_as_such() {
    let text = format!("{TWO}\n[[dependency]]\nelement = \"ghost\"\nneeds = [\"a\"]\n");
    let e = toml_error(&text);
    assert_points_at(&e, 11, &["`ghost` is not defined"]);
    assert!(!e.to_string().contains("refers to"), "{e}");
}

/// What a file says is quoted in messages with its control characters
/// escaped: no line of the file's making, no terminal escape.
#[test]
fn messages_quote_the_file_on_one_line_without_escapes() {
    let forged = "net.toml:1: all good";
    let kind = format!("[[element]]\nid = \"a\"\nkind = \"x\\n{forged}\"\n");
    let e = toml_error(&kind);
    assert_points_at(&e, 3, &["unknown kind `x\\nnet.toml:1: all good`"]);
    let key = "[[element]]\nid = \"a\"\nkind = \"cell\"\n\"\\u001b[31m\" = 1\n";
    let e = toml_error(key);
    assert!(!e.to_string().contains('\u{1b}'), "{e}");
    assert!(e.to_string().contains("\\u{1b}"), "{e}");
    let e = csv_error("a,b\nb,c,\u{1b}[2J\n");
    assert_eq!(e.line(), Some(2));
    assert!(!e.to_string().contains('\u{1b}'), "{e}");
}

#[test]
fn names_shown_to_people_hold_no_control_characters_and_ids_no_edge_spaces() {
    for key in ["region", "vendor", "function"] {
        let text =
            format!("[[element]]\nid = \"a\"\nkind = \"cell\"\n{key} = \"north\\n\\u001b[2J\"\n");
        assert_points_at(
            &toml_error(&text),
            2,
            &[&format!("its {key} cannot hold control characters")],
        );
    }
    let spaced = "[[element]]\nid = \"amf-1 \"\nkind = \"cell\"\n";
    assert_points_at(
        &toml_error(spaced),
        2,
        &["`amf-1 `", "cannot begin or end with spaces"],
    );
}

#[test]
fn an_impossible_k_of_n_points_at_k() {
    let text = format!(
        "{TWO}\n[[element]]\nid = \"pool\"\nkind = \"core_pool\"\nk_of_n = {{ k = 3, of = [\"a\", \"b\"] }}\n"
    );
    let e = toml_error(&text);
    assert!(matches!(
        e,
        TopoFileError::ImpossibleKOfN { k: 3, n: 2, .. }
    ));
    assert_points_at(&e, 13, &["`pool`", "3 of 2"]);
    let zero = format!(
        "{TWO}\n[[dependency]]\nelement = \"a\"\nneeds = [\"b\"]\nredundancy = \"k_of_n\"\nk = 0\n"
    );
    assert_points_at(&toml_error(&zero), 14, &["0 of 1"]);
}

#[test]
fn a_member_listed_twice_in_a_redundant_group_is_refused() {
    let text = format!(
        "{TWO}\n[[element]]\nid = \"pool\"\nkind = \"core_pool\"\nany_of = [\n  \"a\",\n  \"a\",\n]\n"
    );
    assert_points_at(&toml_error(&text), 15, &["`pool`", "`a` is listed twice"]);
    let k_of_n = format!(
        "{TWO}\n[[element]]\nid = \"pool\"\nkind = \"core_pool\"\nk_of_n = {{ k = 2, of = [\"a\", \"a\", \"b\"] }}\n"
    );
    assert_points_at(&toml_error(&k_of_n), 13, &["listed twice"]);
    let rows = csv_error(
        "source,target,relation\npool,amf-1,any_of\npool,amf-2,any_of\npool,amf-1,any_of\n",
    );
    assert_eq!(rows.line(), Some(4), "{rows}");
    // Where all members are needed, a repeat changes nothing.
    let all = format!("{TWO}\n[[dependency]]\nelement = \"a\"\nneeds = [\"b\", \"b\"]\n");
    assert!(parse_toml(&all, "net.toml").is_ok());
}

#[test]
fn a_shorthand_naming_an_element_of_another_kind_is_refused() {
    // `x` is both a software version and a power feed.
    let twice = format!(
        "{TWO}\n[[element]]\nid = \"c\"\nkind = \"router\"\nsoftware = \"x\"\n\n[[element]]\nid = \"d\"\nkind = \"router\"\npower = \"x\"\n"
    );
    assert_points_at(
        &toml_error(&twice),
        18,
        &["`x` is a software_version (line 13)", "names a power_feed"],
    );
    // `a` is a router, not a power feed.
    let defined = format!("{TWO}\n[[element]]\nid = \"c\"\nkind = \"cell\"\npower = \"a\"\n");
    assert_points_at(&toml_error(&defined), 13, &["`a` is a router (line 3)"]);
    // Of the kind it names, it is the element the file defines.
    let feed = "[[element]]\nid = \"grid\"\nkind = \"power_feed\"\n\n[[element]]\nid = \"c\"\nkind = \"cell\"\npower = \"grid\"\n";
    assert!(parse_toml(feed, "net.toml").is_ok());
}

#[test]
fn a_cycle_names_its_elements_in_order() {
    let text = "[[element]]\nid = \"x\"\nkind = \"router\"\nneeds = [\"y\"]\n\n[[element]]\nid = \"y\"\nkind = \"router\"\nneeds = [\"z\"]\n\n[[element]]\nid = \"z\"\nkind = \"router\"\nneeds = [\"x\"]\n";
    let e = toml_error(text);
    assert_points_at(&e, 2, &["x -> y -> z -> x"]);
    let self_loop = "[[element]]\nid = \"me\"\nkind = \"site\"\nneeds = [\"me\"]\n";
    assert_points_at(&toml_error(self_loop), 2, &["me -> me"]);
}

#[test]
fn a_cycle_through_a_hundred_thousand_elements_is_named_by_its_ends() {
    // Deep enough to overflow a recursive search's stack.
    let n = 100_000;
    let mut text = String::from("source,target\n");
    for i in 0..n {
        text.push_str(&format!("e{i},e{}\n", (i + 1) % n));
    }
    let e = csv_error(&text).to_string();
    assert!(
        e.contains("e0 -> e1 -> ") && e.contains("more) -> e99999 -> e0"),
        "{e}"
    );
    assert!(e.len() < 400, "{} bytes", e.len());
}

#[test]
fn syntax_and_vocabulary_errors_point_at_their_line() {
    assert_points_at(&toml_error("[[element]]\nid = \"a\"\nkind = \n"), 3, &[]);
    assert_points_at(
        &toml_error("[[element]]\nid = \"a\"\nkind = \"router\"\nvendr = \"x\"\n"),
        4,
        &["vendr"],
    );
    assert_points_at(
        &toml_error("[[element]]\nid = \"a\"\nkind = \"toaster\"\n"),
        3,
        &["unknown kind `toaster`", "core_instance"],
    );
    assert_points_at(
        &toml_error("[[element]]\nid = \"a\"\nkind = \"router\"\nmtbf_hours = -5.0\n"),
        4,
        &["positive"],
    );
    assert_points_at(
        &toml_error("[[element]]\nid = \"a\"\nkind = \"router\"\nmttr_hours = 1e308\n"),
        4,
        &["at most 1e15"],
    );
    assert_points_at(
        &toml_error(&format!(
            "{TWO}\n[[dependency]]\nelement = \"a\"\nneeds = [\"b\"]\nservices = [\"fax\"]\n"
        )),
        13,
        &["unknown service `fax`"],
    );
}

fn csv_error(text: &str) -> TopoFileError {
    parse_csv(text, "net.csv").expect_err("must be refused")
}

#[test]
fn edge_list_errors_point_at_their_row() {
    let cycle = csv_error("source,target\n# comment\na,b\nb,c\nc,a\n");
    assert!(
        matches!(cycle, TopoFileError::Cycle { line: 3, .. }),
        "{cycle}"
    );
    assert!(cycle.to_string().starts_with("net.csv:3: "));
    let relation = csv_error("a,b\nb,c,maybe\n");
    assert_eq!(relation.line(), Some(2));
    assert!(relation.to_string().contains("unknown relation `maybe`"));
    assert_eq!(csv_error("a,b\n\nb,c,link,extra\n").line(), Some(3));
    assert_eq!(csv_error("a,b\n,c\n").line(), Some(2));
    let quoted = csv_error("source,target\ncell-a,\"site-a\n");
    assert_eq!(quoted.line(), Some(2));
    assert!(
        quoted.to_string().contains("quotes are not part"),
        "{quoted}"
    );
}

/// What every refusal of `text` promises: one line of message, pointing at a
/// line of the file (or just past its end, for what it lacks there).
fn points_inside(e: &TopoFileError, text: &str) -> bool {
    let lines = text.lines().count().max(1);
    !e.to_string().contains('\n') && e.line().is_some_and(|l| (1..=lines + 1).contains(&l))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn no_toml_input_panics(text in "\\PC{0,400}") {
        let _ = parse_toml(&text, "fuzz.toml");
    }

    #[test]
    fn no_near_miss_toml_panics(lines in proptest::collection::vec(
        prop_oneof![
            Just("[[element]]".to_owned()),
            Just("[[dependency]]".to_owned()),
            Just("[[link]]".to_owned()),
            Just("[defaults.link]".to_owned()),
            "(id|kind|from|to|element|software|power) = \"[a-c]\"",
            Just("kind = \"router\"".to_owned()),
            "needs = \\[(\"[a-c]\", ){0,3}\\]",
            "any_of = \\[(\"[a-c]\", ){0,3}\\]",
            "k_of_n = \\{ k = -?[0-9], of = \\[(\"[a-c]\", ){0,3}\\] \\}",
            "(mtbf_hours|mttr_hours) = -?[0-9]{1,3}\\.[0-9]",
            Just("redundancy = \"k_of_n\"".to_owned()),
            "k = -?[0-9]{1,20}",
        ],
        0..30,
    )) {
        let text = lines.join("\n");
        if let Err(e) = parse_toml(&text, "fuzz.toml") {
            prop_assert!(points_inside(&e, &text), "{e}");
        }
    }

    #[test]
    fn no_edge_list_panics(rows in proptest::collection::vec(
        "[a-d ]{0,2}(,[a-d]{0,2}){0,2}(,(link|any_of|requires|x))?", 0..40)
    ) {
        let text = rows.join("\n");
        if let Err(e) = parse_csv(&text, "fuzz.csv") {
            prop_assert!(points_inside(&e, &text), "{e}");
        }
    }
}

/// A TOML topology of routers `routers` and a link for each `(from, to)`.
fn routers_and_links(routers: &[&str], links: &[(&str, &str)]) -> String {
    let routers = routers
        .iter()
        .map(|id| format!("[[element]]\nid = \"{id}\"\nkind = \"router\"\n"));
    let links = links
        .iter()
        .map(|(from, to)| format!("[[link]]\nfrom = \"{from}\"\nto = \"{to}\"\n"));
    routers.chain(links).collect()
}

/// The ids of `t`'s link elements, in order.
fn link_ids(t: &dialtone_model::Topology) -> Vec<&str> {
    (t.elements().iter())
        .filter(|e| e.kind == ElementKind::Link)
        .map(|e| e.id.as_str())
        .collect()
}

#[test]
fn generated_link_ids_never_collide() {
    // `a-b` to `c` and `a` to `b-c` both make `link-a-b-c`.
    let toml = routers_and_links(&["a-b", "a", "c", "b-c"], &[("a-b", "c"), ("a", "b-c")]);
    let t = parse_toml(&toml, "links.toml").expect("two links, two ids");
    let ids: Vec<&str> = t.elements().iter().map(|e| e.id.as_str()).collect();
    assert!(
        ids.contains(&"link-a-b-c") && ids.contains(&"link-a-b-c-2"),
        "{ids:?}"
    );
}

#[test]
fn generated_link_ids_skip_every_id_already_taken() {
    // Two links a to b take `link-a-b` and `link-a-b-2`; a third, from a to
    // `b-2`, starts from `link-a-b-2` as well, and an element already holds
    // `link-x-y`.
    let toml = routers_and_links(
        &["a", "b", "b-2", "link-x-y", "x", "y"],
        &[("a", "b"), ("a", "b"), ("a", "b-2"), ("x", "y")],
    );
    let t = parse_toml(&toml, "links.toml").expect("four links, four ids");
    assert_eq!(
        link_ids(&t),
        ["link-a-b", "link-a-b-2", "link-a-b-2-2", "link-x-y-2"]
    );
}

#[test]
fn a_link_named_later_keeps_its_name_from_one_generated_before_it() {
    let mut toml = routers_and_links(&["a", "b"], &[("a", "b")]);
    toml.push_str("[[link]]\nid = \"link-a-b\"\nfrom = \"a\"\nto = \"b\"\n");
    let t = parse_toml(&toml, "links.toml").expect("the second link names its own id");
    assert_eq!(link_ids(&t), ["link-a-b-2", "link-a-b"]);
}

#[test]
fn an_id_that_names_a_vendor_is_refused() {
    let toml = "[[element]]\nid = \"a\"\nkind = \"router\"\nvendor = \"Acme\"\n\n[[element]]\nid = \"vendor:Acme\"\nkind = \"router\"\n";
    let err = parse_toml(toml, "vendors.toml")
        .expect_err("refused")
        .to_string();
    assert!(
        err.starts_with("vendors.toml:7:") && err.contains("kept for shared vendors"),
        "{err}"
    );
    let err = parse_csv("vendor:Acme,b,requires\n", "vendors.csv")
        .expect_err("refused")
        .to_string();
    assert!(err.contains("kept for shared vendors"), "{err}");
}

#[test]
fn generated_link_ids_never_collide_in_an_edge_list_either() {
    let t = parse_csv("a-b,c,link\na,b-c,link\n", "links.csv").expect("two links, two ids");
    assert_eq!(link_ids(&t), ["link-a-b-c", "link-a-b-c-2"]);
}

#[test]
fn an_element_a_shorthand_creates_takes_its_kinds_defaults() {
    let t = parse_toml(
        r#"
[defaults.power_feed]
mtbf_hours = 20000
mttr_hours = 6

[[element]]
id = "site-1"
kind = "site"
power = "grid-north"
"#,
        "defaults.toml",
    )
    .expect("parses");
    let feed = (t.elements().iter())
        .find(|e| e.id == "grid-north")
        .expect("created by the shorthand");
    assert_eq!(
        (feed.mtbf_hours, feed.mttr_hours),
        (Some(20000.0), Some(6.0))
    );
}

#[test]
fn a_csv_header_is_recognised_in_any_case() {
    let t = parse_csv("Source,TARGET,Relation\na,b\n", "net.csv").unwrap();
    assert_eq!(t.len(), 2, "only `a` and `b`");
}

#[test]
fn a_byte_order_mark_before_a_csv_header_is_ignored() {
    let t = dialtone_topofile::parse_csv(
        "\u{feff}source,target,relation\ncell-1,site-1,requires\n",
        "bom.csv",
    )
    .expect("a spreadsheet's CSV parses");
    assert_eq!(t.len(), 2);
}

#[test]
fn generated_link_ids_skip_an_id_a_shorthand_names() {
    let mut toml = routers_and_links(&["a", "b"], &[("a", "b")]);
    toml.push_str("[[element]]\nid = \"c\"\nkind = \"cell\"\npower = \"link-a-b\"\n");
    let t = parse_toml(&toml, "links.toml").expect("the feed and the link both load");
    assert_eq!(link_ids(&t), ["link-a-b-2"]);
    let feed = t.element(t.index_of("link-a-b").unwrap());
    assert_eq!(feed.kind, ElementKind::PowerFeed);
}

#[test]
fn generated_link_ids_skip_a_suffix_taken_after_the_last_one_generated() {
    let t = parse_csv(
        "a,b,link\na,b,link\nlink-a-b-3,b,requires\na,b,link\n",
        "links.csv",
    )
    .expect("three links, three free ids");
    let generated: Vec<&str> = link_ids(&t)
        .into_iter()
        .filter(|id| *id != "link-a-b-3")
        .collect();
    assert_eq!(generated, ["link-a-b", "link-a-b-2", "link-a-b-4"]);
}

#[test]
fn an_id_with_a_control_character_is_refused_on_one_line() {
    let toml = "[[element]]\nid = \"a\\nb\"\nkind = \"router\"\n";
    assert_points_at(&toml_error(toml), 2, &["control characters", "a\\nb"]);
    let err = parse_csv("a\u{1b}[2J,b,requires\n", "net.csv").expect_err("refused");
    assert!(!err.to_string().contains('\u{1b}'), "{err}");
}
