//! The messages events send: planned by `sevwatch_notify::plan` from the events and the
//! incident's state after them, rendered with the configured templates, and queued in the
//! same batch as the events, so a message exists exactly when its event does.

use std::collections::BTreeMap;

use sevwatch_core::{IncidentId, SealedEvent, Timestamp};
use sevwatch_notify::Notification;

use crate::effects::OutboxMessage;
use crate::{Rules, Working};

/// Queue the messages `events` (one operation's, just recorded) send.
pub(crate) fn plan(rules: &Rules, w: &mut Working, events: &[SealedEvent], now: Timestamp) {
    let mut by_incident: BTreeMap<IncidentId, Vec<&SealedEvent>> = BTreeMap::new();
    for e in events {
        by_incident.entry(e.incident).or_default().push(e);
    }
    for (id, evs) in by_incident {
        let Some(inc) = w.incident(id) else { continue };
        let planned = sevwatch_notify::plan(evs.iter().map(|e| &e.event.kind), inc, &rules.notify);
        let mut messages = Vec::with_capacity(planned.len());
        for p in planned {
            let rendered = match p.text {
                Some(text) => Ok(text),
                None => {
                    let ctx = sevwatch_notify::context(inc, &rules.policy, now, &p.extra);
                    rules.templates.render(&p.template, &ctx).map_err(|e| e.to_string())
                }
            };
            messages.push(OutboxMessage {
                incident: id,
                event_seq: evs[p.cause].seq,
                message: rendered.map(|r| Notification::new(inc, &p.template, r, None)),
                to: p.to,
                template: p.template,
                at: now,
            });
        }
        w.effects.outbox.extend(messages);
    }
}
