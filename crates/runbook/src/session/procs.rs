//! Signals for a session's processes. The session shell leads its own process group, and with
//! job control off (no terminal) every command a step starts joins that group, so the group is
//! how a step's processes are found: on Linux by reading `/proc`, elsewhere not at all (then only
//! whole-group signals are sent, which the interactive shell itself survives: it aborts the line
//! on SIGINT and ignores SIGTERM).
//!
//! A process is known by its pid and its start time together, so a pid reused after a step's
//! process died is never mistaken for one started earlier.

use std::collections::BTreeSet;

pub use rustix::process::Signal;
use rustix::process::{kill_process, kill_process_group, Pid};

/// A process: pid and start time (clock ticks since boot, field 22 of `/proc/PID/stat`).
pub type Proc = (i32, u64);

fn pid(raw: i32) -> Option<Pid> {
    // Never 0 (the caller's own group) or 1 (every process): only a child's pid gets here.
    (raw > 1).then(|| Pid::from_raw(raw)).flatten()
}

/// Sends `sig` to every process of group `pgid`.
pub fn signal_group(pgid: i32, sig: Signal) {
    if let Some(p) = pid(pgid) {
        let _ = kill_process_group(p, sig);
    }
}

/// Sends `sig` to each process of `procs` that still is the process it was.
pub fn signal_each(procs: &BTreeSet<Proc>, sig: Signal) {
    let alive = group_members_where(|_| true);
    for (raw, start) in procs {
        if alive.contains(&(*raw, *start)) {
            if let Some(p) = pid(*raw) {
                let _ = kill_process(p, sig);
            }
        }
    }
}

/// The processes of group `pgid` (empty where `/proc` is not there to read).
pub fn group_members(pgid: i32) -> BTreeSet<Proc> {
    group_members_where(|group| group == pgid)
}

fn group_members_where(keep: impl Fn(i32) -> bool) -> BTreeSet<Proc> {
    let Ok(entries) = std::fs::read_dir("/proc") else { return BTreeSet::new() };
    entries
        .filter_map(|e| {
            let e = e.ok()?;
            let pid: i32 = e.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(e.path().join("stat")).ok()?;
            let (group, start) = parse_stat(&stat)?;
            keep(group).then_some((pid, start))
        })
        .collect()
}

/// (process group, start time) from `/proc/PID/stat`. The command name in parentheses may hold
/// spaces and parentheses itself, so the fields are counted from the last `)`.
fn parse_stat(stat: &str) -> Option<(i32, u64)> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the name: state(3) ppid(4) pgrp(5) ... starttime(22), so index 2 and 19 here.
    Some((fields.get(2)?.parse().ok()?, fields.get(19)?.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_lines_are_read_past_odd_command_names() {
        let line = "4242 (a) b (c)) S 1 4240 4240 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 987654 1000 10";
        assert_eq!(parse_stat(line), Some((4240, 987654)));
        assert_eq!(parse_stat("garbage"), None);
    }

    #[test]
    fn the_callers_own_group_and_init_are_never_signalled() {
        assert!(pid(0).is_none() && pid(1).is_none() && pid(-5).is_none());
        assert!(pid(4242).is_some());
    }
}
