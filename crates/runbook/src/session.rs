//! One shell session per run: the steps of a runbook run execute in one long-lived `bash`, as a
//! person at a terminal would type them, so a `cd`, a variable or a function of one step is still
//! there in the next. This is the only part of the crate that runs processes; the CLI (steps on
//! the responder's machine) and the server (`execute_on_server`) both run steps through it.
//!
//! ## The protocol
//! The session is `bash --noprofile --norc --noediting -i` with its stdin, stdout and stderr on
//! pipes, in a process group of its own, started in the run's working directory. Interactive
//! mode is what makes an interrupt behave as Ctrl-C does at a terminal: SIGINT aborts the line
//! being run, builtin loops included, and the shell goes on reading the next line, with its
//! state intact (a non-interactive bash either dies or carries on with the step's next
//! command). With no terminal, job control is off, so every process a step starts is in the
//! session's group.
//!
//! For step `n` the session writes the bound script to `n.sh` in a private directory (0700) and
//! sends two lines: `. n.sh </dev/null >>n.out 2>&1` and `__sw_done $? n`. So:
//! - **output is exact by construction**: stdout and stderr go to one file, in the order written,
//!   bytes as they are (no trailing newline added, invalid UTF-8 kept); the file is tailed while
//!   the step runs for live display. Nothing is ever cut out of the output by looking for a
//!   marker in it, so a step that prints marker text (even the real nonce) changes nothing;
//! - **the exit code comes from `$?`**, read by `__sw_done` first thing, which then writes the
//!   working directory and exported names to `n.status` and prints `<nonce> <n> <code>` on the
//!   session's stdout, a channel the step's output never reaches. The nonce is 128 random bits
//!   per session, and the step number must match too;
//! - **stdin is `/dev/null`**: a step that reads input gets end of file, never the next control
//!   line;
//! - a step whose text starts with `#!` is a script: it runs as `bash n.sh`, a child of the
//!   session with its directory and environment, so its `set -e` and `exit` end the script only.
//!
//! ## Ends and interrupts
//! - A step that exits the shell (`exit 3`, or a failure under its own `set -e`) ends the session:
//!   the result is its exit code with `session_ended`, and [`Session::alive`] is false; the next
//!   step needs a new session (and the note says that `cd` and variables are gone).
//! - At the per-step timeout the session's group gets SIGINT (the foreground command dies, the
//!   shell aborts the line, `$?` is 130 and the marker follows); if no marker comes within the
//!   grace period, SIGINT again and SIGTERM to the processes the step started, then SIGKILL to
//!   them, and only then is the whole session killed. A timed-out step leaves no process behind:
//!   whatever it started is terminated once it has stopped (Linux; see `procs.rs`).
//! - A step whose output passes `max_file` bytes is interrupted the same way, so a runaway step
//!   cannot fill the disk with its output file.
//! - Shell options a step sets (`set -euo pipefail`, `set -x`) are switched off after it.
//! - Values bound into a step (`sw_*`, see `bind`) are unset after it, so they never carry over.
//! - Dropping the session closes it as closing a terminal does: SIGHUP to its group, end of input.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

mod outcome;
mod procs;
mod shell;

pub use outcome::StepOutcome;
use outcome::{human, Capture};
use procs::Signal;
pub use shell::is_name;

/// Exit code reported for a step interrupted at its timeout (the convention of timeout(1)).
pub const TIMEOUT_EXIT: i32 = 124;

/// Exported variables bash itself keeps up to date (`cd` exports `OLDPWD`): not the run's.
const SHELL_KEPT: &[&str] = &["PWD", "OLDPWD", "SHLVL", "_"];

/// How often the output file and the shell are looked at while a step runs.
const POLL: Duration = Duration::from_millis(20);

#[derive(Clone, Debug)]
pub struct SessionOptions {
    /// Where the session starts (default: this process's directory).
    pub workdir: Option<PathBuf>,
    /// Extra environment for the session.
    pub env: BTreeMap<String, String>,
    /// Start from an empty environment (plus `PATH`, `LANG` and `HOME` set to the working
    /// directory) instead of inheriting this process's: the server's own environment holds
    /// secrets (database URL, chain key) that a step must not see.
    pub clean_env: bool,
    /// Most bytes of a step's output kept in its result.
    pub max_output: usize,
    /// Most bytes a step may write before it is interrupted.
    pub max_file: u64,
    /// Time between the stages of an interrupt (SIGINT, SIGTERM, SIGKILL, end of session).
    pub grace: Duration,
}

impl Default for SessionOptions {
    fn default() -> Self {
        SessionOptions {
            workdir: None,
            env: BTreeMap::new(),
            clean_env: false,
            max_output: 1024 * 1024,
            max_file: 256 * 1024 * 1024,
            grace: Duration::from_secs(2),
        }
    }
}

/// A long-lived shell that runs a run's steps one after another.
pub struct Session {
    child: Child,
    stdin: Option<ChildStdin>,
    control: Receiver<String>,
    stderr_tail: Arc<Mutex<Vec<u8>>>,
    dir: PathBuf,
    qdir: String,
    nonce: String,
    seq: u64,
    pgid: i32,
    initial_exported: BTreeSet<String>,
    opts: SessionOptions,
    ended: Option<i32>,
}

fn other(msg: String) -> io::Error {
    io::Error::other(msg)
}

fn random_hex(bytes: usize) -> io::Result<String> {
    let mut buf = vec![0u8; bytes];
    File::open("/dev/urandom")?.read_exact(&mut buf)?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

fn private_dir() -> io::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("sevwatch-session-{}", random_hex(8)?));
    let mut b = std::fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    b.create(&dir)?;
    Ok(dir)
}

fn bash() -> &'static str {
    if Path::new("/bin/bash").exists() {
        "/bin/bash"
    } else {
        "bash"
    }
}

fn exit_code(status: std::process::ExitStatus) -> i32 {
    #[cfg(unix)]
    if let Some(sig) = std::os::unix::process::ExitStatusExt::signal(&status) {
        return 128 + sig;
    }
    status.code().unwrap_or(1)
}

impl Session {
    /// Starts a session and waits until its shell answers.
    pub fn start(opts: &SessionOptions) -> io::Result<Session> {
        let dir = private_dir()?;
        let qdir = match shell::quoted_path(&dir) {
            Ok(q) => q,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&dir);
                return Err(e);
            }
        };
        let mut cmd = Command::new(bash());
        cmd.args(["--noprofile", "--norc", "--noediting", "-i"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(w) = &opts.workdir {
            cmd.current_dir(w);
        }
        if opts.clean_env {
            cmd.env_clear().env("PATH", "/usr/local/bin:/usr/bin:/bin").env("LANG", "C.UTF-8");
            if let Some(w) = &opts.workdir {
                cmd.env("HOME", w);
            }
        }
        cmd.envs(&opts.env);
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let mut child = match cmd.spawn() {
            Ok(c) => c,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&dir);
                return Err(other(format!("cannot start bash for the run's shell session: {e}")));
            }
        };
        let pgid = child.id() as i32;
        let stdin = child.stdin.take();
        let (tx, control) = mpsc::channel();
        let stdout = child.stdout.take().expect("stdout is piped");
        std::thread::spawn(move || {
            let mut r = BufReader::new(stdout);
            let mut line = Vec::new();
            while matches!(r.read_until(b'\n', &mut line), Ok(n) if n > 0) {
                if tx.send(String::from_utf8_lossy(&line).into_owned()).is_err() {
                    break;
                }
                line.clear();
            }
        });
        let stderr_tail = Arc::new(Mutex::new(Vec::new()));
        let tail = stderr_tail.clone();
        let mut stderr = child.stderr.take().expect("stderr is piped");
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n @ 1..) = stderr.read(&mut buf) {
                let mut t = tail.lock().unwrap_or_else(|p| p.into_inner());
                t.extend_from_slice(&buf[..n]);
                let excess = t.len().saturating_sub(8192);
                t.drain(..excess);
            }
        });
        let mut s = Session {
            child,
            stdin,
            control,
            stderr_tail,
            dir,
            qdir,
            nonce: random_hex(16)?,
            seq: 0,
            pgid,
            initial_exported: BTreeSet::new(),
            opts: opts.clone(),
            ended: None,
        };
        s.send(&shell::startup(&s.qdir, &s.nonce))?;
        let ready = format!("{} ready", s.nonce);
        s.wait_line(|l| l.trim_end() == ready, Duration::from_secs(20))?;
        // Step 0 reports the starting state: the exported names every later step is compared with.
        s.send("\\__sw_done 0 0\n")?;
        let nonce = s.nonce.clone();
        s.wait_line(|l| shell::marker(l, &nonce, 0).is_some(), Duration::from_secs(20))?;
        s.initial_exported = s.take_status(0).exported;
        Ok(s)
    }

    /// False once a step has ended the shell.
    pub fn alive(&self) -> bool {
        self.ended.is_none()
    }

    /// The session's process group (its shell's pid).
    pub fn pgid(&self) -> i32 {
        self.pgid
    }

    fn send(&mut self, text: &str) -> io::Result<()> {
        let stdin = self.stdin.as_mut().ok_or_else(|| other("the shell session has ended".into()))?;
        stdin.write_all(text.as_bytes())?;
        stdin.flush()
    }

    fn diagnostics(&self) -> String {
        let t = self.stderr_tail.lock().unwrap_or_else(|p| p.into_inner());
        String::from_utf8_lossy(&t).trim().to_string()
    }

    /// Waits for a control line, during start-up only.
    fn wait_line(&mut self, want: impl Fn(&str) -> bool, limit: Duration) -> io::Result<()> {
        let deadline = Instant::now() + limit;
        loop {
            match self.control.recv_timeout(POLL) {
                Ok(l) if want(&l) => return Ok(()),
                Ok(_) | Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => {}
            }
            if let Some(status) = self.child.try_wait()? {
                self.ended = Some(exit_code(status));
                return Err(other(format!("the shell session ended at start: {}", self.diagnostics())));
            }
            if Instant::now() > deadline {
                return Err(other(format!("the shell session did not answer: {}", self.diagnostics())));
            }
        }
    }

    fn take_status(&self, seq: u64) -> shell::Status {
        let path = self.dir.join(format!("{seq}.status"));
        let status = std::fs::read(&path).map(|b| shell::parse_status(&b)).unwrap_or_default();
        let _ = std::fs::remove_file(path);
        status
    }

    /// Runs one step: `script` (as bound, see `bind`) after checking that each of `needs` (names
    /// the step expects an earlier step to have set) is set in the session. Every chunk of output
    /// is passed to `on_output` as it is written. An error means the step could not be started
    /// (the session had ended, or its files could not be written); a step that fails is an
    /// outcome, not an error.
    pub fn run(
        &mut self,
        script: &str,
        needs: &[String],
        timeout: Duration,
        mut on_output: impl FnMut(&[u8]),
    ) -> io::Result<StepOutcome> {
        if let Some(code) = self.ended {
            return Err(other(format!("the shell session has ended (exit {code}): start a new one")));
        }
        if let Some(bad) = needs.iter().find(|n| !is_name(n)) {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, format!("{bad:?} is not a variable name")));
        }
        self.seq += 1;
        let seq = self.seq;
        let script_path = self.dir.join(format!("{seq}.sh"));
        let out_path = self.dir.join(format!("{seq}.out"));
        std::fs::write(&script_path, script)?;
        File::create(&out_path)?;
        let mut reader = File::open(&out_path)?;
        let before = procs::group_members(self.pgid);
        let started = Instant::now();
        let mut cap = Capture { max: self.opts.max_output, ..Capture::default() };
        let lines = shell::step_lines(&self.qdir, seq, needs, shell::mode_of(script));
        let sent = self.send(&lines);
        let mut code = None;
        let mut interrupt: Option<(Instant, Reason)> = None;
        let mut stage = 0;
        while sent.is_ok() {
            match self.control.recv_timeout(POLL) {
                Ok(line) => code = shell::marker(&line, &self.nonce, seq),
                Err(RecvTimeoutError::Timeout) => {}
                // The shell's stdout is closed: it has ended, which `try_wait` sees below.
                Err(RecvTimeoutError::Disconnected) => std::thread::sleep(POLL),
            }
            cap.read_from(&mut reader, &mut on_output);
            if code.is_some() || self.child.try_wait()?.is_some() {
                break;
            }
            if interrupt.is_none() {
                if started.elapsed() >= timeout {
                    interrupt = Some((Instant::now(), Reason::Timeout));
                } else if reader.metadata().map(|m| m.len()).unwrap_or(0) > self.opts.max_file {
                    interrupt = Some((Instant::now(), Reason::Output));
                }
            }
            if let Some((at, _)) = interrupt {
                let due = (at.elapsed().as_millis() / self.opts.grace.as_millis().max(1)) as u32 + 1;
                while stage < due.min(4) {
                    stage += 1;
                    self.escalate(stage, &before);
                }
            }
        }
        cap.read_from(&mut reader, &mut on_output);
        let mut out = StepOutcome {
            exit_code: code.unwrap_or(1),
            duration_ms: started.elapsed().as_millis() as i64,
            output: cap.bytes,
            truncated: cap.truncated,
            timed_out: matches!(interrupt, Some((_, Reason::Timeout))),
            session_ended: false,
            cwd: None,
            exported: Vec::new(),
            notes: Vec::new(),
        };
        if out.truncated {
            out.notes.push(format!("output truncated at {} bytes", self.opts.max_output));
        }
        match interrupt {
            Some((_, Reason::Timeout)) => {
                out.exit_code = TIMEOUT_EXIT;
                out.notes.push(format!("interrupted after the {} timeout", human(timeout)));
            }
            Some((_, Reason::Output)) => {
                out.notes.push(format!("interrupted: more than {} bytes of output", self.opts.max_file))
            }
            None => {}
        }
        if code.is_some() {
            let status = self.take_status(seq);
            out.cwd = status.cwd;
            out.exported = status
                .exported
                .difference(&self.initial_exported)
                .filter(|n| !SHELL_KEPT.contains(&n.as_str()))
                .cloned()
                .collect();
            if interrupt.is_some() {
                self.clean_up_after(&before);
            }
        } else {
            self.end(&mut out, stage >= 4, sent.err());
        }
        let _ = std::fs::remove_file(&script_path);
        let _ = std::fs::remove_file(&out_path);
        Ok(out)
    }

    /// The session's shell is gone (or could not be written to): record how.
    fn end(&mut self, out: &mut StepOutcome, killed: bool, send_error: Option<io::Error>) {
        let status = self.child.try_wait().ok().flatten().or_else(|| {
            let _ = self.child.kill();
            self.child.wait().ok()
        });
        let code = status.map(exit_code).unwrap_or(1);
        self.ended = Some(code);
        self.stdin = None;
        out.session_ended = true;
        if killed {
            out.notes.push("the step could not be interrupted, so its shell session was ended".into());
        } else {
            if out.exit_code != TIMEOUT_EXIT {
                out.exit_code = code;
            }
            let how = match send_error {
                Some(e) => format!("the shell session had ended before the step could start ({e})"),
                None => format!("the step ended the shell session (exit {code})"),
            };
            out.notes.push(format!("{how}; later steps run in a new session, without this one's cd and variables"));
        }
    }

    /// One stage of an interrupt: 1 SIGINT to the group (the shell aborts the line); 2 SIGINT
    /// again and SIGTERM to what the step started; 3 SIGKILL to those; 4 SIGKILL to the group.
    fn escalate(&mut self, stage: u32, before: &BTreeSet<procs::Proc>) {
        let started = || {
            let mut now = procs::group_members(self.pgid);
            now.retain(|p| p.0 != self.pgid && !before.contains(p));
            now
        };
        match stage {
            1 => procs::signal_group(self.pgid, Signal::INT),
            2 => {
                procs::signal_group(self.pgid, Signal::INT);
                procs::signal_each(&started(), Signal::TERM);
            }
            3 => {
                procs::signal_group(self.pgid, Signal::INT);
                procs::signal_each(&started(), Signal::KILL);
            }
            _ => procs::signal_group(self.pgid, Signal::KILL),
        }
    }

    /// After an interrupted step: what it started and left running (background jobs ignore
    /// SIGINT) is terminated, then killed if it does not go within the grace period.
    fn clean_up_after(&self, before: &BTreeSet<procs::Proc>) {
        let left = || {
            let mut now = procs::group_members(self.pgid);
            now.retain(|p| p.0 != self.pgid && !before.contains(p));
            now
        };
        let procs = left();
        if procs.is_empty() {
            return;
        }
        procs::signal_each(&procs, Signal::TERM);
        let deadline = Instant::now() + self.opts.grace;
        while Instant::now() < deadline && !left().is_empty() {
            std::thread::sleep(POLL);
        }
        procs::signal_each(&left(), Signal::KILL);
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        if self.ended.is_none() {
            procs::signal_group(self.pgid, Signal::HUP);
        }
        self.stdin = None;
        let deadline = Instant::now() + Duration::from_secs(1);
        while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
            std::thread::sleep(POLL);
        }
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[derive(Clone, Copy)]
enum Reason {
    Timeout,
    Output,
}
