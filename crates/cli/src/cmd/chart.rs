//! A scored series as an SVG, for looking rather than reading a column of
//! scores: `dialtone detect --plot` and `dialtone bench nab|kpi --plot-dir`.
//!
//! The series streams through an [`Envelope`] of at most [`COLUMNS`] time
//! columns, each keeping the least and greatest value, the highest score,
//! the alarms and the labelled samples that fell in it, so a file of
//! millions of rows draws in constant memory and every spike stays visible.

use std::fmt::Write as _;

use dialtone_model::Timestamp;

/// Most time columns of the chart, and its plot width in pixels: the
/// columns in use stretch over it.
pub const COLUMNS: usize = 1000;

const LEFT: f64 = 80.0;
const WIDTH: f64 = LEFT + COLUMNS as f64 + 20.0;
const VALUE_TOP: f64 = 50.0;
const VALUE_BOTTOM: f64 = 270.0;
const SCORE_TOP: f64 = 300.0;
const SCORE_BOTTOM: f64 = 400.0;
const HEIGHT: f64 = 440.0;
const TIME_TICKS: usize = 5;
/// Least width of a column's shading, so a lone alarmed sample shows.
const SHADE_MIN_PX: f64 = 3.0;
const ALARM_COLOUR: &str = "#d93025";
const LABEL_COLOUR: &str = "#e8710a";
const GREY_COLOUR: &str = "#9aa0a6";
const GREY_TEXT_COLOUR: &str = "#5f6368";
/// Mean sample steps between two samples beyond which the chart shows a gap.
const GAP_STEPS: f64 = 3.0;

/// What fell in one time column.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Column {
    lo: f64,
    hi: f64,
    score: f64,
    alarms: u64,
    labelled: u64,
}

impl Column {
    const EMPTY: Column = Column {
        lo: f64::INFINITY,
        hi: f64::NEG_INFINITY,
        score: 0.0,
        alarms: 0,
        labelled: 0,
    };

    fn is_empty(&self) -> bool {
        self.lo > self.hi
    }

    fn merge(self, other: Column) -> Column {
        Column {
            lo: self.lo.min(other.lo),
            hi: self.hi.max(other.hi),
            score: self.score.max(other.score),
            alarms: self.alarms + other.alarms,
            labelled: self.labelled + other.labelled,
        }
    }
}

/// A streaming min/max envelope of a scored series: columns of equal time
/// width from the first sample on, the width doubling (neighbouring columns
/// merged) whenever a sample falls beyond the last column.
#[derive(Debug, Clone)]
pub struct Envelope {
    threshold: f64,
    /// The first and the latest sample's timestamps.
    span: Option<(Timestamp, Timestamp)>,
    samples: u64,
    width_secs: u64,
    columns: Vec<Column>,
    /// Samples before this time are shaded grey: a part of the series the
    /// benchmark treats apart (NAB's probation).
    grey_before: Option<Timestamp>,
}

impl Envelope {
    /// An empty envelope; samples added with [`Envelope::add`] scoring at or
    /// above `threshold` count as alarms (flagged samples), and the chart
    /// draws `threshold` as a line.
    pub fn new(threshold: f64) -> Envelope {
        Envelope {
            threshold,
            span: None,
            samples: 0,
            width_secs: 1,
            columns: Vec::new(),
            grey_before: None,
        }
    }

    /// Adds a scored sample (finite `value`), not earlier than the last one
    /// (an earlier one is drawn in the first column); `labelled` if the input
    /// marks it anomalous (a `label` column of 1). Returns whether it alarmed.
    pub fn add(&mut self, timestamp: Timestamp, value: f64, score: f64, labelled: bool) -> bool {
        let alarmed = score >= self.threshold;
        self.add_marked(timestamp, value, score, alarmed, labelled);
        alarmed
    }

    /// Adds a scored sample as [`Envelope::add`] does, with the caller
    /// deciding what the red shading marks (`flagged`), such as only the
    /// flags a benchmark counts as false positives.
    pub fn add_marked(
        &mut self,
        timestamp: Timestamp,
        value: f64,
        score: f64,
        flagged: bool,
        labelled: bool,
    ) {
        let (start, last) = self.span.get_or_insert((timestamp, timestamp));
        *last = (*last).max(timestamp);
        let start = *start;
        self.samples += 1;
        let offset = timestamp.saturating_sub(start).max(0) as u64;
        while offset / self.width_secs >= COLUMNS as u64 {
            self.widen();
        }
        let k = (offset / self.width_secs) as usize;
        if self.columns.len() <= k {
            self.columns.resize(k + 1, Column::EMPTY);
        }
        let c = &mut self.columns[k];
        *c = c.merge(Column {
            lo: value,
            hi: value,
            score,
            alarms: u64::from(flagged),
            labelled: u64::from(labelled),
        });
    }

    /// Doubles the column width, merging neighbouring columns.
    fn widen(&mut self) {
        self.width_secs = self.width_secs.saturating_mul(2);
        self.columns = self
            .columns
            .chunks(2)
            .map(|pair| pair.iter().fold(Column::EMPTY, |a, &b| a.merge(b)))
            .collect();
    }

    /// Samples flagged: at or above the threshold, or as marked by
    /// [`Envelope::add_marked`].
    pub fn alarms(&self) -> u64 {
        self.columns.iter().map(|c| c.alarms).sum()
    }

    /// Shades the samples before `t` grey; the legend says why.
    pub fn grey_before(&mut self, t: Timestamp) {
        self.grey_before = Some(t);
    }

    /// The score at and above which a sample counts as an alarm.
    pub fn threshold(&self) -> f64 {
        self.threshold
    }

    /// Samples labelled anomalous.
    pub fn labelled(&self) -> u64 {
        self.columns.iter().map(|c| c.labelled).sum()
    }

    /// The chart: values as a min/max band over time, scores below with the
    /// threshold, flagged columns shaded red and labelled ones amber behind
    /// them. `title`, `caption` and the legend are plain text.
    pub fn render_svg(&self, title: &str, caption: &str, legend: Legend) -> String {
        let mut svg = format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{HEIGHT}\" \
             viewBox=\"0 0 {WIDTH} {HEIGHT}\" font-family=\"sans-serif\" font-size=\"11\" \
             role=\"img\" aria-label=\"{t}\">\n<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\n\
             <text x=\"{LEFT}\" y=\"20\" font-size=\"14\" font-weight=\"bold\">{t}</text>\n\
             <text x=\"{LEFT}\" y=\"38\" fill=\"#555\">{c}</text>\n",
            t = escape(title),
            c = escape(caption),
        );
        // The legend of the shading, top right.
        let right = LEFT + COLUMNS as f64;
        let mut key = format!(
            "<tspan fill=\"{ALARM_COLOUR}\">shaded red: {}</tspan>",
            escape(legend.flagged)
        );
        if self.labelled() > 0 {
            let _ = write!(
                key,
                "  <tspan fill=\"{LABEL_COLOUR}\">amber: {}</tspan>",
                escape(legend.labelled)
            );
        }
        if self.grey_before.is_some() {
            let _ = write!(
                key,
                "  <tspan fill=\"{GREY_TEXT_COLOUR}\">grey: {}</tspan>",
                escape(legend.grey)
            );
        }
        let _ = writeln!(
            svg,
            "<text x=\"{right}\" y=\"20\" text-anchor=\"end\">{key}</text>"
        );
        let (lo, hi) = self.value_range();
        // Halves first: `hi - lo` may overflow for values near the largest float.
        let value_y = |v: f64| {
            VALUE_BOTTOM - (v / 2.0 - lo / 2.0) / (hi / 2.0 - lo / 2.0) * (VALUE_BOTTOM - VALUE_TOP)
        };
        let score_y = |s: f64| SCORE_BOTTOM - s * (SCORE_BOTTOM - SCORE_TOP);
        let x = |k: usize| self.x(k as f64);
        let px = self.column_px();
        if let Some(t) = self.grey_before {
            let _ = writeln!(
                svg,
                "<rect x=\"{LEFT}\" y=\"{VALUE_TOP}\" width=\"{:.1}\" height=\"{}\" fill=\"{GREY_COLOUR}\" opacity=\"0.25\"/>",
                (self.x_at(t) - LEFT).max(0.0),
                SCORE_BOTTOM - VALUE_TOP
            );
        }
        // One rectangle per stretch of shaded samples (empty columns between
        // them aside, gaps not): overlapping ones at partial opacity would draw
        // stripes, and a sparse series would show a comb.
        let runs = self.runs();
        let shade = |svg: &mut String, shaded: &dyn Fn(&Column) -> bool, colour: &str| {
            for run in &runs {
                for stretch in
                    run.chunk_by(|&a, &b| shaded(&self.columns[a]) == shaded(&self.columns[b]))
                {
                    if !shaded(&self.columns[stretch[0]]) {
                        continue;
                    }
                    let half = px.max(SHADE_MIN_PX) / 2.0;
                    let left = x(stretch[0]) - half;
                    let right = x(stretch[stretch.len() - 1]) + half;
                    let _ = writeln!(
                        svg,
                        "<rect x=\"{left:.1}\" y=\"{VALUE_TOP}\" width=\"{:.1}\" height=\"{}\" fill=\"{colour}\" opacity=\"0.3\"/>",
                        right - left,
                        SCORE_BOTTOM - VALUE_TOP
                    );
                }
            }
        };
        shade(&mut svg, &|c| c.labelled > 0, LABEL_COLOUR);
        shade(&mut svg, &|c| c.alarms > 0, ALARM_COLOUR);
        for run in runs {
            // The band: forward along the highs, back along the lows.
            let mut d = String::new();
            for (i, &k) in run.iter().enumerate() {
                let cmd = if i == 0 { 'M' } else { 'L' };
                let _ = write!(d, "{cmd}{:.1},{:.1}", x(k), value_y(self.columns[k].hi));
            }
            for &k in run.iter().rev() {
                let _ = write!(d, "L{:.1},{:.1}", x(k), value_y(self.columns[k].lo));
            }
            let _ = writeln!(
                svg,
                "<path d=\"{d}Z\" fill=\"#8ab4f8\" stroke=\"#1a73e8\" stroke-width=\"1\" stroke-linejoin=\"round\" stroke-linecap=\"round\"/>"
            );
            let points: Vec<String> = (run.iter())
                .map(|&k| format!("{:.1},{:.1}", x(k), score_y(self.columns[k].score)))
                .collect();
            let _ = writeln!(
                svg,
                "<polyline points=\"{}\" fill=\"none\" stroke=\"#555\" stroke-width=\"1\" stroke-linecap=\"round\"/>",
                points.join(" ")
            );
        }
        // A threshold above every score (a sweep that flags nothing) has no line.
        let ty = score_y(self.threshold);
        if self.threshold <= 1.0 {
            let _ = writeln!(
                svg,
                "<line x1=\"{LEFT}\" x2=\"{right}\" y1=\"{ty:.1}\" y2=\"{ty:.1}\" stroke=\"{ALARM_COLOUR}\" stroke-dasharray=\"4 3\"/>\n\
             <text x=\"{:.1}\" y=\"{:.1}\" fill=\"{ALARM_COLOUR}\" text-anchor=\"end\">{} {}</text>",
                right,
                ty - 3.0,
                escape(legend.threshold),
                number(self.threshold)
            );
        }
        for (label, y) in [
            (number(hi), VALUE_TOP + 4.0),
            (number(lo), VALUE_BOTTOM),
            ("score 1".to_owned(), SCORE_TOP + 4.0),
            ("0".to_owned(), SCORE_BOTTOM),
        ] {
            let _ = writeln!(
                svg,
                "<text x=\"{:.1}\" y=\"{y:.1}\" text-anchor=\"end\" fill=\"#555\">{label}</text>",
                LEFT - 6.0
            );
        }
        let ticks = self.time_ticks();
        for (i, (x, label)) in ticks.iter().enumerate() {
            // The outer labels align inwards, so none runs off the chart.
            let anchor = match i {
                0 => "start",
                _ if i + 1 == ticks.len() => "end",
                _ => "middle",
            };
            let _ = writeln!(
                svg,
                "<line x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"{SCORE_BOTTOM}\" y2=\"{:.1}\" stroke=\"#555\"/>\n\
                 <text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"{anchor}\" fill=\"#555\">{label}</text>",
                SCORE_BOTTOM + 4.0,
                SCORE_BOTTOM + 18.0
            );
        }
        svg.push_str("</svg>\n");
        svg
    }

    /// The least and greatest value, widened where they are equal (a flat
    /// series draws mid-panel).
    fn value_range(&self) -> (f64, f64) {
        let lo = self
            .columns
            .iter()
            .map(|c| c.lo)
            .fold(f64::INFINITY, f64::min);
        let hi = (self.columns.iter().map(|c| c.hi)).fold(f64::NEG_INFINITY, f64::max);
        if lo < hi {
            (lo, hi)
        } else {
            let mid = if lo.is_finite() { lo } else { 0.0 };
            (mid - 1.0, mid + 1.0)
        }
    }

    /// The non-empty columns, split where samples are more than
    /// [`GAP_STEPS`] mean steps apart: gaps in the data stay gaps, while a
    /// series sparser than the columns still draws as a line.
    fn runs(&self) -> Vec<Vec<usize>> {
        let span = self
            .span
            .map_or(0, |(start, last)| last.saturating_sub(start));
        let mean_step = span as f64 / self.samples.saturating_sub(1).max(1) as f64;
        let gap_columns = (GAP_STEPS * mean_step / self.width_secs as f64).max(1.0);
        let mut runs: Vec<Vec<usize>> = Vec::new();
        let filled = (self.columns.iter().enumerate()).filter(|(_, c)| !c.is_empty());
        for (k, _) in filled {
            match runs.last_mut() {
                Some(run) if run.last().is_some_and(|&j| (k - j) as f64 <= gap_columns) => {
                    run.push(k)
                }
                _ => runs.push(vec![k]),
            }
        }
        runs
    }

    /// Evenly spaced time labels (UTC) from the first sample to the last.
    fn time_ticks(&self) -> Vec<(f64, String)> {
        let Some((start, last)) = self.span else {
            return Vec::new();
        };
        let span = last.saturating_sub(start);
        let ticks = if span == 0 { 1 } else { TIME_TICKS };
        let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]");
        (0..ticks)
            .map(|i| {
                let t = start + (span as i128 * i as i128 / (TIME_TICKS - 1) as i128) as i64;
                let x = self.x_at(t);
                let label = time::OffsetDateTime::from_unix_timestamp(t)
                    .ok()
                    .and_then(|d| d.format(&format).ok())
                    .unwrap_or_else(|| t.to_string());
                (x, label)
            })
            .collect()
    }

    /// Pixels per column: the columns in use stretch over the chart's width,
    /// the first one's centre at its left edge and the last one's at its right.
    fn column_px(&self) -> f64 {
        COLUMNS as f64 / self.columns.len().saturating_sub(1).max(1) as f64
    }

    /// The x-coordinate of time `t` (a sample's column is where its time
    /// falls, rounded down).
    fn x_at(&self, t: Timestamp) -> f64 {
        let start = self.span.map_or(t, |(start, _)| start);
        self.x(t.saturating_sub(start) as f64 / self.width_secs as f64)
    }

    /// The x-coordinate of column position `k` (fractional for a time between
    /// column centres); a single column sits mid-chart.
    fn x(&self, k: f64) -> f64 {
        if self.columns.len() <= 1 {
            LEFT + COLUMNS as f64 / 2.0
        } else {
            (LEFT + k * self.column_px()).min(LEFT + COLUMNS as f64)
        }
    }
}

/// What the chart's shading means.
#[derive(Debug, Clone, Copy)]
pub struct Legend<'a> {
    /// The threshold line's label, before its value (e.g. "alarm").
    pub threshold: &'a str,
    /// Samples shaded red: at or above the threshold (e.g. "alarm"), unless
    /// added with [`Envelope::add_marked`].
    pub flagged: &'a str,
    /// Samples the input labels anomalous (e.g. "NAB window").
    pub labelled: &'a str,
    /// Samples before [`Envelope::grey_before`] (e.g. "probation").
    pub grey: &'a str,
}

/// A value label: at most four decimals, in exponent form where fixed
/// notation would be long or lose the value.
fn number(v: f64) -> String {
    if v != 0.0 && !(1e-3..1e6).contains(&v.abs()) {
        format!("{v:.3e}")
    } else {
        let s = format!("{v:.4}");
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    }
}

/// `s` with XML's special characters escaped and the control characters
/// XML forbids dropped (a file name may hold anything).
fn escape(s: &str) -> String {
    s.chars()
        .filter(|&c| !c.is_control() || matches!(c, '\t' | '\n' | '\r'))
        .collect::<String>()
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_small_series_renders_as_before() {
        let mut e = Envelope::new(0.52);
        for i in 0..40 {
            let value = if i == 30 {
                9.0
            } else {
                1.0 + (i % 3) as f64 * 0.5
            };
            let score = if i == 30 { 0.8 } else { 0.05 * (i % 4) as f64 };
            // A gap: rows 20 to 24 are missing.
            if !(20..25).contains(&i) {
                e.add(1_700_000_000 + 60 * i, value, score, (29..32).contains(&i));
            }
        }
        assert_eq!((e.alarms(), e.labelled()), (1, 3));
        e.grey_before(1_700_000_000 + 60 * 5);
        let legend = Legend {
            threshold: "alarm",
            flagged: "alarm",
            labelled: "labelled",
            grey: "not scored",
        };
        insta::assert_snapshot!(e.render_svg("cpu <host> & co", "40 rows, 1 alarm", legend));
    }

    #[test]
    fn an_empty_or_flat_series_still_renders() {
        let legend = Legend {
            threshold: "alarm",
            flagged: "alarm",
            labelled: "labelled",
            grey: "not scored",
        };
        let svg = Envelope::new(0.52).render_svg("empty", "", legend);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>\n"));
        let mut flat = Envelope::new(0.52);
        flat.add(0, 5.0, 0.0, false);
        assert_eq!(flat.value_range(), (4.0, 6.0));
        assert!(!flat.render_svg("flat", "", legend).contains("NaN"));
    }

    #[test]
    fn labels_are_short() {
        assert_eq!(number(12.5), "12.5");
        assert_eq!(number(0.0), "0");
        assert_eq!(number(-3.0), "-3");
        assert_eq!(number(12_345_678.0), "1.235e7");
        assert_eq!(number(0.000_012), "1.200e-5");
        assert_eq!(escape("a\u{1}<b>"), "a&lt;b&gt;");
    }

    proptest! {
        #[test]
        fn the_envelope_keeps_every_extreme_and_alarm_in_bounded_columns(
            steps in proptest::collection::vec(
                (0i64..100_000, -1e9f64..1e9, 0.0f64..=1.0, any::<bool>()), 1..2000)
        ) {
            let mut e = Envelope::new(0.52);
            // From before 1970 on: timestamps may be negative.
            let mut t = -5_000_000;
            for &(step, value, score, labelled) in &steps {
                t += step;
                e.add(t, value, score, labelled);
            }
            prop_assert!(e.columns.len() <= COLUMNS);
            let min = steps.iter().map(|s| s.1).fold(f64::INFINITY, f64::min);
            let max = steps.iter().map(|s| s.1).fold(f64::NEG_INFINITY, f64::max);
            let top = steps.iter().map(|s| s.2).fold(0.0, f64::max);
            let alarms = steps.iter().filter(|s| s.2 >= 0.52).count() as u64;
            let labelled = steps.iter().filter(|s| s.3).count() as u64;
            let lo = e.columns.iter().map(|c| c.lo).fold(f64::INFINITY, f64::min);
            let hi = e.columns.iter().map(|c| c.hi).fold(f64::NEG_INFINITY, f64::max);
            let score = e.columns.iter().map(|c| c.score).fold(0.0, f64::max);
            prop_assert_eq!(
                (lo, hi, score, e.alarms(), e.labelled()),
                (min, max, top, alarms, labelled)
            );
            // The last sample lands in the last column.
            prop_assert!(!e.columns.last().unwrap().is_empty());
            // Every tick lies on the chart.
            for (x, _) in e.time_ticks() {
                prop_assert!((LEFT..=LEFT + COLUMNS as f64).contains(&x), "tick at {x}");
            }
        }
    }
}
