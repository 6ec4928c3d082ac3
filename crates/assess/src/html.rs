//! The HTML report: one self-contained page (inline CSS and SVG, no script,
//! nothing fetched) with the topology drawn in layers, the risks marked on
//! it, blast-radius bars and availability per region and service.

use std::collections::{HashMap, HashSet};
use std::fmt::Write;

use dialtone_model::{ElementKind, Topology};

use crate::Assessment;

/// Beyond this many elements the picture shows only the risky ones and
/// their direct neighbours.
const MAX_DRAWN: usize = 240;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Renders the report; `title` names the topology (a file name, say).
pub fn render_html(topology: &Topology, a: &Assessment, title: &str) -> String {
    let mut h = String::with_capacity(64 * 1024);
    let s = &a.summary;
    let _ = write!(
        h,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Dialtone assessment: {t}</title>\
<style>body{{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222;padding:0 1em}}\
h1{{font-size:1.5em}}h2{{margin-top:2em;border-bottom:1px solid #ddd}}table{{border-collapse:collapse;width:100%}}\
td,th{{padding:4px 8px;border-bottom:1px solid #eee;text-align:left;vertical-align:top}}th{{background:#f6f6f6}}\
.num{{text-align:right;font-variant-numeric:tabular-nums}}.sos{{color:#b00;font-weight:600}}.fix{{color:#155724}}\
.kpis span{{display:inline-block;margin:0 1.5em .5em 0}}.kpis b{{font-size:1.3em}}svg text{{font:10px sans-serif}}</style></head><body>\
<h1>Reliability assessment: {t}</h1><p class=\"kpis\"><span><b>{el}</b> elements</span><span><b>{cells}</b> cells</span>\
<span><b>{subs}</b> subscribers</span><span><b>{spof}</b> single points of failure</span>\
<span><b>{cm}</b> common-mode causes</span><span><b>{c2}</b> / <b>{c3}</b> minimal cut sets of order 2 / 3</span></p>",
        t = esc(title),
        el = thousands(s.elements as u64),
        cells = thousands(s.cells as u64),
        subs = thousands(s.subscribers),
        spof = thousands(s.single_points_of_failure as u64),
        cm = s.common_mode_groups,
        c2 = thousands(s.cut_sets_order_2),
        c3 = thousands(s.cut_sets_order_3),
    );

    h.push_str("<h2>Top risks</h2><table><tr><th>#</th><th>risk</th><th class=\"num\">subscribers</th><th class=\"num\">cells</th><th class=\"num\">subscriber-hours / year</th><th>fix</th></tr>");
    for r in &a.risks {
        let _ = write!(
            h,
            "<tr><td>{}</td><td><small>{}</small><br>{}{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{:.1}</td><td class=\"fix\">{}</td></tr>",
            r.rank,
            esc(&r.category),
            esc(&r.title),
            if r.loss.emergency_cells > 0 {
                format!(
                    "<br><span class=\"sos\">emergency calls lost on {}</span>",
                    dialtone_model::count(r.loss.emergency_cells, "cell", "cells")
                )
            } else {
                String::new()
            },
            thousands(r.loss.subscribers),
            r.loss.cells,
            r.expected_subscriber_hours_per_year,
            esc(&r.fix)
        );
    }
    h.push_str("</table>");

    h.push_str("<h2>Topology</h2>");
    topology_svg(&mut h, topology, a);

    h.push_str(
        "<h2>Blast radius</h2><p>Subscribers who lose service when one element fails (top 15).</p>",
    );
    blast_svg(&mut h, a);

    let _ = write!(
        h,
        "<h2>Availability</h2><p>Expected share of subscribers with service, elements failing independently at their MTBF/MTTR; vendor defects, ranked above, are not in it ({}{}).</p>\
<table><tr><th>region</th><th>service</th><th class=\"num\">availability</th><th class=\"num\">95% interval</th><th class=\"num\">minutes down / year</th><th></th></tr>",
        esc(&a.availability.method),
        if a.availability.rounds > 0 {
            format!(
                ", {} rounds, seed {}",
                a.availability.rounds, a.availability.seed
            )
        } else {
            String::new()
        }
    );
    let worst = a
        .availability
        .rows
        .iter()
        .map(|r| r.minutes_down_per_year)
        .fold(1e-9, f64::max);
    for r in &a.availability.rows {
        let width = 160.0 * r.minutes_down_per_year / worst;
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td class=\"num\">{:.6}%</td><td class=\"num\">{:.6}% to {:.6}%</td><td class=\"num\">{:.1}</td>\
<td><svg width=\"170\" height=\"12\" role=\"img\" aria-label=\"minutes down\"><rect width=\"{width:.1}\" height=\"10\" fill=\"#d9534f\"/></svg></td></tr>",
            esc(&r.region),
            esc(&r.service),
            100.0 * r.availability,
            100.0 * r.low,
            100.0 * r.high,
            r.minutes_down_per_year,
        );
    }
    h.push_str("</table>");

    h.push_str("<h2>Common modes and cut sets per redundant set</h2><table><tr><th>redundant set</th><th>serves</th><th>shared causes</th><th class=\"num\">order 2</th><th class=\"num\">order 3</th></tr>");
    for set in a.redundant_sets.iter().take(50) {
        let causes: Vec<String> = set
            .shared_causes
            .iter()
            .map(|c| format!("{} ({})", esc(&c.event), esc(&c.shared)))
            .collect();
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}{}</td><td class=\"sos\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            esc(&set.members.join(", ")),
            esc(&set.dependents.join(", ")),
            if set.dependent_count > set.dependents.len() {
                format!(" and {} more", set.dependent_count - set.dependents.len())
            } else {
                String::new()
            },
            causes.join("<br>"),
            set.order_2,
            set.order_3
                .map_or_else(|| "not searched".to_owned(), |n| n.to_string()),
        );
    }
    h.push_str("</table>");
    if !a.physical.bridges.is_empty() || !a.physical.cut_vertices.is_empty() {
        let _ = write!(
            h,
            "<h2>Physical graph</h2><p>Cut vertices: {}</p><p>Bridges (single links, parallel links count as redundancy): {}</p>",
            esc(&a.physical.cut_vertices.join(", ")),
            esc(&a.physical.bridges.join(", "))
        );
    }
    h.push_str("<p><small>Generated by <code>dialtone assess</code>.</small></p></body></html>\n");
    h
}

fn topology_svg(h: &mut String, t: &Topology, a: &Assessment) {
    let common: HashSet<&str> = a
        .risks
        .iter()
        .filter(|r| r.category == "common mode")
        .filter_map(|r| r.elements.first().map(String::as_str))
        .collect();
    let spof: HashSet<&str> = a
        .single_points_of_failure
        .iter()
        .map(|s| s.element.as_str())
        .collect();
    let mut shown: Vec<usize> = if t.len() <= MAX_DRAWN {
        (0..t.len()).collect()
    } else {
        // Neighbourhoods of the risks in their rank order (not the hash
        // set's, which changes from run to run), until the drawing is full.
        let mut set: HashSet<usize> = HashSet::new();
        let ranked = (a.risks.iter()).flat_map(|r| r.elements.iter().map(String::as_str));
        for id in ranked {
            if let Some(i) = t.index_of(id) {
                set.insert(i);
                for g in t.groups_of(i) {
                    set.extend(g.members.iter().copied());
                }
                set.extend(t.dependents(i).iter().copied().take(4));
            }
            if set.len() >= MAX_DRAWN {
                break;
            }
        }
        set.into_iter().collect()
    };
    shown.sort_unstable();
    if t.len() > MAX_DRAWN {
        let _ = write!(
            h,
            "<p>{} of {} elements drawn: those in the top risks and their neighbours.</p>",
            shown.len(),
            t.len()
        );
    }
    // Layer = longest chain of dependencies below the element.
    let mut depth = vec![0usize; t.len()];
    for &e in t.evaluation_order() {
        depth[e] = t
            .groups_of(e)
            .flat_map(|g| g.members.iter())
            .map(|&m| depth[m] + 1)
            .max()
            .unwrap_or(0);
    }
    let mut layers: Vec<Vec<usize>> = Vec::new();
    for &e in &shown {
        let d = depth[e].min(12);
        if layers.len() <= d {
            layers.resize(d + 1, Vec::new());
        }
        layers[d].push(e);
    }
    let widest = layers.iter().map(Vec::len).max().unwrap_or(1).max(1);
    let width = (widest as f64 * 70.0).clamp(600.0, 4000.0);
    let row = 70.0;
    let height = layers.len() as f64 * row + 40.0;
    let mut pos: HashMap<usize, (f64, f64)> = HashMap::new();
    for (d, layer) in layers.iter().enumerate() {
        let step = width / (layer.len() as f64 + 1.0);
        for (k, &e) in layer.iter().enumerate() {
            pos.insert(e, (step * (k as f64 + 1.0), 25.0 + d as f64 * row));
        }
    }
    let _ = write!(
        h,
        "<p>Dependencies point up; <tspan>red</tspan>: single point of failure; orange: common-mode cause; \
dashed: a redundant group.</p><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"100%\" viewBox=\"0 0 {width:.0} {height:.0}\" role=\"img\" aria-label=\"topology\">"
    );
    for &e in &shown {
        for g in t.groups_of(e) {
            let dashed = g.members.len() > g.required();
            for m in &g.members {
                if let (Some(a), Some(b)) = (pos.get(&e), pos.get(m)) {
                    let _ = write!(
                        h,
                        "<line x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"#999\" stroke-width=\"0.8\"{}/>",
                        a.0,
                        a.1,
                        b.0,
                        b.1,
                        if dashed {
                            " stroke-dasharray=\"4 3\""
                        } else {
                            ""
                        }
                    );
                }
            }
        }
    }
    for &e in &shown {
        let el = t.element(e);
        let (x, y) = pos[&e];
        let id = el.id.as_str();
        let fill = if common.contains(id) {
            "#f0ad4e"
        } else if spof.contains(id) && el.kind != ElementKind::Cell {
            "#d9534f"
        } else {
            "#8fb3d9"
        };
        let _ = write!(
            h,
            "<g><title>{} ({})</title><circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"7\" fill=\"{fill}\" stroke=\"#333\" stroke-width=\"0.6\"/>\
<text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text></g>",
            esc(id),
            el.kind.as_str(),
            y + 18.0,
            esc(&truncate(id, 14))
        );
    }
    h.push_str("</svg>");
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(n - 1).collect();
        t.push('…');
        t
    }
}

fn blast_svg(h: &mut String, a: &Assessment) {
    let top: Vec<_> = a.blast_radius.iter().take(15).collect();
    let max = top
        .iter()
        .map(|b| b.loss.subscribers.max(u64::from(b.loss.cells)))
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let height = top.len() as f64 * 22.0 + 10.0;
    let _ = write!(
        h,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"100%\" viewBox=\"0 0 900 {height:.0}\" role=\"img\" aria-label=\"blast radius\">"
    );
    for (i, b) in top.iter().enumerate() {
        let y = 5.0 + i as f64 * 22.0;
        let value = b.loss.subscribers.max(u64::from(b.loss.cells)) as f64;
        let w = 560.0 * value / max;
        let color = if b.loss.emergency_cells > 0 {
            "#d9534f"
        } else {
            "#5b8fc7"
        };
        let _ = write!(
            h,
            "<text x=\"190\" y=\"{:.1}\" text-anchor=\"end\">{}</text><rect x=\"200\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"16\" fill=\"{color}\"/>\
<text x=\"{:.1}\" y=\"{:.1}\">{} subscribers, {}{}</text>",
            y + 12.0,
            esc(&truncate(&b.element, 30)),
            205.0 + w,
            y + 12.0,
            thousands(b.loss.subscribers),
            dialtone_model::count(b.loss.cells, "cell", "cells"),
            if b.loss.emergency_cells > 0 {
                ", emergency calls"
            } else {
                ""
            }
        );
    }
    h.push_str("</svg>");
}
