//! Unit tests of `checkpoint`, kept apart so the rules read on their own.

use super::*;
use crate::chain::{event_hash, seal, GENESIS};
use crate::event::{Event, EventKind};

fn key(b: u8) -> ChainKey {
    ChainKey::from_bytes(&[b; 32]).unwrap()
}

fn at(secs: i64) -> Timestamp {
    Timestamp::from_second(1_790_000_000 + secs).unwrap()
}

/// `n` notes on `incident`, one a second from `at(0)`.
fn chain(incident: i64, n: i64) -> Vec<ChainRecord> {
    let mut prev = GENESIS.to_string();
    (1..=n)
        .map(|seq| {
            let ev =
                Event { at: at(seq), actor: "alice".into(), kind: EventKind::NoteAdded { text: format!("n{seq}") } };
            let s = seal(IncidentId(incident), seq, ev, &prev);
            prev = s.hash.clone();
            ChainRecord {
                seq,
                at_ms: s.event.at.as_millisecond(),
                actor: s.event.actor.clone(),
                data: Some(serde_json::to_value(&s.event.kind).unwrap()),
                prev_hash: s.prev_hash,
                hash: s.hash,
            }
        })
        .collect()
}

fn head(incident: i64, c: &[ChainRecord]) -> Head {
    let last = c.last().unwrap();
    Head { incident, seq: last.seq, hash: last.hash.clone() }
}

/// The attack of the finding: rewrite event `seq`'s text and recompute every later hash.
fn rewrite(incident: i64, c: &mut [ChainRecord], seq: i64) {
    let mut prev = if seq == 1 { GENESIS.to_string() } else { c[seq as usize - 2].hash.clone() };
    for r in c.iter_mut().filter(|r| r.seq >= seq) {
        if r.seq == seq {
            r.data = Some(serde_json::json!({"type": "note_added", "text": "a lie"}));
        }
        r.prev_hash = prev;
        r.hash = event_hash(incident, r.seq, r.at_ms, &r.actor, r.data.as_ref().unwrap(), &r.prev_hash);
        prev = r.hash.clone();
    }
}

#[test]
fn a_signed_checkpoint_verifies_and_any_change_to_it_is_forged() {
    let c = chain(1, 3);
    let precise = Timestamp::from_nanosecond(1_790_000_000_123_456_789).unwrap();
    assert_eq!(Checkpoint::sign(&key(1), precise, vec![]).at.as_nanosecond(), 1_790_000_000_123_000_000);
    let cp = Checkpoint::sign(&key(1), at(10), vec![head(2, &chain(2, 1)), head(1, &c)]);
    assert_eq!(cp.heads.iter().map(|h| h.incident).collect::<Vec<_>>(), [1, 2], "sorted");
    assert_eq!(cp.authenticity(&key(1)), Authenticity::Genuine);
    let mut changed = [cp.clone(), cp.clone(), cp.clone(), cp.clone(), cp.clone()];
    changed[0].at = at(11);
    changed[1].heads[0].seq = 2;
    changed[2].heads[0].hash = c[1].hash.clone();
    changed[3].heads.pop();
    changed[4].mac = "zz".into();
    for (i, cp) in changed.iter().enumerate() {
        assert_eq!(cp.authenticity(&key(1)), Authenticity::Forged, "change {i}");
    }
}

#[test]
fn a_checkpoint_of_another_key_is_told_apart_from_a_forgery() {
    let cp = Checkpoint::sign(&key(1), at(0), vec![head(1, &chain(1, 2))]);
    assert_eq!(cp.authenticity(&key(2)), Authenticity::OtherKey);
    let mut claimed = cp.clone();
    claimed.key_id = key(2).id();
    assert_eq!(claimed.authenticity(&key(2)), Authenticity::Forged, "a key id alone proves nothing");
}

#[test]
fn keys_are_parsed_from_hex_and_never_printed() {
    let k = ChainKey::from_hex(&format!("{}\n", "ab".repeat(32))).unwrap();
    assert_eq!(k.to_hex(), "ab".repeat(32));
    assert!(!format!("{k:?}").contains("abab"));
    assert!(ChainKey::from_hex("abcd").unwrap_err().contains("at least 32 bytes"));
    assert!(ChainKey::from_hex(&"zz".repeat(32)).unwrap_err().contains("not hexadecimal"));
}

#[test]
fn a_chain_that_extends_the_checkpoint_passes() {
    let mut c = chain(1, 5);
    let cp = Checkpoint::sign(&key(1), at(10), vec![head(1, &c[..3])]);
    assert!(check_against(1, &c, Some(&cp), at(20)).is_empty());
    c.truncate(3);
    assert!(check_against(1, &c, Some(&cp), at(20)).is_empty());
}

#[test]
fn a_rewritten_and_rehashed_chain_fails_against_the_checkpoint() {
    let mut c = chain(1, 5);
    let cp = Checkpoint::sign(&key(1), at(10), vec![head(1, &c)]);
    rewrite(1, &mut c, 2);
    let h = head(1, &c);
    assert!(verify_chain(1, &c, Some((h.seq, &h.hash))).is_empty(), "the unkeyed chain is fooled");
    let p = check_against(1, &c, Some(&cp), at(20));
    assert_eq!((p[0].seq, p[0].kind), (5, ChainProblemKind::Rewritten), "{p:?}");
}

#[test]
fn deleting_checkpointed_events_from_the_end_is_caught() {
    let mut c = chain(1, 5);
    let cp = Checkpoint::sign(&key(1), at(10), vec![head(1, &c[..4])]);
    c.truncate(3);
    let p = check_against(1, &c, Some(&cp), at(20));
    assert_eq!((p[0].seq, p[0].kind), (4, ChainProblemKind::Missing), "{p:?}");
}

#[test]
fn old_events_no_checkpoint_covers_are_unanchored() {
    let c = chain(1, 5); // events at at(1)..at(5)
    let cp = Checkpoint::sign(&key(1), at(3), vec![head(1, &c[..3])]);
    let late = at(5 + GRACE.as_secs() as i64);
    assert!(check_against(1, &c, Some(&cp), at(60)).is_empty(), "recent events need no checkpoint yet");
    let p = check_against(1, &c, Some(&cp), late);
    assert_eq!((p[0].seq, p[0].kind), (4, ChainProblemKind::Unanchored), "{p:?}");
    let p = check_against(1, &c, None, late);
    assert_eq!((p[0].seq, p[0].kind), (1, ChainProblemKind::Unanchored), "no checkpoint at all: {p:?}");
}

#[test]
fn the_newest_genuine_checkpoint_is_chosen_and_forgeries_are_named() {
    let c = chain(1, 3);
    let old = Checkpoint::sign(&key(1), at(1), vec![head(1, &c[..1])]);
    let new = Checkpoint::sign(&key(1), at(2), vec![head(1, &c)]);
    let mut forged = Checkpoint::sign(&key(1), at(9), vec![head(1, &c)]);
    forged.heads[0].seq = 9;
    let rows = [
        StoredCheckpoint { id: 4, checkpoint: Some(forged) },
        StoredCheckpoint { id: 3, checkpoint: None },
        StoredCheckpoint { id: 2, checkpoint: Some(new.clone()) },
        StoredCheckpoint { id: 1, checkpoint: Some(old.clone()) },
    ];
    let s = select(&key(1), Some(&rows), Some(&old));
    assert_eq!(s.latest, Some((new, Source::Database)));
    let kinds: Vec<_> = s.problems.iter().map(|p| p.kind).collect();
    assert_eq!(kinds, [CheckpointProblemKind::Forged, CheckpointProblemKind::Forged]);
    assert!(s.problems[0].detail.contains("#4"), "{:?}", s.problems);
}

#[test]
fn checkpoints_of_another_key_fail_only_when_newer_than_this_keys_newest() {
    let c = chain(1, 2);
    let theirs = |secs| Checkpoint::sign(&key(2), at(secs), vec![head(1, &c)]);
    let ours = Checkpoint::sign(&key(1), at(5), vec![head(1, &c)]);
    let rows = |other: Checkpoint| {
        [
            StoredCheckpoint { id: 2, checkpoint: Some(other) },
            StoredCheckpoint { id: 1, checkpoint: Some(ours.clone()) },
        ]
    };
    let replaced = select(&key(1), Some(&rows(theirs(1))), None);
    assert!(replaced.problems.is_empty(), "history from before the key was replaced: {:?}", replaced.problems);
    let replica = select(&key(1), Some(&rows(theirs(9))), None);
    assert_eq!(replica.problems[0].kind, CheckpointProblemKind::OtherKey);
    assert!(replica.problems[0].detail.contains("SEVWATCH_CHAIN_KEY"));
    assert_eq!(replica.latest.map(|l| l.0), Some(ours.clone()));
}

#[test]
fn a_database_behind_the_anchor_file_was_rolled_back() {
    let c = chain(1, 3);
    let old = Checkpoint::sign(&key(1), at(1), vec![head(1, &c[..1])]);
    let new = Checkpoint::sign(&key(1), at(2), vec![head(1, &c)]);
    let rows = [StoredCheckpoint { id: 1, checkpoint: Some(old) }];
    let s = select(&key(1), Some(&rows), Some(&new));
    assert_eq!(s.latest, Some((new.clone(), Source::AnchorFile)));
    assert_eq!(s.problems[0].kind, CheckpointProblemKind::RolledBack);
    let s = select(&key(1), Some(&[]), Some(&new));
    assert_eq!((s.latest.is_some(), s.problems[0].kind), (true, CheckpointProblemKind::RolledBack));
    let s = select(&key(1), None, Some(&new));
    assert_eq!(s.problems.iter().map(|p| p.kind).collect::<Vec<_>>(), [CheckpointProblemKind::TableMissing]);
    assert_eq!(s.latest.map(|l| l.1), Some(Source::AnchorFile));
    assert!(select(&key(1), Some(&[]), None).latest.is_none());
}

fn current(incident: i64, c: &[ChainRecord], prev: Option<&Checkpoint>) -> Current {
    let h = head(incident, c);
    let from = segment_start(prev, &h).unwrap_or(i64::MAX);
    Current { head: h, records: c.iter().filter(|r| r.seq >= from).cloned().collect() }
}

#[test]
fn the_next_checkpoint_extends_the_previous_one() {
    let a = chain(1, 5);
    let b = chain(2, 2);
    let prev = Checkpoint::sign(&key(1), at(10), vec![head(1, &a[..3])]);
    assert_eq!(segment_start(Some(&prev), &head(1, &a)), Some(3));
    assert_eq!(segment_start(Some(&prev), &head(1, &a[..3])), None);
    assert_eq!(segment_start(Some(&prev), &head(2, &b)), Some(1));
    let e = extend(Some(&prev), &[current(1, &a, Some(&prev)), current(2, &b, Some(&prev))]);
    assert!(e.refused.is_empty(), "{:?}", e.refused);
    assert_eq!(e.heads, [head(1, &a), head(2, &b)]);
    assert!(e.changed);
    let same = Checkpoint::sign(&key(1), at(20), e.heads);
    assert!(!extend(Some(&same), &[current(1, &a, Some(&same)), current(2, &b, Some(&same))]).changed);
}

#[test]
fn a_rewrite_is_never_laundered_into_the_next_checkpoint() {
    let mut a = chain(1, 5);
    let prev = Checkpoint::sign(&key(1), at(10), vec![head(1, &a[..4])]);
    rewrite(1, &mut a, 2);
    let e = extend(Some(&prev), &[current(1, &a, Some(&prev))]);
    assert_eq!(e.heads, prev.heads, "the checkpointed head is carried forward");
    assert_eq!(e.refused[0].1[0].kind, ChainProblemKind::Rewritten);
    assert!(!e.changed);
}

#[test]
fn a_deleted_incident_keeps_its_checkpointed_head() {
    let a = chain(1, 2);
    let prev = Checkpoint::sign(&key(1), at(10), vec![head(1, &a), head(2, &chain(2, 1))]);
    let e = extend(Some(&prev), &[current(1, &a, Some(&prev))]);
    assert_eq!(e.heads, prev.heads);
    assert_eq!(e.refused.len(), 1);
    assert_eq!((e.refused[0].0, e.refused[0].1[0].kind), (IncidentId(2), ChainProblemKind::Missing));
}

#[test]
fn a_new_incident_with_a_broken_chain_is_not_signed() {
    let mut b = chain(2, 3);
    let h = head(2, &b);
    b[1].actor = "mallory".into();
    let e = extend(None, &[Current { head: h, records: b }]);
    assert!(e.heads.is_empty() && !e.changed);
    assert_eq!(e.refused[0].1[0].kind, ChainProblemKind::Edited);
}
