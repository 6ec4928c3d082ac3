//! Order-1 cut sets: every element failed alone, in parallel batches.

use crate::impact::{Loss, Propagator};
use crate::network::Network;

/// How many defeated redundant groups are kept as examples per cause.
const EXAMPLES_PER_CAUSE: usize = 3;

/// One element's single failure: its loss and the redundant groups it
/// defeats although it is not one of their members (a common mode).
#[derive(Debug, Default, Clone)]
pub(crate) struct SingleFailure {
    pub loss: Loss,
    pub defeated_groups: u32,
    pub examples: Vec<u32>,
}

/// Fails every element alone. `progress(done, total)` is called between
/// batches on the calling thread.
pub(crate) fn single_failures(
    net: &Network<'_>,
    threads: usize,
    progress: &mut dyn FnMut(u64, u64),
) -> Vec<SingleFailure> {
    let n = net.len();
    let threads = threads.max(1);
    let batch = (n / 20).clamp(1024, 1 << 16);
    let mut out: Vec<SingleFailure> = Vec::with_capacity(n);
    let mut propagators: Vec<Propagator<'_, '_>> =
        (0..threads).map(|_| Propagator::new(net)).collect();
    let mut start = 0;
    while start < n {
        let end = (start + batch).min(n);
        let chunk = (end - start).div_ceil(threads);
        let results: Vec<Vec<SingleFailure>> = std::thread::scope(|scope| {
            let handles: Vec<_> = propagators
                .iter_mut()
                .enumerate()
                .map(|(t, p)| {
                    let lo = (start + t * chunk).min(end);
                    let hi = (lo + chunk).min(end);
                    scope.spawn(move || (lo..hi).map(|e| fail_alone(net, p, e)).collect())
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
                .collect()
        });
        out.extend(results.into_iter().flatten());
        start = end;
        progress(start as u64, n as u64);
    }
    out
}

fn fail_alone(net: &Network<'_>, p: &mut Propagator<'_, '_>, e: usize) -> SingleFailure {
    // A cell nothing depends on takes only itself down: no need to propagate.
    if net.endpoint_of[e] != u32::MAX && net.member_of(e).is_empty() {
        let element = net.topology.element(e);
        let subs = u64::from(element.subscribers);
        return SingleFailure {
            loss: Loss {
                cells: 1,
                subscribers: subs,
                emergency_cells: u32::from(element.emergency_capable),
                subscribers_by_service: [subs; 3],
                cells_by_service: [1; 3],
            },
            ..SingleFailure::default()
        };
    }
    p.run(&[e as u32]);
    let groups = net.topology.groups();
    let mut defeated = 0;
    let mut direct = Vec::new();
    let mut indirect = Vec::new();
    for &g in &p.failed_redundant_groups {
        let members = &groups[g as usize].members;
        if members.contains(&e) {
            continue;
        }
        defeated += 1;
        // Prefer groups whose members sit right on the cause: "both AMFs run
        // this version" reads better than a pool three hops downstream.
        let deps = net.topology.dependents(e);
        let list = if members.iter().any(|m| deps.binary_search(m).is_ok()) {
            &mut direct
        } else {
            &mut indirect
        };
        if list.len() < EXAMPLES_PER_CAUSE {
            list.push(g);
        }
    }
    direct.extend(indirect);
    direct.truncate(EXAMPLES_PER_CAUSE);
    SingleFailure {
        loss: p.loss(),
        defeated_groups: defeated,
        examples: direct,
    }
}
