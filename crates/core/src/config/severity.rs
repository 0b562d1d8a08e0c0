//! The `[severity]` table: what each level P0-P4 promises (`[severity.P1]`) and the names of
//! other scales mapped onto them (`[severity.aliases]`).

use super::check::Check;
use crate::policy::{LevelPolicy, Target};
use crate::{Duration, Policy, Severity};

/// The `[severity]` table, applied over `policy`: a key left out or refused keeps its value.
pub(super) fn read(c: &Check<'_>, policy: &mut Policy) {
    let mut known: Vec<&str> = Severity::ALL.iter().map(|s| s.as_str()).collect();
    known.push("aliases");
    c.known_keys(&known);
    for sev in Severity::ALL {
        if let Some(lc) = c.table(sev.as_str()) {
            level(&lc, &mut policy.levels[sev.index()]);
        }
    }
    if let Some(aliases) = c.table("aliases") {
        for alias in aliases.keys() {
            let canonical = alias.parse::<Severity>().is_ok();
            let level = aliases.parsed(alias, |v| match v.parse::<Severity>() {
                Ok(_) if canonical => Err("P0-P4 are the canonical names and cannot be aliases".into()),
                Ok(s) => Ok(s),
                Err(()) => Err(format!("{v:?} is not a level (expected \"P0\", \"P1\", \"P2\", \"P3\" or \"P4\")")),
            });
            if let Some(s) = level {
                policy.aliases.insert(alias.to_ascii_lowercase(), s);
            }
        }
    }
}

fn level(c: &Check<'_>, l: &mut LevelPolicy) {
    c.known_keys(&[
        "name",
        "description",
        "response_target",
        "resolution_target",
        "update_every",
        "page",
        "postmortem_required",
        "postmortem_schedule_within",
        "postmortem_complete_within",
    ]);
    let target = |v: &str| v.parse::<Target>();
    if let Some(v) = c.line("name") {
        l.name = v;
    }
    if let Some(v) = c.string("description") {
        l.description = v;
    }
    if let Some(v) = c.parsed("response_target", target) {
        l.response_target = v;
    }
    if let Some(v) = c.parsed("resolution_target", target) {
        l.resolution_target = v;
    }
    let cadence = c.parsed("update_every", |v| match v.trim() {
        "as-needed" | "none" | "never" => Ok(None),
        _ => match v.parse::<Duration>() {
            Ok(Duration::ZERO) => Err("must be longer than 0s (write \"as-needed\" for no cadence)".into()),
            Ok(d) => Ok(Some(d)),
            Err(e) => Err(format!("{e}, or \"as-needed\"")),
        },
    });
    if let Some(v) = cadence {
        l.update_every = v;
    }
    if let Some(v) = c.line("page") {
        l.page = v;
    }
    if let Some(v) = c.boolean("postmortem_required") {
        l.postmortem_required = v;
    }
    if let Some(v) = c.duration("postmortem_schedule_within") {
        l.postmortem_schedule_within = Some(v);
    }
    if let Some(v) = c.duration("postmortem_complete_within") {
        l.postmortem_complete_within = Some(v);
    }
}
