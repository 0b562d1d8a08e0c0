//! Reading a severity out of runbook text. The levels and what each alias means are the
//! core's (`sevwatch_core::Severity`, the policy's `[severity.aliases]`): this file only finds
//! the tokens runbooks write (`P1`, `P1:`, `SEV-2`, `(critical)`, `Severity: high`) and hands
//! every word other than `P0`..`P4` to the alias table the parse was given, so a runbook
//! heading and `sevwatch declare --severity` mean the same level by the same word.

use std::collections::BTreeMap;

use crate::model::Severity;

/// Lower-case alias -> level, as in `Policy::aliases`.
pub type Aliases = BTreeMap<String, Severity>;

/// A leading `P1`, `P1:`, `P1 -`, `SEV2`, `SEV-2` token; returns it and the text after it.
/// `SEVn` is an alias like any other (`sev1` is P0 by default), so it resolves through
/// `aliases`.
pub fn severity_prefix<'t>(text: &'t str, aliases: &Aliases) -> Option<(Severity, &'t str)> {
    let t = text.trim_start();
    let upper = t.get(..5).unwrap_or(t).to_ascii_uppercase();
    let (sev, len) = if upper.starts_with("SEV") {
        let digits = t[3..].trim_start_matches('-');
        let skipped = t.len() - 3 - digits.len();
        let d = digits.chars().next()?.to_digit(10)?;
        (*aliases.get(&format!("sev{d}"))?, 3 + skipped + 1)
    } else if upper.starts_with('P') {
        let d = t[1..].chars().next()?.to_digit(10)?;
        (format!("P{d}").parse::<Severity>().ok()?, 2)
    } else {
        return None;
    };
    let rest = &t[len..];
    // `P10`, `Pod`, `SEV12`: the token must end here.
    if rest.chars().next().is_some_and(|c| c.is_alphanumeric()) {
        return None;
    }
    Some((sev, rest.trim_start_matches([' ', ':', '-', '–', '—', '.', ')']).trim()))
}

/// Severity anywhere in a short value: explicit `P`/`SEV` tokens first, then any word the
/// alias table knows (`critical`, `high`, ...).
pub fn severity_in(text: &str, aliases: &Aliases) -> Option<Severity> {
    for word in text.split(|c: char| c.is_whitespace() || c == '/' || c == ',' || c == '(' || c == '*') {
        if let Some((s, _)) = severity_prefix(word, aliases) {
            return Some(s);
        }
    }
    text.to_lowercase().split(|c: char| !c.is_alphanumeric()).find_map(|w| aliases.get(w).copied())
}

/// True when `word` names a level in `aliases` ("high", "informational").
pub fn is_level_word(word: &str, aliases: &Aliases) -> bool {
    aliases.contains_key(&word.to_lowercase())
}

/// [`severity_in`] with the aliases every installation starts with
/// (`sevwatch_core::policy::default_aliases`).
pub fn parse_severity(text: &str) -> Option<Severity> {
    severity_in(text, &sevwatch_core::policy::default_aliases())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_notation_normalises_to_p_levels_through_the_default_aliases() {
        let cases = [
            ("P0", Some(Severity::P0)),
            ("P1 - Critical", Some(Severity::P1)),
            ("SEV1", Some(Severity::P0)),
            ("sev-5", Some(Severity::P4)),
            ("critical", Some(Severity::P0)),
            ("High", Some(Severity::P1)),
            ("medium", Some(Severity::P2)),
            ("warning", Some(Severity::P2)),
            ("low", Some(Severity::P3)),
            ("informational", Some(Severity::P4)),
            ("Pod crashed", None),
            ("P7", None),
            ("SEV0", None),
        ];
        for (text, want) in cases {
            assert_eq!(parse_severity(text), want, "{text}");
        }
    }

    #[test]
    fn configured_aliases_decide_what_words_and_sev_numbers_mean() {
        let aliases: Aliases = [("sev0", Severity::P0), ("sev1", Severity::P1), ("urgent", Severity::P1)]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        assert_eq!(severity_in("SEV0", &aliases), Some(Severity::P0));
        assert_eq!(severity_in("SEV1", &aliases), Some(Severity::P1));
        assert_eq!(severity_in("Urgent", &aliases), Some(Severity::P1));
        assert_eq!(severity_in("critical", &aliases), None, "not an alias here");
        assert_eq!(severity_in("P3", &aliases), Some(Severity::P3), "canonical names need no alias");
    }

    #[test]
    fn heading_prefix_returns_the_rest() {
        let aliases = sevwatch_core::policy::default_aliases();
        assert_eq!(severity_prefix("P0 - Service Down", &aliases), Some((Severity::P0, "Service Down")));
        assert_eq!(severity_prefix("P1: Complete", &aliases), Some((Severity::P1, "Complete")));
        assert_eq!(severity_prefix("SEV-2 Queue backlog", &aliases), Some((Severity::P1, "Queue backlog")));
        assert_eq!(severity_prefix("Postgres", &aliases), None);
    }
}
