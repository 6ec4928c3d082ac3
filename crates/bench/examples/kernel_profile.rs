//! Runs the detector kernel on a small warmed-up bank for profiling under
//! `valgrind --tool=callgrind --toggle-collect='*timed*'`: instruction counts
//! of the steady-state path, repeatable whatever else the machine is doing.
//!
//! `kernel_profile [SERIES] [INTERVALS]` (defaults 300 and 200). It also
//! prints the wall time per sample, which means little under valgrind.

use dialtone_bench::throughput::Workload;
use dialtone_detect::DetectorBank;
use dialtone_model::Timestamp;

#[inline(never)]
fn timed(bank: &mut DetectorBank, t: Timestamp, values: &[f64], scores: &mut [f64]) {
    bank.update_interval(t, values, scores);
}

fn main() {
    let mut args = std::env::args().skip(1);
    let series: usize = args.next().map_or(300, |a| a.parse().expect("SERIES"));
    let intervals: usize = args.next().map_or(200, |a| a.parse().expect("INTERVALS"));
    let mut workload = Workload::new(series, 7);
    let mut bank = workload.bank();
    workload.warm_up(&mut bank, || {});
    let mut scores = vec![0.0; series];
    let mut sum = 0.0;
    let mut secs = 0.0;
    for _ in 0..intervals {
        let t = workload.next_scrape(series);
        let start = std::time::Instant::now();
        timed(&mut bank, t, workload.scrape(), &mut scores);
        secs += start.elapsed().as_secs_f64();
        sum += scores.iter().sum::<f64>();
    }
    let ns = 1e9 * secs / (series * intervals) as f64;
    println!("{series} series, {intervals} intervals, score sum {sum:.6}, {ns:.1} ns/sample");
}
