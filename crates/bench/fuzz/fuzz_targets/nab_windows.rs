#![no_main]

//! NAB's label windows placed on a file's timestamps, then scored: what
//! `combined_windows.json` bounds go through after serde_json has read them
//! (serde_json itself is not fuzzed here). The bounds are rendered from the
//! fuzzer's rows as NAB writes them or as Unix seconds, so most name a row;
//! row 100 repeats row 99's timestamp, so a bound can be ambiguous. A window
//! may instead start at the fuzzer's own text, for the refusals of bounds
//! that are no timestamp or name no row.

use dialtone_bench::nab::{CostMatrix, LabeledFile, normalized, score_file, sweep};
use libfuzzer_sys::fuzz_target;

const ROWS: usize = 200;
/// 2014-04-01 00:00:00 UTC; rows are 5 minutes apart, all within that day.
const START: i64 = 1_396_310_400;

fn timestamp(row: usize) -> i64 {
    START + 300 * (if row == 100 { 99 } else { row }) as i64
}

fn bound(row: u8, nab_style: bool) -> String {
    let t = timestamp(usize::from(row));
    if nab_style {
        let s = t - START;
        format!(
            "2014-04-01 {:02}:{:02}:{:02}.000000",
            s / 3600,
            s / 60 % 60,
            s % 60
        )
    } else {
        t.to_string()
    }
}

type Window = (u8, u8, bool, Option<String>);

fuzz_target!(|input: (Vec<Window>, Vec<u8>, u8, [i8; 3])| {
    let (windows, scores, threshold, weights) = input;
    let timestamps: Vec<i64> = (0..ROWS).map(timestamp).collect();
    let bounds: Vec<[String; 2]> = windows
        .into_iter()
        .map(|(s, e, nab, raw)| [raw.unwrap_or_else(|| bound(s, nab)), bound(e, !nab)])
        .collect();
    let Ok(file) = LabeledFile::locate("cat/file.csv", &timestamps, &bounds) else {
        return;
    };
    assert!(file.windows.windows(2).all(|w| w[0].end < w[1].start));
    let scores: Vec<f64> = (0..ROWS)
        .map(|i| f64::from(scores.get(i).copied().unwrap_or(0)) / 255.0)
        .collect();
    let costs = CostMatrix {
        tp_weight: f64::from(weights[0]),
        fp_weight: f64::from(weights[1]),
        fn_weight: f64::from(weights[2]),
    };
    let threshold = f64::from(threshold) / 255.0;
    let scored = score_file(&file, &scores, &costs, threshold).expect("one score per row");
    assert_eq!(
        scored.tp + scored.tn + scored.fp + scored.fn_,
        ROWS - dialtone_bench::nab::probation_rows(ROWS)
    );
    let best = sweep(&[(&file, &scores)], &costs).expect("one score per row");
    // The sweep tries every threshold that changes what is detected.
    assert!(best.score >= scored.score - 1e-6, "{best:?} < {scored:?}");
    let _ = normalized(best.score, &costs, file.scored_windows(), file.windows.len());
});
