//! Measures the twin's cost per sample: `cargo run --release -p dialtone-sim
//! --example sim_speed -- [cells] [minutes]` (defaults: 10000 cells, one day).

use std::time::Instant;

use dialtone_sim::{Twin, TwinConfig};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let cells = args
        .next()
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(10_000);
    let minutes: u64 = args.next().map(|a| a.parse()).transpose()?.unwrap_or(1440);
    let built = Instant::now();
    let mut twin = Twin::new(TwinConfig {
        cells,
        fault_at: TwinConfig::default().start + 600,
        ..TwinConfig::default()
    })?;
    let build_time = built.elapsed();
    let mut out = Vec::new();
    let mut samples = 0u64;
    let mut checksum = 0.0;
    let ran = Instant::now();
    for _ in 0..minutes {
        twin.step(&mut out);
        samples += out.len() as u64;
        checksum += out.iter().map(|s| s.value).sum::<f64>();
    }
    let secs = ran.elapsed().as_secs_f64();
    println!(
        "{cells} cells, {} series, {minutes} min: {samples} samples in {secs:.2} s = {:.1} ns/sample \
         (build {:.2} s, checksum {checksum:.6e})",
        twin.series().len(),
        secs * 1e9 / samples as f64,
        build_time.as_secs_f64(),
    );
    Ok(())
}
