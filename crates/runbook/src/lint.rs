//! Runbook linting: findings a reviewer should fix before an incident, each with a line
//! number and a level. Works on the parsed structure plus the raw text (for paths and
//! confirmation notes near a step).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::defined::{defined_in_section, left_to_shell};
use crate::model::{PhaseKind, PlaceholderKind, RiskClass, Runbook};
use crate::placeholders::occurrences;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Level {
    Warning,
    Error,
}

/// One lint finding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub line: usize,
    pub level: Level,
    /// Stable identifier, e.g. `no-verification`.
    pub code: String,
    pub message: String,
}

fn finding(line: usize, level: Level, code: &str, message: String) -> Finding {
    Finding { line, level, code: code.to_string(), message }
}

/// Words that show a backup or a confirmation was asked for before a destructive step.
const SAFETY_WORDS: &[&str] = &[
    "backup",
    "back up",
    "snapshot",
    "confirm",
    "are you sure",
    "make sure",
    "double-check",
    "cp -",
    "pg_dump",
    ".backup",
    "tar -c",
    "tar c",
    "copy",
];

/// Lints a runbook. `known_alerts` (from rule files) enables the unknown-alert check.
pub fn lint(text: &str, known_alerts: Option<&BTreeSet<String>>) -> Vec<Finding> {
    let rb = crate::parse(text);
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for s in &rb.sections {
        if s.incident && !s.phases.iter().any(|p| p.kind == PhaseKind::Verification) {
            out.push(finding(
                s.line,
                Level::Warning,
                "no-verification",
                format!("incident type \"{}\" has no verification steps", s.title),
            ));
        }
        if let Some(known) = known_alerts {
            for a in &s.alerts {
                if !known.contains(a) {
                    out.push(finding(
                        s.line,
                        Level::Error,
                        "unknown-alert",
                        format!("alert {a} is not defined in the given rule files"),
                    ));
                }
            }
        }
    }
    placeholder_findings(&rb, &mut out);
    step_findings(&rb, &lines, &mut out);
    for (i, line) in lines.iter().enumerate() {
        if let Some(path) = home_path(line) {
            out.push(finding(
                i + 1,
                Level::Warning,
                "home-path",
                format!("hard-coded home path {path}; use $HOME or a configured directory"),
            ));
        }
    }
    out.sort_by(|a, b| (a.line, &a.code).cmp(&(b.line, &b.code)));
    out
}

/// Placeholders nothing defines where they are used. A run walks one section (one scenario of
/// it) in one shell session, so a variable is defined by an assignment earlier in the same step
/// or in an earlier step the run takes (`defined::defined_in_section`): the rule `bind` applies
/// when the run reaches the step, so lint and run agree.
fn placeholder_findings(rb: &Runbook, out: &mut Vec<Finding>) {
    let mut reported: BTreeSet<String> = BTreeSet::new();
    for s in &rb.sections {
        for (step, earlier) in s.steps().zip(defined_in_section(s)) {
            for occ in occurrences(&step.command) {
                let p = &occ.placeholder;
                let by_shell =
                    p.kind == PlaceholderKind::Variable && left_to_shell(&step.command, occ.start, &p.name, &earlier);
                if by_shell || p.text.contains(":-") || !reported.insert(p.text.clone()) {
                    continue;
                }
                out.push(finding(
                    step.line,
                    Level::Warning,
                    "undefined-placeholder",
                    format!(
                        "{} is not defined by this step or an earlier one of its section; the responder must supply it",
                        p.text
                    ),
                ));
            }
        }
    }
}

fn step_findings(rb: &Runbook, lines: &[&str], out: &mut Vec<Finding>) {
    for s in &rb.sections {
        let steps: Vec<_> = s.steps().collect();
        for (i, step) in steps.iter().enumerate() {
            if step.risk.class == RiskClass::Destructive {
                // Look at the step's own title, earlier steps of the section and up to ten
                // lines of prose above it.
                let from = step.line.saturating_sub(11);
                let window = lines
                    .get(from..step.line.saturating_sub(1).min(lines.len()))
                    .unwrap_or(&[])
                    .join("\n")
                    .to_lowercase();
                let earlier = steps[..i]
                    .iter()
                    .map(|s| format!("{} {}", s.title.as_deref().unwrap_or(""), s.command))
                    .collect::<Vec<_>>()
                    .join("\n")
                    .to_lowercase();
                let title = step.title.as_deref().unwrap_or("").to_lowercase();
                let safe = SAFETY_WORDS.iter().any(|w| window.contains(w) || earlier.contains(w) || title.contains(w));
                if !safe {
                    out.push(finding(
                        step.line,
                        Level::Error,
                        "destructive-without-backup",
                        format!("destructive step ({}) has no preceding backup or confirmation", step.risk.reason),
                    ));
                }
            }
            if needs_root(&step.command) {
                out.push(finding(
                    step.line,
                    Level::Warning,
                    "needs-root",
                    format!("step needs root: {}", first_line(&step.command)),
                ));
            }
        }
    }
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("")
}

/// `sudo`, `su -c` or writes under system directories.
fn needs_root(command: &str) -> bool {
    command
        .split(|c: char| c.is_whitespace() || c == ';' || c == '|' || c == '&' || c == '(')
        .any(|w| w == "sudo" || w == "doas")
        || command.contains("su -c")
        || ["> /etc/", ">> /etc/", "tee /etc/", "> /var/lib/", "tee /usr/"].iter().any(|p| command.contains(p))
}

/// A hard-coded absolute home directory path on the line (`/home/alice/...`, `/Users/bob`).
fn home_path(line: &str) -> Option<String> {
    for prefix in ["/home/", "/Users/"] {
        if let Some(i) = line.find(prefix) {
            let rest = &line[i + prefix.len()..];
            let user: String =
                rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-' || *c == '.').collect();
            let before_ok = i == 0 || !line.as_bytes()[i - 1].is_ascii_alphanumeric();
            if !user.is_empty() && before_ok && !user.starts_with('$') && user != "user" && user != "username" {
                return Some(format!("{prefix}{user}"));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(text: &str, known: Option<&BTreeSet<String>>) -> Vec<(usize, String)> {
        lint(text, known).into_iter().map(|f| (f.line, f.code)).collect()
    }

    #[test]
    fn incident_without_verification_is_reported() {
        let md = "# R\n\n## P1 - Disk Full\n\n### Response\n\n```bash\ndf -h\n```\n";
        assert!(codes(md, None).contains(&(3, "no-verification".into())));
        let ok = format!("{md}\n### Verification\n\n```bash\ndf -h\n```\n");
        assert!(!codes(&ok, None).iter().any(|c| c.1 == "no-verification"));
    }

    #[test]
    fn destructive_step_needs_a_backup_first() {
        let bad = "# R\n\n## Cleanup\n\n```bash\nrm -rf /srv/data\n```\n";
        assert!(codes(bad, None).contains(&(6, "destructive-without-backup".into())));
        let good = "# R\n\n## Cleanup\n\n```bash\ncp -r /srv/data /srv/data.bak\nrm -rf /srv/data\n```\n";
        assert!(!codes(good, None).iter().any(|c| c.1 == "destructive-without-backup"));
    }

    #[test]
    fn placeholders_home_paths_root_and_unknown_alerts_are_reported() {
        let md = "# R\n\n## Incident: DiskFull\n\n**Alert:** `DiskFull`\n\n### Response\n\n```bash\nsudo systemctl restart <service>\ncd /home/alice/app\n```\n";
        let known = BTreeSet::from(["Other".to_string()]);
        let got = codes(md, Some(&known));
        assert!(got.contains(&(10, "undefined-placeholder".into())), "{got:?}");
        assert!(got.contains(&(10, "needs-root".into())));
        assert!(got.contains(&(11, "home-path".into())));
        assert!(got.contains(&(3, "unknown-alert".into())));
        assert!(!codes(md, None).iter().any(|c| c.1 == "unknown-alert"));
    }

    #[test]
    fn variables_assigned_by_earlier_steps_of_the_section_are_defined() {
        let md = "# R\n\n## Fix\n\n```bash\nDIR=/srv\nls $DIR\n```\n";
        assert!(!codes(md, None).iter().any(|c| c.1 == "undefined-placeholder"));
        // Another section is another run, in another shell session.
        let other = format!("{md}\n## Later\n\n```bash\nls $DIR\n```\n");
        assert!(codes(&other, None).contains(&(13, "undefined-placeholder".into())), "{:?}", codes(&other, None));
        // Used before it is assigned, in the same step.
        let before = "# R\n\n## Fix\n\n```bash\nls $DIR; DIR=/srv\n```\n";
        assert!(codes(before, None).contains(&(6, "undefined-placeholder".into())));
    }

    /// Lint and run agree: what lint reports, `bind` refuses in a run; what lint accepts, it binds.
    #[test]
    fn lint_and_bind_agree_on_what_is_defined() {
        let md = "# R\n\n## Backup\n\n```bash\nBACKUP_DIR=/b\nmkdir -p \"$BACKUP_DIR\"\necho $NEVER\n```\n";
        let found: Vec<String> =
            lint(md, None).into_iter().filter(|f| f.code == "undefined-placeholder").map(|f| f.message).collect();
        assert_eq!(found.len(), 1);
        assert!(found[0].starts_with("$NEVER"), "{found:?}");
        let rb = crate::parse(md);
        let steps: Vec<&str> = rb.sections[0].steps().map(|s| s.command.as_str()).collect();
        let none = std::collections::BTreeMap::new();
        let earlier = crate::defined::defined_by(steps[..1].iter().copied());
        assert!(crate::bind_in_run(steps[1], &none, &earlier).is_ok());
        let earlier = crate::defined::defined_by(steps[..2].iter().copied());
        let err = crate::bind_in_run(steps[2], &none, &earlier).unwrap_err();
        assert_eq!(err.to_string(), "unbound variable $NEVER");
    }
}
