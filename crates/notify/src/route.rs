//! Which channels hear about an incident, by severity and service. A pure function over an
//! ordered list of routes: every route that matches contributes its channel, once, in order.
//! The default list reproduces the runbooks' table (P0 to the critical room, P1 to the high
//! room, P2 to the warning room, P3-P4 to monitoring).

use sevwatch_core::Severity;

/// One routing rule. An empty `severities` or `services` list matches any.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChannelRoute {
    pub severities: Vec<Severity>,
    pub services: Vec<String>,
    /// The name of a configured `[[channels]]` entry.
    pub channel: String,
}

impl ChannelRoute {
    pub fn matches(&self, severity: Severity, service: Option<&str>) -> bool {
        let sev_ok = self.severities.is_empty() || self.severities.contains(&severity);
        let svc_ok = self.services.is_empty() || service.is_some_and(|s| self.services.iter().any(|r| r == s));
        sev_ok && svc_ok
    }
}

/// The channel names for an incident of `severity` on `service`, in route order, each once.
pub fn route(routes: &[ChannelRoute], severity: Severity, service: Option<&str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for r in routes.iter().filter(|r| r.matches(severity, service)) {
        if !out.contains(&r.channel) {
            out.push(r.channel.clone());
        }
    }
    out
}

/// The runbooks' routing, used when the configuration has no `[[channel_routes]]`: it names
/// channels `#incident-critical`, `#incident-high`, `#incident-warning` and `#monitoring`,
/// which a configuration defines as `[[channels]]` of those names.
pub fn default_routes() -> Vec<ChannelRoute> {
    use Severity::*;
    let r = |sev: &[Severity], channel: &str| ChannelRoute {
        severities: sev.to_vec(),
        services: Vec::new(),
        channel: channel.to_string(),
    };
    vec![
        r(&[P0], "#incident-critical"),
        r(&[P1], "#incident-high"),
        r(&[P2], "#incident-warning"),
        r(&[P3, P4], "#monitoring"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use Severity::*;

    #[test]
    fn the_default_routes_reproduce_the_runbook_table() {
        let routes = default_routes();
        let table = [
            (P0, "#incident-critical"),
            (P1, "#incident-high"),
            (P2, "#incident-warning"),
            (P3, "#monitoring"),
            (P4, "#monitoring"),
        ];
        for (sev, channel) in table {
            assert_eq!(route(&routes, sev, Some("api")), [channel], "{sev}");
            assert_eq!(route(&routes, sev, None), [channel], "{sev} without a service");
        }
    }

    #[test]
    fn service_routes_add_channels_and_each_channel_appears_once() {
        let mut routes = default_routes();
        routes.push(ChannelRoute {
            severities: vec![],
            services: vec!["payments".into()],
            channel: "payments-team".into(),
        });
        routes.push(ChannelRoute { severities: vec![P0, P1], services: vec![], channel: "pagerduty".into() });
        routes.push(ChannelRoute {
            severities: vec![P0],
            services: vec!["payments".into()],
            channel: "payments-team".into(),
        });
        assert_eq!(route(&routes, P0, Some("payments")), ["#incident-critical", "payments-team", "pagerduty"]);
        assert_eq!(route(&routes, P1, Some("api")), ["#incident-high", "pagerduty"]);
        assert_eq!(route(&routes, P3, Some("payments")), ["#monitoring", "payments-team"]);
    }

    #[test]
    fn a_route_for_named_services_never_matches_an_incident_without_one() {
        let routes = vec![ChannelRoute { severities: vec![], services: vec!["db".into()], channel: "dba".into() }];
        assert!(route(&routes, P0, None).is_empty());
        assert!(route(&routes, P0, Some("DB")).is_empty(), "service names are matched exactly");
        assert!(route(&[], P0, Some("db")).is_empty());
    }
}
