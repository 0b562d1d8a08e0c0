//! The tamper-evident timeline. Each event carries the SHA-256 of the previous event of the same
//! incident; its own hash covers a canonical encoding of everything it says (incident, sequence
//! number, time in milliseconds, actor, the event data and the previous hash). Editing, deleting
//! or reordering a stored event therefore breaks the chain, and [`verify_chain`] says where.
//!
//! The canonical encoding is JSON with object keys sorted and no whitespace, written here by
//! hand so that it cannot change with a serde_json feature flag.

use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::event::{Event, SealedEvent};
use crate::IncidentId;

/// `prev_hash` of the first event of every incident.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The hash of one event, from its stored parts.
pub fn event_hash(incident: i64, seq: i64, at_ms: i64, actor: &str, data: &Value, prev_hash: &str) -> String {
    let mut buf = String::with_capacity(256);
    buf.push_str("{\"actor\":");
    write_canonical(&Value::String(actor.to_string()), &mut buf);
    buf.push_str(&format!(",\"at\":{at_ms},\"data\":"));
    write_canonical(data, &mut buf);
    buf.push_str(&format!(",\"incident\":{incident},\"prev_hash\":\"{prev_hash}\",\"seq\":{seq}}}"));
    hex::encode(Sha256::digest(buf.as_bytes()))
}

/// Place `event` at position `seq` of `incident`'s timeline after the event whose hash is
/// `prev_hash` (or [`GENESIS`]).
pub fn seal(incident: IncidentId, seq: i64, event: Event, prev_hash: &str) -> SealedEvent {
    let data = serde_json::to_value(&event.kind).expect("event kinds always serialise to JSON");
    let hash = event_hash(incident.0, seq, event.at.as_millisecond(), &event.actor, &data, prev_hash);
    SealedEvent { incident, seq, event, prev_hash: prev_hash.to_string(), hash }
}

fn write_canonical(v: &Value, out: &mut String) {
    match v {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::to_string(k).expect("strings serialise"));
                out.push(':');
                write_canonical(&map[*k], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        other => out.push_str(&serde_json::to_string(other).expect("scalars serialise")),
    }
}

/// One stored event as the verifier sees it: raw columns, so that an edit that still parses is
/// caught as surely as one that does not.
#[derive(Clone, Debug)]
pub struct ChainRecord {
    pub seq: i64,
    pub at_ms: i64,
    pub actor: String,
    /// The stored event data; `None` when the stored text is not valid JSON.
    pub data: Option<Value>,
    pub prev_hash: String,
    pub hash: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChainProblemKind {
    /// The event's content no longer matches its hash.
    Edited,
    /// One or more sequence numbers are absent: events were deleted.
    Missing,
    /// The event's content hashes correctly only at another position.
    Reordered,
    /// The event does not point at the hash of the event before it.
    BrokenLink,
    /// The incident's recorded head (last sequence number and hash) does not match the chain.
    HeadMismatch,
    /// The chain no longer holds, at a checkpointed position, the hash the keyed checkpoint
    /// recorded: it was rewritten (and its hashes recomputed) since (see `checkpoint.rs`).
    Rewritten,
    /// Events old enough to have been checkpointed are covered by no checkpoint: checkpoints
    /// were deleted or rolled back, or events were inserted with past times.
    Unanchored,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ChainProblem {
    pub seq: i64,
    pub kind: ChainProblemKind,
    pub detail: String,
}

/// Check one incident's chain. `records` must be sorted by `seq`; `head` is the last sequence
/// number and hash the incident row recorded, which catches deletion of the newest events.
pub fn verify_chain(incident: i64, records: &[ChainRecord], head: Option<(i64, &str)>) -> Vec<ChainProblem> {
    verify_from(incident, 1, GENESIS, records, head)
}

/// Check the part of a chain that starts at `start_seq`, whose first event must point at
/// `start_prev` (for the whole chain: 1 and [`GENESIS`]). The checkpoint uses it to check only
/// the events appended since the last checkpoint.
pub fn verify_from(
    incident: i64,
    start_seq: i64,
    start_prev: &str,
    records: &[ChainRecord],
    head: Option<(i64, &str)>,
) -> Vec<ChainProblem> {
    let mut problems = Vec::new();
    let mut push = |seq, kind, detail: String| problems.push(ChainProblem { seq, kind, detail });
    let mut expected_seq = start_seq;
    let mut expected_prev = start_prev.to_string();
    for r in records {
        if r.seq > expected_seq {
            let range = if r.seq - 1 == expected_seq {
                format!("{expected_seq}")
            } else {
                format!("{expected_seq}-{}", r.seq - 1)
            };
            push(expected_seq, ChainProblemKind::Missing, format!("event(s) {range} are missing: deleted"));
        }
        let recomputed = r.data.as_ref().map(|d| event_hash(incident, r.seq, r.at_ms, &r.actor, d, &r.prev_hash));
        if recomputed.as_deref() != Some(r.hash.as_str()) {
            // A swapped position shows up as content that hashes right under another seq.
            let moved_from = r.data.as_ref().and_then(|d| {
                records
                    .iter()
                    .map(|o| o.seq)
                    .filter(|s| *s != r.seq)
                    .find(|s| event_hash(incident, *s, r.at_ms, &r.actor, d, &r.prev_hash) == r.hash)
            });
            match moved_from {
                Some(orig) => push(
                    r.seq,
                    ChainProblemKind::Reordered,
                    format!("event {} was written as event {orig}: reordered", r.seq),
                ),
                None if r.data.is_none() => {
                    push(r.seq, ChainProblemKind::Edited, format!("event {} holds unreadable data: edited", r.seq))
                }
                None => {
                    push(r.seq, ChainProblemKind::Edited, format!("event {} does not match its hash: edited", r.seq))
                }
            }
        } else if r.prev_hash != expected_prev && r.seq == expected_seq {
            push(
                r.seq,
                ChainProblemKind::BrokenLink,
                format!("event {} does not follow event {}: the chain is broken", r.seq, r.seq - 1),
            );
        }
        expected_seq = r.seq + 1;
        expected_prev = r.hash.clone();
    }
    if let Some((head_seq, head_hash)) = head {
        let last = records.last().map(|r| r.seq).unwrap_or(start_seq - 1);
        if last < head_seq {
            push(
                last + 1,
                ChainProblemKind::Missing,
                format!("events {}-{head_seq} are missing: deleted from the end", last + 1),
            );
        } else if last > head_seq || expected_prev != head_hash {
            push(
                last,
                ChainProblemKind::HeadMismatch,
                format!(
                    "the incident records event {head_seq} as its last, the chain ends at {last} with another hash"
                ),
            );
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::EventKind;
    use crate::Timestamp;

    fn chain(n: i64) -> Vec<ChainRecord> {
        let mut prev = GENESIS.to_string();
        (1..=n)
            .map(|seq| {
                let ev = Event {
                    at: Timestamp::from_millisecond(1_000 * seq).unwrap(),
                    actor: "alice".into(),
                    kind: EventKind::NoteAdded { text: format!("note {seq}") },
                };
                let sealed = seal(IncidentId(7), seq, ev, &prev);
                prev = sealed.hash.clone();
                ChainRecord {
                    seq,
                    at_ms: sealed.event.at.as_millisecond(),
                    actor: sealed.event.actor.clone(),
                    data: Some(serde_json::to_value(&sealed.event.kind).unwrap()),
                    prev_hash: sealed.prev_hash,
                    hash: sealed.hash,
                }
            })
            .collect()
    }

    fn head(c: &[ChainRecord]) -> Option<(i64, &str)> {
        c.last().map(|r| (r.seq, r.hash.as_str()))
    }

    #[test]
    fn an_untouched_chain_verifies() {
        let c = chain(5);
        assert!(verify_chain(7, &c, head(&c)).is_empty());
    }

    #[test]
    fn an_edited_event_is_named() {
        let mut c = chain(5);
        let h = (5, c[4].hash.clone());
        c[2].data = Some(serde_json::json!({"type": "note_added", "text": "rewritten"}));
        let p = verify_chain(7, &c, Some((h.0, &h.1)));
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!((p[0].seq, p[0].kind), (3, ChainProblemKind::Edited));
    }

    #[test]
    fn a_changed_actor_or_time_is_an_edit() {
        let mut c = chain(3);
        c[0].actor = "mallory".into();
        c[1].at_ms += 1;
        let kinds: Vec<_> = verify_chain(7, &c, None).into_iter().map(|p| (p.seq, p.kind)).collect();
        assert_eq!(kinds, [(1, ChainProblemKind::Edited), (2, ChainProblemKind::Edited)]);
    }

    #[test]
    fn a_deleted_event_is_named() {
        let mut c = chain(5);
        let h = (5, c[4].hash.clone());
        c.remove(1);
        let p = verify_chain(7, &c, Some((h.0, &h.1)));
        assert_eq!((p[0].seq, p[0].kind), (2, ChainProblemKind::Missing), "{p:?}");
    }

    #[test]
    fn deleting_the_newest_events_is_caught_by_the_head() {
        let mut c = chain(5);
        let h = (5, c[4].hash.clone());
        c.truncate(3);
        let p = verify_chain(7, &c, Some((h.0, &h.1)));
        assert_eq!((p[0].seq, p[0].kind), (4, ChainProblemKind::Missing), "{p:?}");
    }

    #[test]
    fn swapped_events_are_reported_as_reordered() {
        let mut c = chain(5);
        let h = (5, c[4].hash.clone());
        c.swap(1, 2);
        c[1].seq = 2;
        c[2].seq = 3;
        let p = verify_chain(7, &c, Some((h.0, &h.1)));
        assert!(p.iter().any(|p| p.seq == 2 && p.kind == ChainProblemKind::Reordered), "{p:?}");
        assert!(p.iter().any(|p| p.seq == 3 && p.kind == ChainProblemKind::Reordered), "{p:?}");
    }

    #[test]
    fn canonical_encoding_ignores_key_order() {
        let a: Value = serde_json::from_str(r#"{"b":1,"a":{"y":[1,2],"x":"z"}}"#).unwrap();
        let b: Value = serde_json::from_str(r#"{"a":{"x":"z","y":[1,2]},"b":1}"#).unwrap();
        assert_eq!(event_hash(1, 1, 0, "x", &a, GENESIS), event_hash(1, 1, 0, "x", &b, GENESIS));
    }
}
