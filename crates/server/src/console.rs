//! The operator console: live incidents, ranked root-cause candidates with
//! their evidence, and server-rendered SVG charts of the affected KPIs.

use std::fmt::Write;

use dialtone_auth::Role;
use dialtone_engine::Incident;
use dialtone_model::{SeriesKey, Timestamp};
use dialtone_statuspage::iso8601;

use crate::subscribe::chosen;
use crate::{History, Principal};

/// Filled per request with the session's CSRF token: the console is
/// pre-rendered once for everyone, the token is per session.
pub const CSRF_SLOT: &str = "{{csrf}}";
/// Filled per request with the signed-in user's (escaped) name.
pub const USER_SLOT: &str = "{{user}}";
/// Filled per request, for a user who may not act, with a line saying so.
const VIEW_ONLY_SLOT: &str = "{{view-only}}";
/// Around the forms only an operator may send: cut out per request for a
/// viewer, whose every post would be refused (and lose what was typed).
const OPERATOR_ONLY: &str = "{{operator}}";
const OPERATOR_ONLY_END: &str = "{{/operator}}";
/// The role the console's forms need; the route table requires the same.
const ACTS: Role = Role::Operator;

/// The statuses an operator may publish from the console (postmortem comes
/// after resolving, with the report).
pub(crate) const STATUSES: [&str; 4] = ["investigating", "identified", "monitoring", "resolved"];
pub(crate) const SEVERITIES: [&str; 4] = ["none", "minor", "major", "critical"];

/// A dropdown of `options` with `chosen` selected. When `chosen` is none of
/// them (a value the server refused) nothing valid is picked for the user:
/// a blank first choice, which the browser will not send, asks for one.
pub(crate) fn select(name: &str, options: &[&str], chosen: &str) -> String {
    // Named for screen readers by the field it sets (`severity`).
    let mut h = format!("<select name=\"{name}\" aria-label=\"{name}\" required>");
    if !options.contains(&chosen) {
        h.push_str("<option value=\"\" selected disabled>choose one</option>");
    }
    for o in options {
        let selected = if *o == chosen { " selected" } else { "" };
        let _ = write!(h, "<option{selected}>{o}</option>");
    }
    h.push_str("</select>");
    h
}

/// The pre-rendered console for one request's user: their name and CSRF
/// token, and for a user who may not act, no action forms but a line saying
/// why.
pub(crate) fn personalise(html: &str, who: &Principal) -> String {
    let acts = who.role.allows(ACTS);
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find(OPERATOR_ONLY) {
        out.push_str(&rest[..start]);
        let inner = &rest[start + OPERATOR_ONLY.len()..];
        let end = inner.find(OPERATOR_ONLY_END).unwrap_or(inner.len());
        if acts {
            out.push_str(&inner[..end]);
        }
        rest = inner.get(end + OPERATOR_ONLY_END.len()..).unwrap_or("");
    }
    out.push_str(rest);
    let note = if acts {
        String::new()
    } else {
        format!(
            "<p id=\"view-only\" class=\"tag\">You are a {}: you can follow incidents here but not act on them. \
Ask an admin for the {ACTS} role to declare, update or resolve incidents.</p>",
            who.role
        )
    };
    out.replace(USER_SLOT, &escape(&who.name))
        .replace(VIEW_ONLY_SLOT, &note)
        .replace(CSRF_SLOT, who.csrf.as_deref().unwrap_or(""))
}

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

/// One checkbox `region_{id}` per region id, labelled with the region's
/// public name, ticked where `on`: read back with [`crate::ticked`].
pub(crate) fn region_checkboxes(regions: &[String], on: impl Fn(&str) -> bool) -> String {
    (regions.iter())
        .map(|r| {
            format!(
                "<label><input type=\"checkbox\" name=\"region_{id}\"{on}> {name}</label>",
                id = escape(r),
                on = chosen(on(r), " checked"),
                name = escape(&dialtone_engine::region_name(r))
            )
        })
        .collect()
}

/// Renders the console for `incidents` (oldest first) as of `now`; the
/// declare form offers `regions`.
pub fn render_console(
    incidents: &[Incident],
    series: &[SeriesKey],
    history: &History,
    regions: &[String],
    now: Timestamp,
) -> String {
    let mut h = String::with_capacity(16 * 1024);
    let _ = write!(
        h,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<title>Dialtone console</title><style>{STYLE}</style></head><body><main><h1>Dialtone console</h1>\
<form method=\"post\" action=\"/logout\" class=\"muted\">Signed in as <b id=\"user\">{USER_SLOT}</b> \
<input type=\"hidden\" name=\"csrf\" value=\"{CSRF_SLOT}\"><button>Sign out</button></form>\
<p class=\"muted\">Network time {} · <a href=\"/console\">refresh</a> · <a href=\"/\">public status page</a></p>{VIEW_ONLY_SLOT}",
        iso8601(now)
    );
    let _ = write!(
        h,
        "{OPERATOR_ONLY}<details class=\"inc\"><summary>Declare an incident</summary>\
<form method=\"post\" action=\"/console/incidents\" id=\"declare\"><input type=\"hidden\" name=\"csrf\" value=\"{CSRF_SLOT}\">\
<p><input name=\"title\" aria-label=\"Public title\" required maxlength=\"200\" placeholder=\"Public title, e.g. Calls failing in North\" size=\"60\"> \
{}</p>\
<p><textarea name=\"body\" aria-label=\"First public update\" required rows=\"3\" cols=\"80\" placeholder=\"First public update\"></textarea></p>\
<fieldset><legend>Areas affected (customer reports from there join this incident; subscribers there are told)</legend>{}</fieldset>\
<button>Declare</button></form></details>{OPERATOR_ONLY_END}",
        select("severity", &SEVERITIES, "minor"),
        region_checkboxes(regions, |_| false)
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
<span class=\"tag\">{} cells · {} subscribers{}{}{}</span></p>",
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
        },
        (inc.impact.fixed_lines_phrase()).map_or(String::new(), |lines| format!(" · {lines} hit")),
        match inc.impact.conference_participants_affected {
            0 => String::new(),
            n => format!(" · conference calls hit ({n} participants)"),
        }
    );
    let by_hand = inc.operator.declared_by.is_some();
    let _ = write!(
        h,
        "<h3>Root cause</h3><p id=\"root-cause-{}\">{}</p>",
        inc.id,
        match (&inc.root_cause, by_hand) {
            (Some(cause), _) => escape(cause),
            (None, true) => "none: declared by hand".to_string(),
            (None, false) => "not yet identified".to_string(),
        }
    );
    // A hand-declared incident has no alarms behind it, so neither
    // candidates nor charts: no empty table or block to puzzle over.
    if !inc.candidates.is_empty() {
        h.push_str("<table class=\"candidates\"><tr><th>#</th><th>Element</th><th>Kind</th><th>Agreement</th><th>Explained / contradicted / unexplained</th><th>Evidence</th></tr>");
    }
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
    if !inc.candidates.is_empty() {
        h.push_str("</table>");
    }
    if open && !inc.charted_series.is_empty() {
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
        "<h3>Response</h3><p class=\"muted\">Acknowledged by {} · assigned to {}</p>{OPERATOR_ONLY}<div class=\"actions\">",
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
        "assign",
        &format!(
            "<input name=\"assignee\" aria-label=\"Assignee\" required maxlength=\"100\" placeholder=\"Person or team\" value=\"{}\"> ",
            inc.operator
                .assignee
                .as_deref()
                .map_or(String::new(), escape)
        ),
        "Assign",
    );
    // Both dropdowns start at the incident's current value: a form sent
    // untouched must not move the public status or the severity.
    form(
        h,
        "update",
        &format!(
            "{} <textarea name=\"body\" aria-label=\"Public update\" required rows=\"2\" cols=\"70\" placeholder=\"Public update\"></textarea> ",
            select("status", &STATUSES, inc.status.as_str())
        ),
        "Publish update",
    );
    form(
        h,
        "severity",
        &format!(
            "{} ",
            select("severity", &SEVERITIES, inc.severity.as_str())
        ),
        "Set severity",
    );
    form(
        h,
        "merge",
        "<label>Same problem as incident # <input name=\"into\" type=\"number\" min=\"1\" required size=\"6\"></label> ",
        "Merge into it",
    );
    form(
        h,
        "resolve",
        "<textarea name=\"body\" aria-label=\"Public words on resolving\" rows=\"2\" cols=\"70\" placeholder=\"Public words on resolving (optional)\"></textarea> ",
        "Resolve",
    );
    let _ = write!(h, "</div>{OPERATOR_ONLY_END}");
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

    #[test]
    fn an_incident_says_when_fixed_lines_were_hit() {
        let mut inc = Incident::open(1, 0);
        let tags = |inc: &Incident| {
            let mut h = String::new();
            render_incident(&mut h, inc, &[], &History::new(0, 1), true);
            h
        };
        assert!(!tags(&inc).contains("fixed lines hit"));
        inc.impact.fixed_lines_affected = true;
        assert!(tags(&inc).contains("0 cells · 0 subscribers · fixed lines hit</span>"));
        inc.impact.fixed_line_subscribers_affected = 12_000;
        assert!(tags(&inc).contains("0 subscribers · 12000 fixed lines hit</span>"));
        inc.impact.fixed_line_subscribers_affected = 0;
        inc.impact.fixed_lines_affected = false;
        inc.impact.conference_participants_affected = 500;
        assert!(
            tags(&inc).contains(
                "0 cells · 0 subscribers · conference calls hit (500 participants)</span>"
            )
        );
    }
}
