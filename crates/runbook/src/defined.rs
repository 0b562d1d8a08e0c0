//! Which shell variables a runbook defines, and where: one rule for the linter, `bind` and the
//! run's shell session, so that lint and run agree. A variable is defined for a command when the
//! command assigns it before the reference, or when an earlier step of the same run assigns it
//! (the run's steps share one shell session, see `session.rs`). What counts as an assignment:
//! `NAME=value` and `NAME+=value` words (also after `export`, `local`, `declare`, `readonly`),
//! `for NAME in`, `select NAME`, the names after `read`, `mapfile`/`readarray` and `printf -v`.
//!
//! A reference no rule defines and no value binds is an unbound variable: `lint` reports it and
//! `bind` refuses the step, as `set -u` would.

use std::collections::{BTreeMap, BTreeSet};

use crate::model::{PlaceholderKind, Section};
use crate::placeholders::{occurrences, RUNTIME_VARIABLES};

fn is_name(s: &str) -> bool {
    let mut b = s.bytes();
    b.next().is_some_and(|c| c.is_ascii_alphabetic() || c == b'_') && b.all(|c| c.is_ascii_alphanumeric() || c == b'_')
}

/// Words with their byte offsets, split where `bind` and the linter always split them, and
/// whether a command separator (`;`, `&`, `|`, `(`, a line break) came before the word.
fn words(command: &str) -> Vec<(usize, &str, bool)> {
    let mut out = Vec::new();
    let mut start = None;
    let mut separated = true;
    for (i, c) in command.char_indices() {
        let sep = c.is_whitespace() || matches!(c, ';' | '(' | '&' | '|');
        match (sep, start) {
            (true, Some(s)) => {
                out.push((s, &command[s..i], separated));
                start = None;
                separated = false;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
        if matches!(c, ';' | '(' | '&' | '|' | '\n') {
            separated = true;
        }
    }
    if let Some(s) = start {
        out.push((s, &command[s..], separated));
    }
    out
}

/// Words after which the next word is again where a command (or an assignment) starts.
const KEEPS_COMMAND_POSITION: &[&str] = &[
    "then", "do", "else", "elif", "if", "while", "until", "{", "!", "time", "export", "local", "declare", "typeset",
    "readonly",
];

/// Every assignment in `command`: (byte offset of the assigning word, name).
pub fn assignments(command: &str) -> Vec<(usize, String)> {
    let ws = words(command);
    let mut out = Vec::new();
    let mut i = 0;
    // `X=1 cmd`, `export X=1`, `local -r X=1`: assignments stand where a command could; in
    // `echo a=b` the word is an argument.
    let mut command_position = true;
    while i < ws.len() {
        let (at, w, separated) = ws[i];
        command_position |= separated;
        let mut assignment = false;
        if let Some((name, _)) = w.split_once('=') {
            let name = name.strip_suffix('+').unwrap_or(name);
            if is_name(name) && command_position {
                out.push((at, name.to_string()));
                assignment = true;
            }
        }
        let declaring = i > 0 && matches!(ws[i - 1].1, "export" | "local" | "declare" | "typeset" | "readonly");
        command_position =
            assignment || KEEPS_COMMAND_POSITION.contains(&w) || (command_position && w.starts_with('-') && declaring);
        match w {
            "for" | "select" => {
                if let Some((at, n, _)) = ws.get(i + 1).filter(|(_, n, _)| is_name(n)) {
                    out.push((*at, n.to_string()));
                }
            }
            "read" | "mapfile" | "readarray" => {
                // Options, the arguments of the options that take one, then names.
                let mut j = i + 1;
                while let Some((at, n, _)) = ws.get(j) {
                    if n.starts_with('-') {
                        let with_arg = if w == "read" { "dinNptu" } else { "dnOsuCc" };
                        let takes_arg = n.chars().last().is_some_and(|c| with_arg.contains(c));
                        j += if takes_arg && n.len() == 2 { 2 } else { 1 };
                        continue;
                    }
                    if !is_name(n) {
                        break;
                    }
                    out.push((*at, n.to_string()));
                    j += 1;
                }
            }
            "printf" if ws.get(i + 1).is_some_and(|(_, o, _)| *o == "-v") => {
                if let Some((at, n, _)) = ws.get(i + 2).filter(|(_, n, _)| is_name(n)) {
                    out.push((*at, n.to_string()));
                }
            }
            _ => {}
        }
        i += 1;
    }
    out
}

/// Names `command` assigns anywhere.
pub fn assigned_names(command: &str) -> BTreeSet<String> {
    assignments(command).into_iter().map(|(_, n)| n).collect()
}

/// Names the given steps (the run's steps before the current one) assign.
pub fn defined_by<'a>(earlier: impl IntoIterator<Item = &'a str>) -> BTreeSet<String> {
    earlier.into_iter().flat_map(assigned_names).collect()
}

/// For each step of `section`, in [`Section::steps`] order, what a run has assigned before it:
/// the common steps before it and the earlier steps of its own scenario (a run walks one
/// scenario); a common step after the scenarios gets only what every scenario assigns. Steps
/// of timed options are not walked, so they assign nothing for later steps.
pub fn defined_in_section(section: &Section) -> Vec<BTreeSet<String>> {
    let options: Vec<usize> = section.timed_options().flat_map(|o| o.steps.iter().copied()).collect();
    let mut common: BTreeSet<String> = BTreeSet::new();
    let mut per: BTreeMap<String, BTreeSet<String>> =
        section.scenarios().iter().map(|s| (s.name.clone(), BTreeSet::new())).collect();
    let mut out = Vec::new();
    for r in section.indexed_steps() {
        let mut before = common.clone();
        match &r.step.scenario {
            Some(x) => before.extend(per.get(x).into_iter().flatten().cloned()),
            None => {
                let mut sets = per.values();
                if let Some(first) = sets.next() {
                    before.extend(first.iter().filter(|n| per.values().all(|set| set.contains(*n))).cloned());
                }
            }
        }
        out.push(before);
        if options.contains(&r.index) {
            continue;
        }
        let names = assigned_names(&r.step.command);
        match &r.step.scenario {
            Some(x) => per.entry(x.clone()).or_default().extend(names),
            None => common.extend(names),
        }
    }
    out
}

/// Does the shell supply `name` at the reference at byte `pos` of `command`: set at run time,
/// assigned earlier in the command, or assigned by an earlier step of the run?
pub fn left_to_shell(command: &str, pos: usize, name: &str, earlier: &BTreeSet<String>) -> bool {
    RUNTIME_VARIABLES.contains(&name)
        || earlier.contains(name)
        || assignments(command).iter().any(|(at, n)| *at < pos && n == name)
}

/// The variables `command` takes from earlier steps of its run: the session checks they are
/// set before the step runs (an earlier step may have been skipped, or the run resumed in a new
/// session). `${NAME:-default}` brings its own fallback and needs nothing.
pub fn session_needs(command: &str, earlier: &BTreeSet<String>) -> Vec<String> {
    let own = assignments(command);
    let mut out: Vec<String> = Vec::new();
    for occ in occurrences(command) {
        let p = &occ.placeholder;
        let assigned_here = own.iter().any(|(at, n)| *at < occ.start && *n == p.name);
        if p.kind == PlaceholderKind::Variable
            && earlier.contains(&p.name)
            && !assigned_here
            && !RUNTIME_VARIABLES.contains(&p.name.as_str())
            && !p.text.contains(":-")
            && !p.text.contains(":=")
            && !out.contains(&p.name)
        {
            out.push(p.name.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_a_section_each_scenario_sees_its_own_assignments_only() {
        let md = "# R\n\n## Errors\n\n### Response\n\n```bash\nBASE=/srv\n```\n\n**Scenario A: Disk**\n\n\
                  ```bash\nA_DIR=$BASE/a\nBOTH=1\n```\n\n**Scenario B: Net**\n\n```bash\nBOTH=2\nls $A_DIR\n```\n\n\
                  ### Verification\n\n```bash\necho $BOTH $A_DIR\n```\n";
        let rb = crate::parse(md);
        let sec = &rb.sections[0];
        let commands: Vec<&str> = sec.steps().map(|s| s.command.as_str()).collect();
        assert_eq!(commands, ["BASE=/srv", "A_DIR=$BASE/a", "BOTH=1", "BOTH=2", "ls $A_DIR", "echo $BOTH $A_DIR"]);
        let d = defined_in_section(sec);
        let set = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
        assert_eq!(d[1], set(&["BASE"]));
        assert_eq!(d[4], set(&["BASE", "BOTH"]), "scenario B does not see A's A_DIR");
        assert_eq!(d[5], set(&["BASE", "BOTH"]), "after the scenarios, what every one of them assigns");
    }

    fn names(c: &str) -> Vec<String> {
        assignments(c).into_iter().map(|(_, n)| n).collect()
    }

    #[test]
    fn assignments_of_every_form_are_found() {
        assert_eq!(names("BACKUP_DIR=\"$HOME/b\"; export REGION=eu X+=1"), ["BACKUP_DIR", "REGION", "X"]);
        assert_eq!(names("for f in *.json; do echo $f; done"), ["f"]);
        assert_eq!(names("read -r -p prompt NAME OTHER"), ["NAME", "OTHER"]);
        assert_eq!(names("mapfile -t LINES < f; printf -v NOW '%s' x"), ["LINES", "NOW"]);
        assert_eq!(names("echo a=b --opt=1 2=x"), Vec::<String>::new());
        assert_eq!(names("local -r A=1; declare -A M=()"), ["A", "M"]);
    }

    #[test]
    fn a_reference_is_left_to_the_shell_only_after_its_assignment_or_an_earlier_step() {
        let cmd = "echo $X; X=1; echo $X";
        let none = BTreeSet::new();
        assert!(!left_to_shell(cmd, 5, "X", &none));
        assert!(left_to_shell(cmd, 19, "X", &none));
        assert!(left_to_shell(cmd, 5, "X", &BTreeSet::from(["X".to_string()])));
        assert!(left_to_shell(cmd, 5, "HOME", &none));
    }

    #[test]
    fn a_step_needs_what_earlier_steps_set_and_it_does_not_set_itself() {
        let earlier = defined_by(["BACKUP_DIR=\"$H/backups\"\nNAME=x", "for f in a; do :; done"]);
        assert_eq!(earlier, BTreeSet::from(["BACKUP_DIR".into(), "NAME".into(), "f".into()]));
        assert_eq!(
            session_needs("tar -czf \"$BACKUP_DIR/$NAME.tgz\" ${f:-x} $OTHER", &earlier),
            ["BACKUP_DIR", "NAME"]
        );
        assert!(session_needs("NAME=y; echo $NAME", &earlier).is_empty());
    }
}
