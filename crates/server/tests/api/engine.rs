//! The engine driven by a clock: timers are rows, and `engine::tick(store, anchor, now)` fires
//! those due at `now`. Two replicas on one PostgreSQL database tick at the same moments, as
//! two servers' engines would: every escalation step still pages once.

use std::collections::BTreeMap;

use sevwatch_core::{Command, Severity, Timestamp};
use sevwatch_store::{Backend, IncidentOp, Store};

use crate::helpers::run_engine;
use crate::oncall::{config, step};

/// `(round, step)` of every page on each incident's timeline.
async fn pages(store: &Store, ids: &[sevwatch_core::IncidentId]) -> BTreeMap<String, Vec<(u64, u64)>> {
    let mut all = BTreeMap::new();
    for id in ids {
        let events = store.timeline(*id, 0, 1000).await.unwrap();
        let paged = events
            .iter()
            .map(|e| serde_json::to_value(&e.event.kind).unwrap())
            .filter(|k| k["type"] == "paged")
            .map(|k| (k["round"].as_u64().unwrap(), k["step"].as_u64().unwrap()))
            .collect();
        all.insert(id.to_string(), paged);
    }
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_ticking_at_the_same_moments_page_each_step_once() {
    let Some(url) = sevwatch_testkit::postgres_url().await else { return };
    let config = config(&[step("0s", "user:alice"), step("2s", "user:bob"), step("4s", "user:carol")].concat(), "");
    let backend = Backend::Postgres { url };
    let a = Store::open_configured(&backend, &config).await.unwrap();
    let b = Store::open_configured(&backend, &config).await.unwrap();
    let t0 = Timestamp::now();
    let at = |ms: i64| Timestamp::from_millisecond(t0.as_millisecond() + ms).unwrap();
    let mut ids = Vec::new();
    for n in 0..30 {
        let store = if n % 2 == 0 { &a } else { &b };
        let cmd =
            Command::Declare { title: format!("replica {n}"), severity: Severity::P1, service: None, summary: None };
        let done = store.execute(IncidentOp { target: None, command: cmd, actor: "t".into(), now: t0 }).await.unwrap();
        ids.push(done.incident.id);
    }
    let every =
        |pairs: &[(u64, u64)]| ids.iter().map(|id| (id.to_string(), pairs.to_vec())).collect::<BTreeMap<_, _>>();
    assert_eq!(pages(&a, &ids).await, every(&[(0, 0)]), "the first step pages with the declaration");
    tokio::join!(run_engine(&a, at(1_999)), run_engine(&b, at(1_999)));
    assert_eq!(pages(&a, &ids).await, every(&[(0, 0)]), "nothing before the second step's delay");
    tokio::join!(run_engine(&a, at(2_000)), run_engine(&b, at(2_000)));
    assert_eq!(pages(&b, &ids).await, every(&[(0, 0), (0, 1)]), "both replicas fired the 2 s step: once each");
    // One replica is gone; the other fires the rest, late, and once.
    run_engine(&b, at(10_000)).await;
    run_engine(&b, at(10_001)).await;
    assert_eq!(pages(&a, &ids).await, every(&[(0, 0), (0, 1), (0, 2)]));
    for id in &ids {
        assert!(a.verify(*id).await.unwrap().ok, "{id}'s chain verifies");
    }
}
