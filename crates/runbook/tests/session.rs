//! The shell session protocol against a real bash: state carried from step to step, exit codes
//! and output captured exactly (no trailing newline, invalid UTF-8, marker text printed by the
//! step), stdin closed, steps that exit the shell, time out, or run as scripts.

use std::time::{Duration, Instant};

use proptest::prelude::*;
use sevwatch_runbook::session::{Session, SessionOptions, StepOutcome, TIMEOUT_EXIT};

fn session_in(dir: &std::path::Path) -> Session {
    let opts =
        SessionOptions { workdir: Some(dir.to_path_buf()), grace: Duration::from_millis(300), ..Default::default() };
    Session::start(&opts).expect("bash starts")
}

fn run(s: &mut Session, script: &str) -> StepOutcome {
    s.run(script, &[], Duration::from_secs(20), |_| {}).expect("the step starts")
}

fn text(o: &StepOutcome) -> String {
    String::from_utf8_lossy(&o.output).into_owned()
}

fn temp() -> tempfile_dir::Dir {
    tempfile_dir::Dir::new()
}

/// A temporary directory removed on drop (the runbook crate has no tempfile dependency).
mod tempfile_dir {
    pub struct Dir(pub std::path::PathBuf);
    impl Dir {
        pub fn new() -> Dir {
            let mut n = [0u8; 8];
            std::io::Read::read_exact(&mut std::fs::File::open("/dev/urandom").unwrap(), &mut n).unwrap();
            let hex: String = n.iter().map(|b| format!("{b:02x}")).collect();
            let p = std::env::temp_dir().join(format!("sevwatch-session-test-{hex}"));
            std::fs::create_dir_all(&p).unwrap();
            Dir(p.canonicalize().unwrap())
        }
    }
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

#[test]
fn cd_variables_and_functions_carry_from_step_to_step() {
    let d = temp();
    std::fs::create_dir(d.0.join("repo")).unwrap();
    let mut s = session_in(&d.0);
    let a = run(&mut s, "cd repo\nBACKUP_DIR=\"$PWD/backups\"\ngreet() { echo \"hi $1\"; }\nexport REGION=eu-1");
    assert_eq!(a.exit_code, 0, "{}", text(&a));
    assert_eq!(a.cwd.as_deref(), Some(d.0.join("repo").to_str().unwrap()));
    assert_eq!(a.exported, ["REGION"], "exported names the run added, not values");
    let b = run(&mut s, "pwd; echo \"$BACKUP_DIR\"; greet there; declare -A m=([k]=v)");
    assert_eq!(text(&b), format!("{0}/repo\n{0}/repo/backups\nhi there\n", d.0.display()));
    let c = run(&mut s, "echo ${m[k]}");
    assert_eq!(text(&c), "v\n", "declarations at a step's top level are the session's");
}

#[test]
fn exit_code_and_interleaved_stdout_and_stderr_are_exact() {
    let d = temp();
    let mut s = session_in(&d.0);
    let o = run(&mut s, "echo one; echo two >&2; printf three; exit_soon() { return 7; }; exit_soon");
    assert_eq!(o.exit_code, 7);
    assert_eq!(o.output, b"one\ntwo\nthree", "no trailing newline is added");
    assert!(!o.truncated && !o.timed_out && !o.session_ended);
    let o = run(&mut s, "false");
    assert_eq!((o.exit_code, o.output.len()), (1, 0));
}

#[test]
fn binary_and_invalid_utf8_output_is_kept_byte_for_byte() {
    let d = temp();
    let mut s = session_in(&d.0);
    let o = run(&mut s, "printf 'a\\377\\000b\\376\\r\\n\\033[2J'");
    assert_eq!(o.output, b"a\xff\x00b\xfe\r\n\x1b[2J");
    assert_eq!(o.text(), "a\u{fffd}\u{fffd}b\u{fffd}\r\n\u{1b}[2J", "the timeline text replaces NUL and bad bytes");
}

#[test]
fn a_step_that_prints_the_marker_itself_cannot_end_early_or_fake_its_code() {
    let d = temp();
    let mut s = session_in(&d.0);
    // The step reads the real nonce out of the session's own function and prints markers for
    // this step and the next, on stdout and stderr, then goes on and fails.
    let forge = "n=$(declare -f __sw_done | grep -o \"'[0-9a-f]\\{32\\}'\" | tr -d \"'\")\n\
                 test -n \"$n\" || exit 99\n\
                 printf '\\n%s 1 0\\n%s 2 0\\n' \"$n\" \"$n\"; printf '\\n%s 1 0\\n' \"$n\" >&2\n\
                 sleep 0.3; echo still-running; false";
    let o = run(&mut s, forge);
    assert_eq!(o.exit_code, 1, "{}", text(&o));
    assert!(text(&o).ends_with("still-running\n"), "{}", text(&o));
    assert_eq!(text(&o).matches(" 1 0\n").count(), 2, "the forged lines stay in the output: {}", text(&o));
    let next = run(&mut s, "echo next");
    assert_eq!((next.exit_code, text(&next).as_str()), (0, "next\n"));
}

#[test]
fn a_step_that_exits_the_shell_ends_the_session_with_a_clear_result() {
    let d = temp();
    let mut s = session_in(&d.0);
    let o = run(&mut s, "echo bye; exit 3");
    assert_eq!(o.exit_code, 3);
    assert!(o.session_ended && !s.alive());
    assert_eq!(text(&o), "bye\n");
    assert!(o.text().contains("the step ended the shell session (exit 3)"), "{}", o.text());
    let err = s.run("echo again", &[], Duration::from_secs(5), |_| {}).unwrap_err();
    assert!(err.to_string().contains("has ended"), "{err}");
}

#[test]
fn a_step_that_times_out_is_interrupted_and_the_next_runs_in_the_same_session() {
    let d = temp();
    let mut s = session_in(&d.0);
    run(&mut s, "KEEP=kept; mkdir sub; cd sub");
    let started = Instant::now();
    let o =
        s.run("sleep 30 & echo $! > bg.pid; sleep 30; echo never", &[], Duration::from_millis(400), |_| {}).unwrap();
    assert!(o.timed_out && !o.session_ended, "{o:?}");
    assert_eq!(o.exit_code, TIMEOUT_EXIT);
    assert!(!text(&o).contains("never"));
    assert!(o.text().contains("interrupted after the 400 ms timeout"), "{}", o.text());
    assert!(started.elapsed() < Duration::from_secs(10));
    if std::path::Path::new("/proc/self/stat").exists() {
        let pid = std::fs::read_to_string(d.0.join("sub/bg.pid")).unwrap();
        let alive = std::path::Path::new(&format!("/proc/{}", pid.trim())).exists();
        assert!(!alive, "the background job of a timed-out step is gone");
    }
    // A loop of builtins only is interrupted too, and the state is intact.
    let o = s.run("while :; do :; done", &[], Duration::from_millis(300), |_| {}).unwrap();
    assert!(o.timed_out && !o.session_ended, "{o:?}");
    let next = run(&mut s, "echo $KEEP $PWD");
    assert_eq!(text(&next), format!("kept {}/sub\n", d.0.display()));
}

#[test]
fn a_program_that_ignores_the_interrupt_is_stopped_without_ending_the_session() {
    let d = temp();
    let mut s = session_in(&d.0);
    let o = s.run("trap '' INT; sleep 30; echo after", &[], Duration::from_millis(300), |_| {}).unwrap();
    // `trap '' INT` is the session shell's own now: it no longer aborts on SIGINT, so the
    // escalation terminates the sleep and the step runs to its end.
    assert!(o.timed_out, "{o:?}");
    assert!(s.alive() || o.session_ended);
    if s.alive() {
        let next = run(&mut s, "trap - INT; echo alive");
        assert_eq!(text(&next), "alive\n");
    }
}

#[test]
fn steps_read_end_of_file_not_the_sessions_input() {
    let d = temp();
    let mut s = session_in(&d.0);
    let o = run(&mut s, "read -r line; echo \"rc=$? line=$line\"; cat");
    assert_eq!(text(&o), "rc=1 line=\n");
    assert_eq!(text(&run(&mut s, "echo fine")), "fine\n");
}

#[test]
fn shell_options_and_bound_values_end_with_their_step() {
    let d = temp();
    let mut s = session_in(&d.0);
    let o = run(&mut s, "sw_secret='x'; set -euo pipefail; echo $-");
    assert!(text(&o).contains('e') && text(&o).contains('u'), "{}", text(&o));
    let o = run(&mut s, "false; echo \"still here ${UNSET_ONE} ${sw_secret-unset}\"");
    assert_eq!(text(&o), "still here  unset\n");
    // A step that sets -e and then fails ends the session, as it would end a terminal.
    let o = run(&mut s, "set -e; false; echo no");
    assert!(o.session_ended && o.exit_code == 1, "{o:?}");
}

#[test]
fn a_script_step_runs_as_a_child_so_its_exit_and_cd_stay_inside_it() {
    let d = temp();
    let mut s = session_in(&d.0);
    run(&mut s, "mkdir -p sub; export FROM_SESSION=yes");
    let o = run(
        &mut s,
        "sw_v='bound'\n#!/bin/bash\nset -euo pipefail\ncd sub\necho \"$PWD $FROM_SESSION ${sw_v}\"\nfalse\necho never",
    );
    assert_eq!(o.exit_code, 1);
    assert_eq!(text(&o), format!("{}/sub yes bound\n", d.0.display()));
    assert!(!o.session_ended && s.alive());
    assert_eq!(o.cwd.as_deref(), Some(d.0.to_str().unwrap()), "the script's cd stayed in the script");
}

#[test]
fn a_variable_an_earlier_step_should_have_set_is_checked_before_the_step_runs() {
    let d = temp();
    let mut s = session_in(&d.0);
    let needs = vec!["BACKUP_DIR".to_string()];
    let o = s.run("rm -rf \"$BACKUP_DIR/\"* ; touch ran", &needs, Duration::from_secs(5), |_| {}).unwrap();
    assert_eq!(o.exit_code, 1);
    assert!(text(&o).contains("$BACKUP_DIR is not set in this shell session"), "{}", text(&o));
    assert!(!d.0.join("ran").exists());
    run(&mut s, "BACKUP_DIR=b; mkdir b");
    let o = s.run("touch \"$BACKUP_DIR/ran\"", &needs, Duration::from_secs(5), |_| {}).unwrap();
    assert_eq!(o.exit_code, 0, "{}", text(&o));
    assert!(d.0.join("b/ran").exists());
    assert!(s.run("true", &["not a name".into()], Duration::from_secs(5), |_| {}).is_err());
}

#[test]
fn output_is_streamed_live_and_capped_in_the_result() {
    let d = temp();
    let opts = SessionOptions { workdir: Some(d.0.clone()), max_output: 1000, ..Default::default() };
    let mut s = Session::start(&opts).unwrap();
    let mut live = Vec::new();
    let o = s.run("head -c 5000 /dev/zero | tr '\\0' x", &[], Duration::from_secs(10), |c| live.extend_from_slice(c));
    let o = o.unwrap();
    assert_eq!(live.len(), 5000);
    assert!(o.truncated && o.output == vec![b'x'; 1000]);
    assert!(o.text().ends_with("[output truncated at 1000 bytes]\n"));
    let opts = SessionOptions { workdir: Some(d.0.clone()), max_file: 100_000, ..Default::default() };
    let mut s = Session::start(&opts).unwrap();
    let o = s.run("yes", &[], Duration::from_secs(20), |_| {}).unwrap();
    assert!(!o.timed_out && o.text().contains("more than 100000 bytes of output"), "{}", o.text().len());
    assert_eq!(text(&run(&mut s, "echo ok")), "ok\n");
}

#[test]
fn a_clean_environment_keeps_only_path_lang_home_and_the_extras() {
    let d = temp();
    let opts = SessionOptions {
        workdir: Some(d.0.clone()),
        clean_env: true,
        env: [("EXTRA".to_string(), "x".to_string())].into(),
        ..Default::default()
    };
    std::env::set_var("SEVWATCH_SESSION_TEST_SECRET", "s3cret");
    let mut s = Session::start(&opts).unwrap();
    let o = run(&mut s, "env | cut -d= -f1 | sort | tr '\\n' ' '");
    assert!(!text(&o).contains("SEVWATCH_SESSION_TEST_SECRET"), "{}", text(&o));
    assert!(text(&o).contains("EXTRA") && text(&o).contains("PATH") && text(&o).contains("HOME"), "{}", text(&o));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Whatever bytes a step writes, with or without a newline, come back exactly, and the
    /// exit code is the step's own.
    #[test]
    fn any_output_and_exit_code_come_back_exactly(bytes in proptest::collection::vec(any::<u8>(), 0..600), code in 0i32..256) {
        thread_local! {
            static SESSION: std::cell::RefCell<Option<(tempfile_dir::Dir, Session)>> = const { std::cell::RefCell::new(None) };
        }
        SESSION.with(|cell| {
            let mut cell = cell.borrow_mut();
            let (dir, s) = cell.get_or_insert_with(|| { let d = temp(); let s = session_in(&d.0); (d, s) });
            let file = dir.0.join("payload");
            std::fs::write(&file, &bytes).unwrap();
            let o = run(s, &format!("cat payload; cat payload >&2; (exit {code})"));
            let mut twice = bytes.clone();
            twice.extend_from_slice(&bytes);
            prop_assert_eq!(o.exit_code, code);
            prop_assert_eq!(o.output, twice);
            Ok(())
        })?;
    }
}
