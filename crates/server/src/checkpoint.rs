//! The chain's anchor outside the database: the checkpoint key, the engine's checkpoint step
//! and the checkpoint part of `verify`. The rules are the core's (`core/src/checkpoint.rs`);
//! this file does their I/O.
//!
//! The key is `SEVWATCH_CHAIN_KEY` (hex, at least 32 bytes) when set, else `<data-dir>/chain.key`,
//! created at first start with 32 random bytes and mode 0600 and never replaced. Replicas
//! sharing a PostgreSQL database must all be given the same key through the environment: a
//! replica with a key of its own writes checkpoints the others report as made with another key.
//!
//! Every [`INTERVAL`] the engine signs every incident's head, if any changed, into the
//! `chain_checkpoints` table (newest [`KEEP`] kept), then copies it to
//! `<data-dir>/chain.checkpoint`. That copy is what catches a database whose checkpoints were
//! deleted or rolled back: it is never older than the newest row this server wrote.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::Context;
use serde::Serialize;
use sevwatch_core::chain::ChainProblem;
use sevwatch_core::checkpoint::{
    extend, segment_start, select, ChainKey, Checkpoint, CheckpointProblem, Current, Source, INTERVAL,
};
use sevwatch_core::{IncidentId, Timestamp};
use sevwatch_store::{Store, StoreError};

pub const KEY_FILE: &str = "chain.key";
pub const ANCHOR_FILE: &str = "chain.checkpoint";
pub const KEY_ENV: &str = "SEVWATCH_CHAIN_KEY";

/// Checkpoint rows kept in the database; the newest alone would do (each covers the older
/// ones), the rest are history for an investigation.
pub const KEEP: i64 = 16;

/// Rows `verify` reads to find the newest genuine one: more than are kept, so rows an
/// attacker added are read (and reported) too.
const READ: i64 = 64;

/// Rows the engine reads each step: it also holds the newest it wrote itself, so a few newer
/// rows (another replica's) are all it needs.
const READ_ENGINE: i64 = 4;

/// The key, the copy of the newest checkpoint this server wrote, and when the next is due.
pub struct ChainAnchor {
    key: ChainKey,
    file: Option<PathBuf>,
    local: Mutex<Option<Checkpoint>>,
    next_due: Mutex<Option<Timestamp>>,
}

impl std::fmt::Debug for ChainAnchor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChainAnchor").field("key", &self.key).field("file", &self.file).finish_non_exhaustive()
    }
}

/// What one checkpoint step did.
#[derive(Debug, Default)]
pub struct Outcome {
    /// The new row's id, when a checkpoint was written (none when no head changed).
    pub written: Option<i64>,
    /// Incidents in the checkpoint.
    pub incidents: usize,
    /// Incidents whose current head was not signed (their checkpointed head was kept).
    pub refused: Vec<(IncidentId, Vec<ChainProblem>)>,
    /// What is wrong with the stored checkpoints.
    pub problems: Vec<CheckpointProblem>,
}

impl ChainAnchor {
    /// The key from `env_key` (the value of `SEVWATCH_CHAIN_KEY`) or `<data_dir>/chain.key`
    /// (created when missing), and the anchor file in `data_dir`.
    pub fn load(data_dir: &Path, env_key: Option<&str>) -> anyhow::Result<ChainAnchor> {
        let key = match env_key {
            Some(hex) => ChainKey::from_hex(hex).map_err(|e| anyhow::anyhow!("{KEY_ENV}: {e}"))?,
            None => ensure_key_file(&data_dir.join(KEY_FILE))?,
        };
        Ok(ChainAnchor::new(key, Some(data_dir.join(ANCHOR_FILE))))
    }

    /// With `file`, the anchor file is read now (a missing or unreadable one is no anchor) and
    /// rewritten after each checkpoint.
    pub fn new(key: ChainKey, file: Option<PathBuf>) -> ChainAnchor {
        let local = file.as_deref().and_then(read_anchor_file);
        ChainAnchor { key, file, local: Mutex::new(local), next_due: Mutex::new(None) }
    }

    pub fn key_id(&self) -> String {
        self.key.id()
    }

    /// The engine's step: a checkpoint at most every [`INTERVAL`], the first at once. Failures
    /// are logged; the next step tries again.
    pub async fn tick(&self, store: &Store, now: Timestamp) {
        {
            let mut due = self.next_due.lock().expect("checkpoint schedule lock");
            if due.is_some_and(|d| now < d) {
                return;
            }
            *due = Some(now.checked_add(INTERVAL).unwrap_or(now));
        }
        match self.checkpoint(store, now).await {
            Ok(o) => {
                for (incident, problems) in &o.refused {
                    let details: Vec<&str> = problems.iter().map(|p| p.detail.as_str()).collect();
                    tracing::error!(%incident, problems = ?details, "timeline does not extend its checkpoint: tampered; its checkpointed head is kept");
                }
                for p in &o.problems {
                    tracing::warn!(kind = ?p.kind, "{}", p.detail);
                }
                if let Some(id) = o.written {
                    tracing::debug!(id, incidents = o.incidents, "chain checkpoint written");
                }
            }
            Err(e) => tracing::warn!(error = %e, "writing the chain checkpoint failed; retrying at the next interval"),
        }
    }

    /// Sign every incident's head whose chain extends the newest genuine checkpoint (or, for a
    /// new incident, verifies from its first event), if any head changed; then keep a copy in
    /// the anchor file. Tests call this directly with the time they choose.
    pub async fn checkpoint(&self, store: &Store, now: Timestamp) -> Result<Outcome, StoreError> {
        let rows = store.checkpoints(READ_ENGINE).await?;
        let local = self.local.lock().expect("anchor lock").clone();
        let selection = select(&self.key, rows.as_deref(), local.as_ref());
        let prev = selection.latest.as_ref().map(|(c, _)| c);
        let mut current = Vec::new();
        for head in store.chain_heads().await? {
            let records = match segment_start(prev, &head) {
                Some(from) => store.chain_records(IncidentId(head.incident), from, head.seq).await?,
                None => Vec::new(),
            };
            current.push(Current { head, records });
        }
        let next = extend(prev, &current);
        let mut out =
            Outcome { written: None, incidents: next.heads.len(), refused: next.refused, problems: selection.problems };
        if !next.changed {
            return Ok(out);
        }
        let cp = Checkpoint::sign(&self.key, now, next.heads);
        out.written = Some(store.add_checkpoint(&cp, KEEP).await?);
        // Only after the row is committed: a copy newer than the database means rolled back.
        if let Some(file) = &self.file {
            if let Err(e) = write_anchor_file(file, &cp) {
                tracing::warn!(error = %e, file = %file.display(), "cannot write the checkpoint anchor file");
            }
        }
        *self.local.lock().expect("anchor lock") = Some(cp);
        Ok(out)
    }

    /// The checkpoint to verify against, and the report of what was found.
    pub async fn latest(&self, store: &Store) -> Result<(Option<Checkpoint>, CheckpointReport), StoreError> {
        let rows = store.checkpoints(READ).await?;
        let local = self.local.lock().expect("anchor lock").clone();
        let selection = select(&self.key, rows.as_deref(), local.as_ref());
        let report = CheckpointReport {
            status: if selection.latest.is_some() { CheckpointStatus::Checked } else { CheckpointStatus::None },
            at: selection.latest.as_ref().map(|(c, _)| c.at),
            source: selection.latest.as_ref().map(|(_, s)| *s),
            incidents: selection.latest.as_ref().map(|(c, _)| c.heads.len()).unwrap_or(0),
            key_id: Some(self.key.id()),
            problems: selection.problems,
        };
        Ok((selection.latest.map(|(c, _)| c), report))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckpointStatus {
    /// No key configured: only the unkeyed chains were checked.
    Off,
    /// A key, but no genuine checkpoint yet (the engine writes the first within a minute).
    None,
    /// The chains were checked against the checkpoint of `at`.
    Checked,
}

/// The checkpoint part of a verification report.
#[derive(Clone, Debug, Serialize)]
pub struct CheckpointReport {
    pub status: CheckpointStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<Source>,
    /// Incidents the checkpoint covers.
    pub incidents: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// Forged checkpoints, checkpoints of another key, a rolled-back or dropped table.
    pub problems: Vec<CheckpointProblem>,
}

impl CheckpointReport {
    pub fn off() -> CheckpointReport {
        CheckpointReport {
            status: CheckpointStatus::Off,
            at: None,
            source: None,
            incidents: 0,
            key_id: None,
            problems: Vec::new(),
        }
    }
}

/// Read the key file, or create it (32 random bytes, hex, mode 0600) if it does not exist.
/// An existing key is never replaced: every checkpoint made with it would stop verifying.
fn ensure_key_file(path: &Path) -> anyhow::Result<ChainKey> {
    if !path.exists() {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness for the chain key: {e}"))?;
        let key = ChainKey::from_bytes(&bytes).map_err(anyhow::Error::msg)?;
        // Written whole under a name of its own, then linked into place: a hard link never
        // replaces a file, so two servers starting on one data directory (replicas) agree on
        // one key, and neither ever reads a half-written one.
        let tmp = path.with_extension(format!("tmp.{}", hex::encode(&bytes[..8])));
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
        let mut f = opts.open(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
        f.write_all(format!("{}\n", key.to_hex()).as_bytes())?;
        f.sync_all()?;
        let linked = std::fs::hard_link(&tmp, path);
        let _ = std::fs::remove_file(&tmp);
        match linked {
            Ok(()) => return Ok(key),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e).with_context(|| format!("cannot create {}", path.display())),
        }
    }
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    #[cfg(unix)]
    if let Ok(meta) = std::fs::metadata(path) {
        use std::os::unix::fs::PermissionsExt;
        if meta.permissions().mode() & 0o077 != 0 {
            tracing::warn!(file = %path.display(), "the chain key file is readable by others; chmod 600 it");
        }
    }
    ChainKey::from_hex(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

fn read_anchor_file(path: &Path) -> Option<Checkpoint> {
    let text = std::fs::read_to_string(path).ok()?;
    match serde_json::from_str(&text) {
        Ok(cp) => Some(cp),
        Err(e) => {
            tracing::warn!(error = %e, file = %path.display(), "the checkpoint anchor file does not decode; ignored");
            None
        }
    }
}

/// Replace the anchor file atomically (write a temporary file, sync, rename).
fn write_anchor_file(path: &Path, cp: &Checkpoint) -> std::io::Result<()> {
    // One temporary name per process: replicas may share a data directory.
    let tmp = path.with_extension(format!("checkpoint.tmp.{}", std::process::id()));
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts.open(&tmp)?;
    f.write_all(&serde_json::to_vec(cp).expect("a checkpoint serialises"))?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_file_is_created_once_with_mode_0600_and_then_reused() {
        let dir = sevwatch_testkit::temp_dir();
        let path = dir.path().join(KEY_FILE);
        let first = ensure_key_file(&path).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        assert_eq!(ensure_key_file(&path).unwrap().id(), first.id());
        std::fs::write(&path, "not hex").unwrap();
        assert!(ensure_key_file(&path).unwrap_err().to_string().contains("chain.key"));
    }

    #[test]
    fn servers_starting_together_on_one_data_directory_agree_on_one_key() {
        let dir = sevwatch_testkit::temp_dir();
        let path = dir.path().join(KEY_FILE);
        let ids: Vec<String> = std::thread::scope(|s| {
            let starts: Vec<_> = (0..8).map(|_| s.spawn(|| ensure_key_file(&path).unwrap().id())).collect();
            starts.into_iter().map(|t| t.join().unwrap()).collect()
        });
        assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(left, [KEY_FILE], "no temporary files left behind");
    }

    #[test]
    fn the_environment_key_wins_over_the_file() {
        let dir = sevwatch_testkit::temp_dir();
        let dir = dir.path();
        let from_file = ChainAnchor::load(dir, None).unwrap();
        let hex = "11".repeat(32);
        let from_env = ChainAnchor::load(dir, Some(&hex)).unwrap();
        assert_ne!(from_env.key_id(), from_file.key_id());
        assert_eq!(from_env.key_id(), ChainKey::from_hex(&hex).unwrap().id());
        assert!(ChainAnchor::load(dir, Some("abc")).unwrap_err().to_string().contains(KEY_ENV));
    }
}
