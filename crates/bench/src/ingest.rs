//! End-to-end ingest rate: the digital twin's per-minute samples through
//! [`dialtone_engine::Engine::ingest`], the path the server and the drill share (detector
//! bank, broken-series bookkeeping, observations, root-cause ranking and the
//! incident lifecycle), one thread.
//!
//! The twin generates each minute before the clock starts, so only `ingest`
//! is timed. Runs start after the engine's start-up grace, when the
//! incident logic is live.

use std::time::Instant;

use dialtone_drill::{DrillError, Run};
use dialtone_engine::EngineConfig;
use dialtone_sim::TwinConfig;

/// A twin of `cells` cells wired to a fresh engine with the default
/// configuration: the drill's [`Run`], timed.
#[derive(Debug)]
pub struct IngestRun {
    run: Run,
}

impl IngestRun {
    pub fn new(cells: usize, seed: u64) -> Result<IngestRun, DrillError> {
        let twin = TwinConfig {
            seed,
            cells,
            ..TwinConfig::default()
        };
        Ok(IngestRun {
            run: Run::new(twin, EngineConfig::default(), 1)?,
        })
    }

    /// Series the twin reports every minute.
    pub fn series(&self) -> usize {
        self.run.twin().series().len()
    }

    /// Feeds `minutes` minutes; returns the samples fed and the seconds spent in `ingest`.
    pub fn run(&mut self, minutes: usize) -> (u64, f64) {
        let mut timeline = Vec::new();
        let (mut samples, mut secs) = (0, 0.0);
        for _ in 0..minutes {
            let at = self.run.generate();
            let start = Instant::now();
            self.run.ingest(at, &mut timeline);
            secs += start.elapsed().as_secs_f64();
            samples += self.run.samples().len() as u64;
            timeline.clear();
        }
        (samples, secs)
    }
}

/// Untimed minutes after which the detectors are in their steady state
/// ([`dialtone_detect::STEADY_STATE_SECS`], a week and an hour); a shorter
/// warm-up flatters the rate.
pub const STEADY_STATE_MINUTES: usize = (dialtone_detect::STEADY_STATE_SECS / 60) as usize;
/// Untimed minutes after which the seasonal CUSUM is live
/// ([`dialtone_detect::CUSUM_LIVE_SECS`], a day and an hour): for `bench rca`,
/// where a week of a million series would take most of an hour. It leaves out
/// only the weekly profile's two bin updates per sample.
pub const CUSUM_LIVE_MINUTES: usize = (dialtone_detect::CUSUM_LIVE_SECS / 60) as usize;

/// Minutes to run untimed first: past the engine's start-up grace, so the
/// incident logic runs in the timed minutes too.
pub fn warm_up_minutes(config: &EngineConfig) -> usize {
    (config.startup_grace_secs / 60) as usize + 5
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_twin_ingests() {
        let mut run = IngestRun::new(300, 1).expect("twin");
        let (samples, secs) = run.run(3);
        assert_eq!(samples, 3 * run.series() as u64);
        assert!(secs > 0.0);
    }
}
