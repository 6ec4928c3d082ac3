//! How one cell's and one core instance's KPIs are drawn for one minute.
//!
//! Arithmetic in the hot path, plus `sqrt` (which IEEE 754 rounds exactly)
//! and the normal sampler's `exp` and `ln` (from the platform's maths
//! library): a replay gives the same bits for the same seed on one platform
//! (machine, C library and toolchain); another's `exp` or `ln` may differ in
//! a rare last bit.

use dialtone_model::Timestamp;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

use crate::network::CellSpec;

/// Relative load by hour of day, Monday to Friday: a night trough, a morning
/// ramp, a lunchtime shoulder and the evening busy hour.
const WEEKDAY: [f32; 24] = [
    0.22, 0.15, 0.11, 0.09, 0.09, 0.12, 0.25, 0.48, 0.70, 0.78, 0.82, 0.86, 0.90, 0.88, 0.85, 0.85,
    0.88, 0.93, 0.98, 1.00, 0.97, 0.85, 0.62, 0.38,
];
/// Weekends start later and stay lower.
const WEEKEND: [f32; 24] = [
    0.30, 0.22, 0.15, 0.11, 0.09, 0.09, 0.12, 0.20, 0.35, 0.52, 0.65, 0.72, 0.76, 0.76, 0.74, 0.72,
    0.72, 0.75, 0.80, 0.84, 0.83, 0.74, 0.58, 0.42,
];

/// Network-wide load at `t` in (0, 1], linear between hourly points. The
/// operator is in one time zone and local time is taken as UTC.
pub(crate) fn load_at(t: Timestamp) -> f32 {
    let day = t.div_euclid(86_400);
    let secs = t.rem_euclid(86_400);
    let table = |d: i64| {
        // 1970-01-01 was a Thursday; 0 = Monday.
        if (d + 3).rem_euclid(7) >= 5 {
            &WEEKEND
        } else {
            &WEEKDAY
        }
    };
    let hour = (secs / 3600) as usize;
    let frac = (secs % 3600) as f32 / 3600.0;
    let now = table(day)[hour];
    let next = if hour == 23 {
        table(day + 1)[0]
    } else {
        table(day)[hour + 1]
    };
    now + (next - now) * frac
}

/// Fault severity channels of a cell.
pub(crate) const REG: usize = 0;
pub(crate) const VOICE: usize = 1;
pub(crate) const DATA: usize = 2;
/// The cell itself is off the air (its own hardware, site, backhaul, power).
pub(crate) const RAN: usize = 3;

/// Mutable per-cell state carried from minute to minute.
#[derive(Debug, Clone, Default)]
pub(crate) struct CellState {
    /// Severity per channel in [0, 1]: rises towards the fault's depth while
    /// the channel is lost, decays after, so onset and recovery take minutes.
    pub sev: [f32; 4],
    /// Slowly wandering level (AR(1)): interference, local crowds, weather.
    pub drift: f32,
}

fn normal(rng: &mut ChaCha8Rng) -> f32 {
    rng.sample(StandardNormal)
}

/// A binomial-like failure fraction for `n` attempts with true rate `p`:
/// the normal approximation, so the noise is larger when volumes are low.
fn failures(p: f32, n: f32, z: f32) -> f32 {
    (p + (p / n).sqrt() * z).clamp(0.0, 1.0)
}

/// Draws the six [`dialtone_model::Kpi::CELL`] values of one cell for one minute.
///
/// `load` is the network load, `crowd` the local multiplier (1 normally, 3-5
/// in a stadium). Returns the values and the cell's weights for the core's
/// procedure rates: subscribers attempting to register (all but those of a
/// dark cell) and subscribers registered.
pub(crate) fn cell_minute(
    spec: &CellSpec,
    st: &mut CellState,
    load: f32,
    crowd: f32,
    rng: &mut ChaCha8Rng,
) -> ([f64; 6], [f32; 2]) {
    st.drift = 0.97 * st.drift + 0.02 * normal(rng);
    let l = load * crowd * (1.0 + st.drift).max(0.2);
    let u = spec.util_k * l / (1.0 + spec.util_k * l);
    let z: [f32; 6] = std::array::from_fn(|_| normal(rng));
    // Heavy-ish tails: rare one-minute bursts that are not outages.
    let tail: f32 = rng.random();

    let mut traffic = spec.subs * spec.gb_per_sub * l * (1.0 + 0.06 * z[0]).max(0.1);
    let mut tp = spec.tp_base * (1.0 - 0.6 * u) * (1.0 + 0.07 * z[1]).max(0.2);
    let mut lat = spec.lat_base * (1.0 + 0.6 * u * u) * (1.0 + 0.05 * z[2].abs());
    let attempts = spec.subs * 0.12 * l + 5.0;
    let calls = spec.subs * 0.03 * l + 3.0;
    let mut att_fail = failures(spec.att_fail, attempts, z[3]);
    let mut cs_fail = failures(spec.cs_fail, calls, z[4]);
    let mut drop = 100.0 * failures(spec.drop, calls, z[5]);
    if tail < 0.002 {
        // Which KPI takes the burst, from the same draw.
        match (tail * 2000.0) as u32 {
            0 => lat *= 2.0 + 2.0 * z[0].abs(),
            _ => att_fail += 0.02 + 0.02 * z[1].abs(),
        }
    } else if tail > 0.999 {
        cs_fail += 0.03 + 0.03 * z[2].abs();
        tp *= 0.6;
    }

    let [r, v, d, x] = st.sev;
    let mut att = 100.0 * (1.0 - att_fail);
    let mut cs = 100.0 * (1.0 - cs_fail.min(1.0));
    if r + v + d + x > 0.0 {
        let core = r.max(d);
        let dead = 1.0 - 0.98 * x;
        att *= (1.0 - r * (1.0 - spec.resid_att)) * dead;
        cs *= (1.0 - r.max(v) * (1.0 - spec.resid_cs)) * dead;
        drop += v.max(x) * spec.drop_jump + 2.0 * r;
        let user_plane = core.max(x);
        tp *= 1.0 - user_plane * (1.0 - spec.resid_tp);
        lat *= 1.0 + user_plane * (spec.lat_mult - 1.0);
        traffic *= (1.0 - 0.9 * core) * (1.0 - x) * (1.0 - 0.02 * v);
    }
    let attempting = spec.subs * l * (1.0 - x);
    let registered = attempting * (1.0 - 0.9 * r);
    (
        [
            f64::from(att.min(100.0)),
            f64::from(cs.min(100.0)),
            f64::from(drop.min(100.0)),
            f64::from(tp),
            f64::from(lat),
            f64::from(traffic),
        ],
        [attempting, registered],
    )
}

/// Draws the two [`dialtone_model::Kpi::CORE`] values of one instance (or
/// of another element whose procedures succeed or fail: a gateway, a bridge).
///
/// `fail` is its normal failure fraction and `resid` the success percent left
/// when fully broken; `share` is the procedure rate the instance carries when
/// healthy (its pool's demand over the members up), `nominal` its share with
/// every member up, `peers_up` whether another member can take its work,
/// `sev` how broken it is.
pub(crate) fn core_minute(
    fail: f32,
    resid: f32,
    share: f32,
    nominal: f32,
    peers_up: bool,
    sev: f32,
    rng: &mut ChaCha8Rng,
) -> [f64; 2] {
    // A broken member is drained by its pool when peers are up; alone, it
    // sees the retry storm of every UE it cannot serve.
    let broken_rate = nominal * if peers_up { 0.25 } else { 1.8 };
    let rate = (share * (1.0 - sev) + broken_rate * sev) * (1.0 + 0.03 * normal(rng)).max(0.5);
    let fail = failures(fail, rate * 60.0 + 20.0, normal(rng));
    let ok = 100.0 * (1.0 - fail);
    let success = ok - sev * (ok - resid);
    [f64::from(success), f64::from(rate.max(0.0))]
}

#[cfg(test)]
mod tests {
    use super::*;

    const MONDAY: Timestamp = 1_767_571_200;

    #[test]
    fn load_is_diurnal_and_lower_on_weekends() {
        let at = |day: i64, hour: i64| load_at(MONDAY + day * 86_400 + hour * 3600);
        assert!(at(0, 4) < 0.15 && at(0, 19) > 0.95);
        assert!(at(5, 19) < at(0, 19), "Saturday's busy hour is quieter");
        // Continuous across midnight.
        assert!((load_at(MONDAY + 86_400 - 60) - at(1, 0)).abs() < 0.01);
    }
}
