//! Per-client-IP token buckets for the public endpoints and the sign-in form.
//!
//! A few dozen lines rather than `tower_governor`: the bucket is a pure
//! function of the instant it is given, so tests drive time, and the map is
//! bounded so a flood of spoofed sources cannot grow it without limit.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Mutex;
use std::time::Instant;

/// Sustained rate and burst of one client.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    pub per_second: f64,
    pub burst: f64,
}

/// Clients tracked before idle ones are forgotten.
const MAX_CLIENTS: usize = 65_536;

#[derive(Debug)]
pub struct RateLimiter {
    rate: Rate,
    buckets: Mutex<HashMap<IpAddr, (f64, Instant)>>,
}

impl RateLimiter {
    pub fn new(rate: Rate) -> RateLimiter {
        RateLimiter {
            rate,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// [`RateLimiter::check`] now, as a handler answers it: 429 with when to
    /// try again.
    pub(crate) fn admit(&self, ip: Option<IpAddr>) -> Result<(), crate::ApiError> {
        self.check(ip, Instant::now())
            .map_err(|retry_after_secs| crate::ApiError::TooManyRequests { retry_after_secs })
    }

    /// Takes one token for `ip` at `now`; `Err(seconds)` says when one will be free.
    pub fn check(&self, ip: Option<IpAddr>, now: Instant) -> Result<(), u64> {
        // Without a peer address (in-process tests) every request is one client.
        let ip = client_of(ip.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)));
        let Rate { per_second, burst } = self.rate;
        let mut buckets = match self.buckets.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        if buckets.len() >= MAX_CLIENTS && !buckets.contains_key(&ip) {
            // A bucket idle long enough to have refilled is the same as no bucket.
            let full_after = burst / per_second;
            buckets.retain(|_, (_, last)| now.duration_since(*last).as_secs_f64() < full_after);
        }
        let (tokens, last) = buckets.entry(ip).or_insert((burst, now));
        let refilled = (*tokens + now.duration_since(*last).as_secs_f64() * per_second).min(burst);
        *last = now;
        if refilled >= 1.0 {
            *tokens = refilled - 1.0;
            Ok(())
        } else {
            *tokens = refilled;
            Err(((1.0 - refilled) / per_second).ceil().max(1.0) as u64)
        }
    }
}

/// The client an address belongs to: an IPv6 host is given a /64 of its
/// own, so each of its addresses is not a client of its own with a fresh
/// bucket.
pub(crate) fn client_of(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => {
            let [a, b, c, d, ..] = v6.segments();
            IpAddr::V6(Ipv6Addr::new(a, b, c, d, 0, 0, 0, 0))
        }
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_client_gets_its_burst_then_the_sustained_rate() {
        let l = RateLimiter::new(Rate {
            per_second: 1.0,
            burst: 3.0,
        });
        let a = Some(IpAddr::from([10, 0, 0, 1]));
        let b = Some(IpAddr::from([10, 0, 0, 2]));
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(l.check(a, t0).is_ok());
        }
        assert_eq!(l.check(a, t0), Err(1), "burst spent");
        assert!(l.check(b, t0).is_ok(), "another client has its own bucket");
        assert!(
            l.check(a, t0 + Duration::from_millis(1100)).is_ok(),
            "refilled"
        );
        assert!(l.check(a, t0 + Duration::from_millis(1200)).is_err());
    }

    #[test]
    fn an_ipv6_host_is_one_client_per_64() {
        let l = RateLimiter::new(Rate {
            per_second: 1.0,
            burst: 1.0,
        });
        let t0 = Instant::now();
        let host = |last: u16| Some(IpAddr::from([0x2001, 0xdb8, 1, 2, 0, 0, 0, last]));
        assert!(l.check(host(1), t0).is_ok());
        assert!(l.check(host(2), t0).is_err(), "same /64, same bucket");
        let next = Some(IpAddr::from([0x2001, 0xdb8, 1, 3, 0, 0, 0, 1]));
        assert!(l.check(next, t0).is_ok(), "another /64");
    }
}
