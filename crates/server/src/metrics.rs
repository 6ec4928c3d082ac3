//! `/metrics`: Dialtone's own health in the OpenMetrics text format, for the
//! Prometheus that watches the watcher. Read from the live pipeline at each
//! scrape when its lock is free; when it is held (a minute, an operator
//! action, or a save to a slow or unreachable store, which holds it as long
//! as the store takes), the scrape answers at once with the snapshot the
//! pipeline left when it last settled ([`LastSnapshot`]): a scrape that
//! waited behind a hung store would time out just when the watcher's own
//! health matters most. Either way it encodes outside the lock.

use std::sync::PoisonError;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use dialtone_model::Severity;
use dialtone_notify::DeliveryReport;
use dialtone_store::Lane;
use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::{EncodeMetric, MetricEncoder, NoLabelSet};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::{Registry, Unit};

use crate::AppState;
use crate::error::ApiError;
use crate::live::{Live, PipelineStats};

/// The OpenMetrics text format's media type; Prometheus asks for it first.
const CONTENT_TYPE_OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// What one scrape reports, read under the pipeline's lock.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    pub stats: PipelineStats,
    /// Network time of the last minute ingested, Unix seconds.
    pub network_time: i64,
    pub series: usize,
    pub series_broken: usize,
    pub probes_firing: usize,
    /// Open incidents per [`Severity::ALL`] entry.
    pub open_incidents: [usize; 4],
    pub unsaved: usize,
    pub unqueued: usize,
}

/// The pipeline's latest [`Snapshot`], which [`Live::settle`] leaves before
/// its saves and again after them, for a scrape that finds the pipeline's
/// lock held. A plain mutex, held only to copy a snapshot in or out.
#[derive(Debug)]
pub struct LastSnapshot(std::sync::Mutex<Snapshot>);

impl LastSnapshot {
    pub fn new(first: Snapshot) -> LastSnapshot {
        LastSnapshot(std::sync::Mutex::new(first))
    }

    pub fn set(&self, snapshot: Snapshot) {
        // Poisoned only by a panic inside `set` or `get`, which cannot leave
        // half a snapshot: assigning or cloning one does not panic midway.
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = snapshot;
    }

    pub fn get(&self) -> Snapshot {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// What the delivery task ([`crate::live::deliver_paced`]) did since start,
/// per outbox lane. It runs outside the pipeline's lock, so a scrape reads
/// these as they stand, never from a snapshot.
#[derive(Debug, Default)]
pub struct Deliveries([LaneTally; Lane::ALL.len()]);

#[derive(Debug, Default)]
struct LaneTally {
    delivered: AtomicU64,
    retried: AtomicU64,
    given_up: AtomicU64,
}

impl Deliveries {
    /// Counts one pass over `lane`.
    pub fn add(&self, lane: Lane, pass: DeliveryReport) {
        let tally = &self.0[lane.number()];
        for (counter, n) in [
            (&tally.delivered, pass.delivered),
            (&tally.retried, pass.retrying),
            (&tally.given_up, pass.gave_up),
        ] {
            counter.fetch_add(u64::from(n), Ordering::Relaxed);
        }
    }

    fn per_lane(&self, field: fn(&LaneTally) -> &AtomicU64) -> PerLane {
        PerLane(self.0.each_ref().map(|t| field(t).load(Ordering::Relaxed)))
    }
}

impl Snapshot {
    pub fn of(live: &Live) -> Snapshot {
        let engine = live.run().engine();
        let mut open_incidents = [0; 4];
        for inc in engine.incidents().iter().filter(|i| i.status.is_open()) {
            if let Some(k) = Severity::ALL.iter().position(|&s| s == inc.severity) {
                open_incidents[k] += 1;
            }
        }
        Snapshot {
            stats: live.stats(),
            network_time: live.now(),
            series: engine.series().len(),
            series_broken: engine.broken_series().len(),
            probes_firing: engine.firing_probes(),
            open_incidents,
            unsaved: live.unsaved(),
            unqueued: live.unqueued(),
        }
    }

    /// The OpenMetrics text exposition, `# EOF` included.
    pub fn encode(&self, deliveries: &Deliveries) -> Result<String, std::fmt::Error> {
        let mut r = Registry::with_prefix("dialtone");
        r.register(
            "build",
            "The running binary",
            Info::new(vec![("version", env!("CARGO_PKG_VERSION"))]),
        );
        let s = &self.stats;
        r.register(
            "ingest_minutes",
            "Minutes of KPI samples fed to the detectors since start",
            ConstCounter::new(s.minutes),
        );
        r.register(
            "ingest_samples",
            "KPI samples fed to the detectors since start",
            ConstCounter::new(s.samples),
        );
        r.register_with_unit(
            "ingest",
            "Time spent in the engine's ingest (detectors, root cause, incidents); ingest_samples over this is the live ingest rate",
            Unit::Seconds,
            ConstCounter::new(s.ingest_secs),
        );
        r.register_with_unit(
            "network_time",
            "Network time of the last minute ingested (Unix); the digital twin's runs ahead of the wall clock",
            Unit::Seconds,
            ConstGauge::new(self.network_time),
        );
        r.register(
            "series",
            "KPI series watched",
            ConstGauge::new(self.series as i64),
        );
        r.register(
            "series_broken",
            "KPI series broken now",
            ConstGauge::new(self.series_broken as i64),
        );
        r.register(
            "probes_firing",
            "Probe alerts from Alertmanager firing now",
            ConstGauge::new(self.probes_firing as i64),
        );
        r.register(
            "alerts_accepted",
            "Probe alerts taken from Alertmanager since start",
            ConstCounter::new(s.alerts_accepted),
        );
        r.register(
            "alerts_ignored",
            "Alerts from Alertmanager refused since start (no known element, a bad service label, or too many firing)",
            ConstCounter::new(s.alerts_ignored),
        );
        r.register(
            "incidents_open",
            "Open incidents by severity",
            OpenIncidents(self.open_incidents),
        );
        r.register(
            "incidents_unsaved",
            "Incidents changed but not yet saved (the store refused; retried each minute)",
            ConstGauge::new(self.unsaved as i64),
        );
        r.register(
            "notices_unqueued",
            "Notices and pages due but not yet in the outbox (the store refused; retried each minute)",
            ConstGauge::new(self.unqueued as i64),
        );
        r.register(
            "store_save_failures",
            "Incident saves the store refused since start",
            ConstCounter::new(s.save_failures),
        );
        r.register(
            "outbox_delivered",
            "Outbox messages delivered since start, by lane (pages; mitigations; public: subscribers and reporters)",
            deliveries.per_lane(|t| &t.delivered),
        );
        r.register(
            "outbox_retries",
            "Outbox deliveries that failed and will be tried again, since start, by lane",
            deliveries.per_lane(|t| &t.retried),
        );
        r.register(
            "outbox_given_up",
            "Outbox messages given up on since start (refused, or out of attempts), by lane: a page here reached nobody, a mitigation did not run; GET /api/v1/outbox says which and why",
            deliveries.per_lane(|t| &t.given_up),
        );
        let mut text = String::new();
        encode(&mut text, &r)?;
        Ok(text)
    }
}

/// Open incidents per severity, in [`Severity::ALL`] order, each always
/// present (a series that appears only once it is non-zero cannot be alerted
/// on going from zero): a `Family` would list them in its hash map's order,
/// different from one process to the next.
#[derive(Debug)]
struct OpenIncidents([usize; 4]);

impl EncodeMetric for OpenIncidents {
    fn encode(&self, mut encoder: MetricEncoder) -> Result<(), std::fmt::Error> {
        for (severity, &n) in Severity::ALL.iter().zip(&self.0) {
            (encoder.encode_family(&[("severity", severity.as_str())])?)
                .encode_gauge(&(n as i64))?;
        }
        Ok(())
    }

    fn metric_type(&self) -> MetricType {
        MetricType::Gauge
    }
}

/// A counter per outbox lane, in [`Lane::ALL`] order.
#[derive(Debug)]
struct PerLane([u64; Lane::ALL.len()]);

impl EncodeMetric for PerLane {
    fn encode(&self, mut encoder: MetricEncoder) -> Result<(), std::fmt::Error> {
        for (lane, n) in Lane::ALL.iter().zip(&self.0) {
            (encoder.encode_family(&[("lane", lane.as_str())])?)
                .encode_counter::<NoLabelSet, _, u64>(n, None)?;
        }
        Ok(())
    }

    fn metric_type(&self) -> MetricType {
        MetricType::Counter
    }
}

/// `GET /metrics`.
pub async fn metrics(State(state): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    let snapshot = match state.live.try_lock() {
        Ok(live) => {
            // Left for the next busy scrape while the lock is still held, so
            // that snapshots are left in the pipeline's order: a counter a
            // handler raised since the last settle (alerts taken) must not
            // read lower at the next scrape.
            let snapshot = Snapshot::of(&live);
            state.last_snapshot.set(snapshot.clone());
            snapshot
        }
        Err(_busy) => state.last_snapshot.get(),
    };
    let text = snapshot
        .encode(&state.deliveries)
        .map_err(|_| ApiError::Internal("could not encode the metrics".into()))?;
    Ok(([(CONTENT_TYPE, CONTENT_TYPE_OPENMETRICS)], text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition_matches_the_golden_file() {
        let snapshot = Snapshot {
            stats: PipelineStats {
                minutes: 1440,
                samples: 8_795_520,
                ingest_secs: 0.875,
                save_failures: 2,
                alerts_accepted: 12,
                alerts_ignored: 1,
            },
            network_time: 1_767_571_200,
            series: 6108,
            series_broken: 17,
            probes_firing: 2,
            open_incidents: [0, 1, 0, 1],
            unsaved: 1,
            unqueued: 3,
        };
        let deliveries = Deliveries::default();
        let pass = |delivered, retrying, gave_up| DeliveryReport {
            delivered,
            retrying,
            gave_up,
        };
        deliveries.add(Lane::Pages, pass(3, 2, 1));
        deliveries.add(Lane::Pages, pass(1, 0, 0));
        deliveries.add(Lane::Mitigations, pass(1, 1, 0));
        deliveries.add(Lane::Public, pass(40, 5, 0));
        let text = snapshot.encode(&deliveries).unwrap();
        // The version changes with every release; the rest is the format.
        let text = text.replace(env!("CARGO_PKG_VERSION"), "VERSION");
        insta::assert_snapshot!(text);
    }
}
