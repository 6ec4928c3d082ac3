//! Streaming anomaly detection: one small state per series, one score per sample.
//!
//! Pure: no I/O, no clock. A score depends only on the samples up to it, so a
//! drill replays bit for bit and `dialtone detect` scores a file exactly as the
//! server would have scored it live.

use dialtone_model::{Direction, Timestamp};

/// Settings shared by every series of a bank. One configuration for all data.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DetectorConfig {
    /// Weight of the newest sample in the running level.
    pub level_alpha: f64,
    /// Weight of the newest absolute residual in the running spread.
    pub spread_alpha: f64,
    /// Samples a series must have seen before it may alarm.
    pub warmup_samples: u32,
    /// Scores at or above this are anomalous.
    pub alarm_threshold: f64,
}

impl Default for DetectorConfig {
    fn default() -> Self {
        DetectorConfig {
            level_alpha: 0.1,
            spread_alpha: 0.02,
            warmup_samples: 30,
            alarm_threshold: 0.9,
        }
    }
}

/// Per-series detector state.
#[derive(Debug, Clone, Copy, Default)]
struct SeriesState {
    level: f64,
    spread: f64,
    seen: u32,
    direction_code: u8,
}

/// The detectors of many series, addressed by dense series index.
#[derive(Debug, Clone)]
pub struct DetectorBank {
    config: DetectorConfig,
    states: Vec<SeriesState>,
}

const fn direction_code(d: Direction) -> u8 {
    match d {
        Direction::Down => 0,
        Direction::Up => 1,
        Direction::Both => 2,
    }
}

impl DetectorBank {
    pub fn new(config: DetectorConfig) -> DetectorBank {
        DetectorBank {
            config,
            states: Vec::new(),
        }
    }

    pub fn config(&self) -> &DetectorConfig {
        &self.config
    }

    /// Adds a series that is anomalous when it moves in `direction`; returns its index.
    pub fn add_series(&mut self, direction: Direction) -> u32 {
        self.states.push(SeriesState {
            direction_code: direction_code(direction),
            ..SeriesState::default()
        });
        (self.states.len() - 1) as u32
    }

    pub fn len(&self) -> usize {
        self.states.len()
    }

    pub fn is_empty(&self) -> bool {
        self.states.is_empty()
    }

    /// Scores `value` of series `series` at `timestamp`, in [0, 1]; non-finite
    /// values score 0 and leave the state alone.
    pub fn update(&mut self, series: u32, _timestamp: Timestamp, value: f64) -> f64 {
        let cfg = self.config;
        let s = &mut self.states[series as usize];
        if !value.is_finite() {
            return 0.0;
        }
        if s.seen == 0 {
            s.level = value;
            s.spread = value.abs() * 0.01 + 1e-9;
            s.seen = 1;
            return 0.0;
        }
        let residual = value - s.level;
        let floor = s.level.abs() * 1e-3 + 1e-9;
        let z = residual / (1.4826 * s.spread).max(floor);
        let signed = match s.direction_code {
            0 => -z,
            1 => z,
            _ => z.abs(),
        };
        let score = if s.seen < cfg.warmup_samples {
            0.0
        } else {
            // Map a z of 3 to 0.5 and 6 to about 0.9.
            let x = (signed - 3.0).max(0.0);
            1.0 - (-x * 0.77).exp()
        };
        let anomalous = score >= cfg.alarm_threshold;
        // Outliers move the baseline slowly so one fault does not become the new normal at once.
        let alpha = if anomalous { cfg.level_alpha * 0.05 } else { cfg.level_alpha };
        s.level += alpha * residual;
        let capped = residual.abs().min(6.0 * 1.4826 * s.spread.max(floor));
        s.spread += cfg.spread_alpha * (capped - s.spread);
        s.seen = s.seen.saturating_add(1);
        score
    }
}
