//! Binds responder and alert values into a step's command so that no value is ever read as
//! shell syntax. Values travel in shell variables, never as spliced code: `bind` returns a
//! script that first assigns each value, quoted once in the one context where quoting is
//! exact (`sw_service='web'`, or `$'...'` when the value holds control characters), and then
//! runs the command with every placeholder replaced by a reference to its variable
//! (`"${sw_service}"` in a plain word, `${sw_service}` inside `"..."`, `$(...)` at any depth,
//! backticks and unquoted here-docs). An expansion's result is never parsed again by the shell
//! that expands it, so this holds whatever the value contains and however deep the quoting is;
//! a mistake in telling `"..."` from a plain word costs word splitting, never execution.
//!
//! Where a reference cannot work, a value is spliced as text, and then it must be *inert*
//! (`[A-Za-z0-9_.:/@%+,=-]`, see [`is_inert`]), or binding fails with an error that says where:
//! - inside `'...'`, `$'...'` and quoted here-docs (`<<'EOF'`), which do not expand;
//! - in text a second shell reads (`ssh host "..."`, `bash -c`, `sh -c`, `su -c`, `eval`,
//!   `watch "..."`, a here-doc fed to a shell or to ssh), found by classifying the command with
//!   a sentinel in place of each placeholder; when the command does not parse, every
//!   placeholder is held to this rule;
//! - arithmetic (`$((...))`, `((...))`, `$[...]`) takes an integer only.
//!
//! Everywhere: a value starting with `-` is refused where it would begin a word (it would be
//! read as an option: `ssh -oProxyCommand=...`), a value holding an array subscript with an
//! expansion (`a[$(cmd)]`, which bash arithmetic evaluates wherever it meets one) is refused,
//! and NUL is refused.
//!
//! What gets bound: `<name>`, `[name]` and date templates (`YYYYMMDD_HHMMSS`) always; a
//! `$VAR` / `${VAR}` only when it is neither assigned earlier in the same command text
//! (`X=1`, `export X=`, `for X in`, `read X`), nor assigned by an earlier step of the same run
//! ([`bind_in_run`]: the steps share one shell session), nor one of `RUNTIME_VARIABLES`
//! (`HOME`, `PATH`, ...), which the shell supplies when the command runs; `defined.rs` holds
//! that rule for the linter too. Anything else left without a value is an `UnboundVariable`
//! error naming it.
//!
//! In a run's session the `sw_*` variables are unset after every step, so a bound value never
//! outlives the step it was bound for.

use std::collections::{BTreeMap, BTreeSet};

mod context;

use crate::defined::left_to_shell;
use crate::model::PlaceholderKind;
use crate::placeholders::occurrences;
use context::{contexts, Ctx};

/// Why a command could not be bound.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BindError {
    #[error("unbound variable {0}")]
    UnboundVariable(String),
    /// A value that may not go where its placeholder stands.
    #[error("the value for {placeholder} cannot be used here: {why}")]
    Unsafe { placeholder: String, why: String },
}

/// Kept as the name the brief uses for the error type.
pub type UnboundVariable = BindError;

/// Single-quotes a value: `it's` becomes `'it'\''s'`.
pub fn shell_quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', "'\\''"))
}

/// Quotes a value for an assignment, exactly and printably: single quotes when every
/// character prints, otherwise bash's `$'...'` with each unprintable byte as `\xHH`, so the
/// script shown to a responder carries no raw control or bidi characters.
pub fn quote_value(value: &str) -> String {
    if !value.chars().any(unprintable) {
        return shell_quote(value);
    }
    let mut out = String::from("$'");
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            c if unprintable(c) => {
                let mut buf = [0u8; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    out.push_str(&format!("\\x{b:02x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// Control characters, and the Unicode format characters that reorder or hide text.
fn unprintable(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
}

/// A value that means the same to every shell and tool that may read it: letters, digits and
/// `_ . : / @ % + , = -`, not empty, no `..` path step. Only such values are spliced as text.
pub fn is_inert(value: &str) -> bool {
    !value.is_empty()
        && value.bytes().all(|b| b.is_ascii_alphanumeric() || b"_.:/@%+,=-".contains(&b))
        && !value.split('/').any(|part| part == "..")
}

/// Does the placeholder at `start` begin a shell word (after an opening quote, too)?
fn begins_word(command: &str, start: usize) -> bool {
    let before = command[..start].trim_end_matches(['"', '\'']);
    before.is_empty() || before.ends_with(|c: char| c.is_whitespace() || ";|&(`".contains(c))
}

/// The variable name a placeholder is bound through: `<agent-id>` -> `sw_agent_id`.
fn variable_name(name: &str) -> String {
    let clean: String = name.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
    format!("sw_{clean}")
}

/// A sentinel word standing for placeholder `n` while the command is classified.
fn sentinel(n: usize) -> String {
    format!("SWBINDQ{n}Q")
}

/// Returns the script to run: one assignment per bound value, then the command with every
/// placeholder replaced by a reference to its value (see the module comment).
pub fn bind(command: &str, vars: &BTreeMap<String, String>) -> Result<String, BindError> {
    bind_in_run(command, vars, &BTreeSet::new())
}

/// [`bind`] for a step of a run whose earlier steps assign `earlier` (see `defined.rs`): those
/// variables are the run's shell session's, left to the shell and never bound from `vars`.
pub fn bind_in_run(
    command: &str,
    vars: &BTreeMap<String, String>,
    earlier: &BTreeSet<String>,
) -> Result<String, BindError> {
    let ctx = contexts(command);
    // Each occurrence to replace: (start, end, placeholder text, variable, value).
    let mut todo: Vec<(usize, usize, String, String, String)> = Vec::new();
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    for occ in occurrences(command) {
        let p = &occ.placeholder;
        if p.kind == PlaceholderKind::Variable && left_to_shell(command, occ.start, &p.name, earlier) {
            continue;
        }
        // A `${VAR:-default}` carries its own fallback; leave it to the shell when unbound.
        let value = match vars.get(&p.name).or_else(|| vars.get(&p.text)) {
            Some(v) => v.clone(),
            None if p.kind == PlaceholderKind::Variable && p.text.contains(":-") => continue,
            None => return Err(BindError::UnboundVariable(p.text.clone())),
        };
        let taken: Vec<String> = names.values().cloned().collect();
        let var = names
            .entry(p.name.clone())
            .or_insert_with(|| {
                let base = variable_name(&p.name);
                let mut var = base.clone();
                let mut n = 2;
                while taken.contains(&var) {
                    var = format!("{base}_{n}");
                    n += 1;
                }
                var
            })
            .clone();
        todo.push((occ.start, occ.end, p.text.clone(), var, value));
    }
    if todo.is_empty() {
        return Ok(command.to_string());
    }
    let reread = reread_by_a_second_shell(command, &todo);
    let mut body = String::with_capacity(command.len() + 16 * todo.len());
    let mut last = 0;
    for (n, (start, end, text, var, value)) in todo.iter().enumerate() {
        let refuse = |why: &str| Err(BindError::Unsafe { placeholder: text.clone(), why: why.to_string() });
        if value.contains('\0') {
            return refuse("it contains a NUL byte");
        }
        if subscript_with_expansion(value) {
            return refuse("it holds an array subscript with an expansion, which bash arithmetic would run");
        }
        let context = ctx.get(*start).copied().unwrap_or(Ctx::Word);
        if context != Ctx::Arith && value.starts_with('-') && begins_word(command, *start) {
            return refuse("it starts with '-' and would be read as an option");
        }
        let inert = is_inert(value);
        match &reread[n] {
            Some(Reread::CommandName) => return refuse("it stands where the name of the command to run goes"),
            Some(Reread::By(wrapper)) if !inert => {
                return refuse(&format!(
                    "{wrapper} hands this text to a second shell, which would parse the value; \
                     only letters, digits and _ . : / @ % + , = - may go there"
                ))
            }
            Some(Reread::Unparsed) if !inert => {
                return refuse(
                    "the command does not parse, so where the value goes is unknown; only letters, \
                     digits and _ . : / @ % + , = - may go there",
                )
            }
            _ => {}
        }
        let replacement = match context {
            Ctx::Word => format!("\"${{{var}}}\""),
            Ctx::Double | Ctx::Heredoc => format!("${{{var}}}"),
            Ctx::Arith => {
                let digits = value.strip_prefix(['-', '+']).unwrap_or(value);
                if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                    return refuse("it is used in arithmetic, which takes an integer only");
                }
                format!("${{{var}}}")
            }
            Ctx::Literal if inert => value.clone(),
            Ctx::Literal => {
                return refuse(
                    "it stands inside '...', $'...' or a quoted here-doc, where the shell cannot \
                     expand a variable, and it holds characters other than letters, digits and _ . : / @ % + , = -",
                )
            }
        };
        body.push_str(&command[last..*start]);
        body.push_str(&replacement);
        last = *end;
    }
    body.push_str(&command[last..]);
    let mut script = String::new();
    let mut assigned: Vec<&str> = Vec::new();
    for (_, _, _, var, value) in &todo {
        if !assigned.contains(&var.as_str()) {
            assigned.push(var);
            script.push_str(&format!("{var}={}\n", quote_value(value)));
        }
    }
    script.push_str(&body);
    Ok(script)
}

/// `a[$(cmd)]`, `` x[`cmd`] ``: bash evaluates subscripts (and runs what is in them) whenever
/// arithmetic meets a value, including `[[ $v -eq 1 ]]`, `let`, `declare -i` and `${a[$v]}`.
fn subscript_with_expansion(value: &str) -> bool {
    value.split('[').skip(1).any(|after| after.contains(['$', '`']))
}

/// Why a value must be inert where it stands.
enum Reread {
    /// A wrapper hands the text to a second shell.
    By(String),
    /// Part of the command does not parse: where its words go is unknown.
    Unparsed,
    /// The value would name the command to run.
    CommandName,
}

/// For each occurrence, why a second reader may see it, if one may. The command is
/// classified with a sentinel word in place of each placeholder; the classifier records every
/// text it hands to another shell. If any part does not parse, every occurrence counts as
/// re-read: nothing is known about where it goes.
fn reread_by_a_second_shell(command: &str, todo: &[(usize, usize, String, String, String)]) -> Vec<Option<Reread>> {
    let mut probe = String::with_capacity(command.len());
    let mut last = 0;
    for (n, (start, end, ..)) in todo.iter().enumerate() {
        probe.push_str(&command[last..*start]);
        probe.push_str(&sentinel(n));
        last = *end;
    }
    probe.push_str(&command[last..]);
    let seen = crate::classify::second_shell_texts(&probe);
    (0..todo.len())
        .map(|n| match &seen {
            None => Some(Reread::Unparsed),
            Some(reach) if reach.command_names.iter().any(|name| name.contains(&sentinel(n))) => {
                Some(Reread::CommandName)
            }
            Some(reach) => {
                reach.reread.iter().find(|(_, text)| text.contains(&sentinel(n))).map(|(w, _)| Reread::By(w.clone()))
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn values_travel_in_variables_quoted_once() {
        let v = vars(&[("agent-id", "$(touch /tmp/pwned)"), ("HOST", "; rm -rf ~")]);
        assert_eq!(bind("ping <agent-id>", &v).unwrap(), "sw_agent_id='$(touch /tmp/pwned)'\nping \"${sw_agent_id}\"");
        assert_eq!(bind("dig $HOST", &v).unwrap(), "sw_HOST='; rm -rf ~'\ndig \"${sw_HOST}\"");
        assert_eq!(
            bind("echo \"id=<agent-id>\"", &v).unwrap(),
            "sw_agent_id='$(touch /tmp/pwned)'\necho \"id=${sw_agent_id}\""
        );
        assert_eq!(
            bind("cat <<EOF\nid=<agent-id>\nEOF", &v).unwrap(),
            "sw_agent_id='$(touch /tmp/pwned)'\ncat <<EOF\nid=${sw_agent_id}\nEOF"
        );
    }

    #[test]
    fn a_substitution_nested_in_double_quotes_gets_a_reference_not_a_quote() {
        let v = vars(&[("service", "x\"$(id)\"`id`")]);
        let out = bind("echo \"pods: $(kubectl get pods -l app=<service>)\"", &v).unwrap();
        assert!(out.ends_with("echo \"pods: $(kubectl get pods -l app=\"${sw_service}\")\""), "{out}");
    }

    #[test]
    fn literal_contexts_take_inert_values_only() {
        let ok = vars(&[("name", "web-1.prod:8080")]);
        assert_eq!(bind("echo 'id=<name>'", &ok).unwrap(), "sw_name='web-1.prod:8080'\necho 'id=web-1.prod:8080'");
        let bad = vars(&[("name", "x' ; id ; '")]);
        let err = bind("echo 'id=<name>'", &bad).unwrap_err();
        assert!(matches!(err, BindError::Unsafe { .. }), "{err}");
        assert!(err.to_string().contains("<name>"), "{err}");
    }

    #[test]
    fn text_a_second_shell_reads_takes_inert_values_only() {
        let bad = vars(&[("svc", "x; id"), ("host", "db1")]);
        for cmd in [
            "ssh <host> \"systemctl restart <svc>\"",
            "ssh <host> systemctl restart <svc>",
            "bash -c \"systemctl restart <svc>\"",
            "sudo sh -c \"echo <svc>\"",
            "eval \"echo <svc>\"",
            "watch \"kubectl get pod <svc>\"",
            "kubectl exec -it web -- sh -c \"ls <svc>\"",
            "ssh <host> bash <<EOF\nsystemctl restart <svc>\nEOF",
        ] {
            let err = bind(cmd, &bad).unwrap_err();
            assert!(err.to_string().contains("second shell"), "{cmd}: {err}");
        }
        let ok = vars(&[("svc", "api"), ("host", "db1")]);
        assert!(bind("ssh <host> \"systemctl restart <svc>\"", &ok).is_ok());
        // The same value is fine where only this shell reads it.
        assert!(bind("systemctl status <svc>", &bad).is_ok());
    }

    #[test]
    fn arithmetic_takes_integers_only() {
        assert!(bind("echo $(( <n> + 1 ))", &vars(&[("n", "-42")])).is_ok());
        assert!(bind("echo $(( <n> + 1 ))", &vars(&[("n", "a[$(id)]")])).is_err());
        assert!(bind("echo $(( <n> + 1 ))", &vars(&[("n", "PATH=0")])).is_err());
        // Arithmetic the scanner does not see is covered by the subscript rule.
        assert!(bind("[[ <n> -eq 1 ]] && echo one", &vars(&[("n", "a[$(id)]")])).is_err());
    }

    #[test]
    fn a_value_that_would_be_an_option_is_refused_at_a_word_start_only() {
        let v = vars(&[("host", "-oProxyCommand=id")]);
        assert!(bind("ssh <host> uptime", &v).is_err());
        assert!(bind("curl \"<host>\"", &v).is_err());
        assert!(bind("echo --host=<host>", &v).is_ok());
    }

    #[test]
    fn control_characters_are_shown_escaped_in_the_script() {
        let v = vars(&[("t", "a\u{1b}[2Jb\nc\u{202e}'")]);
        let out = bind("echo <t>", &v).unwrap();
        assert!(out.starts_with("sw_t=$'a\\x1b[2Jb\\x0ac\\xe2\\x80\\xae\\''\n"), "{out}");
        assert!(!out.chars().any(|c| c == '\u{1b}' || c == '\u{202e}'));
    }

    #[test]
    fn single_quotes_inside_values_are_escaped() {
        let v = vars(&[("name", "it's")]);
        assert_eq!(bind("echo [name]", &v).unwrap(), "sw_name='it'\\''s'\necho \"${sw_name}\"");
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
    fn one_variable_per_name_and_distinct_names_stay_distinct() {
        let v = vars(&[("a-b", "1"), ("a_b", "2")]);
        assert_eq!(
            bind("echo <a-b> <a_b> <a-b>", &v).unwrap(),
            "sw_a_b='1'\nsw_a_b_2='2'\necho \"${sw_a_b}\" \"${sw_a_b_2}\" \"${sw_a_b}\""
        );
    }

    #[test]
    fn date_templates_bind_by_name() {
        let v = vars(&[("YYYYMMDD_HHMMSS", "20250101_120000")]);
        assert_eq!(
            bind("restore.py b_YYYYMMDD_HHMMSS.tgz", &v).unwrap(),
            "sw_YYYYMMDD_HHMMSS='20250101_120000'\nrestore.py b_\"${sw_YYYYMMDD_HHMMSS}\".tgz"
        );
    }
}
