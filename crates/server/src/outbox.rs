//! The delivery worker: drains the outbox. It claims due messages (a lease, so a message whose
//! worker died is picked up again), delivers each as its own task under a concurrency limit,
//! and records every attempt. A receiver that hangs holds one slot until its channel's
//! timeout; every other message keeps flowing. Woken by the store after a commit that queued
//! messages, and at least every [`MAX_NAP`] for retries and other replicas' messages.

use std::sync::Arc;
use std::time::Duration;

use sevwatch_core::oncall::ContactMethod;
use sevwatch_core::Timestamp;
use sevwatch_notify::{Channel, ChannelConfig, ChannelKind, Delivery, HttpClient, NotifyConfig, Secret};
use sevwatch_store::{OutboxItem, Store};
use tokio::sync::Semaphore;

const MAX_NAP: Duration = Duration::from_millis(250);
/// Added to the longest delivery timeout to make a claim's lease.
const LEASE_MARGIN: Duration = Duration::from_secs(30);

/// The channel a message goes out on: a configured channel by name, or one made for a user's
/// contact method. An error is a message that cannot be delivered as configured.
pub fn channel_for(item: &OutboxItem, cfg: &NotifyConfig, http: &HttpClient) -> Result<Channel, String> {
    let Some(contact) = &item.contact else {
        let name = item.recipient.strip_prefix("channel:").unwrap_or(&item.recipient);
        let known: Vec<&str> = cfg.channels.iter().map(|c| c.name.as_str()).collect();
        return cfg
            .channel(name)
            .map(|c| Channel::new(c.clone(), http.clone()))
            .ok_or_else(|| format!("no channel named {name:?} is configured ([[channels]]: {})", known.join(", ")));
    };
    let who = item.recipient.strip_prefix("user:").unwrap_or(&item.recipient);
    let timeout = cfg.outbox.contact_timeout;
    let kind = match contact {
        ContactMethod::SlackWebhook(url) => ChannelKind::Slack { url: Secret::new(url.clone()) },
        ContactMethod::DiscordWebhook(url) => ChannelKind::Discord { url: Secret::new(url.clone()) },
        ContactMethod::Webhook(url) => {
            ChannelKind::Webhook { url: Secret::new(url.clone()), secret: cfg.outbox.contact_webhook_secret.clone() }
        }
        ContactMethod::Email(address) => {
            let relay = cfg.channels.iter().find_map(|c| match &c.kind {
                ChannelKind::Email(e) => Some(e.clone()),
                _ => None,
            });
            let Some(mut email) = relay else {
                return Err(format!(
                    "{who}'s email contact needs an SMTP relay: configure a [[channels]] entry with kind = \"email\""
                ));
            };
            email.to = vec![address.clone()];
            ChannelKind::Email(email)
        }
        ContactMethod::SlackMember(id) => {
            return Err(format!(
                "{who}'s Slack contact is a member id ({id}), which needs a Slack bot token Sevwatch does not use; \
                 give {who} a Slack incoming-webhook URL instead"
            ))
        }
    };
    Ok(Channel::new(ChannelConfig { name: item.recipient.clone(), kind, timeout }, http.clone()))
}

/// The longest any delivery may take, plus a margin: how long a claim lasts.
fn lease(cfg: &NotifyConfig) -> Duration {
    cfg.channels.iter().map(|c| c.timeout).chain([cfg.outbox.contact_timeout]).max().unwrap_or_default() + LEASE_MARGIN
}

/// Deliver one claimed message and record the attempt.
async fn deliver(store: &Store, item: OutboxItem, http: &HttpClient) {
    let started = Timestamp::now();
    let outcome = match (&item.message, channel_for(&item, store.notify_config(), http)) {
        (None, _) => Delivery::Fail { error: "the message has no text".into(), status: None },
        (_, Err(error)) => Delivery::Fail { error, status: None },
        (Some(n), Ok(channel)) => channel.deliver(n, started).await,
    };
    match store.record_attempt(&item, &outcome, started, Timestamp::now()).await {
        Ok(status) => tracing::info!(id = item.id, recipient = %item.recipient, status, "outbox delivery"),
        Err(e) => {
            tracing::warn!(id = item.id, error = %e, "could not record a delivery; its lease will lapse and it is sent again")
        }
    }
}

pub fn spawn(store: Store) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let http = match sevwatch_notify::http_client(store.notify_config().outbox.destinations()) {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(error = %e, "cannot build the HTTP client; nothing will be delivered");
                return;
            }
        };
        let cfg = store.notify_config().clone();
        let slots = Arc::new(Semaphore::new(cfg.outbox.concurrency));
        let lease = lease(&cfg);
        let ready = store.outbox_ready();
        loop {
            let free = slots.available_permits();
            let claimed = if free == 0 {
                Vec::new()
            } else {
                match store.claim_outbox(Timestamp::now(), lease, free as u32).await {
                    Ok(items) => items,
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot claim outbox messages");
                        Vec::new()
                    }
                }
            };
            let full = claimed.len() == free && free > 0;
            for item in claimed {
                let permit = slots.clone().acquire_owned().await.expect("the semaphore is never closed");
                let (store, http) = (store.clone(), http.clone());
                tokio::spawn(async move {
                    deliver(&store, item, &http).await;
                    drop(permit);
                });
            }
            if full {
                // More may be waiting: go again as soon as a slot frees.
                drop(slots.clone().acquire_owned().await);
                continue;
            }
            let nap = match store.next_outbox_due().await {
                Ok(Some(due)) => {
                    let ms = due.as_millisecond() - Timestamp::now().as_millisecond();
                    Duration::from_millis(ms.clamp(0, MAX_NAP.as_millis() as i64) as u64)
                }
                _ => MAX_NAP,
            };
            if nap.is_zero() && slots.available_permits() == 0 {
                drop(slots.clone().acquire_owned().await);
                continue;
            }
            tokio::select! {
                _ = tokio::time::sleep(nap.max(Duration::from_millis(5))) => {}
                _ = ready.notified() => {}
            }
        }
    })
}
