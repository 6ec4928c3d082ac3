//! A large synthetic operator network for benchmarks: regions with paired
//! data centers, core routers and core function pools, aggregation routers,
//! grid feeds, sites with one or two uplinks and three cells each. Seeded,
//! so every run assesses the same network.

use dialtone_model::{
    ALL_SERVICES, DependencySpec, Element, ElementKind, Redundancy, Service, Topology,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Elements one region holds, roughly.
const REGION_SIZE: usize = 50_000;
const SITES_PER_AGG: usize = 40;
const SITES_PER_GRID: usize = 25;
const CELLS_PER_SITE: usize = 3;

struct Builder {
    elements: Vec<Element>,
    deps: Vec<DependencySpec>,
}

impl Builder {
    fn add(&mut self, id: String, kind: ElementKind, region: Option<&str>) -> String {
        let mut e = Element::new(id.clone(), kind);
        e.region = region.map(str::to_owned);
        self.elements.push(e);
        id
    }

    fn dep(&mut self, dependent: &str, members: &[String], redundancy: Redundancy, services: u8) {
        self.deps.push(DependencySpec {
            dependent: dependent.to_owned(),
            members: members.to_vec(),
            redundancy,
            services,
        });
    }
}

/// A network of about `elements` elements (at least one region's core).
pub fn generate(elements: usize, seed: u64) -> Topology {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let regions = elements.div_ceil(REGION_SIZE).max(1);
    let mut b = Builder {
        elements: Vec::with_capacity(elements + 64),
        deps: Vec::with_capacity(elements + 64),
    };
    let all = ALL_SERVICES;
    let voice = Service::Voice.bit();
    let data = Service::Data.bit();

    // National: DNS with one zone push, IMS over two versions.
    let push = b.add("config-dns-zones".into(), ElementKind::ConfigSystem, None);
    let ims_versions = [
        b.add("sw-ims-5.0".into(), ElementKind::SoftwareVersion, None),
        b.add("sw-ims-5.1".into(), ElementKind::SoftwareVersion, None),
    ];
    let mut national_feeds = Vec::new();
    for side in ["a", "b"] {
        national_feeds.push(b.add(
            format!("power-national-{side}"),
            ElementKind::PowerFeed,
            None,
        ));
    }
    let dns: Vec<String> = (0..2)
        .map(|k| {
            let id = b.add(format!("dns-{k}"), ElementKind::Dns, None);
            b.dep(
                &id,
                &[push.clone(), national_feeds[k].clone()],
                Redundancy::All,
                all,
            );
            id
        })
        .collect();
    let dns_pool = b.add("pool-dns".into(), ElementKind::CorePool, None);
    b.dep(&dns_pool, &dns, Redundancy::AnyOf, all);
    let ims: Vec<String> = (0..4)
        .map(|k| {
            let id = b.add(format!("ims-{k}"), ElementKind::CoreInstance, None);
            b.dep(
                &id,
                &[ims_versions[k % 2].clone(), national_feeds[k % 2].clone()],
                Redundancy::All,
                all,
            );
            id
        })
        .collect();
    let ims_pool = b.add("pool-ims".into(), ElementKind::CorePool, None);
    b.dep(&ims_pool, &ims, Redundancy::KOfN(2), all);

    let budget_per_region = elements.saturating_sub(b.elements.len()) / regions;
    for r in 0..regions {
        let region = format!("r{r:03}");
        let reg = Some(region.as_str());
        let start = b.elements.len();
        let mut routers = Vec::new();
        let mut dcs = Vec::new();
        for side in ["a", "b"] {
            let feed = b.add(
                format!("power-dc-{region}-{side}"),
                ElementKind::PowerFeed,
                reg,
            );
            let dc = b.add(format!("dc-{region}-{side}"), ElementKind::DataCenter, reg);
            b.dep(&dc, std::slice::from_ref(&feed), Redundancy::All, all);
            let cr = b.add(format!("cr-{region}-{side}"), ElementKind::Router, reg);
            b.dep(&cr, std::slice::from_ref(&dc), Redundancy::All, all);
            routers.push(cr);
            dcs.push(dc);
        }
        let mut pools = Vec::new();
        for function in ["amf", "smf", "upf"] {
            let versions = [
                b.add(
                    format!("sw-{function}-{region}-1"),
                    ElementKind::SoftwareVersion,
                    reg,
                ),
                b.add(
                    format!("sw-{function}-{region}-2"),
                    ElementKind::SoftwareVersion,
                    reg,
                ),
            ];
            // Every tenth region runs one AMF version on both instances: the
            // planted common mode the assessment must find.
            let shared = function == "amf" && r % 10 == 0;
            let members: Vec<String> = (0..2)
                .map(|k| {
                    let id = b.add(
                        format!("{function}-{region}-{k}"),
                        ElementKind::CoreInstance,
                        reg,
                    );
                    let v = if shared { 0 } else { k };
                    b.dep(
                        &id,
                        &[versions[v].clone(), dcs[k].clone(), routers[k].clone()],
                        Redundancy::All,
                        all,
                    );
                    id
                })
                .collect();
            let pool = b.add(
                format!("pool-{function}-{region}"),
                ElementKind::CorePool,
                reg,
            );
            b.dep(&pool, &members, Redundancy::AnyOf, all);
            pools.push(pool);
        }
        let remaining = budget_per_region.saturating_sub(b.elements.len() - start);
        // Per site: the site, ~1.5 links, three cells, and shares of aggs and grids.
        let sites = (remaining as f64 / 5.6).floor().max(1.0) as usize;
        let aggs: Vec<String> = (0..sites.div_ceil(SITES_PER_AGG))
            .map(|k| {
                let id = b.add(format!("agg-{region}-{k}"), ElementKind::Router, reg);
                b.dep(&id, &routers, Redundancy::AnyOf, all);
                id
            })
            .collect();
        let grids: Vec<String> = (0..sites.div_ceil(SITES_PER_GRID))
            .map(|k| b.add(format!("grid-{region}-{k}"), ElementKind::PowerFeed, reg))
            .collect();
        for s in 0..sites {
            let site = b.add(format!("site-{region}-{s}"), ElementKind::Site, reg);
            let agg = &aggs[s / SITES_PER_AGG];
            let uplinks: Vec<String> = (0..rng.random_range(1..=2))
                .map(|k| {
                    let link = b.add(format!("link-{region}-{s}-{k}"), ElementKind::Link, reg);
                    b.dep(&link, std::slice::from_ref(agg), Redundancy::All, all);
                    link
                })
                .collect();
            b.dep(&site, &uplinks, Redundancy::AnyOf, all);
            b.dep(
                &site,
                &[grids[s / SITES_PER_GRID].clone()],
                Redundancy::All,
                all,
            );
            for c in 0..CELLS_PER_SITE {
                let id = format!("cell-{region}-{s}-{c}");
                let mut cell = Element::new(id.clone(), ElementKind::Cell);
                cell.region = Some(region.clone());
                cell.subscribers = rng.random_range(300..3000);
                cell.emergency_capable = true;
                b.elements.push(cell);
                b.dep(
                    &id,
                    &[site.clone(), pools[0].clone(), dns_pool.clone()],
                    Redundancy::All,
                    all,
                );
                b.dep(&id, &pools[1..], Redundancy::All, data);
                b.dep(&id, std::slice::from_ref(&ims_pool), Redundancy::All, voice);
            }
        }
    }
    Topology::new(b.elements, b.deps).expect("the generator builds a valid topology")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_come_out_near_the_request() {
        for n in [2_000, 60_000] {
            let t = generate(n, 1);
            assert!(
                t.len() as f64 > 0.8 * n as f64 && t.len() as f64 <= 1.1 * n as f64,
                "{n}: {}",
                t.len()
            );
        }
    }
}
