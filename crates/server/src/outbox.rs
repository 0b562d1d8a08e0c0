//! The delivery worker: drains the outbox. It claims due messages (a lease, so a message whose
//! worker died is picked up again), delivers each as its own task under a concurrency limit,
//! and records every attempt. A receiver that hangs holds one slot until its channel's
//! timeout; every other message keeps flowing. Woken by the store after a commit that queued
//! messages, and at least every [`MAX_NAP`] for retries and other replicas' messages.
//! [`Deliverer::drain_once`] is one pass at a time of the caller's choosing, for tests.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

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

/// What every pass needs, built once: the store, the guarded HTTP client, the delivery slots
/// (`[outbox] concurrency`) and the claim lease.
#[derive(Clone)]
pub struct Deliverer {
    store: Store,
    http: HttpClient,
    slots: Arc<Semaphore>,
    lease: Duration,
}

impl Deliverer {
    pub fn new(store: Store) -> Result<Deliverer, reqwest::Error> {
        let cfg = store.notify_config();
        let http = sevwatch_notify::http_client(cfg.outbox.destinations())?;
        let (slots, lease) = (Arc::new(Semaphore::new(cfg.outbox.concurrency)), lease(cfg));
        Ok(Deliverer { store, http, slots, lease })
    }

    /// One pass at `now`: claim the messages due at `now` (as many as there are free slots),
    /// deliver them side by side and return, with how many were claimed, once every attempt is
    /// recorded. An attempt counts as made at `now` plus the time it really took, so retries
    /// and leases come due relative to `now`. Tests drive delivery with this and a time of
    /// their choosing; [`spawn`] runs the same steps on the system clock without waiting for
    /// a slow receiver before claiming more.
    pub async fn drain_once(&self, now: Timestamp) -> usize {
        let claimed = self.claim(now).await;
        let n = claimed.len();
        let mut deliveries = tokio::task::JoinSet::new();
        for item in claimed {
            deliveries.spawn(self.deliver_in_slot(item, now));
        }
        while deliveries.join_next().await.is_some() {}
        n
    }

    async fn claim(&self, now: Timestamp) -> Vec<OutboxItem> {
        let free = self.slots.available_permits();
        if free == 0 {
            return Vec::new();
        }
        self.store.claim_outbox(now, self.lease, free as u32).await.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "cannot claim outbox messages");
            Vec::new()
        })
    }

    /// Deliver a claimed message in one of the slots (waiting for one if need be).
    fn deliver_in_slot(&self, item: OutboxItem, started: Timestamp) -> impl Future<Output = ()> + Send + 'static {
        let this = self.clone();
        async move {
            let _slot = this.slots.clone().acquire_owned().await.expect("the semaphore is never closed");
            this.deliver(item, started).await;
        }
    }

    /// Deliver one claimed message and record the attempt.
    async fn deliver(&self, item: OutboxItem, started: Timestamp) {
        let took = Instant::now();
        let outcome = match (&item.message, channel_for(&item, self.store.notify_config(), &self.http)) {
            (None, _) => Delivery::Fail { error: "the message has no text".into(), status: None },
            (_, Err(error)) => Delivery::Fail { error, status: None },
            (Some(n), Ok(channel)) => channel.deliver(n, started).await,
        };
        let finished = started + took.elapsed();
        match self.store.record_attempt(&item, &outcome, started, finished).await {
            Ok(status) => tracing::info!(id = item.id, recipient = %item.recipient, status, "outbox delivery"),
            Err(e) => {
                tracing::warn!(id = item.id, error = %e, "could not record a delivery; its lease will lapse and it is sent again")
            }
        }
    }

    /// How long to wait before looking again on the system clock.
    async fn nap(&self) -> Duration {
        match self.store.next_outbox_due().await {
            Ok(Some(due)) => {
                let ms = due.as_millisecond() - Timestamp::now().as_millisecond();
                Duration::from_millis(ms.clamp(0, MAX_NAP.as_millis() as i64) as u64)
            }
            _ => MAX_NAP,
        }
    }
}

/// The worker `serve` runs: passes on the system clock, each delivery its own task, so a
/// receiver that hangs holds one slot and nothing else.
pub fn spawn(store: Store) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let worker = match Deliverer::new(store) {
            Ok(w) => w,
            Err(e) => {
                tracing::error!(error = %e, "cannot build the HTTP client; nothing will be delivered");
                return;
            }
        };
        let ready = worker.store.outbox_ready();
        loop {
            let free = worker.slots.available_permits();
            let claimed = worker.claim(Timestamp::now()).await;
            let full = claimed.len() == free && free > 0;
            for item in claimed {
                // Take the slot before spawning, so the next pass sees it taken.
                let slot = worker.slots.clone().acquire_owned().await.expect("the semaphore is never closed");
                let w = worker.clone();
                tokio::spawn(async move {
                    w.deliver(item, Timestamp::now()).await;
                    drop(slot);
                });
            }
            if full {
                // More may be waiting: go again as soon as a slot frees.
                drop(worker.slots.clone().acquire_owned().await);
                continue;
            }
            let nap = worker.nap().await;
            if nap.is_zero() && worker.slots.available_permits() == 0 {
                drop(worker.slots.clone().acquire_owned().await);
                continue;
            }
            tokio::select! {
                _ = tokio::time::sleep(nap.max(Duration::from_millis(5))) => {}
                _ = ready.notified() => {}
            }
        }
    })
}
