//! Alerts in: every corpus payload accepted, dedupe and grouping, severity raise, silences,
//! resolution with auto-resolve, the PagerDuty-compatible endpoint, and bad input.

use std::path::{Path, PathBuf};

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sevwatch_core::Config;

use crate::helpers::{assert_problem, on_both_backends, spawn_app_with, Db, TestApp};

on_both_backends!(
    every_corpus_payload_is_accepted_and_response_shapes_are_refused,
    repeats_are_counted_and_a_more_severe_alert_raises_its_group_incident,
    silenced_alerts_are_stored_but_open_nothing_until_the_silence_ends,
    the_pagerduty_endpoint_triggers_acknowledges_and_resolves,
    bad_alert_bodies_get_precise_client_errors,
);

fn corpus() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/payloads");
    if p.is_dir() {
        Some(p)
    } else {
        sevwatch_testkit::skip("alert corpus tests", "../shared/corpus not found beside the repository");
        None
    }
}

async fn send(app: &TestApp, path: &str, body: &Value) -> (StatusCode, Value) {
    app.call(Method::POST, path, Some(&app.admin), Some(body.clone())).await
}

fn am_alert(name: &str, severity: &str, status: &str, extra: &[(&str, &str)]) -> Value {
    let mut labels = json!({ "alertname": name, "severity": severity, "service": "api" });
    for (k, v) in extra {
        labels[*k] = json!(v);
    }
    json!({ "status": status, "labels": labels, "annotations": { "summary": format!("{name} on api") },
            "startsAt": "2026-11-23T10:00:00Z", "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "http://prom/graph" })
}

fn am(alerts: Vec<Value>) -> Value {
    json!({ "version": "4", "status": "firing", "receiver": "sevwatch", "groupKey": "{}:{}", "alerts": alerts })
}

/// Strip `//` and `/* */` comments (the .jsonc files), leaving string contents alone.
fn strip_comments(text: &str) -> String {
    let (mut out, mut chars) = (String::new(), text.chars().peekable());
    let mut in_string = false;
    while let Some(c) = chars.next() {
        match (in_string, c, chars.peek().copied()) {
            (true, '\\', Some(n)) => {
                out.push(c);
                out.push(n);
                chars.next();
            }
            (_, '"', _) => {
                in_string = !in_string;
                out.push(c);
            }
            (false, '/', Some('/')) => {
                while chars.peek().is_some_and(|n| *n != '\n') {
                    chars.next();
                }
            }
            (false, '/', Some('*')) => {
                chars.next();
                while let Some(n) = chars.next() {
                    if n == '*' && chars.peek() == Some(&'/') {
                        chars.next();
                        break;
                    }
                }
            }
            _ => out.push(c),
        }
    }
    out
}

async fn every_corpus_payload_is_accepted_and_response_shapes_are_refused(app: TestApp) {
    let Some(dir) = corpus() else { return };
    let mut accepted = 0;
    for (folder, path) in [
        ("alertmanager", "/api/v1/ingest/alertmanager"),
        ("grafana", "/api/v1/ingest/grafana"),
        ("grafana-legacy", "/api/v1/ingest/grafana"),
    ] {
        for entry in std::fs::read_dir(dir.join(folder)).unwrap() {
            let f = entry.unwrap().path();
            if f.extension().and_then(|e| e.to_str()) != Some("json") {
                continue;
            }
            let body: Value = serde_json::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap();
            let (s, v) = send(&app, path, &body).await;
            assert_eq!(s, StatusCode::OK, "{}: {v}", f.display());
            accepted += 1;
        }
    }
    for entry in std::fs::read_dir(dir.join("pagerduty-events-v2")).unwrap() {
        let f = entry.unwrap().path();
        let name = f.file_name().unwrap().to_str().unwrap().to_string();
        let mut body: Value = serde_json::from_str(&strip_comments(&std::fs::read_to_string(&f).unwrap())).unwrap();
        let is_response = name.contains("response");
        let is_change = name.contains("change");
        if body.get("routing_key").is_some() {
            body["routing_key"] = json!(app.admin);
        }
        let (s, v) = send(&app, "/v2/enqueue", &body).await;
        if is_response || is_change {
            assert_eq!(s, StatusCode::BAD_REQUEST, "{name}: {v}");
            assert_eq!(v["status"], "invalid event", "{name}: {v}");
        } else {
            assert_eq!(s, StatusCode::ACCEPTED, "{name}: {v}");
            assert_eq!(v["status"], "success");
            accepted += 1;
        }
    }
    assert!(accepted >= 20, "only {accepted} payloads");
    let (_, v) = app.get("/api/v1/verify").await;
    assert_eq!(v["ok"], true, "{v}");
}

async fn repeats_are_counted_and_a_more_severe_alert_raises_its_group_incident(app: TestApp) {
    let path = "/api/v1/ingest/alertmanager";
    for _ in 0..4 {
        let (s, v) =
            send(&app, path, &am(vec![am_alert("HighErrorRate", "warning", "firing", &[("instance", "a")])])).await;
        assert_eq!((s, v["incidents"][0].as_str()), (StatusCode::OK, Some("INC-1")), "{v}");
    }
    let (_, inc) = app.get("/api/v1/incidents/INC-1").await;
    assert_eq!(
        (inc["severity"].as_str(), inc["alert_count"].as_u64(), inc["service"].as_str()),
        (Some("P2"), Some(1), Some("api"))
    );
    // A second alert of the same group (same alertname), now critical, joins and raises.
    let (_, v) =
        send(&app, path, &am(vec![am_alert("HighErrorRate", "critical", "firing", &[("instance", "b")])])).await;
    assert_eq!(v["incidents"][0], "INC-1");
    assert!(v["opened"].as_array().unwrap().is_empty());
    let (_, inc) = app.get("/api/v1/incidents/INC-1").await;
    assert_eq!((inc["severity"].as_str(), inc["alert_count"].as_u64()), (Some("P0"), Some(2)));
    let (_, alerts) = app.get("/api/v1/alerts?incident=INC-1").await;
    let mut counts: Vec<u64> =
        alerts["alerts"].as_array().unwrap().iter().map(|a| a["count"].as_u64().unwrap()).collect();
    counts.sort();
    assert_eq!(counts, [1, 4]);
    let (_, t) = app.get("/api/v1/incidents/INC-1/timeline").await;
    let types: Vec<&str> = t["events"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["declared", "alert_attached", "paged", "alert_attached", "severity_changed"]);
    // Another alertname is another group: another incident.
    let (_, v) = send(&app, path, &am(vec![am_alert("DiskFull", "info", "firing", &[])])).await;
    assert_eq!(v["opened"][0], "INC-2");
    assert_eq!(app.get("/api/v1/incidents/INC-2").await.1["severity"], "P3");
}

async fn silenced_alerts_are_stored_but_open_nothing_until_the_silence_ends(app: TestApp) {
    // An alert before the silence exists: the ingest path has read (and may keep) the silences.
    let warm = am(vec![am_alert("SomethingElse", "info", "resolved", &[])]);
    assert_eq!(send(&app, "/api/v1/ingest/alertmanager", &warm).await.0, StatusCode::OK);
    let (s, silence) = app
        .post(
            "/api/v1/silences",
            json!({ "matchers": ["alertname=\"NoisyThing\""], "duration": "1h", "comment": "known, fix deploying" }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{silence}");
    assert_problem(
        &app.post("/api/v1/silences", json!({ "matchers": ["alertname=~\"(\""], "duration": "1h", "comment": "x" }))
            .await,
        422,
        Some("matchers[0]"),
    );
    assert_problem(
        &app.post("/api/v1/silences", json!({ "matchers": ["a=\"b\""], "comment": "x" })).await,
        422,
        Some("ends_at"),
    );
    let path = "/api/v1/ingest/alertmanager";
    let (_, v) = send(&app, path, &am(vec![am_alert("NoisyThing", "critical", "firing", &[])])).await;
    assert_eq!(v["incidents"][0], Value::Null, "{v}");
    let (_, alerts) = app.get("/api/v1/alerts?status=firing").await;
    assert_eq!(alerts["alerts"][0]["suppressed"], "silenced", "{alerts}");
    assert!(app.get("/api/v1/incidents").await.1["incidents"].as_array().unwrap().is_empty());
    let id = silence["id"].as_str().unwrap();
    assert_eq!(
        app.call(Method::DELETE, &format!("/api/v1/silences/{id}"), Some(&app.admin), None).await.0,
        StatusCode::NO_CONTENT
    );
    let (_, v) = send(&app, path, &am(vec![am_alert("NoisyThing", "critical", "firing", &[])])).await;
    assert_eq!(v["opened"][0], "INC-1", "{v}");
}

async fn the_pagerduty_endpoint_triggers_acknowledges_and_resolves(app: TestApp) {
    let ingest = app.token("ingest", "pagerduty-integration").await;
    let ev = |action: &str| {
        json!({ "routing_key": ingest, "event_action": action, "dedup_key": "db-disk-1",
                "payload": { "summary": "Disk 95% full on db-1", "source": "db-1", "severity": "error", "component": "postgres" } })
    };
    let (s, v) = send(&app, "/v2/enqueue", &ev("trigger")).await;
    assert_eq!((s, v["dedup_key"].as_str()), (StatusCode::ACCEPTED, Some("db-disk-1")), "{v}");
    let (_, inc) = app.get("/api/v1/incidents/INC-1").await;
    assert_eq!((inc["severity"].as_str(), inc["declared_by"].as_str()), (Some("P1"), Some("pagerduty-integration")));
    assert_eq!(send(&app, "/v2/enqueue", &ev("acknowledge")).await.0, StatusCode::ACCEPTED);
    assert_eq!(app.get("/api/v1/incidents/INC-1").await.1["status"], "acknowledged");
    assert_eq!(
        send(
            &app,
            "/v2/enqueue",
            &json!({ "routing_key": ingest, "event_action": "resolve", "dedup_key": "db-disk-1" })
        )
        .await
        .0,
        StatusCode::ACCEPTED
    );
    let (_, alerts) = app.get("/api/v1/alerts?incident=INC-1").await;
    assert_eq!(alerts["alerts"][0]["status"], "resolved");
    // A trigger without dedup_key gets one generated, as PagerDuty does.
    let mut no_key = ev("trigger");
    no_key.as_object_mut().unwrap().remove("dedup_key");
    let (s, v) = send(&app, "/v2/enqueue", &no_key).await;
    assert_eq!(s, StatusCode::ACCEPTED);
    assert_eq!(v["dedup_key"].as_str().unwrap().len(), 32);
    // PagerDuty events carry no alertname: each dedup_key is its own incident, as in PagerDuty.
    let (_, list) = app.get("/api/v1/incidents?status=all").await;
    assert_eq!(list["incidents"].as_array().unwrap().len(), 2, "{list}");
    // A viewer token is no routing key.
    let viewer = app.token("viewer", "v").await;
    let (s, v) = send(&app, "/v2/enqueue", &json!({ "routing_key": viewer, "event_action": "trigger", "payload": { "summary": "x", "source": "y", "severity": "info" } })).await;
    assert_eq!((s, v["status"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid event")));
}

async fn bad_alert_bodies_get_precise_client_errors(app: TestApp) {
    let path = "/api/v1/ingest/alertmanager";
    let raw = |ct: &'static str, body: Vec<u8>| {
        // A fresh connection each time: after a 413 the server closes the connection it did not
        // read to the end, and a pooled connection would fail the next request.
        let req = app
            .http
            .post(format!("{}{path}", app.base))
            .bearer_auth(&app.admin)
            .header("content-type", ct)
            .header("connection", "close")
            .body(body);
        async move {
            let r = req.send().await.unwrap();
            let s = r.status();
            (s, r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    assert_problem(&raw("application/json", b"{\"alerts\": [".to_vec()).await, 400, None);
    assert_problem(&raw("text/plain", b"{}".to_vec()).await, 415, None);
    let (s, v) = raw(
        "application/json",
        br#"{"version":"4","status":"firing","alerts":[{"status":"firing","labels":{"alertname":7}}]}"#.to_vec(),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(v["field"].as_str().unwrap().starts_with("alerts[0].labels"), "{v}");
    assert_problem(&raw("application/json", vec![b' '; 2 * 1024 * 1024]).await, 413, None);
    let (s, _) = app.call(Method::POST, path, None, Some(am(vec![]))).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let viewer = app.token("viewer", "v").await;
    assert_eq!(app.call(Method::POST, path, Some(&viewer), Some(am(vec![]))).await.0, StatusCode::FORBIDDEN);
    // Odd label values are accepted and stored as sent (up to the caps in ingest_limits.rs).
    let odd = "\u{202e}💥 ".repeat(120);
    let (s, v) = send(&app, path, &am(vec![am_alert("Odd", "warning", "firing", &[("weird", odd.as_str())])])).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (_, alerts) = app.get("/api/v1/alerts").await;
    assert_eq!(alerts["alerts"][0]["alert"]["labels"]["weird"], odd);
    assert_eq!(app.get("/api/v1/verify").await.1["ok"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_alerts_in_one_request_are_accepted_when_the_limit_allows() {
    let cfg = Config::from_toml_str("[server]\nmax_body_bytes = 16777216\n").unwrap();
    let app = spawn_app_with(Db::Sqlite, cfg).await.unwrap();
    let alerts: Vec<Value> = (0..10_000)
        .map(|i| am_alert(&format!("Bulk{}", i % 50), "warning", "firing", &[("n", &i.to_string())]))
        .collect();
    let (s, v) = send(&app, "/api/v1/ingest/alertmanager", &am(alerts)).await;
    assert_eq!(
        (s, v["accepted"].as_u64()),
        (StatusCode::OK, Some(10_000)),
        "{}",
        &v.to_string()[..200.min(v.to_string().len())]
    );
    assert_eq!(v["opened"].as_array().unwrap().len(), 50);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_incident_resolves_by_itself_once_its_alerts_stay_quiet_and_a_refire_cancels_that() {
    let cfg = Config::from_toml_str("[alerts]\nauto_resolve_after = \"700ms\"\n").unwrap();
    let app = spawn_app_with(Db::Sqlite, cfg).await.unwrap();
    let path = "/api/v1/ingest/alertmanager";
    send(&app, path, &am(vec![am_alert("Flappy", "high", "firing", &[])])).await;
    // Resolve, then fire again at once: the pending auto-resolve is cancelled.
    send(&app, path, &am(vec![am_alert("Flappy", "high", "resolved", &[])])).await;
    send(&app, path, &am(vec![am_alert("Flappy", "high", "firing", &[])])).await;
    let (_, t) = app.get("/api/v1/incidents/INC-1/timeline").await;
    assert!(t["events"].as_array().unwrap().iter().any(|e| e["type"] == "all_alerts_resolved"));
    // Well past the window: it must stay open.
    app.advance_ms(5_000);
    app.run_engine().await;
    assert_eq!(app.get("/api/v1/incidents/INC-1").await.1["status"], "triggered");
    // Now resolve for good: once the window has passed, the incident resolves by itself.
    send(&app, path, &am(vec![am_alert("Flappy", "high", "resolved", &[])])).await;
    app.advance_ms(699);
    app.run_engine().await;
    assert_eq!(app.get("/api/v1/incidents/INC-1").await.1["status"], "triggered", "not before the window ends");
    app.advance_ms(1);
    app.run_engine().await;
    let (_, inc) = app.get("/api/v1/incidents/INC-1").await;
    assert_eq!(inc["status"], "resolved", "{inc}");
    assert!(inc["root_cause"].as_str().unwrap().contains("resolved by itself"), "{inc}");
    let (_, t) = app.get("/api/v1/incidents/INC-1/timeline").await;
    let resolved_by: Vec<&str> = t["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "resolved")
        .map(|e| e["actor"].as_str().unwrap())
        .collect();
    assert_eq!(resolved_by, ["sevwatch"], "resolved exactly once, by the engine");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn maintenance_windows_hold_alerts_and_flapping_is_flagged_once() {
    let now = sevwatch_core::Timestamp::now();
    let start = now.checked_sub(jiff::SignedDuration::from_hours(1)).unwrap();
    let end = now.checked_add(jiff::SignedDuration::from_hours(1)).unwrap();
    let cfg = Config::from_toml_str(&format!(
        "[alerts]\nflap_changes = 3\nflap_window = \"10m\"\n[[alerts.maintenance]]\nservice = \"db\"\nstart = \"{start}\"\nend = \"{end}\"\n"
    ))
    .unwrap();
    let app = spawn_app_with(Db::Sqlite, cfg).await.unwrap();
    let path = "/api/v1/ingest/alertmanager";
    let mut in_window = am_alert("ReplicaLag", "critical", "firing", &[]);
    in_window["labels"]["service"] = json!("db");
    let (_, v) = send(&app, path, &am(vec![in_window])).await;
    assert_eq!(v["incidents"][0], Value::Null, "{v}");
    let (_, alerts) = app.get("/api/v1/alerts").await;
    assert_eq!(alerts["alerts"][0]["suppressed"], "maintenance");
    // api is not in maintenance: fire, resolve, fire, resolve: the third change flags flapping.
    for status in ["firing", "resolved", "firing", "resolved", "firing"] {
        send(&app, path, &am(vec![am_alert("Flappy", "warning", status, &[])])).await;
    }
    let (_, t) = app.get("/api/v1/incidents/INC-1/timeline").await;
    let flagged = t["events"].as_array().unwrap().iter().filter(|e| e["type"] == "alert_flapping").count();
    assert_eq!(flagged, 1, "{t}");
    assert_eq!(app.get("/api/v1/alerts?incident=INC-1").await.1["alerts"][0]["flapping"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_p0_on_a_service_keeps_lower_alerts_of_that_service_from_paging() {
    let app = spawn_app_with(Db::Sqlite, Config::default()).await.unwrap();
    let path = "/api/v1/ingest/alertmanager";
    let on = |name: &str, severity: &str, service: &str| {
        let mut a = am_alert(name, severity, "firing", &[]);
        a["labels"]["service"] = json!(service);
        a
    };
    let (_, v) = send(&app, path, &am(vec![on("DatabaseDown", "critical", "db")])).await;
    assert_eq!(v["opened"][0], "INC-1");
    let (_, v) =
        send(&app, path, &am(vec![on("SlowQueriesDb", "warning", "db"), on("SlowQueriesWeb", "warning", "web")])).await;
    let opened: Vec<&str> = v["opened"].as_array().unwrap().iter().map(|i| i.as_str().unwrap()).collect();
    assert_eq!(opened.len(), 2, "{v}");
    let paged = |id: String| {
        let app = &app;
        async move {
            let (_, t) = app.get(&format!("/api/v1/incidents/{id}/timeline")).await;
            t["events"].as_array().unwrap().iter().any(|e| e["type"] == "paged")
        }
    };
    assert!(paged("INC-1".into()).await, "the P0 pages");
    let (db_inc, web_inc) = {
        let a = app.get(&format!("/api/v1/incidents/{}", opened[0])).await.1;
        if a["service"] == "db" {
            (opened[0].to_string(), opened[1].to_string())
        } else {
            (opened[1].to_string(), opened[0].to_string())
        }
    };
    assert!(!paged(db_inc).await, "a lower alert on the P0's service opens an incident but pages nobody");
    assert!(paged(web_inc).await, "another service is not inhibited");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alert_on_a_continue_route_also_takes_the_next_matching_route() {
    let cfg = Config::from_toml_str(
        "[alerts]\n[[alerts.routes]]\nmatchers = ['team=\"db\"']\nservice = \"database\"\ncontinue = true\n\
         [[alerts.routes]]\nmatchers = ['team=~\"db|storage\"']\nservice = \"storage\"\n",
    )
    .unwrap_or_else(|p| panic!("{p:?}"));
    let app = spawn_app_with(Db::Sqlite, cfg).await.unwrap();
    let (_, v) = send(
        &app,
        "/api/v1/ingest/alertmanager",
        &am(vec![am_alert("ReplicationBroken", "high", "firing", &[("team", "db")])]),
    )
    .await;
    let opened: Vec<&str> = v["opened"].as_array().unwrap().iter().map(|i| i.as_str().unwrap()).collect();
    assert_eq!(opened, ["INC-1", "INC-2"], "{v}");
    let mut services = Vec::new();
    for id in ["INC-1", "INC-2"] {
        services.push(app.get(&format!("/api/v1/incidents/{id}")).await.1["service"].as_str().unwrap().to_string());
    }
    assert_eq!(services, ["database", "storage"]);
    // The same alert again is a repeat on both routes: nothing new opens.
    let (_, v) = send(
        &app,
        "/api/v1/ingest/alertmanager",
        &am(vec![am_alert("ReplicationBroken", "high", "firing", &[("team", "db")])]),
    )
    .await;
    assert!(v["opened"].as_array().unwrap().is_empty(), "{v}");
    // An alert the first route does not match takes the second only.
    let (_, v) = send(
        &app,
        "/api/v1/ingest/alertmanager",
        &am(vec![am_alert("DiskSlow", "warning", "firing", &[("team", "storage")])]),
    )
    .await;
    assert_eq!(v["opened"], json!(["INC-3"]));
}
