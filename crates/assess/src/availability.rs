//! Availability per region and service: the expected share of subscribers
//! (cells, where no subscribers are given) that have the service, with every
//! element failing independently at its steady-state unavailability.
//!
//! Exact where small: for each cell and service, the basic events reaching
//! the cell along two or more paths are enumerated; all other events reach it
//! along one path only, so given those, the members of every group are
//! independent and probabilities multiply up the ancestry. Where that is too
//! much work, a seeded Monte Carlo over sparse failure sets gives a mean and
//! a 95% confidence interval.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use dialtone_model::Service;

use crate::impact::Propagator;
use crate::network::{Network, service_names};

/// Work (assignments x ancestry sizes) above which the exact method gives way.
const MAX_EXACT_WORK: u64 = 20_000_000;
/// Multi-path events per cell above which the exact method gives way.
const MAX_PIVOTS: usize = 16;
/// Cells above which the exact method is not even tried.
const MAX_EXACT_CELLS: usize = 5_000;

#[derive(Debug, Clone, Serialize)]
pub struct Availability {
    /// `exact` or `monte carlo`.
    pub method: String,
    /// Monte Carlo rounds (0 when exact).
    pub rounds: u32,
    pub seed: u64,
    pub rows: Vec<AvailabilityRow>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AvailabilityRow {
    /// A region, or `all` for the whole network.
    pub region: String,
    pub service: String,
    pub availability: f64,
    /// 95% confidence interval (equal to `availability` when exact).
    pub low: f64,
    pub high: f64,
    /// Expected minutes a year a subscriber goes without the service.
    pub minutes_down_per_year: f64,
}

/// Each cell's weight in its region's rows, each region's total, then each
/// cell's weight in the `all` rows and their total. A region weighs its cells
/// by subscribers, or one per cell if it gives none, so its own rows still
/// say how its cells fare. The `all` rows weigh by subscribers whenever the
/// file gives any, so a cell serving no one (`subscribers = 0`, or no count)
/// does not pull the figure the subscribers see; only a file with no counts
/// at all weighs every cell as one. Subscribers and cells are never mixed:
/// they are not the same unit.
struct Weights {
    cell: Vec<f64>,
    region_total: Vec<f64>,
    cell_in_all: Vec<f64>,
    all_total: f64,
}

fn weights(net: &Network<'_>) -> Weights {
    let regions = net.regions.len();
    let mut subs = vec![0u64; regions];
    for (k, &r) in net.endpoint_region.iter().enumerate() {
        subs[r as usize] += net.weight(k);
    }
    let w: Vec<f64> = (0..net.endpoints.len())
        .map(|k| {
            let r = net.endpoint_region[k] as usize;
            if subs[r] > 0 {
                net.weight(k) as f64
            } else {
                1.0
            }
        })
        .collect();
    let mut totals = vec![0.0; regions];
    for (k, &r) in net.endpoint_region.iter().enumerate() {
        totals[r as usize] += w[k];
    }
    let cell_in_all: Vec<f64> = if subs.iter().any(|&s| s > 0) {
        (0..w.len()).map(|k| net.weight(k) as f64).collect()
    } else {
        vec![1.0; w.len()]
    };
    Weights {
        all_total: cell_in_all.iter().sum(),
        cell: w,
        region_total: totals,
        cell_in_all,
    }
}

pub(crate) fn assess(net: &Network<'_>, rounds: u32, seed: u64) -> Availability {
    match exact(net) {
        Some(down) => rows_from(net, "exact", 0, seed, &down),
        None => monte_carlo(net, rounds.max(1), seed),
    }
}

/// Per endpoint and service: probability the service is down.
fn exact(net: &Network<'_>) -> Option<Vec<[f64; 3]>> {
    if net.endpoints.len() > MAX_EXACT_CELLS {
        return None;
    }
    let t = net.topology;
    let mut position = vec![0u32; t.len()];
    for (p, &e) in t.evaluation_order().iter().enumerate() {
        position[e] = p as u32;
    }
    let mut work = 0u64;
    let mut plans = Vec::with_capacity(net.endpoints.len());
    for &c in &net.endpoints {
        let mut per_service = Vec::with_capacity(3);
        for s in Service::ALL {
            let bit = s.bit();
            let mut cone = vec![c as usize];
            let mut in_cone = std::collections::HashSet::from([c as usize]);
            let mut i = 0;
            while i < cone.len() {
                for g in t.groups_of(cone[i]).filter(|g| g.services & bit != 0) {
                    for &m in &g.members {
                        if in_cone.insert(m) {
                            cone.push(m);
                        }
                    }
                }
                i += 1;
                if cone.len() > 10_000 {
                    return None;
                }
            }
            cone.sort_unstable_by_key(|&x| position[x]);
            let mut paths: std::collections::HashMap<usize, u8> =
                cone.iter().map(|&x| (x, 0)).collect();
            paths.insert(c as usize, 1);
            for &x in cone.iter().rev() {
                let px = paths[&x];
                for g in t.groups_of(x).filter(|g| g.services & bit != 0) {
                    for &m in &g.members {
                        let pm = paths.get_mut(&m).expect("member in cone");
                        *pm = (*pm + px).min(2);
                    }
                }
            }
            let pivots: Vec<usize> = cone.iter().copied().filter(|x| paths[x] >= 2).collect();
            if pivots.len() > MAX_PIVOTS {
                return None;
            }
            work += (1u64 << pivots.len()) * cone.len() as u64;
            if work > MAX_EXACT_WORK {
                return None;
            }
            per_service.push((cone, pivots));
        }
        plans.push(per_service);
    }
    let mut down = Vec::with_capacity(plans.len());
    let mut up = std::collections::HashMap::new();
    for (k, per_service) in plans.into_iter().enumerate() {
        let c = net.endpoints[k] as usize;
        let mut row = [0.0; 3];
        for (si, (cone, pivots)) in per_service.into_iter().enumerate() {
            let bit = Service::ALL[si].bit();
            let mut p_up = 0.0;
            for assignment in 0u64..(1 << pivots.len()) {
                let mut weight = 1.0;
                up.clear();
                for (j, &z) in pivots.iter().enumerate() {
                    let failed = assignment >> j & 1 == 1;
                    let q = net.unavailability[z];
                    weight *= if failed { q } else { 1.0 - q };
                    up.insert(z, if failed { 0.0 } else { 1.0 });
                }
                for &x in &cone {
                    let own = up.get(&x).copied().unwrap_or(1.0 - net.unavailability[x]);
                    let mut p = own;
                    for g in t.groups_of(x).filter(|g| g.services & bit != 0) {
                        let probs: Vec<f64> = g.members.iter().map(|m| up[m]).collect();
                        p *= at_least(&probs, g.required());
                    }
                    up.insert(x, p);
                }
                p_up += weight * up[&c];
            }
            row[si] = (1.0 - p_up).max(0.0);
        }
        down.push(row);
    }
    Some(down)
}

/// Probability that at least `k` of independent events with these
/// probabilities happen (Poisson binomial, by dynamic programming).
fn at_least(p: &[f64], k: usize) -> f64 {
    if k == 0 {
        return 1.0;
    }
    let mut dist = vec![0.0; p.len() + 1];
    dist[0] = 1.0;
    for (i, &pi) in p.iter().enumerate() {
        for j in (0..=i + 1).rev() {
            let stay = dist[j] * (1.0 - pi);
            let come = if j > 0 { dist[j - 1] * pi } else { 0.0 };
            dist[j] = stay + come;
        }
    }
    dist[k.min(p.len() + 1)..].iter().sum()
}

fn monte_carlo(net: &Network<'_>, rounds: u32, seed: u64) -> Availability {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    // Elements grouped by unavailability, so a round draws its failures by
    // geometric skips: cost per round follows the number of failures.
    let mut classes: std::collections::BTreeMap<u64, Vec<u32>> = Default::default();
    for (e, &q) in net.unavailability.iter().enumerate() {
        if q > 0.0 {
            classes.entry(q.to_bits()).or_default().push(e as u32);
        }
    }
    let weights = weights(net);
    let regions = net.regions.len();
    let cells = regions * 3;
    let mut sum = vec![0.0; cells];
    let mut sum_sq = vec![0.0; cells];
    let mut round_loss = vec![0.0; cells];
    let mut total_sum = [0.0; 3];
    let mut total_sq = [0.0; 3];
    let mut p = Propagator::new(net);
    let mut failed = Vec::new();
    for _ in 0..rounds {
        failed.clear();
        for (bits, members) in &classes {
            let q = f64::from_bits(*bits);
            if q >= 1.0 {
                failed.extend(members);
                continue;
            }
            let log_keep = (1.0 - q).ln();
            let mut i = 0usize;
            loop {
                let u: f64 = rng.random::<f64>().max(f64::MIN_POSITIVE);
                let skip = (u.ln() / log_keep).floor();
                if !skip.is_finite() || skip >= (members.len() - i) as f64 {
                    break;
                }
                i += skip as usize;
                failed.push(members[i]);
                i += 1;
                if i >= members.len() {
                    break;
                }
            }
        }
        round_loss.fill(0.0);
        let mut round_total = [0.0; 3];
        if !failed.is_empty() {
            p.run(&failed);
            for &e in &p.touched {
                let k = net.endpoint_of[e as usize];
                if k == u32::MAX {
                    continue;
                }
                let lost = p.lost(e as usize);
                let r = net.endpoint_region[k as usize] as usize;
                for (si, s) in Service::ALL.iter().enumerate() {
                    if lost & s.bit() != 0 {
                        round_loss[r * 3 + si] += weights.cell[k as usize];
                        round_total[si] += weights.cell_in_all[k as usize];
                    }
                }
            }
        }
        for r in 0..regions {
            for si in 0..3 {
                let f = if weights.region_total[r] > 0.0 {
                    round_loss[r * 3 + si] / weights.region_total[r]
                } else {
                    0.0
                };
                sum[r * 3 + si] += f;
                sum_sq[r * 3 + si] += f * f;
            }
        }
        for si in 0..3 {
            let f = if weights.all_total > 0.0 {
                round_total[si] / weights.all_total
            } else {
                0.0
            };
            total_sum[si] += f;
            total_sq[si] += f * f;
        }
    }
    let n = f64::from(rounds);
    let stats = |s: f64, sq: f64| {
        let mean = s / n;
        let var = (sq / n - mean * mean).max(0.0) * n / (n - 1.0).max(1.0);
        // With no loss ever drawn, the rule of three bounds the mean.
        let half = if s == 0.0 {
            3.0 / n
        } else {
            1.96 * (var / n).sqrt()
        };
        (mean, half)
    };
    let mut down = vec![[0.0; 3]; regions];
    let mut half = vec![[0.0; 3]; regions + 1];
    for r in 0..regions {
        for si in 0..3 {
            let (m, h) = stats(sum[r * 3 + si], sum_sq[r * 3 + si]);
            down[r][si] = m;
            half[r][si] = h;
        }
    }
    let mut total = [0.0; 3];
    for si in 0..3 {
        let (m, h) = stats(total_sum[si], total_sq[si]);
        total[si] = m;
        half[regions][si] = h;
    }
    let mut rows = Vec::new();
    for r in 0..=regions {
        let (name, d) = if r < regions {
            (net.regions[r].clone(), down[r])
        } else {
            ("all".to_owned(), total)
        };
        for (si, service) in service_names().iter().enumerate() {
            let a = 1.0 - d[si];
            rows.push(AvailabilityRow {
                region: name.clone(),
                service: (*service).to_owned(),
                availability: a,
                low: (a - half[r][si]).max(0.0),
                high: (a + half[r][si]).min(1.0),
                minutes_down_per_year: d[si] * 525_600.0,
            });
        }
    }
    Availability {
        method: "monte carlo".to_owned(),
        rounds,
        seed,
        rows,
    }
}

/// Rows from per-endpoint down probabilities.
fn rows_from(
    net: &Network<'_>,
    method: &str,
    rounds: u32,
    seed: u64,
    down: &[[f64; 3]],
) -> Availability {
    let weights = weights(net);
    let regions = net.regions.len();
    let mut lost = vec![[0.0; 3]; regions + 1];
    for (k, d) in down.iter().enumerate() {
        let r = net.endpoint_region[k] as usize;
        for si in 0..3 {
            lost[r][si] += weights.cell[k] * d[si];
            lost[regions][si] += weights.cell_in_all[k] * d[si];
        }
    }
    let mut rows = Vec::new();
    for (r, lost) in lost.iter().enumerate() {
        let (name, total) = if r < regions {
            (net.regions[r].clone(), weights.region_total[r])
        } else {
            ("all".to_owned(), weights.all_total)
        };
        for (si, service) in service_names().iter().enumerate() {
            let d = if total > 0.0 { lost[si] / total } else { 0.0 };
            rows.push(AvailabilityRow {
                region: name.clone(),
                service: (*service).to_owned(),
                availability: 1.0 - d,
                low: 1.0 - d,
                high: 1.0 - d,
                minutes_down_per_year: d * 525_600.0,
            });
        }
    }
    Availability {
        method: method.to_owned(),
        rounds,
        seed,
        rows,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_least_k_of_n() {
        assert!((at_least(&[0.5, 0.5], 1) - 0.75).abs() < 1e-12);
        assert!((at_least(&[0.5, 0.5], 2) - 0.25).abs() < 1e-12);
        assert!((at_least(&[0.9, 0.9, 0.9], 2) - 0.972).abs() < 1e-12);
    }
}
