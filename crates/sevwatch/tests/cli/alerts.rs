//! Alerts from the command line: silences, the alert list, runbook links by alert name, and
//! kill -9 under alert load (every acknowledged alert is there after a restart, and no group
//! opened two incidents).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

use crate::helpers::{get_json, stdout, Server};

fn am(alerts: Vec<Value>) -> Value {
    json!({ "version": "4", "status": "firing", "receiver": "sevwatch", "groupKey": "{}", "alerts": alerts })
}

fn alert(name: &str, extra: Value) -> Value {
    let mut labels = json!({ "alertname": name, "severity": "warning" });
    for (k, v) in extra.as_object().into_iter().flatten() {
        labels[k] = v.clone();
    }
    json!({ "status": "firing", "labels": labels, "annotations": { "summary": format!("{name} fired") }, "startsAt": "2026-11-23T10:00:00Z" })
}

async fn post(url: &str, token: &str, body: &Value) -> reqwest::Result<reqwest::Response> {
    reqwest::Client::new().post(url).bearer_auth(token).json(body).send().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silences_and_alerts_from_the_command_line() {
    let dir = sevwatch_testkit::temp_dir();
    let s = tokio::task::block_in_place(|| Server::start(&dir.path().join("data"), None));
    let id =
        s.json(&["silence", "add", "--matcher", "alertname=\"Noisy\"", "--duration", "1h", "--comment", "known issue"]);
    let id = id["id"].as_str().unwrap().to_string();
    let listed = stdout(&s.sw(&["silence", "list"]));
    assert!(
        listed.contains(&id) && listed.contains("alertname=\"Noisy\"") && listed.contains("known issue"),
        "{listed}"
    );
    let url = format!("{}/api/v1/ingest/alertmanager", s.url);
    let r = post(&url, &s.admin_token(), &am(vec![alert("Noisy", json!({}))])).await.unwrap();
    assert!(r.status().is_success());
    let shown = stdout(&s.sw(&["alerts", "--firing"]));
    assert!(shown.contains("Noisy (silenced)"), "{shown}");
    assert!(s.json(&["list"])["incidents"].as_array().unwrap().is_empty());
    assert!(s.sw(&["silence", "expire", &id]).status.success());
    assert!(!s.sw(&["silence", "expire", &id]).status.success(), "an expired silence cannot be expired again");
    assert!(stdout(&s.sw(&["silence", "list"])).contains("no silences"));
    let bad = s.sw(&["silence", "add", "--matcher", "alertname=~\"(\"", "--duration", "1h", "--comment", "x"]);
    assert_eq!(bad.status.code(), Some(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alerts_name_links_its_incident_to_the_runbook_section() {
    let seeds = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/seeds");
    if !seeds.is_dir() {
        sevwatch_testkit::skip("alert to runbook linking", "../shared/seeds not found beside the repository");
        return;
    }
    let dir = sevwatch_testkit::temp_dir();
    let s = tokio::task::block_in_place(|| Server::start(&dir.path().join("data"), None));
    s.json(&["runbook", "import", seeds.to_str().unwrap()]);
    let body = am(vec![
        json!({ "status": "firing", "labels": { "alertname": "HighLatencyP95", "severity": "high", "service": "genesis" },
        "annotations": { "summary": "p95 above two seconds" }, "startsAt": "2026-11-23T10:00:00Z" }),
    ]);
    let r: Value = post(&format!("{}/api/v1/ingest/alertmanager", s.url), &s.admin_token(), &body)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = r["opened"][0].as_str().unwrap().to_string();
    let shown = s.json(&["show", &id]);
    assert_eq!(shown["title"], "p95 above two seconds");
    let best = &shown["suggested_runbooks"][0];
    assert_eq!(best["runbook"], "002_10fec5055860d3f4", "{shown}");
    assert!(best["section"].as_str().unwrap().contains("HighLatencyP95"), "{best}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_alerts_survive_kill_9_on_sqlite() {
    let dir = sevwatch_testkit::temp_dir();
    alert_crash_story(dir.path(), None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_alerts_survive_kill_9_on_postgres() {
    let Some(url) = sevwatch_testkit::postgres_url().await else { return };
    let dir = sevwatch_testkit::temp_dir();
    alert_crash_story(dir.path(), Some(&url)).await;
}

async fn alert_crash_story(dir: &Path, database_url: Option<&str>) {
    let data = dir.join("data");
    let mut server = tokio::task::block_in_place(|| Server::start(&data, database_url));
    let token = server.admin_token();
    let url = format!("{}/api/v1/ingest/alertmanager", server.url);
    let acked: Arc<Mutex<BTreeSet<String>>> = Arc::default();
    let count = Arc::new(AtomicUsize::new(0));
    let enough = Arc::new(tokio::sync::Notify::new());
    let mut senders = Vec::new();
    for w in 0..16 {
        let (url, token, acked, count, enough) =
            (url.clone(), token.clone(), acked.clone(), count.clone(), enough.clone());
        senders.push(tokio::spawn(async move {
            for n in 0.. {
                // Eight groups (alertnames) shared by every sender: concurrent first firings of
                // one group must still open a single incident.
                let instance = format!("w{w}-n{n}");
                let body = am(vec![alert(&format!("Group{}", n % 8), json!({ "instance": instance }))]);
                match post(&url, &token, &body).await {
                    Ok(r) if r.status().is_success() => {
                        acked.lock().unwrap().insert(instance);
                        if count.fetch_add(1, Ordering::SeqCst) + 1 == 400 {
                            enough.notify_one();
                        }
                    }
                    _ => break,
                }
            }
        }));
    }
    enough.notified().await;
    server.kill_9();
    for s in senders {
        s.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    let restarted = tokio::task::block_in_place(|| Server::start(&data, database_url));
    let alerts: Value = get_json(&format!("{}/api/v1/alerts?limit=10000", restarted.url), &token).await;
    let stored: BTreeSet<String> = alerts["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["alert"]["labels"]["instance"].as_str().map(String::from))
        .collect();
    let lost: Vec<&String> = acked.difference(&stored).collect();
    assert!(lost.is_empty(), "{} acknowledged alert(s) lost after kill -9, e.g. {:?}", lost.len(), lost.first());
    let mut incidents_per_group: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for a in alerts["alerts"].as_array().unwrap() {
        let group = a["alert"]["labels"]["alertname"].as_str().unwrap().to_string();
        incidents_per_group.entry(group).or_default().insert(a["incident"].as_str().unwrap_or("none").to_string());
    }
    for (group, incidents) in &incidents_per_group {
        assert_eq!(incidents.len(), 1, "{group} is spread over {incidents:?}");
    }
    let list: Value = get_json(&format!("{}/api/v1/incidents?limit=100", restarted.url), &token).await;
    assert_eq!(list["incidents"].as_array().unwrap().len(), incidents_per_group.len());
    let verify: Value = get_json(&format!("{}/api/v1/verify", restarted.url), &token).await;
    assert_eq!(verify["ok"], true, "{verify}");
}
