//! The bash side of the session protocol: the start-up script the session shell runs once, the
//! two lines sent for each step, and the reading of what the shell reports back. Kept apart from
//! the process handling in `session.rs` so the protocol can be read (and changed) in one place.
//!
//! Every word sent to the shell is either fixed text, a path inside the session's private
//! directory (hex digits and `/` only, checked by [`quoted_path`]), a decimal number, or a
//! variable name checked by [`is_name`]: nothing from a runbook or a responder is ever part of a
//! control line. Step text reaches the shell only as the contents of a file.

use std::collections::BTreeSet;
use std::path::Path;

/// The shell options a step may set for itself (`set -euo pipefail`, `set -x`); they are
/// switched off again after every step, so one step's `set -e` cannot end the session at a later
/// step's first failing command, and `set -u` cannot change the meaning of later steps.
const STEP_OPTIONS: &str = "+o errexit +o nounset +o pipefail +o xtrace +o verbose";

/// Bash variable names (`BACKUP_DIR`): the only names that go into a control line.
pub fn is_name(s: &str) -> bool {
    let mut b = s.bytes();
    b.next().is_some_and(|c| c.is_ascii_alphabetic() || c == b'_') && b.all(|c| c.is_ascii_alphanumeric() || c == b'_')
}

/// A path of the session directory in single quotes. The directory is made by the session
/// (`<tmp>/sevwatch-session-<hex>`), but the temporary directory comes from the environment, so
/// a quote in it is refused rather than escaped.
pub fn quoted_path(p: &Path) -> std::io::Result<String> {
    let s = p.to_str().filter(|s| !s.contains(['\'', '\n', '\0'])).ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("the session directory {} cannot be named in a shell line", p.display()),
        )
    })?;
    Ok(format!("'{s}'"))
}

/// The script the session shell runs at start: a quiet interactive shell (no prompts, no
/// history, no history expansion), `__sw_need` (the guard for variables a step expects from an
/// earlier one) and `__sw_done` (restores the step options, forgets the bound `sw_*` values,
/// writes the status file and prints the marker), then the ready line.
///
/// `builtin` keeps a step that defines a function called `printf` or `set` from changing the
/// protocol; the leading `\` on control words keeps aliases out of it.
pub fn startup(dir: &str, nonce: &str) -> String {
    format!(
        r#"PS1='' PS2='' PS3='' PS0='' PS4='+ '
unset PROMPT_COMMAND HISTFILE MAILCHECK
builtin set +o history +H 2>/dev/null
__sw_need() {{ builtin local __sw_n; for __sw_n in "$@"; do builtin eval "[ -n \"\${{$__sw_n+x}}\" ]" || {{ builtin printf 'sevwatch: $%s is not set in this shell session: the earlier step of this run that sets it has not run here (skipped, or the run was resumed in a new session)\n' "$__sw_n"; builtin return 1; }}; done; }}
__sw_done() {{ builtin local __sw_rc=$1; builtin set {STEP_OPTIONS}; builtin unset -v ${{!sw_@}}; {{ builtin printf '%s\0%s\0' "$__sw_rc" "$PWD"; builtin compgen -e; }} >{dir}/"$2".status 2>/dev/null; builtin printf '\n%s %s %s\n' '{nonce}' "$2" "$__sw_rc"; }}
builtin printf '\n%s ready\n' '{nonce}'
"#
    )
}

/// How a step's text is run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Read by the session shell itself (`. FILE`), so `cd`, variables and functions stay.
    Sourced,
    /// A script (`#!` first): run by a child `bash` in the session's directory and environment,
    /// so its `set -e` and `exit` end the script, not the session.
    Script,
}

/// The two lines that run step `seq`: the step, with stdin from `/dev/null` and stdout and
/// stderr into one file, after the guard for the names it needs; then the marker line, which
/// reads `$?` before anything else runs. They are separate lines so that when an interrupt
/// aborts the first (as Ctrl-C does at a terminal) the second still runs, with `$?` = 130.
pub fn step_lines(dir: &str, seq: u64, needs: &[String], mode: Mode) -> String {
    let file = format!("{}/{seq}.sh'", dir.trim_end_matches('\''));
    let out = format!("{}/{seq}.out'", dir.trim_end_matches('\''));
    let run = match mode {
        Mode::Sourced => format!("\\. {file}"),
        Mode::Script => format!("\\command bash {file}"),
    };
    let guard =
        if needs.is_empty() { String::new() } else { format!("\\__sw_need {} >{out} 2>&1 && ", needs.join(" ")) };
    format!("{guard}{run} </dev/null >>{out} 2>&1\n\\__sw_done $? {seq}\n")
}

/// What the shell wrote in the status file after a step.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Status {
    pub exit_code: Option<i32>,
    pub cwd: Option<String>,
    pub exported: BTreeSet<String>,
}

/// Reads `rc NUL cwd NUL name\nname\n...` (see `__sw_done`).
pub fn parse_status(bytes: &[u8]) -> Status {
    let mut parts = bytes.splitn(3, |b| *b == 0);
    let exit_code = parts.next().and_then(|p| std::str::from_utf8(p).ok()).and_then(|s| s.parse().ok());
    let cwd = parts.next().map(|p| String::from_utf8_lossy(p).into_owned());
    let exported = parts
        .next()
        .map(|p| String::from_utf8_lossy(p).lines().filter(|l| is_name(l)).map(str::to_string).collect())
        .unwrap_or_default();
    Status { exit_code, cwd, exported }
}

/// Is this control line the marker of step `seq`? Returns the exit code it carries.
pub fn marker(line: &str, nonce: &str, seq: u64) -> Option<i32> {
    let mut words = line.trim_end_matches(['\n', '\r']).split(' ');
    if words.next() != Some(nonce) || words.next() != Some(seq.to_string().as_str()) {
        return None;
    }
    let rc = words.next()?.parse().ok()?;
    words.next().is_none().then_some(rc)
}

/// Does the step run as a script of its own? True when its first line after the bound values
/// (`sw_x=...`, one line each, see `bind`) is a `#!` line.
pub fn mode_of(script: &str) -> Mode {
    let first = script.lines().find(|l| {
        let assignment = l.split_once('=').is_some_and(|(n, _)| n.starts_with("sw_") && is_name(n));
        !assignment
    });
    match first {
        Some(l) if l.starts_with("#!") => Mode::Script,
        _ => Mode::Sourced,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_must_carry_the_nonce_and_the_step_number() {
        assert_eq!(marker("abc 3 0", "abc", 3), Some(0));
        assert_eq!(marker("abc 3 130\n", "abc", 3), Some(130));
        assert_eq!(marker("abc 2 0", "abc", 3), None);
        assert_eq!(marker("abd 3 0", "abc", 3), None);
        assert_eq!(marker("abc 3 0 extra", "abc", 3), None);
        assert_eq!(marker("abc 3 x", "abc", 3), None);
    }

    #[test]
    fn the_status_file_gives_code_directory_and_exported_names() {
        let s = parse_status(b"7\0/tmp/a b\nc\0HOME\nPATH\nnot a name\n");
        assert_eq!(s.exit_code, Some(7));
        assert_eq!(s.cwd.as_deref(), Some("/tmp/a b\nc"));
        assert_eq!(s.exported, BTreeSet::from(["HOME".to_string(), "PATH".to_string()]));
        assert_eq!(parse_status(b""), Status::default());
    }

    #[test]
    fn a_shebang_after_the_bound_values_makes_a_script() {
        assert_eq!(mode_of("#!/bin/bash\nset -e\n"), Mode::Script);
        assert_eq!(mode_of("sw_host='db1'\n#!/bin/bash\necho \"${sw_host}\""), Mode::Script);
        assert_eq!(mode_of("echo hi\n#!/bin/bash"), Mode::Sourced);
        assert_eq!(mode_of("X=1\n#!/bin/bash"), Mode::Sourced);
    }

    #[test]
    fn control_lines_hold_only_paths_numbers_and_checked_names() {
        let dir = quoted_path(Path::new("/tmp/sevwatch-session-ab")).unwrap();
        let lines = step_lines(&dir, 4, &["BACKUP_DIR".into()], Mode::Sourced);
        assert_eq!(
            lines,
            "\\__sw_need BACKUP_DIR >'/tmp/sevwatch-session-ab/4.out' 2>&1 && \\. '/tmp/sevwatch-session-ab/4.sh' \
             </dev/null >>'/tmp/sevwatch-session-ab/4.out' 2>&1\n\\__sw_done $? 4\n"
        );
        assert!(quoted_path(Path::new("/tmp/it's")).is_err());
        assert!(is_name("_a1") && !is_name("1a") && !is_name("a-b") && !is_name(""));
    }
}
