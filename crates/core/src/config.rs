//! `sevwatch.toml`: read once, validated once into typed settings. Every field is optional and
//! the defaults reproduce the source runbooks. Validation walks the whole file and reports every
//! problem with its key path (`severity.P1.response_target: invalid duration ...`), so a user
//! fixes a file in one pass rather than one error at a time.

use std::collections::BTreeMap;
use std::fmt;

use toml::{Table, Value};

use crate::checklist::{ChecklistTemplate, Phase};
use crate::policy::{LevelPolicy, Target};
use crate::{Duration, Policy, Severity};

/// Settings of the server process itself.
#[derive(Clone, PartialEq, Eq)]
pub struct ServerConfig {
    pub listen: Option<String>,
    pub data_dir: Option<String>,
    /// `postgres://...`; absent means the embedded SQLite file in the data directory.
    pub database_url: Option<String>,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// From accept (or from the first byte of a later request on a kept-alive connection) to
    /// the end of the request's headers.
    pub header_timeout: Duration,
    /// From the end of the headers to the end of the body, when a handler reads the body.
    pub body_timeout: Duration,
    /// How long a kept-alive connection may wait for its next request.
    pub idle_timeout: Duration,
    /// Connections served at once; more are refused with a 503.
    pub max_connections: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: None,
            data_dir: None,
            database_url: None,
            max_body_bytes: 1024 * 1024,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
            max_connections: 2048,
        }
    }
}

/// Database URLs carry passwords: keep them out of logs.
impl fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerConfig")
            .field("listen", &self.listen)
            .field("data_dir", &self.data_dir)
            .field("database_url", &self.database_url.as_ref().map(|_| "<hidden>"))
            .field("max_body_bytes", &self.max_body_bytes)
            .field("header_timeout", &self.header_timeout)
            .field("body_timeout", &self.body_timeout)
            .field("idle_timeout", &self.idle_timeout)
            .field("max_connections", &self.max_connections)
            .finish()
    }
}

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

/// One thing wrong with a configuration file, at a key path.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ConfigProblem {
    pub path: String,
    pub message: String,
}

impl fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

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
        let mut c = Checker::default();
        let cfg = c.config(&root);
        if c.problems.is_empty() {
            Ok(cfg)
        } else {
            Err(c.problems)
        }
    }
}

#[derive(Default)]
struct Checker {
    problems: Vec<ConfigProblem>,
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

impl Checker {
    fn err(&mut self, path: String, message: impl Into<String>) {
        self.problems.push(ConfigProblem { path, message: message.into() });
    }

    fn only_keys(&mut self, t: &Table, path: &str, known: &[&str]) {
        for k in t.keys() {
            if !known.contains(&k.as_str()) {
                self.err(join(path, k), format!("unknown key (expected one of: {})", known.join(", ")));
            }
        }
    }

    fn table<'a>(&mut self, t: &'a Table, path: &str, key: &str) -> Option<&'a Table> {
        match t.get(key)? {
            Value::Table(inner) => Some(inner),
            other => {
                self.err(join(path, key), format!("expected a table, found {}", other.type_str()));
                None
            }
        }
    }

    fn string(&mut self, t: &Table, path: &str, key: &str) -> Option<String> {
        match t.get(key)? {
            Value::String(s) => Some(s.clone()),
            other => {
                self.err(join(path, key), format!("expected a string, found {}", other.type_str()));
                None
            }
        }
    }

    fn boolean(&mut self, t: &Table, path: &str, key: &str) -> Option<bool> {
        match t.get(key)? {
            Value::Boolean(b) => Some(*b),
            other => {
                self.err(join(path, key), format!("expected true or false, found {}", other.type_str()));
                None
            }
        }
    }

    /// A string parsed with `parse`, its error reported at the key's path.
    fn parsed<T>(&mut self, t: &Table, path: &str, key: &str, parse: impl Fn(&str) -> Result<T, String>) -> Option<T> {
        let s = self.string(t, path, key)?;
        match parse(&s) {
            Ok(v) => Some(v),
            Err(e) => {
                self.err(join(path, key), e);
                None
            }
        }
    }

    fn config(&mut self, root: &Table) -> Config {
        self.only_keys(
            root,
            "",
            &[
                "server",
                "severity",
                "roles",
                "checklists",
                "runbooks",
                "alerts",
                "users",
                "schedules",
                "escalation_policies",
                // Validated by the notify crate at the edge: channels, routes, templates.
                "channels",
                "channel_routes",
                "outbox",
                "templates_dir",
            ],
        );
        let mut cfg = Config::default();
        if let Some(t) = self.table(root, "", "server") {
            self.server(t, &mut cfg.server);
        }
        if let Some(t) = self.table(root, "", "severity") {
            self.severity(t, &mut cfg.policy);
        }
        if let Some(t) = self.table(root, "", "roles") {
            self.roles(t, &mut cfg.policy);
        }
        if let Some(t) = self.table(root, "", "checklists") {
            self.checklists(t, &mut cfg.policy);
        }
        if let Some(t) = self.table(root, "", "runbooks") {
            self.runbooks(t, &mut cfg.runbooks);
        }
        if let Some(t) = self.table(root, "", "alerts") {
            cfg.alerts = crate::alert::config::parse(t, "alerts", &mut self.problems);
        }
        cfg.oncall = crate::oncall::config::parse(root, "", &mut self.problems);
        cfg
    }

    fn runbooks(&mut self, t: &Table, r: &mut RunbookConfig) {
        let p = "runbooks";
        self.only_keys(t, p, &["execute_on_server", "workdir", "timeout", "env"]);
        if let Some(b) = self.boolean(t, p, "execute_on_server") {
            r.execute_on_server = b;
        }
        r.workdir = self.string(t, p, "workdir").or(r.workdir.take());
        if let Some(d) = self.parsed(t, p, "timeout", |v| v.parse::<Duration>().map_err(|e| e.to_string())) {
            if d == Duration::ZERO {
                self.err(join(p, "timeout"), "must be longer than 0s");
            } else {
                r.timeout = d;
            }
        }
        if let Some(env) = self.table(t, p, "env") {
            for (k, v) in env {
                match v.as_str() {
                    Some(s) => {
                        r.env.insert(k.clone(), s.to_string());
                    }
                    None => self.err(format!("runbooks.env.{k}"), "expected a string"),
                }
            }
        }
    }

    fn server(&mut self, t: &Table, s: &mut ServerConfig) {
        let p = "server";
        self.only_keys(
            t,
            p,
            &[
                "listen",
                "data_dir",
                "database_url",
                "max_body_bytes",
                "header_timeout",
                "body_timeout",
                "idle_timeout",
                "max_connections",
            ],
        );
        if let Some(v) = self.parsed(t, p, "listen", |v| {
            v.parse::<std::net::SocketAddr>()
                .map(|_| v.to_string())
                .map_err(|_| format!("{v:?} is not an address like 127.0.0.1:8080"))
        }) {
            s.listen = Some(v);
        }
        s.data_dir = self.string(t, p, "data_dir").or(s.data_dir.take());
        if let Some(url) = self.parsed(t, p, "database_url", |v| {
            if v.starts_with("postgres://") || v.starts_with("postgresql://") {
                Ok(v.to_string())
            } else {
                Err("expected a postgres:// URL (leave it out to use the embedded SQLite file)".into())
            }
        }) {
            s.database_url = Some(url);
        }
        match t.get("max_body_bytes") {
            None => {}
            Some(Value::Integer(n)) if (1024..=256 * 1024 * 1024).contains(n) => s.max_body_bytes = *n as usize,
            Some(Value::Integer(_)) => self.err(join(p, "max_body_bytes"), "must be between 1024 and 268435456"),
            Some(other) => {
                self.err(join(p, "max_body_bytes"), format!("expected an integer, found {}", other.type_str()))
            }
        }
        // A zero timeout would cut every connection; more than an hour protects nothing.
        for (key, slot) in [
            ("header_timeout", &mut s.header_timeout),
            ("body_timeout", &mut s.body_timeout),
            ("idle_timeout", &mut s.idle_timeout),
        ] {
            if let Some(d) = self.parsed(t, p, key, |v| v.parse::<Duration>().map_err(|e| e.to_string())) {
                if d == Duration::ZERO || d > Duration::from_hours(1) {
                    self.err(join(p, key), "must be longer than 0s and at most 1h");
                } else {
                    *slot = d;
                }
            }
        }
        match t.get("max_connections") {
            None => {}
            Some(Value::Integer(n)) if (1..=1_000_000).contains(n) => s.max_connections = *n as usize,
            Some(Value::Integer(_)) => self.err(join(p, "max_connections"), "must be between 1 and 1000000"),
            Some(other) => {
                self.err(join(p, "max_connections"), format!("expected an integer, found {}", other.type_str()))
            }
        }
    }

    fn severity(&mut self, t: &Table, policy: &mut Policy) {
        let mut known: Vec<&str> = Severity::ALL.iter().map(|s| s.as_str()).collect();
        known.push("aliases");
        self.only_keys(t, "severity", &known);
        for sev in Severity::ALL {
            let path = format!("severity.{sev}");
            if let Some(lt) = self.table(t, "severity", sev.as_str()) {
                self.level(lt, &path, &mut policy.levels[sev.index()]);
            }
        }
        if let Some(at) = self.table(t, "severity", "aliases") {
            for (alias, v) in at {
                let path = format!("severity.aliases.{alias}");
                match v.as_str().map(str::parse::<Severity>) {
                    Some(Ok(s)) if alias.parse::<Severity>().is_err() => {
                        policy.aliases.insert(alias.to_ascii_lowercase(), s);
                    }
                    Some(Ok(_)) => self.err(path, "P0-P4 are the canonical names and cannot be aliases"),
                    _ => self.err(path, "expected one of \"P0\", \"P1\", \"P2\", \"P3\", \"P4\""),
                }
            }
        }
    }

    fn level(&mut self, t: &Table, path: &str, l: &mut LevelPolicy) {
        self.only_keys(
            t,
            path,
            &[
                "name",
                "description",
                "response_target",
                "resolution_target",
                "update_every",
                "page",
                "postmortem_required",
                "postmortem_schedule_within",
                "postmortem_complete_within",
            ],
        );
        let target = |v: &str| v.parse::<Target>();
        let duration = |v: &str| v.parse::<Duration>().map_err(|e| e.to_string());
        let optional_duration = |v: &str| {
            if ["as-needed", "none", "never"].contains(&v.trim()) {
                Ok(None)
            } else {
                v.parse::<Duration>().map(Some).map_err(|e| format!("{e}, or \"as-needed\""))
            }
        };
        if let Some(v) = self.string(t, path, "name") {
            l.name = v;
        }
        if let Some(v) = self.string(t, path, "description") {
            l.description = v;
        }
        if let Some(v) = self.parsed(t, path, "response_target", target) {
            l.response_target = v;
        }
        if let Some(v) = self.parsed(t, path, "resolution_target", target) {
            l.resolution_target = v;
        }
        if let Some(v) = self.parsed(t, path, "update_every", optional_duration) {
            if v == Some(Duration::ZERO) {
                self.err(join(path, "update_every"), "must be longer than 0s (write \"as-needed\" for no cadence)");
            } else {
                l.update_every = v;
            }
        }
        if let Some(v) = self.string(t, path, "page") {
            l.page = v;
        }
        if let Some(v) = self.boolean(t, path, "postmortem_required") {
            l.postmortem_required = v;
        }
        if let Some(v) = self.parsed(t, path, "postmortem_schedule_within", duration) {
            l.postmortem_schedule_within = Some(v);
        }
        if let Some(v) = self.parsed(t, path, "postmortem_complete_within", duration) {
            l.postmortem_complete_within = Some(v);
        }
    }

    fn roles(&mut self, t: &Table, policy: &mut Policy) {
        self.only_keys(t, "roles", &["custom"]);
        let Some(v) = t.get("custom") else { return };
        let Some(items) = v.as_array() else {
            self.err("roles.custom".into(), format!("expected an array of role names, found {}", v.type_str()));
            return;
        };
        for (i, item) in items.iter().enumerate() {
            let path = format!("roles.custom[{i}]");
            match item.as_str() {
                Some(name) if is_kebab(name) && !crate::role::BUILT_IN.contains(&name) => {
                    policy.custom_roles.push(name.to_string())
                }
                Some(name) if crate::role::BUILT_IN.contains(&name) => self.err(path, format!("{name:?} is built in")),
                _ => self.err(path, "expected a kebab-case name like \"security-lead\""),
            }
        }
    }

    fn checklists(&mut self, t: &Table, policy: &mut Policy) {
        self.only_keys(t, "checklists", &["detection", "triage", "resolution", "post_incident"]);
        for (key, phase) in [
            ("detection", Phase::Detection),
            ("triage", Phase::Triage),
            ("resolution", Phase::Resolution),
            ("post_incident", Phase::PostIncident),
        ] {
            let Some(v) = t.get(key) else { continue };
            let path = format!("checklists.{key}");
            let Some(items) = v.as_array() else {
                self.err(path, "expected an array of { id = \"...\", text = \"...\" }");
                continue;
            };
            let mut replacement = Vec::new();
            for (i, item) in items.iter().enumerate() {
                let ipath = format!("{path}[{i}]");
                let Some(it) = item.as_table() else {
                    self.err(ipath, "expected a table { id = \"...\", text = \"...\" }");
                    continue;
                };
                self.only_keys(it, &ipath, &["id", "text"]);
                let id = self.string(it, &ipath, "id");
                let text = self.string(it, &ipath, "text");
                match (id, text) {
                    (Some(id), Some(text)) if is_kebab(&id) && !text.trim().is_empty() => {
                        if replacement.iter().any(|r: &ChecklistTemplate| r.id == id) {
                            self.err(join(&ipath, "id"), format!("duplicate item id {id:?}"));
                        }
                        replacement.push(ChecklistTemplate { phase, id, text });
                    }
                    (Some(id), Some(_)) if !is_kebab(&id) => {
                        self.err(join(&ipath, "id"), "expected a kebab-case id like \"root-cause-identified\"")
                    }
                    (Some(_), Some(_)) => self.err(join(&ipath, "text"), "must not be empty"),
                    (None, _) if !it.contains_key("id") => self.err(join(&ipath, "id"), "is required"),
                    (_, None) if !it.contains_key("text") => self.err(join(&ipath, "text"), "is required"),
                    _ => {}
                }
            }
            policy.checklist.retain(|c| c.phase != phase);
            policy.checklist.extend(replacement);
        }
        policy.checklist.sort_by_key(|c| c.phase);
    }
}

fn is_kebab(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// A commented example of every setting with its default, for `sevwatch config default`.
pub fn default_toml() -> String {
    let p = Policy::default();
    let mut out = String::from(
        "# sevwatch.toml: every key is optional; the values below are the defaults.\n\n\
         [server]\n\
         # listen = \"127.0.0.1:8080\"\n\
         # data_dir = \"./sevwatch-data\"\n\
         # database_url = \"postgres://user@127.0.0.1:5432/sevwatch\"   # leave out for the embedded SQLite file\n\
         # max_body_bytes = 1048576\n\
         # header_timeout = \"10s\"   # from accept (or a later request's first byte) to the end of its headers\n\
         # body_timeout = \"30s\"     # from the end of the headers to the end of the body\n\
         # idle_timeout = \"1m\"      # a kept-alive connection waiting for its next request\n\
         # max_connections = 2048   # beyond it: 503 with Retry-After (GET /healthz still answered)\n\n\
         # Severity levels: targets are durations (\"90s\", \"15m\", \"4h\", \"1d\", \"1w\") or\n\
         # \"next-business-day\"; update_every may be \"as-needed\".\n",
    );
    for s in Severity::ALL {
        let l = p.level(s);
        let opt = |d: Option<Duration>| d.map(|d| d.to_string()).unwrap_or_else(|| "as-needed".into());
        out.push_str(&format!(
            "[severity.{s}]\nname = {:?}\ndescription = {:?}\nresponse_target = \"{}\"\nresolution_target = \"{}\"\nupdate_every = \"{}\"\npage = {:?}\npostmortem_required = {}\n",
            l.name,
            l.description,
            l.response_target,
            l.resolution_target,
            opt(l.update_every),
            l.page,
            l.postmortem_required
        ));
        if let Some(d) = l.postmortem_schedule_within {
            out.push_str(&format!("postmortem_schedule_within = \"{d}\"\n"));
        }
        if let Some(d) = l.postmortem_complete_within {
            out.push_str(&format!("postmortem_complete_within = \"{d}\"\n"));
        }
        out.push('\n');
    }
    out.push_str(
        "# Other scales mapped onto P0-P4 (case-insensitive). These are added to the defaults.\n[severity.aliases]\n",
    );
    let by_level: BTreeMap<&String, &Severity> = p.aliases.iter().collect();
    for (alias, sev) in by_level {
        out.push_str(&format!("{alias} = \"{sev}\"\n"));
    }
    out.push_str("\n[roles]\n# Built in: commander, tech-lead, comms-lead, scribe.\ncustom = []\n\n");
    out.push_str(
        "# Runbook steps run on the responder's machine through the CLI unless the server may run them.\n\
         [runbooks]\nexecute_on_server = false\n# workdir = \"/srv/ops\"\ntimeout = \"1m\"\n\n",
    );
    out.push_str(
        "# Alerts in: severity from labels, grouping, auto-resolve, routes and maintenance windows.\n\
         [alerts]\n\
         severity_labels = [\"severity\", \"priority\", \"level\"]\n\
         default_severity = \"P2\"\n\
         auto_resolve_after = \"10m\"\n\
         flap_changes = 4\n\
         flap_window = \"10m\"\n\
         group_by = [\"alertname\"]\n\
         # [[alerts.routes]]\n\
         # matchers = ['team=\"db\"']\n\
         # service = \"database\"\n\
         # [[alerts.maintenance]]\n\
         # service = \"database\"\n\
         # every = \"weekly\"\n\
         # days = [\"sun\"]\n\
         # at = \"02:00\"\n\
         # duration = \"2h\"\n\
         # timezone = \"Europe/Berlin\"\n\n\
         # On-call: [[users]], [[schedules]] and [[escalation_policies]] replace the defaults by id\n\
         # (a `default` schedule with primary and secondary layers, policies p0-p4); see README.md.\n\n",
    );
    out.push_str("# Each phase listed here replaces that phase's default items.\n[checklists]\n");
    for (key, phase) in [
        ("detection", Phase::Detection),
        ("triage", Phase::Triage),
        ("resolution", Phase::Resolution),
        ("post_incident", Phase::PostIncident),
    ] {
        out.push_str(&format!("{key} = [\n"));
        for c in p.checklist.iter().filter(|c| c.phase == phase) {
            out.push_str(&format!("  {{ id = {:?}, text = {:?} }},\n", c.id, c.text));
        }
        out.push_str("]\n");
    }
    out
}

#[cfg(test)]
mod tests;
