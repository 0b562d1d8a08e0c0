//! `bind` proved against a real bash: hostile values in every quoting context the shell has,
//! the bound script run by `bash` with a DEBUG trap inherited by every subshell and command
//! substitution (`set -T`), and two checks: every command that ran is one the template
//! wrote (`echo`, `cat`, a test, the value assignments), and the file every payload tries to
//! create does not exist. A refusal to bind is an acceptable answer; running anything else is
//! not. Where a value lands as one word, it must also come out unchanged.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use proptest::prelude::*;
use sevwatch_runbook::{bind, BindError};

/// Templates, one per context; `V` is the placeholder. The second field says whether
/// `echo`'s output must be exactly the value (the placeholder is the whole of one argument).
const TEMPLATES: &[(&str, bool)] = &[
    ("echo <v>", true),
    ("echo \"<v>\"", true),
    ("echo \"a <v> b\"", false),
    ("echo 'a <v> b'", false),
    ("echo \"$(echo <v>)\"", false),
    ("echo \"pods: $(echo app=<v>)\"", false),
    ("echo \"x $(echo \"y $(echo \"$(echo <v>)\")\")\"", false),
    ("echo $(echo $(echo <v>))", false),
    ("echo `echo <v>`", false),
    ("echo \"`echo <v>`\"", false),
    ("echo \"$(echo `echo <v>`)\"", false),
    ("cat <<EOF\nvalue: <v>\nEOF", false),
    ("cat <<EOF\n$(echo <v>) `echo <v>`\nEOF", false),
    ("cat <<'EOF'\nvalue: <v>\nEOF", false),
    ("cat <<-\"EOF\"\n\tvalue: <v>\n\tEOF", false),
    ("echo $'a <v> b\\n'", false),
    ("echo $(( <v> + 1 ))", false),
    ("(( <v> > 0 )) && echo positive", false),
    ("echo $[ <v> * 2 ]", false),
    ("[[ <v> -eq 1 ]] && echo one", false),
    ("[[ <v> == x* ]] && echo match", false),
    ("echo $SERVICE", false),
    ("echo \"${SERVICE}\"", true),
    ("echo ${SERVICE:-none}", false),
    ("echo \"$(echo \"${SERVICE}\")\"", false),
    ("bash -c \"echo <v>\"", false),
    ("bash -c 'echo <v>'", false),
    ("eval \"echo <v>\"", false),
    ("sh -c \"echo $(echo <v>)\"", false),
    ("bash <<EOF\necho <v>\nEOF", false),
    ("echo <v> # it's <v>", false),
    ("echo a=<v>,b='<v>'", false),
];

/// Payloads that each try to create `pwned` in the working directory.
const PAYLOADS: &[&str] = &[
    "$(touch pwned)",
    "`touch pwned`",
    "\"; touch pwned; \"",
    "'; touch pwned; '",
    "'$(touch pwned)'",
    "\"$(touch pwned)\"",
    "\\\"$(touch pwned)\\\"",
    "\"'\"'$(touch pwned)'\"'\"",
    "x\")\"; touch pwned; echo \"$(\"",
    "a[$(touch pwned)]",
    "a[`touch pwned`]",
    "$((a[$(touch pwned)]))",
    "x\nEOF\ntouch pwned\ncat <<EOF",
    "x\n\tEOF\ntouch pwned",
    "EOF",
    ">pwned",
    "; >pwned",
    "$(>pwned)",
    "&& touch pwned",
    "| touch pwned",
    "\\'; touch pwned; echo \\'",
    "$'\\x27'; touch pwned",
    "${PATH:0:0}$(touch pwned)",
    "$(touch pwned",
    ")) ; touch pwned ; ((",
    "] ; touch pwned ; [",
    "-c touch pwned",
    "--rcfile=pwned",
    "1; touch pwned",
    "1)) ; touch pwned ; echo $((1",
    "x$IFS$(touch${IFS}pwned)",
    "\u{1b}[2J$(touch pwned)",
    "\u{202e}$(touch pwned)",
    "*",
    "",
    " ",
    "web-1",
    "42",
];

/// Fragments mixed at random into more payloads.
const FRAGMENTS: &[&str] = &[
    "$(",
    ")",
    "`",
    "\"",
    "'",
    "\\",
    ";",
    "touch pwned",
    " ",
    "\n",
    "EOF",
    "$'",
    "((",
    "))",
    "[",
    "]",
    "{",
    "}",
    ">pwned",
    "|",
    "&",
    "#",
    "$",
    "a",
    "-",
    "\t",
    "$((",
    "${",
    "!",
    "*",
];

fn bash() -> Option<&'static str> {
    ["/bin/bash", "/usr/bin/bash"].into_iter().find(|p| Path::new(p).exists())
}

fn scratch() -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "sevwatch-bind-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    dir
}

/// The first word of each command the DEBUG trap saw.
fn commands_run(trace: &[u8]) -> Vec<String> {
    trace
        .split(|b| *b == 0)
        .filter(|r| !r.is_empty())
        .map(|r| String::from_utf8_lossy(r).split_whitespace().next().unwrap_or("").to_string())
        .collect()
}

fn allowed(first_word: &str) -> bool {
    matches!(first_word, "echo" | "cat" | "[[" | "((" | "bash" | "sh" | "eval") || first_word.starts_with("sw_")
}

/// Binds `value` into `template` and, when that succeeds, runs the script. Returns a failure
/// description, or `None` when all is well.
fn check(shell: &str, template: &str, whole_word: bool, value: &str) -> Option<String> {
    let vars = BTreeMap::from([("v".to_string(), value.to_string()), ("SERVICE".to_string(), value.to_string())]);
    let script = match bind(template, &vars) {
        Ok(s) => s,
        Err(BindError::Unsafe { .. }) => return None,
        Err(e) => return Some(format!("unexpected error {e}")),
    };
    let dir = scratch();
    let file = dir.join("step.sh");
    let traced = format!("set -T\ntrap 'printf \"%s\\0\" \"$BASH_COMMAND\" >> \"$SW_TRACE\"' DEBUG\n{script}\n");
    std::fs::write(&file, traced).expect("write the script");
    let out = Command::new(shell)
        .arg("--norc")
        .arg("--noprofile")
        .arg(&file)
        .current_dir(&dir)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("SW_TRACE", dir.join("trace"))
        .output()
        .expect("bash runs");
    let trace = std::fs::read(dir.join("trace")).unwrap_or_default();
    let pwned = dir.join("pwned").exists();
    let _ = std::fs::remove_dir_all(&dir);
    let ran: Vec<String> = commands_run(&trace).into_iter().filter(|w| !allowed(w)).collect();
    if pwned || !ran.is_empty() {
        return Some(format!(
            "template {template:?} with value {value:?} ran {ran:?} (pwned: {pwned})\nscript:\n{script}\nstderr: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    if whole_word && out.stdout != format!("{value}\n").as_bytes() {
        return Some(format!(
            "template {template:?} with value {value:?} printed {:?}\nscript:\n{script}",
            String::from_utf8_lossy(&out.stdout)
        ));
    }
    None
}

fn shell_or_skip() -> Option<&'static str> {
    let found = bash();
    if found.is_none() {
        if std::env::var("SEVWATCH_REQUIRE_ALL").as_deref() == Ok("1") {
            panic!("bash is required (SEVWATCH_REQUIRE_ALL=1) but not found");
        }
        println!("skipping: bash not found");
    }
    found
}

#[test]
fn every_payload_in_every_context_runs_nothing_but_the_template() {
    let Some(shell) = shell_or_skip() else { return };
    let mut failures = Vec::new();
    for (template, whole) in TEMPLATES {
        for value in PAYLOADS {
            failures.extend(check(shell, template, *whole, value));
        }
    }
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n---\n"));
}

#[test]
fn a_harmless_value_binds_in_every_context_where_one_can() {
    // Refusing everything would pass the test above; plain values must go through.
    for (template, _) in TEMPLATES {
        let vars = BTreeMap::from([("v".to_string(), "7".to_string()), ("SERVICE".to_string(), "web-1".to_string())]);
        assert!(bind(template, &vars).is_ok(), "{template:?} refused a plain value: {:?}", bind(template, &vars));
    }
}

#[test]
fn the_self_check_catches_an_injection() {
    // The harness must be able to fail: a naive splice of the payload is caught.
    let Some(shell) = shell_or_skip() else { return };
    let dir = scratch();
    let out = Command::new(shell)
        .arg("-c")
        .arg("set -T; trap 'printf \"%s\\0\" \"$BASH_COMMAND\" >> trace' DEBUG; echo \"$(echo x; touch pwned)\"")
        .current_dir(&dir)
        .output()
        .expect("bash runs");
    assert!(out.status.success());
    let ran = commands_run(&std::fs::read(dir.join("trace")).unwrap_or_default());
    assert!(dir.join("pwned").exists());
    assert!(ran.iter().any(|w| w == "touch"), "{ran:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

fn hostile() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::sample::select(PAYLOADS).prop_map(str::to_string),
        proptest::collection::vec(proptest::sample::select(FRAGMENTS), 1..12).prop_map(|f| f.concat()),
        "[ -~\n\t]{0,24}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 384, ..ProptestConfig::default() })]

    #[test]
    fn hostile_values_run_nothing_but_the_template(
        t in 0..TEMPLATES.len(),
        value in hostile(),
    ) {
        let Some(shell) = bash() else { return Ok(()) };
        let (template, whole) = TEMPLATES[t];
        if let Some(failure) = check(shell, template, whole, &value) {
            prop_assert!(false, "{}", failure);
        }
    }
}
