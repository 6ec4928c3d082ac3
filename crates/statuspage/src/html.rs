//! The public status page as server-rendered HTML: no JavaScript, no external assets.

use std::fmt::Write;

use crate::{PageState, components, iso8601, status_of};

/// HTML-escapes text for element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
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
    h.push_str(
        "<h2>Services by region</h2><table><tr><th>Region</th><th>Service</th><th>Status</th></tr>",
    );
    let comps = components(state);
    for group in comps.iter().filter(|c| c.group) {
        for c in comps
            .iter()
            .filter(|c| c.group_id.as_deref() == Some(&group.id))
        {
            let service = c.name.rsplit(" – ").next().unwrap_or(&c.name);
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td class=\"st {}\">{}</td></tr>",
                escape(&group.name),
                escape(service),
                c.status,
                c.status.replace('_', " ")
            );
        }
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
        "<footer>Updated {} · <a href=\"/api/v2/summary.json\">JSON</a></footer></main></body></html>",
        iso8601(state.now)
    );
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
