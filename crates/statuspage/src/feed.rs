//! `/history.atom` and `/history.rss`: the latest [`FEED_INCIDENTS`] incidents
//! with their public updates, newest first, as feed readers and chat
//! integrations poll them.
//!
//! Written by hand with one escaping function rather than an XML crate: the
//! documents are small and flat, and every piece of text goes through
//! [`xml_escape`], which also drops characters XML 1.0 forbids, so an
//! operator's update can never make the feed ill-formed.

use std::fmt::Write;

use dialtone_engine::Incident;
use dialtone_model::Timestamp;

use crate::{PageState, iso8601};

/// Incidents listed in a feed.
const FEED_INCIDENTS: usize = 50;

/// Escapes text for XML content and attribute values.
pub(crate) fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

/// `Wed, 07 Jan 2026 10:00:00 +0000`, the RFC 822 date RSS wants.
fn rfc822(t: Timestamp) -> String {
    use time::macros::format_description;
    let fmt = format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] +0000"
    );
    time::OffsetDateTime::from_unix_timestamp(t)
        .ok()
        .and_then(|d| d.format(&fmt).ok())
        .unwrap_or_else(|| "Thu, 01 Jan 1970 00:00:00 +0000".into())
}

fn listed<'a>(state: &'a PageState<'_>) -> impl Iterator<Item = &'a Incident> {
    state.incidents.iter().rev().take(FEED_INCIDENTS)
}

/// The incident's public updates, newest first, as an HTML fragment (unescaped).
fn updates_html(inc: &Incident) -> String {
    let mut h = String::new();
    for e in inc.timeline.iter().rev().filter(|e| e.kind.is_public()) {
        let status = e.status.as_str();
        let _ = write!(
            h,
            "<p><small>{}</small><br><strong>{}{}</strong> - {}</p>",
            iso8601(e.at),
            status.get(..1).unwrap_or("").to_uppercase(),
            status.get(1..).unwrap_or(""),
            crate::html::escape(&e.public_body)
        );
    }
    h
}

fn incident_uri(state: &PageState<'_>, inc: &Incident) -> String {
    format!("{}/incidents/{}", state.page.url, inc.id)
}

/// The Atom 1.0 incident history.
pub fn render_atom(state: &PageState<'_>) -> String {
    let page = state.page;
    let url = xml_escape(&page.url);
    let updated = state
        .incidents
        .iter()
        .map(Incident::public_updated_at)
        .max()
        .unwrap_or(page.created_at);
    let mut x = String::with_capacity(8 * 1024);
    let _ = write!(
        x,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"en\">\n\
<id>{url}/history</id>\n<link rel=\"alternate\" type=\"text/html\" href=\"{url}/\"/>\n\
<link rel=\"self\" type=\"application/atom+xml\" href=\"{url}/history.atom\"/>\n\
<title>{} status - incident history</title>\n<updated>{}</updated>\n<author><name>{}</name></author>\n",
        xml_escape(&page.name),
        iso8601(updated),
        xml_escape(&page.name)
    );
    for inc in listed(state) {
        let uri = xml_escape(&incident_uri(state, inc));
        let _ = write!(
            x,
            "<entry>\n<id>{uri}</id>\n<published>{}</published>\n<updated>{}</updated>\n\
<link rel=\"alternate\" type=\"text/html\" href=\"{uri}\"/>\n<title>{}</title>\n\
<content type=\"html\">{}</content>\n</entry>\n",
            iso8601(inc.opened_at),
            iso8601(inc.public_updated_at()),
            xml_escape(&inc.title),
            xml_escape(&updates_html(inc))
        );
    }
    x.push_str("</feed>\n");
    x
}

/// The RSS 2.0 incident history.
pub fn render_rss(state: &PageState<'_>) -> String {
    let page = state.page;
    let url = xml_escape(&page.url);
    let mut x = String::with_capacity(8 * 1024);
    let _ = write!(
        x,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\" xmlns:atom=\"http://www.w3.org/2005/Atom\">\n<channel>\n\
<title>{} status - incident history</title>\n<link>{url}/</link>\n\
<description>Incidents and their updates, newest first</description>\n<language>en</language>\n\
<atom:link href=\"{url}/history.rss\" rel=\"self\" type=\"application/rss+xml\"/>\n",
        xml_escape(&page.name)
    );
    for inc in listed(state) {
        let uri = xml_escape(&incident_uri(state, inc));
        let _ = write!(
            x,
            "<item>\n<title>{}</title>\n<description>{}</description>\n<pubDate>{}</pubDate>\n\
<link>{uri}</link>\n<guid isPermaLink=\"false\">{uri}</guid>\n</item>\n",
            xml_escape(&inc.title),
            xml_escape(&updates_html(inc)),
            rfc822(inc.public_updated_at()),
        );
    }
    x.push_str("</channel>\n</rss>\n");
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_markup_and_drops_forbidden_characters() {
        assert_eq!(
            xml_escape("<a href=\"x\">&'\u{0}\u{1b}ok\n"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&apos;ok\n"
        );
    }

    #[test]
    fn rss_dates_are_rfc822() {
        assert_eq!(rfc822(1_767_780_000), "Wed, 07 Jan 2026 10:00:00 +0000");
    }
}
