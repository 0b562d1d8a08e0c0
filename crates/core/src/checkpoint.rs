//! Keyed checkpoints: the timeline's anchor outside the database.
//!
//! The hash chain (`chain.rs`) is unkeyed, so whoever can write the database can rewrite an
//! event, recompute every later hash and the incident row's head, and the chain verifies again.
//! A checkpoint is an HMAC-SHA256, under a key the database does not hold, over every
//! incident's head (incident, last sequence number, last hash) at one moment. A database editor
//! can neither forge one nor make a rewritten chain match one: the chain must still hold each
//! checkpointed hash at its checkpointed position, and since every hash covers its predecessor,
//! that one hash pins every event before it.
//!
//! What this module decides, without I/O (the server's engine and `verify` do the reading):
//! - [`Checkpoint::sign`] and [`Checkpoint::authenticity`]: the MAC over a versioned, escaped
//!   JSON encoding (no two lists of heads encode alike);
//! - [`select`]: which stored checkpoint is the newest genuine one, and what is wrong with the
//!   others (forged, made with another key, the table dropped or rolled back behind the copy
//!   the server keeps in its data directory);
//! - [`check_against`]: one incident's chain against that checkpoint;
//! - [`extend`]: the next checkpoint's heads. A head is signed only if its chain extends the
//!   previous checkpoint's head; otherwise the previous head is carried forward, so a rewrite
//!   can never be laundered into a fresh, valid checkpoint.
//!
//! It cannot see a rewrite of events appended after the newest checkpoint, nor the deletion of
//! an incident that no checkpoint covered yet, and an attacker with the key can sign anything.

use std::time::Duration;

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::chain::{verify_chain, verify_from, ChainProblem, ChainProblemKind, ChainRecord};
use crate::{IncidentId, Timestamp};

type HmacSha256 = Hmac<Sha256>;

/// How often the engine writes a checkpoint (only when some chain changed).
pub const INTERVAL: Duration = Duration::from_secs(60);

/// Events older than this must be covered by a checkpoint; five intervals leave room for a
/// slow engine, a restart and clock skew between replicas.
pub const GRACE: Duration = Duration::from_secs(300);

/// Shortest key accepted, in bytes.
pub const MIN_KEY_LEN: usize = 32;

/// The checkpoint key. Its bytes never appear in `Debug` output.
#[derive(Clone)]
pub struct ChainKey(Vec<u8>);

impl ChainKey {
    pub fn from_bytes(bytes: &[u8]) -> Result<ChainKey, String> {
        if bytes.len() < MIN_KEY_LEN {
            return Err(format!("the chain key must be at least {MIN_KEY_LEN} bytes, it has {}", bytes.len()));
        }
        Ok(ChainKey(bytes.to_vec()))
    }

    /// From hexadecimal text (surrounding whitespace ignored).
    pub fn from_hex(text: &str) -> Result<ChainKey, String> {
        let bytes = hex::decode(text.trim()).map_err(|e| format!("the chain key is not hexadecimal: {e}"))?;
        Self::from_bytes(&bytes)
    }

    pub fn to_hex(&self) -> String {
        hex::encode(&self.0)
    }

    /// A public name for the key (16 hex digits of a MAC under it), stored with each checkpoint
    /// so that one made with another key is told apart from a forged one.
    pub fn id(&self) -> String {
        hex::encode(&self.mac(b"sevwatch chain key id").finalize().into_bytes()[..8])
    }

    fn mac(&self, data: &[u8]) -> HmacSha256 {
        let mut m = HmacSha256::new_from_slice(&self.0).expect("HMAC accepts keys of any length");
        m.update(data);
        m
    }
}

impl std::fmt::Debug for ChainKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ChainKey({})", self.id())
    }
}

/// One incident's chain head: its last sequence number and that event's hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Head {
    pub incident: i64,
    pub seq: i64,
    pub hash: String,
}

/// Every incident's head at `at`, signed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub at: Timestamp,
    pub key_id: String,
    /// Sorted by incident, one per incident.
    pub heads: Vec<Head>,
    /// HMAC-SHA256 of [`message`], hex.
    pub mac: String,
}

/// Whether a checkpoint was made with this key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Authenticity {
    Genuine,
    /// Its key id is another key's: replicas with different keys, or a replaced key.
    OtherKey,
    /// It names this key but its MAC does not verify: forged or altered.
    Forged,
}

/// What is signed: a versioned JSON document whose strings are escaped, so that no two lists
/// of heads encode alike.
fn message(at: Timestamp, key_id: &str, heads: &[Head]) -> Vec<u8> {
    #[derive(Serialize)]
    struct Signed<'a> {
        format: &'static str,
        key_id: &'a str,
        at_ms: i64,
        heads: &'a [Head],
    }
    let doc = Signed { format: "sevwatch-chain-checkpoint-v1", key_id, at_ms: at.as_millisecond(), heads };
    serde_json::to_vec(&doc).expect("a checkpoint serialises to JSON")
}

impl Checkpoint {
    /// Sign `heads` as of `at` (kept to the millisecond, as stored and signed).
    pub fn sign(key: &ChainKey, at: Timestamp, mut heads: Vec<Head>) -> Checkpoint {
        let at = Timestamp::from_millisecond(at.as_millisecond()).expect("a valid time is valid to the millisecond");
        heads.sort_by_key(|h| h.incident);
        heads.dedup_by_key(|h| h.incident);
        let key_id = key.id();
        let mac = hex::encode(key.mac(&message(at, &key_id, &heads)).finalize().into_bytes());
        Checkpoint { at, key_id, heads, mac }
    }

    pub fn authenticity(&self, key: &ChainKey) -> Authenticity {
        if self.key_id != key.id() {
            return Authenticity::OtherKey;
        }
        let Ok(mac) = hex::decode(&self.mac) else { return Authenticity::Forged };
        // verify_slice compares in constant time.
        match key.mac(&message(self.at, &self.key_id, &self.heads)).verify_slice(&mac) {
            Ok(()) => Authenticity::Genuine,
            Err(_) => Authenticity::Forged,
        }
    }

    /// The head this checkpoint recorded for `incident`, if it covered it.
    pub fn head_of(&self, incident: i64) -> Option<&Head> {
        self.heads.binary_search_by_key(&incident, |h| h.incident).ok().map(|i| &self.heads[i])
    }
}

/// A row of the checkpoint table; `checkpoint` is `None` when the row does not even decode.
#[derive(Clone, Debug)]
pub struct StoredCheckpoint {
    pub id: i64,
    pub checkpoint: Option<Checkpoint>,
}

/// Where the checkpoint a verification used came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Database,
    /// The copy of the newest checkpoint this server wrote, kept in its data directory.
    AnchorFile,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckpointProblemKind {
    /// Its MAC does not verify under this server's key, or it does not decode.
    Forged,
    /// Made with another key: replicas must share `SEVWATCH_CHAIN_KEY`.
    OtherKey,
    /// The database's newest genuine checkpoint is older than the one this server wrote.
    RolledBack,
    /// The checkpoint table itself is gone.
    TableMissing,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CheckpointProblem {
    pub kind: CheckpointProblemKind,
    pub detail: String,
}

/// The newest genuine checkpoint, and what is wrong with the rest.
#[derive(Clone, Debug, Default)]
pub struct Selection {
    pub latest: Option<(Checkpoint, Source)>,
    pub problems: Vec<CheckpointProblem>,
}

/// Choose the checkpoint to verify against (or to extend) from the database's rows (`None`
/// when the table is missing) and the copy in the data directory.
pub fn select(key: &ChainKey, rows: Option<&[StoredCheckpoint]>, local: Option<&Checkpoint>) -> Selection {
    let mut out = Selection::default();
    let mut problem = |kind, detail: String| out.problems.push(CheckpointProblem { kind, detail });
    let Some(rows) = rows else {
        problem(CheckpointProblemKind::TableMissing, "the chain_checkpoints table is missing: it was dropped".into());
        return select_local(key, None, local, out);
    };
    let mut newest: Option<&Checkpoint> = None;
    let mut other_key = Vec::new();
    for row in rows {
        let Some(cp) = &row.checkpoint else {
            problem(
                CheckpointProblemKind::Forged,
                format!("checkpoint #{} does not decode: forged or corrupt", row.id),
            );
            continue;
        };
        match cp.authenticity(key) {
            Authenticity::Genuine => {
                if newest.is_none_or(|n| cp.at > n.at) {
                    newest = Some(cp);
                }
            }
            Authenticity::OtherKey => other_key.push((row.id, cp)),
            Authenticity::Forged => problem(
                CheckpointProblemKind::Forged,
                format!("checkpoint #{} of {} does not verify with this server's key: forged", row.id, cp.at),
            ),
        }
    }
    // Older than this key's newest: history from before the key was replaced. Newer: another
    // replica is signing with a key of its own.
    for (id, cp) in other_key.into_iter().filter(|(_, cp)| newest.is_none_or(|n| cp.at > n.at)) {
        out.problems.push(CheckpointProblem {
            kind: CheckpointProblemKind::OtherKey,
            detail: format!(
                "checkpoint #{id} of {} was made with key {}, this server's is {}: every replica needs the same \
                 SEVWATCH_CHAIN_KEY",
                cp.at,
                cp.key_id,
                key.id()
            ),
        });
    }
    select_local(key, newest.cloned(), local, out)
}

fn select_local(
    key: &ChainKey,
    db_newest: Option<Checkpoint>,
    local: Option<&Checkpoint>,
    mut out: Selection,
) -> Selection {
    let local = match local.map(|l| (l, l.authenticity(key))) {
        Some((l, Authenticity::Genuine)) => Some(l),
        Some((l, kind)) => {
            let (kind, why) = match kind {
                Authenticity::OtherKey => (CheckpointProblemKind::OtherKey, "was made with another key"),
                _ => (CheckpointProblemKind::Forged, "does not verify with this server's key: forged"),
            };
            out.problems
                .push(CheckpointProblem { kind, detail: format!("the anchor file's checkpoint of {} {why}", l.at) });
            None
        }
        None => None,
    };
    out.latest = match (db_newest, local) {
        (Some(db), Some(l)) if l.at > db.at => {
            out.problems.push(CheckpointProblem {
                kind: CheckpointProblemKind::RolledBack,
                detail: format!(
                    "this server wrote a checkpoint at {} but the newest in the database is of {}: checkpoints were \
                     deleted or rolled back",
                    l.at, db.at
                ),
            });
            Some((l.clone(), Source::AnchorFile))
        }
        (Some(db), _) => Some((db, Source::Database)),
        (None, Some(l)) => {
            if !out.problems.iter().any(|p| p.kind == CheckpointProblemKind::TableMissing) {
                out.problems.push(CheckpointProblem {
                    kind: CheckpointProblemKind::RolledBack,
                    detail: format!(
                        "this server wrote a checkpoint at {} but the database holds no genuine one: checkpoints were \
                         deleted",
                        l.at
                    ),
                });
            }
            Some((l.clone(), Source::AnchorFile))
        }
        (None, None) => None,
    };
    out
}

/// Check one incident's chain (`records`, sorted by seq, already checked by `verify_chain`)
/// against the checkpoint: it must still hold the checkpointed hash at the checkpointed
/// position, and every event older than [`GRACE`] at `now` must be covered by the checkpoint.
/// `checkpoint` is `None` when a key exists but no genuine checkpoint does.
pub fn check_against(
    incident: i64,
    records: &[ChainRecord],
    checkpoint: Option<&Checkpoint>,
    now: Timestamp,
) -> Vec<ChainProblem> {
    let head = checkpoint.and_then(|c| c.head_of(incident).map(|h| (c.at, h)));
    if let Some((at, h)) = head {
        if let Some(p) = check_head(records, h, at) {
            return vec![p];
        }
    }
    let covered = head.map(|(_, h)| h.seq).unwrap_or(0);
    let cutoff = now.as_millisecond() - GRACE.as_millis() as i64;
    match records.iter().filter(|r| r.seq > covered && r.at_ms <= cutoff).map(|r| r.seq).max() {
        Some(last) => vec![ChainProblem {
            seq: covered + 1,
            kind: ChainProblemKind::Unanchored,
            detail: format!(
                "events {}-{last} are older than {}s but no checkpoint covers them: checkpoints were deleted or \
                 rolled back, or the engine is not writing them",
                covered + 1,
                GRACE.as_secs()
            ),
        }],
        None => Vec::new(),
    }
}

/// The problem, if `records` no longer hold the checkpointed head `h` (of the checkpoint of `at`).
fn check_head(records: &[ChainRecord], h: &Head, at: Timestamp) -> Option<ChainProblem> {
    match records.iter().find(|r| r.seq == h.seq) {
        None => Some(ChainProblem {
            seq: h.seq,
            kind: ChainProblemKind::Missing,
            detail: format!("event {} was covered by the checkpoint of {at} and is gone: deleted", h.seq),
        }),
        Some(r) if r.hash != h.hash => Some(ChainProblem {
            seq: h.seq,
            kind: ChainProblemKind::Rewritten,
            detail: format!(
                "event {} is not the one the checkpoint of {at} covered: events 1-{} were rewritten since",
                h.seq, h.seq
            ),
        }),
        Some(_) => None,
    }
}

/// The problem for an incident a checkpoint covered that no longer exists.
pub fn deleted(h: &Head, at: Timestamp) -> ChainProblem {
    ChainProblem {
        seq: 1,
        kind: ChainProblemKind::Missing,
        detail: format!(
            "{} was covered by the checkpoint of {at} with {} event(s) and no longer exists: deleted",
            IncidentId(h.incident),
            h.seq
        ),
    }
}

/// From which sequence number the engine must read `head`'s chain to extend `prev`: `None`
/// when the head is unchanged (nothing to read), the checkpointed position when it moved, 1
/// for an incident the checkpoint did not cover.
pub fn segment_start(prev: Option<&Checkpoint>, head: &Head) -> Option<i64> {
    match prev.and_then(|p| p.head_of(head.incident)) {
        Some(p) if p == head => None,
        Some(p) => Some(p.seq),
        None => Some(1),
    }
}

/// One incident's current head and its events from [`segment_start`] up to the head.
#[derive(Clone, Debug)]
pub struct Current {
    pub head: Head,
    pub records: Vec<ChainRecord>,
}

/// The next checkpoint's heads.
#[derive(Clone, Debug, Default)]
pub struct Extension {
    pub heads: Vec<Head>,
    /// Incidents whose current head was not signed, and why (the previous head, if any, was
    /// kept for them).
    pub refused: Vec<(IncidentId, Vec<ChainProblem>)>,
    /// Whether `heads` differ from the previous checkpoint's (if not, nothing need be written).
    pub changed: bool,
}

/// Decide the next checkpoint's heads: a current head whose chain extends the previous head
/// (and verifies from there) replaces it; one that does not is refused and the previous head
/// kept, as is the head of an incident that has disappeared; a new incident is taken if its
/// whole chain verifies.
pub fn extend(prev: Option<&Checkpoint>, current: &[Current]) -> Extension {
    let mut out = Extension::default();
    for c in current {
        let h = &c.head;
        let problems = match prev.and_then(|p| p.head_of(h.incident).map(|ph| (p.at, ph))) {
            Some((_, ph)) if ph == h => Vec::new(),
            Some((at, ph)) => match check_head(&c.records, ph, at) {
                Some(p) => vec![p],
                None => {
                    let first = c.records.iter().find(|r| r.seq == ph.seq).expect("check_head found it");
                    let from: Vec<ChainRecord> = c.records.iter().filter(|r| r.seq >= ph.seq).cloned().collect();
                    verify_from(h.incident, ph.seq, &first.prev_hash, &from, Some((h.seq, &h.hash)))
                }
            },
            None => verify_chain(h.incident, &c.records, Some((h.seq, &h.hash))),
        };
        if problems.is_empty() {
            out.heads.push(h.clone());
        } else {
            if let Some(ph) = prev.and_then(|p| p.head_of(h.incident)) {
                out.heads.push(ph.clone());
            }
            out.refused.push((IncidentId(h.incident), problems));
        }
    }
    if let Some(p) = prev {
        for ph in &p.heads {
            if !current.iter().any(|c| c.head.incident == ph.incident) {
                out.heads.push(ph.clone());
                out.refused.push((IncidentId(ph.incident), vec![deleted(ph, p.at)]));
            }
        }
    }
    out.heads.sort_by_key(|h| h.incident);
    out.changed = match prev {
        Some(p) => p.heads != out.heads,
        None => !out.heads.is_empty(),
    };
    out
}

#[cfg(test)]
mod tests;
