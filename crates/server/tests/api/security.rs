//! Findings of the security review, each driven as the attacker would: a token in a URL, an
//! event stream that outlives its token, and a PagerDuty routing key that reaches alerts it
//! did not send.

use futures_util::StreamExt;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{on_both_backends, TestApp};

on_both_backends!(
    a_token_in_the_url_is_accepted_on_the_ingest_endpoints_only,
    an_open_event_stream_ends_when_its_token_is_revoked,
    pagerduty_acknowledge_and_resolve_reach_only_the_same_tokens_alerts,
    catch_all_and_overlong_silences_need_an_admin,
    every_answer_carries_the_security_headers,
    repeated_unknown_tokens_from_one_address_are_throttled,
    guessing_pagerduty_routing_keys_is_throttled_too,
);

async fn a_token_in_the_url_is_accepted_on_the_ingest_endpoints_only(app: TestApp) {
    let viewer = app.token("viewer", "v").await;
    let ingest = app.token("ingest", "am").await;
    let (s, v) = app.call(Method::GET, &format!("/api/v1/incidents?token={viewer}"), None, None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "{v}");
    assert!(v["detail"].as_str().unwrap().contains("only on /api/v1/ingest/"), "{v}");
    let (s, v) = app.call(Method::GET, &format!("/api/v1/events/stream?token={viewer}"), None, None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "{v}");
    let body = json!({ "version": "4", "status": "firing", "receiver": "r", "groupKey": "k",
        "alerts": [{ "status": "firing", "labels": { "alertname": "UrlToken", "severity": "info" }, "annotations": {},
        "startsAt": "2026-11-23T10:00:00Z" }] });
    let (s, v) = app.call(Method::POST, &format!("/api/v1/ingest/alertmanager?token={ingest}"), None, Some(body)).await;
    assert!(s.is_success(), "webhook senders that cannot set headers still can: {v}");
}

async fn an_open_event_stream_ends_when_its_token_is_revoked(app: TestApp) {
    let (s, created) = app.post("/api/v1/tokens", json!({ "role": "viewer", "name": "screen" })).await;
    assert_eq!(s, StatusCode::CREATED);
    let (token, id) = (created["token"].as_str().unwrap().to_string(), created["id"].as_i64().unwrap());
    let resp = app.http.get(format!("{}/api/v1/events/stream", app.base)).bearer_auth(&token).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let mut body = resp.bytes_stream();
    app.declare("seen before the revocation", "P3").await;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut text = String::new();
    while !text.contains("seen before the revocation") {
        let chunk = tokio::time::timeout_at(deadline, body.next()).await.expect("an event arrives").unwrap().unwrap();
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    let (s, v) = app.call(Method::DELETE, &format!("/api/v1/tokens/{id}"), Some(&app.admin), None).await;
    assert!(s.is_success(), "{v}");
    app.declare("must not reach the revoked stream", "P3").await;
    // The stream ends (within the token cache period; at once for a revocation on this server).
    let mut after = String::new();
    loop {
        match tokio::time::timeout_at(deadline, body.next()).await.expect("the stream ends after the revocation") {
            None | Some(Err(_)) => break,
            Some(Ok(chunk)) => after.push_str(&String::from_utf8_lossy(&chunk)),
        }
    }
    assert!(!after.contains("must not reach the revoked stream"), "{after}");
}

async fn pagerduty_acknowledge_and_resolve_reach_only_the_same_tokens_alerts(app: TestApp) {
    let (ours, theirs) = (app.token("ingest", "pd-ours").await, app.token("ingest", "pd-theirs").await);
    let event = |key: &str, action: &str, dedup: &str| {
        json!({ "routing_key": key, "event_action": action, "dedup_key": dedup,
                "payload": { "summary": "Disk full on db-1", "source": "db-1", "severity": "error" } })
    };
    let send = |body: Value| async { app.call(Method::POST, "/v2/enqueue", None, Some(body)).await };
    let (s, v) = send(event(&ours, "trigger", "db-disk")).await;
    assert_eq!((s, v["dedup_key"].as_str()), (StatusCode::ACCEPTED, Some("db-disk")), "{v}");
    // Another ingest token acknowledging and resolving the same dedup_key changes nothing.
    assert_eq!(send(event(&theirs, "acknowledge", "db-disk")).await.0, StatusCode::ACCEPTED);
    assert_eq!(send(event(&theirs, "resolve", "db-disk")).await.0, StatusCode::ACCEPTED);
    assert_eq!(app.get("/api/v1/incidents/INC-1").await.1["status"], "triggered");
    let (_, alerts) = app.get("/api/v1/alerts?incident=INC-1").await;
    assert_eq!(alerts["alerts"][0]["status"], "firing", "{alerts}");
    // An Alertmanager alert cannot be resolved through PagerDuty with its fingerprint either.
    let am = json!({ "version": "4", "status": "firing", "receiver": "r", "groupKey": "k",
        "alerts": [{ "status": "firing", "labels": { "alertname": "ApiDown", "severity": "critical" },
        "annotations": {}, "fingerprint": "f00d", "startsAt": "2026-11-23T10:00:00Z" }] });
    let (s, v) = app.post("/api/v1/ingest/alertmanager", am).await;
    assert!(s.is_success(), "{v}");
    let am_incident = v["opened"][0].as_str().unwrap().to_string();
    assert_eq!(send(event(&ours, "resolve", "f00d")).await.0, StatusCode::ACCEPTED);
    let (_, alerts) = app.get(&format!("/api/v1/alerts?incident={am_incident}")).await;
    assert_eq!(alerts["alerts"][0]["status"], "firing", "{alerts}");
    // The sending token itself still acknowledges and resolves its own alert.
    assert_eq!(send(event(&ours, "acknowledge", "db-disk")).await.0, StatusCode::ACCEPTED);
    assert_eq!(app.get("/api/v1/incidents/INC-1").await.1["status"], "acknowledged");
    assert_eq!(send(event(&ours, "resolve", "db-disk")).await.0, StatusCode::ACCEPTED);
    let (_, alerts) = app.get("/api/v1/alerts?incident=INC-1").await;
    assert_eq!(alerts["alerts"][0]["status"], "resolved", "{alerts}");
}

/// A webhook contact on loopback (by address or by name) is refused at delivery, without a
/// retry, unless `[outbox] allow_networks` lists it; a viewer sees the error with every URL
/// reduced to its host, an admin sees it whole, and credentials in contact URLs never show.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_to_local_addresses_are_refused_and_secrets_stay_with_admins() {
    let toml = "[[users]]\nid = \"bob\"\nname = \"Bob\"\ncontacts = [\
        { webhook = \"http://bob:pw@127.0.0.1:9/hooks/SECRETPATH\" }, { webhook = \"http://bob:pw@localhost:9/hooks/SECRETNAME\" }]\n\
        [[escalation_policies]]\nid = \"p2\"\nname = \"Medium\"\n\
        [[escalation_policies.steps]]\ndelay = \"0s\"\ntargets = [\"user:bob\"]\n\
        [outbox]\nbackoff = \"100ms\"\nmax_backoff = \"200ms\"\nmax_attempts = 5\n";
    let Some((app, _)) = crate::helpers::spawn_app_toml(crate::helpers::Db::Sqlite, toml).await else { return };
    app.declare("replication lag", "P2").await;
    assert_eq!(app.deliver().await, 2);
    let (_, v) = app.get("/api/v1/outbox?status=dead").await;
    let dead = v["messages"].as_array().cloned().unwrap_or_default();
    assert_eq!(dead.len(), 2, "both contacts are dead-lettered: {v}");
    for m in &dead {
        assert_eq!(m["attempts"], 1, "a refusal is not retried: {m}");
        assert!(m["last_error"].as_str().unwrap().contains("refused to deliver to"), "{m}");
    }
    assert!(dead.iter().any(|m| m["last_error"].as_str().unwrap().contains("SECRETNAME")), "admins see it whole");
    let viewer = app.token("viewer", "wall").await;
    let (_, v) = app.call(Method::GET, "/api/v1/outbox?status=dead", Some(&viewer), None).await;
    let shown = v.to_string();
    assert!(
        shown.contains("refused to deliver to") && !shown.contains("SECRET") && !shown.contains("bob:pw"),
        "{shown}"
    );
    for m in &dead {
        let (_, one) = app.call(Method::GET, &format!("/api/v1/outbox/{}", m["id"]), Some(&viewer), None).await;
        let text = one.to_string();
        assert!(!text.contains("SECRET") && !text.contains("bob:pw"), "{text}");
    }
    let (_, users) = app.call(Method::GET, "/api/v1/users", Some(&viewer), None).await;
    assert!(!users.to_string().contains("bob:pw") && !users.to_string().contains("SECRET"), "{users}");
}

async fn catch_all_and_overlong_silences_need_an_admin(app: TestApp) {
    let responder = app.token("responder", "r").await;
    let silence = |matchers: Value, duration: &str| json!({ "matchers": matchers, "duration": duration, "comment": "maintenance" });
    let app = &app;
    let post = |token: String, body: Value| async move {
        app.call(Method::POST, "/api/v1/silences", Some(&token), Some(body)).await
    };
    for m in [json!(["alertname!=\"\""]), json!(["job=~\".+\""]), json!(["team!=\"db\"", "alertname!=\"\""])] {
        let (s, v) = post(responder.clone(), silence(m.clone(), "1h")).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{m}: {v}");
        assert!(v["detail"].as_str().unwrap().contains("admin"), "{v}");
    }
    let (s, v) = post(responder.clone(), silence(json!(["alertname=\"DiskFull\""]), "876000h")).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "a hundred years: {v}");
    assert!(v["detail"].as_str().unwrap().contains("max_silence"), "{v}");
    let (s, v) = post(responder.clone(), silence(json!(["alertname=\"DiskFull\""]), "2h")).await;
    assert_eq!(s, StatusCode::CREATED, "a narrow, short silence is a responder's to make: {v}");
    let (s, v) = post(app.admin.clone(), silence(json!(["alertname!=\"\""]), "30d")).await;
    assert_eq!(s, StatusCode::CREATED, "an admin may: {v}");
    let (_, list) = app.get("/api/v1/silences").await;
    assert_eq!(list["silences"].as_array().unwrap().len(), 2, "refusals stored nothing: {list}");
}

async fn every_answer_carries_the_security_headers(app: TestApp) {
    for (method, path, token, body) in [
        (Method::POST, "/api/v1/tokens", Some(app.admin.clone()), Some(json!({ "role": "viewer", "name": "h" }))),
        (Method::GET, "/api/v1/incidents", None, None),
        (Method::GET, "/healthz", None, None),
        (Method::GET, "/no/such/page", None, None),
    ] {
        let mut req = app.http.request(method, format!("{}{path}", app.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let h = resp.headers();
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["cache-control"], "no-store", "{path}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert!(h["content-security-policy"].to_str().unwrap().contains("frame-ancestors 'none'"), "{path}");
    }
}

async fn repeated_unknown_tokens_from_one_address_are_throttled(app: TestApp) {
    for i in 0..5 {
        let (s, v) = app.call(Method::GET, "/api/v1/incidents", Some(&format!("sw_guess{i}")), None).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{v}");
    }
    let resp = app.http.get(format!("{}/api/v1/incidents", app.base)).bearer_auth("sw_guess5").send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "the sixth failure is still answered, and starts the wait");
    let resp = app.http.get(format!("{}/api/v1/incidents", app.base)).bearer_auth(&app.admin).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS, "while it waits, no token is tried from that address");
    assert_eq!(resp.headers()["retry-after"], "1");
    let (s, _) = app.call(Method::GET, "/healthz", None, None).await;
    assert!(s.is_success(), "requests without a token are not held up");
}

async fn guessing_pagerduty_routing_keys_is_throttled_too(app: TestApp) {
    let event = |key: &str| {
        json!({ "routing_key": key, "event_action": "trigger",
                "payload": { "summary": "x", "source": "y", "severity": "info" } })
    };
    for i in 0..6 {
        let (s, v) = app.call(Method::POST, "/v2/enqueue", None, Some(event(&format!("guess{i}")))).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    }
    let (s, v) = app.call(Method::POST, "/v2/enqueue", None, Some(event("guess6"))).await;
    assert_eq!((s, v["status"].as_str()), (StatusCode::TOO_MANY_REQUESTS, Some("throttle event")), "{v}");
}
