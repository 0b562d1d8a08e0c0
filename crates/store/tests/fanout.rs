//! Two replicas on one PostgreSQL database: a live subscriber of either sees every event
//! committed by both, once each (LISTEN/NOTIFY). Skipped with a reason when PostgreSQL is
//! unreachable, failed under SEVWATCH_REQUIRE_ALL=1.

use std::time::Duration;

use sevwatch_core::{Command, IncidentId, Policy, SealedEvent, Severity, Timestamp};
use sevwatch_store::{Backend, IncidentOp, Store};
use tokio::sync::broadcast;

fn op(target: Option<IncidentId>, command: Command) -> IncidentOp {
    IncidentOp { target, command, actor: "alice".into(), now: Timestamp::now() }
}

/// The next event on `rx`, waiting at most a few seconds for the database to deliver it.
async fn next(rx: &mut broadcast::Receiver<SealedEvent>) -> Option<SealedEvent> {
    tokio::time::timeout(Duration::from_secs(10), rx.recv()).await.ok()?.ok()
}

#[tokio::test]
async fn each_replica_sees_the_events_the_other_commits() {
    let Some(url) = sevwatch_testkit::postgres_url().await else { return };
    let backend = Backend::Postgres { url };
    let a = Store::open(&backend, Policy::default()).await.unwrap();
    let b = Store::open(&backend, Policy::default()).await.unwrap();
    let (mut on_a, mut on_b) = (a.subscribe(), b.subscribe());
    // Give both listeners time to be listening: a notification sent before LISTEN is not kept.
    // (Waiting for a write of each to come round proves it.)
    let declare = Command::Declare { title: "db down".into(), severity: Severity::P3, service: None, summary: None };
    let written = a.execute(op(None, declare)).await.unwrap();
    let id = written.incident.id;
    let mut seen_on_a = Vec::new();
    for _ in &written.events {
        seen_on_a.push(next(&mut on_a).await.expect("a's own events").seq);
    }
    let mut seen_on_b = Vec::new();
    while seen_on_b.len() < written.events.len() {
        match next(&mut on_b).await {
            Some(e) => seen_on_b.push(e.seq),
            None => break,
        }
    }
    // The first write may have raced b's LISTEN; from now on every event must arrive.
    let noted = b.execute(op(Some(id), Command::AddNote { text: "from b".into() })).await.unwrap();
    let from_b = noted.events[0].seq;
    let got = loop {
        let e = next(&mut on_a).await.expect("a sees b's note");
        if e.seq == from_b {
            break e;
        }
    };
    assert_eq!((got.incident, got.hash.clone()), (id, noted.events[0].hash.clone()));
    let again = a.execute(op(Some(id), Command::AddNote { text: "from a".into() })).await.unwrap();
    let want = again.events[0].seq;
    // On b: its own note (from its writer) once, then a's note through the database.
    let mut own = 0;
    let got = loop {
        let e = next(&mut on_b).await.expect("b sees a's note");
        own += usize::from(e.seq == from_b);
        if e.seq == want {
            break e;
        }
    };
    assert_eq!(got.hash, again.events[0].hash);
    while let Ok(e) = on_b.try_recv() {
        own += usize::from(e.seq == from_b);
    }
    assert_eq!(own, 1, "b's own note reaches b once, not again through the database");
    assert_eq!(seen_on_a.len(), written.events.len());
}
