//! Notification channels: one file per kind, each turning a [`Notification`] into the shape its
//! receiver expects and answering with a [`Delivery`] under the retry contract of
//! [`crate::delivery`]. [`Channel`] dispatches on the configured kind.
//!
//! Every delivery is bounded by the channel's timeout (connection, request and answer
//! together), so the outbox worker can run deliveries concurrently and a receiver that hangs
//! costs one timeout, never a stuck worker. HTTP redirects are not followed: a signed body or a
//! routing key must reach only the host that was configured.

pub mod discord;
pub mod email;
pub mod pagerduty;
pub mod slack;
pub mod webhook;

use std::sync::Arc;
use std::time::Duration;

use crate::destination::{Destinations, GuardedResolver};

use serde::{Deserialize, Serialize};
use sevwatch_core::{Incident, Severity, Status, Timestamp};

use crate::config::{ChannelConfig, ChannelKind};
use crate::delivery::{self, Delivery};
use crate::templates::Rendered;

/// One message about one incident, ready for any channel: the rendered text plus the facts
/// rich formats show as fields (Slack sections, Discord embed fields, PagerDuty details).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    /// `INC-42`; also PagerDuty's dedup key.
    pub incident_id: String,
    pub title: String,
    pub severity: Severity,
    pub status: Status,
    pub service: Option<String>,
    pub commander: Option<String>,
    /// Where a person can see the incident (the web UI), when Sevwatch knows its public URL.
    pub link: Option<String>,
    /// The template that produced the text (`status-update`): the webhook's event name.
    pub template: String,
    pub subject: String,
    pub body: String,
}

impl Notification {
    /// A notification about `inc` with text rendered from `template`. Without a `Subject:`
    /// line the subject is `[P1] INC-42: <title>`.
    pub fn new(inc: &Incident, template: &str, rendered: Rendered, link: Option<String>) -> Notification {
        let subject = rendered.subject.unwrap_or_else(|| format!("[{}] {}: {}", inc.severity, inc.id, inc.title));
        Notification {
            incident_id: inc.id.to_string(),
            title: inc.title.clone(),
            severity: inc.severity,
            status: inc.status,
            service: inc.service.clone(),
            commander: inc.roles.get("commander").cloned(),
            link,
            template: template.to_string(),
            subject,
            body: rendered.body,
        }
    }
}

/// The HTTP client every HTTP channel shares: rustls, no redirects, an identifying agent, and
/// the destination rule (see [`crate::destination`]) in its resolver and before each request.
#[derive(Clone, Debug)]
pub struct HttpClient {
    client: reqwest::Client,
    destinations: Arc<Destinations>,
}

pub fn http_client(destinations: Destinations) -> Result<HttpClient, reqwest::Error> {
    let destinations = Arc::new(destinations);
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("sevwatch-notify/", env!("CARGO_PKG_VERSION")))
        .dns_resolver(Arc::new(GuardedResolver(destinations.clone())))
        .build()?;
    Ok(HttpClient { client, destinations })
}

/// A configured channel, ready to deliver.
#[derive(Clone, Debug)]
pub struct Channel {
    config: ChannelConfig,
    http: HttpClient,
}

impl Channel {
    pub fn new(config: ChannelConfig, http: HttpClient) -> Channel {
        Channel { config, http }
    }

    pub fn name(&self) -> &str {
        &self.config.name
    }

    pub fn config(&self) -> &ChannelConfig {
        &self.config
    }

    /// Make one delivery attempt. `now` stamps signatures and message dates.
    pub async fn deliver(&self, n: &Notification, now: Timestamp) -> Delivery {
        let timeout = self.config.timeout;
        match &self.config.kind {
            ChannelKind::Slack { url } => post_json(&self.http, url.expose(), &slack::payload(n), &[], timeout).await,
            ChannelKind::Discord { url } => {
                post_json(&self.http, url.expose(), &discord::payload(n), &[], timeout).await
            }
            ChannelKind::Webhook { url, secret } => {
                let body = webhook::body(n, now);
                let headers = webhook::headers(secret.expose().as_bytes(), now, &body);
                post_raw(&self.http, url.expose(), body, &headers, timeout).await
            }
            ChannelKind::PagerDuty { url, routing_key } => {
                post_json(&self.http, url, &pagerduty::event(n, routing_key.expose()), &[], timeout).await
            }
            ChannelKind::Email(cfg) => email::send(cfg, n, timeout).await,
        }
    }
}

/// Deliver `n` on every channel at once and return each channel's name with its outcome, in
/// the order given. The attempts run concurrently, so the slowest channel costs its own
/// timeout and nothing more; one receiver hanging never delays another's message.
pub async fn deliver_all(channels: &[&Channel], n: &Notification, now: Timestamp) -> Vec<(String, Delivery)> {
    let attempts = channels.iter().map(|c| async move { (c.name().to_string(), c.deliver(n, now).await) });
    futures_util::future::join_all(attempts).await
}

async fn post_json(
    http: &HttpClient,
    url: &str,
    value: &serde_json::Value,
    headers: &[(&'static str, String)],
    timeout: Duration,
) -> Delivery {
    let body = serde_json::to_vec(value).expect("a serde_json::Value always serialises");
    post_raw(http, url, body, headers, timeout).await
}

/// POST a JSON body and classify the outcome. The timeout covers the answer's body too, so a
/// receiver that sends headers and then stalls is still cut off.
async fn post_raw(
    http: &HttpClient,
    url: &str,
    body: Vec<u8>,
    headers: &[(&'static str, String)],
    timeout: Duration,
) -> Delivery {
    if let Err(error) = http.destinations.check_url(url) {
        return Delivery::Fail { error, status: None };
    }
    let mut req =
        http.client.post(url).timeout(timeout).header(reqwest::header::CONTENT_TYPE, "application/json").body(body);
    for (k, v) in headers {
        req = req.header(*k, v);
    }
    let resp = match req.send().await {
        Ok(r) => r,
        Err(e) => return delivery::from_transport(&e),
    };
    let status = resp.status().as_u16();
    let retry_after = resp.headers().get(reqwest::header::RETRY_AFTER).and_then(|v| v.to_str().ok()).map(String::from);
    // The body only explains a refusal; failing to read it does not change the outcome.
    let text = match resp.text().await {
        Ok(t) => t,
        Err(e) if e.is_timeout() && (200..300).contains(&status) => String::new(),
        Err(e) => format!("(answer unreadable: {e})"),
    };
    delivery::from_http(status, retry_after.as_deref(), &text)
}

/// At most `max` characters, with an ellipsis when cut: receivers refuse over-long fields
/// (Slack headers 150, Discord titles 256) rather than trimming them.
pub(crate) fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_counts_characters_and_marks_the_cut() {
        assert_eq!(truncate("short", 10), "short");
        assert_eq!(truncate("ééééé", 3), "éé…");
        assert_eq!(truncate("abcdef", 6), "abcdef");
    }
}
