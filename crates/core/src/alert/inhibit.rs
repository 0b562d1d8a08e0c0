//! Inhibition: while a P0 incident is open on a service, lower alerts for the same service
//! still join or open incidents but page nobody, since whoever works the P0 is already looking
//! at that service and more pages would only bury the one that matters.

use crate::Severity;

/// True when `severity` on `service` should not page because one of the open incidents
/// (`(service, severity)` pairs) is a P0 on the same service. Alerts with no service are never
/// inhibited: there is nothing to tie them to the P0.
pub fn inhibited<'a>(
    service: Option<&str>,
    severity: Severity,
    open_incidents: impl IntoIterator<Item = (Option<&'a str>, Severity)>,
) -> bool {
    let Some(service) = service else { return false };
    severity != Severity::P0 && open_incidents.into_iter().any(|(s, sev)| sev == Severity::P0 && s == Some(service))
}

#[cfg(test)]
mod tests {
    use super::*;
    use Severity::*;

    #[test]
    fn only_an_open_p0_on_the_same_service_inhibits_lower_alerts() {
        let open = [(Some("db"), P0), (Some("api"), P1)];
        let cases = [
            (Some("db"), P2, true),
            (Some("db"), P1, true),
            (Some("db"), P0, false),
            (Some("api"), P3, false),
            (Some("web"), P3, false),
            (None, P3, false),
        ];
        for (service, sev, want) in cases {
            assert_eq!(inhibited(service, sev, open.iter().copied()), want, "{service:?} {sev}");
        }
        assert!(!inhibited(Some("db"), P2, []));
    }
}
