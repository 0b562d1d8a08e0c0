//! One transaction of the writer: [`Batch::load`] reads what its operations need (one
//! statement per kind for the whole batch, through the warm cache on SQLite), [`Batch::run`]
//! plans each operation with the pure engine, and [`Batch::flush`] executes the effects the
//! engine decided, in multi-row statements, and commits. Nothing here decides anything.

use std::sync::atomic::Ordering::Relaxed;

use sevwatch_core::{IncidentId, Timestamp};
use sevwatch_engine::needs::{self, OpRef};
use sevwatch_engine::{plan_alerts, plan_command, plan_jobs, Job, Refusal, Working};

use crate::db::{Db, Tx};
use crate::shared::Shared;
use crate::writer::{Done, Op};
use crate::{alert_rows, fanout, incident_rows, jobs, outbox, repeat_log, StoreError};

/// Rounds of loading: the second follows records and group heads to their incidents.
const LOAD_ROUNDS: usize = 3;

pub(crate) struct Batch<'a> {
    tx: Tx,
    w: Working,
    shared: &'a Shared,
    /// Fold the repeat log in this batch.
    fold: bool,
    /// Claimed jobs per operation (empty for all but timer firings).
    claimed: Vec<Vec<Job>>,
    /// Claimed rows nothing can fire (unknown kind, no incident): removed.
    unfireable: Vec<String>,
}

impl<'a> Batch<'a> {
    pub(crate) async fn begin(db: &Db, shared: &'a Shared) -> Result<Batch<'a>, sqlx::Error> {
        let fold = shared.warm.is_some() && shared.repeats_logged.load(Relaxed) >= repeat_log::FOLD_AT;
        let tx = db.begin_write().await?;
        let w = Working::new(shared.warm.is_some());
        Ok(Batch { tx, w, shared, fold, claimed: Vec::new(), unfireable: Vec::new() })
    }

    /// Claim due timers and read everything `ops` need.
    pub(crate) async fn load(&mut self, ops: &[Op]) -> Result<(), sqlx::Error> {
        if self.fold {
            let counts = self.shared.warm().and_then(|w| w.logged_counts());
            repeat_log::fold(&mut self.tx, counts).await?;
        }
        for op in ops {
            let claimed = match op {
                Op::FireJobs(now) => {
                    let (due, unfireable) = jobs::claim_due(&mut self.tx, *now).await?;
                    self.unfireable.extend(unfireable);
                    due
                }
                _ => Vec::new(),
            };
            self.claimed.push(claimed);
        }
        let refs: Vec<OpRef<'_>> = ops
            .iter()
            .zip(&self.claimed)
            .map(|(op, claimed)| match op {
                Op::Incident(o) => OpRef::Command(o),
                Op::Alerts(p) => OpRef::Alerts(p),
                Op::FireJobs(_) => OpRef::Jobs(claimed),
            })
            .collect();
        let now = ops.iter().map(Op::now).max().unwrap_or(Timestamp::UNIX_EPOCH);
        for _ in 0..LOAD_ROUNDS {
            let mut needs = needs::missing(&self.w, &refs);
            if needs.is_empty() {
                break;
            }
            if let Some(mut warm) = self.shared.warm() {
                needs = warm.lend(&mut self.w, needs);
            }
            let tx = &mut self.tx;
            let w = &mut self.w;
            if needs.silences {
                let generation = self.shared.silences_changed.load(std::sync::atomic::Ordering::SeqCst);
                let warm = self.shared.warm().and_then(|w| w.silences(generation));
                let silences = match warm {
                    Some(s) => s,
                    None => {
                        let s = std::sync::Arc::new(alert_rows::unended_silences(tx, now).await?);
                        if let Some(mut warm) = self.shared.warm() {
                            warm.silences = Some((generation, s.clone()));
                        }
                        s
                    }
                };
                w.put_silences(silences);
            }
            for service in needs.open_p0 {
                let open = incident_rows::open_p0(tx, &service).await?;
                w.put_open_p0(service, open);
            }
            if needs.counter {
                w.put_counter(incident_rows::counter(tx).await?);
            }
            if !needs.records.is_empty() {
                let fps: Vec<&str> = needs.records.iter().map(String::as_str).collect();
                for (fp, known) in alert_rows::load_records(tx, &fps).await? {
                    w.put_record(fp, known);
                }
            }
            if !needs.heads.is_empty() {
                let keys: Vec<&str> = needs.heads.iter().map(String::as_str).collect();
                for (key, head) in alert_rows::load_heads(tx, &keys).await? {
                    w.put_head(key, head);
                }
            }
            if !needs.incidents.is_empty() {
                let ids: Vec<IncidentId> = needs.incidents.iter().copied().collect();
                for (id, slot) in incident_rows::load(tx, &ids).await? {
                    w.put_incident(id, slot);
                }
            }
            if !needs.attached.is_empty() {
                let ids: Vec<IncidentId> = needs.attached.iter().copied().collect();
                for (id, records) in alert_rows::load_attached(tx, &ids).await? {
                    w.put_attached(id, records);
                }
            }
        }
        Ok(())
    }

    /// Plan each operation in order against the batch's state; a refusal changes nothing.
    pub(crate) fn run(&mut self, ops: &[Op]) -> Vec<Result<Done, StoreError>> {
        let rules = &self.shared.rules;
        let w = &mut self.w;
        ops.iter()
            .zip(&self.claimed)
            .map(|(op, claimed)| match op {
                Op::Incident(o) => plan_command(rules, w, o).map(|x| Done::Incident(Box::new(x))).map_err(refused),
                Op::Alerts(p) => Ok(Done::Alerts(plan_alerts(rules, w, p))),
                Op::FireJobs(now) => Ok(Done::Jobs(plan_jobs(rules, w, claimed, *now))),
            })
            .collect()
    }

    /// Execute the effects and commit; then the batch's state becomes the warm cache's.
    pub(crate) async fn flush(mut self) -> Result<(), sqlx::Error> {
        let tx = &mut self.tx;
        let w = &self.w;
        let e = &w.effects;
        if let Some(value) = e.counter {
            incident_rows::set_counter(tx, value).await?;
        }
        let rows: Vec<_> = e.incidents.iter().filter_map(|id| w.incident_row(*id)).collect();
        incident_rows::upsert(tx, &rows).await?;
        incident_rows::insert_events(tx, &e.events).await?;
        #[cfg(test)]
        if self.shared.fail_flushes.fetch_update(Relaxed, Relaxed, |n| n.checked_sub(1)).is_ok() {
            return Err(sqlx::Error::Protocol("injected failure half-way through a batch".into()));
        }
        alert_rows::upsert_records(tx, w).await?;
        alert_rows::upsert_heads(tx, w).await?;
        jobs::write(tx, &e.jobs, &self.unfireable).await?;
        let queued = outbox::enqueue(tx, &self.shared.rules.oncall.users, &e.outbox).await?;
        fanout::announce(tx, self.shared.replica, &e.events).await?;
        // Last, so that a batch of counted repeats runs it as its only statement.
        let repeats = repeat_log::rows(w);
        repeat_log::append(tx, &repeats).await?;
        self.tx.commit().await?;
        let logged = repeats.len();
        if self.fold {
            self.shared.repeats_logged.store(logged, Relaxed);
        } else {
            self.shared.repeats_logged.fetch_add(logged, Relaxed);
        }
        if let Some(mut warm) = self.shared.warm() {
            if self.fold {
                warm.logged.clear();
            }
            warm.logged.extend(repeats.into_iter().map(|(fp, _, _)| fp));
            let (parts, _) = self.w.into_parts();
            if warm.keep(parts) {
                // Records are read cold from now on, each scanning the repeat log: fold it next.
                self.shared.repeats_logged.store(repeat_log::FOLD_AT, Relaxed);
            }
        }
        if queued > 0 {
            self.shared.outbox_ready.notify_one();
        }
        Ok(())
    }
}

fn refused(r: Refusal) -> StoreError {
    match r {
        Refusal::NotFound(id) => StoreError::NotFound(id),
        Refusal::Domain(d) => StoreError::Domain(d),
        Refusal::Corrupt(why) => StoreError::Corrupt(why),
    }
}

#[cfg(test)]
mod tests;
