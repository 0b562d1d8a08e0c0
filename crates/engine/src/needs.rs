//! What a batch must load before it is planned. The store asks [`missing`] what is not loaded
//! yet, loads it (one query per kind, for the whole batch), and asks again: the second round
//! follows the records and group heads of the first to their incidents. Anything asked for
//! must be put, also when absent, or it is asked for again.

use std::collections::BTreeSet;

use sevwatch_core::alert::AlertStatus;
use sevwatch_core::{Command, IncidentId};

use crate::job::{Job, JobKind};
use crate::{IncidentOp, PreparedAlerts, Working};

/// One operation of a batch, as far as loading is concerned.
#[derive(Clone, Copy)]
pub enum OpRef<'a> {
    Command(&'a IncidentOp),
    Alerts(&'a PreparedAlerts),
    /// Timers the store claimed.
    Jobs(&'a [Job]),
}

/// What to load: incidents by id (locked for the batch where the database can), alert
/// records by fingerprint, group heads by key, the records attached to incidents, and the
/// batch-wide facts.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Needs {
    pub incidents: BTreeSet<IncidentId>,
    pub records: BTreeSet<String>,
    pub heads: BTreeSet<String>,
    pub attached: BTreeSet<IncidentId>,
    /// Silences that have not ended.
    pub silences: bool,
    /// Services whose open P0 incidents are needed (an open P0 inhibits paging for others).
    pub open_p0: BTreeSet<String>,
    /// The incident counter (a declaration may happen).
    pub counter: bool,
}

impl Needs {
    pub fn is_empty(&self) -> bool {
        *self == Needs::default()
    }
}

/// What `ops` need that `w` does not hold yet.
pub fn missing(w: &Working, ops: &[OpRef<'_>]) -> Needs {
    let mut n = Needs::default();
    // Inhibition is asked about only for an alert below P0 on a route with a service.
    let open_p0 = |n: &mut Needs, routed: &crate::Routed| {
        if let Some(svc) = routed.route.service.as_deref().filter(|s| !s.trim().is_empty()) {
            if routed.severity != sevwatch_core::Severity::P0 && !w.has_open_p0(svc) {
                n.open_p0.insert(svc.to_string());
            }
        }
    };
    let incident = |n: &mut Needs, id: Option<IncidentId>| {
        if let Some(id) = id.filter(|id| !w.has_incident(*id)) {
            n.incidents.insert(id);
        }
    };
    for op in ops {
        match op {
            OpRef::Command(c) => {
                incident(&mut n, c.target);
                n.counter |= matches!(c.command, Command::Declare { .. });
            }
            OpRef::Jobs(due) => {
                for job in *due {
                    incident(&mut n, Some(job.incident));
                    if job.kind == JobKind::AutoResolve && !w.has_attached(job.incident) {
                        n.attached.insert(job.incident);
                    }
                }
            }
            OpRef::Alerts(p) => {
                n.silences |= w.silences.is_none();
                for (alert, routed) in p.each() {
                    let fp = &alert.fingerprint;
                    if !w.has_record(fp) {
                        n.records.insert(fp.clone());
                    }
                    if !w.has_head(&routed.group_key) {
                        n.heads.insert(routed.group_key.clone());
                    }
                    let record = w.record(fp);
                    let attached_to = record.and_then(|r| r.incident);
                    incident(&mut n, attached_to);
                    incident(&mut n, w.head(&routed.group_key));
                    match alert.status {
                        AlertStatus::Resolved => {
                            if let Some(id) = attached_to.filter(|id| !w.has_attached(*id)) {
                                n.attached.insert(id);
                            }
                        }
                        AlertStatus::Firing if w.has_record(fp) => {
                            let repeat_of = record.filter(|r| r.status == AlertStatus::Firing).and_then(|r| r.incident);
                            // What the alert raises or opens, once its incident (a repeat's
                            // own, else its group's) is loaded.
                            let target = repeat_of.or_else(|| w.head(&routed.group_key));
                            let head_known = repeat_of.is_some() || w.has_head(&routed.group_key);
                            match target.map(|id| (w.has_incident(id), w.incident(id))) {
                                // Not loaded yet: the next round knows.
                                _ if !head_known => {}
                                Some((false, _)) => {}
                                // It joins (or repeats in) an open incident: it pages only when
                                // it raises the severity.
                                Some((true, Some(i))) if i.status.is_open() || repeat_of.is_some() => {
                                    if routed.severity.outranks(i.severity) {
                                        open_p0(&mut n, routed);
                                    }
                                }
                                // No open incident for it: it may open one and page.
                                _ => {
                                    open_p0(&mut n, routed);
                                    n.counter = true;
                                }
                            }
                        }
                        AlertStatus::Firing => {}
                    }
                }
                for fp in &p.op.acknowledge {
                    if !w.has_record(fp) {
                        n.records.insert(fp.clone());
                    }
                    incident(&mut n, w.record(fp).and_then(|r| r.incident));
                }
            }
        }
    }
    n.counter &= !w.has_counter();
    n
}
