//! Seasonal profiles in block floating point: `N` bins of `i16` sharing one
//! power-of-two scale.
//!
//! A profile holds offsets from a series' slow level, learned a small step at
//! a time. `f32` bins cost 4 bytes each; `i16` bins scaled by `2^exp` cost 2
//! and keep 15 bits of precision relative to the largest bin, which is ample
//! for an offset that is compared against the series' noise. The scale only
//! grows: when a step would overflow a bin, every bin is halved as often as
//! needed, so the largest offset a series ever showed sets its resolution.

/// Exponent of a new profile's scale: fine enough for any realistic KPI, as
/// the first steps that need more room widen it at once.
const START_EXP: i32 = -60;
const MAX_BIN: f64 = i16::MAX as f64;

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Profile<const N: usize> {
    bins: [i16; N],
    exp: i8,
}

/// `x` rounded to the nearest integer, ties to even, for `|x| < 2^51`: in
/// `x + 1.5 * 2^52` the unit is the last bit, so the addition rounds and the
/// sum's bits, less those of `1.5 * 2^52`, are the integer. Two instructions,
/// where a float-to-integer `as` checks for NaN and the integer range.
fn round_small(x: f64) -> i64 {
    const SHIFTER: f64 = 6_755_399_441_055_744.0;
    (x + SHIFTER).to_bits() as i64 - SHIFTER.to_bits() as i64
}

/// `2^exp` from the float's bits (`exp` within the normal range).
fn pow2(exp: i32) -> f64 {
    f64::from_bits(((exp + 1023) as u64) << 52)
}

impl<const N: usize> Profile<N> {
    pub(crate) const ZERO: Self = Profile {
        bins: [0; N],
        exp: START_EXP as i8,
    };

    /// The offset of bin `i`.
    pub(crate) fn get(&self, i: usize) -> f64 {
        self.bins[i] as f64 * pow2(self.exp as i32)
    }

    /// The offset between bins `i` and `j`, a fraction `w` of the way to `j`:
    /// one scaling for both (exact, as the scale is a power of two).
    pub(crate) fn between(&self, (i, j, w): (usize, usize, f64)) -> f64 {
        let (a, b) = (self.bins[i] as f64, self.bins[j] as f64);
        (a * (1.0 - w) + b * w) * pow2(self.exp as i32)
    }

    /// Adds `step` between bins `i` and `j`: `1 - w` of it to `i`, `w` to `j`.
    #[inline(always)]
    pub(crate) fn add_between(&mut self, (i, j, w): (usize, usize, f64), step: f64) {
        let (step_i, step_j) = ((1.0 - w) * step, w * step);
        // Both at one scale, read once: the same sums as two `add`s when
        // neither widens it, which is nearly always. Two inlined `add`s
        // recomputed the scale after the first store; this measured 746 to
        // 730 instructions a detector sample (callgrind, `kernel_profile`).
        let per_scale = pow2(-(self.exp as i32));
        let target_i = self.bins[i] as f64 + step_i * per_scale;
        let target_j = self.bins[j] as f64 + step_j * per_scale;
        if target_i.abs() < MAX_BIN + 0.5 && target_j.abs() < MAX_BIN + 0.5 {
            self.bins[i] = round_small(target_i) as i16;
            self.bins[j] = round_small(target_j) as i16;
        } else {
            self.add_each(i, step_i, j, step_j);
        }
    }

    /// [`Profile::add_between`] where a step widens the scale: one bin after
    /// the other, as the first may change the scale the second is added at.
    #[cold]
    #[inline(never)]
    fn add_each(&mut self, i: usize, step_i: f64, j: usize, step_j: f64) {
        self.add(i, step_i);
        self.add(j, step_j);
    }

    /// Adds `step` (finite) to bin `i`, widening the scale if it must.
    pub(crate) fn add(&mut self, i: usize, step: f64) {
        // Multiplying by `2^-exp` is exact, as dividing by `2^exp` is, and cheaper.
        let target = self.bins[i] as f64 + step * pow2(-(self.exp as i32));
        if target.abs() < MAX_BIN + 0.5 {
            self.bins[i] = round_small(target) as i16;
        } else {
            self.widen_and_add(i, step);
        }
    }

    /// Adds `step` to bin `i` at a scale wide enough to hold the sum: rare,
    /// as the scale only grows, so kept out of [`Profile::add`]'s way.
    #[cold]
    #[inline(never)]
    fn widen_and_add(&mut self, i: usize, step: f64) {
        let target = self.get(i) + step;
        // Smallest exponent at which the target fits in a bin.
        let need = (target.abs() / MAX_BIN).log2().ceil() as i32;
        let shift = (need - self.exp as i32).max(1);
        for b in &mut self.bins {
            *b = round_small(*b as f64 * pow2(-shift)) as i16;
        }
        self.exp = (self.exp as i32 + shift).min(i8::MAX as i32) as i8;
        let m = round_small(target * pow2(-(self.exp as i32)));
        self.bins[i] = m.clamp(-(MAX_BIN as i64), MAX_BIN as i64) as i16;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn small_steps_accumulate() {
        let mut p = Profile::<4>::ZERO;
        for _ in 0..1000 {
            p.add(1, 0.001);
        }
        // Each step is rounded to the scale (2^-15 once the bin nears 1):
        // steps of 32.8 quanta, so at most 1.5 % off each, never lost.
        assert!((p.get(1) - 1.0).abs() < 0.016, "{}", p.get(1));
        assert_eq!(p.get(0), 0.0);
    }

    #[test]
    fn a_large_step_widens_the_scale_and_keeps_the_rest() {
        let mut p = Profile::<3>::ZERO;
        p.add(0, 2.5);
        p.add(1, -1e6);
        assert!((p.get(1) + 1e6).abs() <= 1e6 / MAX_BIN, "{}", p.get(1));
        assert!((p.get(0) - 2.5).abs() <= 1e6 / MAX_BIN, "{}", p.get(0));
    }

    #[test]
    fn round_small_rounds_ties_to_even() {
        let cases = [
            (0.5, 0),
            (1.5, 2),
            (2.5, 2),
            (-0.5, 0),
            (-1.5, -2),
            (-2.4, -2),
        ];
        for (x, rounded) in cases {
            assert_eq!(round_small(x), rounded, "{x}");
        }
    }

    proptest! {
        #[test]
        fn round_small_matches_std(x in -1e15..1e15f64) {
            prop_assert_eq!(round_small(x), x.round_ties_even() as i64);
        }

        #[test]
        fn adding_between_two_bins_is_adding_to_each(
            steps in prop::collection::vec((0usize..5, 0.0..1.0f64, -1e6..1e6f64), 1..200),
        ) {
            let (mut between, mut each) = (Profile::<5>::ZERO, Profile::<5>::ZERO);
            for (i, w, s) in steps {
                let j = (i + 1) % 5;
                between.add_between((i, j, w), s);
                each.add(i, (1.0 - w) * s);
                each.add(j, w * s);
                prop_assert_eq!(between, each);
            }
        }

        #[test]
        fn tracks_an_f64_accumulator(
            steps in prop::collection::vec((0usize..6, -1e3..1e3f64), 1..400),
        ) {
            let mut p = Profile::<6>::ZERO;
            let mut exact = [0.0f64; 6];
            let mut largest = 0.0f64;
            for (i, s) in steps {
                p.add(i, s);
                exact[i] += s;
                // The scale never shrinks: it answers to the largest offset so far.
                largest = exact.iter().fold(largest, |m, x| m.max(x.abs()));
                for (j, &e) in exact.iter().enumerate() {
                    // Rounding to the scale, once per step since it last grew.
                    prop_assert!((p.get(j) - e).abs() <= 420.0 * largest / MAX_BIN + 1e-12,
                        "bin {} = {} against {}", j, p.get(j), e);
                }
            }
        }
    }
}
