//! Sevwatch's own alert format, for scripts and tools with no webhook of their own. A body is
//! either one alert object or `{"alerts": [ ... ]}`. Each alert:
//!
//! ```json
//! {
//!   "name": "DiskFull",                  // required: the rule, stored as label `alertname`
//!   "status": "firing",                  // or "resolved"; default "firing"
//!   "severity": "critical",              // optional: stored as label `severity`
//!   "service": "db",                     // optional: stored as label `service`
//!   "summary": "Disk 95% full on db1",   // optional: one line for people
//!   "description": "...",                // optional: stored as annotation `description`
//!   "labels": {"instance": "db1"},       // optional: strings only
//!   "annotations": {"runbook_url": "https://..."},
//!   "fingerprint": "db1-disk",           // optional: default is a hash of the labels
//!   "starts_at": "2026-05-01T10:00:00Z", // optional, RFC 3339
//!   "ends_at": "2026-05-01T11:00:00Z",
//!   "links": ["https://...", {"href": "https://...", "text": "Dashboard"}]
//! }
//! ```
//!
//! `name`, `severity` and `service` win over labels of the same name. Unknown keys are refused
//! so a misspelt field is reported instead of silently dropped.

use super::alertmanager::{bad_status, status};
use crate::alert::json::{index, join, object_body, type_name, Map, Obj, Value};
use crate::alert::limits::{check_alert, check_fingerprint, Kind};
use crate::alert::{fingerprint, Alert, AlertSource, AlertStatus, Link, LinkKind, Notification, ParseError};

const ALERT_KEYS: &[&str] = &[
    "name",
    "status",
    "severity",
    "service",
    "summary",
    "description",
    "labels",
    "annotations",
    "fingerprint",
    "starts_at",
    "ends_at",
    "links",
];

pub fn parse(body: &[u8]) -> Result<Notification, ParseError> {
    let root = object_body(body)?;
    let alerts = if root.contains_key("alerts") {
        if let Some(k) = root.keys().find(|k| *k != "alerts") {
            return Err(ParseError::new(join("", k), "unknown key (a batch has only `alerts`)"));
        }
        let items = match root.get("alerts").expect("checked above") {
            Value::Array(items) => items,
            other => return Err(ParseError::new("alerts", format!("expected an array, found {}", type_name(other)))),
        };
        let mut alerts = Vec::with_capacity(items.len());
        // One alert over a cap refuses the whole batch, as a malformed one does (see the
        // Alertmanager parser for why).
        for (i, item) in items.iter().enumerate() {
            let path = index("alerts", i);
            let Value::Object(m) = item else {
                return Err(ParseError::new(path, format!("expected an object, found {}", type_name(item))));
            };
            alerts.push(parse_alert(m, &path)?);
        }
        alerts
    } else {
        vec![parse_alert(&root, "")?]
    };
    Ok(Notification { alerts, ..Notification::default() })
}

fn parse_alert(map: &Map<'_>, path: &str) -> Result<Alert, ParseError> {
    let a = Obj::new(map, path);
    if let Some(k) = map.keys().find(|k| !ALERT_KEYS.contains(k)) {
        return Err(ParseError::new(a.path_of(k), format!("unknown key (expected one of: {})", ALERT_KEYS.join(", "))));
    }
    let name = a.req_str("name")?;
    Kind::Labels.check_value(|| a.path_of("name"), &name)?;
    let status = match a.opt_str("status")? {
        Some(s) => status(&s).ok_or_else(|| bad_status(a.path_of("status"), &s))?,
        None => AlertStatus::Firing,
    };
    let mut labels = a.capped_map("labels", Kind::Labels)?.unwrap_or_default();
    labels.insert("alertname".into(), name);
    let severity = a.capped_str("severity", Kind::Labels)?.filter(|s| !s.trim().is_empty());
    if let Some(s) = &severity {
        labels.insert("severity".into(), s.clone());
    }
    if let Some(s) = a.capped_str("service", Kind::Labels)?.filter(|s| !s.trim().is_empty()) {
        labels.insert("service".into(), s);
    }
    let mut annotations = a.capped_map("annotations", Kind::Annotations)?.unwrap_or_default();
    let summary = a.capped_str("summary", Kind::Annotations)?.filter(|s| !s.trim().is_empty());
    if let Some(s) = &summary {
        annotations.insert("summary".into(), s.clone());
    }
    if let Some(d) = a.capped_str("description", Kind::Annotations)?.filter(|s| !s.trim().is_empty()) {
        annotations.insert("description".into(), d);
    }
    let mut links = Vec::new();
    if let Some(url) = annotations.get("runbook_url").filter(|u| !u.trim().is_empty()) {
        links.push(Link { kind: LinkKind::Runbook, url: url.clone(), text: None });
    }
    for (i, item) in a.opt_array("links")?.into_iter().flatten().enumerate() {
        let lpath = index(&a.path_of("links"), i);
        links.push(match item {
            Value::String(url) if !url.trim().is_empty() => {
                Link { kind: LinkKind::Other, url: crate::alert::json::clean(&lpath, url)?, text: None }
            }
            Value::Object(m) => {
                let o = Obj::new(m, &lpath);
                Link { kind: LinkKind::Other, url: o.req_str("href")?, text: o.opt_str("text")? }
            }
            Value::String(_) => return Err(ParseError::new(lpath, "must not be empty")),
            other => {
                return Err(ParseError::new(
                    lpath,
                    format!("expected a URL or {{href, text}}, found {}", type_name(other)),
                ))
            }
        });
    }
    let given = a.opt_str("fingerprint")?.filter(|f| !f.trim().is_empty());
    if let Some(f) = &given {
        check_fingerprint(|| a.path_of("fingerprint"), f)?;
    }
    let alert = Alert {
        source: AlertSource::Generic,
        fingerprint: given.unwrap_or_else(|| fingerprint(&labels)),
        starts_at: a.opt_time("starts_at")?,
        ends_at: a.opt_time("ends_at")?,
        labels,
        annotations,
        status,
        summary,
        links,
        raw_severity: severity,
    };
    check_alert(&alert, path)?;
    Ok(alert)
}
