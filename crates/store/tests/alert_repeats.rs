//! Repeats of a firing alert: counted exactly on both backends; on SQLite appended to the repeat
//! log instead of rewriting the alert's row, and folded into `alert_counts` past a size and
//! on open.

use std::collections::BTreeMap;

use sevwatch_core::alert::{Alert, AlertSource, AlertStatus};
use sevwatch_core::{Policy, Timestamp};
use sevwatch_store::{AlertRow, AlertsOp, Backend, Store};
use sevwatch_testkit::TempDir;
use sqlx::Connection;

fn t(ms: i64) -> Timestamp {
    Timestamp::from_millisecond(1_790_000_000_000 + ms).unwrap()
}

fn alert(i: usize, summary: &str) -> Alert {
    Alert {
        source: AlertSource::Alertmanager,
        fingerprint: format!("fp{i:04}"),
        labels: BTreeMap::from([
            ("alertname".to_string(), "DiskFull".to_string()),
            ("instance".to_string(), format!("db{i}")),
        ]),
        annotations: BTreeMap::new(),
        status: AlertStatus::Firing,
        starts_at: None,
        ends_at: None,
        summary: Some(summary.into()),
        links: vec![],
        raw_severity: None,
    }
}

async fn ingest(store: &Store, alerts: Vec<Alert>, at: Timestamp) {
    let op = AlertsOp { alerts, acknowledge: vec![], actor: "am".into(), now: at };
    store.ingest(op).await.expect("alerts are committed");
}

async fn listed(store: &Store) -> BTreeMap<String, AlertRow> {
    let rows = store.alerts(None, false, 10_000).await.expect("alerts list");
    rows.into_iter().map(|r| (r.record.fingerprint.clone(), r)).collect()
}

/// The story itself: the counts, times and content a user sees, whatever the storage does.
async fn repeats_are_counted_exactly(store: &Store) {
    for n in 0..5 {
        ingest(store, vec![alert(1, "disk 90%"), alert(2, "disk 91%")], t(n)).await;
    }
    // The same alert twice in one request, then with new content.
    ingest(store, vec![alert(1, "disk 90%"), alert(1, "disk 90%")], t(10)).await;
    ingest(store, vec![alert(2, "disk 99%")], t(11)).await;
    ingest(store, vec![alert(2, "disk 99%")], t(12)).await;
    let seen = listed(store).await;
    let (one, two) = (&seen["fp0001"], &seen["fp0002"]);
    assert_eq!((one.record.count, one.record.first_seen, one.record.last_seen), (7, t(0), t(10)));
    assert_eq!((two.record.count, two.record.last_seen), (7, t(12)));
    assert_eq!(two.alert["summary"], "disk 99%", "a repeat with new content stores the new content");
    assert_eq!(one.alert["summary"], "disk 90%");
    // Newest first, by the logged last-seen time too.
    let order: Vec<_> =
        store.alerts(None, false, 10).await.unwrap().into_iter().map(|r| r.record.fingerprint).collect();
    assert_eq!(order, ["fp0002", "fp0001"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_repeats_are_logged_counted_and_folded_on_open() {
    let dir = sevwatch_testkit::temp_dir();
    let backend = Backend::Sqlite { path: dir.path().join("sevwatch.db") };
    let store = Store::open(&backend, Policy::default()).await.unwrap();
    repeats_are_counted_exactly(&store).await;
    // Plain repeats went to the log: fp0001 five times (once for the two in one request),
    // fp0002 four times, and once more after its content changed.
    assert_eq!(scalar(&dir, "SELECT COUNT(*) FROM alert_repeats").await, 10);
    let row_count = "SELECT json_extract(record, '$.count') FROM alerts WHERE fingerprint = 'fp0001'";
    assert_eq!(scalar(&dir, row_count).await, 1, "the row itself was written once");
    assert_eq!(scalar(&dir, "SELECT COUNT(*) FROM alert_counts").await, 0);
    drop(store);

    let store = Store::open(&backend, Policy::default()).await.unwrap();
    assert_eq!(scalar(&dir, "SELECT COUNT(*) FROM alert_repeats").await, 0, "folded on open");
    let folded = "SELECT count FROM alert_counts WHERE fingerprint = 'fp0001'";
    assert_eq!(scalar(&dir, folded).await, 7);
    // A store that starts cold reads the folded record and goes on counting.
    ingest(&store, vec![alert(1, "disk 90%")], t(20)).await;
    let seen = listed(&store).await;
    assert_eq!((seen["fp0001"].record.count, seen["fp0001"].record.last_seen), (8, t(20)));
    assert_eq!(seen["fp0002"].record.count, 7);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_a_long_repeat_log_is_folded_while_running() {
    let dir = sevwatch_testkit::temp_dir();
    let backend = Backend::Sqlite { path: dir.path().join("sevwatch.db") };
    let store = Store::open(&backend, Policy::default()).await.unwrap();
    let batch = |summary: &str| (0..200).map(|i| alert(i, summary)).collect::<Vec<_>>();
    let rounds = sevwatch_store::REPEAT_LOG_FOLD_AT / 200 + 3;
    for n in 0..rounds {
        ingest(&store, batch("up"), t(n as i64)).await;
    }
    let logged = scalar(&dir, "SELECT COUNT(*) FROM alert_repeats").await;
    assert!(logged > 0 && (logged as usize) < sevwatch_store::REPEAT_LOG_FOLD_AT, "folded: {logged} rows left");
    let seen = listed(&store).await;
    assert_eq!(seen.len(), 200);
    assert!(seen.values().all(|r| r.record.count == rounds as u64 && r.record.last_seen == t(rounds as i64 - 1)));
    let folded = "SELECT MIN(count) FROM alert_counts";
    assert!(scalar(&dir, folded).await > 100, "the fold kept the counts");
    assert_eq!(scalar(&dir, "SELECT COUNT(*) FROM alert_counts").await, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_repeats_are_counted_exactly() {
    let Some(url) = sevwatch_testkit::postgres_url().await else { return };
    let store = Store::open(&Backend::Postgres { url }, Policy::default()).await.unwrap();
    repeats_are_counted_exactly(&store).await;
}

async fn scalar(dir: &TempDir, sql: &str) -> i64 {
    let url = format!("sqlite://{}", dir.path().join("sevwatch.db").display());
    let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
    sqlx::query_scalar(sql).fetch_one(&mut c).await.unwrap()
}
