//! The warm cache (SQLite only): committed incidents, alert records and group heads kept in
//! memory between batches, so the hot ingest path reads nothing. It is correct because on
//! SQLite this process is the only writer of the tables it mirrors (see `owned`), and it is
//! filled only from committed batches: a batch borrows what it needs ([`Warm::lend`]) and
//! gives back its state after the commit ([`Warm::keep`]); a batch that rolls back gives
//! nothing back, so those rows are read again. With PostgreSQL replicas every read goes to
//! the database.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use sevwatch_core::alert::Silence;
use sevwatch_core::IncidentId;
use sevwatch_engine::needs::Needs;
use sevwatch_engine::{Known, Parts, Slot, Working};

/// Past this many entries of a kind the cache starts over (reads refill it).
const MAX_RECORDS: usize = 200_000;
const MAX_INCIDENTS: usize = 10_000;

fn is_open(slot: &Slot) -> bool {
    matches!(slot, Slot::Ready(inc, _) if inc.status.is_open())
}

#[derive(Default)]
pub(crate) struct Warm {
    incidents: HashMap<IncidentId, Slot>,
    records: HashMap<String, Known>,
    heads: HashMap<String, Option<IncidentId>>,
    /// Alerts with rows in the repeat log since it was last folded.
    pub logged: HashSet<String>,
    /// Silences that had not ended when read, with the generation of silence changes they were
    /// read at; each batch checks their times against its own `now`.
    pub silences: Option<(u64, Arc<Vec<Silence>>)>,
}

impl Warm {
    /// Move what `needs` asks for into the batch (no copies); returns what is still to read.
    pub(crate) fn lend(&mut self, w: &mut Working, mut needs: Needs) -> Needs {
        needs.incidents.retain(|id| match self.incidents.remove(id) {
            Some(slot) => {
                w.put_incident(*id, slot);
                false
            }
            None => true,
        });
        needs.records.retain(|fp| match self.records.remove(fp) {
            Some(known) => {
                w.put_record(fp.clone(), known);
                false
            }
            None => true,
        });
        needs.heads.retain(|key| match self.heads.get(key) {
            Some(head) => {
                w.put_head(key.clone(), *head);
                false
            }
            None => true,
        });
        needs
    }

    /// After a commit: what the batch saw and wrote is now the truth. Returns whether the
    /// cache started over (records are then read cold, each scanning the repeat log).
    pub(crate) fn keep(&mut self, parts: Parts) -> bool {
        let over = self.records.len() + parts.records.len() > MAX_RECORDS
            || self.heads.len() + parts.heads.len() > MAX_RECORDS;
        if over {
            self.records.clear();
            self.heads.clear();
        }
        if self.incidents.len() + parts.incidents.len() > MAX_INCIDENTS {
            self.incidents.clear();
        }
        // Only open incidents: alerts join and raise open ones, and a command on a resolved one
        // reads it again (a few closed incidents cost a read; thousands held cost memory). An
        // incident a batch resolves was lent to it, so it leaves the cache here.
        self.incidents.extend(parts.incidents.into_iter().filter(|(_, s)| is_open(s)));
        self.records.extend(parts.records.into_iter().filter(|(_, k)| k.record.is_some()));
        self.heads.extend(parts.heads);
        over
    }

    /// Each logged alert's count and last-seen time (ns), for folding the repeat log without
    /// reading it back; `None` when one is not warm.
    pub(crate) fn logged_counts(&self) -> Option<Vec<(String, i64, i64)>> {
        self.logged
            .iter()
            .map(|fp| Some(crate::repeat_log::counts_of(self.records.get(fp)?.record.as_ref()?)))
            .collect()
    }

    /// The silences, unless one was created or ended since they were read (`generation`).
    pub(crate) fn silences(&self, generation: u64) -> Option<Arc<Vec<Silence>>> {
        match &self.silences {
            Some((at, s)) if *at == generation => Some(s.clone()),
            _ => None,
        }
    }
}

#[cfg(test)]
impl Warm {
    /// The incidents (state, last hash) and records held, for comparing with the database.
    pub(crate) fn snapshot(&self) -> (Vec<(IncidentId, String, String)>, Vec<sevwatch_core::alert::AlertRecord>) {
        let incidents = self
            .incidents
            .iter()
            .filter_map(|(id, s)| match s {
                Slot::Ready(inc, hash) => Some((*id, serde_json::to_string(inc).unwrap(), hash.clone())),
                _ => None,
            })
            .collect();
        let records = self.records.values().filter_map(|k| k.record.clone()).collect();
        (incidents, records)
    }
}
