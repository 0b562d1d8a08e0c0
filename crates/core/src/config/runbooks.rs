//! The `[runbooks]` table: whether and how the server itself may run runbook steps.

use std::collections::BTreeMap;

use super::check::Check;
use crate::Duration;

/// How runbook steps are executed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunbookConfig {
    /// Whether the server itself may run step commands (`POST .../steps/{n}/start` with
    /// `"execute": true`). Off by default: the CLI runs steps on the responder's machine.
    pub execute_on_server: bool,
    /// Working directory for server-side execution (default: a fresh empty directory per step,
    /// removed after it). Never the data directory or inside it: the server refuses to start.
    pub workdir: Option<String>,
    /// Longest a step may run before it is killed.
    pub timeout: Duration,
    /// Extra environment for server-side execution.
    pub env: BTreeMap<String, String>,
}

impl Default for RunbookConfig {
    fn default() -> Self {
        RunbookConfig {
            execute_on_server: false,
            workdir: None,
            timeout: Duration::from_secs(60),
            env: BTreeMap::new(),
        }
    }
}

/// The `[runbooks]` table; a key left out or refused keeps its default.
pub(super) fn read(c: &Check<'_>) -> RunbookConfig {
    c.known_keys(&["execute_on_server", "workdir", "timeout", "env"]);
    let mut r = RunbookConfig::default();
    if let Some(b) = c.boolean("execute_on_server") {
        r.execute_on_server = b;
    }
    r.workdir = c.line("workdir");
    if let Some(d) = c.positive_duration("timeout") {
        r.timeout = d;
    }
    if let Some(env) = c.table("env") {
        for name in env.keys() {
            if let Some(value) = env.string(name) {
                r.env.insert(name.to_string(), value);
            }
        }
    }
    r
}
