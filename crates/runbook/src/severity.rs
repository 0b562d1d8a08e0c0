//! Severity normalisation: `P0`..`P4`, `SEV1`..`SEV5` and the words critical / high /
//! medium / low / info all map onto `Severity::P0..P4`.

use crate::model::Severity;

/// A leading `P1`, `P1:`, `P1 -`, `SEV2`, `SEV-2` token; returns it and the text after it.
pub fn severity_prefix(text: &str) -> Option<(Severity, &str)> {
    let t = text.trim_start();
    let upper = t.get(..5).unwrap_or(t).to_ascii_uppercase();
    let (level, len) = if upper.starts_with("SEV") {
        let digits = t[3..].trim_start_matches('-');
        let skipped = t.len() - 3 - digits.len();
        let d = digits.chars().next()?.to_digit(10)?;
        (d.checked_sub(1)? as u8, 3 + skipped + 1)
    } else if upper.starts_with('P') {
        let d = t[1..].chars().next()?.to_digit(10)?;
        (d as u8, 2)
    } else {
        return None;
    };
    let rest = &t[len..];
    // `P10`, `Pod`: the token must end here.
    if rest.chars().next().is_some_and(|c| c.is_alphanumeric()) {
        return None;
    }
    let sev = Severity::from_level(level)?;
    Some((sev, rest.trim_start_matches([' ', ':', '-', '–', '—', '.', ')']).trim()))
}

/// Severity anywhere in a short value: explicit tokens first, then words.
pub fn parse_severity(text: &str) -> Option<Severity> {
    for word in text.split(|c: char| c.is_whitespace() || c == '/' || c == ',' || c == '(' || c == '*') {
        if let Some((s, _)) = severity_prefix(word) {
            return Some(s);
        }
    }
    let lower = text.to_lowercase();
    let words = [
        ("critical", Severity::P0),
        ("emergency", Severity::P0),
        ("high", Severity::P1),
        ("major", Severity::P1),
        ("medium", Severity::P2),
        ("moderate", Severity::P2),
        ("warning", Severity::P2),
        ("low", Severity::P3),
        ("minor", Severity::P3),
        ("info", Severity::P4),
    ];
    lower
        .split(|c: char| !c.is_alphanumeric())
        .find_map(|w| words.iter().find(|(k, _)| w == *k || (w.starts_with("info") && *k == "info")).map(|(_, s)| *s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_notation_normalises_to_p_levels() {
        let cases = [
            ("P0", Some(Severity::P0)),
            ("P1 - Critical", Some(Severity::P1)),
            ("SEV1", Some(Severity::P0)),
            ("sev-5", Some(Severity::P4)),
            ("critical", Some(Severity::P0)),
            ("High", Some(Severity::P1)),
            ("medium", Some(Severity::P2)),
            ("low", Some(Severity::P3)),
            ("informational", Some(Severity::P4)),
            ("Pod crashed", None),
            ("P7", None),
        ];
        for (text, want) in cases {
            assert_eq!(parse_severity(text), want, "{text}");
        }
    }

    #[test]
    fn heading_prefix_returns_the_rest() {
        assert_eq!(severity_prefix("P0 - Service Down"), Some((Severity::P0, "Service Down")));
        assert_eq!(severity_prefix("P1: Complete"), Some((Severity::P1, "Complete")));
        assert_eq!(severity_prefix("Postgres"), None);
    }
}
