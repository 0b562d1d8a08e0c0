//! Every real webhook body in `../shared/corpus/payloads` is accepted by its parser, and the
//! response bodies kept beside them are refused with a message that says what they are.

use std::fs;
use std::path::{Path, PathBuf};

use sevwatch_core::alert::source::pagerduty::PagerDutyEvent;
use sevwatch_core::alert::source::{alertmanager, grafana, pagerduty};
use sevwatch_core::alert::{AlertStatus, LinkKind};

fn corpus() -> Option<PathBuf> {
    let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpus/payloads"));
    if dir.is_dir() {
        return Some(dir.to_path_buf());
    }
    if std::env::var("SEVWATCH_REQUIRE_ALL").as_deref() == Ok("1") {
        panic!("../shared not found at {} and SEVWATCH_REQUIRE_ALL=1", dir.display());
    }
    eprintln!("skipping: ../shared not found");
    None
}

/// `//` and `/* */` comments removed, outside strings, so the `.jsonc` files parse as JSON.
fn strip_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    let mut in_string = false;
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            match c {
                '\\' => out.extend(chars.next()),
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match (c, chars.peek()) {
            ('"', _) => {
                in_string = true;
                out.push(c);
            }
            ('/', Some('/')) => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            ('/', Some('*')) => {
                chars.next();
                let mut prev = ' ';
                for c in chars.by_ref() {
                    if prev == '*' && c == '/' {
                        break;
                    }
                    prev = c;
                }
            }
            _ => out.push(c),
        }
    }
    out
}

fn files(dir: &Path, folder: &str) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = fs::read_dir(dir.join(folder))
        .unwrap_or_else(|e| panic!("{folder}: {e}"))
        .map(|e| e.expect("readable directory entry").path())
        .filter(|p| p.is_file() && matches!(p.extension().and_then(|x| x.to_str()), Some("json" | "jsonc")))
        .map(|p| {
            let text = fs::read_to_string(&p).expect("corpus files are UTF-8");
            let body = if p.extension().is_some_and(|x| x == "jsonc") { strip_comments(&text) } else { text };
            (p.file_name().expect("file name").to_string_lossy().into_owned(), body.into_bytes())
        })
        .collect();
    out.sort();
    assert!(!out.is_empty(), "{folder} holds no payloads");
    out
}

#[test]
fn every_alertmanager_payload_is_accepted() {
    let Some(dir) = corpus() else { return };
    for (name, body) in files(&dir, "alertmanager") {
        let n = alertmanager::parse(&body).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!n.alerts.is_empty(), "{name}");
        for a in &n.alerts {
            assert!(a.name().is_some(), "{name}: every alert has a name");
            assert!(!a.fingerprint.is_empty(), "{name}");
        }
        eprintln!("accepted alertmanager/{name}: {} alerts", n.alerts.len());
    }
}

#[test]
fn alertmanager_quirks_in_real_payloads_are_handled() {
    let Some(dir) = corpus() else { return };
    let get = |f: &str| {
        let body = fs::read(dir.join("alertmanager").join(f)).expect("corpus file");
        alertmanager::parse(&body).unwrap_or_else(|e| panic!("{f}: {e}"))
    };
    // Version 3 with a numeric groupKey.
    let n = get("alerta-test-am-webhook-version3-numeric-groupKey.json");
    assert_eq!(n.group_key.as_deref(), Some("5615590933959184469"));
    // Resolved although endsAt is the zero time: the status wins, the end is unset.
    let n = get("zulip-single-alert-resolved.json");
    assert_eq!(n.alerts[0].status, AlertStatus::Resolved);
    assert_eq!(n.alerts[0].ends_at, None);
    assert_eq!(n.alerts[0].fingerprint, "a1bc48475b20e73d");
    // Alerts without their own status take the group's.
    let n = get("prometheus-msteams-testdata-prom_post_request.json");
    assert_eq!(n.alerts[0].status, AlertStatus::Firing);
    assert_eq!(n.alerts[0].summary.as_deref(), Some("Server High Memory usage"));
    assert!(n.alerts[0].links.iter().any(|l| l.kind == LinkKind::Runbook));
    // No generatorURL: no source link, no error.
    let n = get("zulip-single-alert-no-generatorURL.json");
    assert!(n.alerts[0].links.is_empty());
    // One fingerprint on four different label sets is not trusted.
    let n = get("bougou-adapter-test-vmalert-mixed-firing-resolved.json");
    let mut fps: Vec<&str> = n.alerts.iter().map(|a| a.fingerprint.as_str()).collect();
    fps.sort();
    fps.dedup();
    assert_eq!(fps.len(), 4);
    assert_eq!(n.alerts[1].status, AlertStatus::Resolved);
    assert_eq!(n.truncated_alerts, 0);
    // Identical alerts without fingerprints get the same computed one.
    let n = get("grafana-am-webhook-proxy-testdata-sample.json");
    assert!(n.alerts.iter().all(|a| a.fingerprint == n.alerts[0].fingerprint));
}

#[test]
fn every_grafana_payload_of_either_generation_is_accepted() {
    let Some(dir) = corpus() else { return };
    for folder in ["grafana", "grafana-legacy"] {
        for (name, body) in files(&dir, folder) {
            let n = grafana::parse(&body).unwrap_or_else(|e| panic!("{folder}/{name}: {e}"));
            assert!(!n.alerts.is_empty(), "{name}");
            for a in &n.alerts {
                assert!(a.name().is_some(), "{folder}/{name}: every alert has a name");
            }
            eprintln!("accepted {folder}/{name}: {} alerts", n.alerts.len());
        }
    }
}

#[test]
fn grafana_quirks_in_real_payloads_are_handled() {
    let Some(dir) = corpus() else { return };
    let get = |f: &str| {
        let body = fs::read(dir.join(f)).expect("corpus file");
        grafana::parse(&body).unwrap_or_else(|e| panic!("{f}: {e}"))
    };
    let n = get("grafana/zulip-grafana11-alert-without-alertname-label.json");
    assert_eq!(n.alerts[0].name(), Some("Memory (copy)"));
    let kinds: Vec<LinkKind> = n.alerts[0].links.iter().map(|l| l.kind).collect();
    for k in [LinkKind::Source, LinkKind::Dashboard, LinkKind::Panel, LinkKind::Silence, LinkKind::Image] {
        assert!(kinds.contains(&k), "{k:?} in {kinds:?}");
    }
    assert!(n.alerts[0].links.iter().any(|l| l.url.contains("orgId=1&viewPanel=2")), "\\u0026 is decoded");
    // Grafana 8 test notification: per-alert status beats the envelope's `state: alerting`.
    let n = get("grafana/zulip-grafana8-test-notification-resolved.json");
    assert_eq!(n.alerts[0].status, AlertStatus::Resolved);
    assert_eq!(n.truncated_alerts, 1);
    assert!(n.alerts[0].links.iter().all(|l| !l.url.is_empty()), "empty URLs are dropped");
    let n = get("grafana/zulip-grafana9-mixed-firing-resolved.json");
    let statuses: Vec<AlertStatus> = n.alerts.iter().map(|a| a.status).collect();
    assert_eq!(statuses, [AlertStatus::Resolved, AlertStatus::Resolved, AlertStatus::Firing]);
    // Legacy: one alert per rule, alerting and ok map to firing and resolved with one identity.
    let alerting = get("grafana-legacy/alerta-test-grafana-legacy-alerting.json");
    let ok = get("grafana-legacy/alerta-test-grafana-legacy-ok.json");
    assert_eq!(alerting.alerts[0].status, AlertStatus::Firing);
    assert_eq!(ok.alerts[0].status, AlertStatus::Resolved);
    assert_eq!(alerting.alerts[0].fingerprint, ok.alerts[0].fingerprint);
    assert_eq!(alerting.alerts[0].name(), Some("Zeta CPU alert"));
    let tagged = get("grafana-legacy/alerta-test-grafana6-legacy-with-tags.json");
    assert_eq!(tagged.alerts[0].labels.get("severity").map(String::as_str), Some("warning"));
    assert_eq!(tagged.alerts[0].raw_severity.as_deref(), Some("warning"));
}

#[test]
fn every_pagerduty_event_is_accepted_and_response_bodies_are_refused() {
    let Some(dir) = corpus() else { return };
    for (name, body) in files(&dir, "pagerduty-events-v2") {
        let result = pagerduty::parse(&body, "generated-key");
        if name.starts_with("pd-api-schema-response-") {
            let e = result.expect_err(&name);
            assert!(e.message.contains("response body"), "{name}: {e}");
            eprintln!("refused pagerduty-events-v2/{name}: {e}");
            continue;
        }
        let event = result.unwrap_or_else(|e| panic!("{name}: {e}"));
        let kind = match &event {
            PagerDutyEvent::Trigger { alert, dedup_key_generated, .. } => {
                assert!(!dedup_key_generated, "{name}: the corpus triggers carry a dedup_key");
                assert!(!alert.links.is_empty(), "{name}");
                "trigger"
            }
            PagerDutyEvent::Acknowledge { dedup_key, .. } | PagerDutyEvent::Resolve { dedup_key, .. } => {
                assert_eq!(dedup_key, "dedupkeyhere");
                "acknowledge/resolve"
            }
            PagerDutyEvent::Change(c) => {
                assert!(name.contains("change"), "{name}: only change events lack event_action");
                assert!(!c.summary.is_empty());
                "change"
            }
        };
        eprintln!("accepted pagerduty-events-v2/{name}: {kind}");
    }
}

#[test]
fn pagerduty_v1_bodies_are_refused_with_a_pointer_to_v2() {
    let Some(dir) = corpus() else { return };
    for (name, body) in files(&dir, "pagerduty-events-v1-legacy") {
        let e = pagerduty::parse(&body, "k").expect_err(&name);
        let want = if name.contains("response") { "response body" } else { "Events API v1" };
        assert!(e.message.contains(want), "{name}: {e}");
    }
}

#[test]
fn the_pagerduty_trigger_maps_to_an_alert() {
    let Some(dir) = corpus() else { return };
    let body = fs::read(dir.join("pagerduty-events-v2/pd-api-schema-enqueue-event.json")).expect("corpus file");
    let PagerDutyEvent::Trigger { alert, routing_key, .. } = pagerduty::parse(&body, "unused").expect("valid") else {
        panic!("a trigger")
    };
    assert_eq!(routing_key, "e93facc04764012d7bfb002500d5d1a6");
    assert_eq!(alert.fingerprint, "srv01/mysql");
    assert_eq!(alert.raw_severity.as_deref(), Some("critical"));
    assert_eq!(alert.labels.get("component").map(String::as_str), Some("mysql"));
    assert_eq!(alert.starts_at.map(|t| t.to_string()).as_deref(), Some("2015-07-17T08:42:58.315Z"));
    assert!(alert.annotations["custom_details"].contains("free space"));
    assert!(!alert.labels.values().any(|v| v.contains("e93facc0")), "the routing key stays out of labels");
}

#[test]
fn comment_stripping_keeps_strings_intact() {
    assert_eq!(strip_comments("{\"a\": \"http://x/*y*/\" // c\n}"), "{\"a\": \"http://x/*y*/\" \n}");
    assert_eq!(strip_comments("/* a\n b */{\"q\": \"\\\"//\"}"), "{\"q\": \"\\\"//\"}");
}
