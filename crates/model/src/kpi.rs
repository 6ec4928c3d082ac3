//! KPIs, the services they measure, and series identities.

use serde::{Deserialize, Serialize};

use crate::topology::ElementId;

/// A customer-facing service. Status page components are services per region.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Service {
    /// Attaching to the network at all; without it every other service fails.
    Registration,
    /// Calls (VoLTE / IMS).
    Voice,
    /// Mobile data.
    Data,
}

impl Service {
    pub const ALL: [Service; 3] = [Service::Registration, Service::Voice, Service::Data];

    /// The bit of this service in a [`ServiceMask`].
    pub const fn bit(self) -> u8 {
        match self {
            Service::Registration => 1,
            Service::Voice => 2,
            Service::Data => 4,
        }
    }

    /// Name shown to the public on the status page.
    pub const fn public_name(self) -> &'static str {
        match self {
            Service::Registration => "Network access",
            Service::Voice => "Calls",
            Service::Data => "Mobile data",
        }
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            Service::Registration => "registration",
            Service::Voice => "voice",
            Service::Data => "data",
        }
    }

    /// The service named `name` ([`Service::as_str`]).
    pub fn parse(name: &str) -> Option<Service> {
        Service::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// The services in `mask`, in [`Service::ALL`] order.
    pub fn in_mask(mask: ServiceMask) -> impl Iterator<Item = Service> {
        Service::ALL
            .into_iter()
            .filter(move |s| mask & s.bit() != 0)
    }
}

/// A set of services as bits (see [`Service::bit`]).
pub type ServiceMask = u8;
/// Every service: losing registration takes everything down.
pub const ALL_SERVICES: ServiceMask = 7;

/// Which way a KPI moves when things go wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Bad when it falls (success rates, throughput).
    Down,
    /// Bad when it rises (drop rate, latency).
    Up,
    /// Either way is news (traffic volume).
    Both,
}

/// The per-minute key performance indicators Dialtone watches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kpi {
    // Per cell.
    /// Registration / attach success ratio, percent.
    AttachSuccess,
    /// Call setup success ratio, percent.
    CallSetupSuccess,
    /// Dropped calls, percent of calls.
    CallDropRate,
    /// Mean user data throughput, Mbit/s.
    Throughput,
    /// Mean user-plane latency, milliseconds.
    Latency,
    /// Traffic volume, GB per minute.
    Traffic,
    // Per core network function instance.
    /// Share of procedures the instance completes successfully, percent.
    ProcedureSuccess,
    /// Procedures handled per second.
    ProcedureRate,
}

impl Kpi {
    pub const CELL: [Kpi; 6] = [
        Kpi::AttachSuccess,
        Kpi::CallSetupSuccess,
        Kpi::CallDropRate,
        Kpi::Throughput,
        Kpi::Latency,
        Kpi::Traffic,
    ];
    pub const CORE: [Kpi; 2] = [Kpi::ProcedureSuccess, Kpi::ProcedureRate];

    pub const fn as_str(self) -> &'static str {
        match self {
            Kpi::AttachSuccess => "attach_success_pct",
            Kpi::CallSetupSuccess => "call_setup_success_pct",
            Kpi::CallDropRate => "call_drop_pct",
            Kpi::Throughput => "throughput_mbps",
            Kpi::Latency => "latency_ms",
            Kpi::Traffic => "traffic_gb",
            Kpi::ProcedureSuccess => "procedure_success_pct",
            Kpi::ProcedureRate => "procedure_rate",
        }
    }

    pub fn parse(name: &str) -> Option<Kpi> {
        Kpi::CELL
            .into_iter()
            .chain(Kpi::CORE)
            .find(|k| k.as_str() == name)
    }

    pub const fn direction(self) -> Direction {
        match self {
            Kpi::AttachSuccess
            | Kpi::CallSetupSuccess
            | Kpi::Throughput
            | Kpi::ProcedureSuccess => Direction::Down,
            Kpi::CallDropRate | Kpi::Latency => Direction::Up,
            Kpi::Traffic | Kpi::ProcedureRate => Direction::Both,
        }
    }

    /// The services a degradation of this KPI tells about. Volume KPIs tell
    /// about none on their own: a stadium crowd moves them without any fault.
    pub const fn services(self) -> ServiceMask {
        match self {
            Kpi::AttachSuccess => Service::Registration.bit(),
            Kpi::CallSetupSuccess | Kpi::CallDropRate => Service::Voice.bit(),
            Kpi::Throughput | Kpi::Latency => Service::Data.bit(),
            Kpi::ProcedureSuccess => ALL_SERVICES,
            Kpi::Traffic | Kpi::ProcedureRate => 0,
        }
    }
}

/// Dense index of a series in a [`SeriesKey`] registry; cheap to copy and hash.
pub type SeriesId = u32;

/// What a series measures: one KPI of one element.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SeriesKey {
    pub element: ElementId,
    pub kpi: Kpi,
}

impl SeriesKey {
    /// The series' name on the wire: `<element>/<kpi>`, e.g. `cell-n-0001-1/attach_success_pct`.
    pub fn name(&self) -> String {
        format!("{}/{}", self.element, self.kpi.as_str())
    }
}

/// One observation of one series at one minute.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    pub series: SeriesId,
    pub value: f64,
}
