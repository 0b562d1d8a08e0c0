//! Finds the values a responder must supply in a command: `$VAR` / `${VAR}` references,
//! `<agent-id>`, `[name]`, `{{host}}`, `{host}` and `YOUR_TOKEN` placeholders and date
//! templates such as `YYYYMMDD_HHMMSS`. Shared by step extraction, the linter, the classifier
//! (which reads each prose placeholder as a plain word, [`neutral`]) and `bind`, so all four
//! agree on what a placeholder is.

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
        if b == b'{' && command[i..].starts_with("{{") {
            if let Some(end) = command[i + 2..].find("}}").map(|e| i + 2 + e + 2) {
                let name = command[i + 2..end - 2].trim();
                if is_name(name) {
                    out.push(occ(command, i, end, name.to_string(), PlaceholderKind::Brace));
                    i = end;
                    continue;
                }
            }
        }
        // `{host}` outside single quotes (awk's `'{print}'` is code) and not `${VAR}`.
        if b == b'{' && !single && (i == 0 || bytes[i - 1] != b'$') {
            if let Some(len) = command[i + 1..].find('}') {
                let name = &command[i + 1..i + 1 + len];
                if is_name(name) && name.bytes().any(|c| c.is_ascii_alphabetic()) {
                    let end = i + len + 2;
                    out.push(occ(command, i, end, name.to_string(), PlaceholderKind::Brace));
                    i = end;
                    continue;
                }
            }
        }
        if b == b'Y' && (i == 0 || !is_ident(bytes[i - 1])) && command[i..].starts_with("YOUR_") {
            let end = i + bytes[i..]
                .iter()
                .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || **c == b'_')
                .count();
            if end > i + 5 {
                out.push(occ(command, i, end, command[i..end].to_string(), PlaceholderKind::Yours));
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

/// A placeholder name: starts with a letter; letters, digits, `_`, `-`, `.`; at most 64 bytes.
fn is_name(s: &str) -> bool {
    s.len() <= 64
        && s.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

/// The word the classifier reads in place of a prose placeholder: a plain word, so `<pod>`
/// is never a redirection and `ssh <node> '...'` is still ssh with a host.
pub const NEUTRAL: &str = "PLACEHOLDER";

/// `command` with every prose placeholder (not `$VAR`, which the shell parser reads as the
/// expansion it is) replaced by [`NEUTRAL`], for classification.
pub fn neutral(command: &str) -> String {
    let mut out = String::with_capacity(command.len());
    let mut last = 0;
    for o in occurrences(command) {
        if o.placeholder.kind == PlaceholderKind::Variable {
            continue;
        }
        out.push_str(&command[last..o.start]);
        out.push_str(NEUTRAL);
        last = o.end;
    }
    out.push_str(&command[last..]);
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
    fn template_brace_and_your_forms_are_placeholders_but_code_braces_are_not() {
        assert_eq!(
            names("curl {{host}}/api/{ service } -H 'Authorization: YOUR_API_KEY' {region}"),
            vec!["{{host}}", "YOUR_API_KEY", "{region}"]
        );
        assert_eq!(names("curl -H YOUR_API_KEY x"), vec!["YOUR_API_KEY"]);
        assert!(names("awk '{print}' f; find . -exec rm {} \\; ; echo ${HOME} {1..3} {a,b}")
            .iter()
            .all(|n| n == "${HOME}"));
        assert_eq!(
            neutral("kubectl describe pod <pod-name> -n web; ssh {{node}} 'sudo rm -rf /x' $HOST"),
            "kubectl describe pod PLACEHOLDER -n web; ssh PLACEHOLDER 'sudo rm -rf /x' $HOST"
        );
    }

    #[test]
    fn ignores_substitutions_specials_tests_and_heredoc_markers() {
        assert!(names("echo $(date) $1 $? '$NOPE' [ -f x ] [[ -n y ]] cat << EOF").is_empty());
    }
}
