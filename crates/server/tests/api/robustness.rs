//! Bad input gets a precise 4xx problem document, never a 500, and never loses stored data.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sevwatch_core::Config;

use crate::helpers::{assert_problem, on_both_backends, spawn_app_with, Db, TestApp};

on_both_backends!(
    malformed_requests_get_precise_client_errors,
    random_bodies_never_cause_a_server_error,
    one_line_fields_refuse_line_breaks_and_bidi_overrides_but_alert_titles_are_escaped,
    a_key_given_twice_is_refused_with_its_path,
    a_repeated_key_is_refused_on_every_ingest_endpoint,
    runbook_names_that_are_not_one_plain_path_segment_are_refused,
);

async fn raw(
    app: &TestApp,
    method: Method,
    path: &str,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> (StatusCode, Value) {
    // A fresh connection each time: after a 413 the server closes the connection it did not
    // read to the end, and a pooled connection would fail the next request.
    let mut req = app
        .http
        .request(method, format!("{}{path}", app.base))
        .bearer_auth(&app.admin)
        .header("connection", "close")
        .body(body);
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    let ct = resp.headers().get("content-type").map(|v| v.to_str().unwrap().to_string());
    let text = resp.text().await.unwrap();
    if !status.is_success() {
        assert_eq!(ct.as_deref(), Some("application/problem+json"), "{status} {text}");
    }
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

async fn malformed_requests_get_precise_client_errors(app: TestApp) {
    let json_ct = Some("application/json");
    let p = "/api/v1/incidents";
    assert_problem(&raw(&app, Method::POST, p, json_ct, b"{\"title\": ".to_vec()).await, 400, None);
    assert_problem(&raw(&app, Method::POST, p, Some("text/plain"), b"{}".to_vec()).await, 415, None);
    assert_problem(&raw(&app, Method::POST, p, json_ct, br#"{"severity":"P1"}"#.to_vec()).await, 422, None);
    assert_problem(
        &raw(&app, Method::POST, p, json_ct, br#"{"title":"x","severity":7}"#.to_vec()).await,
        422,
        Some("severity"),
    );
    assert_problem(
        &raw(&app, Method::POST, p, json_ct, br#"{"title":"x","severity":"P1","colour":"red"}"#.to_vec()).await,
        422,
        None,
    );
    assert_problem(
        &raw(&app, Method::POST, p, json_ct, br#"{"title":"x","severity":"P9"}"#.to_vec()).await,
        422,
        Some("severity"),
    );
    assert_problem(
        &raw(&app, Method::POST, p, json_ct, br#"{"title":"","severity":"P1"}"#.to_vec()).await,
        422,
        Some("title"),
    );
    let long = "x".repeat(201);
    assert_problem(&app.post(p, json!({ "title": long, "severity": "P1" })).await, 422, Some("title"));
    assert_problem(&raw(&app, Method::POST, p, json_ct, vec![0xff, 0xfe, 0x00]).await, 400, None);
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let got = raw(&app, Method::POST, p, json_ct, deep.into_bytes()).await;
    assert!(got.0.is_client_error(), "{got:?}");
    assert_problem(&raw(&app, Method::POST, p, json_ct, vec![b' '; 2 * 1024 * 1024]).await, 413, None);
    assert_problem(&app.get("/api/v1/nothing-here").await, 404, None);
    assert_problem(&raw(&app, Method::DELETE, p, None, vec![]).await, 405, None);
    // Odd Unicode is stored and returned exactly (bidi overrides and line breaks are not: see
    // one_line_fields_refuse_line_breaks_and_bidi_overrides_but_alert_titles_are_escaped).
    let nul = app.post(p, json!({ "title": "a\u{0000}b", "severity": "P2" })).await;
    assert_problem(&nul, 422, Some("title"));
    let title = "💥 ＡＰＩ reversed 𝕏 \u{fffd} e\u{301} ｱｲｳ עברית";
    let (s, v) = app.post(p, json!({ "title": title, "severity": "P2" })).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let id = v["id"].as_str().unwrap().to_string();
    assert_eq!(app.get(&format!("{p}/{id}")).await.1["title"], title);
    // Nothing stored was lost along the way.
    let (_, list) = app.get(p).await;
    assert_eq!(list["incidents"].as_array().unwrap().len(), 1);
    assert_eq!(app.get("/api/v1/verify").await.1["ok"], true);
}

async fn one_line_fields_refuse_line_breaks_and_bidi_overrides_but_alert_titles_are_escaped(app: TestApp) {
    let p = "/api/v1/incidents";
    for (bad, code) in [
        ("Disk full\r\nX-Injected: 1", "U+000D"),
        ("two\nlines", "U+000A"),
        ("evil\u{202e}fdp.exe", "U+202E"),
        ("a\u{2067}b", "U+2067"),
        ("zero\u{200b}width", "U+200B"),
    ] {
        let got = app.post(p, json!({ "title": bad, "severity": "P2" })).await;
        assert_problem(&got, 422, Some("title"));
        assert!(got.1["detail"].as_str().unwrap().contains(code), "{}", got.1);
        assert_problem(
            &app.post(p, json!({ "title": "ok", "severity": "P2", "service": bad })).await,
            422,
            Some("service"),
        );
    }
    let id = app.declare("Disk full", "P2").await;
    let assign = app.post(&format!("{p}/{id}/assign"), json!({ "role": "commander", "to": "alice\nbob" })).await;
    assert_problem(&assign, 422, Some("to"));
    assert_problem(
        &app.post("/api/v1/tokens", json!({ "name": "ci\u{202e}", "role": "viewer" })).await,
        422,
        Some("name"),
    );
    let user = app
        .call(
            Method::PUT,
            "/api/v1/users/ann",
            Some(&app.admin),
            Some(json!({ "name": "Ann\u{2066}", "contacts": [] })),
        )
        .await;
    assert_problem(&user, 422, Some("name"));
    // Multi-line fields keep what they were given.
    let (s, _) = app.post(&format!("{p}/{id}/notes"), json!({ "text": "line one\nline two \u{202e}" })).await;
    assert_eq!(s, StatusCode::OK);
    // An alert is never refused for its summary or its service label: the derived title and
    // service show the characters as escapes.
    let alert = json!({ "alerts": [{ "status": "firing",
        "labels": { "alertname": "Disk", "severity": "warning", "service": "db\n1" },
        "annotations": { "summary": "Disk full\u{202e} on db-1 \u{1b}[2J" } }] });
    let (s, v) = app.post("/api/v1/ingest/alertmanager", alert).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let opened = v["opened"][0].as_str().unwrap_or_else(|| panic!("no incident opened: {v}"));
    let (_, inc) = app.get(&format!("{p}/{opened}")).await;
    assert_eq!(inc["title"], "Disk full\\u{202e} on db-1 \\u{1b}[2J", "{inc}");
    assert_eq!(inc["service"], "db\\n1", "{inc}");
    let (_, alerts) = app.get("/api/v1/alerts").await;
    assert_eq!(alerts["alerts"][0]["alert"]["labels"]["service"], "db\n1", "the alert itself is stored as sent");
}

async fn a_key_given_twice_is_refused_with_its_path(app: TestApp) {
    let json_ct = Some("application/json");
    let p = "/api/v1/incidents";
    let got = raw(&app, Method::POST, p, json_ct, br#"{"title":"a","severity":"P1","title":"b"}"#.to_vec()).await;
    assert_problem(&got, 422, Some("title"));
    assert!(got.1["detail"].as_str().unwrap().contains("duplicate key \"title\""), "{}", got.1);
    // Inside a map, where serde alone would keep the last copy.
    let id = app.declare("Disk full", "P2").await;
    let timeline = format!("{p}/{id}/timeline");
    let before = app.get(&timeline).await.1["events"].as_array().map_or(0, Vec::len);
    let comms = format!("{p}/{id}/comms/status-update");
    let body = br#"{"fields":{"update":"rolled back","update":"all fine"}}"#.to_vec();
    assert_problem(&raw(&app, Method::POST, &comms, json_ct, body).await, 422, Some("fields.update"));
    let body = br#"{"matchers":["a=\"b\""],"duration":"1h","comment":"x","comment":"y"}"#.to_vec();
    assert_problem(&raw(&app, Method::POST, "/api/v1/silences", json_ct, body).await, 422, Some("comment"));
    // The same key in different objects is fine.
    let body = br#"{"title":"t","severity":"P2","summary":"{\"title\":1}"}"#.to_vec();
    assert_eq!(raw(&app, Method::POST, p, json_ct, body).await.0, StatusCode::CREATED);
    let after = app.get(&timeline).await.1["events"].as_array().map_or(0, Vec::len);
    assert_eq!(after, before, "nothing was recorded on the incident");
}

async fn a_repeated_key_is_refused_on_every_ingest_endpoint(app: TestApp) {
    // Not `raw`: PagerDuty's endpoint answers in PagerDuty's shape, not problem+json.
    let send = |path: &'static str, body: String| {
        let req = app.http.request(Method::POST, format!("{}{path}", app.base)).bearer_auth(&app.admin);
        async move {
            let resp = req.header("content-type", "application/json").body(body).send().await.unwrap();
            let status = resp.status();
            (status, resp.json::<Value>().await.unwrap())
        }
    };
    let am = r#"{"alerts":[{"labels":{"alertname":"A","severity":"info","severity":"critical"}}]}"#;
    for path in ["/api/v1/ingest/alertmanager", "/api/v1/ingest/grafana"] {
        let (s, v) = send(path, am.to_string()).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{path}: {v}");
        assert_eq!(v["field"], "alerts[0].labels.severity", "{path}: {v}");
        assert!(v["detail"].as_str().unwrap().contains("duplicate key \"severity\""), "{path}: {v}");
    }
    let (s, v) = send("/api/v1/ingest/generic", r#"{"name":"A","status":"firing","status":"resolved"}"#.into()).await;
    assert_eq!((s, v["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("status")), "{v}");
    let pd = format!(
        r#"{{"routing_key":"{}","event_action":"trigger","payload":{{"summary":"s","source":"a","source":"b","severity":"info"}}}}"#,
        app.admin
    );
    let (s, v) = send("/v2/enqueue", pd).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert!(v["errors"][0].as_str().unwrap().starts_with("payload.source: duplicate key"), "{v}");
    // Two routing keys: the body is refused before either is read as a token.
    let two_keys =
        format!(r#"{{"routing_key":"{}","routing_key":"other","event_action":"resolve","dedup_key":"k"}}"#, app.admin);
    let (s, v) = send("/v2/enqueue", two_keys).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert!(v["errors"][0].as_str().unwrap().starts_with("routing_key: duplicate key"), "{v}");
    assert!(app.get("/api/v1/alerts").await.1["alerts"].as_array().unwrap().is_empty(), "nothing was stored");
}

async fn runbook_names_that_are_not_one_plain_path_segment_are_refused(app: TestApp) {
    let content = "# Cache\n\n## Flush\n\n```sh\necho flush\n```\n";
    for name in [".", "..", "a/b", "../etc", "-rf", "bell\u{7}", "new\nline", ""] {
        let got = app.post("/api/v1/runbooks", json!({ "name": name, "content": content })).await;
        assert_problem(&got, 422, Some("name"));
    }
    for source in ["runbooks/..md", "/x/...md", "-x.md"] {
        let got = app.post("/api/v1/runbooks", json!({ "source": source, "content": content })).await;
        assert_problem(&got, 422, Some("name"));
    }
    assert!(app.get("/api/v1/runbooks").await.1["runbooks"].as_array().unwrap().is_empty());
    let (s, v) = app.post("/api/v1/runbooks", json!({ "name": "cache.v2", "content": content })).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
}

/// A small deterministic generator: tests must not depend on luck.
struct XorShift(u64);
impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn random_body(rng: &mut XorShift) -> Vec<u8> {
    let fragments: [&[u8]; 16] = [
        b"{",
        b"}",
        b"[",
        b"]",
        b"\"title\":",
        b"\"severity\":",
        b"\"P1\"",
        b"\"force\":true",
        b"null",
        b"1e999",
        b"-0",
        b",",
        b"\"\\ud800\"",
        b"\"status\":\"identified\"",
        b"\"item\":\"resolution.fix-verified\"",
        b"\xff",
    ];
    let n = (rng.next() % 12) as usize;
    let mut out = Vec::new();
    for _ in 0..n {
        out.extend_from_slice(fragments[(rng.next() % fragments.len() as u64) as usize]);
    }
    out
}

async fn random_bodies_never_cause_a_server_error(app: TestApp) {
    let id = app.declare("target", "P1").await;
    let paths: Vec<String> = [
        "",
        "/ack",
        "/assign",
        "/status",
        "/severity",
        "/notes",
        "/check",
        "/uncheck",
        "/resolve",
        "/close",
        "/reopen",
    ]
    .iter()
    .map(|s| if s.is_empty() { "/api/v1/incidents".to_string() } else { format!("/api/v1/incidents/{id}{s}") })
    .chain(["/api/v1/tokens".to_string()])
    .collect();
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let mut sent = 0;
    for round in 0..40 {
        for p in &paths {
            let body = random_body(&mut rng);
            let (s, v) = raw(&app, Method::POST, p, Some("application/json"), body).await;
            assert!(s.as_u16() < 500, "round {round} {p}: {s} {v}");
            sent += 1;
        }
    }
    assert!(sent >= 480);
    assert_eq!(app.get(&format!("/api/v1/incidents/{id}/verify")).await.1["ok"], true);
}

#[tokio::test]
async fn the_body_limit_comes_from_configuration() {
    let cfg = Config::from_toml_str("[server]\nmax_body_bytes = 2048\n").unwrap();
    let app = spawn_app_with(Db::Sqlite, cfg).await.unwrap();
    let summary = "s".repeat(3000);
    assert_problem(
        &app.post("/api/v1/incidents", json!({ "title": "x", "severity": "P1", "summary": summary })).await,
        413,
        None,
    );
    assert_eq!(app.post("/api/v1/incidents", json!({ "title": "x", "severity": "P1" })).await.0, StatusCode::CREATED);
}
