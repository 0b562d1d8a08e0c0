//! `bind` inside a run's shell session: hostile values bound into steps that share one session
//! run nothing, come out unchanged where they are one word, never outlive their step (the
//! `sw_*` variables are unset after it), and a variable an earlier step assigned is the
//! session's, not a value from the run's variables.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use proptest::prelude::*;
use sevwatch_runbook::session::{Session, SessionOptions};
use sevwatch_runbook::{bind_in_run, defined_by, session_needs, BindError};

const PAYLOADS: &[&str] = &[
    "$(touch pwned)",
    "`touch pwned`",
    "\"; touch pwned; \"",
    "'; touch pwned; '",
    "x\nEOF\ntouch pwned\ncat <<EOF",
    "a[$(touch pwned)]",
    "$'\\x27'; touch pwned",
    "\u{1b}[2J$(touch pwned)",
    "web-1",
    "",
];

const FRAGMENTS: &[&str] =
    &["$(", ")", "`", "\"", "'", "\\", ";", "touch pwned", " ", "\n", "EOF", "$'", "${", "#", "-"];

struct Fixture {
    dir: std::path::PathBuf,
    session: Session,
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn fixture() -> Fixture {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("sevwatch-session-bind-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let opts = SessionOptions { workdir: Some(dir.clone()), clean_env: true, ..Default::default() };
    Fixture { session: Session::start(&opts).expect("bash starts"), dir }
}

fn step(f: &mut Fixture, script: &str) -> String {
    let o = f.session.run(script, &[], Duration::from_secs(10), |_| {}).expect("the step starts");
    String::from_utf8_lossy(&o.output).into_owned()
}

fn payload() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::sample::select(PAYLOADS).prop_map(str::to_string),
        proptest::collection::vec(proptest::sample::select(FRAGMENTS), 1..8).prop_map(|v| v.concat()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn hostile_values_bound_into_session_steps_run_nothing_and_do_not_outlive_their_step(value in payload()) {
        thread_local! {
            static F: std::cell::RefCell<Option<Fixture>> = const { std::cell::RefCell::new(None) };
        }
        F.with(|cell| {
            let mut cell = cell.borrow_mut();
            let f = cell.get_or_insert_with(fixture);
            let vars = BTreeMap::from([("v".to_string(), value.clone())]);
            for (template, whole) in [("echo <v>", true), ("echo \"a <v> b\"", false), ("cat <<EOF\n<v>\nEOF", false)] {
                let script = match bind_in_run(template, &vars, &BTreeSet::new()) {
                    Ok(s) => s,
                    Err(BindError::Unsafe { .. }) => continue,
                    Err(e) => return Err(TestCaseError::fail(format!("{template}: {e}"))),
                };
                let out = step(f, &script);
                prop_assert!(!f.dir.join("pwned").exists(), "{template} with {value:?} ran code:\n{script}");
                if whole && !value.starts_with('-') {
                    prop_assert_eq!(out, format!("{value}\n"));
                }
                let leaked = step(f, "compgen -v sw_ || true");
                prop_assert_eq!(leaked, "", "bound values outlived their step");
            }
            Ok(())
        })?;
    }
}

#[test]
fn a_variable_an_earlier_step_assigned_is_the_sessions_not_a_bound_value() {
    let mut f = fixture();
    let steps = ["BACKUP_DIR=\"$PWD/backups\"; mkdir -p \"$BACKUP_DIR\"", "touch \"$BACKUP_DIR/<name>.tgz\""];
    // A value that happens to share the name (an alert label, say) does not replace it.
    let vars = BTreeMap::from([("BACKUP_DIR".to_string(), "/".to_string()), ("name".to_string(), "b1".to_string())]);
    let first = bind_in_run(steps[0], &vars, &BTreeSet::new()).unwrap();
    assert_eq!(first, steps[0], "assigned in the step itself: nothing to bind");
    step(&mut f, &first);
    let earlier = defined_by(steps[..1].iter().copied());
    let second = bind_in_run(steps[1], &vars, &earlier).unwrap();
    assert_eq!(second, "sw_name='b1'\ntouch \"$BACKUP_DIR/${sw_name}.tgz\"");
    let needs = session_needs(steps[1], &earlier);
    assert_eq!(needs, ["BACKUP_DIR"]);
    let o = f.session.run(&second, &needs, Duration::from_secs(10), |_| {}).unwrap();
    assert_eq!(o.exit_code, 0, "{}", o.text());
    assert!(f.dir.join("backups/b1.tgz").exists());
    // Without the earlier step's value bound, a run that lost it refuses at the guard.
    let err = bind_in_run(steps[1], &BTreeMap::new(), &BTreeSet::new()).unwrap_err();
    assert_eq!(err.to_string(), "unbound variable $BACKUP_DIR");
}
