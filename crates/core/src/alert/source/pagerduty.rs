//! PagerDuty Events API v2, validated the way PagerDuty validates it, so an integration that
//! works against PagerDuty works against Sevwatch. A `trigger` needs `payload.summary` (at most
//! 1024 characters), `payload.source` and `payload.severity` (critical, error, warning or info);
//! `acknowledge` and `resolve` need the `dedup_key` of the alert they act on. A body without
//! `event_action` but with a `payload` is a change event (`/v2/change/enqueue`), which informs
//! but never alerts. PagerDuty's own response bodies and Events API v1 requests are refused
//! with a message that says so, since both are easy to send here by mistake.

use std::collections::BTreeMap;

use crate::alert::json::{index, join, object_body, type_name, Obj, Value};
use crate::alert::limits::{check_alert, check_fingerprint, Kind, MAX_FINGERPRINT_CHARS};
use crate::alert::{Alert, AlertSource, AlertStatus, Link, LinkKind, ParseError};
use crate::Timestamp;

pub const MAX_SUMMARY_CHARS: usize = 1024;
pub const MAX_DEDUP_KEY_CHARS: usize = MAX_FINGERPRINT_CHARS;

/// One request to the Events API.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PagerDutyEvent {
    /// `alert.fingerprint` is the `dedup_key`, the caller's key when the sender gave none.
    Trigger {
        routing_key: String,
        alert: Alert,
        dedup_key_generated: bool,
    },
    Acknowledge {
        routing_key: String,
        dedup_key: String,
    },
    Resolve {
        routing_key: String,
        dedup_key: String,
    },
    Change(ChangeEvent),
}

/// A deploy, build or configuration change, for the timeline of whatever it affects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChangeEvent {
    pub routing_key: String,
    pub summary: String,
    pub source: Option<String>,
    pub timestamp: Option<Timestamp>,
    /// `custom_details` as compact JSON.
    pub custom_details: Option<String>,
    pub links: Vec<Link>,
}

/// `new_dedup_key` is used only for a trigger without `dedup_key`. PagerDuty makes a random key
/// then; the caller passes one in (a fresh UUID, say) so parsing stays deterministic.
pub fn parse(body: &[u8], new_dedup_key: &str) -> Result<PagerDutyEvent, ParseError> {
    let map = object_body(body)?;
    let root = Obj::new(&map, "");
    if !root.has("routing_key") && !root.has("event_action") {
        refuse_lookalikes(root)?;
    }
    let routing_key = root.req_str("routing_key")?;
    let action = match root.opt_str("event_action")? {
        Some(a) => a,
        None if root.has("payload") => return change_event(root, routing_key).map(PagerDutyEvent::Change),
        None => return Err(ParseError::new("event_action", "is required (trigger, acknowledge or resolve)")),
    };
    match action.as_str() {
        "trigger" => trigger(root, routing_key, new_dedup_key),
        "acknowledge" => Ok(PagerDutyEvent::Acknowledge { dedup_key: dedup_key(root)?, routing_key }),
        "resolve" => Ok(PagerDutyEvent::Resolve { dedup_key: dedup_key(root)?, routing_key }),
        other => Err(ParseError::new(
            "event_action",
            format!("{other:?} is not an event action (expected trigger, acknowledge or resolve)"),
        )),
    }
}

fn refuse_lookalikes(root: Obj<'_>) -> Result<(), ParseError> {
    if root.has("service_key") || root.has("event_type") {
        return Err(ParseError::new(
            "",
            "this is an Events API v1 request (service_key, event_type); send Events API v2 (routing_key, event_action)",
        ));
    }
    if root.has("status") && root.has("message") {
        return Err(ParseError::new(
            "",
            "this is a PagerDuty response body (status, message), not an event; send the event itself",
        ));
    }
    Ok(())
}

fn dedup_key(root: Obj<'_>) -> Result<String, ParseError> {
    let key = root.req_str("dedup_key")?;
    check_dedup_key(&key)?;
    Ok(key)
}

fn check_dedup_key(key: &str) -> Result<(), ParseError> {
    check_fingerprint(|| "dedup_key".into(), key)
}

fn payload<'a>(root: Obj<'a>) -> Result<Obj<'a>, ParseError> {
    match root.opt_obj("payload")? {
        Some(m) => Ok(Obj::new(m, "payload")),
        None => Err(ParseError::new("payload", "is required")),
    }
}

fn summary(p: Obj<'_>) -> Result<String, ParseError> {
    let s = p.req_str("summary")?;
    if s.chars().count() > MAX_SUMMARY_CHARS {
        return Err(ParseError::new("payload.summary", format!("must be at most {MAX_SUMMARY_CHARS} characters")));
    }
    Ok(s)
}

fn trigger(root: Obj<'_>, routing_key: String, new_dedup_key: &str) -> Result<PagerDutyEvent, ParseError> {
    let p = payload(root)?;
    let summary = summary(p)?;
    let source = p.req_str("source")?;
    Kind::Labels.check_value(|| "payload.source".into(), &source)?;
    let severity = p.req_str("severity")?;
    if !["critical", "error", "warning", "info"].contains(&severity.as_str()) {
        return Err(ParseError::new(
            "payload.severity",
            format!("{severity:?} is not a severity (expected critical, error, warning or info)"),
        ));
    }
    let timestamp = p.opt_time("timestamp")?;
    let mut labels = BTreeMap::from([("severity".to_string(), severity.clone()), ("source".to_string(), source)]);
    for key in ["component", "group", "class"] {
        if let Some(v) = p.capped_str(key, Kind::Labels)?.filter(|v| !v.is_empty()) {
            labels.insert(key.to_string(), v);
        }
    }
    let mut annotations = BTreeMap::from([("summary".to_string(), summary.clone())]);
    if let Some(details) = custom_details(p)? {
        annotations.insert("custom_details".to_string(), details);
    }
    for key in ["client", "client_url"] {
        if let Some(v) = root.capped_str(key, Kind::Annotations)? {
            annotations.insert(key.to_string(), v);
        }
    }
    let (dedup, generated) = match root.opt_str("dedup_key")?.filter(|k| !k.trim().is_empty()) {
        Some(k) => {
            check_dedup_key(&k)?;
            (k, false)
        }
        None => (new_dedup_key.to_string(), true),
    };
    let alert = Alert {
        source: AlertSource::Pagerduty,
        fingerprint: dedup,
        labels,
        annotations,
        status: AlertStatus::Firing,
        starts_at: timestamp,
        ends_at: None,
        summary: Some(summary),
        links: links(root)?,
        raw_severity: Some(severity),
    };
    check_alert(&alert, "")?;
    Ok(PagerDutyEvent::Trigger { routing_key, alert, dedup_key_generated: generated })
}

fn change_event(root: Obj<'_>, routing_key: String) -> Result<ChangeEvent, ParseError> {
    let p = payload(root)?;
    Ok(ChangeEvent {
        routing_key,
        summary: summary(p)?,
        source: p.opt_str("source")?,
        timestamp: p.opt_time("timestamp")?,
        custom_details: custom_details(p)?,
        links: links(root)?,
    })
}

/// Free-form JSON; kept as text so it can be shown, never interpreted, and held to an
/// annotation's cap (as text).
fn custom_details(p: Obj<'_>) -> Result<Option<String>, ParseError> {
    let text = match p.get("custom_details") {
        None => return Ok(None),
        Some(Value::String(s)) => crate::alert::json::clean("payload.custom_details", s)?,
        // `to_string` escapes NUL as \u0000, so the stored text is always clean.
        Some(v) => v.to_serde().to_string(),
    };
    Kind::Annotations.check_value(|| "payload.custom_details".into(), &text)?;
    Ok(Some(text))
}

/// `links[].href` with its `text`, then `images[].href` (where the image points) or `src`.
fn links(root: Obj<'_>) -> Result<Vec<Link>, ParseError> {
    let mut out = Vec::new();
    for (key, kind) in [("links", LinkKind::Other), ("images", LinkKind::Image)] {
        let Some(items) = root.opt_array(key)? else { continue };
        for (i, item) in items.iter().enumerate() {
            let path = index(key, i);
            let Value::Object(m) = item else {
                return Err(ParseError::new(path, format!("expected an object, found {}", type_name(item))));
            };
            let o = Obj::new(m, &path);
            let text = o.opt_str(if kind == LinkKind::Image { "alt" } else { "text" })?;
            let url = match (o.opt_str("href")?, o.opt_str("src")?) {
                (Some(h), _) if !h.trim().is_empty() => h,
                (_, Some(s)) if !s.trim().is_empty() => s,
                _ => {
                    let field = if kind == LinkKind::Image { "src" } else { "href" };
                    return Err(ParseError::new(join(&path, field), "is required"));
                }
            };
            out.push(Link { kind, url, text });
        }
    }
    Ok(out)
}
