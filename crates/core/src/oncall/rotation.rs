//! One rotation: an ordered list of people taking turns, a shift length, a hand-off time of
//! day in an IANA time zone, and the date of the first hand-off. This file owns the arithmetic
//! of hand-off instants, which is where daylight-saving changes bite.
//!
//! Hand-off `k` is computed from the first hand-off, never by adding to hand-off `k - 1`, so a
//! skipped local time (a 02:30 hand-off on a spring-forward night) moves only that one hand-off
//! and the next one returns to 02:30. The length is split in two parts:
//! - whole days are *calendar* days in the rotation's zone: a daily 09:00 hand-off stays at
//!   09:00 local time across DST changes, so that shift is 23 or 25 hours long;
//! - the rest (the `12h` of `12h` or `1d12h`) is *elapsed* time, because "every 12 hours" is a
//!   promise about rest between shifts, not about the wall clock.

use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Span, Timestamp};

use crate::Duration;

const DAY_MS: i64 = 86_400_000;

/// Shorter shifts would page people on and off faster than anyone can hand over.
pub const MIN_LENGTH: Duration = Duration::from_hours(1);

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rotation {
    /// User ids in turn order; shift `k` belongs to `users[k % len]`.
    pub users: Vec<String>,
    /// `1d` for daily, `1w` for weekly, or any custom length of at least [`MIN_LENGTH`].
    pub length: Duration,
    /// Local time of day at which one shift ends and the next begins.
    pub handoff: Time,
    pub time_zone: TimeZone,
    /// Date of the first hand-off (at `handoff`, in `time_zone`); nobody is on call before it.
    pub start: Date,
}

/// The shift of a rotation that contains some instant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RotationShift {
    /// 0 for the first shift after `start`.
    pub index: i64,
    pub user: String,
    pub start: Timestamp,
    pub end: Timestamp,
}

impl Rotation {
    /// The instant of hand-off number `k` (`k = 0` is the first). `None` for `k < 0`, for an
    /// unusable rotation (zero length), or when the arithmetic leaves jiff's supported range.
    pub fn handoff_at(&self, k: i64) -> Option<Timestamp> {
        let len = self.length.as_millis();
        if k < 0 || len <= 0 {
            return None;
        }
        let days = (len / DAY_MS).checked_mul(k)?;
        let rest = (len % DAY_MS).checked_mul(k)?;
        let local = self.start.to_datetime(self.handoff).checked_add(Span::new().try_days(days).ok()?).ok()?;
        // `compatible` resolves a skipped local time to the instant after the gap and a
        // repeated one to its first occurrence, as most calendars do.
        let zoned = self.time_zone.to_ambiguous_zoned(local).compatible().ok()?;
        zoned.timestamp().checked_add(SignedDuration::from_millis(rest)).ok()
    }

    /// The first hand-off, when the rotation begins.
    pub fn begins_at(&self) -> Option<Timestamp> {
        self.handoff_at(0)
    }

    /// The shift containing `at` (its start is at or before `at`, its end after), or `None`
    /// before the rotation begins or when it has no users.
    pub fn shift_at(&self, at: Timestamp) -> Option<RotationShift> {
        let first = self.begins_at()?;
        if at < first || self.users.is_empty() {
            return None;
        }
        // The nominal length is within a DST offset of every real shift, so the estimate is
        // at most one or two shifts off; the loops below correct it.
        let mut k = (at.as_millisecond() - first.as_millisecond()) / self.length.as_millis();
        while k > 0 && self.handoff_at(k)? > at {
            k -= 1;
        }
        while self.handoff_at(k + 1)? <= at {
            k += 1;
        }
        self.shift(k)
    }

    /// Shift number `k`, whole.
    pub fn shift(&self, k: i64) -> Option<RotationShift> {
        let n = i64::try_from(self.users.len()).ok().filter(|n| *n > 0)?;
        let user = self.users[usize::try_from(k.rem_euclid(n)).ok()?].clone();
        Some(RotationShift { index: k, user, start: self.handoff_at(k)?, end: self.handoff_at(k + 1)? })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn utc_rotation(length: &str, handoff: &str, start: &str, users: &[&str]) -> Rotation {
        Rotation {
            users: users.iter().map(|u| u.to_string()).collect(),
            length: length.parse().unwrap(),
            handoff: handoff.parse().unwrap(),
            time_zone: TimeZone::UTC,
            start: start.parse().unwrap(),
        }
    }

    #[test]
    fn shifts_rotate_through_users_in_order() {
        let r = utc_rotation("1d", "09:00", "2026-03-02", &["ann", "bob", "cat"]);
        let cases = [
            ("2026-03-02T09:00:00Z", Some(("ann", 0))),
            ("2026-03-03T08:59:59Z", Some(("ann", 0))),
            ("2026-03-03T09:00:00Z", Some(("bob", 1))),
            ("2026-03-04T12:00:00Z", Some(("cat", 2))),
            ("2026-03-05T09:00:00Z", Some(("ann", 3))),
            ("2026-03-02T08:59:59Z", None),
        ];
        for (at, want) in cases {
            let got = r.shift_at(ts(at)).map(|s| (s.user, s.index));
            assert_eq!(got, want.map(|(u, k)| (u.to_string(), k)), "at {at}");
        }
    }

    #[test]
    fn custom_lengths_mix_calendar_days_and_elapsed_hours() {
        let cases = [
            ("1w", 1, "2026-03-09T09:00:00Z"),
            ("3d", 2, "2026-03-08T09:00:00Z"),
            ("12h", 3, "2026-03-03T21:00:00Z"),
            ("1d12h", 2, "2026-03-05T09:00:00Z"),
        ];
        for (length, k, want) in cases {
            let r = utc_rotation(length, "09:00", "2026-03-02", &["ann"]);
            assert_eq!(r.handoff_at(k), Some(ts(want)), "{length} hand-off {k}");
        }
    }

    #[test]
    fn a_shift_starts_at_or_before_the_instant_and_ends_after_it() {
        let r = utc_rotation("12h", "07:30", "2026-01-01", &["ann", "bob"]);
        for at in ["2026-01-01T07:30:00Z", "2026-01-09T19:29:59.999Z", "2026-06-30T00:00:00Z"] {
            let s = r.shift_at(ts(at)).unwrap();
            assert!(s.start <= ts(at) && ts(at) < s.end, "{at}: {s:?}");
            assert_eq!(s.end.as_millisecond() - s.start.as_millisecond(), 12 * 3_600_000);
        }
    }

    #[test]
    fn a_rotation_without_users_or_length_has_no_shifts() {
        let mut r = utc_rotation("1d", "09:00", "2026-03-02", &[]);
        assert_eq!(r.shift_at(ts("2026-03-05T00:00:00Z")), None);
        r.users.push("ann".into());
        r.length = Duration::ZERO;
        assert_eq!(r.shift_at(ts("2026-03-05T00:00:00Z")), None);
    }
}
