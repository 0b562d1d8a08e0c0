//! kill -9 during a burst of writes: every write that was answered 2xx is present after a
//! restart, and every hash chain still verifies. Run on SQLite and on PostgreSQL.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

use crate::helpers::{get_json, post_json, Server};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_kill_9_on_sqlite() {
    let dir = sevwatch_testkit::temp_dir();
    crash_story(dir.path(), None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_kill_9_on_postgres() {
    let Some(url) = sevwatch_testkit::postgres_url().await else { return };
    let dir = sevwatch_testkit::temp_dir();
    crash_story(dir.path(), Some(&url)).await;
}

async fn crash_story(dir: &std::path::Path, database_url: Option<&str>) {
    let data = dir.join("data");
    let mut server = tokio::task::block_in_place(|| Server::start(&data, database_url));
    let token = server.admin_token();
    let http = reqwest::Client::new();
    let base = server.url.clone();
    let mut incidents = Vec::new();
    for n in 0..4 {
        let v = post_json(
            &format!("{base}/api/v1/incidents"),
            &token,
            &json!({ "title": format!("burst {n}"), "severity": "P2" }),
        )
        .await;
        incidents.push(v["id"].as_str().unwrap().to_string());
    }
    let acked: Arc<Mutex<BTreeSet<(String, String)>>> = Arc::default();
    let count = Arc::new(AtomicUsize::new(0));
    let enough = Arc::new(tokio::sync::Notify::new());
    let mut writers = Vec::new();
    for w in 0..16 {
        let (http, base, token, acked, count, enough) =
            (http.clone(), base.clone(), token.clone(), acked.clone(), count.clone(), enough.clone());
        let target = incidents[w % incidents.len()].clone();
        writers.push(tokio::spawn(async move {
            for n in 0.. {
                let text = format!("w{w}-n{n}");
                let sent = http
                    .post(format!("{base}/api/v1/incidents/{target}/notes"))
                    .bearer_auth(&token)
                    .json(&json!({ "text": text }))
                    .send()
                    .await;
                match sent {
                    Ok(r) if r.status().is_success() => {
                        acked.lock().unwrap().insert((target.clone(), text));
                        if count.fetch_add(1, Ordering::SeqCst) + 1 == 300 {
                            enough.notify_one();
                        }
                    }
                    // The server is gone: this writer's burst is over.
                    _ => break,
                }
            }
        }));
    }
    enough.notified().await;
    server.kill_9();
    for w in writers {
        w.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() >= 300, "only {} writes were acknowledged", acked.len());

    let restarted = tokio::task::block_in_place(|| Server::start(&data, database_url));
    let base = restarted.url.clone();
    let mut stored = BTreeSet::new();
    for id in &incidents {
        let v: Value = get_json(&format!("{base}/api/v1/incidents/{id}/timeline"), &token).await;
        for e in v["events"].as_array().unwrap() {
            if e["type"] == "note_added" {
                stored.insert((id.clone(), e["data"]["text"].as_str().unwrap().to_string()));
            }
        }
    }
    let lost: Vec<_> = acked.difference(&stored).collect();
    assert!(lost.is_empty(), "{} acknowledged write(s) lost after kill -9, e.g. {:?}", lost.len(), lost.first());
    let verify: Value = get_json(&format!("{base}/api/v1/verify"), &token).await;
    assert_eq!(verify["ok"], true, "{verify}");
    assert_eq!(verify["incidents"], 4);
}
