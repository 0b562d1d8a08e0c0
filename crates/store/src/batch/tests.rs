//! Batches that fail half-way: every caller is answered, nothing is half applied, numbers are
//! not lost, and the warm cache equals the database afterwards. On SQLite and PostgreSQL.

use std::sync::atomic::Ordering::SeqCst;

use sevwatch_core::alert::{Alert, AlertRecord, AlertSource, AlertStatus};
use sevwatch_core::{Command, IncidentId, Policy, Severity, Timestamp};
use sevwatch_engine::{AlertsOp, IncidentOp, PreparedAlerts};

use crate::db::with_pool;
use crate::writer::{commit, Done, Op};
use crate::{Backend, Store, StoreError};

fn t(secs: i64) -> Timestamp {
    Timestamp::from_second(1_790_000_000 + secs).unwrap()
}

fn declare(title: &str) -> Op {
    let command = Command::Declare { title: title.into(), severity: Severity::P2, service: None, summary: None };
    Op::Incident(IncidentOp { target: None, command, actor: "alice".into(), now: t(1) })
}

fn note(id: IncidentId, text: &str) -> Op {
    Op::Incident(IncidentOp {
        target: Some(id),
        command: Command::AddNote { text: text.into() },
        actor: "bob".into(),
        now: t(2),
    })
}

fn alert(store: &Store, fp: &str) -> Op {
    let mut a = Alert::bare(AlertSource::Alertmanager, fp, AlertStatus::Firing);
    a.labels.insert("alertname".into(), format!("Alert{fp}"));
    let op = AlertsOp { alerts: vec![a], acknowledge: vec![], actor: "am".into(), now: t(3) };
    Op::Alerts(PreparedAlerts::new(op, &store.shared.rules, &store.shared.content_hasher))
}

async fn stores() -> Vec<(Store, Option<sevwatch_testkit::TempDir>)> {
    let dir = sevwatch_testkit::temp_dir();
    let backend = Backend::Sqlite { path: dir.path().join("s.db") };
    let mut out = vec![(Store::open(&backend, Policy::default()).await.unwrap(), Some(dir))];
    if let Some(url) = sevwatch_testkit::postgres_url().await {
        out.push((Store::open(&Backend::Postgres { url }, Policy::default()).await.unwrap(), None));
    }
    out
}

/// Each incident's events, as (seq, type) pairs, and the ids that exist.
async fn timeline(store: &Store, id: IncidentId) -> Vec<String> {
    store.timeline(id, 0, 1000).await.unwrap().iter().map(|e| e.event.kind.type_name().to_string()).collect()
}

/// The warm cache holds exactly what the database holds for every row it has.
async fn warm_equals_database(store: &Store) {
    let Some((incidents, records)) = store.shared.warm().map(|w| w.snapshot()) else { return };
    for (id, state, hash) in incidents {
        const SQL: &str = "SELECT state, last_hash FROM incidents WHERE id = $1";
        let row: (String, String) =
            with_pool!(&store.db, |p| sqlx::query_as(SQL).bind(id.0).fetch_one(p).await).unwrap();
        let stored: serde_json::Value = serde_json::from_str(&row.0).unwrap();
        assert_eq!(stored, serde_json::from_str::<serde_json::Value>(&state).unwrap(), "{id} state");
        assert_eq!(row.1, hash, "{id} last hash");
    }
    for r in records {
        const SQL: &str = "SELECT record FROM alerts WHERE fingerprint = $1";
        let row: String =
            with_pool!(&store.db, |p| sqlx::query_scalar(SQL).bind(&r.fingerprint).fetch_one(p).await).unwrap();
        let stored: AlertRecord = serde_json::from_str(&row).unwrap();
        assert_eq!((stored.status, stored.incident), (r.status, r.incident), "{}", r.fingerprint);
    }
}

#[tokio::test]
async fn a_batch_that_fails_half_way_is_retried_one_by_one_and_nothing_is_applied_twice() {
    for (store, _dir) in stores().await {
        let first = commit(&store.db, &store.shared, &[declare("one")]).await;
        let Ok(Done::Incident(w)) = &first[0] else { panic!("declared") };
        let one = w.incident.id;
        let events_before = timeline(&store, one).await.len();

        // The next batch writes its incidents and events, then fails; its operations are then
        // retried each in a batch of its own (the retry-alone path).
        store.shared.fail_flushes.store(1, SeqCst);
        let ops = [
            note(one, "first"),
            declare("two"),
            alert(&store, "a1"),
            note(IncidentId(999), "nobody"),
            declare("three"),
        ];
        let results = commit(&store.db, &store.shared, &ops).await;
        assert_eq!(results.len(), ops.len(), "every caller is answered");
        assert!(matches!(results[3], Err(StoreError::NotFound(IncidentId(999)))), "a refusal stays a refusal");
        let ids: Vec<IncidentId> = results
            .iter()
            .filter_map(|r| match r {
                Ok(Done::Incident(w)) => Some(w.incident.id),
                Ok(Done::Alerts(a)) => a.opened.first().copied(),
                _ => None,
            })
            .collect();
        assert_eq!(ids, vec![one, IncidentId(one.0 + 1), IncidentId(one.0 + 2), IncidentId(one.0 + 3)], "no gaps");
        let notes = timeline(&store, one).await;
        assert_eq!(notes.len(), events_before + 1, "the note is applied once: {notes:?}");
        for id in &ids {
            let v = store.verify(*id).await.unwrap();
            assert!(v.ok, "{id}: {:?}", v.problems);
        }
        warm_equals_database(&store).await;
        assert_eq!(store.shared.fail_flushes.load(SeqCst), 0);
    }
}

#[tokio::test]
async fn an_operation_that_keeps_failing_is_answered_with_the_error_and_writes_nothing() {
    for (store, _dir) in stores().await {
        let first = commit(&store.db, &store.shared, &[declare("one")]).await;
        let Ok(Done::Incident(w)) = &first[0] else { panic!("declared") };
        let one = w.incident.id;
        let before = timeline(&store, one).await;
        // Every attempt fails: the batch, then each operation alone, three times.
        store.shared.fail_flushes.store(usize::MAX, SeqCst);
        let results = commit(&store.db, &store.shared, &[note(one, "lost"), alert(&store, "a2")]).await;
        store.shared.fail_flushes.store(0, SeqCst);
        assert!(results.iter().all(|r| matches!(r, Err(StoreError::Db(_)))), "each caller hears the error");
        assert_eq!(timeline(&store, one).await, before, "nothing half applied");
        assert!(store.alerts(None, false, 10).await.unwrap().is_empty(), "the alert was not stored");
        warm_equals_database(&store).await;
        // The store still works, and the next number is the next one.
        let next = commit(&store.db, &store.shared, &[declare("two")]).await;
        let Ok(Done::Incident(w)) = &next[0] else { panic!("declared") };
        assert_eq!(w.incident.id, IncidentId(one.0 + 1));
        warm_equals_database(&store).await;
    }
}
