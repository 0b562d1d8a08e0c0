//! Checks across the merged on-call configuration: every user, schedule, layer and policy
//! that an entry names must exist, and policies must not target each other in a loop (a loop
//! would page the same people forever). Run after defaults and the file are merged, so a
//! replaced default that breaks another default is reported too.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use super::config::OnCallConfig;
use super::escalation::Target;
use crate::config::check::Problems;

/// Report references that do not resolve, and policy targets that form loops. The paths
/// give where each schedule and policy came from (`schedules[2]`, or `schedules(default default)`).
pub(super) fn check(cfg: &OnCallConfig, sched_paths: &[String], policy_paths: &[String], problems: &Problems) {
    let err = |path: String, message: String| problems.report(path, message);
    let known_user = |id: &str| cfg.users.iter().any(|u| u.id == id);
    for (s, sp) in cfg.schedules.iter().zip(sched_paths) {
        for (i, l) in s.layers.iter().enumerate() {
            for (k, u) in l.rotation.users.iter().enumerate() {
                if !known_user(u) {
                    err(format!("{sp}.layers[{i}].users[{k}]"), format!("unknown user {u:?}"));
                }
            }
        }
        for (i, o) in s.overrides.iter().enumerate() {
            if !known_user(&o.user) {
                err(format!("{sp}.overrides[{i}].user"), format!("unknown user {:?}", o.user));
            }
        }
    }
    let mut edges: BTreeMap<&str, Vec<(&str, String)>> = BTreeMap::new();
    for (p, pp) in cfg.policies.iter().zip(policy_paths) {
        for (i, step) in p.steps.iter().enumerate() {
            for (k, t) in step.targets.iter().enumerate() {
                let at = format!("{pp}.steps[{i}].targets[{k}]");
                match t {
                    Target::User(u) if !known_user(u) => err(at, format!("unknown user {u:?}")),
                    Target::Schedule { schedule, layer } => match cfg.schedule(schedule) {
                        None => err(at, format!("unknown schedule {schedule:?}")),
                        Some(s) => {
                            if let Some(l) = layer.as_ref().filter(|l| !s.layers.iter().any(|x| &&x.name == l)) {
                                err(at, format!("schedule {schedule:?} has no layer {l:?}"));
                            }
                        }
                    },
                    Target::Policy(q) if cfg.policy(q).is_none() => err(at, format!("unknown escalation policy {q:?}")),
                    Target::Policy(q) => edges.entry(p.id.as_str()).or_default().push((q.as_str(), at)),
                    _ => {}
                }
            }
        }
    }
    // An edge p -> q lies on a loop when p can be reached again from q.
    for (p, out) in &edges {
        for (q, at) in out {
            if let Some(route) = path_between(&edges, q, p) {
                let mut names = vec![*p];
                names.extend(route);
                err(at.clone(), format!("escalation loop: {}", names.join(" -> ")));
            }
        }
    }
}

/// The policies on a shortest route from `from` to `to` (both included), if any.
fn path_between<'a>(
    edges: &BTreeMap<&'a str, Vec<(&'a str, String)>>,
    from: &'a str,
    to: &'a str,
) -> Option<Vec<&'a str>> {
    let mut parent: BTreeMap<&str, &str> = BTreeMap::new();
    let mut seen = BTreeSet::from([from]);
    let mut queue = VecDeque::from([from]);
    while let Some(n) = queue.pop_front() {
        if n == to {
            let mut route = vec![n];
            let mut cur = n;
            while let Some(prev) = parent.get(cur) {
                route.push(prev);
                cur = prev;
            }
            route.reverse();
            return Some(route);
        }
        for (next, _) in edges.get(n).into_iter().flatten() {
            if seen.insert(next) {
                parent.insert(next, n);
                queue.push_back(next);
            }
        }
    }
    None
}
