//! Detector-kernel throughput on KPI-like input, one thread.
//!
//! Samples arrive as scrapes do: every series once per interval, interval
//! after interval. Each interval's values are generated before the clock
//! starts, so only `DetectorBank::update_interval` is timed.

use std::hint::black_box;
use std::time::Instant;

use dialtone_detect::{DetectorBank, DetectorConfig, STEADY_STATE_SECS};
use dialtone_model::{Direction, Timestamp};

/// Seconds between scrapes.
pub const INTERVAL_SECS: Timestamp = 60;
/// Scrapes per day: the period of the diurnal cycle.
const INTERVALS_PER_DAY: f64 = 1440.0;
/// Untimed scrapes before measuring, so the steady-state scoring path is what
/// gets timed.
pub const WARM_UP_INTERVALS: usize = (STEADY_STATE_SECS / INTERVAL_SECS) as usize;
/// Series warmed up sample by sample; a larger workload repeats their
/// parameters and the bank their warmed-up states (a multiple of 3, so each
/// copy keeps its alarm direction).
pub const DISTINCT_SERIES: usize = 12_000;
/// Samples timed per repetition, so small N still runs long enough to time.
const SAMPLES_PER_REPETITION: usize = 20_000_000;

/// A population of synthetic KPI series: each a diurnal sine around its own
/// level, plus noise, in one of the three alarm directions.
#[derive(Debug)]
pub struct Workload {
    level: Vec<f64>,
    /// Sine and cosine coefficients of the series' diurnal swing (amplitude and phase).
    sin_coef: Vec<f64>,
    cos_coef: Vec<f64>,
    noise: Vec<f64>,
    rng: SplitMix64,
    scrape: Vec<f64>,
    scores: Vec<f64>,
    interval: usize,
}

impl Workload {
    pub fn new(series: usize, seed: u64) -> Workload {
        let mut rng = SplitMix64(seed);
        let mut w = Workload {
            level: Vec::with_capacity(series),
            sin_coef: Vec::with_capacity(series),
            cos_coef: Vec::with_capacity(series),
            noise: Vec::with_capacity(series),
            rng: SplitMix64(seed ^ 0x5eed),
            scrape: vec![0.0; series],
            scores: vec![0.0; series],
            interval: 0,
        };
        for _ in 0..series.min(DISTINCT_SERIES) {
            // Levels from 1 to 10^6 (ratios, counts, bytes), swings 10-50 %, any phase.
            let level = 10f64.powf(6.0 * rng.unit());
            let swing = level * (0.1 + 0.4 * rng.unit());
            let phase = std::f64::consts::TAU * rng.unit();
            w.level.push(level);
            w.sin_coef.push(swing * phase.cos());
            w.cos_coef.push(swing * phase.sin());
            w.noise.push(level * (0.005 + 0.03 * rng.unit()));
        }
        for v in [&mut w.level, &mut w.sin_coef, &mut w.cos_coef, &mut w.noise] {
            let distinct = v.len();
            for i in distinct..series {
                v.push(v[i % distinct]);
            }
        }
        w
    }

    /// The same population without the diurnal swing: level plus noise.
    pub fn without_daily_swing(mut self) -> Workload {
        self.sin_coef.fill(0.0);
        self.cos_coef.fill(0.0);
        self
    }

    pub fn series(&self) -> usize {
        self.level.len()
    }

    /// A bank with one fresh series per workload series.
    pub fn bank(&self) -> DetectorBank {
        let mut bank = DetectorBank::with_capacity(DetectorConfig::default(), self.series());
        for s in 0..self.series() {
            bank.add_series([Direction::Up, Direction::Down, Direction::Both][s % 3]);
        }
        bank
    }

    /// Fills the next interval's scrape of the first `count` series:
    /// sin(wt + phase) = sin wt cos phase + cos wt sin phase.
    pub fn next_scrape(&mut self, count: usize) -> Timestamp {
        let angle = std::f64::consts::TAU * self.interval as f64 / INTERVALS_PER_DAY;
        let (sin, cos) = angle.sin_cos();
        for s in 0..count {
            self.scrape[s] = self.level[s]
                + self.sin_coef[s] * sin
                + self.cos_coef[s] * cos
                + self.noise[s] * self.rng.normalish();
        }
        self.interval += 1;
        self.interval as Timestamp * INTERVAL_SECS
    }

    /// The values of the last scrape, one per series.
    pub fn scrape(&self) -> &[f64] {
        &self.scrape
    }

    /// Feeds one scrape and returns the seconds spent scoring it.
    fn feed(&mut self, bank: &mut DetectorBank) -> f64 {
        let t = self.next_scrape(self.series());
        let start = Instant::now();
        bank.update_interval(t, &self.scrape, &mut self.scores);
        // Keeps the scores observable so the work cannot be optimized away.
        black_box(&self.scores);
        start.elapsed().as_secs_f64()
    }

    /// Brings `bank` to a steady state, untimed: the first [`DISTINCT_SERIES`]
    /// see [`WARM_UP_INTERVALS`] scrapes, and the rest take copies of their
    /// states, as they repeat their parameters. `on_scrape` hears of each
    /// scrape (for a progress bar: this takes seconds to tens of seconds).
    pub fn warm_up(&mut self, bank: &mut DetectorBank, mut on_scrape: impl FnMut()) {
        let distinct = self.series().min(DISTINCT_SERIES);
        let mut scores = vec![0.0; distinct];
        for _ in 0..WARM_UP_INTERVALS {
            let t = self.next_scrape(distinct);
            bank.update_interval(t, &self.scrape[..distinct], &mut scores);
            on_scrape();
        }
        bank.repeat_first(distinct);
    }

    /// Scrapes per timed repetition: enough for [`SAMPLES_PER_REPETITION`] samples, at least 2.
    pub fn intervals_per_repetition(&self) -> usize {
        (SAMPLES_PER_REPETITION / self.series().max(1)).max(2)
    }

    /// Samples per second over `intervals` timed scrapes.
    pub fn repetition(&mut self, bank: &mut DetectorBank, intervals: usize) -> f64 {
        let secs: f64 = (0..intervals).map(|_| self.feed(bank)).sum();
        (intervals * self.series()) as f64 / secs
    }
}

/// Repeated measurements of one rate: their median and extremes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Repeated {
    pub median: f64,
    pub min: f64,
    pub max: f64,
}

impl Repeated {
    pub fn of(xs: &[f64]) -> Repeated {
        Repeated {
            median: median(xs),
            min: xs.iter().copied().fold(f64::INFINITY, f64::min),
            max: xs.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        }
    }

    /// (max - min) / median, in percent.
    pub fn spread_pct(&self) -> f64 {
        100.0 * (self.max - self.min) / self.median
    }
}

/// The median of `xs` (the mean of the middle two for an even count).
pub fn median(xs: &[f64]) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    match n {
        0 => f64::NAN,
        _ if n % 2 == 1 => v[n / 2],
        _ => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// A tiny, fast, seedable generator: the workload must not depend on a
/// crate's RNG algorithm staying put across versions.
#[derive(Debug, Clone)]
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Roughly standard normal (Irwin-Hall, sum of 4 uniforms): cheap, and
    /// the tails do not matter for timing.
    fn normalish(&mut self) -> f64 {
        let sum: f64 = (0..4).map(|_| self.unit()).sum();
        (sum - 2.0) * 3f64.sqrt()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
    }

    #[test]
    fn workload_is_deterministic_and_plausible() {
        let mut a = Workload::new(100, 7);
        let mut b = Workload::new(100, 7);
        a.next_scrape(100);
        b.next_scrape(100);
        assert_eq!(a.scrape, b.scrape);
        assert!(a.scrape.iter().all(|v| v.is_finite() && *v > 0.0));
        let mut bank = a.bank();
        assert_eq!(bank.len(), 100);
        a.warm_up(&mut bank, || {});
        assert!(a.repetition(&mut bank, 2) > 0.0);
    }
}
