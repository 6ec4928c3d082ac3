//! Pre-rendered pages and JSON, swapped atomically on every state change.

use std::sync::{Arc, RwLock};

use axum::body::Bytes;
use dialtone_statuspage::{
    PageState, components, incident_json, maintenance_json, render_atom, render_rss,
    render_status_html, status_of, summary,
};
use serde_json::json;

/// Everything the public and the console are served, rendered once.
#[derive(Debug, Clone, Default)]
pub struct Rendered {
    /// One tag for the whole set: any state change changes every document.
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
    /// The console with [`crate::console::CSRF_SLOT`] and
    /// [`crate::console::USER_SLOT`] left for each request to fill.
    pub console_html: Bytes,
}

/// Statuspage lists at most this many incidents in `incidents.json`.
const INCIDENTS_LISTED: usize = 50;

impl Rendered {
    /// Renders every public document of `state`, plus the given console page.
    pub fn render(state: &PageState<'_>, console_html: String, version: u64) -> Rendered {
        let page = summary(state).page;
        let incidents: Vec<_> = state
            .incidents
            .iter()
            .rev()
            .take(INCIDENTS_LISTED)
            .map(|i| incident_json(state, i))
            .collect();
        let unresolved: Vec<_> = incidents
            .iter()
            .filter(|i| i.resolved_at.is_none())
            .cloned()
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
        Rendered {
            etag: format!("\"{version:x}\""),
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
            console_html: Bytes::from(console_html),
        }
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
