//! `sevwatch.toml`: read once, validated once into typed settings. Every field is optional and
//! the defaults reproduce the source runbooks. Validation walks the whole file and reports every
//! problem with its key path (`severity.P1.response_target: invalid duration ...`), so a user
//! fixes a file in one pass rather than one error at a time.
//!
//! Every section is read with the one checker in [`check`], one file per table here
//! (`server.rs`, `severity.rs`, `roles.rs`, `checklists.rs`, `runbooks.rs`), plus `[alerts]`
//! in [`crate::alert::config`] and the on-call tables in [`crate::oncall::config`]. The notify
//! crate reads its own keys (channels, routes, outbox, templates) with the same checker.

use toml::Table;

pub mod check;
mod checklists;
mod default_file;
mod roles;
mod runbooks;
mod server;
mod severity;

pub use check::ConfigProblem;
pub use default_file::default_toml;
pub use runbooks::RunbookConfig;
pub use server::ServerConfig;

use crate::Policy;
use check::{Check, Problems};

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Config {
    pub server: ServerConfig,
    pub policy: Policy,
    pub runbooks: RunbookConfig,
    pub alerts: crate::alert::AlertConfig,
    /// Users, schedules and escalation policies (top-level `[[users]]`, `[[schedules]]`,
    /// `[[escalation_policies]]`).
    pub oncall: crate::oncall::OnCallConfig,
}

const ROOT_KEYS: &[&str] = &[
    "server",
    "severity",
    "roles",
    "checklists",
    "runbooks",
    "alerts",
    "users",
    "schedules",
    "escalation_policies",
    // Read by the notify crate at the edge: channels, routes, the outbox, templates.
    "channels",
    "channel_routes",
    "outbox",
    "templates_dir",
];

impl Config {
    /// Parse and validate a whole file; on failure, every problem found.
    pub fn from_toml_str(text: &str) -> Result<Config, Vec<ConfigProblem>> {
        let root: Table = match text.parse() {
            Ok(t) => t,
            Err(e) => {
                let line = e.span().map(|s| text[..s.start.min(text.len())].lines().count().max(1));
                let path = line.map(|l| format!("line {l}")).unwrap_or_else(|| "(file)".into());
                return Err(vec![ConfigProblem { path, message: format!("not valid TOML: {}", e.message()) }]);
            }
        };
        let problems = Problems::default();
        let cfg = Config::read(&Check::new(&root, "", &problems));
        if problems.is_empty() {
            Ok(cfg)
        } else {
            Err(problems.into_vec())
        }
    }

    fn read(root: &Check<'_>) -> Config {
        root.known_keys(ROOT_KEYS);
        let mut cfg = Config::default();
        if let Some(c) = root.table("server") {
            cfg.server = server::read(&c);
        }
        if let Some(c) = root.table("severity") {
            severity::read(&c, &mut cfg.policy);
        }
        if let Some(c) = root.table("roles") {
            roles::read(&c, &mut cfg.policy);
        }
        if let Some(c) = root.table("checklists") {
            checklists::read(&c, &mut cfg.policy);
        }
        if let Some(c) = root.table("runbooks") {
            cfg.runbooks = runbooks::read(&c);
        }
        if let Some(c) = root.table("alerts") {
            cfg.alerts = crate::alert::config::read(&c);
        }
        cfg.oncall = crate::oncall::config::read(root);
        cfg
    }
}

#[cfg(test)]
mod tests;
