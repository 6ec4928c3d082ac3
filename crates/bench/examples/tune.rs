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

use std::path::Path;

use dialtone_bench::kpi::{self, DELAY};
use dialtone_bench::nab::{self, LabeledFile};
use dialtone_bench::online::OnlineSeries;
use dialtone_bench::series::SeriesReader;
use dialtone_detect::DetectorConfig;

type Rows = Vec<(i64, Option<f64>)>;

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
    let mut nab_files: Vec<(LabeledFile, Rows)> = Vec::new();
    for d in nab::data_files(nab_dir).unwrap() {
        let mut r = SeriesReader::open(&d.path).unwrap();
        let mut rows = Vec::new();
        while let Some(row) = r.next_row().unwrap() {
            rows.push((row.timestamp, row.value));
        }
        let ts: Vec<i64> = rows.iter().map(|r| r.0).collect();
        let f = LabeledFile::locate(&d.name, &ts, &labels[&d.name]).unwrap();
        nab_files.push((f, rows));
    }
    let skip_kpi = std::env::var("NOKPI").is_ok();
    let mut kpi_files: Vec<(String, Rows, Vec<bool>, Vec<bool>)> = Vec::new();
    if !skip_kpi {
        for p in kpi::data_files(kpi_dir).unwrap() {
            let mut r = SeriesReader::open(&p).unwrap();
            let (lc, tc) = (r.column("label").unwrap(), r.column("is_test").unwrap());
            let (mut rows, mut l, mut t) = (Vec::new(), Vec::new(), Vec::new());
            while let Some(row) = r.next_row().unwrap() {
                rows.push((row.timestamp, row.value));
                l.push(row.field(lc).trim() == "1");
                t.push(row.field(tc).trim() == "1");
            }
            let name = p.file_stem().unwrap().to_string_lossy().into_owned();
            kpi_files.push((name, rows, l, t));
        }
    }
    for spec in &args[3..] {
        let cfg = config(spec);
        let scored: Vec<Vec<f64>> = nab_files
            .iter()
            .map(|(_, rows)| {
                let mut d = OnlineSeries::new(cfg);
                rows.iter().map(|&(t, v)| d.score(t, v)).collect()
            })
            .collect();
        let inputs: Vec<(&LabeledFile, &[f64])> = nab_files
            .iter()
            .zip(&scored)
            .map(|((f, _), s)| (f, s.as_slice()))
            .collect();
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
        let windows: usize = nab_files.iter().map(|(f, _)| f.scored_windows()).sum();
        let mut out = format!("{spec:40}");
        for p in &profiles {
            let best = nab::sweep(&inputs, &p.costs).unwrap();
            let n = nab::normalized(best.score, &p.costs, windows).unwrap();
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
                let n = nab::normalized(raw, &p.costs, windows).unwrap();
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
                            s[i] >= best.threshold
                                && !f.windows.iter().any(|w| (w.start..=w.end).contains(&i))
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
        if !skip_kpi {
            let (mut tr, mut te) = (kpi::Sweep::default(), kpi::Sweep::default());
            for (name, rows, l, t) in &kpi_files {
                let mut d = OnlineSeries::new(cfg);
                let s: Vec<f64> = rows.iter().map(|&(ts, v)| d.score(ts, v)).collect();
                if let Some(dir) = &dump {
                    let body: String = rows
                        .iter()
                        .zip(&s)
                        .zip(l.iter().zip(t))
                        .map(|((&(ts, v), x), (&l, &t))| {
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
                tr.add_series(&l[..k], &s[..k], DELAY);
                te.add_series(&l[k..], &s[k..], DELAY);
            }
            let b = tr.best();
            let at = te.at(b.threshold);
            let orc = te.best();
            out += &format!(
                " | kpi train {:.4}@{:.3} test {:.4} (p {:.3} r {:.3}) oracle {:.4}",
                b.f1, b.threshold, at.f1, at.precision, at.recall, orc.f1
            );
            for &th in &kpi_fixed {
                out += &format!(" [train {:.4} test {:.4}@{th}]", tr.at(th).f1, te.at(th).f1);
            }
        }
        println!("{out}");
    }
}
