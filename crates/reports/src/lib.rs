//! Customer problem reports, the Downdetector idea done by the operator.
//!
//! Reports are counted per area (a region id) and service in buckets of
//! `bucket_secs`. When a bucket closes, its count is compared with what is
//! usual for that area and service at that hour of the week: an EWMA of
//! past counts per hour-of-week slot, floored by a prior so a quiet area
//! does not alarm on its second report. A count whose Poisson tail
//! probability under that expectation is below `surge_p` (and that comes
//! from `min_reports` reporters at least) is a [`Surge`], where a reporter
//! counts at most [`PER_REPORTER`] times a bucket. Pure: time is a parameter, and nothing
//! is kept beyond counts but the reporters' addresses of the open bucket.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

use dialtone_model::{Service, Timestamp};
use serde::{Deserialize, Serialize};

/// Hour-of-week slots of the baseline.
const SLOTS: usize = 7 * 24;

/// Reports one reporter may count per bucket, area and service. A surge
/// also needs `min_reports` reporters (addresses, each report of unknown
/// origin one), so nobody makes a surge alone, nor two or three people
/// from their phones and homes.
pub const PER_REPORTER: u32 = 2;

/// What a customer says is wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Problem {
    NoSignal,
    CannotCall,
    CallsDrop,
    NoData,
    SlowData,
    Other,
}

impl Problem {
    pub const ALL: [Problem; 6] = [
        Problem::NoSignal,
        Problem::CannotCall,
        Problem::CallsDrop,
        Problem::NoData,
        Problem::SlowData,
        Problem::Other,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Problem::NoSignal => "no_signal",
            Problem::CannotCall => "cannot_call",
            Problem::CallsDrop => "calls_drop",
            Problem::NoData => "no_data",
            Problem::SlowData => "slow_data",
            Problem::Other => "other",
        }
    }

    /// What people see on the form.
    pub const fn label(self) -> &'static str {
        match self {
            Problem::NoSignal => "No signal / no service",
            Problem::CannotCall => "Cannot make or receive calls",
            Problem::CallsDrop => "Calls drop",
            Problem::NoData => "No mobile data",
            Problem::SlowData => "Slow mobile data",
            Problem::Other => "Something else",
        }
    }

    pub fn parse(s: &str) -> Option<Problem> {
        Problem::ALL.into_iter().find(|p| p.as_str() == s)
    }

    /// The service the problem is about.
    pub const fn service(self) -> Service {
        match self {
            Problem::NoSignal | Problem::Other => Service::Registration,
            Problem::CannotCall | Problem::CallsDrop => Service::Voice,
            Problem::NoData | Problem::SlowData => Service::Data,
        }
    }
}

/// How reports become a signal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SurgeConfig {
    pub bucket_secs: i64,
    /// Least reporters in one bucket that can be a surge (each report of
    /// unknown origin one).
    pub min_reports: u32,
    /// A bucket is a surge when a count at least this high has probability
    /// below `surge_p` under the baseline.
    pub surge_p: f64,
    /// Expected reports per bucket before any history: a floor on the baseline.
    pub prior_per_bucket: f64,
    /// Weight of the newest week in the hour-of-week EWMA (shared by the
    /// buckets of the hour).
    pub learning_rate: f64,
}

impl Default for SurgeConfig {
    fn default() -> Self {
        SurgeConfig {
            bucket_secs: 300,
            min_reports: 5,
            surge_p: 1e-4,
            prior_per_bucket: 0.5,
            learning_rate: 0.2,
        }
    }
}

/// A significant surge of reports in one area about one service.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Surge {
    pub area: String,
    pub service: Service,
    /// Start of the bucket.
    pub at: Timestamp,
    pub reports: u32,
    pub expected: f64,
    /// Poisson tail probability of at least `reports` under `expected`.
    pub p_value: f64,
}

/// P(X >= k) for X ~ Poisson(lambda). The terms are carried in log space:
/// `e^-lambda` underflows to 0 past a lambda of about 745, and a busy area's
/// usual level in a bucket could never have surged.
pub fn poisson_tail(k: u32, lambda: f64) -> f64 {
    if k == 0 {
        return 1.0;
    }
    if lambda <= 0.0 {
        return 0.0;
    }
    // 1 - P(X <= k-1)
    let ln_lambda = lambda.ln();
    let mut ln_term = -lambda;
    let mut cdf = ln_term.exp();
    for i in 1..k {
        ln_term += ln_lambda - f64::from(i).ln();
        cdf += ln_term.exp();
    }
    (1.0 - cdf).clamp(0.0, 1.0)
}

fn slot(at: Timestamp) -> usize {
    // 1970-01-01 was a Thursday; the slot only needs to be stable.
    (at.div_euclid(3600).rem_euclid(SLOTS as i64)) as usize
}

/// What the open bucket holds for one area and service.
#[derive(Debug, Clone, Copy, Default)]
struct Counted {
    reports: u32,
    reporters: u32,
}

/// Counts and baselines for every area and service seen.
#[derive(Debug, Clone)]
pub struct SurgeDetector {
    config: SurgeConfig,
    /// Start of the open bucket.
    bucket_at: Option<Timestamp>,
    /// Per area and service in the open bucket: reports counted, and
    /// reporters they came from.
    open: HashMap<(String, Service), Counted>,
    /// How often each reporter has counted in the open bucket, per area and
    /// service.
    reporters: HashMap<(String, Service, IpAddr), u32>,
    /// Per area and service: EWMA of counts per bucket, per hour-of-week slot.
    /// In key order, so buckets are judged and surges listed in one order.
    baseline: BTreeMap<(String, Service), Box<[f32; SLOTS]>>,
}

impl SurgeDetector {
    pub fn new(config: SurgeConfig) -> SurgeDetector {
        SurgeDetector {
            config,
            bucket_at: None,
            open: HashMap::new(),
            reporters: HashMap::new(),
            baseline: BTreeMap::new(),
        }
    }

    fn bucket_of(&self, at: Timestamp) -> Timestamp {
        at.div_euclid(self.config.bucket_secs) * self.config.bucket_secs
    }

    /// Counts one report at `at` from `reporter` (the client's address, or
    /// its network's; `None` when unknown, which always counts). A reporter
    /// counts at most [`PER_REPORTER`] times per bucket, area and service:
    /// a surge is many people, not one person sending the form again (an
    /// address shared by several people, behind a carrier's NAT, still
    /// counts more than one). Reports for a bucket already closed count in
    /// the open one, as they are news now. Returns whether it counted.
    pub fn record(
        &mut self,
        at: Timestamp,
        area: &str,
        problem: Problem,
        reporter: Option<IpAddr>,
    ) -> bool {
        if self.bucket_at.is_none() {
            self.bucket_at = Some(self.bucket_of(at));
        }
        let key = (area.to_string(), problem.service());
        let mut new_reporter = true;
        if let Some(ip) = reporter {
            let counted = self
                .reporters
                .entry((key.0.clone(), key.1, ip))
                .or_insert(0);
            if *counted >= PER_REPORTER {
                return false;
            }
            new_reporter = *counted == 0;
            *counted += 1;
        }
        let open = self.open.entry(key).or_default();
        open.reports += 1;
        open.reporters += u32::from(new_reporter);
        true
    }

    /// Learns from reports counted before (`(at, area, problem)`, oldest
    /// first), as if they had been recorded and closed live, for a detector
    /// that has counted nothing yet. Their surges are history, not news, and
    /// the time since the last of them teaches nothing: the next
    /// [`SurgeDetector::close`] starts afresh.
    pub fn learn_from<'a>(
        &mut self,
        reports: impl IntoIterator<Item = (Timestamp, &'a str, Problem)>,
    ) {
        let mut last = None;
        for (at, area, problem) in reports {
            self.close(at);
            self.record(at, area, problem, None);
            last = Some(at);
        }
        if let Some(at) = last {
            self.close(at + self.config.bucket_secs);
        }
        self.bucket_at = None;
    }

    /// Closes every bucket that ended by `now`, learns from each, and
    /// returns their surges. Call once a minute. The buckets a late call
    /// skipped close one by one, the ones after the first empty: their
    /// quiet teaches the baseline too. A gap of more than a week (the
    /// detector was not running, or a report came before the clock was
    /// set) teaches nothing: what was counted is judged as the bucket
    /// before `now`.
    pub fn close(&mut self, now: Timestamp) -> Vec<Surge> {
        let current = self.bucket_of(now);
        let Some(mut at) = self.bucket_at else {
            self.bucket_at = Some(current);
            return Vec::new();
        };
        // A clock stepped back: the open bucket stays open, and no bucket
        // already judged is judged, or learned from, again.
        if current < at {
            return Vec::new();
        }
        let step = self.config.bucket_secs;
        if current - at > SLOTS as i64 * 3600 {
            at = current - step;
        }
        // Every bucket of an hour teaches that hour's slot: the newest week's
        // buckets together weigh `learning_rate`, not each of them.
        let buckets_per_slot = (3600.0 / step.max(1) as f64).max(1.0);
        let per_bucket = 1.0 - (1.0 - self.config.learning_rate).powf(1.0 / buckets_per_slot);
        let mut surges = Vec::new();
        while at < current {
            surges.extend(self.close_bucket(at, per_bucket));
            at += step;
        }
        self.bucket_at = Some(current);
        surges
    }

    /// Judges and learns from the bucket from `at` with what is open, each
    /// bucket weighing `per_bucket` in its slot.
    fn close_bucket(&mut self, at: Timestamp, per_bucket: f64) -> Vec<Surge> {
        let counts = std::mem::take(&mut self.open);
        self.reporters.clear();
        let s = slot(at);
        let cfg = &self.config;
        let mut surges = Vec::new();
        // Keys seen now or before, in order: silence is also something to learn.
        for key in counts.keys() {
            if !self.baseline.contains_key(key) {
                self.baseline.insert(key.clone(), Box::new([0.0; SLOTS]));
            }
        }
        for (key, base) in &mut self.baseline {
            let Counted {
                reports: n,
                reporters,
            } = counts.get(key).copied().unwrap_or_default();
            let expected = f64::from(base[s]).max(cfg.prior_per_bucket);
            let p_value = poisson_tail(n, expected);
            let surge = reporters >= cfg.min_reports && p_value < cfg.surge_p;
            if surge {
                surges.push(Surge {
                    area: key.0.clone(),
                    service: key.1,
                    at,
                    reports: n,
                    expected,
                    p_value,
                });
            }
            // An outage's burst teaches the baseline only a little (clipped), so
            // one bad evening does not hide the next; a level that recurs every
            // week is learned within a few weeks.
            let learned = f64::from(n).min(3.0 * expected + f64::from(cfg.min_reports));
            base[s] = ((1.0 - per_bucket) * f64::from(base[s]) + per_bucket * learned) as f32;
        }
        surges
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_poisson_tail_matches_known_values() {
        assert_eq!(poisson_tail(0, 3.0), 1.0);
        // P(X >= 1 | 1) = 1 - e^-1
        assert!((poisson_tail(1, 1.0) - (1.0 - (-1.0f64).exp())).abs() < 1e-12);
        // P(X >= 10 | 0.5) is about 1.7e-10.
        let p = poisson_tail(10, 0.5);
        assert!(p > 1e-11 && p < 1e-9, "{p}");
        // A busy area: about 800 reports a bucket as usual. A count at the
        // mean is as likely as not; seven deviations above it is a surge.
        let p = poisson_tail(800, 800.0);
        assert!((0.45..0.55).contains(&p), "{p}");
        let p = poisson_tail(1000, 800.0);
        assert!(p < 1e-10, "{p}");
    }

    #[test]
    fn four_weeks_of_history_make_a_busy_areas_usual_level_no_surge() {
        // Eight reports every five minutes in the north, for four weeks
        // before a restart: the ninth-minute count after it is usual.
        let t0 = 1_767_571_200;
        let week = 7 * 86_400;
        let history: Vec<(Timestamp, &str, Problem)> = (0..4 * week / 300)
            .flat_map(|b| (0..8).map(move |i| (t0 + b * 300 + i * 30, "north", Problem::NoData)))
            .collect();
        let now = t0 + 4 * week;
        let busy_bucket = |d: &mut SurgeDetector| {
            d.close(now);
            for i in 0..8 {
                d.record(now + i * 30, "north", Problem::NoData, None);
            }
            d.close(now + 300)
        };
        let mut restarted = SurgeDetector::new(SurgeConfig::default());
        restarted.learn_from(history.iter().copied());
        assert!(busy_bucket(&mut restarted).is_empty());
        let mut cold = SurgeDetector::new(SurgeConfig::default());
        assert_eq!(
            busy_bucket(&mut cold).len(),
            1,
            "without history it is a surge"
        );
    }

    #[test]
    fn buckets_a_late_close_skipped_are_learned_as_the_quiet_they_were() {
        let t0 = 1_767_571_200;
        let mut each = SurgeDetector::new(SurgeConfig::default());
        let mut late = SurgeDetector::new(SurgeConfig::default());
        for d in [&mut each, &mut late] {
            d.close(t0);
            for i in 0..4 {
                d.record(t0 + i * 30, "north", Problem::NoData, None);
            }
        }
        for b in 1..=3 {
            each.close(t0 + b * 300);
        }
        late.close(t0 + 3 * 300);
        assert_eq!(late.baseline, each.baseline);
    }

    #[test]
    fn a_clock_stepped_back_neither_judges_nor_learns_a_bucket_twice() {
        let t0 = 1_767_571_200;
        let mut steady = SurgeDetector::new(SurgeConfig::default());
        let mut stepped = SurgeDetector::new(SurgeConfig::default());
        for d in [&mut steady, &mut stepped] {
            d.close(t0);
            for i in 0..25 {
                d.record(t0 + i * 10, "north", Problem::CannotCall, None);
            }
            assert_eq!(d.close(t0 + 600).len(), 1, "the burst is a surge");
        }
        // Ten minutes back, then forward again past where it was.
        assert!(stepped.close(t0).is_empty());
        assert!(stepped.close(t0 + 900).is_empty(), "judged once only");
        steady.close(t0 + 900);
        assert_eq!(stepped.baseline, steady.baseline);
    }

    #[test]
    fn reports_counted_before_a_gap_of_weeks_are_judged_now() {
        // Counted before the clock was set (at 0), closed at the real time:
        // judged as the bucket before now, and no slot learns decades of
        // quiet buckets.
        let mut d = SurgeDetector::new(SurgeConfig::default());
        for i in 0..25 {
            d.record(i, "north", Problem::CannotCall, None);
        }
        let now = 1_767_571_200;
        let surges = d.close(now);
        assert_eq!(surges.len(), 1, "{surges:?}");
        assert_eq!(surges[0].at, now - 300);
    }

    #[test]
    fn a_burst_of_reports_in_one_area_is_a_surge_and_a_trickle_is_not() {
        let mut d = SurgeDetector::new(SurgeConfig::default());
        let t0 = 1_767_571_200;
        d.close(t0);
        for i in 0..3 {
            d.record(t0 + i * 60, "north", Problem::NoData, None);
        }
        assert!(d.close(t0 + 300).is_empty(), "three reports are a trickle");
        for i in 0..25 {
            d.record(t0 + 300 + i * 10, "north", Problem::CannotCall, None);
        }
        d.record(t0 + 310, "south", Problem::CannotCall, None);
        let surges = d.close(t0 + 600);
        assert_eq!(surges.len(), 1, "{surges:?}");
        assert_eq!(surges[0].area, "north");
        assert_eq!(surges[0].service, Service::Voice);
        assert_eq!(surges[0].reports, 25);
    }

    #[test]
    fn one_person_sending_the_form_again_is_no_surge() {
        let mut d = SurgeDetector::new(SurgeConfig::default());
        let t0: i64 = 1_767_571_200;
        d.close(t0);
        let person = |n: u8| Some(IpAddr::from([198, 51, 100, n]));
        let counted = (0..25)
            .filter(|_| d.record(t0 + 10, "north", Problem::CannotCall, person(1)))
            .count();
        assert_eq!(counted, PER_REPORTER as usize);
        assert!(d.close(t0 + 300).is_empty(), "one person is no surge");
        for n in 0..25 {
            for _ in 0..3 {
                d.record(t0 + 310, "north", Problem::CannotCall, person(n));
            }
        }
        // The same person may report again in the next bucket, or about
        // another service.
        d.record(t0 + 320, "north", Problem::NoData, person(1));
        let surges = d.close(t0 + 600);
        assert_eq!(surges.len(), 1, "{surges:?}");
        assert_eq!(surges[0].reports, 25 * PER_REPORTER);
    }

    #[test]
    fn a_surge_needs_as_many_reporters_as_reports_it_needs() {
        let mut d = SurgeDetector::new(SurgeConfig::default());
        let t0: i64 = 1_767_571_200;
        d.close(t0);
        // Two people, each from a phone and from home, each address twice:
        // eight reports, far above a quiet area's usual, from four addresses.
        let address = |n: u8| Some(IpAddr::from([198, 51, 100, n]));
        for n in 0..4 {
            for _ in 0..PER_REPORTER {
                d.record(t0 + 10, "north", Problem::CannotCall, address(n));
            }
        }
        assert!(d.close(t0 + 300).is_empty(), "four addresses are no surge");
        // As many reports from five addresses are.
        for n in 0..SurgeConfig::default().min_reports as u8 {
            for _ in 0..PER_REPORTER {
                d.record(t0 + 310, "north", Problem::CannotCall, address(n));
            }
        }
        assert_eq!(d.close(t0 + 600).len(), 1);
    }

    #[test]
    fn a_busy_area_learns_its_usual_level() {
        let cfg = SurgeConfig::default();
        let mut d = SurgeDetector::new(cfg.clone());
        let t0: i64 = 1_767_571_200;
        d.close(t0);
        // Eight reports every bucket of this hour of the week, for six weeks.
        for week in 0..6 {
            let hour = t0 + week * 7 * 86_400;
            d.close(hour);
            let mut surges = Vec::new();
            for at in (hour..hour + 3600).step_by(cfg.bucket_secs as usize) {
                for _ in 0..8 {
                    d.record(at, "capital", Problem::SlowData, None);
                }
                surges.extend(d.close(at + cfg.bucket_secs));
            }
            if week == 0 {
                assert!(!surges.is_empty(), "eight is a surge the first time");
            }
            if week >= 4 {
                assert!(
                    surges.is_empty(),
                    "week {week}: eight is normal here by now"
                );
            }
        }
        // The hour's twelve buckets are one week's lesson, not twelve: one
        // hour of it in a new area is not yet its normal.
        let mut fresh = SurgeDetector::new(cfg.clone());
        fresh.close(t0);
        let mut surges = Vec::new();
        for at in (t0..t0 + 3600).step_by(cfg.bucket_secs as usize) {
            for _ in 0..8 {
                fresh.record(at, "capital", Problem::SlowData, None);
            }
            surges.extend(fresh.close(at + cfg.bucket_secs));
        }
        assert_eq!(surges.len(), 12, "each bucket a surge the first time");
        let next_week = t0 + 7 * 86_400;
        fresh.close(next_week);
        for _ in 0..30 {
            fresh.record(next_week, "capital", Problem::SlowData, None);
        }
        let surges = fresh.close(next_week + cfg.bucket_secs);
        // About `learning_rate` of the (clipped) level the hour showed; each
        // bucket at that weight would have taught nearly all of it (about 6).
        let expected = surges.first().map(|s| s.expected);
        assert!(expected.is_some_and(|e| e < 2.0), "{surges:?}");
    }

    proptest! {
        #[test]
        fn the_tail_is_a_probability_and_falls_with_k(k in 0u32..2000, lambda in 0.0f64..1500.0) {
            let p = poisson_tail(k, lambda);
            prop_assert!((0.0..=1.0).contains(&p));
            prop_assert!(poisson_tail(k + 1, lambda) <= p + 1e-12);
        }
    }
}
