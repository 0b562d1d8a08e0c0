//! Running one step: the only part of this crate that does I/O. A command runs under `bash -c`
//! (or `sh -c` where bash is missing) in its own process group, with a timeout, a working
//! directory and extra environment; stdout and stderr are streamed to a callback as they arrive
//! and captured up to a cap, with a marker where the capture was cut. On timeout the whole
//! process group is killed, so a step cannot leave children behind.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Exit code reported for a step killed at its timeout (the convention of timeout(1)).
pub const TIMEOUT_EXIT: i32 = 124;

#[derive(Clone, Debug)]
pub struct ExecOptions {
    pub timeout: Duration,
    pub workdir: Option<PathBuf>,
    pub env: BTreeMap<String, String>,
    /// Start from an empty environment (plus `PATH`, `LANG` and `HOME` set to the working
    /// directory) instead of inheriting this process's: the server's own environment holds
    /// secrets (database URL, chain key) that a step must not see.
    pub clean_env: bool,
    /// Most bytes of output kept (stdout and stderr together).
    pub max_output: usize,
}

impl Default for ExecOptions {
    fn default() -> Self {
        ExecOptions {
            timeout: Duration::from_secs(60),
            workdir: None,
            env: BTreeMap::new(),
            clean_env: false,
            max_output: 1024 * 1024,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExecResult {
    pub exit_code: i32,
    pub duration_ms: i64,
    /// Captured stdout and stderr, interleaved as they arrived (lossily decoded as UTF-8).
    pub output: String,
    pub truncated: bool,
    pub timed_out: bool,
}

enum Msg {
    Chunk(Vec<u8>),
    Done(i32),
}

fn shell() -> &'static str {
    if std::path::Path::new("/bin/bash").exists() {
        "/bin/bash"
    } else {
        "/bin/sh"
    }
}

/// Run `command` and report every chunk of output to `on_output` as it arrives.
pub fn run(command: &str, opts: &ExecOptions, mut on_output: impl FnMut(&[u8])) -> std::io::Result<ExecResult> {
    let started = Instant::now();
    let mut cmd = Command::new(shell());
    cmd.arg("-c").arg(command).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    if let Some(dir) = &opts.workdir {
        cmd.current_dir(dir);
    }
    if opts.clean_env {
        cmd.env_clear().env("PATH", "/usr/local/bin:/usr/bin:/bin").env("LANG", "C.UTF-8");
        if let Some(dir) = &opts.workdir {
            cmd.env("HOME", dir);
        }
    }
    cmd.envs(&opts.env);
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    let mut child = cmd.spawn()?;
    let pid = child.id();
    let (tx, rx) = mpsc::channel::<Msg>();
    let mut readers = Vec::new();
    for pipe in [
        child.stdout.take().map(|p| Box::new(p) as Box<dyn Read + Send>),
        child.stderr.take().map(|p| Box::new(p) as Box<dyn Read + Send>),
    ]
    .into_iter()
    .flatten()
    {
        let tx = tx.clone();
        readers.push(std::thread::spawn(move || {
            let mut pipe = pipe;
            let mut buf = [0u8; 8192];
            while let Ok(n) = pipe.read(&mut buf) {
                if n == 0 || tx.send(Msg::Chunk(buf[..n].to_vec())).is_err() {
                    break;
                }
            }
        }));
    }
    let waiter_tx = tx.clone();
    std::thread::spawn(move || {
        let code = match child.wait() {
            Ok(status) => status.code().unwrap_or_else(|| {
                // Killed by a signal: report it the way shells do (128 + signal).
                #[cfg(unix)]
                {
                    std::os::unix::process::ExitStatusExt::signal(&status).map(|s| 128 + s).unwrap_or(1)
                }
                #[cfg(not(unix))]
                {
                    1
                }
            }),
            Err(_) => 1,
        };
        let _ = waiter_tx.send(Msg::Done(code));
    });
    drop(tx);
    let deadline = started + opts.timeout;
    let mut output: Vec<u8> = Vec::new();
    let mut truncated = false;
    let mut timed_out = false;
    let mut exit_code = None;
    loop {
        let now = Instant::now();
        let wait = if exit_code.is_some() || timed_out {
            Duration::from_millis(200)
        } else {
            deadline.saturating_duration_since(now)
        };
        match rx.recv_timeout(wait) {
            Ok(Msg::Chunk(c)) => {
                on_output(&c);
                let room = opts.max_output.saturating_sub(output.len());
                if c.len() > room {
                    truncated = true;
                }
                output.extend_from_slice(&c[..c.len().min(room)]);
            }
            Ok(Msg::Done(code)) => exit_code = Some(code),
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) if exit_code.is_none() && !timed_out => {
                timed_out = true;
                kill_group(pid);
            }
            // The process is gone but a grandchild still holds the pipes open: stop reading.
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if exit_code.is_some() {
                    kill_group(pid);
                    break;
                }
            }
        }
    }
    let mut text = String::from_utf8_lossy(&output).into_owned();
    if truncated {
        text.push_str(&format!("\n[output truncated at {} bytes]\n", opts.max_output));
    }
    if timed_out {
        text.push_str(&format!("\n[killed after {} s timeout]\n", opts.timeout.as_secs()));
    }
    Ok(ExecResult {
        exit_code: if timed_out { TIMEOUT_EXIT } else { exit_code.unwrap_or(1) },
        duration_ms: started.elapsed().as_millis() as i64,
        output: text,
        truncated,
        timed_out,
    })
}

/// Kill the step's whole process group (its pid is the group id: see `process_group(0)`).
fn kill_group(pid: u32) {
    let _ = Command::new("kill").args(["-s", "KILL", "--"]).arg(format!("-{pid}")).stderr(Stdio::null()).status();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_and_exit_code_are_captured() {
        let mut live = Vec::new();
        let r = run("echo out; echo err >&2; exit 3", &ExecOptions::default(), |c| live.extend_from_slice(c)).unwrap();
        assert_eq!(r.exit_code, 3);
        assert!(r.output.contains("out") && r.output.contains("err"), "{:?}", r.output);
        assert_eq!(String::from_utf8_lossy(&live).len(), r.output.len());
        assert!(!r.truncated && !r.timed_out);
    }

    #[test]
    fn long_output_is_cut_with_a_marker() {
        let opts = ExecOptions { max_output: 1000, ..Default::default() };
        let r = run("head -c 5000 /dev/zero | tr '\\0' x", &opts, |_| {}).unwrap();
        assert!(r.truncated);
        assert!(r.output.starts_with(&"x".repeat(1000)));
        assert!(r.output.contains("[output truncated at 1000 bytes]"));
    }

    #[test]
    fn a_step_that_hangs_is_killed_at_its_timeout_with_its_children() {
        let opts = ExecOptions { timeout: Duration::from_millis(300), ..Default::default() };
        let started = Instant::now();
        let r = run("sleep 30 & sleep 30; echo never", &opts, |_| {}).unwrap();
        assert!(r.timed_out);
        assert_eq!(r.exit_code, TIMEOUT_EXIT);
        assert!(started.elapsed() < Duration::from_secs(10));
        assert!(!r.output.contains("never"));
    }

    #[test]
    fn workdir_and_environment_apply() {
        let dir = std::env::temp_dir();
        let opts = ExecOptions {
            workdir: Some(dir.clone()),
            env: [("SEVWATCH_STEP_TEST".to_string(), "hello".to_string())].into(),
            ..Default::default()
        };
        let r = run("pwd; echo $SEVWATCH_STEP_TEST", &opts, |_| {}).unwrap();
        let canon = dir.canonicalize().unwrap();
        assert!(r.output.contains(canon.to_str().unwrap()) || r.output.contains(dir.to_str().unwrap()), "{}", r.output);
        assert!(r.output.contains("hello"));
    }

    #[test]
    fn a_clean_environment_keeps_only_path_lang_home_and_the_extras() {
        // Any variable of this process other than the ones a clean environment sets.
        let (ours, _) = std::env::vars()
            .find(|(k, _)| !matches!(k.as_str(), "PATH" | "LANG" | "HOME" | "PWD" | "SHLVL" | "_" | "OLDPWD"))
            .expect("the test process has some environment");
        let names = "env | cut -d= -f1 | tr '\\n' ' '";
        let inherited = run(names, &ExecOptions::default(), |_| {}).unwrap();
        assert!(inherited.output.split(' ').any(|n| n == ours), "{ours}: {}", inherited.output);
        let opts =
            ExecOptions { clean_env: true, env: [("EXTRA".to_string(), "x".to_string())].into(), ..Default::default() };
        let clean = run(names, &opts, |_| {}).unwrap();
        assert!(!clean.output.split(' ').any(|n| n == ours), "{ours}: {}", clean.output);
        assert!(clean.output.contains("EXTRA") && clean.output.contains("PATH"), "{}", clean.output);
    }
}
