//! Delivery through the outbox, to real local receivers: an HTTP server that answers as Slack,
//! Discord, a webhook consumer and PagerDuty do (or fails, or hangs, on request), and a real
//! SMTP server. Messages are written with their events, retried with backoff, dead-lettered,
//! retried by hand, and survive a worker that dies mid-delivery. The tests deliver with
//! `Deliverer::drain_once` at times of their choosing: when a pass returns, its attempts are
//! recorded and its receivers have been called, so nothing is waited for.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use reqwest::Method;
use serde_json::{json, Value};
use sevwatch_core::{Command, Severity, Timestamp};
use sevwatch_notify::channel::webhook::{SIGNATURE_HEADER, TIMESTAMP_HEADER};
use sevwatch_server::outbox::Deliverer;
use sevwatch_store::{IncidentOp, OutboxFilter, Store};

use crate::helpers::{assert_problem, spawn_app_toml, Db, TestApp};

/// One request a receiver got.
#[derive(Clone, Debug)]
struct Hit {
    path: String,
    headers: HashMap<String, String>,
    body: Bytes,
}

impl Hit {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

#[derive(Clone)]
struct Receiver {
    hits: Arc<Mutex<Vec<Hit>>>,
    healed: Arc<AtomicBool>,
    /// Bumped on every hit, for a test that waits for one while a delivery pass is running.
    arrived: Arc<tokio::sync::watch::Sender<usize>>,
}

impl Receiver {
    fn hits(&self, path: &str) -> Vec<Hit> {
        self.hits.lock().unwrap().iter().filter(|h| h.path == path).cloned().collect()
    }

    fn all(&self) -> Vec<Hit> {
        self.hits.lock().unwrap().clone()
    }

    /// Wait (at most 10 s) until `ok` holds; woken by each hit, never polling.
    async fn until(&self, what: &str, ok: impl Fn(&Receiver) -> bool) {
        let mut arrived = self.arrived.subscribe();
        let wait = async {
            while !ok(self) {
                arrived.changed().await.expect("the receiver lives as long as the test");
            }
        };
        tokio::time::timeout(Duration::from_secs(10), wait).await.unwrap_or_else(|_| panic!("waiting for {what}"));
    }
}

async fn receive(
    State(r): State<Receiver>,
    Path(path): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, String) {
    let headers = headers.iter().map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string())).collect();
    r.hits.lock().unwrap().push(Hit { path: path.clone(), headers, body });
    r.arrived.send_modify(|n| *n += 1);
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
    let r =
        Receiver { hits: Arc::default(), healed: Arc::default(), arrived: Arc::new(tokio::sync::watch::channel(0).0) };
    let app = Router::new().route("/{*path}", post(receive)).with_state(r.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (base, r)
}

async fn messages(app: &TestApp, query: &str) -> Vec<Value> {
    let (s, v) = app.get(&format!("/api/v1/outbox?{query}")).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v["messages"].as_array().unwrap().clone()
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
    assert_eq!(app.deliver().await, 6, "one pass delivers every message due");
    let paths = ["slack", "discord", "hook", "pd", "alice", "alice-slack"];
    assert!(paths.iter().all(|p| rx.hits(p).len() == 1), "{:?}", rx.all().iter().map(|h| &h.path).collect::<Vec<_>>());

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

    let sent = messages(&app, "status=sent").await;
    assert_eq!(sent.len(), 6, "{sent:?}");
    assert!(sent.iter().all(|m| m["attempts"] == 1 && m["incident"] == id.as_str()), "{sent:?}");
    let templates: Vec<&str> = sent.iter().map(|m| m["template"].as_str().unwrap()).collect();
    assert!(templates.iter().all(|t| *t == "incident-declared"), "{templates:?}");
    // One message per recipient: the paged person's two contacts, the four routed channels.
    assert_eq!(rx.all().len(), 6, "{:?}", rx.all().iter().map(|h| &h.path).collect::<Vec<_>>());

    let (s, v) = app
        .post(&format!("/api/v1/incidents/{id}/resolve"), json!({ "root_cause": "bad deploy", "force": true }))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    app.deliver().await;
    assert_eq!(rx.hits("pd").len(), 2);
    assert_eq!(rx.hits("pd")[1].json()["event_action"], "resolve");
    assert_eq!(rx.hits("slack").len(), 2, "the resolution reaches the other channels");
    let resolved = messages(&app, "status=sent").await;
    assert_eq!(resolved.len(), 10, "{resolved:?}");
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
    // Backoff 100 ms, jittered into its upper half; the clock stands still while a pass runs
    // except for the time deliveries really take, so a retry is due 50-100 ms (then 100-200
    // ms) after a pass, plus a few milliseconds.
    assert_eq!(app.deliver().await, 2, "the first attempts");
    app.advance_ms(49);
    assert_eq!(app.deliver().await, 0, "the first retry waits at least half the backoff");
    app.advance_ms(1_000);
    assert_eq!(app.deliver().await, 1, "then it is tried again");
    app.advance_ms(99);
    assert_eq!(app.deliver().await, 0, "the second retry waits at least half of twice the backoff");
    app.advance_ms(1_000);
    assert_eq!(app.deliver().await, 1, "the third attempt, the last");
    let dead = messages(&app, "status=dead").await;
    let by = |r: &str| dead.iter().find(|m| m["recipient"] == r).unwrap_or_else(|| panic!("{r}: {dead:?}")).clone();
    let (flaky, gone) = (by("channel:flaky"), by("channel:gone"));
    assert_eq!(flaky["attempts"], 3, "a 503 is retried until max_attempts");
    assert_eq!(flaky["last_status"], 503);
    assert!(flaky["last_error"].as_str().unwrap().contains("down for a deploy"), "{flaky}");
    assert_eq!(gone["attempts"], 1, "a 404 is not retried: {gone}");
    assert_eq!(rx.hits("gone").len(), 1);

    assert_eq!(rx.hits("flaky").len(), 3);

    let (s, shown) = app.get(&format!("/api/v1/outbox/{}", flaky["id"])).await;
    assert_eq!(s, StatusCode::OK, "{shown}");
    let attempts = shown["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 3);
    assert!(attempts.iter().all(|a| a["outcome"] == "retry" && a["status_code"] == 503), "{attempts:?}");
    assert!(shown["text"]["body"].as_str().unwrap().contains(&id), "the message text is kept: {shown}");

    rx.healed.store(true, Ordering::SeqCst);
    let (s, v) = app.post(&format!("/api/v1/outbox/{}/retry", flaky["id"]), json!({})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(app.deliver().await, 1, "a message retried by hand is due at once");
    assert_eq!(rx.hits("flaky").len(), 4);
    assert_eq!(messages(&app, "status=sent").await.len(), 1);
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
    // One pass claims all six; it ends when the hung deliveries reach their 1 s timeout.
    let pass = app.deliverer.drain_once(app.now());
    tokio::pin!(pass);
    tokio::select! {
        claimed = &mut pass => panic!("the pass ended ({claimed} claimed) before the fast channel got all three"),
        () = rx.until("the fast receiver to get all three", |r| r.hits("fast").len() == 3) => {}
    }
    assert_eq!(pass.await, 6);
    assert_eq!(rx.hits("hang").len(), 3);
    let timed_out = messages(&app, "status=pending").await;
    assert_eq!(timed_out.len(), 3, "after its timeout each hung delivery is queued for a retry: {timed_out:?}");
    assert!(timed_out.iter().all(|m| m["last_error"].as_str().unwrap().contains("timed out")), "{timed_out:?}");
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
    app.deliver().await;
    assert_eq!(rx.hits("high").len(), 1, "the declaration");
    app.advance_ms(60_000);
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
    app.deliver().await;
    assert_eq!(rx.hits("high").len(), 2, "the update");
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
    app.deliver().await;
    assert_eq!(rx.hits("status").len(), 1, "the customer notice");
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
    // The relay writes a message before it answers 250, so it is there once the pass is done.
    assert_eq!(app.deliver().await, 1);
    assert_eq!(messages(&app, "status=sent").await.len(), 1);
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
    let t0 = Timestamp::now();
    let at = |ms: i64| Timestamp::from_millisecond(t0.as_millisecond() + ms).unwrap();
    let claimed = store.claim_outbox(t0, Duration::from_millis(500), 3).await.unwrap();
    assert_eq!(claimed.len(), 3);
    // The claimant "dies" here. A new worker starts (as after a restart).
    let worker = Deliverer::new(store.clone()).unwrap();
    assert_eq!(worker.drain_once(t0).await, 2, "the two unclaimed messages");
    assert_eq!(worker.drain_once(at(499)).await, 0, "claimed messages wait for their lease");
    assert_eq!(worker.drain_once(at(500)).await, 3, "the rest, once the lease lapsed");
    assert_eq!(worker.drain_once(at(3_600_000)).await, 0, "nothing is sent twice");
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
    let (a_worker, b_worker) = (Deliverer::new(a.clone()).unwrap(), Deliverer::new(b.clone()).unwrap());
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
    // Both replicas drain at the same time, pass after pass, until neither finds anything.
    let now = Timestamp::now();
    let mut claimed = 0;
    loop {
        let (x, y) = tokio::join!(a_worker.drain_once(now), b_worker.drain_once(now));
        if x + y == 0 {
            break;
        }
        assert!(x + y <= n, "a pass claims each message once");
        claimed += x + y;
    }
    assert_eq!(claimed, n, "claimed once each across the replicas");
    let mut ids: Vec<String> = rx.all().iter().map(|h| h.json()["text"].to_string()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!((rx.all().len(), ids.len()), (n, n), "each message delivered once across the replicas");
}
