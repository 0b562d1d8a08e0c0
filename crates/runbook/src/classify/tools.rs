//! Rules for tool families whose subcommands decide the risk: systemd, containers, kubectl,
//! git, curl, database clients, redis and package managers. Called from `commands::argv_risk`.

use super::commands::{has_flag, operands, risk, skip_options, subcommand};
use super::Classifier;
use crate::model::{Risk, RiskClass};

use RiskClass::{Destructive, Mutating, ReadOnly, Unknown};

pub(super) fn systemctl(args: &[String]) -> Risk {
    let (sub, rest) = subcommand(args);
    let unit = rest.first().map(String::as_str).unwrap_or("");
    match sub {
        "" | "status" | "is-active" | "is-enabled" | "is-failed" | "show" | "cat" | "list-units"
        | "list-unit-files" | "list-timers" | "list-sockets" | "list-dependencies" | "help" => {
            risk(ReadOnly, format!("systemctl {sub} only reads"))
        }
        "kill" => risk(Destructive, format!("systemctl kill {unit}")),
        _ => risk(Mutating, format!("systemctl {sub} {unit}").trim_end().to_string()),
    }
}

pub(super) fn container(name: &str, args: &[String]) -> Risk {
    let (mut sub, mut rest) = subcommand(args);
    if sub == "compose"
        || sub == "container"
        || sub == "image"
        || sub == "volume"
        || sub == "system"
        || sub == "network"
    {
        let (s2, r2) = subcommand(rest);
        if sub == "system" && s2 == "prune" || matches!(s2, "rm" | "prune" | "down") && sub != "compose" {
            return risk(Destructive, format!("{name} {sub} {s2} removes resources"));
        }
        if sub == "compose" && s2 == "down" && has_flag(r2, 'v', &["--volumes"]) {
            return risk(Destructive, format!("{name} compose down -v deletes volumes"));
        }
        sub = s2;
        rest = r2;
    }
    let target = rest.iter().find(|a| !a.starts_with('-')).map(String::as_str).unwrap_or("");
    match sub {
        "ps" | "logs" | "inspect" | "stats" | "images" | "top" | "version" | "info" | "ls" | "port" | "events"
        | "history" | "config" => risk(ReadOnly, format!("{name} {sub} only reads")),
        "rm" | "rmi" | "kill" | "prune" => risk(Destructive, format!("{name} {sub} {target}")),
        _ => risk(Mutating, format!("{name} {sub} {target}").trim_end().to_string()),
    }
}

pub(super) fn kubectl(c: &mut Classifier, name: &str, args: &[String]) -> Risk {
    let rest = skip_options(args, &["-n", "--namespace", "--context", "-l", "--kubeconfig", "-c"]);
    let sub = rest.first().map(String::as_str).unwrap_or("");
    let obj =
        rest.get(1..).unwrap_or(&[]).iter().filter(|a| !a.starts_with('-')).cloned().collect::<Vec<_>>().join(" ");
    match sub {
        "get" | "describe" | "logs" | "top" | "explain" | "version" | "api-resources" | "api-versions"
        | "cluster-info" | "events" | "auth" | "diff" | "whoami" => risk(ReadOnly, format!("{name} {sub} only reads")),
        // `oc adm top nodes` reads, `oc adm drain` and `oc adm prune --confirm` do not: the words decide.
        // `oc adm upgrade` alone shows the available updates.
        "adm" if rest.get(1).is_some_and(|a| a == "upgrade") && !rest.iter().any(|a| a.starts_with("--to")) => {
            risk(ReadOnly, format!("{name} adm upgrade shows the available updates"))
        }
        "adm" => {
            let r = super::verbs::by_words(&format!("{name} adm"), &rest[1..]);
            risk(r.class, r.reason.replace(" (a tool without rules of its own)", ""))
        }
        "rollout" if rest.iter().any(|a| a == "status" || a == "history") => {
            risk(ReadOnly, format!("{name} rollout status"))
        }
        "config" if rest.iter().any(|a| a == "view" || a.starts_with("get-") || a == "current-context") => {
            risk(ReadOnly, format!("{name} config view"))
        }
        "delete" | "drain" => risk(Destructive, format!("{name} {sub} {obj}")),
        // `oc rsh pod` opens a shell; `oc rsh pod cmd` runs cmd in it.
        "rsh" => {
            let after = skip_options(&rest[1..], &["-c", "--container", "--shell", "-n", "--namespace", "-t"]);
            if after.len() <= 1 {
                return risk(Unknown, format!("{name} rsh opens a shell"));
            }
            let r = c.argv_risk(&after[1..], &[]);
            risk(r.class.max(Mutating), format!("{name} rsh: {}", r.reason))
        }
        "exec" => match rest.iter().position(|a| a == "--") {
            Some(i) if i + 1 < rest.len() => {
                let r = c.argv_risk(&rest[i + 1..], &[]);
                let class = r.class.max(Mutating);
                risk(class, format!("{name} exec: {}", r.reason))
            }
            _ => risk(Unknown, format!("{name} exec opens a shell")),
        },
        "scale" if rest.iter().any(|a| a == "--replicas=0") => risk(Destructive, format!("{name} scale to zero {obj}")),
        // Subcommands that change the cluster by name; anything else (a plugin such as
        // `oc dev_tool audit`, `oc sa get-token`) is judged by its words.
        "apply" | "create" | "patch" | "edit" | "replace" | "set" | "scale" | "rollout" | "label" | "annotate"
        | "taint" | "cordon" | "uncordon" | "run" | "expose" | "cp" | "debug" | "port-forward" | "proxy" | "attach"
        | "autoscale" | "certificate" | "rsync" | "start-build" | "new-app" | "import-image" | "tag" | "policy"
        | "secrets" | "extract" | "login" | "logout" | "project" | "process" | "wait" | "" => {
            risk(Mutating, format!("{name} {sub} {obj}").trim_end().to_string())
        }
        _ => {
            let r = super::verbs::by_words(&format!("{name} {sub}"), &rest[1..]);
            risk(r.class, r.reason.replace(" (a tool without rules of its own)", ""))
        }
    }
}

/// `git remote add/remove/set-url/prune` and `git reflog expire/delete` change what the
/// otherwise reading subcommands show.
fn writes_refs(sub: &str, rest: &[String]) -> bool {
    let any = |words: &[&str]| rest.iter().any(|a| words.contains(&a.as_str()));
    (sub == "remote" && any(&["add", "remove", "rm", "set-url", "prune"]))
        || (sub == "reflog" && any(&["expire", "delete"]))
}

pub(super) fn git(args: &[String]) -> Risk {
    let rest = skip_options(args, &["-C", "-c", "--git-dir", "--work-tree"]);
    let sub = rest.first().map(String::as_str).unwrap_or("");
    let rest = rest.get(1..).unwrap_or(&[]);
    match sub {
        "log" | "status" | "diff" | "show" | "rev-parse" | "blame" | "ls-files" | "describe" | "shortlog"
        | "reflog" | "remote" | "grep" | "ls-remote" | "fetch" | "fsck" | "count-objects" | "cat-file"
        | "verify-pack" | "for-each-ref" | "rev-list" | "ls-tree" | "name-rev" | "merge-base" | "whatchanged"
        | "show-ref" | "bisect-log"
            if !writes_refs(sub, rest) =>
        {
            risk(ReadOnly, format!("git {sub} only reads"))
        }
        "branch" | "tag"
            if rest.is_empty()
                || has_flag(rest, 'l', &["--list"])
                || has_flag(rest, 'a', &[])
                || has_flag(rest, 'v', &[]) =>
        {
            risk(ReadOnly, format!("git {sub} lists"))
        }
        "reset" if rest.iter().any(|a| a == "--hard") => {
            risk(Destructive, format!("git reset --hard {}", operands(rest).join(" ")).trim_end().to_string())
        }
        "clean" => risk(Destructive, format!("git clean {} deletes untracked files", rest.join(" "))),
        "push" if has_flag(rest, 'f', &["--force", "--force-with-lease"]) => {
            risk(Destructive, "git push --force rewrites remote history")
        }
        "branch" | "tag" if has_flag(rest, 'D', &[]) || has_flag(rest, 'd', &["--delete"]) => {
            risk(Destructive, format!("git {sub} -d deletes a {}", if sub == "tag" { "tag" } else { "branch" }))
        }
        "update-ref" | "symbolic-ref" if has_flag(rest, 'd', &["--delete"]) => {
            risk(Destructive, format!("git {sub} -d deletes a ref"))
        }
        "rm" | "prune" => risk(Destructive, format!("git {sub} {}", operands(rest).join(" ")).trim_end().to_string()),
        "remote" | "worktree" if rest.iter().any(|a| a == "remove" || a == "rm" || a == "prune") => {
            risk(Destructive, format!("git {sub} remove deletes it"))
        }
        "reflog" if rest.iter().any(|a| a == "expire" || a == "delete") => {
            risk(Destructive, "git reflog expire/delete discards history")
        }
        "gc" if rest.iter().any(|a| a.starts_with("--prune")) => risk(Destructive, "git gc --prune deletes objects"),
        "stash" if rest.iter().any(|a| a == "drop" || a == "clear") => {
            risk(Destructive, "git stash drop/clear discards changes")
        }
        "checkout" | "restore" if rest.iter().any(|a| a == "--" || a == ".") => {
            risk(Mutating, format!("git {sub} overwrites working-tree files {}", rest.join(" ")))
        }
        _ => risk(Mutating, format!("git {sub} {}", operands(rest).join(" ")).trim_end().to_string()),
    }
}

pub(super) fn curl(args: &[String]) -> Risk {
    let mut method: Option<String> = None;
    let mut body = false;
    let mut output = false;
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_str();
        if a == "-X" || a == "--request" {
            method = args.get(i + 1).map(|m| m.to_uppercase());
            i += 1;
        } else if let Some(m) = a.strip_prefix("-X").filter(|m| !m.is_empty()).or_else(|| a.strip_prefix("--request="))
        {
            method = Some(m.to_uppercase());
        } else if a.starts_with("--data")
            || a == "-d"
            || a == "-F"
            || a == "--form"
            || a == "-T"
            || a == "--upload-file"
            || a == "--json"
        {
            body = true;
            i += 1;
        } else if a == "-o" || a == "--output" {
            output = args.get(i + 1).is_some_and(|t| t != "/dev/null" && t != "-");
            i += 1;
        } else if a == "-O" || a == "--remote-name" {
            output = true;
        } else if a == "-I" || a == "--head" {
            method = Some("HEAD".into());
        }
        i += 1;
    }
    let url =
        args.iter().rev().find(|a| a.contains("://") || a.starts_with("localhost")).map(String::as_str).unwrap_or("");
    match method.as_deref() {
        Some("DELETE") => risk(Destructive, format!("curl DELETE {url}")),
        Some(m) if m != "GET" && m != "HEAD" => risk(Mutating, format!("curl {m} {url}")),
        _ if body => risk(Mutating, format!("curl sends data to {url}")),
        _ if output => risk(Mutating, format!("curl writes a downloaded file from {url}")),
        _ => risk(ReadOnly, format!("curl GET {url}").trim_end().to_string()),
    }
}

pub(super) fn database(name: &str, args: &[String], stdin: &[String]) -> Risk {
    let mut sql: Vec<String> = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        if matches!(a.as_str(), "-c" | "--command" | "-e" | "--execute" | "--eval") {
            if let Some(v) = args.get(i + 1) {
                sql.push(v.clone());
            }
            i += 1;
        } else if name == "sqlite3" && !a.starts_with('-') && i > 0 && args[..i].iter().any(|p| !p.starts_with('-')) {
            sql.push(a.clone());
        }
        i += 1;
    }
    sql.extend(stdin.iter().cloned());
    if sql.is_empty() {
        return risk(Unknown, format!("{name} session without inline SQL"));
    }
    super::sql::risk(name, &sql.join("\n"))
}

pub(super) fn redis(args: &[String]) -> Risk {
    let ops = skip_options(args, &["-h", "-p", "-a", "-n", "-u", "--user", "--pass"]);
    let op = ops.first().map(|s| s.to_uppercase()).unwrap_or_default();
    // Monitoring modes that only sample the server.
    const WATCHES: &[&str] = &[
        "--latency",
        "--latency-history",
        "--latency-dist",
        "--stat",
        "--bigkeys",
        "--memkeys",
        "--hotkeys",
        "--scan",
    ];
    if op.is_empty() && args.iter().any(|a| WATCHES.contains(&a.as_str())) {
        return risk(ReadOnly, "redis-cli watches the server (latency, stats or key scan)");
    }
    match op.as_str() {
        "FLUSHALL" | "FLUSHDB" | "DEL" | "UNLINK" | "SHUTDOWN" => risk(Destructive, format!("redis-cli {op}")),
        "" => risk(Unknown, "redis-cli interactive session"),
        "GET" | "INFO" | "PING" | "KEYS" | "SCAN" | "TTL" | "TYPE" | "LLEN" | "HGETALL" | "MONITOR" | "DBSIZE"
        | "CLIENT" | "SLOWLOG" | "--SCAN" | "--BIGKEYS" | "MEMORY" | "CONFIG"
            if !(op == "CONFIG" && ops.get(1).is_some_and(|s| s.eq_ignore_ascii_case("set"))) =>
        {
            risk(ReadOnly, format!("redis-cli {op} only reads"))
        }
        _ => risk(Mutating, format!("redis-cli {op}")),
    }
}

pub(super) fn packages(name: &str, args: &[String]) -> Risk {
    let (sub, _) = subcommand(args);
    match sub {
        "list" | "show" | "search" | "policy" | "freeze" | "info" | "check" | "outdated" | "ls" | "status"
        | "history" | "version" | "--version" => risk(ReadOnly, format!("{name} {sub} only reads")),
        "remove" | "purge" | "uninstall" | "autoremove" | "erase" => {
            risk(Destructive, format!("{name} {sub} removes packages"))
        }
        _ => risk(Mutating, format!("{name} {sub}").trim_end().to_string()),
    }
}

/// Tools with many subcommands and no table (`gcloud`, `ceph`, `terraform`, ...): their
/// words decide, plus the few readings the words miss.
pub(super) fn subcommand_tool(name: &str, args: &[String]) -> Risk {
    let operands: Vec<&str> = args.iter().filter(|a| !a.starts_with('-')).map(String::as_str).collect();
    match (name, operands.as_slice()) {
        // `ceph -s`, `ceph -w`: status and watch as options.
        ("ceph", []) if args.iter().any(|a| matches!(a.as_str(), "-s" | "--status" | "-w" | "--watch")) => {
            risk(ReadOnly, "ceph -s/-w shows the cluster's status")
        }
        // `ceph daemon osd.0 ops`, `dump_historic_ops`, `perf dump`: an admin socket's reports.
        ("ceph", ["daemon", _, cmd, ..])
            if cmd.starts_with("dump")
                || matches!(*cmd, "ops" | "perf" | "status" | "config" | "help" | "version")
                    && !args.iter().any(|a| a == "set") =>
        {
            risk(ReadOnly, format!("ceph daemon {cmd} reads a daemon's report"))
        }
        // `consul maint` without -enable/-disable lists maintenance modes.
        ("consul", ["maint"]) if !args.iter().any(|a| a.contains("enable") || a.contains("disable")) => {
            risk(ReadOnly, "consul maint lists maintenance modes")
        }
        _ => super::verbs::by_words(name, args),
    }
}
