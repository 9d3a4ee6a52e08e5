//! Per-client token buckets: `rpc.requests_per_second_per_client` calls a second, with a burst of
//! one second's worth. Pure bookkeeping (the caller passes the time), so it is tested without a
//! clock; `middleware` applies it to calls.
//!
//! The table is bounded: a bucket that has refilled completely is indistinguishable from a new one,
//! so idle clients are dropped in a sweep (at most once per [`SWEEP_EVERY`], or when the table is
//! full). If the table is still full of active clients, further new clients share one overflow
//! bucket: memory stays bounded and the clients already known keep their own limits.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Most clients with a bucket of their own (~48 bytes each).
pub const MAX_CLIENTS: usize = 65_536;
/// How often idle clients are swept out even when the table is not full.
pub const SWEEP_EVERY: Duration = Duration::from_secs(60);

/// Who a bucket belongs to. IPv6 clients are grouped by /64: one host usually owns a whole /64,
/// so per-address buckets would let it multiply its limit at will.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ClientKey {
    V4([u8; 4]),
    V6Prefix64([u8; 8]),
}

impl ClientKey {
    pub fn of(ip: IpAddr) -> ClientKey {
        match ip.to_canonical() {
            IpAddr::V4(v4) => ClientKey::V4(v4.octets()),
            IpAddr::V6(v6) => {
                let mut prefix = [0u8; 8];
                prefix.copy_from_slice(&Ipv6Addr::octets(&v6)[..8]);
                ClientKey::V6Prefix64(prefix)
            }
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

impl Bucket {
    fn full(capacity: f64, now: Instant) -> Bucket {
        Bucket {
            tokens: capacity,
            updated: now,
        }
    }

    fn refill(&mut self, rate: f64, capacity: f64, now: Instant) {
        let elapsed = now.saturating_duration_since(self.updated).as_secs_f64();
        self.tokens = (self.tokens + elapsed * rate).min(capacity);
        self.updated = now;
    }
}

/// What a client may do now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Grant {
    /// How many of the calls asked for may go ahead (the first ones, in order).
    pub granted: usize,
    /// When the client may try again, if some calls were refused.
    pub retry_after: Option<Duration>,
}

struct Table {
    buckets: HashMap<ClientKey, Bucket>,
    overflow: Option<Bucket>,
    last_sweep: Option<Instant>,
}

pub struct RateLimiter {
    per_second: u32,
    rate: f64,
    capacity: f64,
    max_clients: usize,
    table: Mutex<Table>,
}

impl RateLimiter {
    /// `None` for 0: no limit.
    pub fn new(per_second: u32) -> Option<RateLimiter> {
        Self::with_max_clients(per_second, MAX_CLIENTS)
    }

    pub fn with_max_clients(per_second: u32, max_clients: usize) -> Option<RateLimiter> {
        (per_second > 0).then(|| RateLimiter {
            per_second,
            rate: f64::from(per_second),
            capacity: f64::from(per_second),
            max_clients: max_clients.max(1),
            table: Mutex::new(Table {
                buckets: HashMap::new(),
                overflow: None,
                last_sweep: None,
            }),
        })
    }

    pub fn per_second(&self) -> u32 {
        self.per_second
    }

    /// Clients with a bucket of their own (for tests and metrics).
    pub fn tracked_clients(&self) -> usize {
        self.lock().buckets.len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Table> {
        // The table holds no invariant a panicking holder could break half-way: keep serving.
        self.table.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes up to `calls` tokens from `client`'s bucket at `now`.
    pub fn take(&self, client: IpAddr, calls: usize, now: Instant) -> Grant {
        let key = ClientKey::of(client);
        let (rate, capacity) = (self.rate, self.capacity);
        let mut table = self.lock();
        if !table.buckets.contains_key(&key) {
            let due = table
                .last_sweep
                .is_none_or(|t| now.saturating_duration_since(t) >= SWEEP_EVERY);
            if due || table.buckets.len() >= self.max_clients {
                Self::sweep(&mut table, rate, capacity, now);
            }
        }
        let bucket = if let Some(b) = table.buckets.get_mut(&key) {
            b
        } else if table.buckets.len() < self.max_clients {
            table
                .buckets
                .entry(key)
                .or_insert_with(|| Bucket::full(capacity, now))
        } else {
            table
                .overflow
                .get_or_insert_with(|| Bucket::full(capacity, now))
        };
        bucket.refill(rate, capacity, now);
        let granted = (bucket.tokens.floor().max(0.0) as usize).min(calls);
        bucket.tokens -= granted as f64;
        let retry_after = (granted < calls).then(|| {
            // Time until one more whole token: the client's next call would go through.
            let missing = (1.0 - bucket.tokens).max(0.0);
            Duration::from_secs_f64(missing / rate).max(Duration::from_millis(1))
        });
        Grant {
            granted,
            retry_after,
        }
    }

    /// Drops every bucket that has refilled completely: forgetting it changes nothing.
    fn sweep(table: &mut Table, rate: f64, capacity: f64, now: Instant) {
        table.buckets.retain(|_, b| {
            let elapsed = now.saturating_duration_since(b.updated).as_secs_f64();
            b.tokens + elapsed * rate < capacity
        });
        table.last_sweep = Some(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn ip(last: u8) -> IpAddr {
        IpAddr::V4(Ipv4Addr::new(10, 0, 0, last))
    }

    #[test]
    fn zero_means_no_limit() {
        assert!(RateLimiter::new(0).is_none());
    }

    #[test]
    fn burst_then_refill_at_the_rate() {
        let limiter = RateLimiter::new(10).unwrap();
        let t0 = Instant::now();
        let g = limiter.take(ip(1), 15, t0);
        assert_eq!(g.granted, 10);
        let retry = g.retry_after.unwrap();
        assert!(retry <= Duration::from_millis(100), "{retry:?}");
        // Nothing left at once; one token after 100 ms.
        assert_eq!(limiter.take(ip(1), 1, t0).granted, 0);
        assert_eq!(
            limiter
                .take(ip(1), 5, t0 + Duration::from_millis(100))
                .granted,
            1
        );
        // A whole second refills the whole burst, never more.
        let g = limiter.take(ip(1), 50, t0 + Duration::from_secs(10));
        assert_eq!(g.granted, 10);
    }

    #[test]
    fn clients_are_separate_and_ipv6_groups_by_prefix() {
        let limiter = RateLimiter::new(2).unwrap();
        let t0 = Instant::now();
        assert_eq!(limiter.take(ip(1), 3, t0).granted, 2);
        assert_eq!(limiter.take(ip(2), 3, t0).granted, 2);
        let a: IpAddr = "2001:db8::1".parse().unwrap();
        let b: IpAddr = "2001:db8::ffff:1".parse().unwrap();
        let other: IpAddr = "2001:db8:0:1::1".parse().unwrap();
        assert_eq!(limiter.take(a, 1, t0).granted, 1);
        assert_eq!(
            limiter.take(b, 5, t0).granted,
            1,
            "same /64 shares a bucket"
        );
        assert_eq!(limiter.take(other, 5, t0).granted, 2);
        // An IPv4-mapped IPv6 address is the IPv4 client.
        let mapped: IpAddr = "::ffff:10.0.0.1".parse().unwrap();
        assert_eq!(limiter.take(mapped, 1, t0).granted, 0);
    }

    #[test]
    fn the_table_is_bounded_and_idle_clients_are_evicted() {
        let limiter = RateLimiter::with_max_clients(5, 3).unwrap();
        let t0 = Instant::now();
        for i in 0..3 {
            assert_eq!(limiter.take(ip(i), 5, t0).granted, 5);
        }
        // Full of active clients: newcomers share the overflow bucket.
        assert_eq!(limiter.take(ip(10), 3, t0).granted, 3);
        assert_eq!(limiter.take(ip(11), 3, t0).granted, 2);
        assert_eq!(limiter.tracked_clients(), 3);
        // A second later the first three have refilled, are swept, and a newcomer gets its own.
        let t1 = t0 + Duration::from_secs(1);
        assert_eq!(limiter.take(ip(20), 5, t1).granted, 5);
        assert_eq!(limiter.tracked_clients(), 1);
        // Many distinct clients never grow the table past its bound.
        for i in 0..=255u8 {
            limiter.take(ip(i), 5, t1);
        }
        assert!(limiter.tracked_clients() <= 3);
    }
}
