//! The data a communication template sees. [`context`] builds it from an incident, the policy
//! and `now`, plus free-form extra fields a person supplies (impact, actions, next steps...).
//!
//! A field that has no value is left *out* of the context rather than set to an empty string:
//! templates run with strict undefined behaviour, so a template that prints a field nobody
//! supplied fails with that field's name instead of sending a message with a hole in it.
//! Default templates guard optional fields with `{% if impact is defined %}`.

use std::collections::BTreeMap;

use serde::Serialize;
use sevwatch_core::event::EventKind;
use sevwatch_core::{sla, Event, Incident, Policy, Timestamp};

/// Extra keys that become top-level fields of the context; any other extra key is reachable
/// as `extra.<key>`, so a user's key can never shadow a field Sevwatch computes.
pub const KNOWN_EXTRA: &[&str] = &[
    "channel",
    "impact",
    "update",
    "actions",
    "next_steps",
    "next_update",
    "root_cause",
    "follow_up",
    "reason",
    "requested_action",
    "workaround",
    "expected_resolution",
    "status_page",
    "organisation",
];

/// Everything a template may print. Optional fields are absent (undefined) when unknown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TemplateContext {
    /// `INC-42`
    pub id: String,
    pub title: String,
    /// `P1`
    pub severity: String,
    /// The policy's name for the level: `High`.
    pub severity_name: String,
    /// `investigating`, `resolved`, ...
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commander: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tech_lead: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comms_lead: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scribe: Option<String>,
    /// Every role holder, role name -> person (custom roles included).
    pub roles: BTreeMap<String, String>,
    /// Everyone holding a role, each once, for thanking responders.
    pub responders: Vec<String>,
    /// The incident's chat channel, `#incident-inc-42` unless the `channel` extra says otherwise.
    pub channel: String,
    /// `2026-11-23 10:00 UTC`
    pub started_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolved_at: Option<String>,
    /// Time from the trigger to the resolution (or to `now` while open): `1h 05m`.
    pub duration: String,
    /// `now` as `2026-11-23 11:05 UTC`.
    pub now: String,
    /// When the next update is due (`11:20 UTC`), from the policy's cadence.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_update: Option<String>,
    /// How long until that: `15m`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_update_in: Option<String>,
    /// The policy's cadence for this severity (`30m`), absent when updates are "as needed".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub update_every: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub root_cause: Option<String>,
    /// Whether the policy requires a post-mortem at this severity.
    pub postmortem_required: bool,
    /// When the post-mortem must be complete, when the policy requires one and it is resolved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub postmortem_due: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub impact: Option<String>,
    /// What changed since the last update.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub update: Option<String>,
    /// Actions taken, one per entry (the `actions` extra, one per line, or timeline notes).
    pub actions: Vec<String>,
    pub next_steps: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub follow_up: Option<String>,
    /// Escalation: why now, and what is asked of the target.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requested_action: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workaround: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected_resolution: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_page: Option<String>,
    /// Who signs customer messages.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organisation: Option<String>,
    /// Extra fields that are not one of [`KNOWN_EXTRA`].
    pub extra: BTreeMap<String, String>,
}

/// `2026-11-23 10:00 UTC`: minutes are what people coordinate on.
pub fn format_time(t: Timestamp) -> String {
    t.strftime("%Y-%m-%d %H:%M UTC").to_string()
}

/// A span for people: `45m`, `1h 05m`, `2d 03h 10m`; under a minute is `<1m`.
pub fn human_duration(ms: i64) -> String {
    let mins = ms.max(0) / 60_000;
    let (d, h, m) = (mins / 1440, (mins / 60) % 24, mins % 60);
    match (d, h) {
        (0, 0) if m == 0 => "<1m".to_string(),
        (0, 0) => format!("{m}m"),
        (0, _) => format!("{h}h {m:02}m"),
        _ => format!("{d}d {h:02}h {m:02}m"),
    }
}

/// The texts of the notes on a timeline, oldest first: what responders wrote down as they
/// worked, which is what "actions taken" means in a status update.
pub fn notes(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::NoteAdded { text } => Some(text.clone()),
            _ => None,
        })
        .collect()
}

fn lines(s: &str) -> Vec<String> {
    s.lines().map(|l| l.trim().trim_start_matches("- ").trim()).filter(|l| !l.is_empty()).map(String::from).collect()
}

/// Build the context for `inc` at `now`. `extra` supplies what Sevwatch cannot know (impact,
/// actions, next steps, reason for escalation...); an extra value also overrides a computed
/// one (`channel`, `next_update`, `root_cause`).
pub fn context(inc: &Incident, policy: &Policy, now: Timestamp, extra: &BTreeMap<String, String>) -> TemplateContext {
    let level = policy.level(inc.severity);
    let clocks = sla::clocks(inc, policy, now);
    let end = inc.resolved_at.unwrap_or(now);
    let duration = human_duration(end.as_millisecond() - inc.triggered_at.as_millisecond());
    let role = |r: &str| inc.roles.get(r).cloned();
    let mut responders: Vec<String> = Vec::new();
    for who in inc.roles.values() {
        if !responders.contains(who) {
            responders.push(who.clone());
        }
    }
    let postmortem_due = match (level.postmortem_required, level.postmortem_complete_within, inc.resolved_at) {
        (true, Some(within), Some(at)) => at.saturating_add(within.to_signed()).ok().map(format_time),
        _ => None,
    };
    let get = |k: &str| extra.get(k).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
    let next_update = get("next_update")
        .or_else(|| clocks.next_update_due.map(|t| t.strftime("%H:%M UTC").to_string()))
        .filter(|_| inc.status.is_open());
    let next_update_in = clocks
        .next_update_due
        .filter(|_| inc.status.is_open())
        .map(|t| human_duration(t.as_millisecond() - now.as_millisecond()));
    TemplateContext {
        id: inc.id.to_string(),
        title: inc.title.clone(),
        severity: inc.severity.to_string(),
        severity_name: level.name.clone(),
        status: inc.status.to_string(),
        service: inc.service.clone(),
        summary: inc.summary.clone(),
        commander: role("commander"),
        tech_lead: role("tech-lead"),
        comms_lead: role("comms-lead"),
        scribe: role("scribe"),
        roles: inc.roles.clone(),
        responders,
        channel: get("channel").unwrap_or_else(|| format!("#incident-{}", inc.id.to_string().to_ascii_lowercase())),
        started_at: format_time(inc.triggered_at),
        resolved_at: inc.resolved_at.map(format_time),
        duration,
        now: format_time(now),
        next_update,
        next_update_in,
        update_every: level.update_every.map(|d| d.to_string()),
        root_cause: get("root_cause").or_else(|| inc.root_cause.clone()),
        postmortem_required: level.postmortem_required,
        postmortem_due,
        impact: get("impact"),
        update: get("update"),
        actions: get("actions").map(|a| lines(&a)).unwrap_or_default(),
        next_steps: get("next_steps").map(|a| lines(&a)).unwrap_or_default(),
        follow_up: get("follow_up"),
        reason: get("reason"),
        requested_action: get("requested_action"),
        workaround: get("workaround"),
        expected_resolution: get("expected_resolution"),
        status_page: get("status_page"),
        organisation: get("organisation"),
        extra: extra
            .iter()
            .filter(|(k, _)| !KNOWN_EXTRA.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sevwatch_core::{decide, Command, IncidentId, Severity, Status};

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn incident() -> (Policy, Incident) {
        let p = Policy::default();
        let cmd = Command::Declare {
            title: "API latency 10x".into(),
            severity: Severity::P1,
            service: Some("api".into()),
            summary: Some("p99 at 2s".into()),
        };
        let ev = decide(&p, None, &cmd, "alice", ts("2026-11-23T10:00:00Z")).unwrap();
        let mut inc = Incident::from_declared(IncidentId(42), &ev[0]).unwrap();
        let assign = Command::Assign { role: "commander".into(), to: "alice".into() };
        for e in decide(&p, Some(&inc), &assign, "alice", ts("2026-11-23T10:02:00Z")).unwrap() {
            inc.apply(&e);
        }
        (p, inc)
    }

    #[test]
    fn durations_read_as_hours_and_zero_padded_minutes() {
        assert_eq!(human_duration(65 * 60_000), "1h 05m");
        assert_eq!(human_duration(12 * 60_000 + 59_000), "12m");
        assert_eq!(human_duration(30_000), "<1m");
        assert_eq!(human_duration((2 * 1440 + 3 * 60 + 10) * 60_000), "2d 03h 10m");
        assert_eq!(human_duration(-5), "<1m");
    }

    #[test]
    fn context_carries_the_incident_roles_channel_and_cadence() {
        let (p, inc) = incident();
        let c = context(&inc, &p, ts("2026-11-23T11:05:00Z"), &BTreeMap::new());
        assert_eq!(c.id, "INC-42");
        assert_eq!((c.severity.as_str(), c.severity_name.as_str()), ("P1", "High"));
        assert_eq!(c.channel, "#incident-inc-42");
        assert_eq!(c.commander.as_deref(), Some("alice"));
        assert_eq!(c.duration, "1h 05m");
        // The last update was the declaration at 10:00 and P1 updates are due every 30m.
        assert_eq!(c.next_update.as_deref(), Some("10:30 UTC"));
        assert_eq!(c.impact, None);
        assert_eq!(c.postmortem_due, None);
    }

    #[test]
    fn extras_fill_known_fields_and_the_rest_stay_namespaced() {
        let (p, inc) = incident();
        let extra: BTreeMap<String, String> = [
            ("impact", "EU customers cannot log in"),
            ("actions", "- rolled back 3.4.1\n\n- drained eu-west-1\n"),
            ("channel", "#war-room"),
            ("bridge", "https://meet.example/abc"),
            ("title", "not a title override"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let c = context(&inc, &p, ts("2026-11-23T10:10:00Z"), &extra);
        assert_eq!(c.impact.as_deref(), Some("EU customers cannot log in"));
        assert_eq!(c.actions, ["rolled back 3.4.1", "drained eu-west-1"]);
        assert_eq!(c.channel, "#war-room");
        assert_eq!(c.title, "API latency 10x");
        assert_eq!(c.extra.get("bridge").map(String::as_str), Some("https://meet.example/abc"));
        assert_eq!(c.extra.get("title").map(String::as_str), Some("not a title override"));
        assert!(!c.extra.contains_key("impact"));
    }

    #[test]
    fn a_resolved_incident_has_a_fixed_duration_and_a_postmortem_deadline() {
        let (p, mut inc) = incident();
        let resolve = Command::Resolve { root_cause: Some("bad deploy".into()), force: true };
        for e in decide(&p, Some(&inc), &resolve, "alice", ts("2026-11-23T11:30:00Z")).unwrap() {
            inc.apply(&e);
        }
        assert_eq!(inc.status, Status::Resolved);
        let c = context(&inc, &p, ts("2026-11-24T09:00:00Z"), &BTreeMap::new());
        assert_eq!(c.duration, "1h 30m");
        assert_eq!(c.root_cause.as_deref(), Some("bad deploy"));
        assert_eq!(c.next_update, None, "a resolved incident owes no further updates");
        // P1 post-mortems are complete within a week of resolution.
        assert_eq!(c.postmortem_due.as_deref(), Some("2026-11-30 11:30 UTC"));
        assert_eq!(c.resolved_at.as_deref(), Some("2026-11-23 11:30 UTC"));
    }
}
