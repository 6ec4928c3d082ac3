//! Pre-rendered pages and JSON, swapped atomically on every state change.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, RwLock};

use axum::body::Bytes;
use dialtone_statuspage::{
    PageState, components, incident_json, maintenance_json, render_atom, render_incident_html,
    render_rss, render_status_html, status_of, summary,
};
use serde_json::json;

/// Everything the public and the console are served, rendered once.
#[derive(Debug, Clone, Default)]
pub struct Rendered {
    /// One tag for the whole set, a hash of the public documents: the same
    /// content has the same tag in every process and replica, so a cache's
    /// copy from before a restart, or from another replica, is never taken
    /// for a different page (a per-process counter restarted at 0 would
    /// answer "not modified" to a tag it had issued before for other content).
    pub etag: String,
    pub status_html: Bytes,
    pub summary_json: Bytes,
    pub status_json: Bytes,
    pub components_json: Bytes,
    pub incidents_json: Bytes,
    pub unresolved_json: Bytes,
    pub maintenances_json: Bytes,
    pub upcoming_maintenances_json: Bytes,
    pub active_maintenances_json: Bytes,
    pub history_atom: Bytes,
    pub history_rss: Bytes,
    /// `/incidents/{id}`, for the incidents `incidents.json` lists and
    /// every open one (`unresolved.json` links them all).
    pub incident_pages: HashMap<u64, Bytes>,
    /// The console with [`crate::console::CSRF_SLOT`] and
    /// [`crate::console::USER_SLOT`] left for each request to fill.
    pub console_html: Bytes,
}

/// Statuspage lists at most this many incidents in `incidents.json`.
const INCIDENTS_LISTED: usize = 50;

impl Rendered {
    /// Renders every public document of `state`, plus the given console page.
    pub fn render(state: &PageState<'_>, console_html: String) -> Rendered {
        let page = summary(state).page;
        let incidents: Vec<_> = state
            .incidents
            .iter()
            .rev()
            .take(INCIDENTS_LISTED)
            .map(|i| incident_json(state, i))
            .collect();
        // Every open incident, however many newer ones there are (as
        // `summary.json` lists them), newest first.
        let unresolved: Vec<_> = state
            .incidents
            .iter()
            .rev()
            .filter(|i| i.status.is_open())
            .map(|i| incident_json(state, i))
            .collect();
        let to_bytes = |v: serde_json::Value| Bytes::from(v.to_string());
        let maintenances = |keep: fn(&str) -> bool| {
            let listed: Vec<_> = state
                .maintenances
                .iter()
                .filter(|m| keep(m.status(state.now)))
                .map(|m| maintenance_json(state, m))
                .collect();
            to_bytes(json!({ "page": page, "scheduled_maintenances": listed }))
        };
        let mut rendered = Rendered {
            etag: String::new(),
            status_html: Bytes::from(render_status_html(state)),
            summary_json: Bytes::from(serde_json::to_string(&summary(state)).unwrap_or_default()),
            status_json: to_bytes(json!({ "page": page, "status": status_of(state) })),
            components_json: to_bytes(json!({ "page": page, "components": components(state) })),
            incidents_json: to_bytes(json!({ "page": page, "incidents": incidents })),
            unresolved_json: to_bytes(json!({ "page": page, "incidents": unresolved })),
            maintenances_json: maintenances(|_| true),
            upcoming_maintenances_json: maintenances(|s| s == "scheduled"),
            active_maintenances_json: maintenances(|s| s == "in_progress"),
            history_atom: Bytes::from(render_atom(state)),
            history_rss: Bytes::from(render_rss(state)),
            incident_pages: state
                .incidents
                .iter()
                .rev()
                .enumerate()
                .filter(|(n, i)| *n < INCIDENTS_LISTED || i.status.is_open())
                .map(|(_, i)| (i.id, Bytes::from(render_incident_html(state, i))))
                .collect(),
            console_html: Bytes::from(console_html),
        };
        rendered.etag = rendered.public_etag();
        rendered
    }

    /// A strong tag over every document served with it (not the console,
    /// which is never cached). `DefaultHasher::new` has fixed keys: the same
    /// bytes hash alike in every process of one build.
    fn public_etag(&self) -> String {
        let mut h = DefaultHasher::new();
        for body in [
            &self.status_html,
            &self.summary_json,
            &self.status_json,
            &self.components_json,
            &self.incidents_json,
            &self.unresolved_json,
            &self.maintenances_json,
            &self.upcoming_maintenances_json,
            &self.active_maintenances_json,
            &self.history_atom,
            &self.history_rss,
        ] {
            // `Hash` for a slice includes its length: no two sets collide by
            // moving bytes from one document to the next.
            body[..].hash(&mut h);
        }
        let mut pages: Vec<_> = self.incident_pages.iter().collect();
        pages.sort_unstable_by_key(|(id, _)| **id);
        for (id, body) in pages {
            id.hash(&mut h);
            body[..].hash(&mut h);
        }
        format!("\"{:016x}\"", h.finish())
    }
}

/// The current [`Rendered`] set; readers never wait on a renderer for long.
#[derive(Debug, Default)]
pub struct Published {
    current: RwLock<Arc<Rendered>>,
}

impl Published {
    pub fn new(initial: Rendered) -> Published {
        Published {
            current: RwLock::new(Arc::new(initial)),
        }
    }

    pub fn current(&self) -> Arc<Rendered> {
        // A poisoned lock still holds the last good page: serve it.
        match self.current.read() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    pub fn publish(&self, next: Rendered) {
        let next = Arc::new(next);
        match self.current.write() {
            Ok(mut g) => *g = next,
            Err(p) => *p.into_inner() = next,
        }
    }
}

#[cfg(test)]
mod tests {
    use dialtone_engine::Incident;
    use dialtone_model::IncidentStatus;
    use dialtone_statuspage::PageInfo;

    use super::*;

    #[test]
    fn an_open_incident_older_than_the_listed_ones_is_still_unresolved() {
        let incidents: Vec<Incident> = (1..=INCIDENTS_LISTED as u64 + 10)
            .map(|id| {
                let mut inc = Incident::open(id, 60 * id as i64);
                inc.title = format!("incident {id}");
                if id > 1 {
                    inc.status = IncidentStatus::Resolved;
                    inc.resolved_at = Some(60 * id as i64 + 30);
                }
                inc
            })
            .collect();
        let page = PageInfo::default();
        let state = PageState {
            page: &page,
            regions: &[],
            incidents: &incidents,
            maintenances: &[],
            now: 10_000,
            hosted: dialtone_statuspage::Hosted::default(),
        };
        let rendered = Rendered::render(&state, String::new());
        let unresolved: serde_json::Value =
            serde_json::from_slice(&rendered.unresolved_json).expect("JSON");
        let ids: Vec<&str> = unresolved["incidents"]
            .as_array()
            .expect("a list")
            .iter()
            .map(|i| i["id"].as_str().expect("an id"))
            .collect();
        assert_eq!(ids, ["1"]);
        assert!(
            rendered.incident_pages.contains_key(&1),
            "its link leads somewhere"
        );
        assert_eq!(rendered.incident_pages.len(), INCIDENTS_LISTED + 1);
    }
}
