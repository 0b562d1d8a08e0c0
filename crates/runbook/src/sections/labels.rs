//! The small labelled forms runbooks write in headings and prose: `**Label:** value` and
//! plain `Severity: x` lines, alert names in headings (`Incident: HighErrorRate`, backticks)
//! and in `alertname=X` matchers, severity tokens in headings, and time windows (`(0-5 min)`,
//! `(if unresolved after 30 min)`) with the time they start at.

use crate::model::{Duration, Severity};
use crate::severity::{severity_in, severity_prefix, Aliases};

/// `Incident: HighErrorRate`, `Alert: X`, or a bare CamelCase title names an alert.
pub(super) fn alert_from_title(title: &str, bare: bool) -> Option<String> {
    let prefixed = title.strip_prefix("Incident:").or_else(|| title.strip_prefix("Alert:"));
    if prefixed.is_none() && !bare {
        return None;
    }
    let rest = prefixed.unwrap_or(title).trim().trim_matches('`');
    let camel = !rest.is_empty()
        && !rest.contains(' ')
        && rest.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && rest.chars().next().is_some_and(|c| c.is_ascii_uppercase())
        && rest.chars().any(|c| c.is_ascii_lowercase())
        && rest.chars().skip(1).any(|c| c.is_ascii_uppercase());
    camel.then(|| rest.to_string())
}

/// A `P1` / `SEV2` token anywhere in a heading (`## Alert: X (SEV2)`, `## [P1] Cache down`),
/// or a level word in parentheses or brackets (`(critical)`); a bare word such as "High" in
/// "High CPU" is not a severity.
pub(super) fn severity_in_heading(title: &str, aliases: &Aliases) -> Option<Severity> {
    let words = title.split(|c: char| c.is_whitespace() || "()[]{},;|".contains(c));
    if let Some(s) =
        words.filter(|w| !w.is_empty()).find_map(|w| severity_prefix(w, aliases).filter(|(_, rest)| rest.is_empty()))
    {
        return Some(s.0);
    }
    title
        .split(['(', '['])
        .skip(1)
        .filter_map(|part| part.split([')', ']']).next())
        .find_map(|inner| (inner.split_whitespace().count() == 1).then(|| severity_in(inner, aliases)).flatten())
}

/// An alert name in backticks in a heading: ``## P1 - Cache hit rate falling (`RedisHitRateLow`)``.
pub(super) fn backticked_alert(title: &str) -> Option<String> {
    title.split('`').skip(1).step_by(2).map(str::trim).find_map(|t| ident(t).then(|| t.to_string()))
}

/// Looks like an alert or label name: a letter, then letters, digits, `_` or `:`.
fn ident(t: &str) -> bool {
    !t.is_empty()
        && t.len() <= 128
        && t.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && t.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// Alert names in equality matchers: `alertname=X`, `alertname="X"`, `alertname = X`,
/// `alertname: X`. Regex (`=~`) and negative (`!=`) matchers name no single alert.
pub(super) fn alertname_matchers(text: &str) -> Vec<String> {
    label_matchers(text).into_iter().filter(|(k, _)| k == "alertname").map(|(_, v)| v).collect()
}

/// Equality matchers `key=value`, `key="value"`, `key = value` and `key: value` in a line of
/// text, in order. Values are taken as far as an alert label value usually goes (letters,
/// digits, `_ - . : /`).
pub(super) fn label_matchers(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if !(bytes[i] == b'=' || bytes[i] == b':') {
            i += 1;
            continue;
        }
        let op = i;
        i += 1;
        if bytes[op] == b'=' && (bytes.get(op + 1) == Some(&b'~') || (op > 0 && bytes[op - 1] == b'!')) {
            continue;
        }
        if bytes[op] == b':' && bytes.get(op + 1) == Some(&b':') {
            i += 1;
            continue;
        }
        let key_end = text[..op].trim_end().len();
        let key_start = text[..key_end]
            .char_indices()
            .rev()
            .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '_'))
            .map_or(0, |(p, c)| p + c.len_utf8());
        let key = &text[key_start..key_end];
        let after = text[op + 1..].trim_start().trim_start_matches(['"', '\'', '`']);
        let value: String = after.chars().take_while(|c| c.is_ascii_alphanumeric() || "_-.:/".contains(*c)).collect();
        let value = value.trim_end_matches(['.', ':']).to_string();
        let plain_key = ident(key) && !key.contains(':') && key.len() <= 64;
        if plain_key && !value.is_empty() && (bytes[op] == b'=' || key == "alertname") {
            out.push((key.to_string(), value));
        }
    }
    out
}

/// Time window in parentheses: `(0-5 min)`, `(2-5 minutes)`, `(if unresolved after 30 min)`.
pub(super) fn time_window(text: &str) -> Option<String> {
    let open = text.find('(')?;
    let close = open + text[open..].find(')')?;
    let inner = text[open + 1..close].trim();
    let lower = inner.to_lowercase();
    let has_digit = inner.chars().any(|c| c.is_ascii_digit());
    let has_unit =
        ["min", "hour", "sec", "day"].iter().any(|u| lower.contains(u)) || lower.ends_with('m') || lower.ends_with('h');
    (has_digit && has_unit).then(|| inner.to_string())
}

/// From when a window applies: the time after "after" ("if unresolved after 30 min" -> 30m),
/// else the start of a range ("5-15 min" -> 5m, "0-2 min" -> 0s), else the single time
/// ("30 min" -> 30m). The unit is the one written after the numbers.
pub(super) fn window_start(window: &str) -> Option<Duration> {
    let lower = window.to_lowercase();
    let from = lower.find("after").map_or(lower.as_str(), |i| &lower[i + 5..]);
    let number: String = from.chars().skip_while(|c| !c.is_ascii_digit()).take_while(char::is_ascii_digit).collect();
    let n: i64 = number.parse().ok()?;
    let unit_text = from.trim_end_matches(|c: char| !c.is_alphabetic());
    let unit = unit_text.rsplit(|c: char| !c.is_alphabetic()).next().unwrap_or("");
    let d = match unit {
        "s" | "sec" | "secs" | "second" | "seconds" => Duration::from_secs(n),
        "m" | "min" | "mins" | "minute" | "minutes" => Duration::from_mins(n),
        "h" | "hr" | "hrs" | "hour" | "hours" => Duration::from_hours(n),
        "d" | "day" | "days" => Duration::from_days(n),
        _ => return None,
    };
    Some(d)
}

/// `**Label:** rest` / `**Label**: rest` / `**Label**` -> (label, rest).
pub(super) fn bold_label(line: &str) -> Option<(String, String)> {
    let inner = line.trim().strip_prefix("**")?;
    let end = inner.find("**")?;
    let label = inner[..end].trim().trim_end_matches(':').trim().to_string();
    let rest = inner[end + 2..].trim_start_matches(':').trim().to_string();
    (!label.is_empty()).then_some((label, rest))
}

/// `Severity: critical`, `Alert name: X`, `- Alert: X` without bold: only these keys, so
/// ordinary prose with a colon is not read as metadata.
pub(super) fn plain_label(line: &str) -> Option<(String, String)> {
    let t = line.trim().trim_start_matches(['-', '*']).trim_start();
    let (label, rest) = t.split_once(':')?;
    let key = label.trim().to_lowercase();
    matches!(key.as_str(), "severity" | "priority" | "alert" | "alerts" | "alert name" | "alertname")
        .then(|| (label.trim().to_string(), rest.trim().to_string()))
}

pub(super) fn strip_marks(s: &str) -> String {
    s.replace("**", "").replace('`', "").trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headings_name_their_alert_and_severity_in_the_ways_runbooks_write_them() {
        let aliases = sevwatch_core::policy::default_aliases();
        assert_eq!(severity_in_heading("Alert: `OrdersQueueBacklog` (SEV2)", &aliases), Some(Severity::P1));
        assert_eq!(severity_in_heading("[P3] Disk filling", &aliases), Some(Severity::P3));
        assert_eq!(severity_in_heading("Replica lag (critical)", &aliases), Some(Severity::P0));
        assert_eq!(severity_in_heading("High CPU on workers", &aliases), None, "a bare word is not a severity");
        assert_eq!(severity_in_heading("Pod restarts", &aliases), None);
        assert_eq!(backticked_alert("Alert: `OrdersQueueBacklog` (SEV2)").as_deref(), Some("OrdersQueueBacklog"));
        assert_eq!(
            backticked_alert("P1 - Cache hit rate falling (`RedisHitRateLow`)").as_deref(),
            Some("RedisHitRateLow")
        );
        assert_eq!(backticked_alert("Run `kubectl get pods -A`"), None, "a command is not an alert name");
    }

    #[test]
    fn plain_metadata_lines_count_but_prose_with_colons_does_not() {
        assert_eq!(plain_label("Severity: critical"), Some(("Severity".into(), "critical".into())));
        assert_eq!(
            plain_label("- Alert name: KubePodCrashLooping"),
            Some(("Alert name".into(), "KubePodCrashLooping".into()))
        );
        assert_eq!(plain_label("Note: restart the pod"), None);
    }

    #[test]
    fn alertname_equality_matchers_name_alerts_and_regex_or_negative_ones_do_not() {
        let cases: &[(&str, &[&str])] = &[
            (" - alertname = KubePodNotReady", &["KubePodNotReady"]),
            ("alertname=\"HighErrorRate\",severity=\"critical\"", &["HighErrorRate"]),
            (
                "https://am/api/v2/alerts?filter=alertname=PrometheusOperatorRejectedResources",
                &["PrometheusOperatorRejectedResources"],
            ),
            ("{alertname=~\"Kube.*\"}", &[]),
            ("alertname!=\"Watchdog\"", &[]),
            ("select( .labels.alertname)", &[]),
            ("alertname: KubeJobFailed", &["KubeJobFailed"]),
        ];
        for (text, want) in cases {
            assert_eq!(alertname_matchers(text), want.iter().map(|s| s.to_string()).collect::<Vec<_>>(), "{text}");
        }
        assert_eq!(alertname_matchers("告警alertname=KubeHpaMaxedOut"), vec!["KubeHpaMaxedOut".to_string()]);
        assert_eq!(
            label_matchers("when `reason=\"OOMKilled\"` and namespace=web"),
            vec![("reason".into(), "OOMKilled".into()), ("namespace".into(), "web".into())]
        );
    }

    #[test]
    fn windows_start_where_their_option_becomes_due() {
        let cases = [
            ("0-5 min", Some(Duration::ZERO)),
            ("5-15 min", Some(Duration::from_mins(5))),
            ("if unresolved after 30 min", Some(Duration::from_mins(30))),
            ("after 2 hours", Some(Duration::from_hours(2))),
            ("15m", Some(Duration::from_mins(15))),
            ("soon", None),
        ];
        for (text, want) in cases {
            assert_eq!(window_start(text), want, "{text}");
        }
    }
}
