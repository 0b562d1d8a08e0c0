//! The typed notification settings that [`crate::config::parse`] produces and the channels
//! consume: channels of each kind, routes, the templates directory. Secrets are [`Secret`]s,
//! so no `Debug` output (a log line, a panic message) ever shows one. Slack and Discord
//! webhook URLs are secrets too: whoever has the URL can post to the channel.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use crate::delivery::RetryPolicy;
use crate::route::{default_routes, ChannelRoute};

pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
pub const PAGERDUTY_EVENTS_URL: &str = "https://events.pagerduty.com/v2/enqueue";

/// A string that must not be logged. `Debug` prints `<hidden>`; read it with [`Secret::expose`].
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<hidden>")
    }
}

/// How the SMTP connection is protected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmtpTls {
    /// Plain connection upgraded with STARTTLS; refused if the server does not offer it.
    StartTls,
    /// No encryption, for a relay on the same machine or network.
    None,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EmailConfig {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    pub from: String,
    pub to: Vec<String>,
    pub username: Option<String>,
    pub password: Option<Secret>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChannelKind {
    Slack { url: Secret },
    Discord { url: Secret },
    Webhook { url: Secret, secret: Secret },
    Email(EmailConfig),
    PagerDuty { url: String, routing_key: Secret },
}

impl ChannelKind {
    pub fn name(&self) -> &'static str {
        match self {
            ChannelKind::Slack { .. } => "slack",
            ChannelKind::Discord { .. } => "discord",
            ChannelKind::Webhook { .. } => "webhook",
            ChannelKind::Email(_) => "email",
            ChannelKind::PagerDuty { .. } => "pagerduty",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChannelConfig {
    pub name: String,
    pub kind: ChannelKind,
    /// The longest one delivery may take, connection included.
    pub timeout: Duration,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotifyConfig {
    pub channels: Vec<ChannelConfig>,
    /// The runbooks' routes ([`default_routes`]) unless `[[channel_routes]]` is given.
    pub routes: Vec<ChannelRoute>,
    pub templates_dir: Option<PathBuf>,
    pub outbox: OutboxSettings,
}

/// `[outbox]`: how deliveries are retried, and how messages to people's own endpoints go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboxSettings {
    pub retry: RetryPolicy,
    /// Signs messages to users' `webhook` contacts (channels have their own secret). Empty
    /// unless configured: the signature is then only a checksum.
    pub contact_webhook_secret: Secret,
    /// How long a user's Slack, Discord or webhook contact may take to answer.
    pub contact_timeout: Duration,
    /// Deliveries in flight at once per process.
    pub concurrency: usize,
    /// Non-public networks (loopback, private, link-local) that deliveries may reach anyway.
    pub allow_networks: Vec<crate::Network>,
}

impl OutboxSettings {
    /// The delivery rule these settings make.
    pub fn destinations(&self) -> crate::Destinations {
        crate::Destinations::allowing(self.allow_networks.clone())
    }
}

impl Default for OutboxSettings {
    fn default() -> Self {
        OutboxSettings {
            retry: RetryPolicy::default(),
            contact_webhook_secret: Secret::new(""),
            contact_timeout: DEFAULT_TIMEOUT,
            concurrency: 32,
            allow_networks: Vec::new(),
        }
    }
}

impl Default for NotifyConfig {
    fn default() -> Self {
        NotifyConfig {
            channels: Vec::new(),
            routes: default_routes(),
            templates_dir: None,
            outbox: OutboxSettings::default(),
        }
    }
}

impl NotifyConfig {
    pub fn channel(&self, name: &str) -> Option<&ChannelConfig> {
        self.channels.iter().find(|c| c.name == name)
    }
}
