//! The engine's effects, checked without a database: a [`Working`] filled the way the store
//! fills it, a planner, and the [`Effects`] it leaves.

use std::sync::Arc;

use sevwatch_core::alert::{Alert, AlertSource, AlertStatus};
use sevwatch_core::{Command, IncidentId, Severity, Status, Timestamp};

use crate::needs::{missing, OpRef};
use crate::{
    plan_alerts, plan_command, plan_jobs, AlertWrite, AlertsOp, IncidentOp, Job, JobChange, JobKind, Known,
    PreparedAlerts, Refusal, Rules, Slot, Working,
};

fn t(s: &str) -> Timestamp {
    s.parse().unwrap()
}

const T0: &str = "2026-05-01T10:00:00Z";

fn declare(severity: Severity) -> IncidentOp {
    let command = Command::Declare { title: "API down".into(), severity, service: Some("api".into()), summary: None };
    IncidentOp { target: None, command, actor: "alice".into(), now: t(T0) }
}

fn firing(fp: &str, name: &str, severity: &str) -> Alert {
    let mut a = Alert::bare(AlertSource::Alertmanager, fp, AlertStatus::Firing);
    a.labels.insert("alertname".into(), name.into());
    a.labels.insert("severity".into(), severity.into());
    a.labels.insert("service".into(), "api".into());
    a
}

fn prepared(rules: &Rules, alerts: Vec<Alert>, now: &str) -> PreparedAlerts {
    let op = AlertsOp { alerts, acknowledge: vec![], actor: "am".into(), now: t(now) };
    PreparedAlerts::new(op, rules, &Default::default())
}

/// Fill `w` as the store would for `ops`, from an empty database.
fn load_empty(w: &mut Working, ops: &[OpRef<'_>]) {
    for _ in 0..3 {
        let n = missing(w, ops);
        if n.silences {
            w.put_silences(Arc::new(vec![]));
        }
        n.open_p0.into_iter().for_each(|svc| w.put_open_p0(svc, vec![]));
        if n.counter {
            w.put_counter(0);
        }
        n.records.into_iter().for_each(|fp| w.put_record(fp, Known::default()));
        n.heads.into_iter().for_each(|k| w.put_head(k, None));
        n.incidents.into_iter().for_each(|id| w.put_incident(id, Slot::Missing));
        n.attached.into_iter().for_each(|id| w.put_attached(id, vec![]));
    }
}

fn kinds(events: &[sevwatch_core::SealedEvent]) -> Vec<&'static str> {
    events.iter().map(|e| e.event.kind.type_name()).collect()
}

#[test]
fn a_declaration_pages_its_first_step_and_sets_its_timers() {
    let rules = Rules::default();
    let mut w = Working::new(false);
    let op = declare(Severity::P1);
    load_empty(&mut w, &[OpRef::Command(&op)]);
    let written = plan_command(&rules, &mut w, &op).unwrap();
    let id = written.incident.id;
    assert_eq!(id, IncidentId(1));
    assert_eq!(w.effects.counter, Some(1), "the counter moves");
    assert_eq!(kinds(&written.events)[0], "declared");
    assert!(kinds(&written.events).contains(&"paged"), "the first step pages at once: {:?}", kinds(&written.events));
    assert_eq!(w.effects.events.len(), written.events.len());
    assert!(w.effects.incidents.contains(&id));
    assert_eq!(w.effects.jobs.get(&Job::new(JobKind::Sla, id)), Some(&JobChange::At(t(T0))));
    assert!(matches!(w.effects.jobs.get(&Job::new(JobKind::Escalate, id)), Some(JobChange::At(at)) if *at > t(T0)));
    // The chain links: each event's prev_hash is the one before's hash.
    for pair in written.events.windows(2) {
        assert_eq!(pair[1].prev_hash, pair[0].hash);
    }
}

#[test]
fn a_refused_command_leaves_no_effect() {
    let rules = Rules::default();
    let mut w = Working::new(false);
    let op = IncidentOp { target: Some(IncidentId(9)), command: Command::Acknowledge, actor: "a".into(), now: t(T0) };
    load_empty(&mut w, &[OpRef::Command(&op)]);
    assert!(matches!(plan_command(&rules, &mut w, &op), Err(Refusal::NotFound(IncidentId(9)))));
    let declared = plan_command(&rules, &mut w, &declare(Severity::P2)).unwrap();
    let before = (w.effects.events.len(), w.effects.jobs.clone());
    let close =
        IncidentOp { target: Some(declared.incident.id), command: Command::Close, actor: "a".into(), now: t(T0) };
    assert!(matches!(plan_command(&rules, &mut w, &close), Err(Refusal::Domain(_))), "an open incident cannot close");
    assert_eq!((w.effects.events.len(), w.effects.jobs.clone()), before);
}

#[test]
fn an_alert_opens_then_repeats_then_joins_then_resolves() {
    let rules = Rules::default();
    let mut w = Working::new(true);
    // First firing: opens an incident, sets the group head, writes the whole row.
    let first = prepared(&rules, vec![firing("fp1", "HighErrorRate", "critical")], T0);
    load_empty(&mut w, &[OpRef::Alerts(&first)]);
    let out = plan_alerts(&rules, &mut w, &first);
    assert_eq!(out.opened.len(), 1);
    let id = out.opened[0];
    assert_eq!(out.incidents, vec![Some(id)]);
    assert!(kinds(&out.events).starts_with(&["declared", "alert_attached"]), "{:?}", kinds(&out.events));
    assert_eq!(w.effects.heads.values().collect::<Vec<_>>(), vec![&id]);
    assert!(matches!(w.effects.alerts.iter().next(), Some(("fp1", AlertWrite::Whole { .. }))));

    // The same alert again, same content: only counted, nothing on the timeline.
    let events_before = w.effects.events.len();
    let again = prepared(&rules, vec![firing("fp1", "HighErrorRate", "critical")], "2026-05-01T10:01:00Z");
    // Same content means the same JSON hash: reuse the first request's hasher output.
    let mut again = again;
    again.routed[0][0].content = first.routed[0][0].content;
    let out = plan_alerts(&rules, &mut w, &again);
    assert!(out.events.is_empty());
    assert_eq!(w.effects.events.len(), events_before);
    assert_eq!(w.record("fp1").unwrap().count, 2);

    // Another alert of the same group joins the open incident.
    let join = prepared(&rules, vec![firing("fp2", "HighErrorRate", "critical")], "2026-05-01T10:02:00Z");
    load_empty(&mut w, &[OpRef::Alerts(&join)]);
    let out = plan_alerts(&rules, &mut w, &join);
    assert!(out.opened.is_empty());
    assert_eq!(out.incidents, vec![Some(id)]);
    assert_eq!(kinds(&out.events), vec!["alert_attached"]);

    // Both resolve: the incident gets an auto-resolve timer.
    let mut resolved = Vec::new();
    for fp in ["fp1", "fp2"] {
        let mut a = firing(fp, "HighErrorRate", "critical");
        a.status = AlertStatus::Resolved;
        resolved.push(a);
    }
    let resolve = prepared(&rules, resolved, "2026-05-01T10:10:00Z");
    load_empty(&mut w, &[OpRef::Alerts(&resolve)]);
    let out = plan_alerts(&rules, &mut w, &resolve);
    assert_eq!(kinds(&out.events), vec!["alert_resolved", "alert_resolved", "all_alerts_resolved"]);
    let auto = Job::new(JobKind::AutoResolve, id);
    let Some(JobChange::At(at)) = w.effects.jobs.get(&auto).copied() else { panic!("no auto-resolve timer") };

    // Nothing fires again: the timer resolves the incident.
    let due = [auto];
    let fired = plan_jobs(&rules, &mut w, &due, at);
    assert_eq!(fired.fired, 1);
    assert_eq!(kinds(&fired.events), vec!["resolved"]);
    assert_eq!(w.incident(id).unwrap().status, Status::Resolved);
}

#[test]
fn a_refire_cancels_the_pending_auto_resolve() {
    let rules = Rules::default();
    let mut w = Working::new(false);
    let open = prepared(&rules, vec![firing("fp1", "DiskFull", "warning")], T0);
    load_empty(&mut w, &[OpRef::Alerts(&open)]);
    let id = plan_alerts(&rules, &mut w, &open).opened[0];
    let mut a = firing("fp1", "DiskFull", "warning");
    a.status = AlertStatus::Resolved;
    let resolve = prepared(&rules, vec![a], "2026-05-01T10:05:00Z");
    plan_alerts(&rules, &mut w, &resolve);
    let auto = Job::new(JobKind::AutoResolve, id);
    assert!(matches!(w.effects.jobs.get(&auto), Some(JobChange::At(_))));
    let refire = prepared(&rules, vec![firing("fp1", "DiskFull", "warning")], "2026-05-01T10:06:00Z");
    let out = plan_alerts(&rules, &mut w, &refire);
    assert_eq!(out.incidents, vec![Some(id)], "it joins its still-open incident");
    assert_eq!(w.effects.jobs.get(&auto), Some(&JobChange::Cancel));
}

#[test]
fn a_missed_response_records_the_breach_and_escalates_at_once() {
    let rules = Rules::default();
    let mut w = Working::new(false);
    let op = declare(Severity::P0);
    load_empty(&mut w, &[OpRef::Command(&op)]);
    let id = plan_command(&rules, &mut w, &op).unwrap().incident.id;
    let deadline = sevwatch_core::sla::clocks(w.incident(id).unwrap(), &rules.policy, t(T0)).response.deadline;
    let late = Timestamp::from_millisecond(deadline.as_millisecond() + 1).unwrap();
    let fired = plan_jobs(&rules, &mut w, &[Job::new(JobKind::Sla, id)], late);
    assert_eq!(kinds(&fired.events)[..2], ["sla_breached", "escalated_manually"]);
    assert_eq!(w.effects.jobs.get(&Job::new(JobKind::Escalate, id)), Some(&JobChange::At(late)));
    // Fired twice, it finds the breach recorded and does nothing more.
    let again = plan_jobs(&rules, &mut w, &[Job::new(JobKind::Sla, id)], late);
    assert!(again.events.iter().all(|e| e.event.kind.type_name() != "sla_breached"));
}

#[test]
fn loading_follows_records_and_heads_to_their_incidents() {
    let rules = Rules::default();
    let mut w = Working::new(false);
    let p = prepared(&rules, vec![firing("fp1", "HighErrorRate", "critical")], T0);
    let ops = [OpRef::Alerts(&p)];
    let first = missing(&w, &ops);
    assert!(first.records.contains("fp1") && first.heads.len() == 1 && first.silences);
    assert!(first.incidents.is_empty() && !first.counter, "nothing is known yet to follow");
    let key = first.heads.iter().next().unwrap().clone();
    let mut rec = sevwatch_core::alert::AlertRecord {
        fingerprint: "fp1".into(),
        source: AlertSource::Alertmanager,
        status: AlertStatus::Firing,
        count: 1,
        first_seen: t(T0),
        last_seen: t(T0),
        resolved_at: None,
        incident: Some(IncidentId(4)),
        group_key: key.clone(),
        severity: Severity::P1,
        transitions: vec![],
        flapping: false,
        suppressed: None,
    };
    w.put_record("fp1".into(), Known { record: Some(rec.clone()), content: None });
    w.put_head(key, Some(IncidentId(5)));
    w.put_silences(Arc::new(vec![]));
    let second = missing(&w, &ops);
    assert_eq!(second.incidents.into_iter().collect::<Vec<_>>(), vec![IncidentId(4), IncidentId(5)]);
    assert!(!second.counter, "a repeat of a firing alert opens nothing");
    assert!(second.open_p0.is_empty(), "and pages only when it raises its incident");
    // A record that stopped firing may open an incident: once its group is known to have no
    // open incident, the counter is needed; a group with an open incident only joins.
    rec.status = AlertStatus::Resolved;
    let mut w2 = Working::new(false);
    w2.put_record("fp1".into(), Known { record: Some(rec), content: None });
    w2.put_silences(Arc::new(vec![]));
    assert!(!missing(&w2, &ops).counter, "the group head is not known yet");
    let key = missing(&w2, &ops).heads.into_iter().next().unwrap();
    let mut joins = Working::new(false);
    joins.put_record("fp1".into(), w2.take_record("fp1"));
    joins.put_silences(Arc::new(vec![]));
    joins.put_head(key.clone(), Some(IncidentId(5)));
    let open = plan_command(&rules, &mut Working::new(false), &declare(Severity::P0)).map(|w| w.incident);
    let mut open = open.unwrap_or_else(|_| panic!("declared"));
    open.id = IncidentId(5);
    joins.put_incident(IncidentId(5), Slot::Ready(Box::new(open), "h".into()));
    let n = missing(&joins, &ops);
    assert!(
        !n.counter && n.open_p0.is_empty(),
        "joining an open P0 at P0 (critical) opens nothing and pages no one: {n:?}"
    );
    w2.put_head(key, None);
    let n = missing(&w2, &ops);
    assert!(n.counter, "no open incident: it may open one");
    assert!(n.open_p0.is_empty(), "a critical alert is P0: nothing inhibits it");
}
