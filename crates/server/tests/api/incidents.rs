use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{assert_problem, on_both_backends, TestApp};

on_both_backends!(
    an_incident_walks_its_lifecycle_over_http,
    writes_are_attributed_to_the_token_name,
    tokens_are_checked_for_presence_validity_and_role,
    lists_filter_and_page_with_a_cursor,
    concurrent_declarations_over_http_get_consecutive_ids,
    verify_reports_a_clean_chain,
);

async fn an_incident_walks_its_lifecycle_over_http(app: TestApp) {
    let (s, v) = app
        .post(
            "/api/v1/incidents",
            json!({ "title": "API latency 10x", "severity": "high", "service": "api", "summary": "p99 2s" }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(
        (v["id"].as_str(), v["severity"].as_str(), v["status"].as_str()),
        (Some("INC-1"), Some("P1"), Some("triggered"))
    );
    assert_eq!(v["sla"]["response"]["target"], "15m");
    assert_eq!(v["events"][0]["type"], "declared");
    let base = "/api/v1/incidents/INC-1";
    assert_eq!(app.post(&format!("{base}/ack"), json!({})).await.1["status"], "acknowledged");
    assert_problem(&app.post(&format!("{base}/ack"), json!({})).await, 409, None);
    let (_, v) = app.post(&format!("{base}/assign"), json!({ "role": "commander", "to": "alice" })).await;
    assert_eq!(v["roles"]["commander"], "alice");
    assert_problem(
        &app.post(&format!("{base}/assign"), json!({ "role": "janitor", "to": "x" })).await,
        422,
        Some("role"),
    );
    let (_, v) = app.post(&format!("{base}/status"), json!({ "status": "identified", "note": "bad deploy" })).await;
    assert_eq!(v["status"], "identified");
    assert_problem(&app.post(&format!("{base}/status"), json!({ "status": "sleeping" })).await, 422, Some("status"));
    let (_, v) = app.post(&format!("{base}/severity"), json!({ "severity": "P0", "reason": "data loss" })).await;
    assert_eq!((v["severity"].as_str(), v["sla"]["response"]["target"].as_str()), (Some("P0"), Some("5m")));
    app.post(&format!("{base}/notes"), json!({ "text": "rolled back" })).await;
    assert_problem(&app.post(&format!("{base}/notes"), json!({ "text": "  " })).await, 422, Some("text"));
    app.post(&format!("{base}/check"), json!({ "item": "resolution.root-cause-identified" })).await;
    assert_problem(&app.post(&format!("{base}/check"), json!({ "item": "resolution.nope" })).await, 422, Some("item"));
    let refused = app.post(&format!("{base}/resolve"), json!({ "root_cause": "bad deploy" })).await;
    assert_problem(&refused, 409, None);
    assert!(refused.1["detail"].as_str().unwrap().contains("resolution.fix-verified"));
    let (s, v) = app.post(&format!("{base}/resolve"), json!({ "root_cause": "bad deploy", "force": true })).await;
    assert_eq!((s, v["status"].as_str()), (StatusCode::OK, Some("resolved")));
    assert_eq!(v["events"][0]["data"]["forced"], true);
    assert_problem(&app.post(&format!("{base}/status"), json!({ "status": "monitoring" })).await, 409, None);
    assert_eq!(app.post(&format!("{base}/close"), json!({})).await.1["status"], "closed");
    let illegal = app.post(&format!("{base}/close"), json!({})).await;
    assert_problem(&illegal, 409, None);
    assert!(illegal.1["detail"].as_str().unwrap().contains("closed"));
    assert_eq!(app.post(&format!("{base}/reopen"), json!({ "reason": "back" })).await.1["status"], "investigating");
    let (_, t) = app.get(&format!("{base}/timeline")).await;
    let types: Vec<&str> = t["events"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        [
            "declared",
            "paged",
            "acknowledged",
            "role_assigned",
            "status_changed",
            "severity_changed",
            "note_added",
            "checklist_item_checked",
            "resolved",
            "closed",
            "reopened"
        ]
    );
    let (_, shown) = app.get(base).await;
    assert_eq!(shown["events"].as_array().unwrap().len(), 10);
    assert_eq!(shown["reopen_count"], 1);
    assert_problem(&app.get("/api/v1/incidents/INC-999").await, 404, None);
    assert_problem(&app.get("/api/v1/incidents/banana").await, 404, None);
}

async fn writes_are_attributed_to_the_token_name(app: TestApp) {
    let bob = app.token("responder", "bob").await;
    let (s, v) =
        app.call(Method::POST, "/api/v1/incidents", Some(&bob), Some(json!({ "title": "x", "severity": "P3" }))).await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(v["declared_by"], "bob");
    assert_eq!(v["events"][0]["actor"], "bob");
}

async fn tokens_are_checked_for_presence_validity_and_role(app: TestApp) {
    let id = app.declare("x", "P2").await;
    let path = format!("/api/v1/incidents/{id}");
    assert_problem(&app.call(Method::GET, &path, None, None).await, 401, None);
    assert_problem(&app.call(Method::GET, &path, Some("sw_bogus"), None).await, 401, None);
    let viewer = app.token("viewer", "v").await;
    assert_eq!(app.call(Method::GET, &path, Some(&viewer), None).await.0, StatusCode::OK);
    assert_problem(&app.call(Method::POST, &format!("{path}/ack"), Some(&viewer), None).await, 403, None);
    let ingest = app.token("ingest", "am").await;
    assert_problem(&app.call(Method::GET, &path, Some(&ingest), None).await, 403, None);
    let responder = app.token("responder", "r").await;
    assert_problem(
        &app.call(Method::POST, "/api/v1/tokens", Some(&responder), Some(json!({ "role": "admin", "name": "me" })))
            .await,
        403,
        None,
    );
    assert_problem(&app.post("/api/v1/tokens", json!({ "role": "overlord", "name": "x" })).await, 422, Some("role"));
    // ?token= is for webhook senders on the ingest endpoints only (see security.rs).
    let (s, _) = app.call(Method::GET, &format!("{path}?token={viewer}"), None, None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    // Revocation takes effect at once.
    let (_, list) = app.get("/api/v1/tokens").await;
    let vid = list["tokens"].as_array().unwrap().iter().find(|t| t["name"] == "v").unwrap()["id"].as_i64().unwrap();
    assert_eq!(
        app.call(Method::DELETE, &format!("/api/v1/tokens/{vid}"), Some(&app.admin), None).await.0,
        StatusCode::NO_CONTENT
    );
    assert_problem(&app.call(Method::GET, &path, Some(&viewer), None).await, 401, None);
}

async fn lists_filter_and_page_with_a_cursor(app: TestApp) {
    for n in 0..12 {
        let id = app.declare(&format!("i{n}"), ["P0", "P1", "P2"][n % 3]).await;
        if n % 4 == 0 {
            app.post(&format!("/api/v1/incidents/{id}/resolve"), json!({ "force": true })).await;
        }
    }
    let mut seen = Vec::new();
    let mut url = "/api/v1/incidents?status=open&severity=P0,high&limit=3".to_string();
    loop {
        let (s, v) = app.get(&url).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        seen.extend(v["incidents"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap().to_string()));
        match v["next_cursor"].as_str() {
            Some(c) => url = format!("/api/v1/incidents?status=open&severity=P0,high&limit=3&cursor={c}"),
            None => break,
        }
    }
    // n = 0..12 with severity P0/P1 (n%3 != 2) and still open (n%4 != 0), newest first.
    let expected: Vec<String> =
        (0..12).rev().filter(|n| n % 3 != 2 && n % 4 != 0).map(|n| format!("INC-{}", n + 1)).collect();
    assert_eq!(seen, expected);
    assert_problem(&app.get("/api/v1/incidents?status=sleeping").await, 422, Some("status"));
    assert_problem(&app.get("/api/v1/incidents?severity=P9").await, 422, Some("severity"));
    assert_problem(&app.get("/api/v1/incidents?limit=0").await, 422, Some("limit"));
    assert_problem(&app.get("/api/v1/incidents?limit=abc").await, 400, None);
    assert_problem(&app.get("/api/v1/incidents?cursor=INC-x").await, 422, Some("cursor"));
    assert_problem(&app.get("/api/v1/incidents?service=a%00b").await, 422, Some("service"));
}

async fn concurrent_declarations_over_http_get_consecutive_ids(app: TestApp) {
    let app = std::sync::Arc::new(app);
    let mut tasks = Vec::new();
    for w in 0..8 {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            for n in 0..10 {
                ids.push(app.declare(&format!("w{w} n{n}"), "P2").await);
            }
            ids
        }));
    }
    let mut nums: Vec<i64> = Vec::new();
    for t in tasks {
        nums.extend(t.await.unwrap().iter().map(|id| id.trim_start_matches("INC-").parse::<i64>().unwrap()));
    }
    nums.sort();
    assert_eq!(nums, (1..=80).collect::<Vec<_>>());
}

async fn verify_reports_a_clean_chain(app: TestApp) {
    let id = app.declare("x", "P2").await;
    app.post(&format!("/api/v1/incidents/{id}/notes"), json!({ "text": "one" })).await;
    let (s, v) = app.get(&format!("/api/v1/incidents/{id}/verify")).await;
    assert_eq!(s, StatusCode::OK);
    // declared, paged (the P2 policy's first step), note_added
    assert_eq!((v["ok"].as_bool(), v["events"].as_u64()), (Some(true), Some(3)));
    let (_, all) = app.get("/api/v1/verify").await;
    assert_eq!(
        (all["ok"].as_bool(), all["incidents"].as_u64(), all["events"].as_u64()),
        (Some(true), Some(1), Some(3))
    );
}
