//! What an incoming alert does to incidents: open, join, repeat, resolve, suppression,
//! inhibition, flapping and the auto-resolve timer.

use std::collections::BTreeMap;

use sevwatch_core::alert::{
    auto_resolve, decide, Alert, AlertOutcome, AlertRecord, AlertSource, AlertStatus, AutoResolve, Ctx, FlapRule,
    Suppression,
};
use sevwatch_core::{Duration, IncidentId, Severity, Timestamp};

fn at(min: i64) -> Timestamp {
    Timestamp::from_second(1_800_000_000 + min * 60).unwrap()
}

fn alert(status: AlertStatus) -> Alert {
    Alert {
        source: AlertSource::Alertmanager,
        fingerprint: "fp1".into(),
        labels: BTreeMap::from([("alertname".to_string(), "DiskFull".to_string())]),
        annotations: BTreeMap::new(),
        status,
        starts_at: None,
        ends_at: None,
        summary: Some("Disk 95% full on db1".into()),
        links: vec![],
        raw_severity: None,
    }
}

fn ctx(severity: Severity) -> Ctx {
    Ctx {
        severity,
        group_key: "root:{alertname=\"DiskFull\"}".into(),
        silenced: false,
        in_maintenance: false,
        inhibited: false,
        flap: FlapRule::default(),
    }
}

const FIRING: AlertStatus = AlertStatus::Firing;
const RESOLVED: AlertStatus = AlertStatus::Resolved;

/// A record as the store would hold it after an earlier decision.
fn known(status: AlertStatus, incident: Option<i64>) -> AlertRecord {
    let mut rec = decide(&alert(FIRING), None, None, &ctx(Severity::P2), at(0)).record;
    rec.incident = incident.map(IncidentId);
    if status == RESOLVED {
        rec = decide(&alert(RESOLVED), Some(&rec), None, &ctx(Severity::P2), at(1)).record;
    }
    rec
}

/// What happens, the incoming status, the stored record, the group's open incident, the
/// context, the expected outcome and whether it pages.
type Case = (&'static str, AlertStatus, Option<AlertRecord>, Option<(IncidentId, Severity)>, Ctx, AlertOutcome, bool);

#[test]
fn each_situation_leads_to_the_expected_outcome() {
    use AlertOutcome::*;
    let inc = IncidentId(7);
    let mut silenced = ctx(Severity::P2);
    silenced.silenced = true;
    let mut maint = ctx(Severity::P2);
    maint.in_maintenance = true;
    let mut inhibited = ctx(Severity::P2);
    inhibited.inhibited = true;
    let cases: Vec<Case> = vec![
        (
            "new alert, no open group incident",
            FIRING,
            None,
            None,
            ctx(Severity::P1),
            Open { title: "Disk 95% full on db1".into(), severity: Severity::P1 },
            true,
        ),
        (
            "new alert joins the open incident of its group",
            FIRING,
            None,
            Some((inc, Severity::P2)),
            ctx(Severity::P3),
            Join { incident: inc, raise_to: None },
            false,
        ),
        (
            "a more severe alert raises the group incident",
            FIRING,
            None,
            Some((inc, Severity::P2)),
            ctx(Severity::P0),
            Join { incident: inc, raise_to: Some(Severity::P0) },
            true,
        ),
        (
            "repeat of a firing alert is only counted",
            FIRING,
            Some(known(FIRING, Some(7))),
            Some((inc, Severity::P2)),
            ctx(Severity::P2),
            Repeat { incident: Some(inc), raise_to: None },
            false,
        ),
        (
            "repeat at a higher severity raises its incident",
            FIRING,
            Some(known(FIRING, Some(7))),
            Some((inc, Severity::P2)),
            ctx(Severity::P1),
            Repeat { incident: Some(inc), raise_to: Some(Severity::P1) },
            true,
        ),
        (
            "firing alert resolves",
            RESOLVED,
            Some(known(FIRING, Some(7))),
            Some((inc, Severity::P2)),
            ctx(Severity::P2),
            Resolved { incident: Some(inc) },
            false,
        ),
        ("resolve for an unknown alert", RESOLVED, None, None, ctx(Severity::P2), ResolvedUnknown, false),
        (
            "repeated resolve",
            RESOLVED,
            Some(known(RESOLVED, Some(7))),
            None,
            ctx(Severity::P2),
            Repeat { incident: Some(inc), raise_to: None },
            false,
        ),
        (
            "re-fire after resolve opens again",
            FIRING,
            Some(known(RESOLVED, Some(7))),
            None,
            ctx(Severity::P2),
            Open { title: "Disk 95% full on db1".into(), severity: Severity::P2 },
            true,
        ),
        (
            "re-fire joins a still-open incident",
            FIRING,
            Some(known(RESOLVED, Some(7))),
            Some((inc, Severity::P2)),
            ctx(Severity::P2),
            Join { incident: inc, raise_to: None },
            false,
        ),
        (
            "silenced alert is recorded only",
            FIRING,
            None,
            None,
            silenced.clone(),
            Suppressed(Suppression::Silenced),
            false,
        ),
        (
            "silenced alert does not join either",
            FIRING,
            None,
            Some((inc, Severity::P2)),
            silenced,
            Suppressed(Suppression::Silenced),
            false,
        ),
        (
            "alert in maintenance is recorded only",
            FIRING,
            None,
            None,
            maint,
            Suppressed(Suppression::Maintenance),
            false,
        ),
        (
            "an earlier suppressed firing opens once the silence is gone",
            FIRING,
            Some(known(FIRING, None)),
            None,
            ctx(Severity::P2),
            Open { title: "Disk 95% full on db1".into(), severity: Severity::P2 },
            true,
        ),
        (
            "inhibited alert opens without paging",
            FIRING,
            None,
            None,
            inhibited.clone(),
            Open { title: "Disk 95% full on db1".into(), severity: Severity::P2 },
            false,
        ),
        (
            "inhibited raise does not page",
            FIRING,
            None,
            Some((inc, Severity::P3)),
            inhibited,
            Join { incident: inc, raise_to: Some(Severity::P2) },
            false,
        ),
    ];
    for (what, status, rec, group, c, want, page) in cases {
        let d = decide(&alert(status), rec.as_ref(), group, &c, at(5));
        assert_eq!(d.outcome, want, "{what}");
        assert_eq!(d.page, page, "{what}: page");
    }
}

#[test]
fn repeats_update_the_record_without_opening_anything() {
    let first = decide(&alert(FIRING), None, None, &ctx(Severity::P2), at(0));
    assert_eq!(first.record.count, 1);
    let mut rec = first.record;
    rec.incident = Some(IncidentId(3));
    let second = decide(&alert(FIRING), Some(&rec), Some((IncidentId(3), Severity::P2)), &ctx(Severity::P2), at(4));
    assert_eq!(second.record.count, 2);
    assert_eq!(second.record.first_seen, at(0));
    assert_eq!(second.record.last_seen, at(4));
    assert_eq!(second.record.incident, Some(IncidentId(3)));
    assert!(second.record.transitions.is_empty());
}

#[test]
fn only_a_repeat_that_changes_nothing_but_its_count_is_plain() {
    let c = ctx(Severity::P2);
    let group = Some((IncidentId(3), Severity::P2));
    let mut rec = decide(&alert(FIRING), None, None, &c, at(0)).record;
    assert!(!decide(&alert(FIRING), None, None, &c, at(0)).is_plain_repeat(None), "a first sighting");
    rec.incident = Some(IncidentId(3));
    let again = decide(&alert(FIRING), Some(&rec), group, &c, at(1));
    assert!(again.is_plain_repeat(Some(&rec)));
    // Compared with the record it was decided against, not any other.
    let other = AlertRecord { group_key: "elsewhere".into(), ..rec.clone() };
    assert!(!again.is_plain_repeat(Some(&other)));
    let raised = decide(&alert(FIRING), Some(&rec), group, &ctx(Severity::P0), at(1));
    assert!(!raised.is_plain_repeat(Some(&rec)), "a repeat that raises its incident");
    let resolved = decide(&alert(RESOLVED), Some(&rec), group, &c, at(1));
    assert!(!resolved.is_plain_repeat(Some(&rec)), "a resolve");
    let quiet = decide(&alert(RESOLVED), Some(&resolved.record), group, &c, at(2));
    assert!(!quiet.is_plain_repeat(Some(&resolved.record)), "a repeated resolve is not a firing");
    // A flapping flag that clears with time changes the record.
    let mut flapping = rec.clone();
    flapping.flapping = true;
    flapping.transitions = vec![at(0), at(0), at(0), at(0)];
    let later = decide(&alert(FIRING), Some(&flapping), group, &c, at(90));
    assert!(!later.record.flapping);
    assert!(!later.is_plain_repeat(Some(&flapping)));
}

#[test]
fn a_late_notification_never_moves_last_seen_backwards() {
    let rec = decide(&alert(FIRING), None, None, &ctx(Severity::P2), at(10)).record;
    let d = decide(&alert(FIRING), Some(&rec), None, &ctx(Severity::P2), at(3));
    assert_eq!(d.record.last_seen, at(10));
}

#[test]
fn resolving_records_when_and_clears_nothing_the_incident_needs() {
    let d = decide(&alert(RESOLVED), Some(&known(FIRING, Some(7))), None, &ctx(Severity::P2), at(9));
    assert_eq!(d.record.status, RESOLVED);
    assert_eq!(d.record.resolved_at, Some(at(9)));
    assert_eq!(d.record.incident, Some(IncidentId(7)));
}

#[test]
fn four_state_changes_within_the_window_flag_the_alert_once() {
    let c = ctx(Severity::P2);
    let mut rec = decide(&alert(FIRING), None, None, &c, at(0)).record;
    let mut became = Vec::new();
    for (i, status) in [RESOLVED, FIRING, RESOLVED, FIRING, RESOLVED].into_iter().enumerate() {
        let d = decide(&alert(status), Some(&rec), None, &c, at(1 + i as i64));
        became.push(d.became_flapping);
        rec = d.record;
    }
    assert_eq!(became, [false, false, false, true, false]);
    assert!(rec.flapping);
    // Quiet for longer than the window: the flag clears on the next notification.
    let d = decide(&alert(RESOLVED), Some(&rec), None, &c, at(40));
    assert!(!d.record.flapping);
}

#[test]
fn slow_state_changes_never_flap() {
    let c = ctx(Severity::P2);
    let mut rec = decide(&alert(FIRING), None, None, &c, at(0)).record;
    for (i, status) in [RESOLVED, FIRING, RESOLVED, FIRING, RESOLVED, FIRING].into_iter().enumerate() {
        rec = decide(&alert(status), Some(&rec), None, &c, at(5 * (1 + i as i64))).record;
        assert!(!rec.flapping, "change {i}");
    }
}

#[test]
fn auto_resolve_waits_for_every_alert_and_counts_from_the_last_resolve() {
    let after = Duration::from_mins(10);
    let mut a = known(RESOLVED, Some(7));
    a.resolved_at = Some(at(3));
    let mut b = known(RESOLVED, Some(7));
    b.resolved_at = Some(at(8));
    let firing = known(FIRING, Some(7));
    assert_eq!(auto_resolve([&a, &b], after), AutoResolve::At(at(18)));
    assert_eq!(auto_resolve([&b, &a], after), AutoResolve::At(at(18)));
    assert_eq!(auto_resolve([&a, &firing], after), AutoResolve::Cancel, "a re-fire cancels the timer");
    assert_eq!(auto_resolve([], after), AutoResolve::Cancel, "declared incidents never auto-resolve");
}

#[test]
fn records_round_trip_through_json_for_the_store() {
    let mut rec = known(RESOLVED, Some(7));
    rec.suppressed = Some(Suppression::Maintenance);
    let json = serde_json::to_string(&rec).unwrap();
    assert!(json.contains("\"INC-7\""), "{json}");
    assert_eq!(serde_json::from_str::<AlertRecord>(&json).unwrap(), rec);
}
