//! What one batch works on: the rows the store loaded for it, overlaid with the changes its
//! earlier operations made, so every operation of a batch sees the ones before it. The store
//! fills it (the `put_*` methods) before planning; planning reads and changes it and writes
//! what must be stored into [`Effects`]; the store then executes the effects and, after the
//! commit, may keep the state for the next batch ([`Working::into_parts`]).

use std::collections::HashMap;
use std::sync::Arc;

use sevwatch_core::alert::{AlertRecord, Silence};
use sevwatch_core::{Incident, IncidentId, Severity};

use crate::effects::Effects;

/// An incident as the batch sees it.
#[derive(Clone, Debug)]
pub enum Slot {
    /// Its state and the hash of its last event.
    Ready(Box<Incident>, String),
    /// No such incident.
    Missing,
    /// Its stored state does not decode.
    Corrupt(String),
}

/// An alert's record as the batch sees it, with the hash of the JSON stored for it when
/// known (a repeat with the same content is only counted; see `Effects::alerts`).
#[derive(Clone, Debug, Default)]
pub struct Known {
    pub record: Option<AlertRecord>,
    pub content: Option<u64>,
}

#[derive(Default)]
pub struct Working {
    pub(crate) incidents: HashMap<IncidentId, Slot>,
    pub(crate) records: HashMap<String, Known>,
    pub(crate) heads: HashMap<String, Option<IncidentId>>,
    /// Records attached to an incident when the batch began (the batch's own changes are
    /// overlaid by [`Working::records_of`]).
    pub(crate) attached: HashMap<IncidentId, Vec<AlertRecord>>,
    pub(crate) silences: Option<Arc<Vec<Silence>>>,
    /// Per service asked about, open P0 incidents on it when the batch began.
    pub(crate) open_p0: HashMap<String, Vec<IncidentId>>,
    /// The incident counter's value: the last number given out.
    pub(crate) counter: Option<i64>,
    /// Whether a repeat with unchanged content may be only counted (SQLite's repeat log).
    pub(crate) log_repeats: bool,
    pub effects: Effects,
}

/// The state a committed batch leaves, for a cache to keep.
pub struct Parts {
    pub incidents: HashMap<IncidentId, Slot>,
    pub records: HashMap<String, Known>,
    pub heads: HashMap<String, Option<IncidentId>>,
}

impl Working {
    pub fn new(log_repeats: bool) -> Self {
        Working { log_repeats, ..Working::default() }
    }

    // --- filled by the store before planning ---------------------------------------------

    pub fn put_incident(&mut self, id: IncidentId, slot: Slot) {
        self.incidents.entry(id).or_insert(slot);
    }
    pub fn put_record(&mut self, fingerprint: String, known: Known) {
        self.records.entry(fingerprint).or_insert(known);
    }
    pub fn put_head(&mut self, group_key: String, incident: Option<IncidentId>) {
        self.heads.entry(group_key).or_insert(incident);
    }
    pub fn put_attached(&mut self, incident: IncidentId, records: Vec<AlertRecord>) {
        self.attached.entry(incident).or_insert(records);
    }
    pub fn put_silences(&mut self, silences: Arc<Vec<Silence>>) {
        self.silences = Some(silences);
    }
    pub fn put_open_p0(&mut self, service: String, open: Vec<IncidentId>) {
        self.open_p0.entry(service).or_insert(open);
    }
    pub fn has_open_p0(&self, service: &str) -> bool {
        self.open_p0.contains_key(service)
    }
    pub fn put_counter(&mut self, value: i64) {
        self.counter.get_or_insert(value);
    }

    pub fn has_incident(&self, id: IncidentId) -> bool {
        self.incidents.contains_key(&id)
    }
    pub fn has_record(&self, fingerprint: &str) -> bool {
        self.records.contains_key(fingerprint)
    }
    pub fn has_head(&self, group_key: &str) -> bool {
        self.heads.contains_key(group_key)
    }
    pub fn has_attached(&self, id: IncidentId) -> bool {
        self.attached.contains_key(&id)
    }
    pub fn has_counter(&self) -> bool {
        self.counter.is_some()
    }
    /// The record loaded (or changed) for a fingerprint.
    pub fn record(&self, fingerprint: &str) -> Option<&AlertRecord> {
        self.records.get(fingerprint)?.record.as_ref()
    }
    pub fn head(&self, group_key: &str) -> Option<IncidentId> {
        self.heads.get(group_key).copied().flatten()
    }
    pub fn incident(&self, id: IncidentId) -> Option<&Incident> {
        match self.incidents.get(&id)? {
            Slot::Ready(inc, _) => Some(inc),
            _ => None,
        }
    }

    /// An incident's state and last hash, for writing its row.
    pub fn incident_row(&self, id: IncidentId) -> Option<(&Incident, &str)> {
        match self.incidents.get(&id)? {
            Slot::Ready(inc, hash) => Some((inc, hash)),
            _ => None,
        }
    }

    /// The state to keep once the batch committed.
    pub fn into_parts(self) -> (Parts, Effects) {
        (Parts { incidents: self.incidents, records: self.records, heads: self.heads }, self.effects)
    }

    // --- used while planning ---------------------------------------------------------------

    /// Give out the next incident number.
    pub(crate) fn next_id(&mut self) -> IncidentId {
        let next = self.counter.unwrap_or(0) + 1;
        self.counter = Some(next);
        self.effects.counter = Some(next);
        IncidentId(next)
    }

    /// Take an alert's record out, to put its next state back with [`Working::stage`].
    pub(crate) fn take_record(&mut self, fingerprint: &str) -> Known {
        self.records.get_mut(fingerprint).map(std::mem::take).unwrap_or_default()
    }

    pub(crate) fn set_head(&mut self, group_key: &str, id: IncidentId) {
        self.heads.insert(group_key.to_string(), Some(id));
        self.effects.heads.insert(group_key.to_string(), id);
    }

    /// Whether an open P0 exists on `service`: the batch's own incidents as they are now, and
    /// those open when it began that it has not touched.
    pub(crate) fn open_p0_on(&self, service: &str) -> bool {
        let ready = |slot: &Slot| match slot {
            Slot::Ready(i, _) => {
                Some(i.severity == Severity::P0 && i.status.is_open() && i.service.as_deref() == Some(service))
            }
            _ => None,
        };
        self.incidents.values().any(|s| ready(s) == Some(true))
            || self
                .open_p0
                .get(service)
                .is_some_and(|ids| ids.iter().any(|id| self.incidents.get(id).and_then(ready).is_none()))
    }

    /// Every alert record attached to `incident`, with this batch's changes applied.
    pub(crate) fn records_of(&self, incident: IncidentId) -> Vec<AlertRecord> {
        let current = |r: &AlertRecord| self.record(&r.fingerprint).cloned().unwrap_or_else(|| r.clone());
        let mut out: Vec<AlertRecord> = self
            .attached
            .get(&incident)
            .into_iter()
            .flatten()
            .map(current)
            .filter(|r| r.incident == Some(incident))
            .collect();
        for k in self.records.values() {
            if let Some(r) = &k.record {
                if r.incident == Some(incident) && !out.iter().any(|o| o.fingerprint == r.fingerprint) {
                    out.push(r.clone());
                }
            }
        }
        out
    }
}
