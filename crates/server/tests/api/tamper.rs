//! The security finding, end to end: someone with write access to the database rewrites the
//! timeline and recomputes the hash chain exactly as the code does. The unkeyed chain is fooled;
//! `verify` against the keyed checkpoint is not. Also what can be done to the checkpoints
//! themselves: forged, deleted, dropped.

use serde_json::{json, Value};
use sevwatch_core::chain::event_hash;
use sevwatch_core::{IncidentId, Timestamp};
use sevwatch_server::engine;
use sevwatch_store::{Backend, Store};
use sqlx::Connection;

use crate::helpers::{on_both_backends_with, spawn_app_anchored, Db, TestApp};

on_both_backends_with!(
    the_engine_checkpoints_at_most_once_a_minute_and_only_when_a_timeline_changed,
    a_rewritten_and_rehashed_note_fails_verify_against_the_checkpoint,
    deleted_newest_events_and_a_deleted_incident_are_caught_by_the_checkpoint,
    forged_deleted_and_dropped_checkpoints_are_reported,
);

/// Run SQL on the server's database behind its back, as an attacker with database access would.
async fn raw(backend: &Backend, sql: &str) {
    match backend {
        Backend::Sqlite { path } => {
            let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display())).await.unwrap();
            sqlx::raw_sql(sql).execute(&mut c).await.unwrap();
        }
        Backend::Postgres { url } => {
            let mut c = sqlx::PgConnection::connect(url).await.unwrap();
            sqlx::raw_sql(sql).execute(&mut c).await.unwrap();
        }
    }
}

fn drop_append_only_triggers(backend: &Backend) -> &'static str {
    match backend {
        Backend::Sqlite { .. } => "DROP TRIGGER IF EXISTS events_no_update; DROP TRIGGER IF EXISTS events_no_delete;",
        Backend::Postgres { .. } => "DROP TRIGGER IF EXISTS events_no_change ON events;",
    }
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// Replace the text of the note `old` on incident `id`, then recompute the hash of that event
/// and of every later one (each links to its predecessor) and the incident row's head, with the
/// code's own `event_hash`.
async fn rewrite_note(backend: &Backend, store: &Store, id: i64, old: &str, new: &str) {
    let records = store.chain_records(IncidentId(id), 1, i64::MAX).await.unwrap();
    let at = records.iter().position(|r| r.data.as_ref().unwrap()["text"] == old).expect("the note exists");
    let mut sql = drop_append_only_triggers(backend).to_string();
    let mut prev = records[at].prev_hash.clone();
    for r in &records[at..] {
        let mut data = r.data.clone().unwrap();
        if r.seq == records[at].seq {
            data["text"] = json!(new);
        }
        let hash = event_hash(id, r.seq, r.at_ms, &r.actor, &data, &prev);
        sql.push_str(&format!(
            "UPDATE events SET data = {}, prev_hash = {}, hash = {} WHERE incident_id = {id} AND seq = {};",
            quote(&data.to_string()),
            quote(&prev),
            quote(&hash),
            r.seq
        ));
        prev = hash;
    }
    sql.push_str(&format!("UPDATE incidents SET last_hash = {} WHERE id = {id};", quote(&prev)));
    raw(backend, &sql).await;
}

async fn note(app: &TestApp, id: &str, text: &str) {
    let (s, v) = app.post(&format!("/api/v1/incidents/{id}/notes"), json!({ "text": text })).await;
    assert!(s.is_success(), "{v}");
}

fn kinds(report: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for f in report["failed"].as_array().unwrap() {
        for p in f["problems"].as_array().unwrap() {
            out.push((f["incident"].as_str().unwrap().to_string(), p["kind"].as_str().unwrap().to_string()));
        }
    }
    out
}

fn checkpoint_problems(report: &Value) -> Vec<&str> {
    report["checkpoint"]["problems"].as_array().unwrap().iter().map(|p| p["kind"].as_str().unwrap()).collect()
}

async fn the_engine_checkpoints_at_most_once_a_minute_and_only_when_a_timeline_changed(db: Db) {
    let Some((app, store, anchor, _)) = spawn_app_anchored(db).await else { return };
    let rows = || async { store.checkpoints(100).await.unwrap().expect("the table exists").len() };
    let t0 = Timestamp::now();
    let later = |secs| t0 + jiff::SignedDuration::from_secs(secs);
    let id = app.declare("x", "P2").await;
    engine::tick(&store, Some(&anchor), t0).await;
    assert_eq!(rows().await, 1, "the first checkpoint at once");
    note(&app, &id, "changed").await;
    engine::tick(&store, Some(&anchor), later(30)).await;
    assert_eq!(rows().await, 1, "not due before a minute");
    engine::tick(&store, Some(&anchor), later(61)).await;
    assert_eq!(rows().await, 2, "due, and the timeline changed");
    engine::tick(&store, Some(&anchor), later(122)).await;
    assert_eq!(rows().await, 2, "due, but nothing changed");
    let (_, v) = app.get("/api/v1/verify").await;
    assert_eq!((v["ok"].as_bool(), v["checkpoint"]["incidents"].as_u64()), (Some(true), Some(1)), "{v}");
}

async fn a_rewritten_and_rehashed_note_fails_verify_against_the_checkpoint(db: Db) {
    let Some((app, store, anchor, backend)) = spawn_app_anchored(db).await else { return };
    let id = app.declare("database down", "P2").await;
    note(&app, &id, "the truth").await;
    note(&app, &id, "more truth").await;
    let (_, before) = app.get("/api/v1/verify").await;
    assert_eq!(before["checkpoint"]["status"], "none", "{before}");
    let written = anchor.checkpoint(&store, Timestamp::now()).await.unwrap();
    assert_eq!((written.written.is_some(), written.incidents), (true, 1), "{written:?}");

    let (_, clean) = app.get("/api/v1/verify").await;
    assert_eq!(clean["ok"], true, "{clean}");
    assert_eq!(
        (clean["checkpoint"]["status"].as_str(), clean["checkpoint"]["incidents"].as_u64()),
        (Some("checked"), Some(1)),
        "{clean}"
    );
    assert!(clean["checkpoint"]["at"].is_string(), "{clean}");

    rewrite_note(&backend, &store, 1, "the truth", "a lie").await;
    assert!(store.verify_all().await.unwrap().iter().all(|v| v.ok), "the unkeyed chain is fooled by the rewrite");

    let (_, forged) = app.get("/api/v1/verify").await;
    assert_eq!(forged["ok"], false, "{forged}");
    assert_eq!(kinds(&forged), [(id.clone(), "rewritten".to_string())], "{forged}");
    let (_, one) = app.get(&format!("/api/v1/incidents/{id}/verify")).await;
    assert_eq!((one["ok"].as_bool(), one["problems"][0]["kind"].as_str()), (Some(false), Some("rewritten")), "{one}");
    assert_eq!(one["checkpoint"]["seq"], 4, "declared, paged, two notes: {one}");

    // The next checkpoint refuses the rewritten chain and keeps the checkpointed head.
    let next = anchor.checkpoint(&store, Timestamp::now()).await.unwrap();
    assert_eq!((next.written, next.refused.len()), (None, 1), "{next:?}");
    note(&app, &id, "appended after the rewrite").await;
    anchor.checkpoint(&store, Timestamp::now()).await.unwrap();
    let (_, still) = app.get("/api/v1/verify").await;
    // Never laundered. On SQLite the writer appends to the head it committed itself (its warm
    // copy of the incident), not to the forged one, so the new note is also a broken link there.
    let found = kinds(&still);
    assert!(found.contains(&(id.clone(), "rewritten".to_string())), "never laundered: {still}");
    assert!(found.iter().all(|(i, k)| *i == id && (k == "rewritten" || k == "broken_link")), "{still}");
}

async fn deleted_newest_events_and_a_deleted_incident_are_caught_by_the_checkpoint(db: Db) {
    let Some((app, store, anchor, backend)) = spawn_app_anchored(db).await else { return };
    let first = app.declare("first", "P2").await;
    note(&app, &first, "one").await;
    note(&app, &first, "two").await;
    let second = app.declare("second", "P2").await;
    anchor.checkpoint(&store, Timestamp::now()).await.unwrap();
    assert_eq!(app.get("/api/v1/verify").await.1["ok"], true);

    // Drop the newest note and point the head at the event before it: the chain is consistent.
    let keep = store.chain_records(IncidentId(1), 3, 3).await.unwrap().remove(0);
    let sql = format!(
        "{} DELETE FROM events WHERE incident_id = 1 AND seq = 4; \
         UPDATE incidents SET last_seq = 3, last_hash = {} WHERE id = 1; \
         DELETE FROM events WHERE incident_id = 2; DELETE FROM incidents WHERE id = 2;",
        drop_append_only_triggers(&backend),
        quote(&keep.hash)
    );
    raw(&backend, &sql).await;
    assert!(store.verify_all().await.unwrap().iter().all(|v| v.ok), "the unkeyed chain sees nothing");

    let (_, v) = app.get("/api/v1/verify").await;
    assert_eq!(v["ok"], false, "{v}");
    assert_eq!(kinds(&v), [(first.clone(), "missing".into()), (second.clone(), "missing".into())], "{v}");
    assert!(v["failed"][1]["problems"][0]["detail"].as_str().unwrap().contains("no longer exists"), "{v}");
    let (_, gone) = app.get(&format!("/api/v1/incidents/{second}/verify")).await;
    assert_eq!(gone["ok"], false, "a deleted incident the checkpoint covered is reported, not a 404: {gone}");
}

async fn forged_deleted_and_dropped_checkpoints_are_reported(db: Db) {
    let Some((app, store, anchor, backend)) = spawn_app_anchored(db).await else { return };
    let id = app.declare("x", "P2").await;
    anchor.checkpoint(&store, Timestamp::now()).await.unwrap();
    note(&app, &id, "later").await;
    anchor.checkpoint(&store, Timestamp::now()).await.unwrap();
    assert_eq!(app.get("/api/v1/verify").await.1["ok"], true);

    // The newest checkpoint's head edited (declared, paged, note: 3 events); its MAC cannot be
    // recomputed without the key.
    raw(&backend, "UPDATE chain_checkpoints SET heads = replace(heads, '\"seq\":3', '\"seq\":9')").await;
    let (_, v) = app.get("/api/v1/verify").await;
    assert_eq!(v["ok"], false, "{v}");
    assert!(checkpoint_problems(&v).contains(&"forged"), "{v}");
    assert_eq!(v["checkpoint"]["source"], "anchor_file", "verified against the copy this server kept: {v}");

    // Deleting every checkpoint: the anchor file is newer than anything in the database.
    raw(&backend, "DELETE FROM chain_checkpoints").await;
    let (_, v) = app.get("/api/v1/verify").await;
    assert_eq!((v["ok"].as_bool(), checkpoint_problems(&v)), (Some(false), vec!["rolled_back"]), "{v}");

    raw(&backend, "DROP TABLE chain_checkpoints").await;
    let (_, v) = app.get("/api/v1/verify").await;
    assert_eq!((v["ok"].as_bool(), checkpoint_problems(&v)), (Some(false), vec!["table_missing"]), "{v}");
    assert_eq!(v["checkpoint"]["incidents"], 1, "{v}");
}
