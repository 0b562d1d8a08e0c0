//! Finds the values a responder must supply in a command: `$VAR` / `${VAR}` references,
//! `<agent-id>` and `[name]` placeholders and date templates such as `YYYYMMDD_HHMMSS`.
//! Shared by step extraction, the linter and `bind`, so all three agree on what a
//! placeholder is.

use crate::model::{Placeholder, PlaceholderKind};

/// Shell and OS variables that are set at run time and never need binding.
pub const RUNTIME_VARIABLES: &[&str] = &[
    "HOME",
    "USER",
    "LOGNAME",
    "PATH",
    "PWD",
    "OLDPWD",
    "SHELL",
    "HOSTNAME",
    "TMPDIR",
    "LANG",
    "TERM",
    "UID",
    "EUID",
    "PPID",
    "RANDOM",
    "SECONDS",
    "LINENO",
    "BASH_SOURCE",
    "IFS",
    "EDITOR",
    "PAGER",
    "XDG_RUNTIME_DIR",
    "XDG_CONFIG_HOME",
    "KUBECONFIG",
    "REPLY",
];

/// A placeholder occurrence with its byte range in the command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Occurrence {
    pub placeholder: Placeholder,
    pub start: usize,
    pub end: usize,
}

/// Distinct placeholders of a command, in first-appearance order.
pub fn placeholders(command: &str) -> Vec<Placeholder> {
    let mut out: Vec<Placeholder> = Vec::new();
    for occ in occurrences(command) {
        if !out.iter().any(|p| p.text == occ.placeholder.text) {
            out.push(occ.placeholder);
        }
    }
    out
}

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// All placeholder occurrences, outside single quotes for `$VAR` (single quotes make `$`
/// literal) but anywhere for `<x>`, `[x]` and date templates, which are prose markers.
pub fn occurrences(command: &str) -> Vec<Occurrence> {
    let bytes = command.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let mut single = false;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'\'' {
            single = !single;
            i += 1;
            continue;
        }
        if b == b'\\' && !single {
            i += 2;
            continue;
        }
        if b == b'$' && !single {
            if let Some((name, end)) = variable_at(bytes, i) {
                out.push(occ(command, i, end, name, PlaceholderKind::Variable));
                i = end;
                continue;
            }
        }
        if b == b'<' && (i == 0 || bytes[i - 1] != b'<') {
            if let Some(end) = delimited(bytes, i + 1, b'>') {
                let name = &command[i + 1..end - 1];
                out.push(occ(command, i, end, name.to_string(), PlaceholderKind::Angle));
                i = end;
                continue;
            }
        }
        if b == b'[' && (i == 0 || bytes[i - 1] != b'[') && bytes.get(i + 1) != Some(&b'[') {
            if let Some(end) = delimited(bytes, i + 1, b']') {
                let name = &command[i + 1..end - 1];
                // `[0-9]`-style globs and `[abc]` classes are not prose placeholders.
                if name.len() > 3 && !name.contains(['0', '1', '9']) {
                    out.push(occ(command, i, end, name.to_string(), PlaceholderKind::Bracket));
                    i = end;
                    continue;
                }
            }
        }
        if b == b'Y' && (i == 0 || !bytes[i - 1].is_ascii_alphanumeric()) && command[i..].starts_with("YYYY") {
            let end = i + command[i..]
                .bytes()
                .take_while(|c| matches!(c, b'Y' | b'M' | b'D' | b'H' | b'S' | b'_' | b'-' | b':'))
                .count();
            let text = command[i..end].trim_end_matches(['_', '-', ':']);
            let end = i + text.len();
            if end == bytes.len() || !is_ident(bytes[end]) {
                out.push(occ(command, i, end, text.to_string(), PlaceholderKind::DateTemplate));
                i = end;
                continue;
            }
        }
        i += 1;
    }
    out
}

fn occ(command: &str, start: usize, end: usize, name: String, kind: PlaceholderKind) -> Occurrence {
    Occurrence { placeholder: Placeholder { text: command[start..end].to_string(), name, kind }, start, end }
}

/// `$NAME` or `${NAME}` / `${NAME:-x}` starting at `i`; positional and special parameters
/// (`$1`, `$?`, `$$`) and substitutions (`$(`) are not placeholders.
fn variable_at(bytes: &[u8], i: usize) -> Option<(String, usize)> {
    let next = *bytes.get(i + 1)?;
    if next == b'{' {
        let start = i + 2;
        if !is_ident_start(*bytes.get(start)?) {
            return None;
        }
        let name_end = start + bytes[start..].iter().take_while(|b| is_ident(**b)).count();
        let close = name_end + bytes[name_end..].iter().position(|b| *b == b'}')?;
        let name = String::from_utf8_lossy(&bytes[start..name_end]).into_owned();
        return Some((name, close + 1));
    }
    if !is_ident_start(next) {
        return None;
    }
    let end = i + 1 + bytes[i + 1..].iter().take_while(|b| is_ident(**b)).count();
    Some((String::from_utf8_lossy(&bytes[i + 1..end]).into_owned(), end))
}

/// A prose placeholder body `[A-Za-z][A-Za-z0-9 _.-]*` closed by `close`; returns the index
/// after the closing byte.
fn delimited(bytes: &[u8], start: usize, close: u8) -> Option<usize> {
    if !bytes.get(start)?.is_ascii_alphabetic() {
        return None;
    }
    let mut j = start;
    while j < bytes.len() && j - start < 64 {
        let b = bytes[j];
        if b == close {
            // Spaces are allowed inside (`<Brief Description>`) but not at the edges.
            return (bytes[j - 1] != b' ').then_some(j + 1);
        }
        if !(b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b' ' | b'/')) {
            return None;
        }
        j += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(c: &str) -> Vec<String> {
        placeholders(c).into_iter().map(|p| p.text).collect()
    }

    #[test]
    fn finds_each_placeholder_style() {
        assert_eq!(
            names("restore.py backups/x_YYYYMMDD_HHMMSS.tar.gz <agent-id> [action] ${HOME}/$FOO"),
            vec!["YYYYMMDD_HHMMSS", "<agent-id>", "[action]", "${HOME}", "$FOO"]
        );
    }

    #[test]
    fn ignores_substitutions_specials_tests_and_heredoc_markers() {
        assert!(names("echo $(date) $1 $? '$NOPE' [ -f x ] [[ -n y ]] cat << EOF").is_empty());
    }
}
