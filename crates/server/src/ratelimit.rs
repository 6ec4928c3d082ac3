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

/// Clients tracked at most. Past this, idle ones are forgotten, and while
/// none is idle enough every new client shares one overflow bucket: a flood
/// from many sources (an IPv6 attacker has millions of /64s) neither grows
/// the table nor rescans it on every request.
const MAX_CLIENTS: usize = 65_536;

/// How often a full table is swept for idle buckets, at most.
const SWEEP_EVERY_SECS: f64 = 1.0;

/// A bucket: tokens left, and when it was last drawn on.
type Bucket = (f64, Instant);

#[derive(Debug)]
struct Buckets {
    clients: HashMap<IpAddr, Bucket>,
    /// Shared by the new clients that find the table full.
    overflow: Option<Bucket>,
    last_sweep: Option<Instant>,
}

#[derive(Debug)]
pub struct RateLimiter {
    rate: Rate,
    max_clients: usize,
    buckets: Mutex<Buckets>,
}

impl RateLimiter {
    pub fn new(rate: Rate) -> RateLimiter {
        RateLimiter::tracking(rate, MAX_CLIENTS)
    }

    fn tracking(rate: Rate, max_clients: usize) -> RateLimiter {
        RateLimiter {
            rate,
            max_clients,
            buckets: Mutex::new(Buckets {
                clients: HashMap::new(),
                overflow: None,
                last_sweep: None,
            }),
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
        let mut guard = match self.buckets.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        let buckets = &mut *guard;
        // Only a full table asks whether the client is known: below the cap,
        // the common case, the address is hashed once.
        let full = buckets.clients.len() >= self.max_clients;
        let known = full && buckets.clients.contains_key(&ip);
        if full
            && !known
            && (buckets.last_sweep)
                .is_none_or(|at| now.duration_since(at).as_secs_f64() >= SWEEP_EVERY_SECS)
        {
            // A bucket idle long enough to have refilled is the same as no bucket.
            let full_after = burst / per_second;
            (buckets.clients)
                .retain(|_, (_, last)| now.duration_since(*last).as_secs_f64() < full_after);
            buckets.last_sweep = Some(now);
        }
        let bucket = if known || buckets.clients.len() < self.max_clients {
            buckets.clients.entry(ip).or_insert((burst, now))
        } else {
            buckets.overflow.get_or_insert((burst, now))
        };
        take(bucket, self.rate, now)
    }
}

/// Takes one token from `bucket` at `now`, refilled at `rate` since it was
/// last drawn on; `Err(seconds)` says when one will be free.
fn take(bucket: &mut Bucket, rate: Rate, now: Instant) -> Result<(), u64> {
    let (tokens, last) = bucket;
    let refilled =
        (*tokens + now.duration_since(*last).as_secs_f64() * rate.per_second).min(rate.burst);
    *last = now;
    if refilled >= 1.0 {
        *tokens = refilled - 1.0;
        Ok(())
    } else {
        *tokens = refilled;
        Err(((1.0 - refilled) / rate.per_second).ceil().max(1.0) as u64)
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

    #[test]
    fn a_full_table_shares_one_bucket_among_new_clients_until_some_are_idle() {
        let rate = Rate {
            per_second: 1.0,
            burst: 2.0,
        };
        let l = RateLimiter::tracking(rate, 3);
        let t0 = Instant::now();
        let client = |n: u8| Some(IpAddr::from([10, 0, 0, n]));
        for n in 1..=3 {
            assert!(l.check(client(n), t0).is_ok());
        }
        // Full of busy clients: the next ones draw on one overflow bucket.
        assert!(l.check(client(4), t0).is_ok());
        assert!(l.check(client(5), t0).is_ok());
        assert_eq!(l.check(client(6), t0), Err(1), "the shared burst spent");
        assert!(
            l.check(client(1), t0).is_ok(),
            "a tracked client keeps its own"
        );
        let tracked = |l: &RateLimiter| l.buckets.lock().unwrap().clients.len();
        assert_eq!(tracked(&l), 3, "the table did not grow");
        // Once the tracked clients have been idle long enough to refill
        // (2 s), a sweep forgets them and a new client gets a bucket of its own.
        let later = t0 + Duration::from_secs(3);
        assert!(l.check(client(7), later).is_ok());
        assert!(l.check(client(7), later).is_ok());
        assert_eq!(l.check(client(7), later), Err(1), "its burst spent");
        assert_eq!(tracked(&l), 1);
        let own = client_of(client(7).unwrap());
        assert!(
            l.buckets.lock().unwrap().clients.contains_key(&own),
            "its own bucket"
        );
    }
}
