//! The normalised alert every source is turned into, the batch a webhook delivers, the parse
//! error the ingest endpoint returns as a 4xx, and the fingerprint computed when a sender does
//! not supply one.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::text::{escape, Newlines};
use crate::Timestamp;

/// Which webhook format an alert arrived in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertSource {
    Alertmanager,
    Pagerduty,
    Grafana,
    Generic,
}

impl AlertSource {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertSource::Alertmanager => "alertmanager",
            AlertSource::Pagerduty => "pagerduty",
            AlertSource::Grafana => "grafana",
            AlertSource::Generic => "generic",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertStatus {
    Firing,
    Resolved,
}

impl AlertStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertStatus::Firing => "firing",
            AlertStatus::Resolved => "resolved",
        }
    }
}

/// What a link points at, so the UI can label it without guessing from the URL.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LinkKind {
    /// The query or rule that produced the alert (`generatorURL`, Grafana legacy `ruleUrl`).
    Source,
    Runbook,
    Dashboard,
    Panel,
    Silence,
    Image,
    /// Any other link the sender attached (PagerDuty `links`, generic `links`).
    Other,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    pub kind: LinkKind,
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// One alert, whatever format it came in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    pub source: AlertSource,
    /// The sender's identity for this alert when it gives one (Alertmanager and Grafana
    /// `fingerprint`, PagerDuty `dedup_key`), otherwise [`fingerprint`] of the labels.
    pub fingerprint: String,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub status: AlertStatus,
    pub starts_at: Option<Timestamp>,
    pub ends_at: Option<Timestamp>,
    /// One line for people: the `summary` annotation or its source's equivalent.
    pub summary: Option<String>,
    pub links: Vec<Link>,
    /// The severity exactly as the sender wrote it (`critical`, `warning`, `s2`...), before
    /// the [`SeverityMap`](super::SeverityMap) turns it into a level.
    pub raw_severity: Option<String>,
}

impl Alert {
    /// An alert with only its identity and status (labels, annotations and the rest empty):
    /// what a PagerDuty `resolve` carries, and a starting point for tests.
    pub fn bare(source: AlertSource, fingerprint: impl Into<String>, status: AlertStatus) -> Alert {
        Alert {
            source,
            fingerprint: fingerprint.into(),
            labels: BTreeMap::new(),
            annotations: BTreeMap::new(),
            status,
            starts_at: None,
            ends_at: None,
            summary: None,
            links: Vec::new(),
            raw_severity: None,
        }
    }

    /// The rule's name: the `alertname` label, or what Grafana uses when that label is absent.
    pub fn name(&self) -> Option<&str> {
        ["alertname", "__alert_rule_title__", "rulename"]
            .iter()
            .find_map(|k| self.labels.get(*k))
            .map(String::as_str)
            .filter(|s| !s.is_empty())
    }

    /// The title an incident opened by this alert gets. A title is one line without hidden
    /// formatting, but an alert is never refused for its summary: line breaks, bidi overrides
    /// and control characters in it become visible escapes (`\n`, `\u{202e}`).
    pub fn title(&self) -> String {
        let title = match (self.summary.as_deref().filter(|s| !s.trim().is_empty()), self.name()) {
            (Some(summary), _) => summary.trim(),
            (None, Some(name)) => name,
            (None, None) => {
                return format!("{} alert {}", self.source.as_str(), escape(&self.fingerprint, Newlines::Escape))
            }
        };
        escape(title, Newlines::Escape).into_owned()
    }

    /// The label value routing, inhibition and maintenance key on.
    pub fn service(&self) -> Option<&str> {
        self.labels.get("service").map(String::as_str)
    }
}

/// What one webhook request carried: its alerts plus the sender's grouping metadata, which
/// Sevwatch records but does not rely on (grouping is decided by our own routes).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    pub receiver: Option<String>,
    pub group_key: Option<String>,
    pub external_url: Option<String>,
    /// Alerts the sender dropped because of its own `max_alerts` setting.
    pub truncated_alerts: u64,
    pub alerts: Vec<Alert>,
}

/// Why a request body was refused, at a JSON path such as `alerts[3].labels`. An empty path
/// means the body as a whole (not JSON, or not an object).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ParseError {
    pub path: String,
    pub message: String,
}

impl ParseError {
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        ParseError { path: path.into(), message: message.into() }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

impl std::error::Error for ParseError {}

/// A stable identity for a label set: the first 16 hex digits of SHA-256 over the sorted
/// `name`, `value` pairs. Each part is length-prefixed so `{a="bc"}` and `{ab="c"}` differ.
pub fn fingerprint(labels: &BTreeMap<String, String>) -> String {
    let mut h = Sha256::new();
    for (k, v) in labels {
        h.update((k.len() as u64).to_be_bytes());
        h.update(k.as_bytes());
        h.update((v.len() as u64).to_be_bytes());
        h.update(v.as_bytes());
    }
    hex::encode(&h.finalize()[..8])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn fingerprints_ignore_label_order_and_depend_on_every_pair() {
        let a = fingerprint(&labels(&[("alertname", "Down"), ("job", "api")]));
        let b = fingerprint(&labels(&[("job", "api"), ("alertname", "Down")]));
        assert_eq!(a, b);
        assert_eq!(a.len(), 16);
        assert_ne!(a, fingerprint(&labels(&[("alertname", "Down"), ("job", "web")])));
        assert_ne!(fingerprint(&labels(&[("a", "bc")])), fingerprint(&labels(&[("ab", "c")])));
    }

    #[test]
    fn titles_prefer_the_summary_then_the_rule_name() {
        let mut a = Alert {
            source: AlertSource::Generic,
            fingerprint: "f1".into(),
            labels: labels(&[("__alert_rule_title__", "Memory")]),
            annotations: BTreeMap::new(),
            status: AlertStatus::Firing,
            starts_at: None,
            ends_at: None,
            summary: Some("  Disk full ".into()),
            links: vec![],
            raw_severity: None,
        };
        assert_eq!(a.title(), "Disk full");
        a.summary = None;
        assert_eq!(a.title(), "Memory");
        a.labels.clear();
        assert_eq!(a.title(), "generic alert f1");
    }

    #[test]
    fn derived_titles_show_line_breaks_and_bidi_overrides_as_escapes() {
        let mut a = Alert::bare(AlertSource::Pagerduty, "k\n1", AlertStatus::Firing);
        a.summary = Some(" Disk full\r\nX-Injected: 1 \u{202e}3pm.exe\u{1b}[2J ".into());
        let title = a.title();
        assert_eq!(title, "Disk full\\r\\nX-Injected: 1 \\u{202e}3pm.exe\\u{1b}[2J");
        assert_eq!(crate::text::single_line_problem(&title), None);
        a.summary = None;
        assert_eq!(a.title(), "pagerduty alert k\\n1");
    }

    #[test]
    fn parse_errors_show_their_path_first() {
        assert_eq!(
            ParseError::new("alerts[3].labels", "expected an object").to_string(),
            "alerts[3].labels: expected an object"
        );
        assert_eq!(ParseError::new("", "not JSON").to_string(), "not JSON");
    }
}
