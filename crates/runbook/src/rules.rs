//! Reads alert names from Prometheus rule files: plain `groups:` files and
//! `kind: PrometheusRule` resources (`spec.groups`), including multi-document YAML streams.
//! The linter uses the names to flag runbook alerts that no rule defines.

use std::collections::BTreeSet;

use serde::Deserialize;

/// The rule text was not YAML, or had no rule groups.
#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    #[error("invalid YAML: {0}")]
    Yaml(String),
    #[error("no rule groups found (expected `groups:` or `spec.groups`)")]
    NoGroups,
}

#[derive(Deserialize)]
struct Doc {
    #[serde(default)]
    groups: Option<Vec<Group>>,
    #[serde(default)]
    spec: Option<Spec>,
}

#[derive(Deserialize)]
struct Spec {
    #[serde(default)]
    groups: Option<Vec<Group>>,
}

#[derive(Deserialize)]
struct Group {
    #[serde(default)]
    rules: Vec<Rule>,
}

#[derive(Deserialize)]
struct Rule {
    #[serde(default)]
    alert: Option<String>,
}

/// All `alert:` names of the rule groups in `yaml`.
pub fn alert_names_from_rules(yaml: &str) -> Result<BTreeSet<String>, RulesError> {
    let mut names = BTreeSet::new();
    let mut saw_groups = false;
    for de in serde_norway::Deserializer::from_str(yaml) {
        let value = serde_norway::Value::deserialize(de).map_err(|e| RulesError::Yaml(e.to_string()))?;
        if value.is_null() {
            continue;
        }
        let Ok(doc) = serde_norway::from_value::<Doc>(value) else {
            continue;
        };
        let groups = doc.groups.or_else(|| doc.spec.and_then(|s| s.groups));
        if let Some(groups) = groups {
            saw_groups = true;
            names.extend(groups.into_iter().flat_map(|g| g.rules).filter_map(|r| r.alert));
        }
    }
    if saw_groups {
        Ok(names)
    } else {
        Err(RulesError::NoGroups)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_plain_and_crd_rule_files() {
        let plain =
            "groups:\n- name: a\n  rules:\n  - alert: HighErrorRate\n    expr: x > 1\n  - record: r\n    expr: y\n";
        assert_eq!(alert_names_from_rules(plain).unwrap(), BTreeSet::from(["HighErrorRate".to_string()]));
        let crd = "apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nspec:\n  groups:\n  - name: b\n    rules:\n    - alert: Down\n";
        assert!(alert_names_from_rules(crd).unwrap().contains("Down"));
    }

    #[test]
    fn rejects_yaml_without_groups_and_broken_yaml() {
        assert!(matches!(alert_names_from_rules("a: 1\n"), Err(RulesError::NoGroups)));
        assert!(matches!(alert_names_from_rules("groups: [\n"), Err(RulesError::Yaml(_))));
    }
}
