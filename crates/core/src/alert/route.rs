//! The routing tree: like Alertmanager's, each route has label matchers and children; an alert
//! descends into the first child whose matchers all hold, and a child inherits every setting
//! it does not set from its parent. With `continue = true` a matching route lets its later
//! siblings match too, so one alert may take several routes (and open one incident per route).
//! The deepest matching route decides the service, team, severity override, escalation policy
//! and `group_by`.

use super::{Alert, Matcher};
use crate::Severity;

/// Which labels form the group key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GroupBy {
    /// `group_by = ["..."]`: every label, so each distinct label set is its own group.
    All,
    Labels(Vec<String>),
}

#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Route {
    pub matchers: Vec<Matcher>,
    pub service: Option<String>,
    pub team: Option<String>,
    pub severity: Option<Severity>,
    pub escalation_policy: Option<String>,
    pub group_by: Option<GroupBy>,
    pub continue_matching: bool,
    pub routes: Vec<Route>,
}

/// The settings an alert ends up with on one route.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteMatch {
    /// Where the route sits in the tree (`root`, `root.0`, `root.0.2`), part of the group key
    /// so the same labels on two routes form two groups.
    pub route_id: String,
    pub service: Option<String>,
    pub team: Option<String>,
    /// The route's override; `None` means use the severity map.
    pub severity: Option<Severity>,
    pub escalation_policy: Option<String>,
    pub group_by: GroupBy,
}

impl Route {
    /// Every route the alert takes, in tree order. The root matches every alert, so the result
    /// is never empty. The `service` label fills in the service when no route names one.
    pub fn routes_for(&self, alert: &Alert) -> Vec<RouteMatch> {
        let root = RouteMatch {
            route_id: "root".into(),
            service: self.service.clone().or_else(|| alert.service().map(String::from)),
            team: self.team.clone(),
            severity: self.severity,
            escalation_policy: self.escalation_policy.clone(),
            group_by: self.group_by.clone().unwrap_or_else(|| GroupBy::Labels(vec!["alertname".into()])),
        };
        let mut out = Vec::new();
        self.descend(alert, root, &mut out);
        out
    }

    fn descend(&self, alert: &Alert, here: RouteMatch, out: &mut Vec<RouteMatch>) {
        let mut matched = false;
        for (i, child) in self.routes.iter().enumerate() {
            if !child.matchers.iter().all(|m| m.matches(&alert.labels)) {
                continue;
            }
            matched = true;
            let inherited = RouteMatch {
                route_id: format!("{}.{i}", here.route_id),
                service: child.service.clone().or_else(|| here.service.clone()),
                team: child.team.clone().or_else(|| here.team.clone()),
                severity: child.severity.or(here.severity),
                escalation_policy: child.escalation_policy.clone().or_else(|| here.escalation_policy.clone()),
                group_by: child.group_by.clone().unwrap_or_else(|| here.group_by.clone()),
            };
            child.descend(alert, inherited, out);
            if !child.continue_matching {
                return;
            }
        }
        if !matched {
            out.push(here);
        }
    }
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::alert::{AlertSource, AlertStatus};

    fn alert(labels: &[(&str, &str)]) -> Alert {
        let mut a = Alert::bare(AlertSource::Alertmanager, "f", AlertStatus::Firing);
        a.labels = labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        a
    }

    fn route(matchers: &[&str], service: &str) -> Route {
        Route {
            matchers: matchers.iter().map(|m| m.parse().expect("test matcher")).collect(),
            service: Some(service.into()),
            ..Route::default()
        }
    }

    fn tree() -> Route {
        let mut db = route(&["team=\"data\""], "database");
        db.escalation_policy = Some("dba".into());
        db.routes = vec![
            Route { severity: Some(Severity::P0), ..route(&["alertname=\"PostgresDown\""], "postgres") },
            route(&["alertname=~\"Redis.*\""], "redis"),
        ];
        let mut api = route(&["service=~\"api|web\""], "frontend");
        api.continue_matching = true;
        api.group_by = Some(GroupBy::All);
        Route {
            escalation_policy: Some("default".into()),
            team: Some("sre".into()),
            routes: vec![
                api,
                db,
                route(&["service=~\"api|checkout\""], "payments"),
                route(&["alertname!=\"Watchdog\""], "catch-all"),
            ],
            ..Route::default()
        }
    }

    #[test]
    fn routes_pick_the_deepest_first_match_and_inherit_settings() {
        let t = tree();
        type Want<'a> = &'a [(&'a str, &'a str, Option<Severity>, &'a str)];
        let cases: &[(&[(&str, &str)], Want)] = &[
            (
                &[("team", "data"), ("alertname", "PostgresDown")],
                &[("root.1.0", "postgres", Some(Severity::P0), "dba")],
            ),
            (&[("team", "data"), ("alertname", "RedisSlow")], &[("root.1.1", "redis", None, "dba")]),
            (&[("team", "data"), ("alertname", "DiskFull")], &[("root.1", "database", None, "dba")]),
            (
                &[("service", "api")],
                &[("root.0", "frontend", None, "default"), ("root.2", "payments", None, "default")],
            ),
            (
                &[("service", "web")],
                &[("root.0", "frontend", None, "default"), ("root.3", "catch-all", None, "default")],
            ),
            (&[("alertname", "Other")], &[("root.3", "catch-all", None, "default")]),
            (&[("alertname", "Watchdog")], &[("root", "", None, "default")]),
        ];
        for (labels, want) in cases {
            let got: Vec<(String, String, Option<Severity>, String)> = t
                .routes_for(&alert(labels))
                .into_iter()
                .map(|m| {
                    (m.route_id, m.service.unwrap_or_default(), m.severity, m.escalation_policy.unwrap_or_default())
                })
                .collect();
            let want: Vec<(String, String, Option<Severity>, String)> =
                want.iter().map(|(r, s, sev, e)| (r.to_string(), s.to_string(), *sev, e.to_string())).collect();
            assert_eq!(got, want, "{labels:?}");
        }
    }

    #[test]
    fn team_and_group_by_are_inherited_unless_overridden() {
        let t = tree();
        let m = &t.routes_for(&alert(&[("team", "data"), ("alertname", "RedisSlow")]))[0];
        assert_eq!(m.team.as_deref(), Some("sre"));
        assert_eq!(m.group_by, GroupBy::Labels(vec!["alertname".into()]));
        let m = &t.routes_for(&alert(&[("service", "api")]))[0];
        assert_eq!(m.group_by, GroupBy::All);
    }

    #[test]
    fn the_service_label_is_used_when_no_route_names_a_service() {
        let m = &Route::default().routes_for(&alert(&[("service", "billing")]))[0];
        assert_eq!(m.service.as_deref(), Some("billing"));
        assert_eq!(m.route_id, "root");
    }
}
