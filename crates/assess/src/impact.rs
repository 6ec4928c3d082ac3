//! Sparse failure propagation: what a handful of failed elements take down,
//! at a cost proportional to what they take down, not to the network's size.
//!
//! Each group counts its lost members per service; a dependent loses a
//! service when a group carrying it has lost more members than it tolerates.
//! The counts only grow, so the result is the same fixpoint as
//! [`dialtone_model::Topology::propagate`] whatever the visiting order.

use std::collections::HashMap;

use dialtone_model::{ALL_SERVICES, Service, ServiceMask};
use serde::Serialize;

use crate::network::Network;

/// What one element's failure (or a set's) takes away from the endpoints.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Loss {
    /// Endpoints (cells) losing at least one service.
    pub cells: u32,
    /// Their subscribers.
    pub subscribers: u64,
    /// Emergency-call capable cells losing voice or registration.
    pub emergency_cells: u32,
    /// Subscribers losing each service (registration, voice, data).
    pub subscribers_by_service: [u64; 3],
    /// Cells losing each service: says which services are gone even where
    /// a cell has no subscriber count.
    pub cells_by_service: [u32; 3],
}

pub(crate) struct Propagator<'n, 't> {
    net: &'n Network<'t>,
    stamp: u32,
    lost_stamp: Vec<u32>,
    lost: Vec<ServiceMask>,
    group_stamp: Vec<u32>,
    group_down: Vec<[u32; 3]>,
    queue: Vec<(u32, ServiceMask)>,
    /// Elements that lost something in the last run.
    pub touched: Vec<u32>,
    /// Redundant groups (tolerating one loss or more) that failed in the last run.
    pub failed_redundant_groups: Vec<u32>,
}

impl<'n, 't> Propagator<'n, 't> {
    pub fn new(net: &'n Network<'t>) -> Propagator<'n, 't> {
        let groups = net.group_dependent.len();
        Propagator {
            net,
            stamp: 0,
            lost_stamp: vec![0; net.len()],
            lost: vec![0; net.len()],
            group_stamp: vec![0; groups],
            group_down: vec![[0; 3]; groups],
            queue: Vec::new(),
            touched: Vec::new(),
            failed_redundant_groups: Vec::new(),
        }
    }

    /// Services element `e` lost in the last run.
    pub fn lost(&self, e: usize) -> ServiceMask {
        if self.lost_stamp[e] == self.stamp {
            self.lost[e]
        } else {
            0
        }
    }

    /// Fails `seeds` completely and propagates.
    pub fn run(&mut self, seeds: &[u32]) {
        self.stamp = self.stamp.wrapping_add(1);
        if self.stamp == 0 {
            // Wrapped: old stamps could alias the new one.
            self.lost_stamp.fill(0);
            self.group_stamp.fill(0);
            self.stamp = 1;
        }
        self.touched.clear();
        self.failed_redundant_groups.clear();
        for &s in seeds {
            self.lose(s, ALL_SERVICES);
        }
        while let Some((e, bits)) = self.queue.pop() {
            for &g in self.net.member_of(e as usize) {
                let g = g as usize;
                let carried = bits & self.net.group_services[g];
                if carried == 0 {
                    continue;
                }
                if self.group_stamp[g] != self.stamp {
                    self.group_stamp[g] = self.stamp;
                    self.group_down[g] = [0; 3];
                }
                let tolerance = self.net.group_tolerance[g];
                let was_failed = self.group_down[g].iter().any(|&d| d > tolerance);
                let mut newly = 0;
                for (k, s) in Service::ALL.iter().enumerate() {
                    if carried & s.bit() != 0 {
                        self.group_down[g][k] += 1;
                        if self.group_down[g][k] == tolerance + 1 {
                            newly |= s.bit();
                        }
                    }
                }
                if newly != 0 {
                    if tolerance > 0 && !was_failed {
                        self.failed_redundant_groups.push(g as u32);
                    }
                    self.lose(self.net.group_dependent[g], newly);
                }
            }
        }
    }

    fn lose(&mut self, e: u32, bits: ServiceMask) {
        let i = e as usize;
        if self.lost_stamp[i] != self.stamp {
            self.lost_stamp[i] = self.stamp;
            self.lost[i] = 0;
            self.touched.push(e);
        }
        let new = bits & !self.lost[i];
        if new != 0 {
            self.lost[i] |= new;
            self.queue.push((e, new));
        }
    }

    /// The endpoints' loss after the last run.
    pub fn loss(&self) -> Loss {
        self.loss_beyond(&HashMap::new())
    }

    /// The endpoints' loss after the last run, less the services `already`
    /// lost at each endpoint (by element index).
    pub fn loss_beyond(&self, already: &HashMap<u32, ServiceMask>) -> Loss {
        let mut loss = Loss::default();
        let emergency_bits = Service::Voice.bit() | Service::Registration.bit();
        for &e in &self.touched {
            let endpoint = self.net.endpoint_of[e as usize];
            if endpoint == u32::MAX {
                continue;
            }
            let bits = self.lost[e as usize] & !already.get(&e).copied().unwrap_or(0);
            if bits == 0 {
                continue;
            }
            let element = self.net.topology.element(e as usize);
            let subs = u64::from(element.subscribers);
            loss.cells += 1;
            loss.subscribers += subs;
            if element.emergency_capable && bits & emergency_bits != 0 {
                loss.emergency_cells += 1;
            }
            for (k, s) in Service::ALL.iter().enumerate() {
                if bits & s.bit() != 0 {
                    loss.subscribers_by_service[k] += subs;
                    loss.cells_by_service[k] += 1;
                }
            }
        }
        loss
    }
}
