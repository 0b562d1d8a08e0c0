//! Substitutes responder-supplied values into a command before it runs. Every value is
//! inserted shell-quoted for the quoting context it lands in, so a value such as
//! `$(touch /tmp/pwned)` or `; rm -rf ~` stays inert text.
//!
//! What gets bound: `<name>`, `[name]` and date templates (`YYYYMMDD_HHMMSS`) always; a
//! `$VAR` / `${VAR}` only when it is neither assigned earlier in the same command text
//! (`X=1`, `export X=`, `for X in`, `read X`) nor one of `RUNTIME_VARIABLES` (`HOME`,
//! `PATH`, ...), which the shell supplies when the command runs. Anything else left
//! without a value is an `UnboundVariable` error naming it.

use std::collections::BTreeMap;

use crate::model::PlaceholderKind;
use crate::placeholders::{occurrences, RUNTIME_VARIABLES};

/// A placeholder or variable had no value.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BindError {
    #[error("unbound variable {0}")]
    UnboundVariable(String),
    /// A value with a newline cannot go into a heredoc body without ending it early.
    #[error("value for {0} contains a newline and would break the heredoc it is used in")]
    NewlineInHeredoc(String),
}

/// Kept as the name the brief uses for the error type.
pub type UnboundVariable = BindError;

/// Single-quotes a value: `it's` becomes `'it'\''s'`.
pub fn shell_quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', "'\\''"))
}

/// Names assigned inside the command text before byte `pos`.
fn assigned_before(command: &str, pos: usize, name: &str) -> bool {
    let before = &command[..pos];
    let assign = format!("{name}=");
    let words: Vec<&str> =
        before.split(|c: char| c.is_whitespace() || c == ';' || c == '(' || c == '&' || c == '|').collect();
    words.iter().any(|w| w.starts_with(&assign) || w.starts_with(&format!("{name}+=")))
        || words.windows(2).any(|w| matches!(w[0], "for" | "read" | "select") && w[1] == name)
        || words.windows(3).any(|w| w[0] == "read" && w[2] == name)
}

/// Quote state at each byte, recomputed by a small scanner: 0 unquoted, 1 single, 2 double,
/// 3 unquoted heredoc body, 4 quoted heredoc body.
fn contexts(command: &str) -> Vec<u8> {
    let bytes = command.as_bytes();
    let mut ctx = vec![0u8; bytes.len()];
    let mut state = 0u8;
    let mut pending: Vec<(String, bool)> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        ctx[i] = state;
        match state {
            0 => match b {
                b'\'' => state = 1,
                b'"' => state = 2,
                b'\\' => {
                    if i + 1 < bytes.len() {
                        ctx[i + 1] = 0;
                    }
                    i += 1;
                }
                b'<' if command[i..].starts_with("<<") && !command[i..].starts_with("<<<") => {
                    let rest = command[i + 2..].trim_start_matches('-').trim_start();
                    let quoted = rest.starts_with(['\'', '"']);
                    let delim: String = rest
                        .trim_start_matches(['\'', '"'])
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    if !delim.is_empty() {
                        pending.push((delim, quoted));
                    }
                }
                b'\n' if !pending.is_empty() => {
                    state = if pending[0].1 { 4 } else { 3 };
                }
                _ => {}
            },
            1 if b == b'\'' => state = 0,
            2 if b == b'"' => state = 0,
            2 if b == b'\\' => {
                if i + 1 < bytes.len() {
                    ctx[i + 1] = 2;
                }
                i += 1;
            }
            3 | 4 if b == b'\n' || i == 0 => {
                let line_start = i + 1;
                let line_end = command[line_start..].find('\n').map_or(bytes.len(), |e| line_start + e);
                if pending.first().is_some_and(|(d, _)| command[line_start..line_end].trim() == d) {
                    for c in ctx.iter_mut().take(line_end).skip(line_start) {
                        *c = state;
                    }
                    pending.remove(0);
                    i = line_end;
                    state = match pending.first() {
                        Some((_, q)) => {
                            if *q {
                                4
                            } else {
                                3
                            }
                        }
                        None => 0,
                    };
                    continue;
                }
            }
            _ => {}
        }
        i += 1;
    }
    ctx
}

/// Replaces placeholders and unassigned variables with quoted values.
pub fn bind(command: &str, vars: &BTreeMap<String, String>) -> Result<String, BindError> {
    let ctx = contexts(command);
    let mut out = String::with_capacity(command.len());
    let mut last = 0;
    for occ in occurrences(command) {
        let p = &occ.placeholder;
        let state = ctx.get(occ.start).copied().unwrap_or(0);
        if p.kind == PlaceholderKind::Variable
            && (RUNTIME_VARIABLES.contains(&p.name.as_str()) || assigned_before(command, occ.start, &p.name))
        {
            continue;
        }
        // A `${VAR:-default}` carries its own fallback; leave it to the shell when unbound.
        let value = match vars.get(&p.name).or_else(|| vars.get(&p.text)) {
            Some(v) => v,
            None if p.kind == PlaceholderKind::Variable && p.text.contains(":-") => continue,
            None => return Err(BindError::UnboundVariable(p.text.clone())),
        };
        let quoted = match state {
            1 => format!("'{}'", shell_quote(value)),
            2 => format!("\"{}\"", shell_quote(value)),
            3 => {
                if value.contains('\n') {
                    return Err(BindError::NewlineInHeredoc(p.text.clone()));
                }
                value.replace('\\', "\\\\").replace('$', "\\$").replace('`', "\\`")
            }
            4 => {
                if value.contains('\n') {
                    return Err(BindError::NewlineInHeredoc(p.text.clone()));
                }
                value.clone()
            }
            _ => shell_quote(value),
        };
        out.push_str(&command[last..occ.start]);
        out.push_str(&quoted);
        last = occ.end;
    }
    out.push_str(&command[last..]);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn hostile_values_are_quoted_in_every_context() {
        let v = vars(&[("agent-id", "$(touch /tmp/pwned)"), ("HOST", "; rm -rf ~")]);
        assert_eq!(bind("ping <agent-id>", &v).unwrap(), "ping '$(touch /tmp/pwned)'");
        assert_eq!(bind("ssh $HOST", &v).unwrap(), "ssh '; rm -rf ~'");
        assert_eq!(bind("echo \"id=<agent-id>\"", &v).unwrap(), "echo \"id=\"'$(touch /tmp/pwned)'\"\"");
        assert_eq!(bind("echo 'id=<agent-id>'", &v).unwrap(), "echo 'id=''$(touch /tmp/pwned)'''");
        assert_eq!(bind("cat <<EOF\nid=<agent-id>\nEOF", &v).unwrap(), "cat <<EOF\nid=\\$(touch /tmp/pwned)\nEOF");
    }

    #[test]
    fn single_quotes_inside_values_are_escaped() {
        let v = vars(&[("name", "it's")]);
        assert_eq!(bind("echo [name]", &v).unwrap(), "echo 'it'\\''s'");
    }

    #[test]
    fn unbound_placeholders_are_errors_that_name_them() {
        let err = bind("kill <pid>", &BTreeMap::new()).unwrap_err();
        assert_eq!(err, BindError::UnboundVariable("<pid>".into()));
        assert_eq!(err.to_string(), "unbound variable <pid>");
    }

    #[test]
    fn script_assigned_and_runtime_variables_are_left_alone() {
        let v = BTreeMap::new();
        assert_eq!(bind("X=1; echo $X", &v).unwrap(), "X=1; echo $X");
        assert_eq!(bind("for f in *; do echo $f; done", &v).unwrap(), "for f in *; do echo $f; done");
        assert_eq!(bind("ls $HOME/${PATH}", &v).unwrap(), "ls $HOME/${PATH}");
        assert_eq!(bind("echo ${X:-1}", &v).unwrap(), "echo ${X:-1}");
        assert!(bind("echo $DATA_DIR", &v).is_err());
    }

    #[test]
    fn date_templates_bind_by_name() {
        let v = vars(&[("YYYYMMDD_HHMMSS", "20250101_120000")]);
        assert_eq!(bind("restore.py b_YYYYMMDD_HHMMSS.tgz", &v).unwrap(), "restore.py b_'20250101_120000'.tgz");
    }
}
