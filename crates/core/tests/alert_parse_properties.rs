//! Properties of the alert parsers over arbitrary input: no parser panics on any bytes or any
//! JSON value, errors always carry a message, accepted alerts always have a fingerprint and
//! stay within the caps of `alert::limits` (an over-limit label is refused with the alert's
//! path), and matchers survive a print-and-parse round trip. Raise the case count with
//! PROPTEST_CASES.

use std::collections::BTreeMap;

use proptest::prelude::*;
use serde_json::{Map, Value};
use sevwatch_core::alert::limits::{
    MAX_ANNOTATIONS, MAX_ANNOTATION_NAME_BYTES, MAX_ANNOTATION_VALUE_BYTES, MAX_FINGERPRINT_CHARS, MAX_LABELS,
    MAX_LABEL_NAME_BYTES, MAX_LABEL_VALUE_BYTES,
};
use sevwatch_core::alert::source::{alertmanager, generic, grafana, pagerduty};
use sevwatch_core::alert::{fingerprint, Alert, MatchOp, Matcher, Notification, ParseError};

/// Whether an accepted alert keeps to every cap.
fn within_caps(a: &Alert) -> bool {
    a.labels.len() <= MAX_LABELS
        && a.labels.iter().all(|(k, v)| k.len() <= MAX_LABEL_NAME_BYTES && v.len() <= MAX_LABEL_VALUE_BYTES)
        && a.annotations.len() <= MAX_ANNOTATIONS
        && a.annotations
            .iter()
            .all(|(k, v)| k.len() <= MAX_ANNOTATION_NAME_BYTES && v.len() <= MAX_ANNOTATION_VALUE_BYTES)
        && a.fingerprint.chars().count() <= MAX_FINGERPRINT_CHARS
}

fn check(result: Result<Notification, ParseError>) {
    match result {
        Ok(n) => {
            assert!(n.alerts.iter().all(|a| !a.fingerprint.is_empty()));
            assert!(n.alerts.iter().all(within_caps), "an alert over a cap was accepted");
        }
        Err(e) => assert!(!e.message.is_empty()),
    }
}

fn check_pagerduty(result: Result<pagerduty::PagerDutyEvent, ParseError>) {
    match result {
        Ok(pagerduty::PagerDutyEvent::Trigger { alert, .. }) => assert!(within_caps(&alert), "{alert:?}"),
        Ok(_) => {}
        Err(e) => assert!(!e.message.is_empty()),
    }
}

fn parse_all(body: &[u8]) {
    check(alertmanager::parse(body));
    check(grafana::parse(body));
    check(generic::parse(body));
    check_pagerduty(pagerduty::parse(body, "generated"));
}

/// Keys the parsers look for, so random objects often hit real code paths.
const KEYS: &[&str] = &[
    "alerts",
    "labels",
    "annotations",
    "status",
    "startsAt",
    "endsAt",
    "fingerprint",
    "generatorURL",
    "groupKey",
    "version",
    "routing_key",
    "event_action",
    "dedup_key",
    "payload",
    "summary",
    "source",
    "severity",
    "links",
    "images",
    "href",
    "ruleName",
    "state",
    "evalMatches",
    "tags",
    "name",
    "title",
    "value",
    "alertname",
];

const STRINGS: &[&str] = &[
    "firing",
    "resolved",
    "trigger",
    "acknowledge",
    "resolve",
    "critical",
    "info",
    "alerting",
    "ok",
    "0001-01-01T00:00:00Z",
    "2026-01-01T00:00:00Z",
    "",
];

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map(Value::Number).unwrap_or(Value::Null)),
        prop::sample::select(STRINGS).prop_map(|s| Value::String(s.to_string())),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(5, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec(
                (prop_oneof![prop::sample::select(KEYS).prop_map(String::from), any::<String>()], inner),
                0..8
            )
            .prop_map(|kvs| Value::Object(kvs.into_iter().collect::<Map<String, Value>>())),
        ]
    })
}

/// Strings around a cap: short ones, and ones a byte (or a two-byte character) either side of
/// the label and annotation value caps.
fn sized(cap: usize) -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[a-z]{1,8}",
        1 => (0usize..3).prop_map(move |d| "v".repeat(cap - 1 + d)),
        1 => (0usize..3).prop_map(move |d| "ü".repeat(cap / 2 - 1 + d)),
    ]
}

/// A label or annotation map: a few entries of any size, or a count around the cap.
fn capped_map(max_name: usize, max_value: usize, max_count: usize) -> impl Strategy<Value = BTreeMap<String, String>> {
    let name = prop_oneof![4 => "[a-z_]{1,8}", 1 => (0usize..3).prop_map(move |d| "n".repeat(max_name - 1 + d))];
    prop_oneof![
        3 => prop::collection::btree_map(name, sized(max_value), 0..4),
        1 => (max_count - 2..max_count + 3).prop_map(|n| (0..n).map(|i| (format!("l{i}"), "v".into())).collect()),
    ]
}

fn over_caps(labels: &BTreeMap<String, String>) -> bool {
    labels.len() > MAX_LABELS
        || labels.iter().any(|(k, v)| k.len() > MAX_LABEL_NAME_BYTES || v.len() > MAX_LABEL_VALUE_BYTES)
}

proptest! {
    /// Whatever sizes an alert's labels, annotations and fingerprint have, no parser panics
    /// and none accepts one over a cap; labels over a cap are refused at the alert's path.
    #[test]
    fn no_parser_panics_or_accepts_an_over_limit_label(
        labels in capped_map(MAX_LABEL_NAME_BYTES, MAX_LABEL_VALUE_BYTES, MAX_LABELS),
        annotations in capped_map(MAX_ANNOTATION_NAME_BYTES, MAX_ANNOTATION_VALUE_BYTES, MAX_ANNOTATIONS),
        fp in prop_oneof!["[a-f0-9]{1,16}", (0usize..3).prop_map(|d| "k".repeat(MAX_FINGERPRINT_CHARS - 1 + d))],
        value in sized(MAX_LABEL_VALUE_BYTES),
    ) {
        let mut named = labels.clone();
        named.insert("alertname".into(), "A".into());
        let am = serde_json::json!({"alerts": [{"labels": {"alertname": "Ok"}}, {"labels": named, "annotations": annotations, "fingerprint": fp}]});
        let am = am.to_string();
        for result in [alertmanager::parse(am.as_bytes()), grafana::parse(am.as_bytes())] {
            if over_caps(&named) {
                let e = result.as_ref().expect_err("an over-limit label is refused");
                prop_assert!(e.path.starts_with("alerts[1].labels"), "{}", e);
            }
            check(result);
        }
        let generic_body = serde_json::json!({"alerts": [{"name": value, "labels": labels, "annotations": annotations, "fingerprint": fp, "service": value}]});
        let generic_result = generic::parse(generic_body.to_string().as_bytes());
        if over_caps(&labels) || value.len() > MAX_LABEL_VALUE_BYTES {
            let e = generic_result.as_ref().expect_err("an over-limit label is refused");
            prop_assert!(e.path.starts_with("alerts[0]"), "{}", e);
        }
        check(generic_result);
        let pd = serde_json::json!({"routing_key": "k", "event_action": "trigger", "dedup_key": fp,
            "payload": {"summary": "s", "source": value, "severity": "info", "component": value, "custom_details": annotations}});
        let pd_result = pagerduty::parse(pd.to_string().as_bytes(), "generated");
        if value.len() > MAX_LABEL_VALUE_BYTES {
            prop_assert_eq!(pd_result.as_ref().map(|_| ()).unwrap_err().path.as_str(), "payload.source");
        }
        check_pagerduty(pd_result);
        let legacy = serde_json::json!({"ruleName": value, "state": "alerting", "tags": labels, "message": "m"});
        check(grafana::parse(legacy.to_string().as_bytes()));
    }

    #[test]
    fn no_parser_panics_on_arbitrary_bytes(body in prop::collection::vec(any::<u8>(), 0..512)) {
        parse_all(&body);
    }

    #[test]
    fn no_parser_panics_on_arbitrary_json(v in json_value()) {
        parse_all(v.to_string().as_bytes());
    }

    #[test]
    fn no_parser_panics_on_alert_shaped_json(alerts in prop::collection::vec(json_value(), 0..6), extra in json_value()) {
        let body = serde_json::json!({"status": "firing", "alerts": alerts, "payload": extra, "routing_key": "k", "event_action": "trigger"});
        parse_all(body.to_string().as_bytes());
    }

    #[test]
    fn string_labels_are_always_accepted_and_fingerprinted_by_content(
        labels in prop::collection::btree_map("[a-z_]{1,8}", any::<String>(), 1..6)
    ) {
        let labels: BTreeMap<String, String> = labels.into_iter().filter(|(_, v)| !v.contains('\0')).collect();
        prop_assume!(!labels.is_empty());
        let body = serde_json::json!({"alerts": [{"labels": labels}]}).to_string();
        let n = alertmanager::parse(body.as_bytes()).expect("string labels are valid");
        prop_assert_eq!(&n.alerts[0].labels, &labels);
        prop_assert_eq!(&n.alerts[0].fingerprint, &fingerprint(&labels));
    }

    #[test]
    fn matchers_round_trip_through_their_text_form(
        name in "[a-zA-Z_][a-zA-Z0-9_]{0,10}",
        op in prop::sample::select(vec![MatchOp::Equal, MatchOp::NotEqual, MatchOp::Regex, MatchOp::NotRegex]),
        value in any::<String>(),
    ) {
        if let Ok(m) = Matcher::new(&name, op, &value) {
            let again: Matcher = m.to_string().parse().expect("printed matchers parse");
            prop_assert_eq!(again, m);
        }
    }

    #[test]
    fn parsed_matchers_print_back_to_the_same_matcher(text in any::<String>()) {
        if let Ok(m) = text.parse::<Matcher>() {
            let again: Matcher = m.to_string().parse().expect("printed matchers parse");
            prop_assert_eq!(again, m);
        }
    }
}
