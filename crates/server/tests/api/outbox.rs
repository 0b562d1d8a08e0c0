//! Delivery through the outbox, to real local receivers: an HTTP server that answers as Slack,
//! Discord, a webhook consumer and PagerDuty do (or fails, or hangs, on request), and a real
//! SMTP server. Messages are written with their events, retried with backoff, dead-lettered,
//! retried by hand, and survive a worker that dies mid-delivery.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use reqwest::Method;
use serde_json::{json, Value};
use sevwatch_core::{Command, Severity, Timestamp};
use sevwatch_notify::channel::webhook::{SIGNATURE_HEADER, TIMESTAMP_HEADER};
use sevwatch_store::{IncidentOp, OutboxFilter, Store};

use crate::helpers::{assert_problem, spawn_app_toml, Db, TestApp};

/// One request a receiver got.
#[derive(Clone, Debug)]
struct Hit {
    path: String,
    headers: HashMap<String, String>,
    body: Bytes,
    at: Instant,
}

impl Hit {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

#[derive(Clone, Default)]
struct Receiver {
    hits: Arc<Mutex<Vec<Hit>>>,
    healed: Arc<AtomicBool>,
}

impl Receiver {
    fn hits(&self, path: &str) -> Vec<Hit> {
        self.hits.lock().unwrap().iter().filter(|h| h.path == path).cloned().collect()
    }

    fn all(&self) -> Vec<Hit> {
        self.hits.lock().unwrap().clone()
    }
}

async fn receive(
    State(r): State<Receiver>,
    Path(path): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, String) {
    let headers = headers.iter().map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string())).collect();
    r.hits.lock().unwrap().push(Hit { path: path.clone(), headers, body, at: Instant::now() });
    match path.as_str() {
        "pd" => (StatusCode::ACCEPTED, r#"{"status":"success","message":"Event processed"}"#.into()),
        "gone" => (StatusCode::NOT_FOUND, "no_service".into()),
        "flaky" if !r.healed.load(Ordering::SeqCst) => (StatusCode::SERVICE_UNAVAILABLE, "down for a deploy".into()),
        "hang" => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            (StatusCode::OK, String::new())
        }
        _ => (StatusCode::OK, "ok".into()),
    }
}

/// A receiver on 127.0.0.1:0; every path is `{base}/<name>`.
async fn receiver() -> (String, Receiver) {
    let r = Receiver::default();
    let app = Router::new().route("/{*path}", post(receive)).with_state(r.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (base, r)
}

async fn wait_until<F: Fn() -> bool>(what: &str, secs: u64, ok: F) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !ok() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

async fn messages(app: &TestApp, query: &str) -> Vec<Value> {
    let (s, v) = app.get(&format!("/api/v1/outbox?{query}")).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v["messages"].as_array().unwrap().clone()
}

async fn wait_for_status(app: &TestApp, query: &str, n: usize, secs: u64) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let m = messages(app, query).await;
        if m.len() >= n {
            return m;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {n} messages with {query}: {m:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

const FAST_RETRIES: &str =
    "[outbox]\nbackoff = \"100ms\"\nmax_backoff = \"400ms\"\nmax_attempts = 3\nallow_networks = [\"127.0.0.0/8\"]\n";

fn every_kind(base: &str) -> String {
    format!(
        r##"
[[users]]
id = "alice"
name = "Alice"
contacts = [{{ webhook = "{base}/alice" }}, {{ slack = "{base}/alice-slack" }}]

[[escalation_policies]]
id = "p1"
name = "High"
[[escalation_policies.steps]]
delay = "0s"
targets = ["user:alice"]

[[channels]]
name = "#incident-high"
kind = "slack"
url = "{base}/slack"
[[channels]]
name = "discord"
kind = "discord"
url = "{base}/discord"
[[channels]]
name = "hook"
kind = "webhook"
url = "{base}/hook"
secret = "s3cret"
[[channels]]
name = "pd"
kind = "pagerduty"
url = "{base}/pd"
routing_key = "R0UTINGKEY"

[[channel_routes]]
severities = ["P1"]
channel = "#incident-high"
[[channel_routes]]
severities = ["P0", "P1"]
channel = "discord"
[[channel_routes]]
channel = "hook"
[[channel_routes]]
severities = ["P0", "P1"]
channel = "pd"

{FAST_RETRIES}
contact_webhook_secret = "alice-secret"
"##
    )
}

fn signed(h: &Hit, secret: &str) -> bool {
    sevwatch_notify::verify_signature(
        secret.as_bytes(),
        &h.headers[&TIMESTAMP_HEADER.to_ascii_lowercase()],
        &h.body,
        &h.headers[&SIGNATURE_HEADER.to_ascii_lowercase()],
        Timestamp::now(),
        Duration::from_secs(300),
    )
}

async fn a_declaration_reaches_every_channel_kind_and_the_paged_person(db: Db) {
    let (base, rx) = receiver().await;
    let Some((app, _)) = spawn_app_toml(db, &every_kind(&base)).await else { return };
    let id = app.declare("checkout is down", "P1").await;
    let paths = ["slack", "discord", "hook", "pd", "alice", "alice-slack"];
    wait_until("six deliveries", 20, || paths.iter().all(|p| !rx.hits(p).is_empty())).await;

    let slack = rx.hits("slack")[0].json();
    assert!(slack["blocks"].as_array().is_some_and(|b| !b.is_empty()), "Slack gets Block Kit: {slack}");
    assert!(slack.to_string().contains("checkout is down"), "{slack}");
    let discord = rx.hits("discord")[0].json();
    assert!(discord["embeds"][0]["title"].as_str().is_some_and(|t| t.contains(&id)), "{discord}");
    let hook = &rx.hits("hook")[0];
    assert!(signed(hook, "s3cret"), "the channel's webhook is signed with its secret");
    assert_eq!(hook.json()["incident"]["id"], id.as_str());
    let pd = rx.hits("pd")[0].json();
    assert_eq!((pd["routing_key"].as_str(), pd["event_action"].as_str()), (Some("R0UTINGKEY"), Some("trigger")));
    assert_eq!(pd["dedup_key"], id.as_str());
    assert!(signed(&rx.hits("alice")[0], "alice-secret"), "a person's webhook is signed with the contact secret");
    assert!(rx.hits("alice-slack")[0].json()["blocks"].is_array());

    let sent = wait_for_status(&app, "status=sent", 6, 10).await;
    assert!(sent.iter().all(|m| m["attempts"] == 1 && m["incident"] == id.as_str()), "{sent:?}");
    let templates: Vec<&str> = sent.iter().map(|m| m["template"].as_str().unwrap()).collect();
    assert!(templates.iter().all(|t| *t == "incident-declared"), "{templates:?}");
    // One message per recipient: the paged person's two contacts, the four routed channels.
    assert_eq!(rx.all().len(), 6, "{:?}", rx.all().iter().map(|h| &h.path).collect::<Vec<_>>());

    let (s, v) = app
        .post(&format!("/api/v1/incidents/{id}/resolve"), json!({ "root_cause": "bad deploy", "force": true }))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    wait_until("the resolution to reach PagerDuty", 20, || rx.hits("pd").len() == 2).await;
    assert_eq!(rx.hits("pd")[1].json()["event_action"], "resolve");
    wait_until("the resolution to reach the other channels", 20, || rx.hits("slack").len() == 2).await;
    let resolved = wait_for_status(&app, "status=sent", 10, 10).await;
    assert_eq!(resolved.iter().filter(|m| m["template"] == "resolved").count(), 4, "people are not told twice");
}

async fn a_failing_receiver_is_retried_with_backoff_then_dead_lettered_and_retried_by_hand(db: Db) {
    let (base, rx) = receiver().await;
    let toml = format!(
        "[[channels]]\nname = \"flaky\"\nkind = \"webhook\"\nurl = \"{base}/flaky\"\nsecret = \"x\"\n\
         [[channels]]\nname = \"gone\"\nkind = \"slack\"\nurl = \"{base}/gone\"\n\
         [[channel_routes]]\nchannel = \"flaky\"\n[[channel_routes]]\nchannel = \"gone\"\n{FAST_RETRIES}"
    );
    let Some((app, _)) = spawn_app_toml(db, &toml).await else { return };
    let id = app.declare("payments erroring", "P2").await;
    let dead = wait_for_status(&app, "status=dead", 2, 20).await;
    let by = |r: &str| dead.iter().find(|m| m["recipient"] == r).unwrap_or_else(|| panic!("{r}: {dead:?}")).clone();
    let (flaky, gone) = (by("channel:flaky"), by("channel:gone"));
    assert_eq!(flaky["attempts"], 3, "a 503 is retried until max_attempts");
    assert_eq!(flaky["last_status"], 503);
    assert!(flaky["last_error"].as_str().unwrap().contains("down for a deploy"), "{flaky}");
    assert_eq!(gone["attempts"], 1, "a 404 is not retried: {gone}");
    assert_eq!(rx.hits("gone").len(), 1);

    let hits = rx.hits("flaky");
    assert_eq!(hits.len(), 3);
    let gaps: Vec<Duration> = hits.windows(2).map(|w| w[1].at - w[0].at).collect();
    assert!(gaps[0] >= Duration::from_millis(50), "first retry waits at least half the backoff: {gaps:?}");
    assert!(gaps[1] >= Duration::from_millis(100), "the second waits at least half of twice the backoff: {gaps:?}");

    let (s, shown) = app.get(&format!("/api/v1/outbox/{}", flaky["id"])).await;
    assert_eq!(s, StatusCode::OK, "{shown}");
    let attempts = shown["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 3);
    assert!(attempts.iter().all(|a| a["outcome"] == "retry" && a["status_code"] == 503), "{attempts:?}");
    assert!(shown["text"]["body"].as_str().unwrap().contains(&id), "the message text is kept: {shown}");

    rx.healed.store(true, Ordering::SeqCst);
    let (s, v) = app.post(&format!("/api/v1/outbox/{}/retry", flaky["id"]), json!({})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    wait_until("the retried message", 20, || rx.hits("flaky").len() == 4).await;
    wait_for_status(&app, "status=sent", 1, 10).await;
    let (_, shown) = app.get(&format!("/api/v1/outbox/{}", flaky["id"])).await;
    assert_eq!(shown["attempts"].as_array().unwrap().len(), 4, "earlier attempts stay on record");
    assert_eq!(shown["attempts"][3]["outcome"], "ok");

    let again = app.post(&format!("/api/v1/outbox/{}/retry", flaky["id"]), json!({})).await;
    assert_problem(&again, 409, None);
    assert_problem(&app.post("/api/v1/outbox/999999/retry", json!({})).await, 404, None);
    assert_problem(&app.get("/api/v1/outbox?status=lost").await, 422, Some("status"));
    let (s, v) = app.post("/api/v1/outbox/retry", json!({})).await;
    assert_eq!((s, v["retried"].as_u64()), (StatusCode::OK, Some(1)), "only the 404 is still dead: {v}");
}

async fn a_hanging_receiver_does_not_hold_up_other_deliveries(db: Db) {
    let (base, rx) = receiver().await;
    let toml = format!(
        "[[channels]]\nname = \"hang\"\nkind = \"slack\"\nurl = \"{base}/hang\"\ntimeout = \"1s\"\n\
         [[channels]]\nname = \"fast\"\nkind = \"discord\"\nurl = \"{base}/fast\"\n\
         [[channel_routes]]\nchannel = \"hang\"\n[[channel_routes]]\nchannel = \"fast\"\n{FAST_RETRIES}"
    );
    let Some((app, _)) = spawn_app_toml(db, &toml).await else { return };
    for i in 0..3 {
        app.declare(&format!("incident {i}"), "P3").await;
    }
    wait_until("the hanging receiver to be called", 10, || !rx.hits("hang").is_empty()).await;
    let first_hang = rx.hits("hang")[0].at;
    wait_until("the fast receiver to get all three", 10, || rx.hits("fast").len() == 3).await;
    let last_fast = rx.hits("fast").iter().map(|h| h.at).max().unwrap();
    assert!(
        last_fast < first_hang + Duration::from_millis(900),
        "the fast channel was served while the slow one hung ({:?} after)",
        last_fast.saturating_duration_since(first_hang)
    );
    let timed_out = wait_for_status(&app, "status=pending", 3, 10).await;
    let timed_out: Vec<&Value> = timed_out.iter().filter(|m| m["last_error"].is_string()).collect();
    assert!(!timed_out.is_empty(), "after its timeout the hung delivery is queued for a retry");
    assert!(timed_out[0]["last_error"].as_str().unwrap().contains("timed out"), "{:?}", timed_out[0]);
}

async fn comms_send_records_the_update_and_posts_it(db: Db) {
    let (base, rx) = receiver().await;
    let dir = sevwatch_testkit::temp_dir();
    std::fs::write(dir.path().join("customer-progress.j2"), "Subject: {{ id }}\n\n{{ eta_from_nowhere }}\n").unwrap();
    let toml = format!(
        "templates_dir = \"{}\"\n\
         [[channels]]\nname = \"#incident-high\"\nkind = \"slack\"\nurl = \"{base}/high\"\n\
         [[channels]]\nname = \"status-page\"\nkind = \"webhook\"\nurl = \"{base}/status\"\nsecret = \"x\"\n\
         [[channel_routes]]\nseverities = [\"P1\"]\nchannel = \"#incident-high\"\n{FAST_RETRIES}",
        dir.path().display()
    );
    let Some((app, _)) = spawn_app_toml(db, &toml).await else { return };
    let id = app.declare("login failing", "P1").await;
    wait_until("the declaration", 10, || rx.hits("high").len() == 1).await;
    let (_, before) = app.get(&format!("/api/v1/incidents/{id}")).await;

    let (s, v) = app
        .post(
            &format!("/api/v1/incidents/{id}/comms/status-update"),
            json!({ "fields": { "update": "Rolled back 3.4.1; error rate falling." } }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert!(v["body"].as_str().unwrap().contains("Rolled back 3.4.1"), "{v}");
    let to: Vec<&str> = v["deliveries"].as_array().unwrap().iter().map(|d| d["recipient"].as_str().unwrap()).collect();
    assert_eq!(to, ["channel:#incident-high"], "routed by severity");
    wait_until("the update", 10, || rx.hits("high").len() == 2).await;
    assert!(rx.hits("high")[1].json().to_string().contains("Rolled back 3.4.1"));

    let (_, after) = app.get(&format!("/api/v1/incidents/{id}")).await;
    assert!(
        after["last_update_at"].as_str() > before["last_update_at"].as_str(),
        "the update restarts the cadence: {} -> {}",
        before["last_update_at"],
        after["last_update_at"]
    );
    let (_, t) = app.get(&format!("/api/v1/incidents/{id}/timeline")).await;
    let last = t["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["type"], "update_posted", "{last}");
    assert!(last["data"]["body"].as_str().unwrap().contains("Rolled back"), "the text as sent is on the timeline");

    let (s, v) = app
        .post(
            &format!("/api/v1/incidents/{id}/comms/customer-initial"),
            json!({ "fields": { "impact": "Some customers cannot sign in." }, "channels": ["status-page"] }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    wait_until("the customer notice", 10, || rx.hits("status").len() == 1).await;
    assert_eq!(rx.hits("high").len(), 2, "a named channel replaces the routed ones");

    let events_before = t["events"].as_array().unwrap().len();
    let outbox_before = messages(&app, "").await.len();
    let bad = app.post(&format!("/api/v1/incidents/{id}/comms/customer-progress"), json!({})).await;
    assert_problem(&bad, 422, Some("eta_from_nowhere"));
    assert!(bad.1["detail"].as_str().unwrap().contains("customer-progress.j2:3"), "file and line: {}", bad.1);
    let unknown =
        app.post(&format!("/api/v1/incidents/{id}/comms/status-update"), json!({ "channels": ["nope"] })).await;
    assert_problem(&unknown, 422, Some("channels[0]"));
    assert_problem(&app.post(&format!("/api/v1/incidents/{id}/comms/no-such-template"), json!({})).await, 404, None);
    let (_, t) = app.get(&format!("/api/v1/incidents/{id}/timeline")).await;
    assert_eq!(t["events"].as_array().unwrap().len(), events_before + 1, "refused sends record nothing");
    assert_eq!(messages(&app, "").await.len(), outbox_before, "and queue nothing");
}

async fn users_and_their_contacts_are_managed_through_the_api(db: Db) {
    let toml = "[[users]]\nid = \"alice\"\nname = \"Alice\"\ncontacts = [{ email = \"alice@example.com\" }]\n";
    let Some((app, _)) = spawn_app_toml(db, toml).await else { return };
    let put = |id: &str, body: Value| {
        let path = format!("/api/v1/users/{id}");
        let app = &app;
        async move { app.call(Method::PUT, &path, Some(&app.admin), Some(body)).await }
    };
    let bad = put("bob", json!({ "name": "Bob", "contacts": [{ "kind": "email", "to": "bob@" }] })).await;
    assert_problem(&bad, 422, Some("contacts[0].to"));
    let bad = put("bob", json!({ "name": "Bob", "contacts": [{ "kind": "pager", "to": "x" }] })).await;
    assert_problem(&bad, 422, Some("contacts[0].kind"));
    assert_problem(&put("Bob Smith", json!({ "name": "Bob" })).await, 422, Some("id"));
    let (s, v) = put(
        "bob",
        json!({ "name": "Bob", "contacts": [{ "kind": "email", "to": "bob@example.com" }, { "kind": "slack", "to": "https://hooks.slack.com/services/T0/B0/secret" }] }),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert!(!v.to_string().contains("secret"), "webhook URLs are not shown: {v}");
    let (_, list) = app.get("/api/v1/users").await;
    let sources: Vec<(String, String)> = list["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| (u["id"].as_str().unwrap().to_string(), u["source"].as_str().unwrap().to_string()))
        .collect();
    assert!(sources.contains(&("alice".into(), "config".into())), "{sources:?}");
    assert!(sources.contains(&("bob".into(), "api".into())), "{sources:?}");
    let viewer = app.token("viewer", "v").await;
    let denied = app.call(Method::PUT, "/api/v1/users/eve", Some(&viewer), Some(json!({ "name": "Eve" }))).await;
    assert_eq!(denied.0, StatusCode::FORBIDDEN);
    assert_problem(&app.call(Method::DELETE, "/api/v1/users/alice", Some(&app.admin), None).await, 409, None);
    let (s, _) = app.call(Method::DELETE, "/api/v1/users/bob", Some(&app.admin), None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_problem(&app.get("/api/v1/users/bob").await, 404, None);
}

crate::helpers::on_both_backends_with!(
    a_declaration_reaches_every_channel_kind_and_the_paged_person,
    a_failing_receiver_is_retried_with_backoff_then_dead_lettered_and_retried_by_hand,
    a_hanging_receiver_does_not_hold_up_other_deliveries,
    comms_send_records_the_update_and_posts_it,
    users_and_their_contacts_are_managed_through_the_api,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paged_person_gets_email_through_the_smtp_relay() {
    let Some(smtp) = sevwatch_testkit::smtp::smtp_server().await else { return };
    let toml = format!(
        "[[users]]\nid = \"bob\"\nname = \"Bob\"\ncontacts = [{{ email = \"bob@example.com\" }}]\n\
         [[escalation_policies]]\nid = \"p2\"\nname = \"Medium\"\n\
         [[escalation_policies.steps]]\ndelay = \"0s\"\ntargets = [\"user:bob\"]\n\
         [[channels]]\nname = \"mail\"\nkind = \"email\"\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\n\
         from = \"sevwatch@example.test\"\nto = [\"oncall@example.test\"]\n\
         [[channel_routes]]\nseverities = [\"P0\"]\nchannel = \"mail\"\n",
        smtp.port
    );
    let Some((app, _)) = spawn_app_toml(Db::Sqlite, &toml).await else { return };
    let id = app.declare("replication lag", "P2").await;
    let deadline = Instant::now() + Duration::from_secs(20);
    while smtp.messages().is_empty() {
        assert!(Instant::now() < deadline, "no mail arrived");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mail = &smtp.messages()[0];
    assert!(mail.contains("X-Envelope-To: bob@example.com"), "to the person, not the channel's list:\n{mail}");
    assert!(mail.contains(&format!("[P2] {id} declared: replication lag")), "{mail}");
    assert_eq!(smtp.messages().len(), 1, "the P0-only channel route does not apply to a P2");
}

/// A worker that claims messages and dies before recording them: once its lease lapses,
/// another delivers them, once each.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_claimed_by_a_worker_that_died_are_delivered_after_the_lease_lapses() {
    let (base, rx) = receiver().await;
    let toml = format!(
        "[[channels]]\nname = \"ops\"\nkind = \"slack\"\nurl = \"{base}/ops\"\n[[channel_routes]]\nchannel = \"ops\"\n\
         [outbox]\nallow_networks = [\"127.0.0.1\"]\n"
    );
    let (config, notify) = sevwatch_notify::config::parse_all(&toml).unwrap();
    let dir = sevwatch_testkit::temp_dir();
    let backend = sevwatch_store::Backend::Sqlite { path: dir.path().join("sevwatch.db") };
    let templates = Arc::new(sevwatch_notify::Templates::defaults());
    let store = Store::open_full(&backend, &config, notify, templates).await.unwrap();
    for i in 0..5 {
        let cmd = Command::Declare { title: format!("disk {i}"), severity: Severity::P3, service: None, summary: None };
        store
            .execute(IncidentOp { target: None, command: cmd, actor: "t".into(), now: Timestamp::now() })
            .await
            .unwrap();
    }
    let all = OutboxFilter { limit: 100, ..OutboxFilter::default() };
    assert_eq!(store.outbox(&all).await.unwrap().len(), 5, "one message per declaration, written with it");
    let claimed = store.claim_outbox(Timestamp::now(), Duration::from_millis(500), 3).await.unwrap();
    assert_eq!(claimed.len(), 3);
    // The claimant "dies" here. A new worker starts (as after a restart).
    sevwatch_server::outbox::spawn(store.clone());
    wait_until("the two unclaimed messages", 10, || rx.hits("ops").len() >= 2).await;
    assert_eq!(rx.hits("ops").len(), 2, "claimed messages wait for their lease");
    wait_until("the rest, once the lease lapsed", 10, || rx.hits("ops").len() >= 5).await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    let mut titles: Vec<String> = rx.all().iter().map(|h| h.json()["text"].to_string()).collect();
    titles.sort();
    titles.dedup();
    assert_eq!((rx.all().len(), titles.len()), (5, 5), "each message once");
}

/// Two replicas on one PostgreSQL database, both delivering: every message goes out once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_deliver_each_message_once() {
    let Some(url) = sevwatch_testkit::postgres_url().await else { return };
    let (base, rx) = receiver().await;
    let toml = format!(
        "[[channels]]\nname = \"ops\"\nkind = \"slack\"\nurl = \"{base}/ops\"\n[[channel_routes]]\nchannel = \"ops\"\n\
         [outbox]\nallow_networks = [\"127.0.0.1\"]\n"
    );
    let (config, notify) = sevwatch_notify::config::parse_all(&toml).unwrap();
    let backend = sevwatch_store::Backend::Postgres { url };
    let templates = Arc::new(sevwatch_notify::Templates::defaults());
    let a = Store::open_full(&backend, &config, notify.clone(), templates.clone()).await.unwrap();
    let b = Store::open_full(&backend, &config, notify, templates).await.unwrap();
    sevwatch_server::outbox::spawn(a.clone());
    sevwatch_server::outbox::spawn(b.clone());
    let n = 40;
    let mut tasks = Vec::new();
    for i in 0..n {
        let s = if i % 2 == 0 { a.clone() } else { b.clone() };
        tasks.push(tokio::spawn(async move {
            let cmd = Command::Declare {
                title: format!("replica {i}"),
                severity: Severity::P3,
                service: None,
                summary: None,
            };
            s.execute(IncidentOp { target: None, command: cmd, actor: "t".into(), now: Timestamp::now() })
                .await
                .unwrap();
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    wait_until("every message", 30, || rx.hits("ops").len() >= n).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    let mut ids: Vec<String> = rx.all().iter().map(|h| h.json()["text"].to_string()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!((rx.all().len(), ids.len()), (n, n), "each message delivered once across the replicas");
}
