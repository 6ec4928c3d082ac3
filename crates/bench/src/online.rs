//! Feeding one recorded series to the detector strictly online, as the server
//! would have seen it live.

use dialtone_detect::{DetectorBank, DetectorConfig};
use dialtone_model::{Direction, Timestamp};

/// One series' detector, plus the rule for samples a live feed would not deliver.
///
/// A sample is fed only if its value is finite and its timestamp is later than
/// the last fed one; anything else (a missing value, a repeated or backward
/// timestamp, as NAB's DST artefacts have) scores 0 and leaves the state alone.
/// The server keys samples by (series, time), so it never sees such rows
/// either, and a detector may rely on time moving forward.
#[derive(Debug)]
pub struct OnlineSeries {
    bank: DetectorBank,
    series: u32,
    last_fed: Option<Timestamp>,
}

impl Default for OnlineSeries {
    fn default() -> Self {
        OnlineSeries::new(DetectorConfig::default())
    }
}

impl OnlineSeries {
    /// A series scored with `config` (the benchmarks use the default one).
    pub fn new(config: DetectorConfig) -> Self {
        let mut bank = DetectorBank::new(config);
        // Benchmarks label both spikes and dips, so the series alarms both ways.
        let series = bank.add_series(Direction::Both);
        OnlineSeries {
            bank,
            series,
            last_fed: None,
        }
    }

    /// The anomaly score of this sample, in [0, 1].
    pub fn score(&mut self, timestamp: Timestamp, value: Option<f64>) -> f64 {
        self.feed(timestamp, value).score()
    }

    /// Feeds this sample if a live feed would have delivered it, and says
    /// what became of it.
    pub fn feed(&mut self, timestamp: Timestamp, value: Option<f64>) -> Fed {
        let Some(v) = value.filter(|v| v.is_finite()) else {
            return Fed::NoValue;
        };
        if self.last_fed.is_some_and(|last| timestamp <= last) {
            return Fed::NotAfterLast;
        }
        self.last_fed = Some(timestamp);
        Fed::Scored {
            score: self.bank.update(self.series, timestamp, v),
            value: v,
        }
    }
}

/// What [`OnlineSeries::feed`] did with a sample.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Fed {
    /// The detector scored it: its score, in [0, 1], and the value it scored.
    Scored { score: f64, value: f64 },
    /// It had no usable value (empty or not a number): passed through.
    NoValue,
    /// Its timestamp was not after the last fed sample's: passed through.
    NotAfterLast,
}

impl Fed {
    /// The sample's score: 0 for one passed through.
    pub fn score(self) -> f64 {
        match self {
            Fed::Scored { score, .. } => score,
            Fed::NoValue | Fed::NotAfterLast => 0.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn unusable_samples_score_zero_without_touching_state() {
        let mut a = OnlineSeries::default();
        let mut b = OnlineSeries::default();
        for t in 0..100 {
            let v = Some((t % 7) as f64);
            a.score(t * 60, v);
            b.score(t * 60, v);
            // Only `b` sees the junk.
            assert_eq!(b.feed(t * 60, Some(1e12)), Fed::NotAfterLast, "repeated");
            assert_eq!(
                b.feed(t * 60 - 30, Some(1e12)),
                Fed::NotAfterLast,
                "backward"
            );
            assert_eq!(b.feed(t * 60 + 1, None), Fed::NoValue);
            // Not a number is no value either, and does not take the
            // timestamp of the next usable sample.
            assert_eq!(b.feed(t * 60 + 2, Some(f64::NAN)), Fed::NoValue);
            assert_eq!(b.feed(t * 60 + 2, Some(f64::INFINITY)), Fed::NoValue);
        }
        assert_eq!(Fed::NoValue.score() + Fed::NotAfterLast.score(), 0.0);
        assert_eq!(a.score(100 * 60, Some(50.0)), b.score(100 * 60, Some(50.0)));
    }

    proptest! {
        #[test]
        fn scores_stay_in_unit_interval(
            samples in proptest::collection::vec(
                (0i64..1000, proptest::option::of(-1e12f64..1e12)), 0..300)
        ) {
            // The scorers rely on this contract of the detector.
            let mut s = OnlineSeries::default();
            let mut t = 0;
            for (step, v) in samples {
                t += step - 100;
                let score = s.score(t, v);
                prop_assert!((0.0..=1.0).contains(&score), "score {score}");
            }
        }
    }
}
