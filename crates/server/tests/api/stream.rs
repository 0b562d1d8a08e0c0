//! Live updates over Server-Sent Events, and the OpenAPI document.

use futures_util::StreamExt;
use serde_json::json;

use crate::helpers::{on_both_backends, TestApp};

on_both_backends!(subscribers_receive_each_new_timeline_event, the_openapi_document_describes_every_route);

async fn subscribers_receive_each_new_timeline_event(app: TestApp) {
    let other = app.declare("other", "P3").await;
    let resp = app
        .http
        .get(format!("{}/api/v1/events/stream?incident=INC-2", app.base))
        .bearer_auth(&app.admin)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["content-type"], "text/event-stream");
    let mut body = resp.bytes_stream();
    let id = app.declare("watched", "P1").await;
    assert_eq!(id, "INC-2");
    app.post(&format!("/api/v1/incidents/{other}/notes"), json!({ "text": "not for this subscriber" })).await;
    app.post(&format!("/api/v1/incidents/{id}/ack"), json!({})).await;
    let mut text = String::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    // declared, paged (the P1 policy's first step), acknowledged
    while text.matches("event: timeline").count() < 3 {
        let chunk =
            tokio::time::timeout_at(deadline, body.next()).await.expect("events arrive in time").unwrap().unwrap();
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(
        text.contains("\"type\":\"declared\"")
            && text.contains("\"type\":\"paged\"")
            && text.contains("\"type\":\"acknowledged\""),
        "{text}"
    );
    assert!(!text.contains("not for this subscriber"), "{text}");
}

async fn the_openapi_document_describes_every_route(app: TestApp) {
    let v: serde_json::Value =
        app.http.get(format!("{}/api/v1/openapi.json", app.base)).send().await.unwrap().json().await.unwrap();
    assert!(v["openapi"].as_str().unwrap().starts_with("3."));
    let paths = v["paths"].as_object().unwrap();
    for p in [
        "/api/v1/incidents",
        "/api/v1/incidents/{id}/resolve",
        "/api/v1/incidents/{id}/verify",
        "/api/v1/tokens",
        "/api/v1/events/stream",
        "/healthz",
    ] {
        assert!(paths.contains_key(p), "{p} missing from the OpenAPI document");
    }
    assert!(v["components"]["schemas"]["IncidentView"].is_object());
}
