//! Bad and odd input to every parser: each case is refused at a precise path or accepted,
//! never a panic. The generic format, which has no corpus, is covered here too.

use sevwatch_core::alert::source::pagerduty::PagerDutyEvent;
use sevwatch_core::alert::source::{alertmanager, generic, grafana, pagerduty};
use sevwatch_core::alert::{AlertStatus, LinkKind, ParseError};

fn am(body: &str) -> Result<usize, ParseError> {
    alertmanager::parse(body.as_bytes()).map(|n| n.alerts.len())
}

#[test]
fn alertmanager_refuses_each_mistake_at_its_path() {
    let cases = [
        ("not json", ""),
        ("[]", ""),
        ("{}", "alerts"),
        (r#"{"alerts": {}}"#, "alerts"),
        (r#"{"alerts": [1]}"#, "alerts[0]"),
        (r#"{"alerts": [{"labels": {"a": "b"}}, {"status": "firing"}]}"#, "alerts[1].labels"),
        (r#"{"alerts": [{"labels": {}}]}"#, "alerts[0].labels"),
        (r#"{"alerts": [{"labels": "x"}]}"#, "alerts[0].labels"),
        (r#"{"alerts": [{"labels": {"severity": 3}}]}"#, "alerts[0].labels.severity"),
        (r#"{"alerts": [{"labels": {"odd key": [1]}}]}"#, "alerts[0].labels[\"odd key\"]"),
        (r#"{"alerts": [{"labels": {"a": "b"}, "status": "exploded"}]}"#, "alerts[0].status"),
        (r#"{"alerts": [{"labels": {"a": "b"}, "startsAt": "yesterday"}]}"#, "alerts[0].startsAt"),
        (r#"{"alerts": [{"labels": {"a": "b"}, "annotations": {"x": false}}]}"#, "alerts[0].annotations.x"),
        (r#"{"alerts": [{"labels": {"a": "b\u0000c"}}]}"#, "alerts[0].labels.a"),
        (r#"{"status": "maybe", "alerts": []}"#, "status"),
        (r#"{"groupKey": [], "alerts": []}"#, "groupKey"),
    ];
    for (body, path) in cases {
        let e = am(body).expect_err(body);
        assert_eq!(e.path, path, "{body}: {e}");
        assert!(!e.message.is_empty());
    }
}

#[test]
fn alertmanager_accepts_what_lenient_senders_send() {
    let cases = [
        (r#"{"alerts": []}"#, 0),
        (r#"{"version": 3, "groupKey": 12, "truncatedAlerts": "2", "alerts": [{"labels": {"a": "b"}}]}"#, 1),
        (r#"{"alerts": [{"status": "resolved", "fingerprint": "abc"}]}"#, 1),
        (r#"{"alerts": [{"labels": {"a": "b"}, "annotations": null, "generatorURL": null, "endsAt": ""}]}"#, 1),
    ];
    for (body, n) in cases {
        assert_eq!(am(body).unwrap_or_else(|e| panic!("{body}: {e}")), n, "{body}");
    }
}

#[test]
fn ten_thousand_alerts_in_one_request_are_accepted() {
    let alerts: Vec<String> = (0..10_000)
        .map(|i| format!(r#"{{"status":"firing","labels":{{"alertname":"A","instance":"host-{i}"}},"startsAt":"2026-01-01T00:00:00Z"}}"#))
        .collect();
    let body = format!(r#"{{"version":"4","alerts":[{}]}}"#, alerts.join(","));
    let n = alertmanager::parse(body.as_bytes()).expect("valid");
    assert_eq!(n.alerts.len(), 10_000);
    let mut fps: Vec<&str> = n.alerts.iter().map(|a| a.fingerprint.as_str()).collect();
    fps.sort();
    fps.dedup();
    assert_eq!(fps.len(), 10_000, "distinct labels, distinct fingerprints");
}

#[test]
fn odd_unicode_label_values_are_kept_exactly_and_huge_ones_refused_with_their_path() {
    let long = "ü".repeat(512);
    let odd = "\u{202E}rtl \u{1F525} \u{FEFF}zero-width\u{200B} \\ \" \n";
    let body = serde_json::json!({"alerts": [{"labels": {"alertname": long, "ключ": odd}}]}).to_string();
    let n = alertmanager::parse(body.as_bytes()).expect("valid");
    assert_eq!(n.alerts[0].labels["alertname"].chars().count(), 512, "1 KiB of two-byte characters fits");
    assert_eq!(n.alerts[0].labels["ключ"], odd);
    let huge = "ü".repeat(200_000);
    let body = serde_json::json!({"alerts": [{"labels": {"alertname": "A"}}, {"labels": {"alertname": huge}}]});
    let e = alertmanager::parse(body.to_string().as_bytes()).expect_err("over the cap");
    assert_eq!(e.path, "alerts[1].labels.alertname");
    assert!(e.message.contains("400000 bytes; at most 1024"), "{e}");
}

#[test]
fn deeply_nested_json_is_refused_not_overflowed() {
    let body = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    for parse in [alertmanager::parse, grafana::parse, generic::parse] {
        assert!(parse(body.as_bytes()).is_err());
    }
    assert!(pagerduty::parse(body.as_bytes(), "k").is_err());
}

#[test]
fn grafana_refuses_bodies_of_neither_generation() {
    let cases = [
        (r#"{"receiver": "x"}"#, "alerts"),
        (r#"{"ruleName": "r", "state": "pending"}"#, "state"),
        (r#"{"ruleName": "r"}"#, "state"),
        (r#"{"ruleName": "r", "state": "alerting", "tags": {"a": 1}}"#, "tags.a"),
        (r#"{"ruleName": "r", "state": "alerting", "evalMatches": [{"value": {}}]}"#, "evalMatches[0].value"),
        (r#"{"ruleId": 3, "state": "ok"}"#, "ruleName"),
    ];
    for (body, path) in cases {
        let e = grafana::parse(body.as_bytes()).expect_err(body);
        assert_eq!(e.path, path, "{body}: {e}");
    }
}

#[test]
fn grafana_names_an_unnamed_alert_from_the_title_as_a_last_resort() {
    let body = r#"{"title": "[FIRING:1] Disk pressure", "alerts": [{"labels": {"host": "a"}}]}"#;
    let n = grafana::parse(body.as_bytes()).expect("valid");
    assert_eq!(n.alerts[0].name(), Some("Disk pressure"));
}

#[test]
fn pagerduty_validates_like_pagerduty() {
    let long = "x".repeat(1025);
    let trigger = |payload: serde_json::Value| {
        serde_json::json!({"routing_key": "k", "event_action": "trigger", "payload": payload}).to_string()
    };
    let cases = [
        (r#"{"event_action": "trigger"}"#.to_string(), "routing_key"),
        (r#"{"routing_key": "k"}"#.to_string(), "event_action"),
        (r#"{"routing_key": "k", "event_action": "snooze"}"#.to_string(), "event_action"),
        (r#"{"routing_key": "k", "event_action": "acknowledge"}"#.to_string(), "dedup_key"),
        (r#"{"routing_key": "k", "event_action": "resolve", "dedup_key": ""}"#.to_string(), "dedup_key"),
        (r#"{"routing_key": "k", "event_action": "trigger"}"#.to_string(), "payload"),
        (trigger(serde_json::json!({"source": "s", "severity": "info"})), "payload.summary"),
        (trigger(serde_json::json!({"summary": long, "source": "s", "severity": "info"})), "payload.summary"),
        (trigger(serde_json::json!({"summary": "s", "severity": "info"})), "payload.source"),
        (trigger(serde_json::json!({"summary": "s", "source": "s"})), "payload.severity"),
        (trigger(serde_json::json!({"summary": "s", "source": "s", "severity": "high"})), "payload.severity"),
        (trigger(serde_json::json!({"summary": "s", "source": "s", "severity": "info", "timestamp": "now"})), "payload.timestamp"),
        (r#"{"routing_key": "k", "event_action": "trigger", "payload": {"summary": "s", "source": "s", "severity": "info"}, "links": [{"text": "t"}]}"#.to_string(), "links[0].href"),
        (r#"{"routing_key": "k", "payload": {"source": "s"}}"#.to_string(), "payload.summary"),
    ];
    for (body, path) in cases {
        let e = pagerduty::parse(body.as_bytes(), "k").expect_err(&body);
        assert_eq!(e.path, path, "{body}: {e}");
    }
}

#[test]
fn a_pagerduty_trigger_without_dedup_key_takes_the_callers_key() {
    let body = r#"{"routing_key": "k", "event_action": "trigger", "payload": {"summary": "Disk full", "source": "db1", "severity": "error"}}"#;
    let PagerDutyEvent::Trigger { alert, dedup_key_generated, .. } =
        pagerduty::parse(body.as_bytes(), "uuid-1").expect("valid")
    else {
        panic!("a trigger")
    };
    assert!(dedup_key_generated);
    assert_eq!(alert.fingerprint, "uuid-1");
    assert_eq!(alert.summary.as_deref(), Some("Disk full"));
    assert_eq!(alert.status, AlertStatus::Firing);
}

#[test]
fn generic_accepts_one_alert_or_a_batch() {
    let one = r#"{"name": "DiskFull", "severity": "critical", "service": "db", "summary": "Disk 95% full",
        "labels": {"instance": "db1", "alertname": "overridden"}, "annotations": {"runbook_url": "https://r"},
        "starts_at": "2026-05-01T10:00:00Z", "links": ["https://a", {"href": "https://b", "text": "B"}]}"#;
    let n = generic::parse(one.as_bytes()).expect("valid");
    let a = &n.alerts[0];
    assert_eq!(a.name(), Some("DiskFull"));
    assert_eq!(a.service(), Some("db"));
    assert_eq!(a.raw_severity.as_deref(), Some("critical"));
    assert_eq!(a.status, AlertStatus::Firing);
    assert_eq!(
        a.links.iter().map(|l| l.kind).collect::<Vec<_>>(),
        [LinkKind::Runbook, LinkKind::Other, LinkKind::Other]
    );
    assert_eq!(a.fingerprint.len(), 16);
    let batch = r#"{"alerts": [{"name": "A", "fingerprint": "x1"}, {"name": "B", "status": "resolved"}]}"#;
    let n = generic::parse(batch.as_bytes()).expect("valid");
    assert_eq!(n.alerts.len(), 2);
    assert_eq!(n.alerts[0].fingerprint, "x1");
    assert_eq!(n.alerts[1].status, AlertStatus::Resolved);
}

#[test]
fn generic_refuses_each_mistake_at_its_path() {
    let cases = [
        (r#"{"summary": "no name"}"#, "name"),
        (r#"{"name": "A", "sevrity": "critical"}"#, "sevrity"),
        (r#"{"alerts": [], "extra": 1}"#, "extra"),
        (r#"{"alerts": [{"name": "A"}, {"name": 5}]}"#, "alerts[1].name"),
        (r#"{"alerts": [{"name": "A", "links": [""]}]}"#, "alerts[0].links[0]"),
        (r#"{"alerts": [{"name": "A", "links": [{"text": "t"}]}]}"#, "alerts[0].links[0].href"),
        (r#"{"name": "A", "status": "ok"}"#, "status"),
        (r#"{"name": "A", "labels": {"a": null}}"#, "labels.a"),
        (r#"{"name": "A", "ends_at": "2026-13-01T00:00:00Z"}"#, "ends_at"),
    ];
    for (body, path) in cases {
        let e = generic::parse(body.as_bytes()).expect_err(body);
        assert_eq!(e.path, path, "{body}: {e}");
    }
}
