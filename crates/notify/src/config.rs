//! The notification part of `sevwatch.toml`: `[[channels]]`, `[[channel_routes]]` and
//! `templates_dir`, parsed and validated once into typed settings. They are read with the
//! core's one checker (`sevwatch_core::config::check`), as every other section is, so parsing
//! walks everything and reports every problem with its key path
//! (`channels[2].port: expected an integer ...`) instead of stopping at the first, and refuses
//! blank strings the same way.
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

use sevwatch_core::config::check::{walk, Check};
use sevwatch_core::{ConfigProblem, Severity};
use toml::Table;

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

/// What `kind = "..."` may say.
const KINDS: [&str; 5] = ["slack", "discord", "webhook", "email", "pagerduty"];

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

/// Read the notification keys of `t` (the root table, or a section: `path` is its key path).
/// Keys other than `channels`, `channel_routes`, `outbox` and `templates_dir` are left to the caller.
pub fn parse(t: &Table, path: &str, problems: &mut Vec<ConfigProblem>) -> NotifyConfig {
    walk(t, path, problems, read)
}

fn read(c: &Check<'_>) -> NotifyConfig {
    let mut cfg = NotifyConfig::default();
    let mut names = BTreeSet::new();
    for ch in c.tables("channels") {
        ch.required("name", "");
        let name = ch.line("name");
        // Names are collected even from channels with other mistakes, so one typo does not
        // also surface as "no channel named ..." in every route that uses it.
        if let Some(name) = name.as_ref().filter(|n| !names.insert(n.to_string())) {
            ch.report("name", format!("channel {name:?} is defined twice"));
        }
        cfg.channels.extend(channel(&ch, name));
    }
    if c.has("channel_routes") {
        cfg.routes.clear();
        for rc in c.tables("channel_routes") {
            let Some(r) = route(&rc) else { continue };
            if !names.contains(&r.channel) {
                let known: Vec<&str> = names.iter().map(String::as_str).collect();
                rc.report("channel", format!("no channel named {:?} (channels: {})", r.channel, known.join(", ")));
            }
            cfg.routes.push(r);
        }
    }
    if let Some(oc) = c.table("outbox") {
        cfg.outbox = outbox(&oc);
    }
    if let Some(dir) = c.line("templates_dir").map(PathBuf::from) {
        if !dir.is_dir() {
            c.report("templates_dir", format!("{} is not a directory", dir.display()));
        } else if let Err(e) = crate::Templates::load(Some(&dir)) {
            // A broken override is found at start-up, not when the first incident needs it.
            c.report("templates_dir", e.to_string());
        }
        cfg.templates_dir = Some(dir);
    }
    cfg
}

/// A positive duration (`10s`, `5m`) as the standard library's type, which the senders use.
fn duration(c: &Check<'_>, key: &str) -> Option<Duration> {
    c.positive_duration(key).map(|d| Duration::from_millis(d.as_millis().unsigned_abs()))
}

fn outbox(c: &Check<'_>) -> OutboxSettings {
    c.known_keys(&[
        "max_attempts",
        "backoff",
        "max_backoff",
        "contact_webhook_secret",
        "contact_timeout",
        "concurrency",
        "allow_networks",
    ]);
    let mut o = OutboxSettings::default();
    if let Some(n) = c.integer("max_attempts", 1..=100) {
        o.retry.max_attempts = u32::try_from(n).expect("bounded by the range above");
    }
    if let Some(d) = duration(c, "backoff") {
        o.retry.base = d;
    }
    if let Some(d) = duration(c, "max_backoff") {
        o.retry.max = d;
    }
    if o.retry.max < o.retry.base {
        c.report("max_backoff", "must not be shorter than backoff");
    }
    if let Some(s) = c.line("contact_webhook_secret") {
        o.contact_webhook_secret = Secret::new(s);
    }
    if let Some(d) = duration(c, "contact_timeout") {
        o.contact_timeout = d;
    }
    if let Some(n) = c.integer("concurrency", 1..=1024) {
        o.concurrency = usize::try_from(n).expect("bounded by the range above");
    }
    if let Some(networks) = c.parsed_strings("allow_networks", |s| s.parse::<crate::Network>()) {
        o.allow_networks = networks;
    }
    o
}

/// A string the channel's kind cannot do without.
fn needed(c: &Check<'_>, key: &str, kind: &str) -> Option<String> {
    c.required(key, &format!("for kind = \"{kind}\""));
    c.line(key)
}

fn url(c: &Check<'_>, kind: &str) -> Option<String> {
    c.required("url", &format!("for kind = \"{kind}\""));
    c.parsed("url", |u| match u.starts_with("https://") || u.starts_with("http://") {
        true => Ok(u.to_string()),
        false => Err("expected an http:// or https:// URL".into()),
    })
}

fn channel(c: &Check<'_>, name: Option<String>) -> Option<ChannelConfig> {
    c.known_keys(CHANNEL_KEYS);
    c.required("kind", &format!("({})", KINDS.join(", ")));
    let kind = c.word("kind", &KINDS.map(|k| (k, k)))?;
    for k in c.keys() {
        let common = ["name", "kind", "timeout"].contains(&k);
        if CHANNEL_KEYS.contains(&k) && !common && !keys_of(kind).contains(&k) {
            c.report(k, format!("not used by kind = \"{kind}\""));
        }
    }
    let timeout = if c.has("timeout") { duration(c, "timeout") } else { Some(DEFAULT_TIMEOUT) };
    let kind = match kind {
        "slack" => url(c, kind).map(|u| ChannelKind::Slack { url: Secret::new(u) }),
        "discord" => url(c, kind).map(|u| ChannelKind::Discord { url: Secret::new(u) }),
        "webhook" => {
            let url = url(c, kind);
            let secret = needed(c, "secret", kind);
            url.zip(secret).map(|(u, s)| ChannelKind::Webhook { url: Secret::new(u), secret: Secret::new(s) })
        }
        "pagerduty" => {
            let url = if c.has("url") { url(c, kind) } else { Some(PAGERDUTY_EVENTS_URL.to_string()) };
            let key = needed(c, "routing_key", kind);
            url.zip(key).map(|(url, k)| ChannelKind::PagerDuty { url, routing_key: Secret::new(k) })
        }
        _ => email(c).map(ChannelKind::Email),
    };
    Some(ChannelConfig { name: name?, kind: kind?, timeout: timeout? })
}

fn email(c: &Check<'_>) -> Option<EmailConfig> {
    let host = needed(c, "host", "email");
    let tls = match c.has("tls") {
        true => c.word("tls", &[("starttls", SmtpTls::StartTls), ("none", SmtpTls::None)]),
        false => Some(SmtpTls::StartTls),
    };
    let port = match c.has("port") {
        true => c.integer("port", 1..=65535).map(|p| u16::try_from(p).expect("bounded by the range above")),
        false => tls.map(|tls| if tls == SmtpTls::StartTls { 587 } else { 25 }),
    };
    c.required("from", "for kind = \"email\"");
    let from = c.parsed("from", address);
    c.required("to", "for kind = \"email\"");
    c.at_least_one("to", "recipient");
    let to = c.parsed_strings_or_one("to", address).filter(|to| !to.is_empty());
    let username = c.line("username");
    let password = c.line("password").map(Secret::new);
    if c.has("username") != c.has("password") {
        c.report("password", "username and password go together");
    }
    Some(EmailConfig { host: host?, port: port?, tls: tls?, from: from?, to: to?, username, password })
}

/// Addresses are checked now, so a typo is a start-up error and not a dead letter later.
fn address(a: &str) -> Result<String, String> {
    match a.parse::<lettre::message::Mailbox>() {
        Ok(_) => Ok(a.to_string()),
        Err(e) => Err(format!("{a:?} is not an email address: {e}")),
    }
}

fn route(c: &Check<'_>) -> Option<ChannelRoute> {
    c.known_keys(&["severities", "services", "channel"]);
    let severities = c.parsed_strings_or_one("severities", |s| {
        s.parse::<Severity>().map_err(|()| format!("unknown severity {s:?} (expected P0-P4)"))
    });
    let services = c.parsed_strings_or_one("services", |s| Ok(s.to_string()));
    c.required("channel", "(the name of a [[channels]] entry)");
    let channel = c.line("channel");
    Some(ChannelRoute {
        severities: severities.unwrap_or_default(),
        services: services.unwrap_or_default(),
        channel: channel?,
    })
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
