//! One alert on one route: find what is known (its record, its group's open incident), let
//! `core::alert::decide` choose, and plan the outcome: a new incident and its paging, an
//! attachment, a severity raise, a resolution and its auto-resolve timer, and the alert's row.

use sevwatch_core::alert::{
    auto_resolve, decide, inhibited, silences_alert, Alert, AlertOutcome, AlertStatus, AutoResolve, Ctx,
};
use sevwatch_core::text::{escape, Newlines};
use sevwatch_core::{Command, IncidentId, Severity, Timestamp};

use crate::alerts::{AlertsWritten, Routed};
use crate::command::{apply, follow_up};
use crate::job::{Job, JobKind};
use crate::working::Known;
use crate::{escalation, Rules, Working};

/// Who sent the request, and when.
pub(crate) struct Request<'a> {
    pub actor: &'a str,
    pub now: Timestamp,
}

/// Incident titles and services come from senders: keep them within the core's limits.
/// (Titles are already one line, `Alert::title`; a service from a label is made one the same
/// way, so the core never refuses the declaration an alert asks for.)
fn clean(s: &str, max: usize) -> String {
    let t: String = s.chars().filter(|c| *c != '\0').take(max).collect();
    if t.trim().is_empty() {
        "(untitled alert)".into()
    } else {
        t
    }
}

/// Plan `alert` on `routed`'s route; returns the incident it belongs to afterwards.
pub(crate) fn plan(
    rules: &Rules,
    w: &mut Working,
    req: &Request<'_>,
    alert: &Alert,
    routed: &Routed,
    out: &mut AlertsWritten,
) -> Option<IncidentId> {
    let cfg = &rules.alerts;
    let now = req.now;
    let route = &routed.route;
    let severity = routed.severity;
    let key = &routed.group_key;
    // Taken, not copied: every path below puts the alert's next record back.
    let Known { record: known, content: known_content } = w.take_record(&alert.fingerprint);
    // A repeat of a firing alert only needs its own incident (to see whether it should be
    // raised); everything else needs the group's open incident.
    let repeat_of = known
        .as_ref()
        .filter(|k| k.status == AlertStatus::Firing && alert.status == AlertStatus::Firing)
        .and_then(|k| k.incident);
    let head = repeat_of.or_else(|| w.head(key));
    let group_incident = head.and_then(|id| w.incident(id).filter(|i| i.status.is_open()).map(|i| (id, i.severity)));
    let service = route.service.as_deref();
    let silenced = w.silences.iter().flat_map(|s| s.iter()).any(|s| silences_alert(s, alert, now));
    let in_maintenance = service.is_some_and(|svc| cfg.in_maintenance(svc, now));
    let mut ctx = Ctx { severity, group_key: key.clone(), silenced, in_maintenance, inhibited: false, flap: cfg.flap };
    let mut d = decide(alert, known.as_ref(), group_incident, &ctx, now);
    // Inhibition only changes whether to page.
    if d.page && severity != Severity::P0 {
        if let Some(svc) = service {
            if w.open_p0_on(svc) && inhibited(Some(svc), severity, [(Some(svc), Severity::P0)]) {
                ctx.inhibited = true;
                d = decide(alert, known.as_ref(), group_incident, &ctx, now);
            }
        }
    }
    // Same content, nothing but a count: counted, not rewritten (see `AlertWrite::Count`).
    let plain = w.log_repeats && known_content == Some(routed.content) && d.is_plain_repeat(known.as_ref());
    let mut record = d.record;
    let name = alert.name().map(str::to_string);
    let attach = |severity| Command::AttachAlert {
        fingerprint: alert.fingerprint.clone(),
        name: name.clone(),
        source: alert.source.as_str().to_string(),
        severity,
        summary: alert.summary.clone().map(|s| clean(&s, 4096)),
    };
    let events = &mut out.events;
    match d.outcome {
        AlertOutcome::Open { title, severity } => {
            let declare = Command::Declare {
                title: clean(&title, sevwatch_core::command::MAX_TITLE),
                severity,
                service: service
                    .filter(|s| !s.trim().is_empty())
                    .map(|s| clean(&escape(s, Newlines::Escape), sevwatch_core::command::MAX_NAME)),
                summary: alert.annotations.get("description").map(|s| clean(s, 16 * 1024)),
            };
            if let Ok(declared) = apply(rules, w, None, &declare, req.actor, now) {
                let id = declared[0].incident;
                events.extend(declared);
                out.opened.push(id);
                follow_up(rules, w, id, attach(severity), req.actor, now, events);
                escalation::start(rules, w, id, d.page, now, events);
                w.set_head(key, id);
                record.incident = Some(id);
            }
        }
        AlertOutcome::Join { incident, raise_to } => {
            // A re-fire cancels a pending auto-resolve. (Were one missed, the timer still
            // checks the alerts again when it fires.)
            let pending = w.incident(incident).and_then(|i| i.auto_resolve_at);
            follow_up(rules, w, incident, attach(severity), req.actor, now, events);
            raise(rules, w, req, incident, raise_to, alert, events);
            if pending.is_some() {
                w.effects.cancel(Job::new(JobKind::AutoResolve, incident));
            }
        }
        AlertOutcome::Repeat { incident: Some(incident), raise_to } => {
            raise(rules, w, req, incident, raise_to, alert, events);
        }
        AlertOutcome::Resolved { incident: Some(incident) } => {
            let resolved = Command::RecordAlertResolved { fingerprint: alert.fingerprint.clone(), name: name.clone() };
            follow_up(rules, w, incident, resolved, req.actor, now, events);
            w.records
                .insert(record.fingerprint.clone(), Known { record: Some(record.clone()), content: known_content });
            if let AutoResolve::At(at) = auto_resolve(w.records_of(incident).iter(), cfg.auto_resolve_after) {
                let all = Command::RecordAllAlertsResolved { auto_resolve_at: at };
                follow_up(rules, w, incident, all, req.actor, now, events);
                w.effects.schedule(Job::new(JobKind::AutoResolve, incident), at);
            }
        }
        AlertOutcome::Repeat { incident: None, .. }
        | AlertOutcome::Resolved { incident: None }
        | AlertOutcome::Suppressed(_)
        | AlertOutcome::ResolvedUnknown => {}
    }
    if d.became_flapping {
        if let Some(id) = record.incident {
            let flag = Command::FlagFlapping { fingerprint: alert.fingerprint.clone(), name };
            follow_up(rules, w, id, flag, req.actor, now, events);
        }
    }
    let incident = record.incident;
    if plain {
        w.effects.alerts.count(&record.fingerprint);
    } else {
        w.effects.alerts.whole(&record.fingerprint, &routed.json);
    }
    w.records.insert(record.fingerprint.clone(), Known { record: Some(record), content: Some(routed.content) });
    incident
}

fn raise(
    rules: &Rules,
    w: &mut Working,
    req: &Request<'_>,
    incident: IncidentId,
    raise_to: Option<Severity>,
    alert: &Alert,
    events: &mut Vec<sevwatch_core::SealedEvent>,
) {
    if let Some(to) = raise_to {
        let reason = format!("alert {} fires at {to}", alert.name().unwrap_or(&alert.fingerprint));
        let change = Command::ChangeSeverity { severity: to, reason: Some(reason) };
        follow_up(rules, w, incident, change, req.actor, req.now, events);
    }
}
