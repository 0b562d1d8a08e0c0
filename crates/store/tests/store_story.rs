//! One storage story, run against SQLite and again against PostgreSQL (skipped with a reason
//! when PostgreSQL is unreachable, failed under SEVWATCH_REQUIRE_ALL=1).

use std::collections::BTreeSet;

use sevwatch_core::chain::ChainProblemKind;
use sevwatch_core::{
    AccessRole, Command, DomainError, Event, Incident, IncidentId, Policy, Severity, Status, Timestamp,
};
use sevwatch_store::{Backend, IncidentOp, ListFilter, Store, StoreError};
use sevwatch_testkit::TempDir;
use sqlx::Connection;

/// A store plus what the test needs to reach the same database behind its back.
struct Fixture {
    store: Store,
    backend: Backend,
    _dir: Option<TempDir>,
}

async fn sqlite() -> Option<Fixture> {
    let dir = sevwatch_testkit::temp_dir();
    let backend = Backend::Sqlite { path: dir.path().join("sevwatch.db") };
    let store = Store::open(&backend, Policy::default()).await.expect("sqlite store opens");
    Some(Fixture { store, backend, _dir: Some(dir) })
}

async fn postgres() -> Option<Fixture> {
    let url = sevwatch_testkit::postgres_url().await?;
    let backend = Backend::Postgres { url };
    let store = Store::open(&backend, Policy::default()).await.expect("postgres store opens");
    Some(Fixture { store, backend, _dir: None })
}

/// Run raw SQL against the fixture's database, as an attacker with database access would.
async fn raw(f: &Fixture, sql: &str) {
    match &f.backend {
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

fn t(secs: i64) -> Timestamp {
    Timestamp::from_second(1_790_000_000 + secs).unwrap()
}

fn op(target: Option<IncidentId>, command: Command, secs: i64) -> IncidentOp {
    IncidentOp { target, command, actor: "alice".into(), now: t(secs) }
}

fn declare(title: &str, severity: Severity, service: &str) -> Command {
    Command::Declare { title: title.into(), severity, service: Some(service.into()), summary: None }
}

macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
               async fn $name() { if let Some(f) = super::sqlite().await { super::$name(f).await } } )*
        }
        mod postgres {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
               async fn $name() { if let Some(f) = super::postgres().await { super::$name(f).await } } )*
        }
    };
}

on_both_backends!(
    a_whole_incident_lifecycle_is_stored_and_replays_to_the_row,
    refused_commands_write_nothing,
    concurrent_declarers_get_gapless_unique_ids,
    edited_deleted_and_reordered_events_are_detected,
    the_timeline_refuses_updates_and_deletes,
    lists_filter_and_paginate_by_keyset,
    tokens_authenticate_until_revoked,
);

async fn a_whole_incident_lifecycle_is_stored_and_replays_to_the_row(f: Fixture) {
    let s = &f.store;
    let w = s.execute(op(None, declare("API latency 10x", Severity::P1, "api"), 0)).await.unwrap();
    let id = w.incident.id;
    assert_eq!(id, IncidentId(1));
    let steps = [
        Command::Acknowledge,
        Command::Assign { role: "commander".into(), to: "alice".into() },
        Command::Assign { role: "ic".into(), to: "bob".into() },
        Command::SetStatus { status: Status::Identified, note: Some("bad deploy of 3.4.1".into()) },
        Command::ChangeSeverity { severity: Severity::P0, reason: Some("data loss confirmed".into()) },
        Command::AddNote { text: "rolled back to 3.4.0".into() },
        Command::Check { item: "resolution.root-cause-identified".into() },
        Command::Resolve { root_cause: Some("bad deploy".into()), force: true },
        Command::Close,
        Command::Reopen { reason: Some("came back".into()) },
    ];
    for (i, cmd) in steps.into_iter().enumerate() {
        s.execute(op(Some(id), cmd, 60 * (i as i64 + 1))).await.unwrap();
    }
    let row = s.incident(id).await.unwrap();
    assert_eq!(row.status, Status::Investigating);
    assert_eq!(row.severity, Severity::P0);
    assert_eq!(row.roles.get("commander").map(String::as_str), Some("bob"));
    assert_eq!(row.reopen_count, 1);
    let timeline = s.timeline(id, 0, 1000).await.unwrap();
    // declared, paged (the P1 policy's first step, in the same transaction), then the ten commands
    assert_eq!(timeline.iter().map(|e| e.seq).collect::<Vec<_>>(), (1..=12).collect::<Vec<_>>());
    let events: Vec<Event> = timeline.into_iter().map(|e| e.event).collect();
    assert_eq!(Incident::replay(id, &events).unwrap(), row, "replaying the stored events gives the stored row");
    let v = s.verify(id).await.unwrap();
    assert!(v.ok && v.events == 12, "{v:?}");
}

async fn refused_commands_write_nothing(f: Fixture) {
    let s = &f.store;
    let id = s.execute(op(None, declare("disk full", Severity::P2, "db"), 0)).await.unwrap().incident.id;
    let err = s.execute(op(Some(id), Command::Resolve { root_cause: None, force: false }, 1)).await.unwrap_err();
    assert!(
        matches!(err, StoreError::Domain(DomainError::Conflict(ref m)) if m.contains("resolution.root-cause-identified")),
        "{err}"
    );
    let err = s.execute(op(Some(id), Command::Close, 2)).await.unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Domain(DomainError::IllegalTransition { from: Status::Triggered, to: Status::Closed })
        ),
        "{err}"
    );
    let err = s.execute(op(Some(IncidentId(99)), Command::Acknowledge, 3)).await.unwrap_err();
    assert!(matches!(err, StoreError::NotFound(IncidentId(99))), "{err}");
    assert_eq!(s.timeline(id, 0, 100).await.unwrap().len(), 2, "declared and paged only");
    assert_eq!(s.incident(id).await.unwrap().event_count, 2);
}

async fn concurrent_declarers_get_gapless_unique_ids(f: Fixture) {
    // Two handles on one database behave like two replicas, each with its own writer.
    let second = Store::open(&f.backend, Policy::default()).await.unwrap();
    let stores = [f.store.clone(), second];
    let mut tasks = Vec::new();
    for worker in 0..8 {
        let s = stores[worker % 2].clone();
        tasks.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            for n in 0..25 {
                let w = s.execute(op(None, declare(&format!("w{worker} n{n}"), Severity::P3, "svc"), n)).await.unwrap();
                ids.push(w.incident.id.0);
            }
            ids
        }));
    }
    let mut all = BTreeSet::new();
    for t in tasks {
        for id in t.await.unwrap() {
            assert!(all.insert(id), "id {id} was handed out twice");
        }
    }
    assert_eq!(all, (1..=200).collect::<BTreeSet<i64>>(), "ids are 1..=200 without gaps");
}

async fn edited_deleted_and_reordered_events_are_detected(f: Fixture) {
    let s = &f.store;
    let mut ids = Vec::new();
    for n in 0..4 {
        let id = s.execute(op(None, declare(&format!("i{n}"), Severity::P2, "x"), 0)).await.unwrap().incident.id;
        for k in 1..=4 {
            s.execute(op(Some(id), Command::AddNote { text: format!("note {k}") }, k)).await.unwrap();
        }
        ids.push(id.0);
    }
    assert!(s.verify_all().await.unwrap().iter().all(|v| v.ok));
    let unlock = match f.backend {
        Backend::Sqlite { .. } => "DROP TRIGGER events_no_update; DROP TRIGGER events_no_delete;",
        Backend::Postgres { .. } => "DROP TRIGGER events_no_change ON events;",
    };
    raw(&f, unlock).await;
    raw(&f, &format!("UPDATE events SET data = '{{\"type\":\"note_added\",\"text\":\"nothing to see\"}}' WHERE incident_id = {} AND seq = 3", ids[0])).await;
    raw(&f, &format!("DELETE FROM events WHERE incident_id = {} AND seq = 2", ids[1])).await;
    raw(&f, &format!("UPDATE events SET seq = -seq WHERE incident_id = {} AND seq IN (2, 3)", ids[2])).await;
    raw(
        &f,
        &format!(
            "UPDATE events SET seq = CASE seq WHEN -2 THEN 3 ELSE 2 END WHERE incident_id = {} AND seq < 0",
            ids[2]
        ),
    )
    .await;
    let report = s.verify_all().await.unwrap();
    let kinds = |i: usize| report[i].problems.iter().map(|p| (p.seq, p.kind)).collect::<Vec<_>>();
    assert!(kinds(0).contains(&(3, ChainProblemKind::Edited)), "{:?}", kinds(0));
    assert!(kinds(1).contains(&(2, ChainProblemKind::Missing)), "{:?}", kinds(1));
    assert!(kinds(2).contains(&(2, ChainProblemKind::Reordered)), "{:?}", kinds(2));
    assert!(report[3].ok, "the untouched incident still verifies");
}

async fn the_timeline_refuses_updates_and_deletes(f: Fixture) {
    let s = &f.store;
    s.execute(op(None, declare("x", Severity::P2, "x"), 0)).await.unwrap();
    let attempt = |sql: &'static str| {
        let backend = f.backend.clone();
        async move {
            match backend {
                Backend::Sqlite { path } => {
                    let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display())).await.unwrap();
                    sqlx::query(sql).execute(&mut c).await.is_err()
                }
                Backend::Postgres { url } => {
                    let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
                    sqlx::query(sql).execute(&mut c).await.is_err()
                }
            }
        }
    };
    assert!(attempt("UPDATE events SET actor = 'mallory'").await, "update refused");
    assert!(attempt("DELETE FROM events").await, "delete refused");
    assert!(s.verify(IncidentId(1)).await.unwrap().ok);
}

async fn lists_filter_and_paginate_by_keyset(f: Fixture) {
    let s = &f.store;
    for n in 0..30 {
        let sev = Severity::ALL[n % 3];
        let service = if n % 2 == 0 { "api" } else { "db" };
        let id = s.execute(op(None, declare(&format!("i{n}"), sev, service), n as i64)).await.unwrap().incident.id;
        if n % 5 == 0 {
            s.execute(op(Some(id), Command::Resolve { root_cause: None, force: true }, 100)).await.unwrap();
        }
    }
    let open: Vec<Status> = Status::ALL.into_iter().filter(|s| s.is_open()).collect();
    let filter = ListFilter {
        statuses: open,
        severities: vec![Severity::P0, Severity::P1],
        service: Some("api".into()),
        before: None,
        limit: 4,
    };
    let mut seen = Vec::new();
    let mut page = s.list_incidents(&filter).await.unwrap();
    while !page.is_empty() {
        assert!(page.len() <= 4);
        seen.extend(page.iter().map(|i| i.id.0));
        let next = ListFilter { before: page.last().map(|i| i.id), ..filter.clone() };
        page = s.list_incidents(&next).await.unwrap();
    }
    let expected: Vec<i64> =
        (0..30usize).rev().filter(|n| n % 3 != 2 && n % 2 == 0 && n % 5 != 0).map(|n| n as i64 + 1).collect();
    assert_eq!(seen, expected);
}

async fn tokens_authenticate_until_revoked(f: Fixture) {
    let s = &f.store;
    let (token, info) = s.create_token("ci", AccessRole::Responder, t(0)).await.unwrap();
    assert!(token.starts_with("sw_") && token.len() == 51);
    let found = s.authenticate(&token).await.unwrap().expect("token works");
    assert_eq!((found.name.as_str(), found.role), ("ci", AccessRole::Responder));
    assert!(s.authenticate("sw_nope").await.unwrap().is_none());
    assert!(s.revoke_token(info.id, t(1)).await.unwrap());
    assert!(s.authenticate(&token).await.unwrap().is_none());
    assert!(!s.revoke_token(info.id, t(2)).await.unwrap());
}
