//! Tools the tables do not know are judged by their words, as a reader would: a `delete`,
//! `destroy` or `purge` anywhere (options included: `--purge`) makes the command destructive;
//! otherwise a word that changes things (`apply`, `restart`, `set`, ...) makes it mutating; a
//! command whose words only ask (`get`, `list`, `status`, `logs`, ...) is read-only; and one
//! with no telling word is mutating, so it still needs a confirmation. Words are compared
//! whole and by their `-`/`_`/`:` parts, so `list-peers` reads and `force-delete` destroys.

use crate::model::{Risk, RiskClass};

const DESTROYS: &[&str] = &[
    "delete",
    "destroy",
    "drop",
    "purge",
    "prune",
    "truncate",
    "rm",
    "rmi",
    "remove",
    "wipe",
    "flush",
    "reset",
    "erase",
    "terminate",
    "deregister",
    "uninstall",
    "nuke",
    "kill",
    "evict",
    "revoke",
    "shred",
    "format",
];

const CHANGES: &[&str] = &[
    "apply",
    "create",
    "set",
    "put",
    "post",
    "patch",
    "update",
    "upgrade",
    "install",
    "restart",
    "start",
    "stop",
    "reload",
    "scale",
    "deploy",
    "rollout",
    "rollback",
    "restore",
    "write",
    "edit",
    "add",
    "enable",
    "disable",
    "import",
    "sync",
    "push",
    "pull",
    "run",
    "exec",
    "cordon",
    "drain",
    "uncordon",
    "taint",
    "label",
    "annotate",
    "replace",
    "move",
    "mv",
    "cp",
    "copy",
    "rename",
    "attach",
    "detach",
    "mount",
    "unmount",
    "promote",
    "demote",
    "failover",
    "switchover",
    "pause",
    "resume",
    "suspend",
    "join",
    "leave",
    "force",
    "init",
    "migrate",
    "backup",
    "snapshot",
    "rotate",
    "register",
    "lock",
    "unlock",
    "approve",
    "trigger",
    "send",
    "publish",
    "release",
];

const ASKS: &[&str] = &[
    "get", "list", "ls", "describe", "show", "status", "plan", "history", "logs", "log", "top", "inspect", "info",
    "version", "help", "cat", "view", "check", "diff", "search", "query", "stats", "stat", "health", "ps", "read",
    "members", "peers", "monitor", "watch", "validate", "verify", "explain", "whoami", "env", "config", "fetch",
    "output", "state", "graph", "tail", "head", "find", "count", "dump", "export", "print", "lookup", "ping", "doctor",
    "audit", "events", "metrics", "report", "tree", "du", "df", "usage", "summary",
];

fn parts(word: &str) -> impl Iterator<Item = String> + '_ {
    let w = word.trim_start_matches('-').to_ascii_lowercase();
    let whole = w.split('=').next().unwrap_or("").to_string();
    let pieces: Vec<String> = whole.split(['-', '_', ':', '.']).map(str::to_string).collect();
    std::iter::once(whole).chain(pieces)
}

/// The risk of `name args` judged by the words of `args`.
pub fn by_words(name: &str, args: &[String]) -> Risk {
    let has = |set: &[&str], include_options: bool| {
        args.iter()
            .filter(|a| include_options || !a.starts_with('-'))
            .take(if include_options { usize::MAX } else { 3 })
            .flat_map(|a| parts(a).collect::<Vec<_>>())
            .find(|p| set.contains(&p.as_str()))
    };
    if let Some(w) = has(DESTROYS, true) {
        return Risk::new(
            RiskClass::Destructive,
            format!("{name}: \"{w}\" destroys (a tool without rules of its own)"),
        );
    }
    if let Some(w) = has(CHANGES, true) {
        return Risk::new(
            RiskClass::Mutating,
            format!("{name}: \"{w}\" changes state (a tool without rules of its own)"),
        );
    }
    if let Some(w) = has(ASKS, false) {
        return Risk::new(RiskClass::ReadOnly, format!("{name}: \"{w}\" only asks (a tool without rules of its own)"));
    }
    Risk::new(RiskClass::Mutating, format!("{name}: no word says what it does; treated as a change"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use RiskClass::*;

    fn class(cmd: &str) -> RiskClass {
        let argv: Vec<String> = cmd.split_whitespace().map(String::from).collect();
        by_words(&argv[0], &argv[1..]).class
    }

    #[test]
    fn the_words_decide_destroy_over_change_over_ask() {
        for (cmd, want) in [
            ("pulumi destroy --yes", Destructive),
            ("az group delete --name rg --yes", Destructive),
            ("gsutil rm -r gs://bucket/old", Destructive),
            ("nomad job status web", ReadOnly),
            ("consul operator raft list-peers", ReadOnly),
            ("consul members", ReadOnly),
            ("vault kv get secret/x", ReadOnly),
            ("vault kv put secret/x a=1", Mutating),
            ("tool get things --purge", Destructive),
            ("tool show --force-delete", Destructive),
            ("nomad job run web.nomad", Mutating),
            ("frobnicate now", Mutating),
        ] {
            assert_eq!(class(cmd), want, "{cmd}");
        }
    }
}
