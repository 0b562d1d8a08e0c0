//! Failed-authentication throttling, per client address: after [`FREE_FAILURES`] unknown or
//! revoked tokens in a row, the address must wait before it may try again, one second at
//! first and twice as long after each further failure, up to [`MAX_WAIT`]; meanwhile every
//! request from it that carries a token is answered 429 with `Retry-After`. A success resets the
//! address. Guessing a 256-bit token is hopeless anyway; this keeps a guesser from costing a
//! database read per attempt and makes the attempt visible.
//!
//! Pure: the clock is passed in, so tests move it instead of sleeping.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures allowed before the first wait.
pub const FREE_FAILURES: u32 = 5;
/// Longest wait.
pub const MAX_WAIT: Duration = Duration::from_secs(60);
/// Bound on memory: a flood from many addresses cannot grow the table without limit.
const MAX_ADDRESSES: usize = 10_000;

#[derive(Default)]
pub struct AuthThrottle {
    table: Mutex<HashMap<IpAddr, Entry>>,
    /// Addresses in the table, readable without the lock: while nobody has failed (the normal
    /// case), a request costs one atomic load, not two lock round trips on every ingest call.
    tracked: AtomicUsize,
}

#[derive(Clone, Copy)]
struct Entry {
    failures: u32,
    until: Instant,
}

impl AuthThrottle {
    /// How long the caller at `ip` (when the server knows it) must still wait, if it must.
    pub fn check(&self, ip: Option<IpAddr>, now: Instant) -> Option<Duration> {
        self.wait(ip?, now)
    }

    /// Records how authenticating a token from `ip` went: `true` when the token exists (of any
    /// role: a real token is no guess), `false` when it is unknown or revoked.
    pub fn record(&self, ip: Option<IpAddr>, token_exists: bool, now: Instant) {
        match (ip, token_exists) {
            (Some(ip), true) => self.succeeded(ip),
            (Some(ip), false) => self.failed(ip, now),
            (None, _) => {}
        }
    }

    pub fn wait(&self, ip: IpAddr, now: Instant) -> Option<Duration> {
        if self.tracked.load(Ordering::Relaxed) == 0 {
            return None;
        }
        let table = self.table.lock().expect("throttle lock");
        table.get(&ip).filter(|e| e.until > now).map(|e| e.until - now)
    }

    pub fn failed(&self, ip: IpAddr, now: Instant) {
        let mut table = self.table.lock().expect("throttle lock");
        if table.len() >= MAX_ADDRESSES && !table.contains_key(&ip) {
            table.retain(|_, e| e.until > now);
            self.tracked.store(table.len(), Ordering::Relaxed);
            if table.len() >= MAX_ADDRESSES {
                return;
            }
        }
        let e = table.entry(ip).or_insert(Entry { failures: 0, until: now });
        e.failures += 1;
        if e.failures > FREE_FAILURES {
            let doublings = (e.failures - FREE_FAILURES - 1).min(16);
            e.until = now + Duration::from_secs(1u64 << doublings).min(MAX_WAIT);
        }
        self.tracked.store(table.len(), Ordering::Relaxed);
    }

    pub fn succeeded(&self, ip: IpAddr) {
        if self.tracked.load(Ordering::Relaxed) == 0 {
            return;
        }
        let mut table = self.table.lock().expect("throttle lock");
        table.remove(&ip);
        self.tracked.store(table.len(), Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_start_after_the_free_failures_double_and_end() {
        let t = AuthThrottle::default();
        let ip: IpAddr = "192.0.2.7".parse().unwrap();
        let other: IpAddr = "192.0.2.8".parse().unwrap();
        let start = Instant::now();
        for _ in 0..FREE_FAILURES {
            t.failed(ip, start);
            assert_eq!(t.wait(ip, start), None);
        }
        t.failed(ip, start);
        assert_eq!(t.wait(ip, start), Some(Duration::from_secs(1)));
        assert_eq!(t.wait(other, start), None, "other addresses are not affected");
        let later = start + Duration::from_secs(1);
        assert_eq!(t.wait(ip, later), None, "the wait ends");
        t.failed(ip, later);
        assert_eq!(t.wait(ip, later), Some(Duration::from_secs(2)));
        for _ in 0..20 {
            t.failed(ip, later);
        }
        assert_eq!(t.wait(ip, later), Some(MAX_WAIT));
        t.succeeded(ip);
        assert_eq!(t.wait(ip, later), None);
    }
}
