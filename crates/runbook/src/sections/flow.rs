//! The control flow authors write in prose: scenario labels ("**Scenario B: Network
//! Errors**", "### Option 2: Override the config"), outcome conditions on a step ("# If
//! recovery succeeds, ...", "If it fails:", "Otherwise:") and which earlier step such a
//! condition waits for. `reader.rs` calls these while it reads a section's blocks.

use crate::model::{Branch, Outcome};

/// Words that open a scenario label, followed by its short name.
const SCENARIO_WORDS: &[&str] = &["scenario", "case", "cause", "situation", "option", "path"];

/// `Scenario A: LLM API Errors (rate limits)` -> ("A", "LLM API Errors (rate limits)").
/// The name is one letter or a number of up to two digits; the rest (after `:`, `.`, `)` or a
/// dash) is the trigger, possibly empty.
pub(super) fn scenario_label(label: &str) -> Option<(String, String)> {
    let t = label.trim().trim_start_matches(['#', '*', ' ']).trim_end_matches(['*', ' ']);
    let (word, rest) = t.split_once(char::is_whitespace)?;
    if !SCENARIO_WORDS.contains(&word.to_lowercase().as_str()) {
        return None;
    }
    let rest = rest.trim_start();
    let name: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
    let one_letter = name.len() == 1 && name.chars().all(|c| c.is_ascii_uppercase());
    let number = (1..=2).contains(&name.len()) && name.chars().all(|c| c.is_ascii_digit());
    if !(one_letter || number) {
        return None;
    }
    let after = &rest[name.len()..];
    // "Option A" alone, or followed by a separator: "Case 1 - disk full", "Scenario C: ...".
    if after.chars().next().is_some_and(|c| c.is_alphanumeric()) {
        return None;
    }
    let trigger = after.trim_start_matches([':', '.', ')', '-', '–', '—', ' ']).trim();
    Some((name, trigger.replace("**", "").replace('`', "")))
}

/// What an outcome condition says: which outcome, or the opposite of the branch before it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Condition {
    On(Outcome),
    Otherwise,
}

/// Subjects that always mean "the step just before".
const GENERIC_SUBJECTS: &[&str] = &[
    "",
    "it",
    "this",
    "that",
    "the above",
    "above",
    "the command",
    "the step",
    "this step",
    "that step",
    "the previous step",
    "the previous command",
    "the script",
    "this command",
    "that command",
    "so",
];

const FAILS: &[&str] = &[
    "fails",
    "failed",
    "is unsuccessful",
    "was unsuccessful",
    "unsuccessful",
    "is not successful",
    "was not successful",
    "not successful",
    "doesn't work",
    "does not work",
    "didn't work",
    "did not work",
    "returns an error",
    "errors out",
];

const SUCCEEDS: &[&str] =
    &["succeeds", "succeeded", "is successful", "was successful", "successful", "works", "worked", "passes"];

/// The outcome condition a step's title or lead-in opens with, and its subject ("recovery"
/// in "If recovery succeeds, use the recovered database"). Only the first clause counts, and
/// only conditions on an outcome: "If memory > 90%, restart" is a judgement, not a branch.
pub(super) fn condition(text: &str) -> Option<(Condition, String)> {
    let lower = text.to_lowercase();
    let t = lower.trim_start_matches(|c: char| c.is_ascii_digit() || " .)*-#>".contains(c));
    // "Otherwise, ...", "Else:", and "If not, ..." / "If it doesn't:" with nothing after them.
    for (w, alone) in
        [("otherwise", false), ("else", false), ("if not", true), ("if it doesn't", true), ("if that doesn't", true)]
    {
        if let Some(rest) = t.strip_prefix(w) {
            let ends = rest.trim_start().is_empty() || rest.starts_with([',', ':', '.', ';']);
            if ends || (!alone && !rest.starts_with(|c: char| c.is_alphanumeric())) {
                return Some((Condition::Otherwise, String::new()));
            }
        }
    }
    for (w, outcome) in
        [("on failure", Outcome::Failure), ("on error", Outcome::Failure), ("on success", Outcome::Success)]
    {
        if t.starts_with(w) {
            return Some((Condition::On(outcome), String::new()));
        }
    }
    let body = t.strip_prefix("if ").or_else(|| t.strip_prefix("when ")).or_else(|| t.strip_prefix("once "))?;
    let clause = body.split([',', ':', ';', '(', '—', '–']).next().unwrap_or(body);
    let clause = clause.split(" - ").next().unwrap_or(clause).trim();
    if clause.split_whitespace().count() > 6 {
        return None;
    }
    let (outcome, at) = FAILS
        .iter()
        .find_map(|w| find_words(clause, w).map(|i| (Outcome::Failure, i)))
        .or_else(|| SUCCEEDS.iter().find_map(|w| find_words(clause, w).map(|i| (Outcome::Success, i))))?;
    let subject = clause[..at].trim().trim_start_matches("the ").trim();
    let subject = if GENERIC_SUBJECTS.contains(&clause[..at].trim()) { "" } else { subject };
    Some((Condition::On(outcome), subject.to_string()))
}

/// Byte offset of `phrase` in `text` as whole words.
fn find_words(text: &str, phrase: &str) -> Option<usize> {
    text.match_indices(phrase).map(|(i, _)| i).find(|&i| {
        let before = text[..i].chars().next_back().is_none_or(|c| !c.is_alphanumeric());
        let after = text[i + phrase.len()..].chars().next().is_none_or(|c| !c.is_alphanumeric());
        before && after
    })
}

/// What the reader knows about the step before the one being placed.
pub(super) struct Previous<'a> {
    pub branch: Option<Branch>,
    /// The condition text the previous step's branch came from, to tell one alternative's
    /// further commands from the next alternative.
    pub condition_source: Option<&'a str>,
}

/// The branch a step with `condition` (read from `source`) takes, given the step before it
/// in the same scenario and option: a second command of the same alternative shares its
/// branch; the opposite outcome is the other alternative after the same step; otherwise the
/// condition waits for `decider`, the step its subject names ("If recovery fails" waits for
/// "Attempt recovery"; "If it fails" for the step before). No decider, no branch.
pub(super) fn branch_for(
    condition: Condition,
    source: &str,
    prev: &Previous,
    decider: Option<usize>,
) -> Option<Branch> {
    if let (Some(b), Some(src)) = (prev.branch, prev.condition_source) {
        if src == source {
            return Some(b);
        }
        let when = match condition {
            Condition::Otherwise => opposite(b.when),
            Condition::On(o) => o,
        };
        if when != b.when {
            return Some(Branch { after: b.after, when });
        }
    }
    let when = match condition {
        Condition::Otherwise => Outcome::Failure,
        Condition::On(o) => o,
    };
    decider.map(|after| Branch { after, when })
}

/// True when every word of `subject` appears in `about` (a step's title and command),
/// ignoring a plural `s`.
pub(super) fn names(subject: &str, about: &str) -> bool {
    let about = about.to_lowercase();
    subject.split_whitespace().all(|w| about.contains(w.trim_end_matches('s')))
}

fn opposite(o: Outcome) -> Outcome {
    match o {
        Outcome::Success => Outcome::Failure,
        Outcome::Failure => Outcome::Success,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Outcome::{Failure, Success};

    #[test]
    fn scenario_labels_give_a_short_name_and_a_trigger() {
        assert_eq!(
            scenario_label("Scenario A: LLM API Errors (rate limits, timeouts)"),
            Some(("A".into(), "LLM API Errors (rate limits, timeouts)".into()))
        );
        assert_eq!(scenario_label("Option 2: Override the config"), Some(("2".into(), "Override the config".into())));
        assert_eq!(scenario_label("Case 1 - disk full"), Some(("1".into(), "disk full".into())));
        assert_eq!(scenario_label("Option 1 (Preferred)"), Some(("1".into(), "(Preferred)".into())));
        assert_eq!(scenario_label("Scenarios"), None);
        assert_eq!(scenario_label("Case studies"), None);
        assert_eq!(scenario_label("Optional: restart"), None);
        assert_eq!(scenario_label("Check logs"), None);
    }

    #[test]
    fn outcome_conditions_are_read_from_the_first_clause() {
        let on = |o| Some(Condition::On(o));
        let cases = [
            ("If recovery succeeds, use recovered database", on(Success), "recovery"),
            ("If recovery fails, restore from backup", on(Failure), "recovery"),
            ("If it fails:", on(Failure), ""),
            ("3. If that doesn't work, roll back", on(Failure), ""),
            ("If not, restore the backup", Some(Condition::Otherwise), ""),
            ("Otherwise, restore the backup", Some(Condition::Otherwise), ""),
            ("If successful", on(Success), ""),
            ("On failure: page the DBA", on(Failure), ""),
            ("If the restart was unsuccessful", on(Failure), "restart"),
        ];
        for (text, want, subject) in cases {
            let got = condition(text);
            assert_eq!(got.as_ref().map(|g| g.0), want, "{text}");
            assert_eq!(got.map(|g| g.1).unwrap_or_default(), subject, "{text}");
        }
        for judgement in [
            "If memory >90%, restart service",
            "If imports fail or deps missing - ROLLBACK",
            "If circuit breaker open, wait 60s",
            "If not already enabled, enable it",
            "Check that the backup succeeded",
        ] {
            assert_eq!(condition(judgement), None, "{judgement}");
        }
    }

    #[test]
    fn alternatives_share_the_step_they_wait_for() {
        let recover = Previous { branch: None, condition_source: None };
        let ok = branch_for(Condition::On(Success), "If recovery succeeds", &recover, Some(2));
        assert_eq!(ok, Some(Branch { after: 2, when: Success }));
        let mv = Previous { branch: ok, condition_source: Some("If recovery succeeds") };
        let failed = branch_for(Condition::On(Failure), "If recovery fails", &mv, Some(2));
        assert_eq!(failed, Some(Branch { after: 2, when: Failure }), "the other alternative after the same step");
        let second = branch_for(Condition::On(Success), "If recovery succeeds", &mv, Some(2));
        assert_eq!(second, ok, "a second command of the same alternative");
        let otherwise = branch_for(Condition::Otherwise, "Otherwise", &mv, Some(3));
        assert_eq!(otherwise, Some(Branch { after: 2, when: Failure }));
        let unrelated = branch_for(Condition::On(Failure), "If the upgrade fails", &recover, None);
        assert_eq!(unrelated, None, "a subject no step before names");
        assert!(names("recovery", "Attempt recovery sqlite3 db .recover"));
        assert!(!names("upgrade", "Attempt recovery sqlite3 db .recover"));
    }
}
