//! The Prometheus Alertmanager webhook (`version: "4"`). Real senders differ from the
//! documented schema, so the parser is lenient about metadata (a `version` of "3", a numeric
//! `groupKey`, alerts without `status`, `generatorURL` or `fingerprint`) and strict about what
//! an alert needs: `alerts` must be an array, `labels` an object of strings, and a firing alert
//! must have labels. Grafana's unified alerting sends the same shape plus a few fields, so
//! [`parse_alert`] is shared with the Grafana parser.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::alert::json::{index, object_body, type_name, Obj, Value};
use crate::alert::limits::{check_alert, check_fingerprint, Kind};
use crate::alert::{fingerprint, Alert, AlertSource, AlertStatus, Link, LinkKind, Notification, ParseError};

pub fn parse(body: &[u8]) -> Result<Notification, ParseError> {
    let root = object_body(body)?;
    parse_notification(Obj::new(&root, ""), AlertSource::Alertmanager)
}

/// The envelope shared by Alertmanager and Grafana unified alerting.
pub(crate) fn parse_notification(root: Obj<'_>, source: AlertSource) -> Result<Notification, ParseError> {
    let group_status = match root.opt_str("status")? {
        None => None,
        Some(s) => Some(status(&s).ok_or_else(|| bad_status(root.path_of("status"), &s))?),
    };
    let common_annotations = root.capped_map("commonAnnotations", Kind::Annotations)?.unwrap_or_default();
    let group_labels = root.capped_map("groupLabels", Kind::Labels)?.unwrap_or_default();
    // Checked for type and size only: per-alert labels are the truth.
    root.capped_map("commonLabels", Kind::Labels)?;
    let items = match root.get("alerts") {
        Some(Value::Array(items)) => items,
        Some(other) => {
            return Err(ParseError::new("alerts", format!("expected an array, found {}", type_name(other))));
        }
        None => return Err(ParseError::new("alerts", "is required")),
    };
    let defaults =
        Defaults { source, status: group_status, common_annotations: &common_annotations, group_labels: &group_labels };
    let mut alerts = Vec::with_capacity(items.len());
    // One alert over a cap refuses the whole request, as a malformed one does: a 4xx is what
    // Alertmanager and Grafana log and count as a failed notification, so someone notices;
    // a 2xx that quietly dropped one alert of the group would lose it with nobody told, and a
    // cut label would change the alert's identity.
    for (i, item) in items.iter().enumerate() {
        let path = index("alerts", i);
        let Value::Object(map) = item else {
            return Err(ParseError::new(path, format!("expected an object, found {}", type_name(item))));
        };
        let alert = parse_alert(Obj::new(map, &path), &defaults)?;
        check_alert(&alert, &path)?;
        alerts.push(alert);
    }
    distrust_shared_fingerprints(&mut alerts);
    Ok(Notification {
        receiver: root.opt_str("receiver")?,
        group_key: root.loose_str("groupKey")?,
        external_url: root.opt_str("externalURL")?,
        truncated_alerts: root.loose_count("truncatedAlerts"),
        alerts,
    })
}

/// What the envelope lends to each alert.
pub(crate) struct Defaults<'a> {
    pub source: AlertSource,
    /// The group's `status`, for senders that leave it off each alert.
    pub status: Option<AlertStatus>,
    pub common_annotations: &'a BTreeMap<String, String>,
    /// Labels every alert of the group shares; used to fill in a missing `alertname`.
    pub group_labels: &'a BTreeMap<String, String>,
}

pub(crate) fn status(s: &str) -> Option<AlertStatus> {
    match s.trim().to_ascii_lowercase().as_str() {
        "firing" => Some(AlertStatus::Firing),
        "resolved" => Some(AlertStatus::Resolved),
        _ => None,
    }
}

pub(crate) fn bad_status(path: String, s: &str) -> ParseError {
    ParseError::new(path, format!("{s:?} is not a status (expected \"firing\" or \"resolved\")"))
}

pub(crate) fn parse_alert(a: Obj<'_>, d: &Defaults<'_>) -> Result<Alert, ParseError> {
    let status = match a.opt_str("status")? {
        Some(s) => status(&s).ok_or_else(|| bad_status(a.path_of("status"), &s))?,
        None => d.status.unwrap_or(AlertStatus::Firing),
    };
    let mut labels = a.capped_map("labels", Kind::Labels)?.unwrap_or_default();
    let given_fingerprint = a.opt_str("fingerprint")?.filter(|f| !f.trim().is_empty());
    if let Some(f) = &given_fingerprint {
        check_fingerprint(|| a.path_of("fingerprint"), f)?;
    }
    if labels.is_empty() && (status == AlertStatus::Firing || given_fingerprint.is_none()) {
        let why = if a.has("labels") { "must not be empty" } else { "is required" };
        return Err(ParseError::new(a.path_of("labels"), format!("{why}: an alert is identified by its labels")));
    }
    // Grafana omits `alertname` for some rules; its group labels still carry the rule name.
    if !labels.contains_key("alertname") {
        if let Some(name) = ["__alert_rule_title__", "rulename"]
            .iter()
            .find_map(|k| labels.get(*k))
            .or_else(|| d.group_labels.get("alertname"))
        {
            labels.insert("alertname".into(), name.clone());
        }
    }
    let mut annotations = a.capped_map("annotations", Kind::Annotations)?.unwrap_or_default();
    for (k, v) in d.common_annotations {
        annotations.entry(k.clone()).or_insert_with(|| v.clone());
    }
    let mut links = Vec::new();
    let mut link = |kind: LinkKind, url: Option<String>| {
        if let Some(url) = url.filter(|u| !u.trim().is_empty()) {
            if !links.iter().any(|l: &Link| l.url == url && l.kind == kind) {
                links.push(Link { kind, url, text: None });
            }
        }
    };
    link(LinkKind::Source, a.opt_str("generatorURL")?);
    for key in ["runbook_url", "runbook", "runbookURL"] {
        link(LinkKind::Runbook, annotations.get(key).cloned());
    }
    link(LinkKind::Dashboard, a.opt_str("dashboardURL")?);
    link(LinkKind::Panel, a.opt_str("panelURL")?);
    link(LinkKind::Silence, a.opt_str("silenceURL")?);
    link(LinkKind::Image, a.opt_str("imageURL")?);
    let summary = annotations
        .get("summary")
        .or_else(|| annotations.get("description"))
        .or_else(|| annotations.get("message"))
        .map(|s| s.lines().next().unwrap_or("").trim().to_string())
        .filter(|s| !s.is_empty());
    Ok(Alert {
        source: d.source,
        fingerprint: given_fingerprint.unwrap_or_else(|| fingerprint(&labels)),
        raw_severity: labels.get("severity").cloned(),
        starts_at: a.opt_time("startsAt")?,
        ends_at: a.opt_time("endsAt")?,
        labels,
        annotations,
        status,
        summary,
        links,
    })
}

/// Some senders (vmalert behind Alertmanager, in the corpus) put one fingerprint on alerts
/// with different labels. Trusting it would merge unrelated alerts into one record, so within
/// a notification a fingerprint shared by different label sets is replaced by our own.
fn distrust_shared_fingerprints(alerts: &mut [Alert]) {
    let mut seen: HashMap<&str, &BTreeMap<String, String>> = HashMap::new();
    let mut clashing: HashSet<String> = HashSet::new();
    for a in alerts.iter() {
        match seen.get(a.fingerprint.as_str()) {
            Some(labels) if *labels != &a.labels => {
                clashing.insert(a.fingerprint.clone());
            }
            Some(_) => {}
            None => {
                seen.insert(&a.fingerprint, &a.labels);
            }
        }
    }
    if clashing.is_empty() {
        return;
    }
    for a in alerts.iter_mut().filter(|a| clashing.contains(&a.fingerprint)) {
        a.fingerprint = fingerprint(&a.labels);
    }
}
