//! What one alert may carry, through the real server on every source: an alert over a cap (in
//! labels, label names and values, annotations, fingerprints and dedup keys) refuses its whole
//! request with the path of the offending alert and field, nothing of the request is stored,
//! and an alert at every cap at once is accepted.

use reqwest::StatusCode;
use serde_json::{json, Map, Value};
use sevwatch_core::alert::limits::{
    MAX_ANNOTATIONS, MAX_ANNOTATION_VALUE_BYTES, MAX_FINGERPRINT_CHARS, MAX_LABELS, MAX_LABEL_NAME_BYTES,
    MAX_LABEL_VALUE_BYTES,
};

use crate::helpers::{on_both_backends, TestApp};

on_both_backends!(
    an_alert_over_any_cap_refuses_its_request_on_every_source,
    an_alert_at_every_cap_is_accepted_on_every_source,
);

const BATCH_SOURCES: [&str; 3] = ["/api/v1/ingest/alertmanager", "/api/v1/ingest/grafana", "/api/v1/ingest/generic"];

/// An alert with these labels, annotations and fingerprint in the shape of `path`'s source.
fn alert(path: &str, labels: &Map<String, Value>, annotations: &Map<String, Value>, fingerprint: &str) -> Value {
    if path.ends_with("generic") {
        let mut labels = labels.clone();
        let name = labels.remove("alertname").unwrap_or(json!("Big"));
        json!({ "name": name, "labels": labels, "annotations": annotations, "fingerprint": fingerprint })
    } else {
        json!({ "status": "firing", "labels": labels, "annotations": annotations, "fingerprint": fingerprint })
    }
}

/// A batch of two: a small good alert, then the one under test at `alerts[1]`.
fn batch(path: &str, labels: &Map<String, Value>, annotations: &Map<String, Value>, fingerprint: &str) -> Value {
    let ok: Map<String, Value> = [("alertname".to_string(), json!("Small"))].into_iter().collect();
    json!({ "alerts": [alert(path, &ok, &Map::new(), "small-1"), alert(path, labels, annotations, fingerprint)] })
}

fn labels(n: usize, name_len: usize, value_len: usize) -> Map<String, Value> {
    let mut m: Map<String, Value> =
        (1..n).map(|i| (format!("{i:n>width$}", width = name_len.max(4)), json!("v".repeat(value_len)))).collect();
    m.insert("alertname".into(), json!("Big"));
    m
}

fn annotations(n: usize, value_len: usize) -> Map<String, Value> {
    (0..n).map(|i| (format!("a{i}"), json!("d".repeat(value_len)))).collect()
}

async fn stored(app: &TestApp) -> usize {
    app.get("/api/v1/alerts").await.1["alerts"].as_array().map_or(0, Vec::len)
}

async fn an_alert_over_any_cap_refuses_its_request_on_every_source(app: TestApp) {
    let few = labels(3, 4, 8);
    let big_name = {
        let mut m = few.clone();
        m.insert("n".repeat(MAX_LABEL_NAME_BYTES + 1), json!("v"));
        m
    };
    let big_value = {
        let mut m = few.clone();
        m.insert("team".into(), json!("ü".repeat(MAX_LABEL_VALUE_BYTES / 2 + 1)));
        m
    };
    let fp = "f".repeat(MAX_FINGERPRINT_CHARS + 1);
    let none = Map::new();
    let cases = [
        ("labels per alert", labels(MAX_LABELS + 1, 4, 8), none.clone(), "fp-1", "alerts[1].labels".to_string()),
        ("a label name", big_name, none.clone(), "fp-1", format!("alerts[1].labels.{}", "n".repeat(129))),
        ("a label value", big_value, none.clone(), "fp-1", "alerts[1].labels.team".to_string()),
        (
            "annotations per alert",
            few.clone(),
            annotations(MAX_ANNOTATIONS + 1, 4),
            "fp-1",
            "alerts[1].annotations".to_string(),
        ),
        (
            "an annotation value",
            few.clone(),
            annotations(1, MAX_ANNOTATION_VALUE_BYTES + 1),
            "fp-1",
            "alerts[1].annotations.a0".to_string(),
        ),
        ("a fingerprint", few.clone(), none.clone(), fp.as_str(), "alerts[1].fingerprint".to_string()),
    ];
    for path in BATCH_SOURCES {
        for (what, l, a, f, field) in &cases {
            let (s, v) = app.post(path, batch(path, l, a, f)).await;
            assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{path}, {what}: {v}");
            assert_eq!(v["field"].as_str(), Some(field.as_str()), "{path}, {what}: {v}");
            assert!(v["detail"].as_str().unwrap().contains("at most"), "{path}, {what}: {v}");
        }
    }
    // PagerDuty events have fixed fields: `payload.source` and `component` become labels,
    // `custom_details` an annotation; the dedup key is the fingerprint. Its own error shape.
    let pd = |payload: Value, dedup: &str| json!({ "routing_key": app.admin, "event_action": "trigger", "dedup_key": dedup, "payload": payload });
    let base = json!({ "summary": "disk full", "source": "db-1", "severity": "info" });
    let with = |k: &str, v: Value| {
        let mut p = base.clone();
        p[k] = v;
        p
    };
    let pd_cases = [
        (pd(with("source", json!("s".repeat(MAX_LABEL_VALUE_BYTES + 1))), "k1"), "payload.source: label value"),
        (pd(with("component", json!("c".repeat(MAX_LABEL_VALUE_BYTES + 1))), "k1"), "payload.component: label value"),
        (
            pd(with("custom_details", json!({ "log": "l".repeat(MAX_ANNOTATION_VALUE_BYTES) })), "k1"),
            "payload.custom_details: annotation value",
        ),
        (pd(base.clone(), &fp), "dedup_key: must be at most 255 characters"),
    ];
    for (body, want) in pd_cases {
        let (s, v) = app.post("/v2/enqueue", body).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{want}: {v}");
        assert!(v["errors"][0].as_str().unwrap().starts_with(want), "{want}: {v}");
    }
    // The good alert of each refused batch was not stored either.
    assert_eq!(stored(&app).await, 0, "a refused request stores nothing");
}

async fn an_alert_at_every_cap_is_accepted_on_every_source(app: TestApp) {
    // 64 labels with the longest names and values (generic takes `name` as the `alertname`
    // label), 64 annotations, the longest fingerprint.
    let l = labels(MAX_LABELS, MAX_LABEL_NAME_BYTES, MAX_LABEL_VALUE_BYTES);
    let a = annotations(MAX_ANNOTATIONS, MAX_ANNOTATION_VALUE_BYTES / 8);
    let big = annotations(1, MAX_ANNOTATION_VALUE_BYTES);
    for (i, path) in BATCH_SOURCES.iter().enumerate() {
        let fp = format!("{i}{}", "f".repeat(MAX_FINGERPRINT_CHARS - 1));
        let (s, v) = app.post(path, batch(path, &l, &a, &fp)).await;
        assert_eq!(s, StatusCode::OK, "{path}: {}", &v.to_string()[..v.to_string().len().min(300)]);
        let (s, v) = app.post(path, batch(path, &l, &big, &format!("big-{i}"))).await;
        assert_eq!(s, StatusCode::OK, "{path}: {}", &v.to_string()[..v.to_string().len().min(300)]);
    }
    let payload = json!({ "summary": "s".repeat(1024), "source": "s".repeat(MAX_LABEL_VALUE_BYTES), "severity": "info",
        "component": "c".repeat(MAX_LABEL_VALUE_BYTES), "custom_details": "d".repeat(MAX_ANNOTATION_VALUE_BYTES) });
    let body = json!({ "routing_key": app.admin, "event_action": "trigger", "dedup_key": "k".repeat(MAX_FINGERPRINT_CHARS), "payload": payload });
    let (s, v) = app.post("/v2/enqueue", body).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    assert_eq!(app.get("/api/v1/verify").await.1["ok"], true);
}
