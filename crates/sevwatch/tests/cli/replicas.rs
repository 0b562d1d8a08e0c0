//! Two replicas on one PostgreSQL database run the engine at once; one is killed with SIGKILL
//! while escalation timers are coming due. Every step still pages exactly once. The servers are
//! child processes on the system clock, so the test waits on what they do (bounded polls);
//! the same property on a moved clock, without processes, is `tests/api/engine.rs`.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{json, Value};

use crate::helpers::{get_json, post_json, Server};

const POLICY: &str = r#"
[[users]]
id = "alice"
name = "Alice"
contacts = [{ email = "alice@example.com" }]
[[users]]
id = "bob"
name = "Bob"
contacts = [{ email = "bob@example.com" }]
[[escalation_policies]]
id = "p2"
name = "Medium"
[[escalation_policies.steps]]
delay = "0s"
targets = ["user:alice"]
[[escalation_policies.steps]]
delay = "2s"
targets = ["user:bob"]
[[escalation_policies.steps]]
delay = "4s"
targets = ["channel:#incident-warning"]
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_escalation_step_pages_once_across_replicas_when_one_dies() {
    let Some(url) = sevwatch_testkit::postgres_url().await else { return };
    let dir = sevwatch_testkit::temp_dir();
    let cfg = dir.path().join("sevwatch.toml");
    std::fs::write(&cfg, POLICY).unwrap();
    let data = dir.path().join("data");
    let (mut a, b) = tokio::task::block_in_place(|| {
        (Server::start_with(&data, Some(&url), Some(&cfg)), Server::start_with(&data, Some(&url), Some(&cfg)))
    });
    let token = a.admin_token();
    let mut ids = Vec::new();
    for n in 0..30 {
        let base = if n % 2 == 0 { &a.url } else { &b.url };
        let v = post_json(
            &format!("{base}/api/v1/incidents"),
            &token,
            &json!({ "title": format!("replica test {n}"), "severity": "P2" }),
        )
        .await;
        ids.push(v["id"].as_str().unwrap().to_string());
    }
    // Kill one replica as soon as the 2 s step starts paging: both engines are firing it then.
    // The wait is on the two child processes' engines, bounded, polled every 50 ms.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !pages(&b.url, &token, &ids).await.values().any(|p| p.len() >= 2) {
        assert!(tokio::time::Instant::now() < deadline, "the 2 s step never paged");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    a.kill_9();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let pages = pages(&b.url, &token, &ids).await;
        let done = ids.iter().all(|id| pages.get(id).is_some_and(|p| p.len() >= 3));
        if done || tokio::time::Instant::now() > deadline {
            for id in &ids {
                let p = pages.get(id).cloned().unwrap_or_default();
                assert_eq!(p, [(0, 0), (0, 1), (0, 2)], "{id} paged {p:?}");
            }
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let v: Value = get_json(&format!("{}/api/v1/verify", b.url), &token).await;
    assert_eq!(v["ok"], true, "{v}");
}

/// `(round, step)` of every page on each incident's timeline, read from the server at `base`.
async fn pages(base: &str, token: &str, ids: &[String]) -> BTreeMap<String, Vec<(u64, u64)>> {
    let mut pages: BTreeMap<String, Vec<(u64, u64)>> = BTreeMap::new();
    for id in ids {
        let t: Value = get_json(&format!("{base}/api/v1/incidents/{id}/timeline"), token).await;
        for e in t["events"].as_array().unwrap().iter().filter(|e| e["type"] == "paged") {
            pages
                .entry(id.clone())
                .or_default()
                .push((e["data"]["round"].as_u64().unwrap(), e["data"]["step"].as_u64().unwrap()));
        }
    }
    pages
}
