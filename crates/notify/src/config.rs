//! The notification part of `sevwatch.toml`: `[[channels]]`, `[[channel_routes]]` and
//! `templates_dir`, parsed and validated once into typed settings. Like the core's config,
//! parsing walks everything and reports every problem with its key path
//! (`channels[2].port: expected an integer ...`) instead of stopping at the first.
//!
//! ```toml
//! templates_dir = "/etc/sevwatch/templates"
//!
//! [[channels]]
//! name = "#incident-critical"
//! kind = "slack"                      # slack | discord | webhook | email | pagerduty
//! url = "https://hooks.slack.com/services/..."
//! timeout = "10s"
//!
//! [[channels]]
//! name = "ops-mail"
//! kind = "email"
//! host = "smtp.example.com"
//! port = 587                          # default 587 with starttls, 25 without
//! tls = "starttls"                    # or "none" for a local relay
//! from = "sevwatch@example.com"
//! to = ["oncall@example.com"]
//! username = "sevwatch"
//! password = "..."
//!
//! [[channel_routes]]
//! severities = ["P0", "P1"]          # empty or absent: any
//! services = ["payments"]            # empty or absent: any
//! channel = "ops-mail"
//!
//! [outbox]
//! max_attempts = 8                    # then the message is dead-lettered
//! backoff = "10s"                     # first retry; doubles each time (with jitter)
//! max_backoff = "10m"
//! contact_webhook_secret = "..."      # signs messages to users' own webhook contacts
//! contact_timeout = "10s"
//! concurrency = 32                    # deliveries in flight at once
//! allow_networks = ["10.0.0.0/8"]     # non-public networks deliveries may reach (default none)
//! ```
//!
//! The settings themselves (and how secrets are kept out of `Debug`) are in [`crate::settings`].

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

use sevwatch_core::{ConfigProblem, Severity};
use toml::{Table, Value};

use crate::route::ChannelRoute;
pub use crate::settings::{
    ChannelConfig, ChannelKind, EmailConfig, NotifyConfig, OutboxSettings, Secret, SmtpTls, DEFAULT_TIMEOUT,
    PAGERDUTY_EVENTS_URL,
};

const CHANNEL_KEYS: &[&str] = &[
    "name",
    "kind",
    "url",
    "secret",
    "host",
    "port",
    "tls",
    "from",
    "to",
    "username",
    "password",
    "routing_key",
    "timeout",
];

/// Keys each kind uses besides `name`, `kind` and `timeout`.
fn keys_of(kind: &str) -> &'static [&'static str] {
    match kind {
        "slack" | "discord" => &["url"],
        "webhook" => &["url", "secret"],
        "email" => &["host", "port", "tls", "from", "to", "username", "password"],
        "pagerduty" => &["url", "routing_key"],
        _ => &[],
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

struct Check<'a> {
    problems: &'a mut Vec<ConfigProblem>,
}

impl Check<'_> {
    fn err(&mut self, path: String, message: impl Into<String>) {
        self.problems.push(ConfigProblem { path, message: message.into() });
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

    fn required(&mut self, t: &Table, path: &str, key: &str, kind: &str) -> Option<String> {
        match self.string(t, path, key) {
            Some(s) if s.trim().is_empty() => {
                self.err(join(path, key), "must not be empty");
                None
            }
            Some(s) => Some(s),
            None if t.contains_key(key) => None,
            None => {
                self.err(join(path, key), format!("required for kind = \"{kind}\""));
                None
            }
        }
    }

    fn url(&mut self, t: &Table, path: &str, key: &str, kind: &str) -> Option<String> {
        let u = self.required(t, path, key, kind)?;
        if !(u.starts_with("https://") || u.starts_with("http://")) {
            self.err(join(path, key), "expected an http:// or https:// URL");
            return None;
        }
        Some(u)
    }

    fn strings(&mut self, t: &Table, path: &str, key: &str) -> Option<Vec<String>> {
        match t.get(key)? {
            Value::String(s) => Some(vec![s.clone()]),
            Value::Array(items) => {
                let mut out = Vec::new();
                for (i, v) in items.iter().enumerate() {
                    match v {
                        Value::String(s) => out.push(s.clone()),
                        other => self.err(
                            format!("{}[{i}]", join(path, key)),
                            format!("expected a string, found {}", other.type_str()),
                        ),
                    }
                }
                Some(out)
            }
            other => {
                self.err(
                    join(path, key),
                    format!("expected a string or a list of strings, found {}", other.type_str()),
                );
                None
            }
        }
    }

    fn tables<'t>(&mut self, t: &'t Table, key: &str) -> Vec<(String, &'t Table)> {
        match t.get(key) {
            None => Vec::new(),
            Some(Value::Array(items)) => {
                let mut out = Vec::new();
                for (i, v) in items.iter().enumerate() {
                    let path = format!("{key}[{i}]");
                    match v {
                        Value::Table(inner) => out.push((path, inner)),
                        other => self.err(path, format!("expected a table, found {}", other.type_str())),
                    }
                }
                out
            }
            Some(other) => {
                self.err(
                    key.to_string(),
                    format!("expected an array of tables ([[{key}]]), found {}", other.type_str()),
                );
                Vec::new()
            }
        }
    }

    /// A positive duration (`10s`, `5m`).
    fn duration(&mut self, t: &Table, path: &str, key: &str) -> Option<Duration> {
        let s = self.string(t, path, key)?;
        match s.parse::<sevwatch_core::Duration>() {
            Ok(d) if d.as_millis() > 0 => Some(Duration::from_millis(d.as_millis().unsigned_abs())),
            Ok(_) => {
                self.err(join(path, key), "must be longer than zero");
                None
            }
            Err(e) => {
                self.err(join(path, key), e.to_string());
                None
            }
        }
    }

    fn positive(&mut self, t: &Table, path: &str, key: &str, max: i64) -> Option<i64> {
        match t.get(key)? {
            Value::Integer(n) if (1..=max).contains(n) => Some(*n),
            Value::Integer(n) => {
                self.err(join(path, key), format!("{n} is out of range (1 to {max})"));
                None
            }
            other => {
                self.err(join(path, key), format!("expected an integer, found {}", other.type_str()));
                None
            }
        }
    }

    fn outbox(&mut self, t: &Table, path: &str) -> OutboxSettings {
        const KEYS: &[&str] = &[
            "max_attempts",
            "backoff",
            "max_backoff",
            "contact_webhook_secret",
            "contact_timeout",
            "concurrency",
            "allow_networks",
        ];
        for k in t.keys() {
            if !KEYS.contains(&k.as_str()) {
                self.err(join(path, k), format!("unknown key (expected one of: {})", KEYS.join(", ")));
            }
        }
        let mut o = OutboxSettings::default();
        if let Some(n) = self.positive(t, path, "max_attempts", 100) {
            o.retry.max_attempts = n as u32;
        }
        if let Some(d) = self.duration(t, path, "backoff") {
            o.retry.base = d;
        }
        if let Some(d) = self.duration(t, path, "max_backoff") {
            o.retry.max = d;
        }
        if o.retry.max < o.retry.base {
            self.err(join(path, "max_backoff"), "must not be shorter than backoff");
        }
        if let Some(s) = self.string(t, path, "contact_webhook_secret") {
            o.contact_webhook_secret = Secret::new(s);
        }
        if let Some(d) = self.duration(t, path, "contact_timeout") {
            o.contact_timeout = d;
        }
        if let Some(n) = self.positive(t, path, "concurrency", 1024) {
            o.concurrency = n as usize;
        }
        match t.get("allow_networks") {
            None => {}
            Some(Value::Array(items)) => {
                for (i, item) in items.iter().enumerate() {
                    let at = format!("{}[{i}]", join(path, "allow_networks"));
                    match item.as_str().map(str::parse::<crate::Network>) {
                        Some(Ok(n)) => o.allow_networks.push(n),
                        Some(Err(e)) => self.err(at, e),
                        None => self.err(at, "expected a string such as \"10.0.0.0/8\""),
                    }
                }
            }
            Some(other) => self.err(
                join(path, "allow_networks"),
                format!("expected a list of networks such as [\"10.0.0.0/8\"], found {}", other.type_str()),
            ),
        }
        o
    }

    fn channel(&mut self, t: &Table, path: &str) -> Option<ChannelConfig> {
        for k in t.keys() {
            if !CHANNEL_KEYS.contains(&k.as_str()) {
                self.err(join(path, k), format!("unknown key (expected one of: {})", CHANNEL_KEYS.join(", ")));
            }
        }
        let name = self.string(t, path, "name");
        if name.is_none() && !t.contains_key("name") {
            self.err(join(path, "name"), "required");
        }
        let kind = self.string(t, path, "kind");
        let kind = match kind.as_deref() {
            Some(k @ ("slack" | "discord" | "webhook" | "email" | "pagerduty")) => k.to_string(),
            Some(other) => {
                self.err(
                    join(path, "kind"),
                    format!("unknown kind {other:?} (expected slack, discord, webhook, email or pagerduty)"),
                );
                return None;
            }
            None => {
                if !t.contains_key("kind") {
                    self.err(join(path, "kind"), "required (slack, discord, webhook, email or pagerduty)");
                }
                return None;
            }
        };
        for k in t.keys() {
            let common = ["name", "kind", "timeout"].contains(&k.as_str());
            if CHANNEL_KEYS.contains(&k.as_str()) && !common && !keys_of(&kind).contains(&k.as_str()) {
                self.err(join(path, k), format!("not used by kind = \"{kind}\""));
            }
        }
        let timeout = if t.contains_key("timeout") { self.duration(t, path, "timeout") } else { Some(DEFAULT_TIMEOUT) };
        let kind = match kind.as_str() {
            "slack" => self.url(t, path, "url", &kind).map(|u| ChannelKind::Slack { url: Secret::new(u) }),
            "discord" => self.url(t, path, "url", &kind).map(|u| ChannelKind::Discord { url: Secret::new(u) }),
            "webhook" => {
                let url = self.url(t, path, "url", &kind);
                let secret = self.required(t, path, "secret", &kind);
                url.zip(secret).map(|(u, s)| ChannelKind::Webhook { url: Secret::new(u), secret: Secret::new(s) })
            }
            "pagerduty" => {
                let url = if t.contains_key("url") {
                    self.url(t, path, "url", &kind)
                } else {
                    Some(PAGERDUTY_EVENTS_URL.to_string())
                };
                let key = self.required(t, path, "routing_key", &kind);
                url.zip(key).map(|(url, k)| ChannelKind::PagerDuty { url, routing_key: Secret::new(k) })
            }
            _ => self.email(t, path).map(ChannelKind::Email),
        };
        Some(ChannelConfig { name: name?, kind: kind?, timeout: timeout? })
    }

    fn email(&mut self, t: &Table, path: &str) -> Option<EmailConfig> {
        let host = self.required(t, path, "host", "email");
        let tls = match self.string(t, path, "tls").as_deref() {
            None | Some("starttls") => Some(SmtpTls::StartTls),
            Some("none") => Some(SmtpTls::None),
            Some(other) => {
                self.err(join(path, "tls"), format!("unknown value {other:?} (expected \"starttls\" or \"none\")"));
                None
            }
        };
        let port = match t.get("port") {
            None => tls.map(|tls| if tls == SmtpTls::StartTls { 587 } else { 25 }),
            Some(Value::Integer(p)) => match u16::try_from(*p) {
                Ok(p) if p > 0 => Some(p),
                _ => {
                    self.err(join(path, "port"), format!("{p} is not a port number (1-65535)"));
                    None
                }
            },
            Some(other) => {
                self.err(join(path, "port"), format!("expected an integer, found {}", other.type_str()));
                None
            }
        };
        let from = self.required(t, path, "from", "email").filter(|f| self.address(path, "from", f));
        let to = match self.strings(t, path, "to") {
            Some(list) if list.is_empty() => {
                self.err(join(path, "to"), "must name at least one recipient");
                None
            }
            Some(list) => {
                let ok = list.iter().enumerate().all(|(i, a)| self.address(path, &format!("to[{i}]"), a));
                Some(list).filter(|_| ok)
            }
            None => {
                if !t.contains_key("to") {
                    self.err(join(path, "to"), "required for kind = \"email\"");
                }
                None
            }
        };
        let username = self.string(t, path, "username");
        let password = self.string(t, path, "password").map(Secret::new);
        if username.is_some() != password.is_some() {
            self.err(join(path, "password"), "username and password go together");
        }
        Some(EmailConfig { host: host?, port: port?, tls: tls?, from: from?, to: to?, username, password })
    }

    /// Addresses are checked now, so a typo is a start-up error and not a dead letter later.
    fn address(&mut self, path: &str, key: &str, a: &str) -> bool {
        match a.parse::<lettre::message::Mailbox>() {
            Ok(_) => true,
            Err(e) => {
                self.err(join(path, key), format!("{a:?} is not an email address: {e}"));
                false
            }
        }
    }

    fn route(&mut self, t: &Table, path: &str) -> Option<ChannelRoute> {
        for k in t.keys() {
            if !["severities", "services", "channel"].contains(&k.as_str()) {
                self.err(join(path, k), "unknown key (expected one of: severities, services, channel)");
            }
        }
        let mut severities = Vec::new();
        for (i, s) in self.strings(t, path, "severities").unwrap_or_default().iter().enumerate() {
            match s.parse::<Severity>() {
                Ok(sev) => severities.push(sev),
                Err(()) => self.err(
                    format!("{}[{i}]", join(path, "severities")),
                    format!("unknown severity {s:?} (expected P0-P4)"),
                ),
            }
        }
        let services = self.strings(t, path, "services").unwrap_or_default();
        let channel = self.string(t, path, "channel");
        if channel.is_none() && !t.contains_key("channel") {
            self.err(join(path, "channel"), "required: the name of a [[channels]] entry");
        }
        Some(ChannelRoute { severities, services, channel: channel? })
    }
}

/// Read the notification keys of `t` (the root table, or a section: `path` is its key path).
/// Keys other than `channels`, `channel_routes`, `outbox` and `templates_dir` are left to the caller.
pub fn parse(t: &Table, path: &str, problems: &mut Vec<ConfigProblem>) -> NotifyConfig {
    let mut c = Check { problems };
    let mut cfg = NotifyConfig::default();
    let prefixed = |p: String| if path.is_empty() { p } else { format!("{path}.{p}") };
    let mut names = BTreeSet::new();
    for (p, ch) in c.tables(t, "channels") {
        let p = prefixed(p);
        // Names are collected even from channels with other mistakes, so one typo does not
        // also surface as "no channel named ..." in every route that uses it.
        if let Some(name) = ch.get("name").and_then(Value::as_str) {
            if !names.insert(name.to_string()) {
                c.err(join(&p, "name"), format!("channel {name:?} is defined twice"));
            }
        }
        if let Some(ch) = c.channel(ch, &p) {
            cfg.channels.push(ch);
        }
    }
    if t.contains_key("channel_routes") {
        cfg.routes.clear();
        for (p, rt) in c.tables(t, "channel_routes") {
            let p = prefixed(p);
            if let Some(r) = c.route(rt, &p) {
                if !names.contains(&r.channel) {
                    let known: Vec<&str> = names.iter().map(String::as_str).collect();
                    c.err(
                        join(&p, "channel"),
                        format!("no channel named {:?} (channels: {})", r.channel, known.join(", ")),
                    );
                }
                cfg.routes.push(r);
            }
        }
    }
    match t.get("outbox") {
        Some(Value::Table(o)) => cfg.outbox = c.outbox(o, &prefixed("outbox".into())),
        Some(other) => c.err(prefixed("outbox".into()), format!("expected a table, found {}", other.type_str())),
        None => {}
    }
    if let Some(dir) = c.string(t, path, "templates_dir") {
        let dir = PathBuf::from(dir);
        if !dir.is_dir() {
            c.err(join(path, "templates_dir"), format!("{} is not a directory", dir.display()));
        } else if let Err(e) = crate::Templates::load(Some(&dir)) {
            // A broken override is found at start-up, not when the first incident needs it.
            c.err(join(path, "templates_dir"), e.to_string());
        }
        cfg.templates_dir = Some(dir);
    }
    cfg
}

/// A whole `sevwatch.toml`: the core's settings plus the notification ones, every problem of
/// both reported together.
pub fn parse_all(text: &str) -> Result<(sevwatch_core::Config, NotifyConfig), Vec<ConfigProblem>> {
    let core = sevwatch_core::Config::from_toml_str(text);
    let mut problems = Vec::new();
    let notify = match text.parse::<Table>() {
        Ok(root) => parse(&root, "", &mut problems),
        // The core reports the syntax error.
        Err(_) => NotifyConfig::default(),
    };
    match core {
        Ok(c) if problems.is_empty() => Ok((c, notify)),
        Ok(_) => Err(problems),
        Err(mut p) => {
            p.extend(problems);
            Err(p)
        }
    }
}
