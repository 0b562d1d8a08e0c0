//! Properties of the alert parsers over arbitrary input: no parser panics on any bytes or any
//! JSON value, errors always carry a message, accepted alerts always have a fingerprint, and
//! matchers survive a print-and-parse round trip. Raise the case count with PROPTEST_CASES.

use std::collections::BTreeMap;

use proptest::prelude::*;
use serde_json::{Map, Value};
use sevwatch_core::alert::source::{alertmanager, generic, grafana, pagerduty};
use sevwatch_core::alert::{fingerprint, MatchOp, Matcher, Notification, ParseError};

fn check(result: Result<Notification, ParseError>) {
    match result {
        Ok(n) => assert!(n.alerts.iter().all(|a| !a.fingerprint.is_empty())),
        Err(e) => assert!(!e.message.is_empty()),
    }
}

fn parse_all(body: &[u8]) {
    check(alertmanager::parse(body));
    check(grafana::parse(body));
    check(generic::parse(body));
    match pagerduty::parse(body, "generated") {
        Ok(_) => {}
        Err(e) => assert!(!e.message.is_empty()),
    }
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

proptest! {
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
