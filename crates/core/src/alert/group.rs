//! Group keys: alerts with the same key join the same open incident. The key is the route plus
//! the values of the route's `group_by` labels, written as a readable, stable string so an
//! operator can see in the store why two alerts were grouped.

use std::collections::BTreeMap;

use super::{GroupBy, RouteMatch};

/// The group of `alert` on `route`. An alert that carries none of the route's `group_by`
/// labels (a PagerDuty event has no `alertname`) is a group of its own, keyed by its
/// fingerprint, as PagerDuty keeps one incident per `dedup_key`: grouping every such alert
/// under empty values would pile unrelated events onto one incident.
pub fn group_key_for(route: &RouteMatch, alert: &super::Alert) -> String {
    if let GroupBy::Labels(names) = &route.group_by {
        if !names.is_empty() && names.iter().all(|n| !alert.labels.contains_key(n)) {
            let fp = serde_json::Value::String(alert.fingerprint.clone()).to_string();
            return format!("{}:{{fingerprint={fp}}}", route.route_id);
        }
    }
    group_key(route, &alert.labels)
}

/// `root.1:{alertname="DiskFull",instance="db1"}`. A `group_by` label the alert lacks is
/// written with an empty value, as Alertmanager does, so those alerts still group together.
pub fn group_key(route: &RouteMatch, labels: &BTreeMap<String, String>) -> String {
    let mut key = format!("{}:{{", route.route_id);
    let mut push = |i: usize, name: &str, value: &str| {
        if i > 0 {
            key.push(',');
        }
        key.push_str(name);
        key.push('=');
        // Quoting with JSON escapes keeps `a="x,b=y"` from colliding with two labels.
        key.push_str(&serde_json::Value::String(value.to_string()).to_string());
    };
    match &route.group_by {
        GroupBy::All => {
            for (i, (k, v)) in labels.iter().enumerate() {
                push(i, k, v);
            }
        }
        GroupBy::Labels(names) => {
            let mut names: Vec<&String> = names.iter().collect();
            names.sort();
            names.dedup();
            for (i, name) in names.into_iter().enumerate() {
                push(i, name, labels.get(name).map(String::as_str).unwrap_or(""));
            }
        }
    }
    key.push('}');
    key
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_alert_without_any_group_by_label_is_a_group_of_its_own() {
        let route = RouteMatch {
            route_id: "root".into(),
            service: None,
            team: None,
            severity: None,
            escalation_policy: None,
            group_by: GroupBy::Labels(vec!["alertname".into()]),
        };
        let alert = |fp: &str, labels: &[(&str, &str)]| {
            let mut a =
                super::super::Alert::bare(super::super::AlertSource::Pagerduty, fp, super::super::AlertStatus::Firing);
            a.labels = labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
            a
        };
        let a = group_key_for(&route, &alert("k1", &[("class", "disk")]));
        let b = group_key_for(&route, &alert("k2", &[("class", "disk")]));
        assert_ne!(a, b, "two dedup keys, two groups");
        assert_eq!(a, "root:{fingerprint=\"k1\"}");
        let c = group_key_for(&route, &alert("k3", &[("alertname", "X")]));
        let d = group_key_for(&route, &alert("k4", &[("alertname", "X")]));
        assert_eq!(c, d, "a shared alertname groups as before");
    }

    use super::*;

    fn route(id: &str, group_by: GroupBy) -> RouteMatch {
        RouteMatch { route_id: id.into(), service: None, team: None, severity: None, escalation_policy: None, group_by }
    }

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn keys_use_only_the_group_by_labels_in_a_stable_order() {
        let by = GroupBy::Labels(vec!["instance".into(), "alertname".into(), "alertname".into()]);
        let l = labels(&[("alertname", "DiskFull"), ("instance", "db1"), ("mount", "/")]);
        assert_eq!(group_key(&route("root.1", by.clone()), &l), "root.1:{alertname=\"DiskFull\",instance=\"db1\"}");
        let other_mount = labels(&[("alertname", "DiskFull"), ("instance", "db1"), ("mount", "/var")]);
        assert_eq!(group_key(&route("root.1", by.clone()), &l), group_key(&route("root.1", by.clone()), &other_mount));
        assert_ne!(group_key(&route("root.1", by.clone()), &l), group_key(&route("root.2", by), &l));
    }

    #[test]
    fn grouping_by_everything_separates_every_label_set() {
        let a = labels(&[("alertname", "X"), ("host", "a")]);
        let b = labels(&[("alertname", "X"), ("host", "b")]);
        assert_ne!(group_key(&route("root", GroupBy::All), &a), group_key(&route("root", GroupBy::All), &b));
    }

    #[test]
    fn values_cannot_forge_a_second_label() {
        let by = GroupBy::Labels(vec!["a".into(), "b".into()]);
        let forged = labels(&[("a", "x\",b=\"y")]);
        let honest = labels(&[("a", "x"), ("b", "y")]);
        assert_ne!(group_key(&route("root", by.clone()), &forged), group_key(&route("root", by), &honest));
    }

    #[test]
    fn missing_group_by_labels_group_as_empty() {
        let by = GroupBy::Labels(vec!["cluster".into()]);
        assert_eq!(group_key(&route("root", by), &labels(&[("alertname", "X")])), "root:{cluster=\"\"}");
    }
}
