//! A short-lived cache of authenticated tokens, so that a busy API does not read the tokens
//! table on every request. Entries live for [`TTL`]; a revocation through this process clears
//! the cache at once, and other replicas see it within [`TTL`].

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sevwatch_store::{Store, StoreError, TokenInfo};

pub const TTL: Duration = Duration::from_secs(5);
/// Bound on memory: a flood of random tokens cannot grow the cache without limit.
const MAX_ENTRIES: usize = 10_000;

#[derive(Default)]
pub struct TokenCache {
    entries: Mutex<HashMap<String, (TokenInfo, Instant)>>,
    /// Bumped at every revocation through this process, so open event streams re-check their
    /// token at once (streams on other replicas re-check every [`TTL`]).
    revocations: tokio::sync::watch::Sender<u64>,
}

impl TokenCache {
    pub async fn authenticate(&self, store: &Store, token: &str) -> Result<Option<TokenInfo>, StoreError> {
        let now = Instant::now();
        if let Some((info, at)) = self.entries.lock().expect("token cache lock").get(token) {
            if now.duration_since(*at) < TTL {
                return Ok(Some(info.clone()));
            }
        }
        let found = store.authenticate(token).await?;
        let mut entries = self.entries.lock().expect("token cache lock");
        match &found {
            Some(info) => {
                if entries.len() >= MAX_ENTRIES {
                    entries.retain(|_, (_, at)| now.duration_since(*at) < TTL);
                }
                if entries.len() < MAX_ENTRIES {
                    entries.insert(token.to_string(), (info.clone(), now));
                }
            }
            None => {
                entries.remove(token);
            }
        }
        Ok(found)
    }

    /// Forget every cached token (after a revocation) and tell the open streams.
    pub fn clear(&self) {
        self.entries.lock().expect("token cache lock").clear();
        self.revocations.send_modify(|n| *n += 1);
    }

    pub fn revocations(&self) -> tokio::sync::watch::Receiver<u64> {
        self.revocations.subscribe()
    }
}
