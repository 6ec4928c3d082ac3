//! Streaming anomaly detection: one small state per series, one score per sample.
//!
//! Pure: no I/O, no clock. A score depends only on the samples up to it, so a
//! drill replays bit for bit and `dialtone detect` scores a file exactly as the
//! server would have scored it live.
//!
//! # What each part sees
//!
//! Every sample goes through three baselines, five test statistics, a rarity
//! calibration and an episode filter:
//!
//! * **Fast baseline** — an EWMA level with robust spreads (EWMAs of the
//!   clipped absolute residual) above and below it, each standardising the
//!   residuals on its side: a series that bursts up but never dips measures a
//!   dip against its quiet side. Its standardised residual `z_fast` sees
//!   spikes and the first samples of abrupt shifts: it reacts within one
//!   sample, which is what an outage on a per-minute cell KPI needs. It
//!   speaks only for a lone sample (see persistence below): after an off
//!   sample, a run or a shift is for the persistence and mid tests to judge.
//! * **Mid baseline** — an EWMA level with a memory of about fifty samples
//!   ([`DetectorConfig::mid_alpha`]) and one robust spread for both sides
//!   (memory about a hundred samples): a shift the fast level has absorbed
//!   within a few samples still stands out against it for tens of samples,
//!   so a shift that began with an unremarkable first sample is still caught
//!   near its start. It is a test for shifts, so it speaks only for a sample
//!   whose predecessor was off too: against the mid spread, which the quiet
//!   between a series' bursts keeps narrow, every lone burst would look like
//!   a shift.
//! * **Slow seasonal baseline** — a slow level (memory about a day) plus a
//!   time-of-day profile ([`BINS`] bins, linearly interpolated, memory a few
//!   days) plus a coarse time-of-week profile (4-hour bins, learning from the
//!   second week on, memory [`DetectorConfig::week_memory_weeks`]), each
//!   learning only from clipped residuals so that a fault does not become the
//!   new normal at once. Its standardised residual feeds a two-sided
//!   **CUSUM**, which sees what a point test cannot: small sustained shifts
//!   and values that are ordinary in size but wrong for the time of day or
//!   week (a flat day, a missing daily peak, a weekday that looks like a
//!   Sunday). The CUSUM starts only once the seasonal baseline has seen a day
//!   ([`SEASON_READY_DAYS`]), and restarts from zero once its own surprise
//!   passes the alarm level by [`DetectorConfig::cusum_escalate_margin`], as
//!   Page's CUSUM restarts after a signal: through hours of residual on one
//!   side a sum stays pinned at its cap, and the next shift in that direction
//!   would look like nothing new. The restart only works while a restart is
//!   still rare: its rarity table learns the sums that reach the restart, so
//!   after a few restarts within the table's memory
//!   ([`DetectorConfig::rarity_memory`] samples) the sum no longer reaches it
//!   and may stay pinned again until the table's counts are halved.
//! * **Range envelope** — the highest and lowest values of about the last
//!   [`DetectorConfig::range_days`] (each jumps out to a new extreme at once,
//!   though after the warm-up by at most [`WILD_SPANS`] spans a sample, and
//!   creeps back towards the current values with that memory). A value
//!   beyond the envelope is new to the series, measured as a fraction of the
//!   envelope's span, whatever its size against the recent noise: a series
//!   that flips between a few levels or bursts to the same height every hour
//!   has a wide fast spread, so a first-ever level only a few spreads out
//!   looks ordinary to the point test, but not to this one.
//! * **Rarity calibration** (in the spirit of Numenta's anomaly likelihood) —
//!   a test statistic means nothing until we know how often this series
//!   produces it. Each statistic keeps a decayed table of how often it
//!   exceeded a ladder of levels; the surprise of a sample is
//!   `-log10 P(statistic >= observed)` from that table, smoothed towards a
//!   heavy-tailed prior (`P ~ v^-prior_exponent`) for levels the series has
//!   not yet shown. A spiky series thus learns that its spikes are routine and
//!   a quiet one stays sensitive, with one configuration for all data. The
//!   sample's surprise is the largest of the five (the fifth below).
//! * **Persistence** — the smaller of this and the previous sample's
//!   standardised fast residual, both in the anomalous direction: under
//!   independent noise two rare residuals in a row are rarer still, while
//!   the first samples of a real shift or a slide all stand out. It has its
//!   own rarity table like the others. It also splits the samples between
//!   the other point tests, and each of their tables learns only from its
//!   own kind. Where the previous sample was within
//!   [`DetectorConfig::persist_gate`] deviations, this one is lone: the fast
//!   test speaks for it, counting [`DetectorConfig::lone_penalty`] times
//!   less rare, so an isolated spike ranks below the start of a run, though
//!   one large enough still alarms. After an off sample the mid test speaks
//!   instead, with this one: the peak of a burst that rose over two samples
//!   is news only where the two together are rare. The range test, which
//!   finds first-ever levels, and the CUSUM speak for every sample.
//! * **Episode filter** — a sample alarms only if its surprise beats the
//!   decaying peak of the recent surprises by a margin (a wider one,
//!   [`DetectorConfig::cusum_escalate_margin`], where the CUSUM sets the
//!   surprise: through one shift it climbs on its own), or is the first of
//!   its episode to reach the alarm level, raised to the routine of its time
//!   of day where that is higher (the recent peak is below it); otherwise it
//!   is damped: to a quarter of its surprise, drawn a little towards the
//!   recent peak ([`DetectorConfig::rise_peak_weight`]), while the episode
//!   still rises (the sample is at least the recent peak), to nothing below the peak,
//!   where it is the tail of an episode already scored. Below the alarm
//!   level, news keeps its full surprise as a score only from
//!   [`NEWS_FLOOR`] decades up, and is damped like a rising sample below
//!   that: after a quiet spell the peak has faded to almost nothing, and
//!   beating it by the margin is what noise does. One event therefore
//!   makes one alert (escalations excepted), which is what NAB rewards and
//!   what keeps alert volume sane, and an outage that develops slowly, each minute a little
//!   worse than the last, still alarms when it becomes rare enough. A shift
//!   that lasts for hours unabsorbed by the seasonal baseline alarms again
//!   once the episode's peak has faded below the alarm level (about three
//!   hours at a sample a minute), as the restarted CUSUM climbs anew: a
//!   reminder that it is still there. After a
//!   gap in the data (a step of more than [`RESUME_GAP_INTERVALS`] typical
//!   intervals), the first sample, if nearer the level from before the gap
//!   than the seasonal baseline and beyond the baseline in the anomalous
//!   direction, carries the episode's recent peak (at most the news floor,
//!   so no alarm; [`MAX_CARRIED_SCORE`]), or keeps its damped score where
//!   that is higher: the gap hid whether the episode ended.
//! * **Routine filter** — per half-hour of the day, the peak surprise seen
//!   there on recent days (decaying by [`DetectorConfig::routine_decay`]
//!   decades a day). A sample must also beat the routine of its half-hour
//!   and the next one (the one before holds today's samples already) by
//!   [`DetectorConfig::routine_margin`]:
//!   a daily ramp, batch job or shift change that the baselines cannot
//!   follow surprises once or twice, then stops alarming, while the same
//!   jump at an unusual hour still does.
//! * **Hold for broken series** — the episode filter must not hide an outage
//!   that persists. After an alarm, while the series stays at least
//!   [`DetectorConfig::hold_sigmas`] robust deviations (of the slow baseline,
//!   or of the series' long run or [`DetectorConfig::hold_span`] of its range
//!   envelope where those are wider) beyond the slow
//!   baseline in the anomalous direction, the score is kept at or above
//!   [`DetectorConfig::alarm_threshold`], for at most
//!   [`DetectorConfig::hold_secs`] after the alarm. After that the series is
//!   taken to have a new normal, and the baselines adapt to it. A series
//!   that recovers and breaks again within that time is held again: to an
//!   operator that is the outage coming back, not a new routine.
//!
//! The score is `s / (s + 3)` for the final surprise `s` in decades, so it
//! lies in [0, 1) and a score of 0.5 is a 1-in-1000 event for that series.
//! The default alarm threshold, 0.52 (about 3.25 decades), keeps healthy
//! per-minute cell KPIs near 3e-5 false alarms per sample in simulation.
//!
//! State is [`SERIES_STATE_BYTES`] bytes per series, seasonal profiles
//! included; the fast and slow levels and the range envelope are `f64` (KPIs
//! can sit on large offsets), the mid level an `f32` offset from the fast
//! one, spreads `f32`, the two profiles `i16` with a shared scale
//! (`profile.rs`), the rarity histograms' tail counts `u16`, the routine
//! table `u8`.

mod profile;

use dialtone_model::{Direction, Sample, Timestamp};
use profile::Profile;

/// Settings shared by every series of a bank. One configuration for all data.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DetectorConfig {
    /// Weight of the newest sample in the fast level.
    pub fast_alpha: f64,
    /// Weight of the newest sample in the mid level.
    pub mid_alpha: f64,
    /// Weight of the newest absolute residual in the robust spreads (twice
    /// this in each side of the fast spread, which learns from about half
    /// the samples).
    pub spread_alpha: f64,
    /// Memory of the slow level, in days.
    pub slow_days: f64,
    /// Memory of the time-of-day profile, in days.
    pub season_days: f64,
    /// Memory of the time-of-week profile, in weeks.
    pub week_memory_weeks: f64,
    /// Memory of the range envelope, in days.
    pub range_days: f64,
    /// CUSUM allowance, in robust standard deviations.
    pub cusum_k: f64,
    /// Samples remembered by the rarity tables: their counts are halved
    /// when they reach twice this.
    pub rarity_memory: f64,
    /// Weight, in samples, of the prior tail in the rarity tables.
    pub prior_samples: f64,
    /// Exponent of the prior tail `P(v) = v^-prior_exponent`.
    pub prior_exponent: f64,
    /// Decades by which a sample must beat the recent peak to alarm again.
    pub escalate_margin: f64,
    /// The same where the CUSUM sets the sample's surprise. A CUSUM
    /// accumulates: through one sustained shift it climbs on its own, and so
    /// does its surprise, so at the point tests' margin one shift would
    /// alarm again every few samples as if it were new. Once the CUSUM's own
    /// surprise passes the alarm level by this margin it restarts from zero.
    pub cusum_escalate_margin: f64,
    /// Decades per sample by which the recent peak decays: slowly (a
    /// 3-decade peak fades in about 200 samples), so an episode of bursts
    /// hours apart still makes one alert unless a burst escalates it.
    pub peak_decay: f64,
    /// Weight of the recent peak in the score of a damped sample while its
    /// episode still rises: it keeps [`DAMPED_SHARE`] of
    /// `(1 - w) * surprise + w * peak`. A sample that sustains an episode
    /// already near its level ranks above one that leaps from a quiet past
    /// without being news (within the routine of its time of day, or below
    /// [`NEWS_FLOOR`]), which is more often a routine blip or noise.
    pub rise_peak_weight: f64,
    /// Decades by which the routine surprise of a time of day decays each day.
    pub routine_decay: f64,
    /// Decades by which a sample must beat the routine surprise of its time of day to alarm.
    pub routine_margin: f64,
    /// Robust deviations from the slow baseline that keep an alarm held.
    pub hold_sigmas: f64,
    /// Longest time, in seconds, an alarm is held on a broken series.
    pub hold_secs: i64,
    /// Least deviation scale of the hold, as a fraction of the range
    /// envelope's span: a series that sits at zero between bursts has a
    /// long-run deviation near nothing too, and would hold any small
    /// excursion after an alarm.
    pub hold_span: f64,
    /// Factor by which the fast test's tail probability is raised for a
    /// lone sample (the only kind it speaks for).
    pub lone_penalty: f64,
    /// Standardised fast residual, in the anomalous direction, that the
    /// previous sample must have reached for the persistence and mid tests
    /// to speak; below it the sample is lone, and the fast test's.
    pub persist_gate: f64,
    /// Samples a series must have seen before it may alarm.
    pub warmup_samples: u32,
    /// Scores at or above this are anomalous.
    pub alarm_threshold: f64,
}

impl Default for DetectorConfig {
    fn default() -> Self {
        DetectorConfig {
            fast_alpha: 0.2,
            mid_alpha: 0.02,
            spread_alpha: 0.01,
            slow_days: 1.0,
            season_days: 4.0,
            week_memory_weeks: 3.0,
            range_days: 30.0,
            cusum_k: 0.5,
            rarity_memory: 2048.0,
            prior_samples: 200.0,
            prior_exponent: 2.0,
            escalate_margin: 0.5,
            cusum_escalate_margin: 1.0,
            peak_decay: 1.0 / 64.0,
            rise_peak_weight: 0.25,
            routine_decay: 0.25,
            routine_margin: 0.5,
            hold_sigmas: 10.0,
            hold_secs: 2 * 3600,
            hold_span: 0.02,
            lone_penalty: 2.0,
            persist_gate: 1.5,
            warmup_samples: 30,
            alarm_threshold: 0.52,
        }
    }
}

/// Bins of the time-of-day profile (30 minutes each).
pub const BINS: usize = 48;
/// Bins of the time-of-week profile (4 hours each): coarse, as it only
/// carries what sets one day of the week apart from the daily shape.
const WEEK_BINS: usize = 42;
/// Days a series must have seen before its weekly profile learns: until then
/// the daily profile and slow level are still absorbing the first week.
const WEEK_READY_DAYS: f64 = 7.0;
/// Rungs of the rarity ladder: levels `2^(j/2)`, 1 to 181.
const LEVELS: usize = 16;
/// A day, in seconds: integer for the profiles' bins, float for rates.
const DAY_SECS: i64 = 86_400;
const DAY: f64 = DAY_SECS as f64;
/// Surprise (decades) that maps to a score of 0.5.
const SCORE_SCALE: f64 = 3.0;
/// Mean absolute deviation to standard deviation, for Gaussian noise.
const MAD_TO_SIGMA: f64 = 1.25;
/// Residuals are clipped at this many robust deviations before the levels,
/// spreads and profiles learn from them (the long-run deviation, a floor
/// for the spreads, learns from them whole, up to [`WILD_SPANS`]).
const CLIP_SIGMAS: f64 = 6.0;
/// After the warm-up, the range envelope and the long-run deviation learn a
/// sample at most this many spans of the envelope beyond it: one absurd
/// value (a unit mix-up, a garbled counter) would otherwise widen both for
/// weeks, and with them the floor under every spread, blinding the series
/// (a success rate of 99.5 % that read 10^6 once scored 0 on an outage for
/// weeks after). A real move that large widens the envelope a
/// hundredfold a sample, so it is learned within a few samples. During the
/// warm-up the span is not yet the series' (BENCHMARKS.md, "Absurd values").
const WILD_SPANS: f64 = 100.0;
/// Caps that keep every statistic finite (spreads are `f32`).
const VALUE_CAP: f64 = 1e30;
const Z_CAP: f64 = 1e6;
const CUSUM_CAP: f64 = 100.0;
/// Decades per unit of the routine table: a `u8` then holds up to almost 16
/// decades (beyond [`PEAK_CAP`]), and the margin and a day's decay are
/// whole units. Surprises round to the nearest unit.
const ROUTINE_UNIT: f64 = 1.0 / 16.0;
/// Excursion beyond the range envelope, as a fraction of its span, that
/// makes the first rung of the rarity ladder: small, so that the rarity table,
/// not this constant, decides how far out is unusual for a series.
const RANGE_RUNG: f64 = 0.025;
/// Most decades the episode peak remembers. The peak decays slowly (see
/// [`DetectorConfig::peak_decay`]), so without a cap a series that broke
/// badly, recovered and breaks as badly again hours later would be damped as
/// the same episode; beyond a million-to-one a sample is news again.
const PEAK_CAP: f64 = 6.0;
/// Share of its surprise a damped sample keeps while its episode still
/// rises: a slide that is not yet news ranks above the ordinary, and below
/// news of the same surprise.
const DAMPED_SHARE: f64 = 0.25;
/// Least surprise, in decades, at which news keeps its full surprise as a
/// score (capped at the alarm level, so it never decides an alarm): a
/// 1-in-100 sample is about the rarest that noise alone produces over the
/// recent peak's memory (64 samples a decade at the default
/// [`DetectorConfig::peak_decay`]), so below it a sample that beats a peak
/// faded after a quiet spell is as likely noise as a sample that edges a
/// rising episode up, and ranks with those, at [`DAMPED_SHARE`] of its
/// surprise. Only scores below the alarm level change. Where a benchmark
/// sweeps its own threshold down to about two decades (the AIOps KPI set),
/// news below the floor made about 2,000 of its 14,000 false positives and
/// found anomalies covering 230 of the 106,000 anomalous samples it detects
/// (counted once, with an instrumented build before the floor; no command
/// prints these).
const NEWS_FLOOR: f64 = 2.0;
/// The highest score a carry over a gap in the data gives: the first
/// sample after a gap that stays on the episode's side (see the episode
/// filter) carries the episode's recent peak, at most [`NEWS_FLOOR`]. A carry
/// is not news, so the resumed episode ranks high but raises no alarm of its
/// own: no carry reaches an alarm level above this (an engine's lowered level
/// for watched elements is one). This bounds the carry, not every score after
/// a gap: the sample keeps its damped score where that is higher, and damped
/// samples stay under this bound only while their surprise is within
/// [`PEAK_CAP`] (at most [`DAMPED_SHARE`] of it).
pub const MAX_CARRIED_SCORE: f64 = score_of(NEWS_FLOOR);
/// Days the seasonal baseline must have seen before its CUSUM is trusted.
const SEASON_READY_DAYS: f64 = 1.0;
/// A step of more than this many typical intervals means samples went
/// missing (see the episode filter's carry over a gap).
const RESUME_GAP_INTERVALS: f64 = 1.5;

/// Seconds of samples after which a series runs its steady-state path: the
/// weekly profile learns (from [`WEEK_READY_DAYS`] on), the seasonal CUSUM and
/// its rarity table have been live for days, and all have had an hour.
/// Before that each sample costs less, so a benchmark must warm up at least
/// this long.
pub const STEADY_STATE_SECS: i64 = (WEEK_READY_DAYS * DAY) as i64 + 3600;
/// Seconds after which the seasonal CUSUM and its rarity table are live (a
/// day and an hour): all of the steady-state path but the weekly profile's
/// two bin updates. For benchmarks that cannot afford a week of warm-up.
pub const CUSUM_LIVE_SECS: i64 = (SEASON_READY_DAYS * DAY) as i64 + 3600;

/// Bytes of detector state per series.
pub const SERIES_STATE_BYTES: usize = std::mem::size_of::<SeriesState>();

/// Decayed histogram of one statistic over a ladder of levels, kept as its
/// tail counts: `tail[j]` counts the samples at or above `LADDER[j]` (the
/// top rung is open). Integer counts, halved bin by bin with the series'
/// sample count when that reaches [`Tuned::rarity_cap`], cost a quarter of
/// the memory of exceedance frequencies. Tails rather than bins: a lookup
/// reads two counts instead of summing the bins above its rung in a loop
/// whose length depends on the sample, and counting a sample adds a row of
/// [`COUNT_AT`].
#[derive(Debug, Clone, Copy, PartialEq)]
struct Rarity {
    tail: [u16; LEVELS],
}

/// The rarity ladder, `2^(j/2)`.
const LADDER: [f64; LEVELS] = {
    let mut l = [1.0; LEVELS];
    let mut j = 1;
    while j < LEVELS {
        l[j] = if j % 2 == 0 {
            l[j - 2] * 2.0
        } else {
            l[j - 1] * std::f64::consts::SQRT_2
        };
        j += 1;
    }
    l
};

/// `COUNT_AT[j]`: what counting a sample at rung `j` adds to each tail count
/// (one for the rungs at or below `j`). Adding a row is a few vector
/// instructions; LLVM turns the comparison `k <= j` written in the loop into
/// sixteen scalar ones.
const COUNT_AT: [[u16; LEVELS]; LEVELS] = {
    let mut rows = [[0; LEVELS]; LEVELS];
    let mut j = 0;
    while j < LEVELS {
        let mut k = 0;
        while k <= j {
            rows[j][k] = 1;
            k += 1;
        }
        j += 1;
    }
    rows
};

/// Everything a series needs that only depends on the configuration.
#[derive(Debug, Clone, Copy)]
struct Tuned {
    cfg: DetectorConfig,
    /// `prior_samples * LADDER[j]^-prior_exponent`.
    prior: [f64; LEVELS],
    /// Sample count at which the rarity histograms are halved.
    rarity_cap: u16,
    /// Surprise at which a score reaches the alarm threshold.
    alarm_surprise: f64,
    /// Tail probability of the CUSUM at or below which it restarts: its
    /// surprise is then the alarm level's plus the CUSUM's escalation margin.
    cusum_restart_p: f64,
    /// [`NEWS_FLOOR`], or the alarm surprise where that is lower.
    news_floor: f64,
    /// Reciprocals of the memories that the per-sample path divides by, so
    /// that it multiplies: the slow level's and the range envelope's
    /// memories in seconds, the rarity memory in samples.
    per_slow_sec: f64,
    per_range_sec: f64,
    per_rarity_sample: f64,
}

impl Tuned {
    fn new(cfg: DetectorConfig) -> Tuned {
        let alarm_surprise = surprise_of(cfg.alarm_threshold);
        Tuned {
            cfg,
            prior: LADDER.map(|l| cfg.prior_samples * l.powf(-cfg.prior_exponent)),
            rarity_cap: (2.0 * cfg.rarity_memory).clamp(2.0, u16::MAX as f64) as u16,
            alarm_surprise,
            // A negative margin below the alarm level would restart the
            // CUSUM at every sample, silently turning it off.
            cusum_restart_p: 10f64.powf(-(alarm_surprise + cfg.cusum_escalate_margin.max(0.0))),
            news_floor: NEWS_FLOOR.min(alarm_surprise),
            per_slow_sec: 1.0 / (cfg.slow_days * DAY),
            per_range_sec: 1.0 / (cfg.range_days * DAY),
            per_rarity_sample: 1.0 / cfg.rarity_memory,
        }
    }
}

/// The rung of `v` in `[1, Z_CAP]` and its position towards the next rung,
/// in [0, 1), from the float's bits: no logarithm on the hot path.
fn rung(v: f64) -> (usize, f64) {
    let bits = v.to_bits();
    let octave = ((bits >> 52) & 0x7ff) as i64 - 1023;
    // The mantissa as a value in [1, 2).
    let m = f64::from_bits((bits & ((1u64 << 52) - 1)) | (1023u64 << 52));
    let (half, per_base) = if m >= std::f64::consts::SQRT_2 {
        (1, std::f64::consts::FRAC_1_SQRT_2)
    } else {
        (0, 1.0)
    };
    let j = (2 * octave.max(0) + half) as usize;
    (
        j,
        (m * per_base - 1.0) * (1.0 / (std::f64::consts::SQRT_2 - 1.0)),
    )
}

impl Rarity {
    const NEW: Rarity = Rarity { tail: [0; LEVELS] };

    /// Probability, under this table after `n` samples, of a statistic at
    /// least `v >= 0`: the tail count at `v`'s rung, smoothed towards the
    /// prior tail, interpolated towards the next rung. Then, if `learn`,
    /// counts `v` in the table: one rung lookup for both.
    #[inline(always)]
    fn p_value_then_learn(&mut self, v: f64, n: f64, t: &Tuned, learn: bool) -> f64 {
        // Below the ladder the statistic is unremarkable, and not counted.
        if v.is_nan() || v < 1.0 {
            return 1.0;
        }
        let v = v.min(Z_CAP);
        let (j, f) = rung(v);
        let top = LEVELS - 1;
        // One division per table, for the rungs' common denominator.
        let per_sample = 1.0 / (n + t.cfg.prior_samples);
        let p = if v == 1.0 {
            1.0
        } else if j >= top {
            // Beyond the ladder, extrapolate with the prior's slope.
            let tail = (self.tail[top] as f64 + t.prior[top]) * per_sample;
            tail * (LADDER[top] / v).powf(t.cfg.prior_exponent)
        } else {
            let tail_at = self.tail[j] as f64 + t.prior[j];
            let tail_next = self.tail[j + 1] as f64 + t.prior[j + 1];
            (tail_at + f * (tail_next - tail_at)) * per_sample
        };
        if learn {
            for (count, &step) in self.tail.iter_mut().zip(&COUNT_AT[j.min(top)]) {
                *count += step;
            }
        }
        p
    }

    /// Halves every bin (rounding down), as a histogram of bins would be,
    /// and sums the tails again.
    fn halve(&mut self) {
        let mut above = 0;
        let mut halved_above = 0;
        for count in self.tail.iter_mut().rev() {
            let bin = *count - above;
            above = *count;
            halved_above += bin / 2;
            *count = halved_above;
        }
    }
}

/// Where a timestamp falls in the day and the week: the same for every
/// series of a scrape, so [`DetectorBank::update_interval`] computes it once.
#[derive(Debug, Clone, Copy)]
struct Clock {
    timestamp: i64,
    /// The two time-of-day profile bins whose centres the timestamp lies
    /// between, and the weight of the second.
    day: (usize, usize, f64),
    /// The same for the time-of-week profile.
    week: (usize, usize, f64),
    /// The time-of-day bin the timestamp lies in (routine filter).
    day_bin: usize,
}

impl Clock {
    fn new(timestamp: i64) -> Clock {
        let tod = timestamp.rem_euclid(DAY_SECS);
        Clock {
            timestamp,
            day: bins::<BINS>(timestamp, DAY_SECS),
            week: bins::<WEEK_BINS>(timestamp, 7 * DAY_SECS),
            day_bin: (tod / (DAY_SECS / BINS as i64)) as usize,
        }
    }
}

/// Of `N` bins dividing a `period` (seconds) that starts at the epoch, the
/// two whose centres `timestamp` lies between, and the weight of the second
/// (linear interpolation). Integer seconds: exact, and no libm.
fn bins<const N: usize>(timestamp: i64, period: i64) -> (usize, usize, f64) {
    let width = period / N as i64;
    // Seconds past the centre of the bin at or before `timestamp`.
    let past = (timestamp.rem_euclid(period) - width / 2).rem_euclid(period);
    let k0 = (past / width) as usize;
    (k0, (k0 + 1) % N, (past % width) as f64 / width as f64)
}

/// Per-series detector state. Aligned to a cache line: 512 bytes then take
/// exactly eight lines, where an unaligned state straddles nine.
#[derive(Debug, Clone, Copy, PartialEq)]
#[repr(align(64))]
struct SeriesState {
    fast: f64,
    slow: f64,
    /// Range envelope: the extremes of about the last `range_days`.
    range_hi: f64,
    range_lo: f64,
    last_ts: i64,
    alarm_ts: i64,
    /// Typical interval between samples, seconds.
    dt: f32,
    /// Robust spreads of the residuals above and below the fast level: a
    /// series that spikes up but never dips measures a dip against its own
    /// quiet side, not against its spikes.
    fast_spread: [f32; 2],
    /// The mid level minus the fast level.
    mid_offset: f32,
    mid_spread: f32,
    slow_spread: f32,
    /// Long-run mean absolute residual: a floor for the spreads, so a series
    /// that sat still for hours does not divide by zero when it moves.
    long_spread: f32,
    cusum_up: f32,
    cusum_down: f32,
    /// Decaying peak of recent surprises (episode filter).
    peak: f32,
    /// Deviation scale of the hold, set when the current alarm was raised:
    /// the slow baseline's, floored by the long-run deviation and
    /// [`DetectorConfig::hold_span`] of the range.
    alarm_sigma: f32,
    seen: u32,
    /// Samples the point tests' rarity histograms hold.
    rare_n: u16,
    /// Samples the CUSUM's rarity histogram holds: it starts learning only
    /// once the seasonal baseline has seen [`SEASON_READY_DAYS`].
    cusum_n: u16,
    direction: Direction,
    profile: Profile<BINS>,
    /// Offsets by time of week on top of the time-of-day profile.
    weekly: Profile<WEEK_BINS>,
    /// Per time-of-day bin, the decaying peak surprise seen there on recent
    /// days, in [`ROUTINE_UNIT`]s: a daily ramp or batch job is routine.
    routine: [u8; BINS],
    /// Peak surprise of the current bin so far, in [`ROUTINE_UNIT`]s.
    pending: u8,
    pending_bin: u8,
    /// The previous sample's standardised fast residual: the persistence
    /// test, and whether this sample is lone.
    prev_z_fast: f32,
    /// Rarity of the point tests after the warm-up: against the fast level
    /// (learning from lone samples only), the mid level (from the others),
    /// the range envelope and the persistence test (from every sample).
    rare_point: [Rarity; 4],
    rare_cusum: Rarity,
}

impl SeriesState {
    fn new(direction: Direction) -> SeriesState {
        SeriesState {
            fast: 0.0,
            slow: 0.0,
            range_hi: 0.0,
            range_lo: 0.0,
            last_ts: 0,
            alarm_ts: i64::MIN,
            dt: 0.0,
            fast_spread: [0.0; 2],
            mid_offset: 0.0,
            mid_spread: 0.0,
            slow_spread: 0.0,
            long_spread: 0.0,
            cusum_up: 0.0,
            cusum_down: 0.0,
            peak: 0.0,
            // No alarm yet: no deviation is wide enough to hold. (At 0 every
            // sample would qualify, for timestamps within `hold_secs` of the
            // `alarm_ts` sentinel.)
            alarm_sigma: f32::INFINITY,
            seen: 0,
            rare_n: 0,
            cusum_n: 0,
            direction,
            profile: Profile::ZERO,
            weekly: Profile::ZERO,
            routine: [0; BINS],
            pending: 0,
            pending_bin: 0,
            prev_z_fast: 0.0,
            rare_point: [Rarity::NEW; 4],
            rare_cusum: Rarity::NEW,
        }
    }

    /// Always inlined: in [`DetectorBank::update_interval`] that saves a
    /// call per series.
    #[inline(always)]
    fn update(&mut self, t: &Tuned, clock: &Clock, value: f64) -> f64 {
        let cfg = &t.cfg;
        let timestamp = clock.timestamp;
        let value = value.clamp(-VALUE_CAP, VALUE_CAP);
        if self.seen == 0 {
            self.fast = value;
            self.slow = value;
            self.range_hi = value;
            self.range_lo = value;
            self.last_ts = timestamp;
            self.seen = 1;
            return 0.0;
        }
        let gap = timestamp.saturating_sub(self.last_ts);
        // Samples went missing before this one: the series was not seen.
        // Before the first step any step counts, but then the episode's
        // peak is still nothing to carry (and the warm-up scores nothing);
        // testing for it cost 1 % of the kernel's instructions (callgrind).
        let resumed = gap as f64 > RESUME_GAP_INTERVALS * self.dt as f64;
        if gap > 0 {
            let g = (gap as f64).min(DAY) as f32;
            self.dt = if self.dt == 0.0 {
                g
            } else {
                self.dt + 0.05 * (g - self.dt)
            };
            self.last_ts = timestamp;
        }
        let dt = if self.dt > 0.0 { self.dt as f64 } else { 60.0 };
        let n = self.seen as f64;
        let floor = (0.2 * self.long_spread as f64).at_least(1e-9 * self.fast.abs() + 1e-12);
        let sigma = |spread: f32| (MAD_TO_SIGMA * spread as f64).at_least(floor);
        let slow_sigma = sigma(self.slow_spread);

        // Test statistics, from the state before this sample.
        let r_fast = value - self.fast;
        let side = usize::from(r_fast < 0.0);
        let fast_sigma = sigma(self.fast_spread[side]);
        let z_fast = (r_fast / fast_sigma).within(-Z_CAP, Z_CAP);
        let mid_sigma = sigma(self.mid_spread);
        let r_mid = r_fast - self.mid_offset as f64;
        let r_slow = self.seasonal_residual(clock, value);
        let z_slow = (r_slow / slow_sigma).within(-Z_CAP, Z_CAP);
        // Before the seasonal baseline has seen a day, its residuals say more
        // about the baseline than about the series: a CUSUM of them would
        // saturate at every daily ramp, and its rarity table would learn that
        // a saturated CUSUM is ordinary, blinding it for days afterwards.
        let days_seen = n * dt * (1.0 / DAY);
        let season_ready = days_seen >= SEASON_READY_DAYS;
        let zc = if season_ready {
            z_slow.within(-CUSUM_CAP, CUSUM_CAP)
        } else {
            0.0
        };
        self.cusum_up = (self.cusum_up as f64 + zc - cfg.cusum_k).within(0.0, CUSUM_CAP) as f32;
        self.cusum_down = (self.cusum_down as f64 - zc - cfg.cusum_k).within(0.0, CUSUM_CAP) as f32;
        let span = (self.range_hi - self.range_lo).at_least(floor);
        let above = value - self.range_hi;
        let below = self.range_lo - value;
        let z_prev = self.prev_z_fast as f64;
        self.prev_z_fast = z_fast as f32;
        // `v_prev`: the previous sample's residual in the anomalous direction
        // (for either direction, the same side as this one).
        // The mid residual stays unscaled until the mid test speaks (see
        // below): most samples are lone, and need no division for it.
        let (v_fast, r_mid_away, v_prev, v_cusum, excess) = match self.direction {
            Direction::Down => (-z_fast, -r_mid, -z_prev, self.cusum_down as f64, below),
            Direction::Up => (z_fast, r_mid, z_prev, self.cusum_up as f64, above),
            Direction::Both => (
                z_fast.abs(),
                r_mid.abs(),
                if z_prev * z_fast > 0.0 {
                    z_prev.abs()
                } else {
                    0.0
                },
                self.cusum_up.max(self.cusum_down) as f64,
                above.at_least(below),
            ),
        };
        let away = away(self.direction, r_slow);
        let v_persist = v_fast.at_most(v_prev);
        // One division for the larger excess, as `x / span` is monotonic in `x`.
        let v_range = (excess / (span * RANGE_RUNG)).within(0.0, Z_CAP);
        // The statistics of the first samples, before the spreads have
        // settled, would teach the tables that anything goes.
        let learn = self.seen >= cfg.warmup_samples;
        let p_cusum = self.rare_cusum.p_value_then_learn(
            v_cusum,
            self.cusum_n as f64,
            t,
            learn && season_ready,
        );
        // Signalled: restart (see the module's notes on the CUSUM). The
        // samples after this one measure what follows the shift.
        if p_cusum <= t.cusum_restart_p {
            self.cusum_up = 0.0;
            self.cusum_down = 0.0;
        }
        let [fast, mid, range, persist] = &mut self.rare_point;
        let rare_n = self.rare_n as f64;
        // Each point test speaks for its own kind of sample, and its table
        // learns only from that kind. A lone sample (the one before it was
        // ordinary) is the fast test's, and counts `lone_penalty` times less
        // rare: a real shift or slide shows on the next sample too, at little
        // delay, and noise seldom twice running. A sample after an off one
        // belongs to a run or a shift: the persistence test (two rare
        // residuals running) and the mid test (a shift the fast level has
        // absorbed) speak for it, and the fast test is silent, so that the
        // peak of a burst that rose over two samples is news only where the
        // two together are rare. And against the mid spread, which the quiet
        // between a series' bursts keeps narrow, every lone burst would look
        // like a shift.
        let lone = v_prev < cfg.persist_gate;
        let (v_fast, v_mid, lone_penalty) = if lone {
            (v_fast, 0.0, cfg.lone_penalty)
        } else {
            (0.0, (r_mid_away / mid_sigma).within(-Z_CAP, Z_CAP), 1.0)
        };
        let p_point = (fast.p_value_then_learn(v_fast, rare_n, t, learn) * lone_penalty)
            .min(mid.p_value_then_learn(v_mid, rare_n, t, learn))
            .min(range.p_value_then_learn(v_range, rare_n, t, learn))
            .min(persist.p_value_then_learn(v_persist, rare_n, t, learn));
        let p = p_point.min(p_cusum);
        // Most samples are unremarkable: skip the logarithm for them.
        let surprise = if p >= 1.0 { 0.0 } else { -log10(p.max(1e-300)) };
        if learn {
            self.rare_n += 1;
            if self.rare_n >= t.rarity_cap {
                self.rare_point.iter_mut().for_each(Rarity::halve);
                self.rare_n /= 2;
            }
            if season_ready {
                self.cusum_n += 1;
                if self.cusum_n >= t.rarity_cap {
                    self.rare_cusum.halve();
                    self.cusum_n /= 2;
                }
            }
        }

        // Learn the baselines from clipped residuals; the first residuals
        // seed the spreads.
        let seeding = self.seen < 10;
        let clip = CLIP_SIGMAS * fast_sigma;
        let fast_step = cfg.fast_alpha * r_fast.within(-clip, clip);
        self.fast += fast_step;
        // Each side learns from about half the samples: at twice the
        // weight, its memory is that of the other spreads.
        learn_spread(
            &mut self.fast_spread[side],
            2.0 * cfg.spread_alpha,
            r_fast,
            clip,
            seeding,
        );
        if seeding {
            let s = self.fast_spread[0].max(self.fast_spread[1]);
            self.fast_spread = [s; 2];
        }
        let clip = CLIP_SIGMAS * mid_sigma;
        let mid_step = cfg.mid_alpha * r_mid.within(-clip, clip);
        // The mid level is kept as its offset from the fast one: small, so
        // `f32` does, where the level itself may sit on a large offset.
        self.mid_offset = (self.mid_offset as f64 + mid_step - fast_step) as f32;
        learn_spread(&mut self.mid_spread, cfg.spread_alpha, r_mid, clip, seeding);
        let clip = CLIP_SIGMAS * slow_sigma;
        let r_slow_c = r_slow.within(-clip, clip);
        // A memory of `m` seconds learns `dt / m` of each residual (all of it
        // if `m` is shorter than `dt`), and the slow level at least `1 / n`
        // while it has seen fewer samples than its memory holds. Written as
        // products with reciprocals, as divisions cost more than the rest of
        // this arithmetic.
        let per_sample = 1.0 / n;
        let creep = (dt * t.per_range_sec).at_most(1.0);
        // `span`, and `learn`, from before this sample.
        let wild = if learn {
            WILD_SPANS * span
        } else {
            f64::INFINITY
        };
        let tamed = value.within(self.range_lo - wild, self.range_hi + wild);
        // Out to a new extreme at once (`creep` is at most 1), else creep in.
        self.range_hi = tamed.at_least(self.range_hi + creep * (tamed - self.range_hi));
        self.range_lo = tamed.at_most(self.range_lo + creep * (tamed - self.range_lo));
        self.slow += r_slow_c * (dt * t.per_slow_sec).at_most(1.0).at_least(per_sample);
        learn_spread(
            &mut self.slow_spread,
            cfg.spread_alpha,
            r_slow,
            clip,
            seeding,
        );
        self.long_spread += ((r_fast.abs().at_most(wild) - self.long_spread as f64)
            * per_sample.at_least(t.per_rarity_sample)) as f32;
        // Each profile bin sees `dt / bin width` of the samples; its memory
        // is in days (weeks), shorter while the series is younger.
        let day_memory = (days_seen + 1.0).at_most(cfg.season_days);
        let rate = (dt * (BINS as f64 / DAY) / day_memory).at_most(1.0);
        self.profile.add_between(clock.day, rate * r_slow_c);
        if days_seen >= WEEK_READY_DAYS {
            let week_memory = (days_seen * (1.0 / 7.0) + 1.0).at_most(cfg.week_memory_weeks);
            let rate = (dt * (WEEK_BINS as f64 / (7.0 * DAY)) / week_memory).at_most(1.0);
            self.weekly.add_between(clock.week, rate * r_slow_c);
        }
        self.seen = self.seen.saturating_add(1);

        if self.seen <= cfg.warmup_samples {
            return 0.0;
        }
        // Routine filter: what this time of day produced on earlier days.
        // The current bin's peak is committed only when the bin ends, so the
        // table never holds today's samples and an hour of trouble does not
        // hide the next one; the bin after this one is yesterday's too.
        let bin = clock.day_bin;
        if bin != self.pending_bin as usize {
            let b = self.pending_bin as usize % BINS;
            let decayed = self.routine[b] as f64 - cfg.routine_decay / ROUTINE_UNIT;
            self.routine[b] = decayed.max(self.pending as f64).clamp(0.0, u8::MAX as f64) as u8;
            self.pending = 0;
            self.pending_bin = bin as u8;
        }
        let routine = self.routine[bin].max(self.routine[(bin + 1) % BINS]) as f64 * ROUTINE_UNIT;
        self.pending = self
            .pending
            .max((surprise * (1.0 / ROUTINE_UNIT) + 0.5).at_most(u8::MAX as f64) as u8);
        // Episode filter: a sample alarms when it escalates the episode, or
        // when it is the episode's first to reach the bar: the alarm level, or
        // the routine of its time of day if that is higher. Without the second
        // case an outage that develops slowly (each minute a little worse
        // than the last, never by the margin) would never alarm; measured
        // against the alarm level alone, a slide that crossed it while still
        // within the routine would spend its one chance there and be damped
        // once it left the routine behind.
        let prev = self.peak as f64;
        let alarm_surprise = t.alarm_surprise;
        let bar = alarm_surprise.at_least(routine + cfg.routine_margin);
        let escalate_margin = if p_cusum < p_point {
            cfg.cusum_escalate_margin
        } else {
            cfg.escalate_margin
        };
        let news = surprise > prev + escalate_margin || (surprise >= bar && prev < bar);
        // A damped sample keeps a quarter of its surprise, drawn towards the
        // recent peak, while the episode is still rising (at least its recent
        // peak): a slide that is not yet news ranks above the ordinary. Below
        // the peak it is the tail of an episode already scored, and no news
        // at all. News below the news floor ranks as a rising sample: the
        // peak it beat may have faded to nothing.
        let mut out = if news && surprise > routine + cfg.routine_margin && surprise >= t.news_floor
        {
            surprise
        } else {
            let damped = if surprise >= prev {
                DAMPED_SHARE * (surprise - cfg.rise_peak_weight * (surprise - prev))
            } else {
                0.0
            };
            // After a gap in the data, a sample still on the episode's side
            // (nearer the level from before the gap than the seasonal
            // baseline, and beyond the baseline in the anomalous direction)
            // carries the episode's whole recent peak, under the news floor:
            // see `MAX_CARRIED_SCORE`. The whole peak, not a share: with half
            // (and before that a quarter), the KPI benchmark's train sweep on
            // data with gaps landed lower, where the test halves lose
            // precision (BENCHMARKS.md, "Gaps in the data").
            if resumed && r_fast.abs() < away {
                damped.at_least(prev.at_most(t.news_floor))
            } else {
                damped
            }
        };
        self.peak = (prev - cfg.peak_decay)
            .at_least(surprise.at_most(PEAK_CAP))
            .at_least(0.0) as f32;
        if out >= alarm_surprise && prev < bar {
            self.alarm_ts = timestamp;
            // At least the series' long-run deviation: one that sits still
            // between bursts has a slow spread near nothing, and would hold
            // every burst after an alarm. And at least a fraction of its
            // range, for one that sits still nearly all the time.
            self.alarm_sigma = slow_sigma
                .at_least(MAD_TO_SIGMA * self.long_spread as f64)
                .at_least(cfg.hold_span * span) as f32;
        }
        // Hold: a series still far beyond its slow baseline, measured in the
        // deviation scale from before the alarm (the spreads learn from the
        // outage too), stays alarmed.
        let held = timestamp.saturating_sub(self.alarm_ts);
        if self.beyond_hold(cfg, away) && (0..=cfg.hold_secs).contains(&held) {
            out = out.at_least(alarm_surprise);
        }
        score_of(out)
    }
}

impl SeriesState {
    /// `value` less the slow level and the seasonal offsets at `clock`.
    #[inline(always)]
    fn seasonal_residual(&self, clock: &Clock, value: f64) -> f64 {
        let seasonal = self.profile.between(clock.day) + self.weekly.between(clock.week);
        value - self.slow - seasonal
    }

    /// Whether `away` (a distance beyond the seasonal baseline in the
    /// anomalous direction) is at least [`DetectorConfig::hold_sigmas`] of the
    /// deviation scale recorded at the last alarm: the hold's test. Never
    /// before any alarm (that scale is infinite).
    #[inline(always)]
    fn beyond_hold(&self, cfg: &DetectorConfig, away: f64) -> bool {
        away >= cfg.hold_sigmas * self.alarm_sigma as f64
    }
}

/// How far a residual lies in the anomalous `direction`: negative when it
/// lies the other way (for `Both`, never).
#[inline(always)]
fn away(direction: Direction, residual: f64) -> f64 {
    match direction {
        Direction::Down => -residual,
        Direction::Up => residual,
        Direction::Both => residual.abs(),
    }
}

/// Bounds for the statistics of [`SeriesState::update`], which are never
/// NaN (values are capped, spreads floored), as one `maxsd` or `minsd` each.
/// `f64::max`, `min` and `clamp` must also handle a NaN operand, and `clamp`
/// asserts that its bounds are ordered; where neither operand is a constant
/// that cost about a tenth of the per-sample instructions (callgrind).
trait Bound {
    /// `self`, or `lo` if that is larger.
    fn at_least(self, lo: Self) -> Self;
    /// `self`, or `hi` if that is smaller.
    fn at_most(self, hi: Self) -> Self;
    /// `self` limited to `[lo, hi]`, for `lo <= hi`.
    fn within(self, lo: Self, hi: Self) -> Self;
}

impl Bound for f64 {
    #[inline(always)]
    fn at_least(self, lo: f64) -> f64 {
        if self > lo { self } else { lo }
    }
    #[inline(always)]
    fn at_most(self, hi: f64) -> f64 {
        if self < hi { self } else { hi }
    }
    #[inline(always)]
    fn within(self, lo: f64, hi: f64) -> f64 {
        self.at_least(lo).at_most(hi)
    }
}

/// `log10(x)` for a positive normal `x`, within a few ulps. Inline, where
/// libm's is a call through `log` that makes the caller spill its
/// registers, and it runs for about a third of the samples. fdlibm's `log`
/// kernel: `x = 2^k m` with `m` in [sqrt(1/2), sqrt(2)), then
/// `ln m = 2 atanh(s)`, `s = (m - 1) / (m + 1)`, by a minimax series in `s^2`.
fn log10(x: f64) -> f64 {
    const LG: [f64; 7] = [
        6.666_666_666_666_735e-1,
        3.999_999_999_940_942e-1,
        2.857_142_874_366_239e-1,
        2.222_219_843_214_978_4e-1,
        1.818_357_216_161_805e-1,
        1.531_383_769_920_937_3e-1,
        1.479_819_860_511_658_6e-1,
    ];
    // Shift the exponent boundary from 1 to sqrt(1/2) (high word 0x3fe6a09e).
    let bits = x.to_bits() + ((0x3ff0_0000 - 0x3fe6_a09e) << 32);
    let k = (bits >> 52) as i64 - 1023;
    let m = f64::from_bits((bits & ((1 << 52) - 1)) + (0x3fe6_a09e << 32));
    let f = m - 1.0;
    let s = f / (2.0 + f);
    let z = s * s;
    let w = z * z;
    let r =
        w * (LG[1] + w * (LG[3] + w * LG[5])) + z * (LG[0] + w * (LG[2] + w * (LG[4] + w * LG[6])));
    let hfsq = 0.5 * f * f;
    let ln_m = f - (hfsq - s * (hfsq + r));
    k as f64 * std::f64::consts::LOG10_2 + ln_m * std::f64::consts::LOG10_E
}

/// One step of a robust spread: an EWMA of the clipped absolute residual,
/// raised to half the residual while `seeding`, so the first samples do not
/// divide by a spread that has not yet grown.
fn learn_spread(spread: &mut f32, alpha: f64, residual: f64, clip: f64, seeding: bool) {
    *spread += (alpha * (residual.abs().at_most(clip) - *spread as f64)) as f32;
    if seeding {
        *spread = spread.max(0.5 * residual.abs() as f32);
    }
}

/// Score in [0, 1) of a surprise in decades.
const fn score_of(surprise: f64) -> f64 {
    let s = surprise.max(0.0);
    s / (s + SCORE_SCALE)
}

/// Surprise in decades whose score is `score` (inverse of [`score_of`]),
/// rounded up where need be so that its score is at least `score`: a
/// sample held at the alarm surprise must score at the alarm threshold, and
/// the exact inverse can score a unit of rounding below it (0.45 does).
fn surprise_of(score: f64) -> f64 {
    let p = score.clamp(0.0, 1.0 - 1e-9);
    let mut s = SCORE_SCALE * p / (1.0 - p);
    // The two roundings put it at most a few units below.
    for _ in 0..4 {
        if score_of(s) >= p {
            break;
        }
        s = s.next_up();
    }
    s
}

/// The detectors of many series, addressed by dense series index.
#[derive(Debug, Clone)]
pub struct DetectorBank {
    tuned: Tuned,
    states: Vec<SeriesState>,
}

impl DetectorBank {
    pub fn new(config: DetectorConfig) -> DetectorBank {
        DetectorBank::with_capacity(config, 0)
    }

    /// A bank with room for `series` series: state for exactly that many,
    /// where adding them one by one would leave up to as much again unused.
    pub fn with_capacity(config: DetectorConfig, series: usize) -> DetectorBank {
        DetectorBank {
            tuned: Tuned::new(config),
            states: Vec::with_capacity(series),
        }
    }

    pub fn config(&self) -> &DetectorConfig {
        &self.tuned.cfg
    }

    /// Adds a series that is anomalous when it moves in `direction`; returns its index.
    pub fn add_series(&mut self, direction: Direction) -> u32 {
        self.states.push(SeriesState::new(direction));
        (self.states.len() - 1) as u32
    }

    pub fn len(&self) -> usize {
        self.states.len()
    }

    /// Copies the states of the first `distinct` series over the others in
    /// turn: series `i` takes the state of series `i % distinct`, direction
    /// included. For benchmarks: millions of series in a steady state (which
    /// takes [`STEADY_STATE_SECS`] of samples) without feeding each of them
    /// that much. Does nothing if `distinct` is 0 or covers the bank.
    pub fn repeat_first(&mut self, distinct: usize) {
        if distinct == 0 || distinct >= self.states.len() {
            return;
        }
        for i in distinct..self.states.len() {
            self.states[i] = self.states[i % distinct];
        }
    }

    pub fn is_empty(&self) -> bool {
        self.states.is_empty()
    }

    /// Scores `value` of series `series` at `timestamp`, in [0, 1]; non-finite
    /// values score 0 and leave the state alone.
    ///
    /// # Panics
    ///
    /// If `series` was not returned by [`DetectorBank::add_series`] and
    /// `value` is finite (a value that is not scores 0 before any lookup).
    pub fn update(&mut self, series: u32, timestamp: Timestamp, value: f64) -> f64 {
        if !value.is_finite() {
            return 0.0;
        }
        self.states[series as usize].update(&self.tuned, &Clock::new(timestamp), value)
    }

    /// Whether `value`, series' sample at `timestamp` (already scored), is
    /// still as far beyond its seasonal baseline as holds an alarm
    /// ([`DetectorConfig::hold_sigmas`] deviations, measured as when the
    /// series last alarmed), however long ago that was. The score's hold
    /// ends after [`DetectorConfig::hold_secs`], when the detector takes the
    /// series to have found a new normal; whoever asks whether an outage's
    /// symptoms are over must not take that for recovery. Reads the state
    /// only: no score changes.
    ///
    /// # Panics
    ///
    /// If `series` was not returned by [`DetectorBank::add_series`].
    pub fn still_away(&self, series: u32, timestamp: Timestamp, value: f64) -> bool {
        let state = &self.states[series as usize];
        value.is_finite()
            && state.beyond_hold(
                &self.tuned.cfg,
                away(
                    state.direction,
                    state.seasonal_residual(&Clock::new(timestamp), value),
                ),
            )
    }

    /// Scores one interval of every series: `values[i]` is series `i`'s
    /// sample at `timestamp` and its score goes to `scores[i]`. Same results
    /// as calling [`DetectorBank::update`] for each in turn.
    ///
    /// # Panics
    ///
    /// If `values` is longer than the bank, or `scores` shorter than `values`.
    pub fn update_interval(&mut self, timestamp: Timestamp, values: &[f64], scores: &mut [f64]) {
        let states = &mut self.states[..values.len()];
        let scores = &mut scores[..values.len()];
        update_each(&self.tuned, states, timestamp, scores, |k| k, |k| values[k]);
    }

    /// Scores the samples of one minute, of any series in any order:
    /// `samples[k]`'s score goes to `scores[k]`. Same results as calling
    /// [`DetectorBank::update`] for each in turn, a series sampled twice
    /// included, at less cost: where the day and week the minute falls in
    /// is worked out once, and each series' state is asked of memory a few
    /// samples ahead (see [`prefetch`]).
    ///
    /// # Panics
    ///
    /// If the series of a sample with a finite value was not returned by
    /// [`DetectorBank::add_series`], or `scores` is shorter than `samples`.
    pub fn update_samples(&mut self, timestamp: Timestamp, samples: &[Sample], scores: &mut [f64]) {
        update_each(
            &self.tuned,
            &mut self.states,
            timestamp,
            &mut scores[..samples.len()],
            // Past the last sample, an index no state has: nothing to prefetch.
            |k| samples.get(k).map_or(usize::MAX, |s| s.series as usize),
            |k| samples[k].value,
        );
    }
}

/// The loop of [`DetectorBank::update_interval`] and
/// [`DetectorBank::update_samples`]: scores the `k`-th sample, `value(k)` of
/// the series at index `series(k)`, at `timestamp` into `scores[k]`, for
/// every `k` of `scores`. (Two functions rather than one returning both, so
/// that asking for a series ahead does not check a value's index.)
#[inline(always)]
fn update_each(
    tuned: &Tuned,
    states: &mut [SeriesState],
    timestamp: Timestamp,
    scores: &mut [f64],
    series: impl Fn(usize) -> usize,
    value: impl Fn(usize) -> f64,
) {
    // A copy, once per scrape: held locally, the settings stay in
    // registers across the loop (borrowed, they are reloaded per series;
    // callgrind counted 0.4 % more instructions).
    let tuned = *tuned;
    let clock = Clock::new(timestamp);
    for (k, score) in scores.iter_mut().enumerate() {
        if let Some(ahead) = states.get(series(k + PREFETCH_AHEAD)) {
            prefetch(ahead);
        }
        let value = value(k);
        *score = if value.is_finite() {
            states[series(k)].update(&tuned, &clock, value)
        } else {
            0.0
        };
    }
}

/// Updates ahead of the current one whose series' state [`prefetch`]
/// requests, some memory latencies' worth: 2 measured too few, 4 to 32 alike.
const PREFETCH_AHEAD: usize = 8;

/// Asks the cache for every line of `state`. A bank of 10^6 series is larger
/// than the last-level cache, and without this the update waits on memory
/// (its first load of the state was the hottest instruction in a profile):
/// requesting the state a few series ahead measured 15-20 % off the kernel's
/// time at 10^6 series. The only `unsafe` in the crate, for that.
#[cfg(target_arch = "x86_64")]
fn prefetch(state: &SeriesState) {
    use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
    let p = (state as *const SeriesState).cast::<i8>();
    // The state is aligned to a line, so every 64 bytes is every line.
    for offset in (0..SERIES_STATE_BYTES).step_by(64) {
        // SAFETY: a prefetch is a hint that never faults and changes no
        // memory, and `offset` stays within `state`.
        #[allow(unsafe_code)]
        unsafe {
            _mm_prefetch::<_MM_HINT_T0>(p.add(offset));
        }
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn prefetch(_: &SeriesState) {}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const T0: i64 = 1_700_000_000;

    /// Deterministic standard normal noise (xorshift + Box-Muller).
    struct Noise(u64);

    impl Noise {
        fn uniform(&mut self) -> f64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            ((self.0 >> 11) as f64 + 0.5) / (1u64 << 53) as f64
        }
        fn gauss(&mut self) -> f64 {
            let (u, v) = (self.uniform(), self.uniform());
            (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
        }
    }

    /// A bank of one fresh series: `(bank, series, alarm threshold)`.
    fn one_series(direction: Direction) -> (DetectorBank, u32, f64) {
        let mut bank = DetectorBank::new(DetectorConfig::default());
        let s = bank.add_series(direction);
        let threshold = bank.config().alarm_threshold;
        (bank, s, threshold)
    }

    /// A per-minute success rate around 99.5 %: `(bank, series, next minute)`.
    fn warmed_success_rate(minutes: i64, noise: &mut Noise) -> (DetectorBank, u32, i64) {
        let (mut bank, s, _) = one_series(Direction::Down);
        for m in 0..minutes {
            bank.update(s, T0 + 60 * m, 99.5 + 0.15 * noise.gauss());
        }
        (bank, s, minutes)
    }

    /// Scores of a few days of heavy-tailed noise on `series` series of
    /// every direction, one sample a minute.
    fn noisy_scores(cfg: DetectorConfig, series: usize, minutes: i64) -> Vec<f64> {
        let mut noise = Noise(11);
        let mut bank = DetectorBank::new(cfg);
        let ids: Vec<u32> = (0..series)
            .map(|i| bank.add_series([Direction::Up, Direction::Down, Direction::Both][i % 3]))
            .collect();
        let mut scores = Vec::new();
        for m in 0..minutes {
            for &s in &ids {
                // Gaussian noise with an occasional burst: news of every size.
                let burst = if noise.uniform() < 0.01 {
                    8.0 * noise.uniform()
                } else {
                    0.0
                };
                let v = 50.0 + noise.gauss() + burst * noise.gauss();
                scores.push(bank.update(s, T0 + 60 * m, v));
            }
        }
        scores
    }

    #[test]
    fn news_below_the_floor_scores_as_a_damped_sample() {
        // Full news scores at least the floor, and held samples at least
        // the alarm level. A damped sample scores a quarter of a blend of its
        // surprise and the peak (capped at `PEAK_CAP`), so below a quarter
        // of the cap wherever its surprise stays under the cap, as in this
        // noise. So no score lies between the two, where news under the floor
        // would land if it were scored in full.
        let scores = noisy_scores(DetectorConfig::default(), 30, 3 * 1440);
        let gap = score_of(DAMPED_SHARE * PEAK_CAP)..score_of(NEWS_FLOOR);
        let inside = scores.iter().filter(|s| gap.contains(s)).count();
        assert_eq!(inside, 0, "{inside} scores in {gap:?}");
        // And the noise does make news above the floor.
        assert!(scores.iter().any(|&s| s >= gap.end));
    }

    #[test]
    fn the_peak_weight_of_damped_samples_changes_no_alarm() {
        let with = |w| {
            let cfg = DetectorConfig {
                rise_peak_weight: w,
                ..DetectorConfig::default()
            };
            noisy_scores(cfg, 30, 3 * 1440)
        };
        let (none, weighted) = (with(0.0), with(0.25));
        let threshold = DetectorConfig::default().alarm_threshold;
        let alarms = |v: &[f64]| -> Vec<(usize, u64)> {
            (v.iter().enumerate())
                .filter(|(_, s)| **s >= threshold)
                .map(|(i, s)| (i, s.to_bits()))
                .collect()
        };
        assert!(!alarms(&none).is_empty());
        assert_eq!(alarms(&none), alarms(&weighted));
        // Below the alarm level it does reorder.
        assert_ne!(none, weighted);
    }

    #[test]
    fn repeated_states_score_as_their_originals() {
        let mut noise = Noise(7);
        let mut bank = DetectorBank::new(DetectorConfig::default());
        for d in [Direction::Up, Direction::Down] {
            bank.add_series(d);
        }
        for _ in 0..3 {
            bank.add_series(Direction::Both);
        }
        for m in 0..2000 {
            for s in 0..2 {
                bank.update(s, T0 + 60 * m, 50.0 + noise.gauss());
            }
        }
        bank.repeat_first(2);
        let t = T0 + 60 * 2000;
        for value in [50.0, 80.0, 20.0] {
            let scores: Vec<f64> = (0..5).map(|s| bank.update(s, t, value)).collect();
            assert_eq!(scores[2], scores[0], "{scores:?}");
            assert_eq!(scores[3], scores[1], "{scores:?}");
            assert_eq!(scores[4], scores[0], "{scores:?}");
        }
        assert!(
            bank.update(0, t + 60, 80.0) > 0.0 || bank.update(1, t + 60, 20.0) > 0.0,
            "a warmed series reacts"
        );
    }

    #[test]
    fn state_fits_budget() {
        const { assert!(SERIES_STATE_BYTES <= 512) };
    }

    #[test]
    fn carried_and_capped_damped_scores_stay_under_the_alarm_level() {
        assert!(score_of(DAMPED_SHARE * PEAK_CAP) <= MAX_CARRIED_SCORE);
        assert!(MAX_CARRIED_SCORE < DetectorConfig::default().alarm_threshold);
    }

    #[test]
    fn the_alarm_surprise_scores_at_least_the_threshold() {
        // The exact inverse of 0.45 scores 0.44999999999999996.
        for threshold in [0.35, 0.45, 0.49, 0.52, 0.65] {
            let t = Tuned::new(DetectorConfig {
                alarm_threshold: threshold,
                ..DetectorConfig::default()
            });
            assert!(score_of(t.alarm_surprise) >= threshold, "{threshold}");
        }
    }

    #[test]
    fn a_held_outage_stays_alarmed_at_another_threshold() {
        // The hold lifts a sample to the alarm surprise, which must score at
        // the threshold: at 0.45 the held samples of this outage fell a unit
        // of rounding short of it.
        let threshold = 0.45;
        let mut noise = Noise(11);
        let mut bank = DetectorBank::new(DetectorConfig {
            alarm_threshold: threshold,
            ..DetectorConfig::default()
        });
        let s = bank.add_series(Direction::Down);
        for m in 0..2 * 1440 {
            bank.update(s, T0 + 60 * m, 99.5 + 0.15 * noise.gauss());
        }
        let scores: Vec<f64> = (2 * 1440..2 * 1440 + 30)
            .map(|m| bank.update(s, T0 + 60 * m, 92.0 + 0.15 * noise.gauss()))
            .collect();
        assert!(scores.iter().all(|&x| x >= threshold), "{scores:?}");
    }

    #[test]
    fn nothing_is_held_before_an_alarm_even_at_the_earliest_timestamps() {
        // Within `hold_secs` of the sentinel `alarm_ts`, a series that never
        // alarmed must not be held: a flat series scores nothing.
        let (mut bank, s, threshold) = one_series(Direction::Both);
        let alarms = (0..200)
            .filter(|&m| bank.update(s, i64::MIN + 60 * m, 10.0) >= threshold)
            .count();
        assert_eq!(alarms, 0);
    }

    #[test]
    fn score_mapping_round_trips() {
        for s in [0.0, 0.5, 3.0, 7.5, 40.0] {
            assert!((surprise_of(score_of(s)) - s).abs() < 1e-9);
        }
        assert_eq!(score_of(-1.0), 0.0);
        assert!(score_of(1e300) <= 1.0);
    }

    #[test]
    fn log10_matches_libm() {
        let mut noise = Noise(31);
        let mut worst = 0.0f64;
        for _ in 0..200_000 {
            // Log-uniform over the normal range, and close to 1 on both sides.
            let x = match noise.0 % 3 {
                0 => 10f64.powf(-307.0 * noise.uniform()),
                1 => 1.0 - 1e-3 * noise.uniform(),
                _ => 1.0 + 1e-3 * noise.uniform(),
            };
            let (ours, libm) = (log10(x), x.log10());
            worst = worst.max((ours - libm).abs() / libm.abs().max(f64::MIN_POSITIVE));
        }
        for x in [
            f64::MIN_POSITIVE,
            1e-300,
            0.1,
            0.5,
            1.0,
            2.0,
            10.0,
            f64::MAX,
        ] {
            let (ours, libm) = (log10(x), x.log10());
            worst = worst.max((ours - libm).abs() / libm.abs().max(f64::MIN_POSITIVE));
        }
        assert!(worst < 5e-16, "relative error {worst:e}");
    }

    #[test]
    fn ladder_doubles_every_two_rungs() {
        for j in 2..LEVELS {
            assert!((LADDER[j] / LADDER[j - 2] - 2.0).abs() < 1e-12);
        }
    }

    #[test]
    fn rung_matches_the_ladder() {
        for (j, &l) in LADDER.iter().enumerate() {
            let (r, f) = rung(l);
            assert_eq!(r, j, "level {l}");
            assert!(f.abs() < 1e-9, "level {l}: {f}");
            let (r, f) = rung(l * 1.2);
            assert_eq!(r, j);
            assert!((0.0..1.0).contains(&f));
        }
    }

    #[test]
    fn daily_jump_becomes_routine_but_odd_hours_still_alarm() {
        let (mut bank, s, threshold) = one_series(Direction::Both);
        let mut noise = Noise(17);
        // A 5-minute series with a sharp one-sample burst every day at 09:00.
        let per_day = 288;
        let mut burst_alarms = Vec::new();
        for m in 0..10 * per_day {
            let burst = m % per_day == 108;
            let v = 50.0 + noise.gauss() + if burst { 25.0 } else { 0.0 };
            let score = bank.update(s, T0 - T0 % 86_400 + 300 * m, v);
            if burst {
                burst_alarms.push(score >= threshold);
            }
        }
        assert!(
            burst_alarms[5..].iter().all(|&a| !a),
            "routine burst still alarms: {burst_alarms:?}"
        );
        // A burst at 21:00 is news (bigger than the routine one: the rarity
        // tables rightly learned that a 25-sigma burst happens daily).
        let m = 10 * per_day + 252;
        for k in 10 * per_day..m {
            bank.update(s, T0 - T0 % 86_400 + 300 * k, 50.0 + noise.gauss());
        }
        let odd = bank.update(s, T0 - T0 % 86_400 + 300 * m, 110.0);
        assert!(odd >= threshold, "burst at an odd hour scored {odd}");
    }

    #[test]
    fn healthy_series_rarely_alarms() {
        let mut noise = Noise(7);
        let (mut bank, s, start) = warmed_success_rate(1440, &mut noise);
        let threshold = bank.config().alarm_threshold;
        let alarms = (start..start + 3 * 1440)
            .filter(|m| bank.update(s, T0 + 60 * m, 99.5 + 0.15 * noise.gauss()) >= threshold)
            .count();
        assert!(alarms <= 1, "{alarms} false alarms in three days");
    }

    #[test]
    fn outage_alarms_at_onset_and_stays_alarmed() {
        let mut noise = Noise(11);
        let (mut bank, s, start) = warmed_success_rate(2 * 1440, &mut noise);
        let threshold = bank.config().alarm_threshold;
        let scores: Vec<f64> = (start..start + 30)
            .map(|m| bank.update(s, T0 + 60 * m, 92.0 + 0.15 * noise.gauss()))
            .collect();
        assert!(scores[0] >= threshold, "onset scored {}", scores[0]);
        let held = scores.iter().filter(|&&x| x >= threshold).count();
        assert_eq!(held, scores.len(), "{scores:?}");
    }

    #[test]
    fn one_absurd_sample_does_not_blind_the_series() {
        // A glitch (a unit mix-up, a counter read as garbage) far beyond
        // anything the series showed: an outage half a day later must still
        // alarm. (A glitch in the watched direction is an episode of its
        // own, whose peak damps what follows for a few hours by design.)
        for glitch in [1e6, 1e20, -1e20, 0.0] {
            let mut noise = Noise(29);
            let (mut bank, s, start) = warmed_success_rate(2 * 1440, &mut noise);
            let threshold = bank.config().alarm_threshold;
            bank.update(s, T0 + 60 * start, glitch);
            let mut m = start + 1;
            for _ in 0..12 * 60 {
                bank.update(s, T0 + 60 * m, 99.5 + 0.15 * noise.gauss());
                m += 1;
            }
            let onset = bank.update(s, T0 + 60 * m, 92.0 + 0.15 * noise.gauss());
            assert!(onset >= threshold, "after {glitch:e}: onset scored {onset}");
        }
    }

    #[test]
    fn slowly_developing_outage_alarms() {
        // A success rate sliding from 99.5 % towards 89.5 %, each minute 15 %
        // of the remaining way (caches expiring): no single step stands out,
        // and each minute is only a little more surprising than the last.
        let mut noise = Noise(23);
        let (mut bank, s, threshold) = one_series(Direction::Down);
        for m in 0..2 * 1440 {
            bank.update(s, T0 + 60 * m, 99.5 + noise.gauss());
        }
        let mut sev = 0.0;
        let scores: Vec<f64> = (2 * 1440..2 * 1440 + 60)
            .map(|m| {
                sev += (1.0 - sev) * 0.15;
                bank.update(s, T0 + 60 * m, 99.5 - 10.0 * sev + noise.gauss())
            })
            .collect();
        let first = scores.iter().position(|&x| x >= threshold);
        assert!(
            first.is_some_and(|m| m <= 10),
            "first alarm {first:?}: {scores:?}"
        );
    }

    #[test]
    fn missing_daily_peak_alarms() {
        // A 5-minute series that sits near 20 and rises to 80 from 09:00 to
        // 17:00 every day; on day 8 the rise never comes. Every value of that
        // day is ordinary in size, only wrong for the time of day, so only
        // the seasonal CUSUM can see it, and only if the baseline's first
        // day, when the profile is still unlearned, did not teach its rarity
        // table that a saturated CUSUM is routine.
        let (mut bank, s, threshold) = one_series(Direction::Both);
        let mut noise = Noise(29);
        let day0 = T0 - T0 % 86_400;
        let per_day = 288;
        let mut alarms_before = 0;
        let mut alarmed_on_day_8 = false;
        for m in 0..9 * per_day {
            let high = (108..204).contains(&(m % per_day)) && m / per_day != 8;
            let v = if high { 80.0 } else { 20.0 } + 2.0 * noise.gauss();
            let score = bank.update(s, day0 + 300 * m, v);
            if score >= threshold {
                if m / per_day == 8 {
                    alarmed_on_day_8 = true;
                } else if m >= 2 * per_day {
                    alarms_before += 1;
                }
            }
        }
        assert!(alarmed_on_day_8, "missing peak not detected");
        assert!(alarms_before <= 1, "{alarms_before} alarms on normal days");
    }

    #[test]
    fn holiday_on_a_weekday_alarms_but_weekends_do_not() {
        // A 30-minute series with a daily shape and quiet weekends (trips in
        // a city: 100 on weekday afternoons, 60 on weekend ones). In week 6 a
        // Wednesday looks like a Sunday. Each of its values is ordinary for
        // the time of day on some day of the week: only a profile that knows
        // the week sees the holiday.
        let (mut bank, s, threshold) = one_series(Direction::Both);
        let mut noise = Noise(37);
        // A Monday, midnight UTC.
        let monday = 1_700_438_400;
        let per_day = 48;
        let holiday = 5 * 7 + 2;
        let (mut weekend_alarms, mut holiday_alarms) = (0, 0);
        for m in 0..6 * 7 * per_day {
            let day = m / per_day;
            let hour = (m % per_day) as f64 / 2.0;
            let quiet = day % 7 >= 5 || day == holiday;
            let peak = if quiet { 60.0 } else { 100.0 };
            let shape = (std::f64::consts::PI * (hour - 6.0) / 12.0).sin().max(0.0);
            let v = 20.0 + (peak - 20.0) * shape + 2.0 * noise.gauss();
            let alarmed = bank.update(s, monday + 1800 * m, v) >= threshold;
            if alarmed && day == holiday {
                holiday_alarms += 1;
            } else if alarmed && day >= 21 && day % 7 >= 5 {
                weekend_alarms += 1;
            }
        }
        assert!(holiday_alarms >= 1, "the holiday went unnoticed");
        assert!(
            weekend_alarms <= 1,
            "{weekend_alarms} alarms on ordinary weekends"
        );
    }

    #[test]
    fn wrong_direction_is_not_anomalous() {
        let mut bank = DetectorBank::new(DetectorConfig::default());
        let s = bank.add_series(Direction::Down);
        let mut noise = Noise(3);
        for m in 0..1440 {
            bank.update(s, T0 + 60 * m, 50.0 + noise.gauss());
        }
        let up = bank.update(s, T0 + 60 * 1440, 80.0);
        assert!(up < 0.1, "upward jump on a Down series scored {up}");
        for m in 1441..1500 {
            bank.update(s, T0 + 60 * m, 50.0 + noise.gauss());
        }
        let down = bank.update(s, T0 + 60 * 1500, 20.0);
        assert!(down >= bank.config().alarm_threshold, "drop scored {down}");
    }

    #[test]
    fn a_series_that_recovered_alarms_when_it_breaks_again() {
        let mut noise = Noise(43);
        let (mut bank, s, start) = warmed_success_rate(2 * 1440, &mut noise);
        let threshold = bank.config().alarm_threshold;
        let at = |m: i64| T0 + 60 * m;
        // A short, deep outage, then a quiet three hours: the episode peak,
        // which decays slowly, is still high when the next one comes.
        for m in start..start + 3 {
            bank.update(s, at(m), 40.0);
        }
        for m in start + 3..start + 180 {
            bank.update(s, at(m), 99.5 + 0.15 * noise.gauss());
        }
        let again = bank.update(s, at(start + 180), 40.0);
        assert!(again >= threshold, "second outage scored {again}");
    }

    /// BENCHMARKS.md, "Repeat outages": the same outage back 130 minutes
    /// after a short one, the hold over, is damped as the first episode's
    /// tail (the engine's repeat watch sees it instead). The scores print
    /// with `--nocapture`; a change that alarms here must update that text.
    #[test]
    fn a_repeat_within_the_episodes_memory_is_damped() {
        for level in [92.0, 80.0] {
            let mut noise = Noise(53);
            let (mut bank, s, start) = warmed_success_rate(2 * 1440, &mut noise);
            let threshold = bank.config().alarm_threshold;
            let at = |m: i64| T0 + 60 * m;
            let first: Vec<f64> = (start..start + 3)
                .map(|m| bank.update(s, at(m), 92.0 + 0.15 * noise.gauss()))
                .collect();
            for m in start + 3..start + 130 {
                bank.update(s, at(m), 99.5 + 0.15 * noise.gauss());
            }
            let again: Vec<f64> = (start + 130..start + 160)
                .map(|m| bank.update(s, at(m), level + 0.15 * noise.gauss()))
                .collect();
            eprintln!("first outage {first:.2?}; back at {level} %: {again:.2?}");
            assert!(first.iter().all(|&x| x >= threshold), "{first:?}");
            assert!(again.iter().all(|&x| x < threshold), "{again:?}");
        }
    }

    #[test]
    fn a_lone_spike_ranks_below_the_same_spike_in_a_run() {
        // Two copies of one warmed series see the same dip; in one, the
        // sample before it was already a few deviations down. There the
        // dip continues a run, and scores higher than the lone one. (One
        // deep dip early on widens the range envelope, so that the range
        // test, which is not discounted, does not decide both scores.)
        let mut noise = Noise(47);
        let (mut lone, s, _) = one_series(Direction::Down);
        let start = 2 * 1440;
        for m in 0..start {
            let v = if m == 100 { 97.0 } else { 99.5 };
            lone.update(s, T0 + 60 * m, v + 0.15 * noise.gauss());
        }
        let mut run = lone.clone();
        let before = T0 + 60 * start;
        lone.update(s, before, 99.5);
        run.update(s, before, 99.5 - 2.5 * 0.15);
        let (a, b) = (
            lone.update(s, before + 60, 98.6),
            run.update(s, before + 60, 98.6),
        );
        assert!(a > 0.0 && b > a, "lone {a}, in a run {b}");
    }

    #[test]
    fn an_episode_that_outlasts_a_gap_in_the_data_ranks_above_the_ordinary() {
        // Without the hold, the samples after a shift's alarm are the tail of
        // an episode already scored: nothing. After four missing minutes the
        // first one still at the shifted level carries the episode's peak,
        // still above the news floor, so it scores the most a carry may:
        // below the alarm level. One back at the baseline carries nothing.
        let mut noise = Noise(3);
        let (mut bank, s, cfg) = warmed_without_hold(&mut noise, 3000, 60);
        let shifted: Vec<f64> = (3000..3020)
            .map(|m| bank.update(s, T0 + 60 * m, 30.0 + noise.gauss()))
            .collect();
        assert!(shifted[0] >= cfg.alarm_threshold, "{shifted:?}");
        assert_eq!(shifted[10..], [0.0; 10], "{shifted:?}");
        // Minutes 3020 and 3025 lie in one half-hour of the routine table.
        let next = |bank: &DetectorBank, minute: i64, value: f64| {
            bank.clone().update(s, T0 + 60 * minute, value)
        };
        let (on_time, after_gap) = (next(&bank, 3020, 30.0), next(&bank, 3025, 30.0));
        assert_eq!(on_time, 0.0);
        assert_eq!(after_gap, MAX_CARRIED_SCORE);
        let recovered = (next(&bank, 3020, 10.0), next(&bank, 3025, 10.0));
        assert_eq!(recovered.0, recovered.1, "{recovered:?}");
    }

    /// A series around 10 with unit noise, `samples` samples `step` seconds
    /// apart, its hold switched off: what follows an alarm is the episode
    /// filter's alone.
    fn warmed_without_hold(
        noise: &mut Noise,
        samples: i64,
        step: i64,
    ) -> (DetectorBank, u32, DetectorConfig) {
        let cfg = DetectorConfig {
            hold_sigmas: f64::INFINITY,
            ..DetectorConfig::default()
        };
        let mut bank = DetectorBank::new(cfg);
        let s = bank.add_series(Direction::Both);
        for i in 0..samples {
            bank.update(s, T0 + step * i, 10.0 + noise.gauss());
        }
        (bank, s, cfg)
    }

    #[test]
    fn level_shift_alarms_once_without_hold() {
        let mut noise = Noise(5);
        let (mut bank, s, cfg) = warmed_without_hold(&mut noise, 2000, 300);
        let alarms = (2000..2300)
            .filter(|m| bank.update(s, T0 + 300 * m, 40.0 + noise.gauss()) >= cfg.alarm_threshold)
            .count();
        assert!((1..=2).contains(&alarms), "{alarms} alarms for one shift");
    }

    /// The minutes, after the shift, that alarm through six hours of a shift
    /// of three standard deviations after two quiet days, for three noise
    /// seeds.
    fn sustained_shift_alarms(cfg: DetectorConfig) -> Vec<Vec<i64>> {
        [3, 29, 31]
            .map(|seed| {
                let mut bank = DetectorBank::new(cfg);
                let s = bank.add_series(Direction::Up);
                let mut noise = Noise(seed);
                for m in 0..2 * 1440 {
                    bank.update(s, T0 + 60 * m, 50.0 + noise.gauss());
                }
                (0..360)
                    .filter(|m| {
                        let at = T0 + 60 * (2 * 1440 + m);
                        bank.update(s, at, 53.0 + noise.gauss()) >= cfg.alarm_threshold
                    })
                    .collect()
            })
            .to_vec()
    }

    #[test]
    fn a_climbing_cusum_alarms_again_only_once_the_episode_has_faded() {
        let cfg = DetectorConfig::default();
        // One alarm at the shift, then none while the episode's peak stays
        // above the alarm level: the restarted CUSUM climbs again, but not
        // past the peak by its escalation margin. Once the peak has faded
        // below the alarm level (three to four hours here) the climb
        // reminds; without the restart the pinned sum would not.
        for alarms in sustained_shift_alarms(cfg) {
            let (&first, later) = alarms.split_first().expect("the shift alarms");
            assert!(first < 10, "{alarms:?}");
            assert!(later.iter().all(|&m| m >= first + 150), "{alarms:?}");
            assert!(later.iter().any(|&m| m <= first + 300), "{alarms:?}");
        }
        // At the point tests' margin the CUSUM's own climb alarms again
        // within the episode.
        let again = sustained_shift_alarms(DetectorConfig {
            cusum_escalate_margin: cfg.escalate_margin,
            ..cfg
        });
        for alarms in again {
            let (&first, later) = alarms.split_first().expect("the shift alarms");
            assert!(later.iter().any(|&m| m < first + 150), "{alarms:?}");
        }
    }

    /// The fast and mid tests' counts from 5.7 deviations up (the sixth
    /// rung, `4 * sqrt(2)`) after 3,000 samples of noise with a burst every
    /// fifty: `burst[k]` deviations on the k-th sample of each.
    fn tables_after_bursts(burst: &[f64]) -> (u32, u32) {
        let (mut bank, s, _) = one_series(Direction::Up);
        let mut noise = Noise(37);
        for m in 0..3000 {
            // The burst takes the last samples of every fifty.
            let into_burst = (m % 50) as usize + burst.len();
            let lift = into_burst.checked_sub(50).map_or(0.0, |k| burst[k]);
            bank.update(s, T0 + 60 * m, 50.0 + noise.gauss() + lift);
        }
        let [fast, mid, ..] = &bank.states[s as usize].rare_point;
        let high = |r: &Rarity| u32::from(r.tail[5]);
        (high(fast), high(mid))
    }

    #[test]
    fn each_point_test_learns_from_its_own_kind_of_sample() {
        // Lone 12-deviation spikes are the fast test's; the mid test counts
        // only the few that follow a noise sample beyond the persistence
        // gate (about one in fifteen: 1.5 deviations up).
        let (fast, mid) = tables_after_bursts(&[12.0]);
        assert!(
            fast >= 40 && mid <= 6,
            "lone spikes: fast {fast}, mid {mid}"
        );
        // A burst that rises over two samples, 4 then 12 deviations: its peak
        // follows an off sample, so the mid test speaks for it and the fast
        // test is silent (in the variant where it spoke too, measured once
        // and not kept, it counted 53 of the 60 peaks).
        let (fast, mid) = tables_after_bursts(&[4.0, 12.0]);
        assert!(
            fast <= 6 && mid >= 40,
            "two-sample bursts: fast {fast}, mid {mid}"
        );
    }

    #[test]
    fn first_value_beyond_a_months_range_alarms() {
        // A 5-minute series that flips at random between three levels
        // (33.4, 35.8 and 30.8, like a quantized CPU gauge): its fast spread
        // is wide, so a first-ever value a few spreads above the top level
        // is ordinary to the point test. It is new to the series all the same.
        let (mut bank, s, threshold) = one_series(Direction::Both);
        let mut noise = Noise(31);
        let levels = [33.4, 33.4, 33.4, 35.8, 30.8];
        let mut false_alarms = 0;
        let steps = 10 * 288;
        for m in 0..steps {
            let level = levels[(noise.uniform() * levels.len() as f64) as usize];
            let v = level + 0.1 * noise.gauss();
            if bank.update(s, T0 + 300 * m, v) >= threshold && m >= 2 * 288 {
                false_alarms += 1;
            }
        }
        assert!(false_alarms <= 1, "{false_alarms} false alarms");
        let new = bank.update(s, T0 + 300 * steps, 42.0);
        assert!(
            new >= threshold,
            "first value beyond the range scored {new}"
        );
    }

    #[test]
    fn spiky_series_learns_its_spikes() {
        let mut bank = DetectorBank::new(DetectorConfig::default());
        let s = bank.add_series(Direction::Both);
        let mut noise = Noise(9);
        let mut late = 0.0f64;
        for m in 0..6000 {
            let spike = if m % 50 == 0 { 30.0 } else { 0.0 };
            let score = bank.update(s, T0 + 300 * m, 5.0 + noise.gauss() + spike);
            if m >= 5000 && spike > 0.0 {
                late = late.max(score);
            }
        }
        assert!(
            late < bank.config().alarm_threshold,
            "routine spike scored {late}"
        );
    }

    #[test]
    fn non_finite_values_score_zero_and_change_nothing() {
        let mut bank = DetectorBank::new(DetectorConfig::default());
        let s = bank.add_series(Direction::Both);
        for m in 0..100 {
            bank.update(s, T0 + 60 * m, (m % 7) as f64);
        }
        let before = bank.states[s as usize];
        for v in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert_eq!(bank.update(s, T0 + 60 * 100, v), 0.0);
        }
        assert_eq!(bank.states[s as usize], before);
    }

    #[test]
    fn interval_update_matches_single_updates() {
        let mut a = DetectorBank::new(DetectorConfig::default());
        let mut b = DetectorBank::new(DetectorConfig::default());
        for d in [Direction::Down, Direction::Up, Direction::Both] {
            a.add_series(d);
            b.add_series(d);
        }
        let mut noise = Noise(13);
        let mut out = [0.0; 3];
        for m in 0..500 {
            let ts = T0 + 60 * m;
            let vals = [
                noise.gauss(),
                100.0 + noise.gauss(),
                if m == 400 {
                    f64::NAN
                } else {
                    1e6 * noise.gauss()
                },
            ];
            a.update_interval(ts, &vals, &mut out);
            for (i, &v) in vals.iter().enumerate() {
                assert_eq!(b.update(i as u32, ts, v), out[i]);
            }
        }
    }

    fn value() -> impl Strategy<Value = f64> {
        prop_oneof![
            4 => -1e3..1e3f64,
            1 => any::<f64>(),
            1 => Just(f64::NAN),
            1 => Just(f64::INFINITY),
            1 => Just(f64::MAX),
            1 => Just(-f64::MAX),
            1 => Just(0.0),
        ]
    }

    proptest! {
        /// The tail counts are those of a histogram of bins counted and
        /// halved as the rarity tables were before they kept tails.
        #[test]
        fn tail_counts_match_a_histogram_of_bins(
            // Log-uniform from 1 to past the cap, so every rung is drawn.
            steps in proptest::collection::vec(
                prop_oneof![9 => (0.0..21.0f64).prop_map(f64::exp2), 1 => Just(0.0)],
                0..600,
            ),
        ) {
            let t = Tuned::new(DetectorConfig::default());
            let mut table = Rarity::NEW;
            let mut hist = [0u16; LEVELS];
            for v in steps {
                // 0 stands for a halving.
                if v == 0.0 {
                    table.halve();
                    hist.iter_mut().for_each(|c| *c /= 2);
                } else {
                    table.p_value_then_learn(v, 0.0, &t, true);
                    hist[rung(v.min(Z_CAP)).0.min(LEVELS - 1)] += 1;
                }
                let tails: Vec<u16> = (0..LEVELS).map(|j| hist[j..].iter().sum()).collect();
                prop_assert_eq!(&table.tail[..], &tails[..]);
            }
        }

        #[test]
        fn scores_are_in_unit_interval_and_deterministic(
            samples in prop::collection::vec((-1_000i64..100_000, value()), 1..300),
            dir in 0u8..3,
        ) {
            let direction = [Direction::Down, Direction::Up, Direction::Both][dir as usize];
            let mut a = DetectorBank::new(DetectorConfig::default());
            let mut b = DetectorBank::new(DetectorConfig::default());
            let sa = a.add_series(direction);
            let sb = b.add_series(direction);
            let mut ts = T0;
            for (step, v) in samples {
                // Steps may go backwards, repeat or jump.
                ts = ts.saturating_add(step);
                let x = a.update(sa, ts, v);
                prop_assert!((0.0..=1.0).contains(&x), "score {x}");
                prop_assert_eq!(x.to_bits(), b.update(sb, ts, v).to_bits());
            }
        }

        /// Minutes of samples of four warmed-up series, in any order, some
        /// missing, some twice, more than [`PREFETCH_AHEAD`] at once.
        #[test]
        fn samples_update_matches_single_updates(
            minutes in prop::collection::vec(
                prop::collection::vec((0u32..4, value()), 0..3 * PREFETCH_AHEAD),
                1..20,
            ),
        ) {
            let mut a = DetectorBank::new(DetectorConfig::default());
            for d in [Direction::Down, Direction::Up, Direction::Both, Direction::Up] {
                a.add_series(d);
            }
            // Past the warm-up and the CUSUM's first day, where every test
            // and the episode filter run.
            let mut noise = Noise(5);
            let mut out = [0.0; 4];
            let warm = CUSUM_LIVE_SECS / 60;
            for m in 0..warm {
                let vals = [0.0, 1.0, 2.0, 3.0].map(|level| level + noise.gauss());
                a.update_interval(T0 + 60 * m, &vals, &mut out);
            }
            let mut b = a.clone();
            for (m, minute) in minutes.iter().enumerate() {
                let ts = T0 + 60 * (warm + m as i64);
                let samples: Vec<Sample> = minute
                    .iter()
                    .map(|&(series, value)| Sample { series, value })
                    .collect();
                let mut scores = vec![0.0; samples.len()];
                a.update_samples(ts, &samples, &mut scores);
                for (s, score) in samples.iter().zip(scores) {
                    prop_assert_eq!(b.update(s.series, ts, s.value).to_bits(), score.to_bits());
                }
            }
            prop_assert!(a.states == b.states);
        }

        #[test]
        fn extreme_timestamps_do_not_panic(
            samples in prop::collection::vec((any::<i64>(), value()), 1..100),
        ) {
            let mut bank = DetectorBank::new(DetectorConfig::default());
            let s = bank.add_series(Direction::Both);
            for (ts, v) in samples {
                let x = bank.update(s, ts, v);
                prop_assert!((0.0..=1.0).contains(&x));
            }
        }
    }
}
