//! The public status page as server-rendered HTML: no JavaScript, no external assets.

use std::fmt::Write;

use crate::{PageState, components, iso8601, status_of};

/// HTML-escapes text for element content and attribute values. Control
/// characters, which are not text and which HTML does not allow (a NUL
/// typed into a form, say), become the replacement character.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && !matches!(c, '\t' | '\n' | '\r') => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1d2330}\
main{max-width:860px;margin:0 auto;padding:24px}\
h1{font-size:1.6rem;margin:0 0 16px}\
.banner{padding:16px 20px;border-radius:6px;color:#fff;font-size:1.2rem;font-weight:600;margin-bottom:24px}\
.none{background:#2e7d32}.minor{background:#f9a825}.major{background:#ef6c00}.critical{background:#c62828}\
table{width:100%;border-collapse:collapse;background:#fff;border-radius:6px;margin-bottom:24px}\
td,th{padding:8px 12px;border-bottom:1px solid #e4e7ec;text-align:left}\
.st{font-weight:600}.operational{color:#2e7d32}.degraded_performance{color:#f9a825}\
.partial_outage{color:#ef6c00}.major_outage{color:#c62828}.under_maintenance{color:#1565c0}\
.incident{background:#fff;border-radius:6px;padding:16px 20px;margin-bottom:16px;border-left:6px solid #c62828}\
.incident.resolved{border-left-color:#2e7d32}.update{margin:10px 0}.when{color:#667;font-size:.85rem}\
footer{color:#667;font-size:.85rem}";

/// The whole status page.
pub fn render_status_html(state: &PageState<'_>) -> String {
    let status = status_of(state);
    let mut h = String::with_capacity(8 * 1024);
    let name = escape(&state.page.name);
    let _ = write!(
        h,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
<meta http-equiv=\"refresh\" content=\"30\"><title>{name} status</title><style>{STYLE}</style></head>\
<body><main><h1>{name} status</h1><div class=\"banner {}\" id=\"status\">{}</div>",
        status.indicator, status.description
    );
    let open: Vec<_> = state
        .incidents
        .iter()
        .rev()
        .filter(|i| i.status.is_open())
        .collect();
    if !open.is_empty() {
        h.push_str("<h2>Current incidents</h2>");
        for inc in open {
            render_incident(&mut h, inc);
        }
    }
    let planned: Vec<_> = state
        .maintenances
        .iter()
        .filter(|m| m.status(state.now) != "completed")
        .collect();
    if !planned.is_empty() {
        h.push_str("<h2>Scheduled maintenance</h2>");
        for m in planned {
            let _ = write!(
                h,
                "<section class=\"incident maintenance\"><h3>{}</h3><div class=\"update\"><strong>{}</strong> – {}. {}</div></section>",
                escape(&m.name),
                capitalize(&m.status(state.now).replace('_', " ")),
                escape(&m.when()),
                escape(&m.interruption())
            );
        }
    }
    let comps = components(state);
    h.push_str("<h2>Services by region</h2>");
    render_impact_map(&mut h, &comps);
    h.push_str("<table><tr><th>Region</th><th>Service</th><th>Status</th></tr>");
    let mut row = |region: &str, service: &str, status: &str| {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td class=\"st {status}\">{}</td></tr>",
            escape(region),
            escape(service),
            status.replace('_', " ")
        );
    };
    for group in comps.iter().filter(|c| c.group) {
        for c in comps
            .iter()
            .filter(|c| c.group_id.as_deref() == Some(&group.id))
        {
            let service = c.name.rsplit(" – ").next().unwrap_or(&c.name);
            row(&group.name, service, c.status);
        }
    }
    // Services in no region (conference calls: their callers are anywhere).
    for c in comps.iter().filter(|c| !c.group && c.group_id.is_none()) {
        row("All regions", &c.name, c.status);
    }
    h.push_str("</table>");
    let past: Vec<_> = state
        .incidents
        .iter()
        .rev()
        .filter(|i| !i.status.is_open())
        .take(10)
        .collect();
    h.push_str("<h2>Past incidents</h2>");
    if past.is_empty() {
        h.push_str("<p>No incidents reported.</p>");
    }
    for inc in past {
        render_incident(&mut h, inc);
    }
    let _ = write!(
        h,
        "<footer>Updated {} · <a href=\"/subscribe\">Get notified</a> · <a href=\"/report\">Report a problem</a> · \
<a href=\"/history.atom\">Atom</a> · <a href=\"/api/v2/summary.json\">JSON</a></footer></main></body></html>",
        iso8601(crate::v2::page_updated_at(state))
    );
    h
}

/// Fill of a region's tile for its worst component status.
fn tile_fill(status: &str) -> &'static str {
    match status {
        "major_outage" => "#c62828",
        "partial_outage" => "#ef6c00",
        "degraded_performance" => "#f9a825",
        "under_maintenance" => "#1565c0",
        _ => "#2e7d32",
    }
}

/// The impact map: one tile per region, coloured by its worst service, so
/// a glance says where the trouble is. Regions have no geometry in the
/// topology, so the map is a grid in region order, not a geographic map.
fn render_impact_map(h: &mut String, comps: &[crate::Component]) {
    const COLS: usize = 4;
    const W: usize = 150;
    const H: usize = 56;
    const GAP: usize = 8;
    let groups: Vec<_> = comps.iter().filter(|c| c.group).collect();
    if groups.is_empty() {
        return;
    }
    let rows = groups.len().div_ceil(COLS);
    let width = COLS.min(groups.len()) * (W + GAP);
    let height = rows * (H + GAP);
    let _ = write!(
        h,
        "<svg id=\"impact-map\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"Impact by region\">"
    );
    for (i, group) in groups.iter().enumerate() {
        // A group's status is its worst service's.
        let worst = group.status;
        let (x, y) = ((i % COLS) * (W + GAP), (i / COLS) * (H + GAP));
        let _ = write!(
            h,
            "<g class=\"region {worst}\"><title>{name}: {label}</title>\
<rect x=\"{x}\" y=\"{y}\" width=\"{W}\" height=\"{H}\" rx=\"6\" fill=\"{fill}\"/>\
<text x=\"{tx}\" y=\"{ty}\" fill=\"#fff\" font-size=\"14\" font-weight=\"600\">{name}</text>\
<text x=\"{tx}\" y=\"{ty2}\" fill=\"#fff\" font-size=\"12\">{label}</text></g>",
            name = escape(&group.name),
            label = worst.replace('_', " "),
            fill = tile_fill(worst),
            tx = x + 10,
            ty = y + 24,
            ty2 = y + 44,
        );
    }
    h.push_str("</svg>");
}

/// One incident's own page, where its `shortlink` and the feeds' links
/// point: its updates, newest first, and the way back to the status page.
pub fn render_incident_html(state: &PageState<'_>, inc: &dialtone_engine::Incident) -> String {
    let mut h = String::with_capacity(2 * 1024);
    let name = escape(&state.page.name);
    let _ = write!(
        h,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
<title>{} - {name} status</title><style>{STYLE}</style></head>\
<body><main><h1>{name} status</h1><p><a href=\"/\">Current status of all services</a></p>",
        escape(&inc.title)
    );
    render_incident(&mut h, inc);
    h.push_str("</main></body></html>");
    h
}

fn render_incident(h: &mut String, inc: &dialtone_engine::Incident) {
    let _ = write!(
        h,
        "<section class=\"incident {}\" id=\"incident-{}\"><h3>{}</h3>",
        inc.status.as_str(),
        inc.id,
        escape(&inc.title)
    );
    for e in inc.timeline.iter().rev().filter(|e| e.kind.is_public()) {
        let _ = write!(
            h,
            "<div class=\"update\"><strong>{}</strong> – {}<div class=\"when\">{}</div></div>",
            capitalize(e.status.as_str()),
            escape(&e.public_body),
            iso8601(e.at)
        );
    }
    h.push_str("</section>");
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PageInfo;

    #[test]
    fn the_impact_map_has_a_tile_per_region_coloured_by_its_worst_service() {
        let page = PageInfo::default();
        let regions = vec!["north".to_string(), "south".to_string()];
        let state = PageState {
            page: &page,
            maintenances: &[],
            regions: &regions,
            incidents: &[],
            now: 0,
            hosted: crate::Hosted::default(),
        };
        let html = render_status_html(&state);
        assert!(html.contains("id=\"impact-map\""));
        assert_eq!(html.matches("<g class=\"region operational\">").count(), 2);
        assert!(html.contains("href=\"/subscribe\"") && html.contains("href=\"/report\""));
    }

    #[test]
    fn maintenance_starts_and_ends_by_the_clock() {
        let page = PageInfo::default();
        let regions = vec!["north".to_string(), "south".to_string()];
        let window = [crate::PlannedMaintenance {
            id: "maintenance-1".into(),
            name: "Planned maintenance in North".into(),
            regions: vec!["north".into()],
            services: dialtone_model::ALL_SERVICES,
            scheduled_at: 500,
            start: 1000,
            end: 2000,
        }];
        let at = |now| PageState {
            page: &page,
            regions: &regions,
            incidents: &[],
            maintenances: &window,
            now,
            hosted: crate::Hosted::default(),
        };
        let statuses: Vec<(&str, usize)> = [500, 1500, 2500]
            .into_iter()
            .map(|now| {
                let m = crate::maintenance_json(&at(now), &window[0]);
                (m.incident.status, m.incident.incident_updates.len())
            })
            .collect();
        assert_eq!(
            statuses,
            [("scheduled", 1), ("in_progress", 2), ("completed", 3)]
        );
        let during = crate::maintenance_json(&at(1500), &window[0]);
        assert!(
            during
                .incident
                .components
                .iter()
                .all(|c| c.group_id.as_deref() == Some("region-north"))
        );
        assert_eq!(during.scheduled_for, crate::iso8601(1000));
        // Dated when announced, whatever the clock says since: a document
        // that changed every render would never be "not modified".
        let announced = |now| crate::maintenance_json(&at(now), &window[0]).incident;
        assert_eq!(announced(600).created_at, crate::iso8601(500));
        assert_eq!(
            announced(600).incident_updates,
            announced(900).incident_updates
        );
        assert!(render_status_html(&at(1500)).contains("Scheduled maintenance"));
        // While it runs, its region's services show it, and the page says so.
        let component = |now, id: &str| {
            crate::components(&at(now))
                .into_iter()
                .find(|c| c.id == id)
                .map(|c| c.status)
        };
        assert_eq!(component(1500, "north-voice"), Some("under_maintenance"));
        assert_eq!(component(1500, "south-voice"), Some("operational"));
        assert_eq!(component(2500, "north-voice"), Some("operational"));
        let status = crate::status_of(&at(1500));
        assert_eq!(
            (status.indicator, status.description),
            ("none", "Service Under Maintenance")
        );
        assert_eq!(
            crate::status_of(&at(500)).description,
            "All Systems Operational"
        );
        assert!(!render_status_html(&at(2500)).contains("Scheduled maintenance"));
        assert_eq!(crate::summary(&at(2500)).scheduled_maintenances.len(), 0);
        assert_eq!(crate::summary(&at(500)).scheduled_maintenances.len(), 1);
    }
}
