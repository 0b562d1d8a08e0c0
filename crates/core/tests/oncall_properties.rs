//! Properties of on-call resolution and escalation over generated schedules and histories:
//! exactly one person per layer at every instant of a schedule's validity range, shifts that
//! tile time, and an escalation calculator that never repeats a step or pages after an ack.

use std::collections::BTreeSet;

use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;
use sevwatch_core::oncall::{
    escalate, oncall, shifts, EscalationInput, EscalationPolicy, Layer, Override, Rotation, Schedule, Step, StepRef,
    Target,
};
use sevwatch_core::Duration;

/// Zones with DST changes when this machine has a database; UTC always.
fn zones() -> Vec<TimeZone> {
    let mut out = vec![TimeZone::UTC];
    out.extend(
        ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe"].iter().filter_map(|n| TimeZone::get(n).ok()),
    );
    out
}

const BASE: i64 = 1_767_225_600; // 2026-01-01T00:00:00Z

fn instant(secs: i64) -> Timestamp {
    Timestamp::from_second(BASE + secs).unwrap()
}

fn layer_strategy(name: &'static str) -> impl Strategy<Value = (String, Vec<String>, i64, u8, u8, i64, usize)> {
    (
        prop::collection::vec(prop::sample::select(vec!["ann", "bob", "cat", "dan"]), 1..4),
        // Length in hours: sub-day, whole days, and mixed (1d12h).
        prop::sample::select(vec![1_i64, 5, 8, 12, 24, 36, 72, 168]),
        0u8..24,
        prop::sample::select(vec![0u8, 15, 30]),
        0i64..120,
        0usize..8,
    )
        .prop_map(move |(users, hours, h, m, day, zone)| {
            (name.to_string(), users.into_iter().map(String::from).collect(), hours, h, m, day, zone)
        })
}

fn schedule_strategy() -> impl Strategy<Value = Schedule> {
    let overrides = prop::collection::vec(
        (0i64..200 * 86_400, 1i64..5 * 86_400, prop::option::of(prop::sample::select(vec!["primary", "secondary"]))),
        0..4,
    );
    (layer_strategy("primary"), prop::option::of(layer_strategy("secondary")), overrides).prop_map(|(p, s, ovs)| {
        let zones = zones();
        let layers = [Some(p), s]
            .into_iter()
            .flatten()
            .map(|(name, users, hours, h, m, day, zone)| Layer {
                name,
                rotation: Rotation {
                    users,
                    length: Duration::from_hours(hours),
                    handoff: Time::new(h as i8, m as i8, 0, 0).unwrap(),
                    time_zone: zones[zone % zones.len()].clone(),
                    start: Date::constant(2026, 1, 1).checked_add(jiff::Span::new().days(day)).unwrap(),
                },
                end: None,
            })
            .collect();
        let overrides = ovs
            .into_iter()
            .map(|(start, len, layer)| Override {
                user: "zed".into(),
                start: instant(start),
                end: instant(start + len),
                layer: layer.map(String::from),
            })
            .collect();
        Schedule { id: "s".into(), name: "s".into(), layers, overrides }
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn every_layer_has_exactly_one_person_on_call_once_the_schedule_is_valid(
        s in schedule_strategy(),
        offset in 0i64..400 * 86_400,
    ) {
        let from = s.valid_from().unwrap();
        let at = from.checked_add(SignedDuration::from_secs(offset)).unwrap();
        let on = oncall(&s, at);
        let names: Vec<&str> = on.layers.iter().map(|x| x.layer.as_str()).collect();
        prop_assert_eq!(names, s.layer_names());
        for shift in &on.layers {
            prop_assert!(shift.start <= at && at < shift.end, "{:?} at {}", shift, at);
            let l = s.layers.iter().find(|l| l.name == shift.layer).unwrap();
            prop_assert!(shift.user == "zed" || l.rotation.users.contains(&shift.user));
            prop_assert_eq!(shift.overridden, shift.user == "zed");
        }
    }

    #[test]
    fn shifts_tile_each_layer_without_gaps_or_overlaps_and_agree_with_oncall(
        s in schedule_strategy(),
        offset in 0i64..200 * 86_400,
        span in 3_600i64..21 * 86_400,
        probe in 0.0f64..1.0,
    ) {
        let from = s.valid_from().unwrap().checked_add(SignedDuration::from_secs(offset)).unwrap();
        let to = from.checked_add(SignedDuration::from_secs(span)).unwrap();
        let all = shifts(&s, from, to);
        for name in s.layer_names() {
            let mine: Vec<_> = all.iter().filter(|x| x.layer == name).collect();
            prop_assert!(!mine.is_empty());
            prop_assert!(mine[0].start <= from, "first shift starts after the window");
            prop_assert!(mine[mine.len() - 1].end >= to, "last shift ends before the window");
            for x in &mine {
                prop_assert!(x.start < x.end, "empty shift {:?}", x);
            }
            for pair in mine.windows(2) {
                prop_assert_eq!(pair[0].end, pair[1].start, "gap or overlap in {}", name);
            }
            let at = from.checked_add(SignedDuration::from_secs((span as f64 * probe) as i64)).unwrap();
            let tile = mine.iter().find(|x| x.start <= at && at < x.end).unwrap();
            let on = oncall(&s, at);
            prop_assert_eq!(on.layer(name), Some(*tile));
        }
    }

    #[test]
    fn escalation_never_repeats_a_step_nor_pages_after_acknowledgement(
        delays in prop::collection::vec(0i64..90, 1..5),
        repeat in 0u32..3,
        manual in prop::collection::vec(0i64..400, 0..4),
        ack in prop::option::of(0i64..400),
        ticks in prop::collection::vec(1i64..45, 1..40),
    ) {
        let mut delays = delays;
        delays.sort();
        let last = *delays.last().unwrap();
        let policy = EscalationPolicy {
            id: "p".into(),
            name: "p".into(),
            steps: delays
                .iter()
                .enumerate()
                .map(|(i, d)| Step { delay: Duration::from_mins(*d), targets: vec![Target::User(format!("u{i}"))] })
                .collect(),
            repeat,
            repeat_every: Some(Duration::from_mins(last + 30)),
            business_hours: None,
        };
        let t0 = instant(0);
        let mins = |m: i64| t0.checked_add(SignedDuration::from_mins(m)).unwrap();
        let manual: Vec<Timestamp> = manual.into_iter().map(mins).collect();
        let mut fired: Vec<StepRef> = Vec::new();
        let mut now_m = 0;
        for tick in ticks {
            let now = mins(now_m);
            let acked = ack.filter(|a| *a <= now_m).map(mins);
            let input = EscalationInput { triggered_at: t0, acknowledged_at: acked, resolved_at: None, fired: &fired, manual: &manual };
            let out = escalate(&policy, &[], &input, now);
            if acked.is_some() {
                prop_assert!(out.due.is_empty() && out.next_at.is_none(), "paged after ack: {:?}", out);
            }
            for d in &out.due {
                prop_assert!(!fired.contains(&d.step), "{:?} fired twice", d.step);
                prop_assert!(d.due_at <= now);
            }
            if let Some(next) = out.next_at {
                prop_assert!(next > now);
            }
            let unique: BTreeSet<StepRef> = out.due.iter().map(|d| d.step).collect();
            prop_assert_eq!(unique.len(), out.due.len());
            fired.extend(out.due.iter().map(|d| d.step));
            now_m += tick;
        }
        prop_assert!(fired.len() <= delays.len() * (repeat as usize + 1));
    }
}
