//! Recent values of every series, for the console's charts: a fixed ring of
//! minutes, `f32` per value, no allocation once built.

use dialtone_model::{Sample, Timestamp};

#[derive(Debug, Clone)]
pub struct History {
    minutes: usize,
    /// `values[series * minutes + slot]`; NaN where no sample came.
    values: Vec<f32>,
    /// Timestamp held in each slot.
    stamps: Vec<Timestamp>,
    next: usize,
}

impl History {
    pub fn new(series: usize, minutes: usize) -> History {
        History {
            minutes,
            values: vec![f32::NAN; series * minutes],
            stamps: vec![Timestamp::MIN; minutes],
            next: 0,
        }
    }

    /// Records one minute of samples.
    pub fn push(&mut self, at: Timestamp, samples: &[Sample]) {
        let slot = self.next;
        self.stamps[slot] = at;
        let m = self.minutes;
        for s in 0..self.values.len() / m {
            self.values[s * m + slot] = f32::NAN;
        }
        for s in samples {
            if let Some(v) = self.values.get_mut(s.series as usize * m + slot) {
                *v = s.value as f32;
            }
        }
        self.next = (slot + 1) % m;
    }

    /// `(timestamp, value)` of one series, oldest first, skipping empty slots.
    pub fn series(&self, series: u32) -> Vec<(Timestamp, f32)> {
        let m = self.minutes;
        let base = series as usize * m;
        (0..m)
            .map(|i| (self.next + i) % m)
            .filter(|&slot| self.stamps[slot] != Timestamp::MIN)
            .filter_map(|slot| {
                let v = *self.values.get(base + slot)?;
                v.is_finite().then_some((self.stamps[slot], v))
            })
            .collect()
    }
}
