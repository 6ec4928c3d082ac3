//! Dialtone's shared vocabulary. Every other crate speaks in these types.
//!
//! Nothing here does I/O or reads the clock: timestamps are plain Unix seconds
//! handed in by whoever drives the pipeline (the digital twin, a drill, the server).

pub mod incident;
pub mod kpi;
pub mod topology;

pub use incident::{Candidate, ComponentStatus, Impact, IncidentStatus, RegionImpact, Severity};
pub use kpi::{ALL_SERVICES, Direction, Kpi, Sample, SeriesId, SeriesKey, Service, ServiceMask};
pub use topology::{
    DependencyGroup, DependencySpec, Element, ElementId, ElementKind, Redundancy, Topology,
    TopologyError, VENDOR_CAUSE_PREFIX,
};

/// `n` and the noun that agrees with it, for the words people read:
/// "1 cell", "0 cells".
pub fn count(n: impl Into<u64>, one: &str, many: &str) -> String {
    let n = n.into();
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Simulated or real time: seconds since the Unix epoch, UTC.
pub type Timestamp = i64;
