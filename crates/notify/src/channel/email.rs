//! Email over SMTP with lettre: one plain-text message per notification, to every configured
//! recipient, over STARTTLS (required: a server that does not offer it gets nothing, rather
//! than the message in clear text) or, for a relay on the same machine, unencrypted.
//!
//! SMTP answers map onto the retry contract like HTTP statuses do: a 4xx reply (mailbox busy,
//! greylisting) is retried, a 5xx reply (no such user, relay denied) fails, and so does a TLS
//! problem, which retrying cannot fix; no answer at all (refused, reset, timed out) is retried.

use std::time::Duration;

use lettre::message::{header::ContentType, Mailbox};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::Notification;
use crate::config::{EmailConfig, SmtpTls};
use crate::delivery::{error_chain, Delivery};

fn fail(error: String) -> Delivery {
    Delivery::Fail { error, status: None }
}

/// The message for `n`, or why it cannot be built (a bad address: also checked by the config).
pub fn message(cfg: &EmailConfig, n: &Notification) -> Result<Message, String> {
    let from: Mailbox = cfg.from.parse().map_err(|e| format!("from {:?}: {e}", cfg.from))?;
    let mut b = Message::builder()
        .from(from)
        .subject(n.subject.clone())
        // Threads every message about one incident together in mail clients.
        .references(format!("<{}@sevwatch>", n.incident_id.to_ascii_lowercase()))
        .header(ContentType::TEXT_PLAIN);
    for to in &cfg.to {
        b = b.to(to.parse::<Mailbox>().map_err(|e| format!("to {to:?}: {e}"))?);
    }
    let mut text = n.body.clone();
    if let Some(link) = &n.link {
        text.push_str(&format!("\n\n{link}\n"));
    }
    b.body(text).map_err(|e| format!("cannot build the message: {e}"))
}

fn transport(cfg: &EmailConfig, timeout: Duration) -> Result<AsyncSmtpTransport<Tokio1Executor>, String> {
    let builder = match cfg.tls {
        SmtpTls::StartTls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&cfg.host)
            .map_err(|e| format!("TLS setup for {}: {}", cfg.host, error_chain(&e)))?,
        SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&cfg.host),
    };
    let mut builder = builder.port(cfg.port).timeout(Some(timeout));
    if let (Some(user), Some(pass)) = (&cfg.username, &cfg.password) {
        builder = builder.credentials(Credentials::new(user.clone(), pass.expose().to_string()));
    }
    Ok(builder.build())
}

/// Send one message; the whole exchange is bounded by `timeout`.
pub async fn send(cfg: &EmailConfig, n: &Notification, timeout: Duration) -> Delivery {
    let msg = match message(cfg, n) {
        Ok(m) => m,
        Err(e) => return fail(e),
    };
    let smtp = match transport(cfg, timeout) {
        Ok(t) => t,
        Err(e) => return fail(e),
    };
    // lettre's timeout applies per read or write; the outer one bounds the whole conversation.
    let result = match tokio::time::timeout(timeout, smtp.send(msg)).await {
        Ok(r) => r,
        Err(_) => {
            return Delivery::Retry {
                after: None,
                error: format!("timed out after {timeout:?} talking to {}:{}", cfg.host, cfg.port),
                status: None,
            }
        }
    };
    match result {
        Ok(_) => Delivery::Ok,
        Err(e) => classify(&e),
    }
}

fn classify(e: &lettre::transport::smtp::Error) -> Delivery {
    let status = e.status().and_then(|c| c.to_string().parse::<u16>().ok());
    let error = format!("SMTP: {}", error_chain(e));
    if e.is_permanent() || e.is_tls() {
        Delivery::Fail { error, status }
    } else if e.is_client() {
        // Raised by lettre itself, e.g. STARTTLS required but not offered: a configuration
        // mismatch that a retry would only repeat.
        Delivery::Fail { error, status }
    } else {
        Delivery::Retry { after: None, error, status }
    }
}
