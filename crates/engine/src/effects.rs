//! Everything a batch must store, decided by the planners and executed by the store, which
//! decides nothing: it writes these rows, in this order, in one transaction.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use sevwatch_core::{IncidentId, SealedEvent, Timestamp};
use sevwatch_notify::{Notification, Recipient};

use crate::job::{Job, JobChange};

#[derive(Default)]
pub struct Effects {
    /// The incident counter's new value, when the batch declared incidents.
    pub counter: Option<i64>,
    /// Events sealed by the batch, in order.
    pub events: Vec<SealedEvent>,
    /// Incidents whose row must be rewritten (their state is in the [`crate::Working`]).
    pub incidents: BTreeSet<IncidentId>,
    /// Alert rows to write: each fingerprint once, with its last state.
    pub alerts: AlertWrites,
    /// Alert groups whose open incident changed.
    pub heads: BTreeMap<String, IncidentId>,
    /// Timers to set or remove: the last change to each wins.
    pub jobs: BTreeMap<Job, JobChange>,
    /// Messages to queue, in order.
    pub outbox: Vec<OutboxMessage>,
}

impl Effects {
    pub fn schedule(&mut self, job: Job, at: Timestamp) {
        self.jobs.insert(job, JobChange::At(at));
    }
    pub fn cancel(&mut self, job: Job) {
        self.jobs.insert(job, JobChange::Cancel);
    }
}

/// How an alert's row is written; the record written is the alert's last state in the
/// batch ([`crate::Working::record`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlertWrite<'a> {
    /// The whole row: the record and the alert's JSON.
    Whole { json: &'a str },
    /// Only a new count and last-seen time (the repeat log): the content is unchanged.
    Count,
}

/// Alert rows in the order first staged, one per fingerprint.
#[derive(Default)]
pub struct AlertWrites {
    order: Vec<String>,
    /// The JSON to write when the row is written whole.
    rows: HashMap<String, Option<String>>,
}

impl AlertWrites {
    /// Write the whole row.
    pub(crate) fn whole(&mut self, fingerprint: &str, json: &str) {
        match self.rows.get_mut(fingerprint) {
            Some(row) => *row = Some(json.to_string()),
            None => {
                self.order.push(fingerprint.to_string());
                self.rows.insert(fingerprint.to_string(), Some(json.to_string()));
            }
        }
    }

    /// Count a repeat; if the row is written whole in this batch anyway, that write carries the
    /// new count.
    pub(crate) fn count(&mut self, fingerprint: &str) {
        if !self.rows.contains_key(fingerprint) {
            self.order.push(fingerprint.to_string());
            self.rows.insert(fingerprint.to_string(), None);
        }
    }

    pub fn len(&self) -> usize {
        self.order.len()
    }
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }
    /// Each fingerprint and how its row is written, in the order first staged.
    pub fn iter(&self) -> impl Iterator<Item = (&str, AlertWrite<'_>)> {
        self.order.iter().map(|fp| {
            let write = match self.rows.get(fp).and_then(Option::as_deref) {
                Some(json) => AlertWrite::Whole { json },
                None => AlertWrite::Count,
            };
            (fp.as_str(), write)
        })
    }
}

/// One message for the outbox, caused by one event.
#[derive(Clone, Debug)]
pub struct OutboxMessage {
    pub incident: IncidentId,
    /// The sequence number of the event that caused it.
    pub event_seq: i64,
    /// A channel, or a user (one row per contact method of theirs).
    pub to: Recipient,
    pub template: String,
    /// The message, or why its template failed (the row is then dead, never half sent).
    pub message: Result<Notification, String>,
    pub at: Timestamp,
}
