//! The postmortem: one Markdown report per incident, from its record and
//! what was sent about it. Pure: `dialtone postmortem` and the console's
//! postmortem page render the same text.

use std::fmt::Write;

use dialtone_engine::{Incident, TimelineKind};
use dialtone_model::Timestamp;

/// One outbound message about the incident, as the outbox recorded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// `email`, `webhook`, `pagerduty`, `alertmanager`, `mitigation`, `command`.
    pub channel: String,
    pub delivered: bool,
}

fn utc(t: Timestamp) -> String {
    use time::macros::format_description;
    let fmt = format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    time::OffsetDateTime::from_unix_timestamp(t)
        .ok()
        .and_then(|d| d.format(&fmt).ok())
        .unwrap_or_else(|| format!("@{t}"))
}

fn minutes(from: Timestamp, to: Option<Timestamp>) -> String {
    to.map_or("not reached".to_string(), |t| {
        format!("{} min", (t - from).max(0) / 60)
    })
}

/// `s` as plain text inside a line of Markdown: titles, updates and details
/// are typed by operators and element ids come from topology files, so a
/// line break would start a section of their making and markup (a link, raw
/// HTML, a table's `|`) would render as such wherever the report is shown.
/// Line breaks become spaces and CommonMark's markup characters are
/// backslash-escaped, which renders them as themselves.
fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            c if c.is_control() => out.push(' '),
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '|' | '!' | '~' | '&' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// The report, in Markdown.
pub fn render(inc: &Incident, sent: &[Sent]) -> String {
    let mut md = String::new();
    let first = |kind: TimelineKind| inc.timeline.iter().find(|e| e.kind == kind).map(|e| e.at);
    let opened = inc.opened_at;
    let fired = first(TimelineKind::Mitigated);
    let recovered = inc.monitoring_at.or(inc.resolved_at);
    let _ = writeln!(
        md,
        "# Postmortem: incident {}: {}\n",
        inc.id,
        text(&inc.title)
    );
    let _ = writeln!(
        md,
        "Status **{}**, severity **{}**. Opened {}{}.\n",
        inc.status.as_str(),
        inc.severity.as_str(),
        utc(opened),
        inc.resolved_at
            .map(|r| format!(", resolved {}", utc(r)))
            .unwrap_or_default()
    );

    // A root cause is named when the engine names one, not when the status
    // says `identified`: an operator can move an incident there by hand
    // without naming anything, and this table must agree with the Root
    // cause section below, which reads `root_cause`.
    let named = inc
        .root_cause
        .as_ref()
        .and_then(|_| first(TimelineKind::RootCauseIdentified).or(inc.identified_at));
    let by_hand = named.is_none().then_some(inc.identified_at).flatten();

    md.push_str("## Response times\n\n| from detection to | took |\n|---|---|\n");
    if let Some(at) = by_hand {
        let _ = writeln!(
            md,
            "| identified (by hand, no root cause named) | {} |",
            minutes(opened, Some(at))
        );
    }
    // A rule firing queues its action; whether the action was carried out
    // is its delivery, counted under Communications.
    let mitigations: Vec<&Sent> = (sent.iter())
        .filter(|s| matches!(s.channel.as_str(), "mitigation" | "command"))
        .collect();
    let none_delivered = !mitigations.is_empty() && !mitigations.iter().any(|s| s.delivered);
    for (what, at, caveat) in [
        ("root cause named", named, ""),
        ("acknowledged", inc.operator.acknowledged_at, ""),
        (
            "mitigation fired",
            fired,
            if none_delivered {
                " (none delivered)"
            } else {
                ""
            },
        ),
        ("service recovered (monitoring)", inc.monitoring_at, ""),
        ("resolved", inc.resolved_at, ""),
    ] {
        let _ = writeln!(md, "| {what} | {}{caveat} |", minutes(opened, at));
    }
    let outage_minutes = recovered.map_or(0, |r| (r - opened).max(0) / 60);
    let _ = writeln!(
        md,
        "\n## Impact\n\n- {} cells, {} subscribers at the peak{}{}{}.\n- Subscriber-minutes lost: at most {} ({} people hit at the peak, fixed lines included, or conference participants where those are more, x {} minutes to recovery; an upper bound, as not everyone was affected for the whole time).",
        inc.impact.cells_affected,
        inc.impact.subscribers_affected,
        if inc.impact.emergency_calls_affected {
            "; **emergency calls affected**"
        } else {
            ""
        },
        inc.impact
            .fixed_lines_phrase()
            .map_or(String::new(), |lines| {
                format!("; {lines} served by a broken gateway hit too (not counted above)")
            }),
        match inc.impact.conference_participants_affected {
            0 => String::new(),
            n => format!(
                "; conference calls on a broken bridge hosting {n} participants (not counted above)"
            ),
        },
        inc.impact.people_affected() * outage_minutes as u64,
        inc.impact.people_affected(),
        outage_minutes
    );
    for r in &inc.impact.regions {
        let _ = writeln!(
            md,
            "- {}: {}.",
            text(&dialtone_engine::region_name(&r.region)),
            dialtone_engine::services_phrase(r.services)
        );
    }

    md.push_str("\n## Root cause\n\n");
    match &inc.root_cause {
        Some(root) => {
            let _ = writeln!(md, "**{}**. Evidence:\n", text(root));
            if let Some(c) = inc.candidates.iter().find(|c| &c.element == root) {
                for line in &c.evidence {
                    let _ = writeln!(md, "- {}", text(line));
                }
            }
        }
        None => md.push_str("Not named.\n"),
    }
    if inc.candidates.len() > 1 {
        md.push_str("\nOther candidates considered:\n\n");
        for c in inc
            .candidates
            .iter()
            .filter(|c| Some(&c.element) != inc.root_cause.as_ref())
        {
            let _ = writeln!(
                md,
                "- {} ({}, score {:.2})",
                text(&c.element),
                text(&c.kind),
                c.score
            );
        }
    }

    md.push_str("\n## Actions\n\n");
    let actions: Vec<_> = inc
        .timeline
        .iter()
        .filter(|e| {
            matches!(
                e.kind,
                TimelineKind::Acknowledged
                    | TimelineKind::Assigned
                    | TimelineKind::SeverityChanged
                    | TimelineKind::Paged
                    | TimelineKind::Mitigated
                    | TimelineKind::Approved
                    | TimelineKind::Merged
            )
        })
        .collect();
    if actions.is_empty() {
        md.push_str("None recorded.\n");
    }
    for e in actions {
        let _ = writeln!(md, "- {}: {}", utc(e.at), text(&e.detail));
    }

    md.push_str("\n## Communications\n\nPublic updates:\n\n");
    for e in inc.timeline.iter().filter(|e| e.kind.is_public()) {
        let _ = writeln!(
            md,
            "- {} ({}): {}",
            utc(e.at),
            e.status.as_str(),
            text(&e.public_body)
        );
    }
    let mut channels: Vec<(&str, usize, usize)> = Vec::new();
    for s in sent {
        match channels.iter_mut().find(|(c, ..)| *c == s.channel) {
            Some(row) => {
                row.1 += 1;
                row.2 += usize::from(s.delivered);
            }
            None => channels.push((&s.channel, 1, usize::from(s.delivered))),
        }
    }
    if channels.is_empty() {
        // The timeline may still say updates were queued and people paged:
        // say why none of it left.
        md.push_str(
            "\nNo messages were sent: notices go only to those who follow an affected area, \
             and pages only through a configured pager.\n",
        );
    } else {
        md.push_str("\n| channel | messages | delivered |\n|---|---|---|\n");
        for (channel, total, delivered) in channels {
            let _ = writeln!(md, "| {channel} | {total} | {delivered} |");
        }
    }

    md.push_str("\n## Timeline\n\n| time | event | status | detail |\n|---|---|---|---|\n");
    for e in &inc.timeline {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} |",
            utc(e.at),
            e.kind.as_str(),
            e.status.as_str(),
            text(&e.detail)
        );
    }
    md.push_str(
        "\n## Lessons\n\n### What went well\n\n_to be written_\n\n### What went badly\n\n_to be written_\n\n### Where we got lucky\n\n_to be written_\n\n### Action items\n\n| action | owner | due |\n|---|---|---|\n",
    );
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operators_words_stay_text_in_the_report() {
        let mut inc = Incident::open(7, 0);
        inc.title =
            "Outage\n\n## Root cause\n\n**Human error** <img src=x onerror=alert(1)>".into();
        inc.timeline.push(dialtone_engine::TimelineEntry {
            incident: 7,
            at: 60,
            kind: TimelineKind::Updated,
            status: inc.status,
            public_body: "See [docs](javascript:alert(1)) | 50% of_calls".into(),
            detail: "update by otto\r\n| forged | row |".into(),
        });
        let md = render(&inc, &[]);
        assert!(
            md.starts_with(
                "# Postmortem: incident 7: Outage  \\#\\# Root cause  \\*\\*Human error\\*\\* \\<img src=x onerror=alert(1)\\>\n"
            ),
            "{md}"
        );
        assert_eq!(
            md.matches("\n## ").count(),
            render(&Incident::open(7, 0), &[]).matches("\n## ").count()
        );
        assert!(
            md.contains("See \\[docs\\](javascript:alert(1)) \\| 50% of\\_calls"),
            "{md}"
        );
        assert!(
            md.contains("update by otto  \\| forged \\| row \\| |"),
            "{md}"
        );
    }

    #[test]
    fn dates_are_civil_utc() {
        assert_eq!(utc(0), "1970-01-01 00:00 UTC");
        assert_eq!(utc(1_767_780_000), "2026-01-07 10:00 UTC");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00 UTC");
    }

    #[test]
    fn identified_by_hand_is_not_a_named_root_cause() {
        let mut inc = Incident::open(7, 0);
        inc.status = dialtone_model::IncidentStatus::Identified;
        inc.identified_at = Some(36 * 60);
        let md = render(&inc, &[]);
        assert!(md.contains("| root cause named | not reached |"), "{md}");
        assert!(
            md.contains("| identified (by hand, no root cause named) | 36 min |"),
            "{md}"
        );
        assert!(md.contains("## Root cause\n\nNot named."), "{md}");
    }

    #[test]
    fn the_impact_says_when_fixed_lines_were_hit() {
        let mut inc = Incident::open(7, 0);
        inc.impact.cells_affected = 2;
        inc.impact.subscribers_affected = 2000;
        assert!(render(&inc, &[]).contains("- 2 cells, 2000 subscribers at the peak.\n"));
        inc.impact.fixed_lines_affected = true;
        let md = render(&inc, &[]);
        assert!(
            md.contains(
                "at the peak; fixed lines served by a broken gateway hit too (not counted above).\n"
            ),
            "{md}"
        );
        inc.impact.fixed_line_subscribers_affected = 12_000;
        let md = render(&inc, &[]);
        assert!(
            md.contains("at the peak; 12000 fixed lines served by a broken gateway hit too"),
            "{md}"
        );
        inc.impact.fixed_lines_affected = false;
        inc.impact.conference_participants_affected = 500;
        let md = render(&inc, &[]);
        assert!(
            md.contains("at the peak; conference calls on a broken bridge hosting 500 participants (not counted above).\n"),
            "{md}"
        );
    }

    /// Conference participants count as the people hit where no cell was:
    /// the bound on subscriber-minutes is not 0 beside 500 of them.
    #[test]
    fn subscriber_minutes_count_the_people_severity_counts() {
        let mut inc = Incident::open(7, 0);
        inc.impact.conference_participants_affected = 500;
        inc.monitoring_at = Some(600);
        let md = render(&inc, &[]);
        assert!(
            md.contains("- Subscriber-minutes lost: at most 5000 (500 people hit at the peak"),
            "{md}"
        );
        inc.impact.subscribers_affected = 2_000;
        inc.impact.fixed_line_subscribers_affected = 300;
        let md = render(&inc, &[]);
        assert!(md.contains("at most 23000 (2300 people"), "{md}");
    }

    #[test]
    fn a_report_with_nothing_sent_says_why() {
        let md = render(&Incident::open(7, 0), &[]);
        assert!(
            md.contains(
                "No messages were sent: notices go only to those who follow an affected area"
            ),
            "{md}"
        );
    }
}
