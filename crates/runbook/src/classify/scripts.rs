//! Scripts and interpreters: a script's contents are not inspected, so its name (and a
//! subcommand-like first argument: `runner_upgrade.sh stop`) is the only hint; `python -m
//! pytest` and `python -m pip list` are the few interpreter runs known to only read.

use super::commands::{operands, risk};
use crate::model::{Risk, RiskClass};

use RiskClass::{Destructive, Mutating, ReadOnly, Unknown};

pub(super) fn interpreter(name: &str, args: &[String]) -> Risk {
    if let Some(i) = args.iter().position(|a| a == "-m") {
        let module = args.get(i + 1).map(String::as_str).unwrap_or("");
        return match module {
            "pytest" | "json.tool" | "pip"
                if module != "pip" || args.iter().any(|a| a == "list" || a == "show" || a == "freeze") =>
            {
                risk(ReadOnly, format!("{name} -m {module} only reads or runs tests"))
            }
            _ => risk(Unknown, format!("{name} -m {module}")),
        };
    }
    if args.iter().any(|a| a == "-c" || a == "-e") {
        return risk(Unknown, format!("inline {name} code"));
    }
    match operands(args).first() {
        Some(script) => script_risk(script),
        None => risk(Unknown, format!("{name} interactive session")),
    }
}

/// Scripts are opaque; their names are the only hint, and a hint is all this gives.
pub(super) fn script_risk(path: &str) -> Risk {
    script_risk_with(path, &[])
}

/// A script rather than an installed program: a relative path (`./scripts/x`, `scripts/x`),
/// one under the home directory, or a script's extension.
pub(super) fn script_like(first: &str) -> bool {
    let relative = first.contains('/') && !first.starts_with('/');
    let extension = [".sh", ".py", ".rb", ".pl", ".bash"].iter().any(|e| first.ends_with(e));
    relative || extension
}

pub(super) fn script_risk_with(path: &str, args: &[String]) -> Risk {
    if !args.is_empty() && args.iter().all(|a| matches!(a.as_str(), "--help" | "-h" | "--version")) {
        return risk(ReadOnly, format!("{path} {} only prints usage", args.join(" ")));
    }
    let base = path.rsplit('/').next().unwrap_or(path).to_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| base.contains(w));
    if has(&["delete", "purge", "wipe", "destroy", "reset", "clean", "drop", "nuke"]) {
        risk(Destructive, format!("runs script {path} (name suggests it deletes or resets)"))
    } else if has(&[
        "check", "status", "doctor", "health", "verify", "validate", "list", "show", "diag", "inspect", "report",
        "recent", "summary", "rates",
    ]) {
        risk(ReadOnly, format!("runs script {path} (name suggests a check; contents not inspected)"))
    } else if has(&[
        "stop", "start", "upgrade", "restart", "deploy", "restore", "rollback", "migrate", "install", "backup", "emit",
        "update", "fix", "repair", "init", "rotate", "archive", "kill",
    ]) {
        risk(Mutating, format!("runs script {path} (name suggests it changes state)"))
    } else if let Some(word) = telling_argument(args) {
        // `runner_upgrade.sh stop`: the script's own subcommand says what it does.
        let r = super::verbs::by_words(path, std::slice::from_ref(word));
        risk(r.class, format!("runs script {path} {word} (its argument suggests what it does; contents not inspected)"))
    } else {
        risk(Unknown, format!("runs script {path}; contents not inspected"))
    }
}

/// The first argument of a script that reads like a subcommand (`stop`, `stop_and_reboot`,
/// `list`), if any: a plain lower-case word, not a path or a value.
fn telling_argument(args: &[String]) -> Option<&String> {
    let first = args.iter().find(|a| !a.starts_with('-'))?;
    let word = first.chars().all(|c| c.is_ascii_lowercase() || c == '_' || c == '-') && first.len() > 1;
    (word && super::verbs::says_something(first)).then_some(first)
}
