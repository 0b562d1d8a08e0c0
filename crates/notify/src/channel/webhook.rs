//! The generic webhook: a JSON document about the incident, signed so the receiver can tell it
//! came from Sevwatch and was not replayed.
//!
//! # Verifying a delivery
//! Each request carries two headers:
//! - `X-Sevwatch-Timestamp`: when it was sent, in Unix seconds;
//! - `X-Sevwatch-Signature`: `sha256=` and the lower-case hex HMAC-SHA256, keyed with the
//!   channel's `secret`, of the timestamp, a `.`, and the raw request body, byte for byte.
//!
//! A receiver recomputes the HMAC over `"{timestamp}.{body}"` (before parsing the JSON),
//! compares it in constant time, and refuses a timestamp more than a few minutes from its own
//! clock: signing the timestamp with the body means an old request cannot be replayed with a
//! fresh timestamp. [`verify_signature`] does exactly this (five minutes is a good tolerance).
//! The same event may arrive more than once after a retry; `id` is the same on every try.

use hmac::{Hmac, Mac};
use serde_json::json;
use sevwatch_core::Timestamp;
use sha2::Sha256;

use super::Notification;

pub const TIMESTAMP_HEADER: &str = "X-Sevwatch-Timestamp";
pub const SIGNATURE_HEADER: &str = "X-Sevwatch-Signature";
pub const EVENT_HEADER: &str = "X-Sevwatch-Event";

type HmacSha256 = Hmac<Sha256>;

fn mac(secret: &[u8], timestamp: &str, body: &[u8]) -> HmacSha256 {
    let mut m = HmacSha256::new_from_slice(secret).expect("HMAC accepts keys of any length");
    m.update(timestamp.as_bytes());
    m.update(b".");
    m.update(body);
    m
}

/// `sha256=<hex>` for `body` sent at `timestamp` (Unix seconds, as in the header).
pub fn sign(secret: &[u8], timestamp: &str, body: &[u8]) -> String {
    format!("sha256={}", hex::encode(mac(secret, timestamp, body).finalize().into_bytes()))
}

/// Whether `header` is a valid signature of `body` at `timestamp`, and that timestamp is within
/// `tolerance` of `now` (either side, to allow for clock skew). False for anything malformed.
pub fn verify_signature(
    secret: &[u8],
    timestamp: &str,
    body: &[u8],
    header: &str,
    now: Timestamp,
    tolerance: std::time::Duration,
) -> bool {
    let Ok(sent) = timestamp.trim().parse::<i64>() else { return false };
    let skew = now.as_second().abs_diff(sent);
    if skew > tolerance.as_secs() {
        return false;
    }
    let Some(hex_sig) = header.trim().strip_prefix("sha256=") else { return false };
    let Ok(sig) = hex::decode(hex_sig) else { return false };
    // verify_slice compares in constant time, so timing reveals nothing about the expected MAC.
    mac(secret, timestamp.trim(), body).verify_slice(&sig).is_ok()
}

/// The request body: a stable `id` per incident, event and subject (so receivers can drop
/// retried duplicates), the incident's facts and the rendered text.
pub fn body(n: &Notification, now: Timestamp) -> Vec<u8> {
    let v = json!({
        "id": format!("{}:{}:{}", n.incident_id, n.template, hex::encode(&sha2_digest(n.subject.as_bytes())[..6])),
        "event": n.template,
        "sent_at": now.to_string(),
        "incident": {
            "id": n.incident_id,
            "title": n.title,
            "severity": n.severity,
            "status": n.status,
            "service": n.service,
            "commander": n.commander,
            "link": n.link,
        },
        "subject": n.subject,
        "body": n.body,
    });
    serde_json::to_vec(&v).expect("a serde_json::Value always serialises")
}

fn sha2_digest(b: &[u8]) -> Vec<u8> {
    use sha2::Digest;
    Sha256::digest(b).to_vec()
}

/// The signing headers for `body` sent at `now`.
pub fn headers(secret: &[u8], now: Timestamp, body: &[u8]) -> Vec<(&'static str, String)> {
    let ts = now.as_second().to_string();
    let sig = sign(secret, &ts, body);
    vec![(TIMESTAMP_HEADER, ts), (SIGNATURE_HEADER, sig)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_second(secs).unwrap()
    }

    #[test]
    fn a_fresh_signature_verifies_and_any_change_breaks_it() {
        let body = br#"{"event":"resolved"}"#;
        let sig = sign(b"s3cret", "1700000000", body);
        let tol = Duration::from_secs(300);
        assert!(verify_signature(b"s3cret", "1700000000", body, &sig, at(1_700_000_100), tol));
        assert!(!verify_signature(b"other", "1700000000", body, &sig, at(1_700_000_100), tol), "wrong secret");
        assert!(!verify_signature(b"s3cret", "1700000000", b"{\"event\":\"declared\"}", &sig, at(1_700_000_100), tol));
        assert!(!verify_signature(b"s3cret", "1700000001", body, &sig, at(1_700_000_100), tol), "timestamp is signed");
        assert!(!verify_signature(b"s3cret", "1700000000", body, &sig.replace("sha256=", ""), at(1_700_000_100), tol));
        assert!(!verify_signature(b"s3cret", "1700000000", body, "sha256=zz", at(1_700_000_100), tol));
    }

    #[test]
    fn stale_or_future_timestamps_are_refused_as_replays() {
        let body = b"{}";
        let sig = sign(b"k", "1700000000", body);
        let tol = Duration::from_secs(300);
        assert!(verify_signature(b"k", "1700000000", body, &sig, at(1_700_000_300), tol), "at the edge");
        assert!(!verify_signature(b"k", "1700000000", body, &sig, at(1_700_000_301), tol), "too old");
        assert!(!verify_signature(b"k", "1700000000", body, &sig, at(1_699_999_000), tol), "from the future");
        assert!(!verify_signature(b"k", "not-a-number", body, &sig, at(1_700_000_000), tol));
    }

    #[test]
    fn the_signature_matches_one_computed_by_another_implementation() {
        // Python: hmac.new(b"s3cret", b'1700000000.{"a":1}', hashlib.sha256).hexdigest()
        assert_eq!(
            sign(b"s3cret", "1700000000", br#"{"a":1}"#),
            "sha256=1698a50bc74d1ff1db85c4e0a5297c2ad9fdba245d5737cdb789e4cc6e098940"
        );
    }
}
