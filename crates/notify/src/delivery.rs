//! The retry contract every channel answers with, and the pure rules for what happens next.
//!
//! One delivery attempt ends in exactly one [`Delivery`]:
//! - `Ok`: the receiver accepted the message (HTTP 2xx, SMTP 250).
//! - `Retry`: it may work later: HTTP 5xx and 429, timeouts, refused or reset connections,
//!   SMTP 4xx. `after` carries the receiver's `Retry-After` when it sent one.
//! - `Fail`: it will not work without someone changing something: HTTP 4xx other than 429
//!   (a revoked webhook, a bad routing key, a malformed payload), SMTP 5xx, a redirect (we do
//!   not follow them, so a signed body never goes to a host nobody configured).
//!
//! The outbox worker owns the loop: on `Retry` it waits [`backoff`] (or `after`, if longer) and
//! tries again until [`dead_letter`] says to stop; on `Fail` it stops at once. Both are pure so
//! the schedule is tested without sleeping.

use std::time::Duration;

/// How one delivery attempt went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Delivery {
    Ok,
    Retry {
        /// The receiver's own `Retry-After`, when it gave one.
        after: Option<Duration>,
        error: String,
        /// The HTTP status or SMTP reply code, when there was an answer at all.
        status: Option<u16>,
    },
    Fail {
        error: String,
        status: Option<u16>,
    },
}

impl Delivery {
    pub fn is_ok(&self) -> bool {
        matches!(self, Delivery::Ok)
    }

    pub fn is_retry(&self) -> bool {
        matches!(self, Delivery::Retry { .. })
    }

    pub fn is_fail(&self) -> bool {
        matches!(self, Delivery::Fail { .. })
    }

    /// The HTTP status or SMTP code of the answer, if any.
    pub fn status(&self) -> Option<u16> {
        match self {
            Delivery::Ok => None,
            Delivery::Retry { status, .. } | Delivery::Fail { status, .. } => *status,
        }
    }
}

/// How hard the outbox tries before a message is dead-lettered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    pub base: Duration,
    pub max: Duration,
    pub max_attempts: u32,
}

impl Default for RetryPolicy {
    /// 10 s doubling to at most 10 min, 8 attempts: about half an hour of trying, which
    /// outlasts a receiver's restart or deploy without paging about a stale incident a day late.
    fn default() -> Self {
        RetryPolicy { base: Duration::from_secs(10), max: Duration::from_secs(600), max_attempts: 8 }
    }
}

/// Classify an HTTP answer. `retry_after` is the raw `Retry-After` header; `body` a snippet of
/// the answer, kept in the error for whoever reads the dead letters.
pub fn from_http(status: u16, retry_after: Option<&str>, body: &str) -> Delivery {
    let snippet: String = body.trim().chars().take(300).collect();
    let error = if snippet.is_empty() { format!("HTTP {status}") } else { format!("HTTP {status}: {snippet}") };
    match status {
        200..=299 => Delivery::Ok,
        429 | 500..=599 => {
            Delivery::Retry { after: retry_after.and_then(parse_retry_after), error, status: Some(status) }
        }
        300..=399 => Delivery::Fail {
            error: format!("{error} (redirects are not followed; configure the final URL)"),
            status: Some(status),
        },
        _ => Delivery::Fail { error, status: Some(status) },
    }
}

/// `Retry-After` in seconds. The HTTP-date form is ignored (the backoff applies instead):
/// webhook receivers send seconds in practice, and dates would make this depend on a clock.
fn parse_retry_after(v: &str) -> Option<Duration> {
    v.trim().parse::<u64>().ok().map(|s| Duration::from_secs(s.min(3600)))
}

/// Classify a request that got no HTTP answer: every such failure (timeout, refused, reset,
/// DNS) may pass, so all are retried, except a request we could not even build.
pub fn from_transport(e: &reqwest::Error) -> Delivery {
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_builder() {
        return Delivery::Fail { error: format!("bad request: {e}"), status: None };
    } else {
        "request failed"
    };
    let chain = error_chain(e);
    // The destination rule refused the address: no retry will change that.
    if chain.contains(crate::destination::REFUSED) {
        return Delivery::Fail { error: format!("{what}: {chain}"), status: None };
    }
    Delivery::Retry { after: None, error: format!("{what}: {chain}"), status: None }
}

/// An error with its sources, for messages people read ("could not connect: ...: Connection
/// refused").
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(inner) = cur {
        let text = inner.to_string();
        if !s.contains(&text) {
            s.push_str(": ");
            s.push_str(&text);
        }
        cur = inner.source();
    }
    s
}

/// The wait before the next try after `attempt` failed tries (1 after the first failure):
/// `base * 2^(attempt-1)`, capped at `max`, then jittered into its upper half so that many
/// messages failing together (a receiver's outage) do not retry in lockstep. The jitter comes
/// from `jitter_seed` (e.g. the outbox row id), so the function is pure and repeatable.
pub fn backoff(attempt: u32, base: Duration, max: Duration, jitter_seed: u64) -> Duration {
    let exp = attempt.saturating_sub(1).min(32);
    let full = base.saturating_mul(1u32 << exp.min(31)).min(max);
    let half = full / 2;
    let span_ms = u64::try_from(half.as_millis()).unwrap_or(u64::MAX);
    let jitter = if span_ms == 0 { 0 } else { splitmix64(jitter_seed ^ u64::from(attempt)) % (span_ms + 1) };
    (full - half) + Duration::from_millis(jitter)
}

/// Whether a message that has failed `attempt` times should stop being retried.
pub fn dead_letter(attempt: u32, max_attempts: u32) -> bool {
    attempt >= max_attempts
}

/// A well-mixed 64-bit hash (Steele et al.'s SplitMix64 finaliser): enough to spread jitter,
/// no dependency on a random number generator.
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_statuses_follow_the_contract() {
        assert_eq!(from_http(200, None, "ok"), Delivery::Ok);
        assert_eq!(from_http(202, None, ""), Delivery::Ok);
        for s in [400, 401, 403, 404, 410, 422] {
            assert!(from_http(s, None, "").is_fail(), "{s}");
        }
        for s in [429, 500, 502, 503, 504] {
            assert!(from_http(s, None, "").is_retry(), "{s}");
        }
        assert!(from_http(301, None, "").is_fail());
    }

    #[test]
    fn retry_after_in_seconds_is_kept_and_dates_are_ignored() {
        let Delivery::Retry { after, status, error } = from_http(429, Some("30"), "slow down") else { panic!() };
        assert_eq!((after, status), (Some(Duration::from_secs(30)), Some(429)));
        assert_eq!(error, "HTTP 429: slow down");
        let Delivery::Retry { after, .. } = from_http(503, Some("Wed, 21 Oct 2015 07:28:00 GMT"), "") else { panic!() };
        assert_eq!(after, None);
    }

    #[test]
    fn backoff_doubles_up_to_the_cap_and_stays_in_the_upper_half() {
        let (base, max) = (Duration::from_secs(10), Duration::from_secs(600));
        for seed in 0..200u64 {
            for attempt in 1..=12u32 {
                let full = (base * 2u32.pow(attempt - 1)).min(max);
                let d = backoff(attempt, base, max, seed);
                assert!(
                    d >= full / 2 && d <= full,
                    "attempt {attempt} seed {seed}: {d:?} not in [{:?}, {full:?}]",
                    full / 2
                );
            }
        }
        assert!(backoff(40, base, max, 7) <= max, "huge attempt counts do not overflow");
    }

    #[test]
    fn backoff_is_repeatable_per_seed_and_spreads_across_seeds() {
        let (base, max) = (Duration::from_secs(10), Duration::from_secs(600));
        assert_eq!(backoff(3, base, max, 42), backoff(3, base, max, 42));
        let distinct: std::collections::BTreeSet<Duration> = (0..50u64).map(|s| backoff(3, base, max, s)).collect();
        assert!(distinct.len() > 40, "jitter spreads messages apart: {} distinct waits", distinct.len());
    }

    #[test]
    fn a_message_is_dead_lettered_once_it_has_used_its_attempts() {
        let p = RetryPolicy::default();
        assert!(!dead_letter(p.max_attempts - 1, p.max_attempts));
        assert!(dead_letter(p.max_attempts, p.max_attempts));
        assert!(dead_letter(p.max_attempts + 1, p.max_attempts));
    }
}
