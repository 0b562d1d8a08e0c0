//! Which messages a timeline event sends, and to whom. Pure: the store calls [`plan`] inside
//! the transaction that records the events, renders each message and writes it to the outbox
//! in that same transaction, so a message exists exactly when its event does.
//!
//! | event | who hears | template |
//! |---|---|---|
//! | declared | channels routed for its severity and service | `incident-declared` |
//! | paged, first step of the first round | the step's users and channels | `incident-declared` |
//! | paged, any later step | the step's users and channels | `escalation-notice` |
//! | severity raised | channels routed for the new severity | `status-update` |
//! | update posted (`comms send`) | the channels named, else those routed | the text as sent |
//! | resolved | channels routed | `resolved` |
//! | resolution target missed | the commander (else the routed channels) | `escalation-notice` |
//! | update overdue | the comms lead or commander (else the routed channels) | `update-reminder` |
//!
//! Channels that are not configured are left out: the default routes and escalation policies
//! name the runbooks' rooms (`#incident-critical`, ...), which a fresh install has not set up.
//! The `paged` event on the timeline still names them. (`comms send` refuses an unknown channel
//! before anything is recorded.) The same recipient gets one message per template per batch
//! of events, so a declaration that pages `#incident-critical` and is also routed there posts
//! once.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sevwatch_core::event::EventKind;
use sevwatch_core::{Incident, Severity};

use crate::route::route;
use crate::templates::Rendered;
use crate::NotifyConfig;

/// Who a message is for, before contacts are looked up.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", content = "name", rename_all = "snake_case")]
pub enum Recipient {
    /// A configured `[[channels]]` entry.
    Channel(String),
    /// A user; each of their contact methods gets its own delivery.
    User(String),
}

impl Recipient {
    /// `channel:#ops` or `user:alice`, as the outbox and the timeline show it.
    pub fn label(&self) -> String {
        match self {
            Recipient::Channel(n) => format!("channel:{n}"),
            Recipient::User(u) => format!("user:{u}"),
        }
    }
}

/// One message to write to the outbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Planned {
    /// Which of the events given to [`plan`] caused it (its index).
    pub cause: usize,
    pub to: Recipient,
    pub template: String,
    /// Extra template fields (`reason`, `update`).
    pub extra: BTreeMap<String, String>,
    /// Text already rendered (a posted update is sent exactly as it was written).
    pub text: Option<Rendered>,
}

/// The messages for `events`, which were just recorded on `inc` (its state after them).
pub fn plan<'a>(events: impl IntoIterator<Item = &'a EventKind>, inc: &Incident, cfg: &NotifyConfig) -> Vec<Planned> {
    let mut out: Vec<Planned> = Vec::new();
    let mut push = |p: Planned| {
        if !out.iter().any(|q| q.to == p.to && q.template == p.template) {
            out.push(p);
        }
    };
    for (i, e) in events.into_iter().enumerate() {
        for p in plan_one(e, inc, cfg) {
            push(Planned { cause: i, ..p });
        }
    }
    out
}

fn routed(cfg: &NotifyConfig, severity: Severity, inc: &Incident) -> Vec<Recipient> {
    route(&cfg.routes, severity, inc.service.as_deref())
        .into_iter()
        .filter(|name| cfg.channel(name).is_some())
        .map(Recipient::Channel)
        .collect()
}

fn to_all(to: Vec<Recipient>, template: &str, extra: BTreeMap<String, String>) -> Vec<Planned> {
    to.into_iter()
        .map(|to| Planned { cause: 0, to, template: template.to_string(), extra: extra.clone(), text: None })
        .collect()
}

fn one(key: &str, value: String) -> BTreeMap<String, String> {
    BTreeMap::from([(key.to_string(), value)])
}

/// The people and channels of a `Paged` event's targets (`user:alice (via ...)`,
/// `channel:#x`); unfilled targets and nested policies reach nobody directly.
pub fn page_recipients(targets: &[String]) -> Vec<Recipient> {
    let mut out = Vec::new();
    for t in targets {
        let r = if let Some(rest) = t.strip_prefix("user:") {
            let id = rest.split(" (").next().unwrap_or(rest).trim();
            Recipient::User(id.to_string())
        } else if let Some(name) = t.strip_prefix("channel:") {
            Recipient::Channel(name.trim().to_string())
        } else {
            continue;
        };
        if !out.contains(&r) {
            out.push(r);
        }
    }
    out
}

/// The recipients an SLA breach names (`commander:alice`, `comms-lead:bob`,
/// `incident-channel`).
fn breach_recipients(notified: &[String], cfg: &NotifyConfig, inc: &Incident) -> Vec<Recipient> {
    let mut out = Vec::new();
    for n in notified {
        match n.split_once(':') {
            Some((_, who)) if !who.trim().is_empty() => out.push(Recipient::User(who.trim().to_string())),
            _ => out.extend(routed(cfg, inc.severity, inc)),
        }
    }
    out
}

fn plan_one(e: &EventKind, inc: &Incident, cfg: &NotifyConfig) -> Vec<Planned> {
    match e {
        EventKind::Declared { severity, .. } => {
            to_all(routed(cfg, *severity, inc), "incident-declared", BTreeMap::new())
        }
        EventKind::Paged { policy, round, step, targets } => {
            let (template, extra) = if *round == 0 && *step == 0 {
                ("incident-declared", BTreeMap::new())
            } else {
                let why = format!(
                    "step {} of escalation policy {policy} (round {}): {} has not been acknowledged",
                    step + 1,
                    round + 1,
                    inc.id
                );
                ("escalation-notice", one("reason", why))
            };
            let to = page_recipients(targets)
                .into_iter()
                .filter(|r| !matches!(r, Recipient::Channel(c) if cfg.channel(c).is_none()))
                .collect();
            to_all(to, template, extra)
        }
        EventKind::SeverityChanged { from, to, reason } if to.outranks(*from) => {
            let update = match reason {
                Some(r) => format!("Severity raised from {from} to {to}: {r}"),
                None => format!("Severity raised from {from} to {to}."),
            };
            to_all(routed(cfg, *to, inc), "status-update", one("update", update))
        }
        EventKind::UpdatePosted { template, subject, body, channels } => {
            let to = if channels.is_empty() {
                routed(cfg, inc.severity, inc)
            } else {
                channels.iter().cloned().map(Recipient::Channel).collect()
            };
            let text = Rendered { subject: subject.clone(), body: body.clone() };
            to.into_iter()
                .map(|to| Planned {
                    cause: 0,
                    to,
                    template: template.clone(),
                    extra: BTreeMap::new(),
                    text: Some(text.clone()),
                })
                .collect()
        }
        EventKind::Resolved { .. } => to_all(routed(cfg, inc.severity, inc), "resolved", BTreeMap::new()),
        EventKind::SlaBreached { target, deadline, notified } => {
            let to = breach_recipients(notified, cfg, inc);
            match target.as_str() {
                "resolution" => {
                    let why = format!("the {} resolution target passed at {deadline}", inc.severity);
                    to_all(to, "escalation-notice", one("reason", why))
                }
                "update" => to_all(to, "update-reminder", BTreeMap::new()),
                // A missed response escalates, and the escalation's pages carry the message.
                _ => Vec::new(),
            }
        }
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ChannelConfig, ChannelKind, Secret};
    use sevwatch_core::{decide, Command, IncidentId, Policy, Timestamp};
    use std::time::Duration;

    fn cfg(names: &[&str]) -> NotifyConfig {
        let channels = names
            .iter()
            .map(|n| ChannelConfig {
                name: n.to_string(),
                kind: ChannelKind::Slack { url: Secret::new("http://127.0.0.1:1/hook") },
                timeout: Duration::from_secs(1),
            })
            .collect();
        NotifyConfig { channels, ..NotifyConfig::default() }
    }

    fn incident(sev: Severity) -> Incident {
        let now = Timestamp::from_second(1_790_000_000).unwrap();
        let cmd =
            Command::Declare { title: "db down".into(), severity: sev, service: Some("db".into()), summary: None };
        let ev = decide(&Policy::default(), None, &cmd, "alice", now).unwrap();
        Incident::from_declared(IncidentId(7), &ev[0]).unwrap()
    }

    fn declared(inc: &Incident) -> EventKind {
        EventKind::Declared {
            title: inc.title.clone(),
            severity: inc.severity,
            service: inc.service.clone(),
            summary: None,
            checklist: vec![],
        }
    }

    fn labels(p: &[Planned]) -> Vec<String> {
        p.iter().map(|p| format!("{} {}", p.to.label(), p.template)).collect()
    }

    #[test]
    fn a_declaration_goes_to_the_configured_routed_room_and_the_first_page_to_people() {
        let inc = incident(Severity::P0);
        let paged = EventKind::Paged {
            policy: "p0".into(),
            round: 0,
            step: 0,
            targets: vec![
                "user:alice (via default/primary)".into(),
                "channel:#incident-critical".into(),
                "unfilled:schedule:db".into(),
                "channel:#not-configured".into(),
                "user:alice (via default/secondary)".into(),
            ],
        };
        let p = plan([&declared(&inc), &paged], &inc, &cfg(&["#incident-critical"]));
        assert_eq!(labels(&p), ["channel:#incident-critical incident-declared", "user:alice incident-declared"]);
        assert_eq!((p[0].cause, p[1].cause), (0, 1), "each message names the event that caused it");
    }

    #[test]
    fn routed_channels_nobody_configured_are_left_out() {
        let inc = incident(Severity::P1);
        assert!(plan([&declared(&inc)], &inc, &cfg(&[])).is_empty());
        assert!(plan([&declared(&inc)], &inc, &cfg(&["#incident-critical"])).is_empty(), "P1 routes to the high room");
    }

    #[test]
    fn later_steps_send_an_escalation_notice_with_the_reason() {
        let inc = incident(Severity::P1);
        let paged = EventKind::Paged { policy: "p1".into(), round: 1, step: 2, targets: vec!["user:bob".into()] };
        let p = plan([&paged], &inc, &cfg(&[]));
        assert_eq!(labels(&p), ["user:bob escalation-notice"]);
        assert!(p[0].extra["reason"].contains("step 3 of escalation policy p1 (round 2)"), "{:?}", p[0].extra);
    }

    #[test]
    fn a_raised_severity_is_announced_in_the_new_severitys_room_and_a_lowered_one_is_not() {
        let inc = incident(Severity::P0);
        let c = cfg(&["#incident-critical", "#incident-warning"]);
        let up = EventKind::SeverityChanged { from: Severity::P2, to: Severity::P0, reason: Some("EU down".into()) };
        let p = plan([&up], &inc, &c);
        assert_eq!(labels(&p), ["channel:#incident-critical status-update"]);
        assert_eq!(p[0].extra["update"], "Severity raised from P2 to P0: EU down");
        let down = EventKind::SeverityChanged { from: Severity::P0, to: Severity::P2, reason: None };
        assert!(plan([&down], &inc, &c).is_empty());
    }

    #[test]
    fn a_posted_update_goes_as_written_to_the_named_channels_or_the_routed_ones() {
        let inc = incident(Severity::P2);
        let c = cfg(&["#incident-warning", "status-page"]);
        let named = EventKind::UpdatePosted {
            template: "customer-initial".into(),
            subject: Some("We are investigating".into()),
            body: "text".into(),
            channels: vec!["status-page".into(), "nowhere".into()],
        };
        let p = plan([&named], &inc, &c);
        assert_eq!(labels(&p), ["channel:status-page customer-initial", "channel:nowhere customer-initial"]);
        // (The API refuses "nowhere" before the event exists; were one recorded, its message
        // would fail visibly in the outbox.)
        assert_eq!(p[0].text.as_ref().map(|t| t.body.as_str()), Some("text"));
        let EventKind::UpdatePosted { template, subject, body, .. } = named else { unreachable!() };
        let routed = EventKind::UpdatePosted { template, subject, body, channels: vec![] };
        assert_eq!(labels(&plan([&routed], &inc, &c)), ["channel:#incident-warning customer-initial"]);
    }

    #[test]
    fn sla_breaches_tell_the_named_person_or_else_the_room() {
        let inc = incident(Severity::P1);
        let c = cfg(&["#incident-high"]);
        let at = Timestamp::from_second(1_790_003_600).unwrap();
        let late = EventKind::SlaBreached {
            target: "resolution".into(),
            deadline: at,
            notified: vec!["commander:carol".into()],
        };
        let reminder =
            EventKind::SlaBreached { target: "update".into(), deadline: at, notified: vec!["incident-channel".into()] };
        let response = EventKind::SlaBreached { target: "response".into(), deadline: at, notified: vec![] };
        let p = plan([&late, &reminder, &response], &inc, &c);
        assert_eq!(labels(&p), ["user:carol escalation-notice", "channel:#incident-high update-reminder"]);
    }

    #[test]
    fn resolution_is_announced_where_the_declaration_was() {
        let inc = incident(Severity::P3);
        let resolved = EventKind::Resolved { root_cause: None, forced: false, unchecked: vec![] };
        assert_eq!(labels(&plan([&resolved], &inc, &cfg(&["#monitoring"]))), ["channel:#monitoring resolved"]);
    }
}
