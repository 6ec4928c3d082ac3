//! The operator console: live incidents, ranked root-cause candidates with
//! their evidence, and server-rendered SVG charts of the affected KPIs.

use std::fmt::Write;

use dialtone_engine::Incident;
use dialtone_model::{SeriesKey, Timestamp};
use dialtone_statuspage::iso8601;

use crate::History;

/// Filled per request with the session's CSRF token: the console is
/// pre-rendered once for everyone, the token is per session.
pub const CSRF_SLOT: &str = "{{csrf}}";
/// Filled per request with the signed-in user's (escaped) name.
pub const USER_SLOT: &str = "{{user}}";

/// Escapes text for HTML; `{` too, so no text can forge a slot.
pub(crate) fn escape(s: &str) -> String {
    dialtone_statuspage::escape(s).replace('{', "&#123;")
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:0;background:#11151c;color:#e6e9ef}\
main{max-width:1100px;margin:0 auto;padding:20px}h1{font-size:1.4rem}a{color:#8ab4f8}\
.inc{background:#1b2130;border-radius:6px;padding:16px;margin-bottom:20px}\
.open{border-left:6px solid #ef5350}.closed{border-left:6px solid #66bb6a}\
table{border-collapse:collapse;width:100%;margin:8px 0}td,th{padding:4px 8px;border-bottom:1px solid #2c3446;text-align:left;vertical-align:top}\
.charts{display:flex;flex-wrap:wrap;gap:12px}.chart{background:#0d1017;border-radius:4px;padding:6px}\
.muted{color:#98a2b3;font-size:.85rem}.tag{display:inline-block;padding:1px 8px;border-radius:10px;background:#2c3446;margin-right:6px}";

/// Renders the console for `incidents` (oldest first) as of `now`.
pub fn render_console(
    incidents: &[Incident],
    series: &[SeriesKey],
    history: &History,
    now: Timestamp,
) -> String {
    let mut h = String::with_capacity(16 * 1024);
    let _ = write!(
        h,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<title>Dialtone console</title><style>{STYLE}</style></head><body><main><h1>Dialtone console</h1>\
<form method=\"post\" action=\"/logout\" class=\"muted\">Signed in as <b id=\"user\">{USER_SLOT}</b> \
<input type=\"hidden\" name=\"csrf\" value=\"{CSRF_SLOT}\"><button>Sign out</button></form>\
<p class=\"muted\">Network time {} · <a href=\"/console\">refresh</a> · <a href=\"/\">public status page</a></p>",
        iso8601(now)
    );
    let _ = write!(
        h,
        "<details class=\"inc\"><summary>Declare an incident</summary>\
<form method=\"post\" action=\"/console/incidents\" id=\"declare\"><input type=\"hidden\" name=\"csrf\" value=\"{CSRF_SLOT}\">\
<p><input name=\"title\" required maxlength=\"200\" placeholder=\"Public title, e.g. Calls failing in North\" size=\"60\"> \
<select name=\"severity\"><option>minor</option><option>major</option><option>critical</option></select></p>\
<p><textarea name=\"body\" required rows=\"3\" cols=\"80\" placeholder=\"First public update\"></textarea></p>\
<button>Declare</button></form></details>"
    );
    let open: Vec<&Incident> = incidents
        .iter()
        .rev()
        .filter(|i| i.status.is_open())
        .collect();
    if open.is_empty() {
        h.push_str("<p id=\"no-incidents\">No open incidents.</p>");
    }
    for inc in open {
        render_incident(&mut h, inc, series, history, true);
    }
    h.push_str("<h2>Recent incidents</h2>");
    for inc in incidents
        .iter()
        .rev()
        .filter(|i| !i.status.is_open())
        .take(5)
    {
        render_incident(&mut h, inc, series, history, false);
    }
    h.push_str("</main></body></html>");
    h
}

fn render_incident(
    h: &mut String,
    inc: &Incident,
    series: &[SeriesKey],
    history: &History,
    open: bool,
) {
    let _ = write!(
        h,
        "<section class=\"inc {}\" id=\"incident-{}\"><h2>#{} {}</h2>\
<p><span class=\"tag\">{}</span>{}<span class=\"tag\">severity {}</span>\
<span class=\"tag\">{} cells · {} subscribers{}</span></p>",
        if open { "open" } else { "closed" },
        inc.id,
        inc.id,
        escape(&inc.title),
        inc.status.as_str(),
        if inc.awaiting_approval {
            "<span class=\"tag held\">draft awaiting approval: not on the status page</span>"
        } else {
            ""
        },
        inc.severity.as_str(),
        inc.impact.cells_affected,
        inc.impact.subscribers_affected,
        if inc.impact.emergency_calls_affected {
            " · emergency calls affected"
        } else {
            ""
        }
    );
    let _ = write!(
        h,
        "<h3>Root cause</h3><p id=\"root-cause\">{}</p><table class=\"candidates\"><tr><th>#</th><th>Element</th><th>Kind</th><th>Agreement</th><th>Explained / contradicted / unexplained</th><th>Evidence</th></tr>",
        inc.root_cause
            .as_deref()
            .map_or("not yet identified".to_string(), escape)
    );
    for (rank, c) in inc.candidates.iter().enumerate() {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{:.0}%</td><td>{} / {} / {}</td><td>{}</td></tr>",
            rank + 1,
            escape(&c.element),
            escape(&c.kind),
            c.score * 100.0,
            c.explained,
            c.contradicted,
            c.unexplained,
            c.evidence
                .iter()
                .map(|e| escape(e))
                .collect::<Vec<_>>()
                .join("<br>")
        );
    }
    h.push_str("</table>");
    if open {
        h.push_str("<h3>Affected KPIs</h3><div class=\"charts\">");
        for &s in &inc.charted_series {
            if let Some(key) = series.get(s as usize) {
                h.push_str(&chart(&key.name(), &history.series(s), inc.opened_at));
            }
        }
        h.push_str("</div>");
    }
    if open {
        render_actions(h, inc);
    } else {
        let _ = write!(
            h,
            "<p><a href=\"/console/incidents/{}/postmortem\">Postmortem (Markdown)</a></p>",
            inc.id
        );
    }
    h.push_str("<h3>Timeline</h3><table>");
    for e in &inc.timeline {
        let _ = write!(
            h,
            "<tr><td class=\"muted\">{}</td><td>{}</td><td>{}</td></tr>",
            iso8601(e.at),
            e.kind.as_str(),
            escape(&e.detail)
        );
    }
    h.push_str("</table></section>");
}

/// A line chart with a red rule where the incident opened.
fn chart(title: &str, points: &[(Timestamp, f32)], marker: Timestamp) -> String {
    const W: f64 = 320.0;
    const H: f64 = 110.0;
    const PAD: f64 = 18.0;
    let mut svg = format!(
        "<figure class=\"chart\"><svg width=\"{W}\" height=\"{H}\" viewBox=\"0 0 {W} {H}\" role=\"img\" aria-label=\"{t}\">",
        t = escape(title)
    );
    if let (Some(first), Some(last)) = (points.first(), points.last()) {
        let (t0, t1) = (first.0 as f64, (last.0 as f64).max(first.0 as f64 + 60.0));
        let lo = points.iter().map(|p| p.1).fold(f32::INFINITY, f32::min) as f64;
        let hi = points.iter().map(|p| p.1).fold(f32::NEG_INFINITY, f32::max) as f64;
        let span = (hi - lo).max(1e-9);
        let x = |t: f64| PAD + (t - t0) / (t1 - t0) * (W - 2.0 * PAD);
        let y = |v: f64| H - PAD - (v - lo) / span * (H - 2.0 * PAD);
        let line: Vec<String> = points
            .iter()
            .map(|(t, v)| format!("{:.1},{:.1}", x(*t as f64), y(f64::from(*v))))
            .collect();
        let _ = write!(
            svg,
            "<polyline fill=\"none\" stroke=\"#8ab4f8\" stroke-width=\"1.5\" points=\"{}\"/>",
            line.join(" ")
        );
        if (t0..=t1).contains(&(marker as f64)) {
            let mx = x(marker as f64);
            let _ = write!(
                svg,
                "<line x1=\"{mx:.1}\" x2=\"{mx:.1}\" y1=\"{PAD}\" y2=\"{}\" stroke=\"#ef5350\"/>",
                H - PAD
            );
        }
        let _ = write!(
            svg,
            "<text x=\"{PAD}\" y=\"12\" fill=\"#98a2b3\" font-size=\"10\">max {hi:.2}</text><text x=\"{PAD}\" y=\"{}\" fill=\"#98a2b3\" font-size=\"10\">min {lo:.2}</text>",
            H - 4.0
        );
    }
    let _ = write!(
        svg,
        "</svg><figcaption class=\"muted\">{}</figcaption></figure>",
        escape(title)
    );
    svg
}

/// The operator's forms for an open incident; they post to `/console/incidents/{id}`.
fn render_actions(h: &mut String, inc: &Incident) {
    let id = inc.id;
    let who = |w: &Option<String>| w.as_deref().map_or("nobody".to_string(), escape);
    let _ = write!(
        h,
        "<h3>Response</h3><p class=\"muted\">Acknowledged by {} · assigned to {}</p><div class=\"actions\">",
        who(&inc.operator.acknowledged_by),
        who(&inc.operator.assignee)
    );
    let form = |h: &mut String, action: &str, fields: &str, button: &str| {
        let _ = write!(
            h,
            "<form method=\"post\" action=\"/console/incidents/{id}\" class=\"{action}\">\
<input type=\"hidden\" name=\"csrf\" value=\"{CSRF_SLOT}\"><input type=\"hidden\" name=\"action\" value=\"{action}\">\
{fields}<button type=\"submit\">{button}</button></form>"
        );
    };
    if inc.awaiting_approval {
        let draft = inc
            .timeline
            .iter()
            .find(|e| e.kind.is_public())
            .map_or(String::new(), |e| escape(&e.public_body));
        let _ = write!(h, "<blockquote class=\"draft\">{draft}</blockquote>");
        form(h, "approve", "", "Approve and publish");
    }
    if inc.operator.acknowledged_by.is_none() {
        form(h, "acknowledge", "", "Acknowledge");
    }
    form(
        h,
        "update",
        "<select name=\"status\"><option>investigating</option><option>identified</option>\
<option>monitoring</option><option>resolved</option></select> \
<textarea name=\"body\" required rows=\"2\" cols=\"70\" placeholder=\"Public update\"></textarea> ",
        "Publish update",
    );
    form(
        h,
        "severity",
        "<select name=\"severity\"><option>minor</option><option>major</option><option>critical</option></select> ",
        "Set severity",
    );
    h.push_str("</div>");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaped_text_has_no_markup_slots_or_control_characters() {
        assert_eq!(
            escape("a<b>&\"'{{csrf}}\u{0}\u{7}\tz\n"),
            "a&lt;b&gt;&amp;&quot;&#39;&#123;&#123;csrf}}\u{FFFD}\u{FFFD}\tz\n"
        );
    }
}
