//! The `[server]` table: where the server listens and keeps its data, and the limits that keep
//! one slow or greedy client from starving the rest.

use std::fmt;

use super::check::Check;
use crate::Duration;

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
    /// From the end of the headers (or from its turn, when it waited for one) to the end of the
    /// body, when a handler reads the body.
    pub body_timeout: Duration,
    /// How long a kept-alive connection may wait for its next request.
    pub idle_timeout: Duration,
    /// Connections served at once; more are refused with a 503.
    pub max_connections: usize,
    /// Large request bodies read and handled at once (a body under 32 KiB takes a sixteenth of
    /// a turn per started 2 KiB); more wait (up to `body_timeout`) for a turn.
    pub max_bodies_in_flight: usize,
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
            max_bodies_in_flight: 8,
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
            .field("max_bodies_in_flight", &self.max_bodies_in_flight)
            .finish()
    }
}

/// The `[server]` table; a key left out or refused keeps its default.
pub(super) fn read(c: &Check<'_>) -> ServerConfig {
    c.known_keys(&[
        "listen",
        "data_dir",
        "database_url",
        "max_body_bytes",
        "header_timeout",
        "body_timeout",
        "idle_timeout",
        "max_connections",
        "max_bodies_in_flight",
    ]);
    let listen = c.parsed("listen", |v| {
        v.parse::<std::net::SocketAddr>()
            .map(|_| v.to_string())
            .map_err(|_| format!("{v:?} is not an address like 127.0.0.1:8080"))
    });
    let database_url = c.parsed("database_url", |v| {
        if v.starts_with("postgres://") || v.starts_with("postgresql://") {
            Ok(v.to_string())
        } else {
            Err("expected a postgres:// URL (leave it out to use the embedded SQLite file)".into())
        }
    });
    let mut s = ServerConfig { listen, data_dir: c.line("data_dir"), database_url, ..ServerConfig::default() };
    if let Some(n) = c.integer("max_body_bytes", 1024..=256 * 1024 * 1024) {
        s.max_body_bytes = usize::try_from(n).expect("bounded by the range above");
    }
    // A zero timeout would cut every connection; more than an hour protects nothing.
    for (key, slot) in [
        ("header_timeout", &mut s.header_timeout),
        ("body_timeout", &mut s.body_timeout),
        ("idle_timeout", &mut s.idle_timeout),
    ] {
        if let Some(d) = c.positive_duration_up_to(key, Duration::from_hours(1)) {
            *slot = d;
        }
    }
    if let Some(n) = c.integer("max_connections", 1..=1_000_000) {
        s.max_connections = usize::try_from(n).expect("bounded by the range above");
    }
    if let Some(n) = c.integer("max_bodies_in_flight", 1..=65_536) {
        s.max_bodies_in_flight = usize::try_from(n).expect("bounded by the range above");
    }
    s
}
