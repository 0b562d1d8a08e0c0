//! Grafana webhooks, both generations on one endpoint. Unified alerting (Grafana 8 and later)
//! sends the Alertmanager shape plus `orgId`, `title`, `state`, `message` and per-alert
//! `silenceURL`, `dashboardURL`, `panelURL`, `imageURL` and `values`; it is recognised by its
//! `alerts` array. Legacy alerting (before 8) sends one rule per request: `ruleName`, `ruleId`,
//! `ruleUrl`, `state`, `evalMatches`, `tags`. Each per-alert `status` is trusted over the
//! envelope's `state`, which Grafana 8 test notifications get wrong.

use std::collections::BTreeMap;

use super::alertmanager::parse_notification;
use crate::alert::json::{clean, index, join, object_body, type_name, Obj, Value};
use crate::alert::limits::{check_alert, cut, Kind, MAX_ANNOTATION_VALUE_BYTES, MAX_LABEL_VALUE_BYTES};
use crate::alert::{fingerprint, Alert, AlertSource, AlertStatus, Link, LinkKind, Notification, ParseError};

pub fn parse(body: &[u8]) -> Result<Notification, ParseError> {
    let root = object_body(body)?;
    let obj = Obj::new(&root, "");
    if obj.has("alerts") {
        let mut n = parse_notification(obj, AlertSource::Grafana)?;
        name_unnamed_alerts(&mut n, obj.opt_str("title")?);
        return Ok(n);
    }
    if obj.has("ruleName") || obj.has("evalMatches") || obj.has("ruleId") {
        return parse_legacy(obj);
    }
    Err(ParseError::new(
        "alerts",
        "is required (a Grafana unified alerting webhook has an `alerts` array; a legacy one has `ruleName` and `state`)",
    ))
}

/// The last resort for an alert with no rule name anywhere in its labels: the notification
/// title without its `[FIRING:1]` prefix, so the incident still gets a meaningful title.
fn name_unnamed_alerts(n: &mut Notification, title: Option<String>) {
    let Some(title) = title else { return };
    let name = match title.trim().strip_prefix('[').and_then(|t| t.split_once(']')) {
        Some((_, rest)) => rest.trim().to_string(),
        None => title.trim().to_string(),
    };
    if name.is_empty() {
        return;
    }
    // Derived, not given: cut to a label's cap rather than refused.
    let name = cut(name, MAX_LABEL_VALUE_BYTES);
    for a in n.alerts.iter_mut().filter(|a| a.name().is_none()) {
        a.labels.insert("alertname".into(), name.clone());
    }
}

fn parse_legacy(root: Obj<'_>) -> Result<Notification, ParseError> {
    let state = root.req_str("state")?;
    let status = match state.trim().to_ascii_lowercase().as_str() {
        "alerting" | "no_data" => AlertStatus::Firing,
        "ok" | "paused" => AlertStatus::Resolved,
        other => {
            return Err(ParseError::new(
                "state",
                format!("{other:?} is not a notification state (expected alerting, no_data, ok or paused)"),
            ))
        }
    };
    let title = root.capped_str("title", Kind::Annotations)?;
    let rule_name = match root.capped_str("ruleName", Kind::Labels)?.filter(|s| !s.trim().is_empty()) {
        Some(name) => name,
        None => {
            let title = title.clone().filter(|s| !s.trim().is_empty());
            let title = title.ok_or_else(|| ParseError::new("ruleName", "is required"))?;
            Kind::Labels.check_value(|| "title".into(), &title)?;
            title
        }
    };
    let mut labels = root.capped_map("tags", Kind::Labels)?.unwrap_or_default();
    labels.insert("alertname".into(), rule_name.clone());
    if let Some(id) = root.loose_str("ruleId")? {
        labels.insert("grafana_rule_id".into(), id);
    }
    let mut annotations = BTreeMap::new();
    if let Some(m) = root.capped_str("message", Kind::Annotations)?.filter(|m| !m.trim().is_empty()) {
        annotations.insert("description".to_string(), m);
    }
    if let Some(t) = title.filter(|t| !t.trim().is_empty()) {
        annotations.insert("title".to_string(), t);
    }
    let matches = eval_matches(root)?;
    if !matches.is_empty() {
        annotations.insert("eval_matches".to_string(), cut(matches, MAX_ANNOTATION_VALUE_BYTES));
    }
    let mut links = Vec::new();
    if let Some(url) = root.opt_str("ruleUrl")?.filter(|u| !u.trim().is_empty()) {
        links.push(Link { kind: LinkKind::Source, url, text: None });
    }
    if let Some(url) = root.opt_str("imageUrl")?.filter(|u| !u.trim().is_empty()) {
        links.push(Link { kind: LinkKind::Image, url, text: None });
    }
    let alert = Alert {
        source: AlertSource::Grafana,
        // Legacy alerts have no fingerprint; the rule's labels identify it across the
        // alerting and ok notifications.
        fingerprint: fingerprint(&labels),
        raw_severity: labels.get("severity").cloned(),
        summary: Some(rule_name),
        labels,
        annotations,
        status,
        starts_at: None,
        ends_at: None,
        links,
    };
    check_alert(&alert, "")?;
    Ok(Notification { alerts: vec![alert], ..Notification::default() })
}

/// `metric=value` pairs of the series that crossed the threshold, for people to read.
fn eval_matches(root: Obj<'_>) -> Result<String, ParseError> {
    let Some(items) = root.opt_array("evalMatches")? else { return Ok(String::new()) };
    let mut parts = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let path = index("evalMatches", i);
        let Value::Object(m) = item else {
            return Err(ParseError::new(path, format!("expected an object, found {}", type_name(item))));
        };
        let o = Obj::new(m, &path);
        let metric = o.opt_str("metric")?.unwrap_or_default();
        let value = match o.get("value") {
            None => String::new(),
            Some(Value::Number(n)) => n.to_string(),
            Some(Value::String(s)) => clean(&join(&path, "value"), s)?,
            Some(other) => {
                return Err(ParseError::new(
                    join(&path, "value"),
                    format!("expected a number, found {}", type_name(other)),
                ))
            }
        };
        o.string_map("tags")?;
        parts.push(format!("{metric}={value}"));
    }
    Ok(parts.join(", "))
}
