//! Schedule resolution end to end: rotations, layers, overrides, daylight-saving changes and
//! the iCalendar export.

use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use jiff::Timestamp;
use sevwatch_core::oncall::{oncall, shifts, to_ics, Layer, Override, Rotation, Schedule};
use sevwatch_core::Duration;

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

/// A named zone from the system database, or `None` (with the reason printed) when this
/// machine has none. `SEVWATCH_REQUIRE_ALL=1` turns the skip into a failure.
fn zone(name: &str) -> Option<TimeZone> {
    match TimeZone::get(name) {
        Ok(tz) => Some(tz),
        Err(e) if std::env::var("SEVWATCH_REQUIRE_ALL").as_deref() != Ok("1") => {
            eprintln!("skipping: time zone {name} unavailable ({e}); install tzdata");
            None
        }
        Err(e) => panic!("time zone {name} unavailable and SEVWATCH_REQUIRE_ALL=1: {e}"),
    }
}

fn layer(name: &str, users: &[&str], length: &str, handoff: &str, tz: &TimeZone, start: &str) -> Layer {
    Layer {
        name: name.into(),
        rotation: Rotation {
            users: users.iter().map(|u| u.to_string()).collect(),
            length: length.parse().unwrap(),
            handoff: handoff.parse().unwrap(),
            time_zone: tz.clone(),
            start: start.parse().unwrap(),
        },
        end: None,
    }
}

fn schedule(layers: Vec<Layer>, overrides: Vec<Override>) -> Schedule {
    Schedule { id: "platform".into(), name: "Platform".into(), layers, overrides }
}

fn who(s: &Schedule, at: &str) -> Vec<(String, String)> {
    oncall(s, ts(at)).layers.into_iter().map(|x| (x.layer, x.user)).collect()
}

fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
}

#[test]
fn each_layer_answers_with_its_own_rotation() {
    let utc = TimeZone::UTC;
    let s = schedule(
        vec![
            layer("primary", &["ann", "bob"], "1w", "09:00", &utc, "2026-03-02"),
            layer("secondary", &["cat", "dan", "eve"], "1d", "17:00", &utc, "2026-03-02"),
        ],
        vec![],
    );
    let cases = [
        ("2026-03-02T08:00:00Z", vec![]),
        ("2026-03-02T10:00:00Z", vec![("primary", "ann")]),
        ("2026-03-02T17:00:00Z", vec![("primary", "ann"), ("secondary", "cat")]),
        ("2026-03-03T17:00:00Z", vec![("primary", "ann"), ("secondary", "dan")]),
        ("2026-03-09T09:00:00Z", vec![("primary", "bob"), ("secondary", "cat")]),
        ("2026-03-16T08:59:59Z", vec![("primary", "bob"), ("secondary", "dan")]),
    ];
    for (at, want) in cases {
        assert_eq!(who(&s, at), pairs(&want), "at {at}");
    }
    let on = oncall(&s, ts("2026-03-04T12:00:00Z"));
    let primary = on.layer("primary").unwrap();
    assert_eq!((primary.start, primary.end), (ts("2026-03-02T09:00:00Z"), ts("2026-03-09T09:00:00Z")));
}

#[test]
fn overrides_replace_the_rotation_for_their_range_and_layer() {
    let utc = TimeZone::UTC;
    let ov = |user: &str, start: &str, end: &str, layer: Option<&str>| Override {
        user: user.into(),
        start: ts(start),
        end: ts(end),
        layer: layer.map(String::from),
    };
    let s = schedule(
        vec![
            layer("primary", &["ann", "bob"], "1w", "09:00", &utc, "2026-03-02"),
            layer("secondary", &["cat"], "1w", "09:00", &utc, "2026-03-02"),
        ],
        vec![
            ov("zed", "2026-03-04T12:00:00Z", "2026-03-04T14:00:00Z", Some("primary")),
            ov("yan", "2026-03-05T00:00:00Z", "2026-03-06T00:00:00Z", None),
            // Listed later, so it wins where it overlaps the one above.
            ov("xia", "2026-03-05T06:00:00Z", "2026-03-05T07:00:00Z", Some("secondary")),
        ],
    );
    let cases = [
        ("2026-03-04T11:59:59Z", vec![("primary", "ann"), ("secondary", "cat")]),
        ("2026-03-04T12:00:00Z", vec![("primary", "zed"), ("secondary", "cat")]),
        ("2026-03-04T14:00:00Z", vec![("primary", "ann"), ("secondary", "cat")]),
        ("2026-03-05T03:00:00Z", vec![("primary", "yan"), ("secondary", "yan")]),
        ("2026-03-05T06:30:00Z", vec![("primary", "yan"), ("secondary", "xia")]),
        ("2026-03-06T00:00:00Z", vec![("primary", "ann"), ("secondary", "cat")]),
    ];
    for (at, want) in cases {
        assert_eq!(who(&s, at), pairs(&want), "at {at}");
    }
    // The person before an override is told when their cover starts.
    let before = oncall(&s, ts("2026-03-04T10:00:00Z"));
    assert_eq!(before.layer("primary").unwrap().end, ts("2026-03-04T12:00:00Z"));
    let during = oncall(&s, ts("2026-03-04T13:00:00Z"));
    assert!(during.layer("primary").unwrap().overridden);
}

#[test]
fn a_replaced_layer_hands_over_to_its_successor_on_the_end_date() {
    let utc = TimeZone::UTC;
    let mut old = layer("primary", &["ann", "bob"], "1w", "09:00", &utc, "2026-01-05");
    old.end = Some(Date::constant(2026, 3, 4));
    let new = layer("primary", &["cat"], "1d", "09:00", &utc, "2026-03-04");
    let s = schedule(vec![old, new], vec![]);
    assert_eq!(who(&s, "2026-03-04T08:59:59Z"), pairs(&[("primary", "ann")]));
    assert_eq!(who(&s, "2026-03-04T09:00:00Z"), pairs(&[("primary", "cat")]));
    let cut = oncall(&s, ts("2026-03-03T00:00:00Z"));
    assert_eq!(cut.layer("primary").unwrap().end, ts("2026-03-04T09:00:00Z"), "the last old shift is cut short");
}

#[test]
fn shifts_over_a_range_are_whole_and_contiguous_per_layer() {
    let utc = TimeZone::UTC;
    let s = schedule(
        vec![layer("primary", &["ann", "bob"], "1d", "09:00", &utc, "2026-03-02")],
        vec![Override {
            user: "zed".into(),
            start: ts("2026-03-03T20:00:00Z"),
            end: ts("2026-03-04T20:00:00Z"),
            layer: None,
        }],
    );
    let got: Vec<(String, Timestamp, Timestamp)> = shifts(&s, ts("2026-03-03T12:00:00Z"), ts("2026-03-05T00:00:00Z"))
        .into_iter()
        .map(|x| (x.user, x.start, x.end))
        .collect();
    let want = [
        ("bob", "2026-03-03T09:00:00Z", "2026-03-03T20:00:00Z"),
        ("zed", "2026-03-03T20:00:00Z", "2026-03-04T20:00:00Z"),
        ("ann", "2026-03-04T20:00:00Z", "2026-03-05T09:00:00Z"),
    ];
    let want: Vec<(String, Timestamp, Timestamp)> =
        want.iter().map(|(u, a, b)| (u.to_string(), ts(a), ts(b))).collect();
    assert_eq!(got, want);
    // The override is reported whole even when the window starts inside it.
    let inside = shifts(&s, ts("2026-03-04T10:00:00Z"), ts("2026-03-04T11:00:00Z"));
    assert_eq!(inside.len(), 1);
    assert_eq!((inside[0].start, inside[0].end), (ts("2026-03-03T20:00:00Z"), ts("2026-03-04T20:00:00Z")));
    assert!(shifts(&s, ts("2026-03-05T00:00:00Z"), ts("2026-03-05T00:00:00Z")).is_empty());
}

/// Europe/Berlin moves from +01:00 to +02:00 at 02:00 on 2026-03-29 and back at 03:00 on
/// 2026-10-25. A daily 09:00 rotation must hand off at 09:00 local time on both sides of each
/// change, so the shift containing the change is 23 (spring) or 25 (autumn) hours long.
#[test]
fn a_daily_handoff_stays_at_nine_local_time_across_both_dst_changes_in_berlin() {
    let Some(berlin) = zone("Europe/Berlin") else { return };
    let s = schedule(vec![layer("primary", &["ann", "bob"], "1d", "09:00", &berlin, "2026-03-27")], vec![]);
    let cases = [
        // (instant, on call, shift start UTC, shift end UTC, hours long)
        ("2026-03-28T12:00:00Z", "bob", "2026-03-28T08:00:00Z", "2026-03-29T07:00:00Z", 23),
        ("2026-03-29T12:00:00Z", "ann", "2026-03-29T07:00:00Z", "2026-03-30T07:00:00Z", 24),
        ("2026-10-24T12:00:00Z", "bob", "2026-10-24T07:00:00Z", "2026-10-25T08:00:00Z", 25),
        ("2026-10-25T12:00:00Z", "ann", "2026-10-25T08:00:00Z", "2026-10-26T08:00:00Z", 24),
    ];
    for (at, user, start, end, hours) in cases {
        let on = oncall(&s, ts(at));
        let shift = on.layer("primary").unwrap();
        assert_eq!((shift.user.as_str(), shift.start, shift.end), (user, ts(start), ts(end)), "at {at}");
        assert_eq!(shift.end.duration_since(shift.start).as_hours(), hours, "at {at}");
        for edge in [shift.start, shift.end] {
            assert_eq!(berlin.to_datetime(edge).time(), Time::constant(9, 0, 0, 0), "hand-off at {edge}");
        }
    }
}

/// America/New_York skips 02:00-03:00 on 2026-03-08. A 02:30 hand-off does not exist that
/// night: it happens at 03:30 EDT (the instant after the gap), and the next night is back at
/// 02:30. A 12h rotation counts elapsed hours, so its local hand-off time moves by the hour.
#[test]
fn a_handoff_in_the_skipped_hour_moves_past_the_gap_for_that_night_only() {
    let Some(ny) = zone("America/New_York") else { return };
    let daily = schedule(vec![layer("primary", &["ann"], "1d", "02:30", &ny, "2026-03-06")], vec![]);
    let edges: Vec<String> = shifts(&daily, ts("2026-03-07T12:00:00Z"), ts("2026-03-09T12:00:00Z"))
        .iter()
        .map(|x| ny.to_datetime(x.start).to_string())
        .collect();
    assert_eq!(edges, ["2026-03-07T02:30:00", "2026-03-08T03:30:00", "2026-03-09T02:30:00"]);

    let twelve = schedule(vec![layer("primary", &["ann", "bob"], "12h", "08:00", &ny, "2026-03-07")], vec![]);
    let local: Vec<String> = shifts(&twelve, ts("2026-03-07T14:00:00Z"), ts("2026-03-08T20:00:00Z"))
        .iter()
        .map(|x| ny.to_datetime(x.start).to_string())
        .collect();
    assert_eq!(local, ["2026-03-07T08:00:00", "2026-03-07T20:00:00", "2026-03-08T09:00:00"]);
}

#[test]
fn calendar_export_is_rfc_5545_with_crlf_folding_and_utc_times() {
    let utc = TimeZone::UTC;
    let mut s = schedule(vec![layer("primary", &["ann", "bob"], "1d", "09:00", &utc, "2026-03-02")], vec![]);
    s.name = "Platform, EU; on-call rotation for the storage, queueing and ingestion services".into();
    let list = shifts(&s, ts("2026-03-02T09:00:00Z"), ts("2026-03-04T09:00:00Z"));
    let ics = to_ics(&s, &list, ts("2026-03-01T12:34:56Z"));
    assert!(ics.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:"), "{ics}");
    assert!(ics.ends_with("END:VCALENDAR\r\n"));
    assert!(!ics.replace("\r\n", "").contains('\n'), "bare LF found");
    for line in ics.split("\r\n") {
        assert!(line.len() <= 75, "{} octets: {line:?}", line.len());
    }
    let unfolded = ics.replace("\r\n ", "");
    assert_eq!(unfolded.matches("BEGIN:VEVENT").count(), 2);
    assert!(unfolded.contains("DTSTAMP:20260301T123456Z\r\n"));
    assert!(unfolded.contains("DTSTART:20260302T090000Z\r\nDTEND:20260303T090000Z\r\n"));
    assert!(unfolded.contains("UID:platform-primary-"));
    assert!(unfolded.contains("SUMMARY:bob on call: Platform\\, EU\\; on-call rotation"), "{unfolded}");
    let uids: Vec<&str> = unfolded.lines().filter(|l| l.starts_with("UID:")).collect();
    assert_eq!(uids.len(), 2);
    assert_ne!(uids[0], uids[1]);
    // Stable across exports: the same shifts exported later keep their UIDs.
    let again = to_ics(&s, &list, ts("2026-03-02T00:00:00Z")).replace("\r\n ", "");
    let uids_again: Vec<&str> = again.lines().filter(|l| l.starts_with("UID:")).collect();
    assert_eq!(uids, uids_again);
}

#[test]
fn a_one_hour_minimum_keeps_shift_lists_bounded() {
    // A guard on the config rule: the shortest allowed rotation over four weeks stays small.
    let s = schedule(vec![layer("primary", &["ann"], "1h", "00:00", &TimeZone::UTC, "2026-03-01")], vec![]);
    let n = shifts(&s, ts("2026-03-01T00:00:00Z"), ts("2026-03-29T00:00:00Z")).len();
    assert_eq!(n, 28 * 24);
    assert_eq!(Duration::from_hours(1), sevwatch_core::oncall::rotation::MIN_LENGTH);
}
