//! Benchmarks of Dialtone's detector: the NAB scorer, the AIOps KPI
//! point-adjusted F1, kernel throughput and the end-to-end ingest rate, with
//! the CSV reading they share; the root-cause latency at scale; and the reader
//! of `wrk`'s report for the status-page load test. `telemetry` is the reader
//! of `dialtone rca`'s telemetry and change files, built on the same CSV reading.
//!
//! Scoring is pure and deterministic; only the runners read files, and they
//! feed the detector strictly online, sample by sample, as the server would.

mod csv_lines;
pub mod ingest;
pub mod kpi;
pub mod nab;
pub mod online;
pub mod rca;
pub mod series;
pub mod telemetry;
pub mod throughput;
pub mod wrk;

/// A threshold above every score in [0, 1]: the "flag nothing" candidate of
/// both sweeps (NAB's own choice of value).
pub const NO_DETECTION_THRESHOLD: f64 = 1.1;
