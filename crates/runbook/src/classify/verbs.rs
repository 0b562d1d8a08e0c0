//! Tools the tables do not know are judged by their words, as a reader would: a `delete`,
//! `destroy` or `purge` anywhere (options included: `--purge`) makes the command destructive;
//! otherwise a word that changes things (`apply`, `restart`, `set`, ...) makes it mutating; a
//! command whose words only ask (`get`, `list`, `status`, `logs`, ...) is read-only; and one
//! with no telling word is mutating, so it still needs a confirmation. Words are compared
//! whole and by their `-`/`_`/`:` parts, so `list-peers` reads and `force-delete` destroys.

use crate::model::{Risk, RiskClass};

const DESTROYS: &[&str] = &[
    "delete",
    "del",
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
    "get",
    "list",
    "ls",
    "describe",
    "show",
    "status",
    "plan",
    "history",
    "logs",
    "log",
    "top",
    "inspect",
    "info",
    "version",
    "help",
    "cat",
    "view",
    "check",
    "diff",
    "search",
    "query",
    "stats",
    "stat",
    "health",
    "ps",
    "read",
    "members",
    "peers",
    "monitor",
    "watch",
    "validate",
    "verify",
    "explain",
    "whoami",
    "env",
    "fetch",
    "catalog",
    "utilization",
    "versions",
    "output",
    "state",
    "graph",
    "tail",
    "head",
    "find",
    "count",
    "dump",
    "export",
    "print",
    "lookup",
    "ping",
    "doctor",
    "audit",
    "events",
    "metrics",
    "report",
    "tree",
    "du",
    "df",
    "usage",
    "summary",
];

/// Destroying words that also destroy as options (`--purge`, `--force-delete`); `--format`,
/// `--reset-timeout` or `--kill-after` do not.
const DESTROYING_OPTIONS: &[&str] =
    &["delete", "destroy", "drop", "purge", "prune", "truncate", "wipe", "erase", "nuke", "shred", "remove"];

/// A file or URL operand (`/etc/app/config.yaml`, `./x`, `~/y`, `s3://b/k`, `dump.rdb`):
/// its words name a thing, not what the command does to it. `cluster/status` is a command.
fn path_like(word: &str) -> bool {
    word.starts_with(['/', '.', '~'])
        || word.contains("://")
        || word.rsplit('/').next().is_some_and(|last| last.contains('.'))
}

/// Does `word` tell what a command does (a destroying, changing or asking word)?
pub fn says_something(word: &str) -> bool {
    parts(word).any(|p| DESTROYS.contains(&p.as_str()) || CHANGES.contains(&p.as_str()) || ASKS.contains(&p.as_str()))
}

fn parts(word: &str) -> impl Iterator<Item = String> + '_ {
    let w = word.trim_start_matches('-').to_ascii_lowercase();
    let whole = w.split('=').next().unwrap_or("").to_string();
    let pieces: Vec<String> = whole.split(['-', '_', ':', '.', '/']).map(str::to_string).collect();
    std::iter::once(whole).chain(pieces)
}

/// The risk of `name args` judged by the words of `args`. Destroying words count anywhere
/// (as options only the plainly destroying ones), changing words anywhere but in a path,
/// asking words only among the first three operands and never in a path or file name
/// (`/etc/app/config.yaml` says nothing about what the command does to it).
pub fn by_words(name: &str, args: &[String]) -> Risk {
    let operand_parts = |limit: usize| -> Vec<String> {
        args.iter().filter(|a| !a.starts_with('-')).take(limit).flat_map(|a| parts(a).collect::<Vec<_>>()).collect()
    };
    let option_parts: Vec<String> =
        args.iter().filter(|a| a.starts_with('-')).flat_map(|a| parts(a).collect::<Vec<_>>()).collect();
    let destroys = operand_parts(usize::MAX)
        .into_iter()
        .find(|p| DESTROYS.contains(&p.as_str()))
        .or_else(|| option_parts.iter().find(|p| DESTROYING_OPTIONS.contains(&p.as_str())).cloned());
    if let Some(w) = destroys {
        return Risk::new(
            RiskClass::Destructive,
            format!("{name}: \"{w}\" destroys (a tool without rules of its own)"),
        );
    }
    // A path's words name a thing (`/var/run/x.ctl` runs nothing); they count only for
    // destroying, where a wrong guess errs safe.
    let changes = args
        .iter()
        .filter(|a| !a.starts_with('-') && !path_like(a))
        .flat_map(|a| parts(a).collect::<Vec<_>>())
        .chain(option_parts.iter().cloned())
        .find(|p| CHANGES.contains(&p.as_str()));
    if let Some(w) = changes {
        return Risk::new(
            RiskClass::Mutating,
            format!("{name}: \"{w}\" changes state (a tool without rules of its own)"),
        );
    }
    let asks = args
        .iter()
        .filter(|a| !a.starts_with('-'))
        .take(3)
        .filter(|a| !path_like(a) && !a.contains('='))
        .flat_map(|a| parts(a).collect::<Vec<_>>())
        .find(|p| ASKS.contains(&p.as_str()));
    if let Some(w) = asks {
        return Risk::new(RiskClass::ReadOnly, format!("{name}: \"{w}\" only asks (a tool without rules of its own)"));
    }
    if args.iter().any(|a| matches!(a.as_str(), "--help" | "-h" | "-help" | "help")) {
        return Risk::new(RiskClass::ReadOnly, format!("{name}: only prints its help"));
    }
    // `daemon --config x --validate`, `tool --dry-run`, `tool --version`: a checking option.
    let checking = args.iter().filter(|a| a.starts_with("--")).find(|a| {
        let o = a.trim_start_matches('-');
        let o = o.split('=').next().unwrap_or(o);
        matches!(o, "validate" | "check" | "dry-run" | "dryrun" | "version" | "verify" | "list" | "status" | "show")
    });
    if let Some(o) = checking {
        return Risk::new(RiskClass::ReadOnly, format!("{name}: {o} only checks (a tool without rules of its own)"));
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
            ("gcloud compute instances list --format=value(zone)", ReadOnly),
            ("gcloud compute instances delete web-1 --format=json", Destructive),
            ("consul kv --help", ReadOnly),
            ("etcdctl del /registry/x", Destructive),
            ("gsutil config -e", Mutating),
            ("tool apply /etc/app/config.yaml", Mutating),
            ("tool /etc/app/config.yaml", Mutating),
            ("ovs-appctl -t /var/run/ovn/ovnnb_db.ctl cluster/status OVN_Northbound", ReadOnly),
        ] {
            assert_eq!(class(cmd), want, "{cmd}");
        }
    }
}
