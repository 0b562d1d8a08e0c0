//! Silences: created at run time through the API, each a set of matchers and a time range. A
//! silenced alert is still recorded, so the timeline shows it, but opens and pages nothing.
//! The store keeps silences as JSON; matchers serialise as their text form.

use serde::{Deserialize, Serialize};

use super::{Alert, Matcher};
use crate::Timestamp;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Silence {
    pub id: String,
    pub matchers: Vec<Matcher>,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    pub created_by: String,
    pub comment: String,
}

impl Silence {
    /// What the API must refuse. Alertmanager's rule is kept: at least one matcher must fail
    /// on an alert without labels, otherwise the silence would quiet every alert there is.
    pub fn validate(&self) -> Result<(), String> {
        if self.matchers.is_empty() {
            return Err("a silence needs at least one matcher".into());
        }
        if self.matchers.iter().all(Matcher::matches_empty) {
            return Err(
                "at least one matcher must not match an empty value, or the silence would match every alert".into()
            );
        }
        if self.ends_at <= self.starts_at {
            return Err("ends_at must be after starts_at".into());
        }
        if self.comment.trim().is_empty() {
            return Err("say why in the comment".into());
        }
        Ok(())
    }

    /// Would this silence quiet nearly every alert? True when every matcher accepts any value
    /// at all, as `alertname!=""`, `job=~".+"` or `team!="db"` do (probed with values no real
    /// rule names); such a silence is a decision for an admin, not a responder.
    pub fn is_catch_all(&self) -> bool {
        const PROBES: [&str; 3] = ["sevwatch-probe-7f3a", "0", "Zq x/9"];
        self.matchers.iter().all(|m| PROBES.iter().all(|v| m.matches_value(v)))
    }

    pub fn is_active(&self, now: Timestamp) -> bool {
        self.starts_at <= now && now < self.ends_at
    }
}

/// True when the silence is in force at `now` and every matcher holds on the alert's labels.
/// An empty matcher list silences nothing, even if `validate` was skipped.
pub fn silences_alert(silence: &Silence, alert: &Alert, now: Timestamp) -> bool {
    silence.is_active(now) && !silence.matchers.is_empty() && silence.matchers.iter().all(|m| m.matches(&alert.labels))
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::alert::{AlertSource, AlertStatus};

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn silences_that_accept_any_value_are_catch_all() {
        for m in [&["alertname!=\"\""][..], &["job=~\".+\""], &["team!=\"db\""], &["a!=\"\"", "b=~\".*\""]] {
            assert!(silence(m).is_catch_all(), "{m:?}");
        }
        for m in [&["alertname=\"DiskFull\""][..], &["team!=\"db\"", "alertname=\"X\""], &["job=~\"api-.*\""]] {
            assert!(!silence(m).is_catch_all(), "{m:?}");
        }
    }

    fn silence(matchers: &[&str]) -> Silence {
        Silence {
            id: "s1".into(),
            matchers: matchers.iter().map(|m| m.parse().unwrap()).collect(),
            starts_at: ts("2026-01-01T10:00:00Z"),
            ends_at: ts("2026-01-01T12:00:00Z"),
            created_by: "alice".into(),
            comment: "planned failover".into(),
        }
    }

    fn alert(labels: &[(&str, &str)]) -> Alert {
        let mut a = Alert::bare(AlertSource::Alertmanager, "f", AlertStatus::Firing);
        a.labels = labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        a
    }

    #[test]
    fn silences_apply_only_inside_their_time_range_and_to_matching_alerts() {
        let s = silence(&["service=\"db\"", "alertname=~\"Disk.*\""]);
        let hit = alert(&[("service", "db"), ("alertname", "DiskFull")]);
        let cases = [
            (&hit, "2026-01-01T09:59:59Z", false),
            (&hit, "2026-01-01T10:00:00Z", true),
            (&hit, "2026-01-01T11:59:59Z", true),
            (&hit, "2026-01-01T12:00:00Z", false),
            (&alert(&[("service", "db"), ("alertname", "CpuHigh")]), "2026-01-01T11:00:00Z", false),
            (&alert(&[("alertname", "DiskFull")]), "2026-01-01T11:00:00Z", false),
        ];
        for (a, now, want) in cases {
            assert_eq!(silences_alert(&s, a, ts(now)), want, "{:?} at {now}", a.labels);
        }
    }

    #[test]
    fn silences_that_would_match_everything_are_invalid() {
        assert!(silence(&[]).validate().is_err());
        assert!(silence(&["service=~\".*\""]).validate().is_err());
        assert!(silence(&["service!=\"x\""]).validate().is_err());
        assert!(silence(&["service=~\".*\"", "env=\"prod\""]).validate().is_ok());
        let mut backwards = silence(&["env=\"prod\""]);
        backwards.ends_at = backwards.starts_at;
        assert!(backwards.validate().is_err());
        assert!(!silences_alert(&silence(&[]), &alert(&[]), ts("2026-01-01T11:00:00Z")));
    }

    #[test]
    fn silences_round_trip_through_json() {
        let s = silence(&["service=\"db\"", "alertname!~\"Watch.*\""]);
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(serde_json::from_str::<Silence>(&json).unwrap(), s);
    }
}
