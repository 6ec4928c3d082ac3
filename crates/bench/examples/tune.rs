//! Development harness for the detector's generic settings: NAB (all three
//! profiles) and AIOps KPI figures for several configurations in one process,
//! data read once.
//!
//! `cargo run --release -p dialtone-bench --example tune -- NAB_DIR KPI_DIR '' 'cusum_k=1,prior_samples=100'`
//!
//! An empty argument is the default configuration. `VERBOSE=1` lists, per NAB
//! file, where each window was first detected and the false-positive rows at
//! the standard profile's threshold; `NOKPI=1` skips the KPI set; `DUMP=DIR`
//! writes every file's `timestamp,value,score` rows to DIR (NAB files named
//! after their path, KPI files `kpi__<file stem>` with `label,is_test` appended) for
//! plotting or ad-hoc analysis. `FIXED=0.42,0.437` adds each profile's
//! score at those fixed thresholds: the sweep's best is jagged (a few rows
//! near it decide a point or more), so a small gain should hold at fixed
//! thresholds too. `KPI_FIXED=0.142,0.159` does the same for the KPI F1 on
//! the train and the test halves, to see how flat the train sweep is.
//! `BOOT=500` resamples the NAB files with replacement that many times and
//! prints the standard profile's distribution over the resamples (each with
//! its own threshold sweep), side by side with Numenta HTM's official result
//! files (`results/numenta/`) on the same resamples: how much of the figure
//! a different draw of files would move, and how often the lead holds.
//! `NAB_GAPS=0.05` drops runs of 1 to 30 rows, about that fraction of each
//! NAB file (never a window's bound), as irregular feeds have gaps; with
//! `NAB_GAPS_UNSEEN=1` the detector still sees every row and only the scorer
//! loses them, which separates the detector's handling of gaps from what
//! the missing rows cost the score (not with `BOOT`).
//! `GAPS=0.02` drops runs of 1 to 30 rows, about that fraction of each KPI
//! file, before detection and scoring (the same runs every time): the
//! original challenge files have gaps where this copy interpolated, and the
//! challenge's grid splits a labelled run at each gap. `GAP_SEED=n` draws
//! other runs, for both. `FILLS=2` instead drops the points this copy most
//! likely filled by linear interpolation (the inner points of runs of equal,
//! nonzero steps with at least that many inner points): an approximation of
//! the original files' gaps.

use std::path::Path;

use dialtone_bench::kpi::{self, DELAY};
use dialtone_bench::nab::{self, LabeledFile};
use dialtone_bench::online::OnlineSeries;
use dialtone_bench::series::{SeriesReader, parse_timestamp};
use dialtone_detect::DetectorConfig;

type Rows = Vec<(i64, Option<f64>)>;

/// A KPI file as read (by `kpi::read_file`), its columns apart.
struct KpiFile {
    name: String,
    timestamps: Vec<i64>,
    values: Vec<Option<f64>>,
    labels: Vec<bool>,
    is_test: Vec<bool>,
}

fn config(spec: &str) -> DetectorConfig {
    let mut c = DetectorConfig::default();
    for kv in spec.split(',').filter(|s| !s.is_empty()) {
        let (k, v) = kv.split_once('=').expect("key=value");
        let v: f64 = v.parse().expect("number");
        match k {
            "fast_alpha" => c.fast_alpha = v,
            "mid_alpha" => c.mid_alpha = v,
            "spread_alpha" => c.spread_alpha = v,
            "slow_days" => c.slow_days = v,
            "season_days" => c.season_days = v,
            "range_days" => c.range_days = v,
            "week_memory_weeks" => c.week_memory_weeks = v,
            "cusum_k" => c.cusum_k = v,
            "rarity_memory" => c.rarity_memory = v,
            "prior_samples" => c.prior_samples = v,
            "prior_exponent" => c.prior_exponent = v,
            "escalate_margin" => c.escalate_margin = v,
            "cusum_escalate_margin" => c.cusum_escalate_margin = v,
            "peak_decay" => c.peak_decay = v,
            "rise_peak_weight" => c.rise_peak_weight = v,
            "routine_decay" => c.routine_decay = v,
            "routine_margin" => c.routine_margin = v,
            "hold_sigmas" => c.hold_sigmas = v,
            "hold_secs" => c.hold_secs = v as i64,
            "hold_span" => c.hold_span = v,
            "lone_penalty" => c.lone_penalty = v,
            "persist_gate" => c.persist_gate = v,
            "warmup_samples" => c.warmup_samples = v as u32,
            _ => panic!("unknown key {k}"),
        }
    }
    c
}

/// The comma-separated thresholds in environment variable `var`, if set.
fn thresholds(var: &str) -> Vec<f64> {
    std::env::var(var).map_or_else(
        |_| Vec::new(),
        |list| {
            list.split(',')
                .map(|x| {
                    x.trim()
                        .parse()
                        .unwrap_or_else(|_| panic!("{var}: {x:?} is not a number"))
                })
                .collect()
        },
    )
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let nab_dir = Path::new(&args[1]);
    let kpi_dir = Path::new(&args[2]);
    let verbose = std::env::var("VERBOSE").is_ok();
    let fixed = thresholds("FIXED");
    let kpi_fixed = thresholds("KPI_FIXED");
    let dump = std::env::var_os("DUMP").map(std::path::PathBuf::from);
    let profiles = nab::load_profiles(&nab_dir.join("config/profiles.json")).unwrap();
    let labels = nab::load_window_labels(&nab_dir.join("labels/combined_windows.json")).unwrap();
    let nab_gaps: Option<f64> = std::env::var("NAB_GAPS")
        .ok()
        .map(|f| f.parse().expect("NAB_GAPS=<fraction of rows>"));
    let unseen = std::env::var("NAB_GAPS_UNSEEN").is_ok();
    let gap_seed: u64 =
        std::env::var("GAP_SEED").map_or(0, |s| s.parse().expect("GAP_SEED=<integer>"));
    let mut nab_files: Vec<(LabeledFile, Rows)> = Vec::new();
    // With `NAB_GAPS_UNSEEN`, each file's whole stream and which rows are scored.
    let mut nab_streams: Vec<Option<(Rows, Vec<bool>)>> = Vec::new();
    for d in nab::data_files(nab_dir).unwrap() {
        let mut r = SeriesReader::open(&d.path).unwrap();
        let mut rows = Vec::new();
        while let Some(row) = r.next_row().unwrap() {
            rows.push((row.timestamp, row.value));
        }
        let mut stream = None;
        if let Some(fraction) = nab_gaps {
            // Window bounds are rows in NAB's labels, so they stay.
            let bounds: Vec<i64> = (labels[&d.name].iter().flatten())
                .map(|b| parse_timestamp(b).unwrap())
                .collect();
            let mut keep = gap_mask(rows.len(), fraction, gap_seed);
            for (k, row) in keep.iter_mut().zip(&rows) {
                *k |= bounds.contains(&row.0);
            }
            if unseen {
                stream = Some((rows.clone(), keep.clone()));
            }
            retain_kept(&mut rows, &keep);
        }
        let ts: Vec<i64> = rows.iter().map(|r| r.0).collect();
        let f = LabeledFile::locate(&d.name, &ts, &labels[&d.name]).unwrap();
        nab_files.push((f, rows));
        nab_streams.push(stream);
    }
    let skip_kpi = std::env::var("NOKPI").is_ok();
    let boot: Option<usize> = std::env::var("BOOT")
        .ok()
        .map(|n| n.parse().expect("BOOT=<resamples>"));
    let gaps: Option<f64> = std::env::var("GAPS")
        .ok()
        .map(|f| f.parse().expect("GAPS=<fraction of rows>"));
    let fills: Option<usize> = std::env::var("FILLS")
        .ok()
        .map(|n| n.parse().expect("FILLS=<least run of equal steps>"));
    let mut kpi_files: Vec<KpiFile> = Vec::new();
    if !skip_kpi {
        for p in kpi::data_files(kpi_dir).unwrap() {
            let (rows, _) = kpi::read_file(&p).unwrap_or_else(|e| panic!("{e}"));
            let mut file = KpiFile {
                name: p.file_stem().unwrap().to_string_lossy().into_owned(),
                timestamps: rows.iter().map(|r| r.timestamp).collect(),
                values: rows.iter().map(|r| r.value).collect(),
                labels: rows.iter().map(|r| r.label).collect(),
                is_test: rows.iter().map(|r| r.is_test).collect(),
            };
            let keep = match (gaps, fills) {
                (Some(fraction), _) => Some(gap_mask(rows.len(), fraction, gap_seed)),
                (None, Some(least)) => Some(fill_mask(&file.values, least)),
                (None, None) => None,
            };
            if let Some(keep) = keep {
                retain_kept(&mut file.timestamps, &keep);
                retain_kept(&mut file.values, &keep);
                retain_kept(&mut file.labels, &keep);
                retain_kept(&mut file.is_test, &keep);
            }
            kpi_files.push(file);
        }
    }
    // Numenta HTM's side of the NAB bootstrap: the same for every configuration.
    let htm = boot.map(|n| Htm::load(nab_dir, &nab_files, standard(&profiles), n));
    for spec in &args[3..] {
        let cfg = config(spec);
        let scored: Vec<Vec<f64>> = nab_files
            .iter()
            .zip(&nab_streams)
            .map(|((_, rows), stream)| {
                let mut d = OnlineSeries::new(cfg);
                match stream {
                    None => rows.iter().map(|&(t, v)| d.score(t, v)).collect(),
                    Some((all, keep)) => (all.iter().zip(keep))
                        .map(|(&(t, v), &k)| (d.score(t, v), k))
                        .filter(|x| x.1)
                        .map(|x| x.0)
                        .collect(),
                }
            })
            .collect();
        let inputs = scored_set(&nab_files, &scored);
        if let Some(dir) = &dump {
            for ((f, rows), s) in nab_files.iter().zip(&scored) {
                let path = dir.join(f.name.replace('/', "__"));
                let body: String = rows
                    .iter()
                    .zip(s)
                    .map(|(&(t, v), x)| format!("{t},{},{x}\n", v.unwrap_or(f64::NAN)))
                    .collect();
                std::fs::write(path, body).unwrap();
            }
        }
        let scored: usize = nab_files.iter().map(|(f, _)| f.scored_windows()).sum();
        let labelled: usize = nab_files.iter().map(|(f, _)| f.windows.len()).sum();
        let mut out = format!("{spec:40}");
        for p in &profiles {
            let best = nab::sweep(&inputs, &p.costs).unwrap();
            let n = nab::normalized(best.score, &p.costs, scored, labelled).unwrap();
            out += &format!(
                " {}={n:.2}@{:.3}",
                &p.name[..p.name.len().min(10)],
                best.threshold
            );
            for &th in &fixed {
                let raw: f64 = inputs
                    .iter()
                    .map(|(f, s)| nab::score_file(f, s, &p.costs, th).unwrap().score)
                    .sum();
                let n = nab::normalized(raw, &p.costs, scored, labelled).unwrap();
                out += &format!(" [{n:.2}@{th}]");
            }
            if verbose && p.name == "standard" {
                for (f, s) in &inputs {
                    let fs = nab::score_file(f, s, &p.costs, best.threshold).unwrap();
                    let first: Vec<String> = f
                        .windows
                        .iter()
                        .map(
                            |w| match (w.start..=w.end).find(|&i| s[i] >= best.threshold) {
                                Some(i) => format!("{}/{}", i - w.start, w.end - w.start + 1),
                                None => "miss".into(),
                            },
                        )
                        .collect();
                    let p0 = nab::probation_rows(f.rows);
                    let fps: Vec<usize> = (p0..f.rows)
                        .filter(|&i| {
                            s[i] >= best.threshold && !f.windows.iter().any(|w| w.contains(i))
                        })
                        .collect();
                    println!(
                        "  {:60} {:8.3} win {:?} fp {} {:?}",
                        f.name,
                        fs.score,
                        first,
                        fps.len(),
                        &fps[..fps.len().min(12)]
                    );
                }
            }
        }
        if let Some(htm) = &htm {
            htm.compare(&inputs, standard(&profiles));
        }
        if !skip_kpi {
            let mut pool = kpi::Pool::default();
            let mut halves = Vec::new();
            for KpiFile {
                name,
                timestamps: ts,
                values,
                labels: l,
                is_test: t,
            } in &kpi_files
            {
                let mut d = OnlineSeries::new(cfg);
                let s: Vec<f64> = (ts.iter().zip(values))
                    .map(|(&at, &v)| d.score(at, v))
                    .collect();
                if let Some(dir) = &dump {
                    let body: String = (ts.iter().zip(values))
                        .zip(&s)
                        .zip(l.iter().zip(t))
                        .map(|(((&ts, v), x), (&l, &t))| {
                            format!(
                                "{ts},{},{x},{},{}\n",
                                v.unwrap_or(f64::NAN),
                                l as u8,
                                t as u8
                            )
                        })
                        .collect();
                    std::fs::write(dir.join(format!("kpi__{name}")), body).unwrap();
                }
                let k = t.iter().position(|&x| x).unwrap_or(t.len());
                let [train_grid, test_grid] =
                    pool.add([(&ts[..k], &l[..k], &s[..k]), (&ts[k..], &l[k..], &s[k..])]);
                if boot.is_some() {
                    halves.push([
                        compress(&train_grid.labels, &train_grid.scores),
                        compress(&test_grid.labels, &test_grid.scores),
                    ]);
                }
            }
            if let Some(n) = boot {
                kpi_bootstrap(&halves, n);
            }
            let (tr, te) = (&mut pool.train, &mut pool.test);
            let b = tr.best();
            let at = te.at(b.threshold);
            let orc = te.best();
            out += &format!(
                " | kpi train {:.4}@{:.3} test {:.4} (p {:.3} r {:.3}) oracle {:.4}",
                b.f1, b.threshold, at.f1, at.precision, at.recall, orc.f1
            );
            if pool.gaps > 0 {
                out += &format!(
                    " gaps {} in labelled runs {}",
                    pool.gaps, pool.gaps_in_labelled_runs
                );
            }
            for &th in &kpi_fixed {
                out += &format!(" [train {:.4} test {:.4}@{th}]", tr.at(th).f1, te.at(th).f1);
            }
        }
        println!("{out}");
    }
}

/// Each NAB file beside its scores, as the scorer takes them.
fn scored_set<'a>(
    files: &'a [(LabeledFile, Rows)],
    scores: &'a [Vec<f64>],
) -> Vec<(&'a LabeledFile, &'a [f64])> {
    files
        .iter()
        .zip(scores)
        .map(|((f, _), s)| (f, s.as_slice()))
        .collect()
}

/// The files of `set` at `picks`, repeats included.
fn pick<'a>(
    set: &[(&'a LabeledFile, &'a [f64])],
    picks: &[usize],
) -> Vec<(&'a LabeledFile, &'a [f64])> {
    picks.iter().map(|&i| set[i]).collect()
}

/// NAB's standard profile.
fn standard(profiles: &[nab::Profile]) -> &nab::Profile {
    profiles.iter().find(|p| p.name == "standard").unwrap()
}

/// The standard-profile score of `set`, swept over its own threshold.
fn nab_score(set: &[(&LabeledFile, &[f64])], profile: &nab::Profile) -> f64 {
    let best = nab::sweep(set, &profile.costs).unwrap();
    let scored = set.iter().map(|(f, _)| f.scored_windows()).sum();
    let labelled = set.iter().map(|(f, _)| f.windows.len()).sum();
    nab::normalized(best.score, &profile.costs, scored, labelled).unwrap_or(0.0)
}

/// Numenta HTM's official result files and its standard-profile score on
/// every bootstrap resample of the NAB files, read and scored once per run.
struct Htm {
    all: f64,
    picks: Vec<Vec<usize>>,
    per_resample: Vec<f64>,
}

impl Htm {
    fn load(
        nab_dir: &Path,
        files: &[(LabeledFile, Rows)],
        profile: &nab::Profile,
        n: usize,
    ) -> Htm {
        let scores: Vec<Vec<f64>> = files
            .iter()
            .map(|(f, _)| {
                let result = nab::read_result(nab_dir, "numenta", &f.name).unwrap();
                assert_eq!(result.scores.len(), f.rows, "{:?}", result.path);
                result.scores
            })
            .collect();
        let set = scored_set(files, &scores);
        let picks: Vec<Vec<usize>> = resamples(n, set.len()).collect();
        let per_resample = picks
            .iter()
            .map(|p| nab_score(&pick(&set, p), profile))
            .collect();
        Htm {
            all: nab_score(&set, profile),
            picks,
            per_resample,
        }
    }

    /// Prints Dialtone's (`ours`) standard-profile score over the same
    /// resamples, side by side with HTM's.
    fn compare(&self, ours: &[(&LabeledFile, &[f64])], profile: &nab::Profile) {
        println!(
            "  all {} files: dialtone {:.2} numenta {:.2}",
            ours.len(),
            nab_score(ours, profile),
            self.all
        );
        let mut a: Vec<f64> = self
            .picks
            .iter()
            .map(|p| nab_score(&pick(ours, p), profile))
            .collect();
        let mut d: Vec<f64> = a
            .iter()
            .zip(&self.per_resample)
            .map(|(x, y)| x - y)
            .collect();
        let share = |v: &[f64], f: &dyn Fn(f64) -> bool| {
            v.iter().filter(|&&x| f(x)).count() as f64 / v.len() as f64
        };
        let (ahead, at_target) = (share(&d, &|x| x > 0.0), share(&a, &|x| x >= 72.0));
        println!(
            "  bootstrap over files, {} resamples, standard profile:",
            self.picks.len()
        );
        quantiles("dialtone", &mut a);
        quantiles("numenta HTM (official)", &mut self.per_resample.clone());
        quantiles("dialtone - numenta", &mut d);
        println!(
            "  dialtone ahead in {:.1} % of resamples; dialtone >= 72 in {:.1} %",
            100.0 * ahead,
            100.0 * at_target
        );
    }
}

/// A fixed pseudo-random sequence (xorshift64): the resamples and gap runs
/// are the same for every configuration and every run.
struct XorShift(u64);

impl XorShift {
    fn seeded(seed: u64) -> XorShift {
        XorShift(0x9e37_79b9_7f4a_7c15 ^ seed.wrapping_mul(0xd1b5_4a32_d192_ed03))
    }

    /// The next draw from `0..n`.
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

/// `n` resamples with replacement of `len` items.
fn resamples(n: usize, len: usize) -> impl Iterator<Item = Vec<usize>> {
    let mut rng = XorShift::seeded(0);
    (0..n).map(move |_| (0..len).map(|_| rng.below(len)).collect())
}

/// Prints the median and quartiles and 5-95 % of `v`.
fn quantiles(name: &str, v: &mut [f64]) {
    v.sort_by(f64::total_cmp);
    let q = |p: f64| v[((v.len() - 1) as f64 * p).round() as usize];
    println!(
        "  {name:28} median {:7.4}  5% {:7.4}  25% {:7.4}  75% {:7.4}  95% {:7.4}",
        q(0.5),
        q(0.05),
        q(0.25),
        q(0.75),
        q(0.95)
    );
}

/// Which of `rows` rows to keep when runs of 1 to 30 rows, about `fraction`
/// of them (at most half), go missing; the runs `seed` draws.
fn gap_mask(rows: usize, fraction: f64, seed: u64) -> Vec<bool> {
    let mut keep = vec![true; rows];
    let mut rng = XorShift::seeded(seed);
    // The last rows are never drawn, so not every fraction can be reached.
    let target = (fraction.min(0.5) * rows as f64) as usize;
    let mut dropped = 0;
    while dropped < target && rows > 31 {
        let start = rng.below(rows - 31);
        let len = 1 + rng.below(30);
        for k in &mut keep[start..start + len] {
            dropped += usize::from(*k);
            *k = false;
        }
    }
    keep
}

/// Which rows to keep when the inner points of every run of equal, nonzero
/// steps go, where a run has at least `least` inner points (the steps equal
/// to a millionth, as numpy's `isclose` with `rtol=1e-6, atol=1e-9`).
fn fill_mask(values: &[Option<f64>], least: usize) -> Vec<bool> {
    let inner = |j: usize| match (values[j - 1], values[j], values[j + 1]) {
        (Some(a), Some(b), Some(c)) => {
            let (before, after) = (b - a, c - b);
            after.abs() > 1e-12 && (after - before).abs() <= 1e-9 + 1e-6 * before.abs()
        }
        _ => false,
    };
    let mut keep = vec![true; values.len()];
    let mut j = 1;
    while j + 1 < values.len() {
        let start = j;
        while j + 1 < values.len() && inner(j) {
            j += 1;
        }
        if j - start >= least {
            keep[start..j].fill(false);
        }
        j += 1;
    }
    keep
}

fn retain_kept<T>(v: &mut Vec<T>, keep: &[bool]) {
    let mut keep = keep.iter();
    v.retain(|_| *keep.next().unwrap());
}

/// A KPI half with each run of idle points (unlabelled, score 0) cut to its
/// first: the same counts at every threshold above 0, as one point still
/// keeps neighbouring segments apart. Only the F1 of flagging everything
/// changes, which is never the best.
fn compress(labels: &[bool], scores: &[f64]) -> (Vec<bool>, Vec<f64>) {
    let mut out = (Vec::new(), Vec::new());
    for (i, (&l, &s)) in labels.iter().zip(scores).enumerate() {
        let idle = !l && s <= 0.0;
        let prev_idle = i > 0 && !labels[i - 1] && scores[i - 1] <= 0.0;
        if !(idle && prev_idle) {
            out.0.push(l);
            out.1.push(s);
        }
    }
    out
}

/// Bootstrap over KPIs: the deployable F1 (threshold from the resample's
/// train halves) on `n` resamples.
fn kpi_bootstrap(halves: &[[(Vec<bool>, Vec<f64>); 2]], n: usize) {
    // Deployable and oracle F1 of the KPIs at `picks`.
    let score = |picks: &[usize]| {
        let (mut tr, mut te) = (kpi::Sweep::default(), kpi::Sweep::default());
        for &i in picks {
            let [(l, s), (tl, ts)] = &halves[i];
            tr.add_series(l, s, DELAY);
            te.add_series(tl, ts, DELAY);
        }
        (te.at(tr.best().threshold).f1, te.best().f1)
    };
    // The compressed halves must give the figures of the whole ones.
    let all: Vec<usize> = (0..halves.len()).collect();
    let (d, o) = score(&all);
    println!(
        "  all {} KPIs: deployable {d:.4} oracle {o:.4}",
        halves.len()
    );
    let (mut f1, mut oracle) = (Vec::new(), Vec::new());
    for picks in resamples(n, halves.len()) {
        let (d, o) = score(&picks);
        f1.push(d);
        oracle.push(o);
    }
    println!("  bootstrap over KPIs, {n} resamples:");
    let reach = f1.iter().filter(|&&x| x >= 0.85).count() as f64 / n as f64;
    quantiles("kpi deployable F1", &mut f1);
    quantiles("kpi oracle F1", &mut oracle);
    println!(
        "  deployable >= 0.85 in {:.1} % of resamples",
        100.0 * reach
    );
}
