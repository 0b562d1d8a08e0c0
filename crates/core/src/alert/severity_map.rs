//! From the severity an alert carries (a label such as `severity="critical"`, or a source's own
//! field such as PagerDuty's `payload.severity`) to a level P0-P4. Which labels are read, in
//! which order, what each value means and the level of an alert that says nothing are all
//! configuration (`[alerts]` in `sevwatch.toml`); a route may override the result.

use std::collections::BTreeMap;

use super::Alert;
use crate::Severity;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeverityMap {
    /// Labels consulted in order; the first one present wins.
    pub labels: Vec<String>,
    /// Lower-case value -> level. `P0`..`P4` always resolve and need no entry.
    pub values: BTreeMap<String, Severity>,
    /// For alerts with no severity, or one not in `values`.
    pub default: Severity,
}

impl Default for SeverityMap {
    fn default() -> Self {
        use Severity::*;
        let values = [
            ("critical", P0),
            ("high", P1),
            ("error", P1),
            ("warning", P2),
            ("warn", P2),
            ("info", P3),
            // GitLab's rules (and others) number their levels s1..s4.
            ("s1", P0),
            ("s2", P1),
            ("s3", P2),
            ("s4", P3),
        ];
        SeverityMap {
            labels: vec!["severity".into(), "priority".into(), "level".into()],
            values: values.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
            default: P2,
        }
    }
}

impl SeverityMap {
    /// The level of one value, if the map knows it.
    pub fn lookup(&self, value: &str) -> Option<Severity> {
        value.parse::<Severity>().ok().or_else(|| self.values.get(&value.trim().to_ascii_lowercase()).copied())
    }

    /// The alert's level: the first configured label present, else the source's own severity
    /// field, else the default. A present but unknown value also gives the default rather than
    /// falling through to the next label, because the sender did state a severity.
    pub fn severity_of(&self, alert: &Alert) -> Severity {
        let stated =
            self.labels.iter().find_map(|l| alert.labels.get(l)).or(alert.raw_severity.as_ref()).map(String::as_str);
        stated.and_then(|v| self.lookup(v)).unwrap_or(self.default)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::{AlertSource, AlertStatus};

    fn alert(labels: &[(&str, &str)], raw: Option<&str>) -> Alert {
        Alert {
            source: AlertSource::Generic,
            fingerprint: "f".into(),
            labels: labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            annotations: BTreeMap::new(),
            status: AlertStatus::Firing,
            starts_at: None,
            ends_at: None,
            summary: None,
            links: vec![],
            raw_severity: raw.map(String::from),
        }
    }

    #[test]
    fn default_values_map_the_common_scales() {
        use Severity::*;
        let m = SeverityMap::default();
        type Case<'a> = (&'a [(&'a str, &'a str)], Option<&'a str>, Severity);
        let cases: &[Case] = &[
            (&[("severity", "critical")], None, P0),
            (&[("severity", "CRITICAL")], None, P0),
            (&[("severity", "high")], None, P1),
            (&[("severity", "error")], None, P1),
            (&[("severity", "warning")], None, P2),
            (&[("severity", "info")], None, P3),
            (&[("severity", "p4")], None, P4),
            (&[("severity", "s1")], None, P0),
            (&[("priority", "high")], None, P1),
            (&[("level", "info")], None, P3),
            (&[("severity", "warning"), ("priority", "critical")], None, P2),
            (&[], Some("critical"), P0),
            (&[("severity", "info")], Some("critical"), P3),
            (&[("severity", "bogus")], None, P2),
            (&[("severity", "bogus"), ("priority", "critical")], None, P2),
            (&[], None, P2),
        ];
        for (labels, raw, want) in cases {
            assert_eq!(m.severity_of(&alert(labels, *raw)), *want, "{labels:?} {raw:?}");
        }
    }

    #[test]
    fn the_label_order_value_map_and_default_are_configurable() {
        let m = SeverityMap {
            labels: vec!["urgency".into()],
            values: [("page".to_string(), Severity::P0)].into_iter().collect(),
            default: Severity::P4,
        };
        assert_eq!(m.severity_of(&alert(&[("urgency", "page")], None)), Severity::P0);
        assert_eq!(m.severity_of(&alert(&[("severity", "critical")], None)), Severity::P4);
        assert_eq!(m.severity_of(&alert(&[("urgency", "P1")], None)), Severity::P1);
    }
}
