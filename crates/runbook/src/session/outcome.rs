//! What a step of a session did ([`StepOutcome`]), and the capture of its output as it is read:
//! every byte to the live display, up to the cap into the result.

use std::fs::File;
use std::io::Read;
use std::time::Duration;

/// What one step did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepOutcome {
    pub exit_code: i32,
    pub duration_ms: i64,
    /// stdout and stderr as written, byte for byte, up to `max_output` bytes.
    pub output: Vec<u8>,
    pub truncated: bool,
    pub timed_out: bool,
    /// The step ended the shell (or could not be interrupted and the shell was ended).
    pub session_ended: bool,
    /// The session's working directory after the step (unknown when the session ended).
    pub cwd: Option<String>,
    /// Names of the variables exported in the session that its initial environment did not
    /// have: what the run's steps exported so far. Names only; values may be secrets.
    pub exported: Vec<String>,
    /// What the session adds about the step (timeout, end of session, cut output).
    pub notes: Vec<String>,
}

impl StepOutcome {
    /// The result to record for a step that could not be started (no shell, no files): exit
    /// code 127, as a shell reports a command it cannot run, and why.
    pub fn not_started(why: impl Into<String>) -> StepOutcome {
        StepOutcome {
            exit_code: 127,
            duration_ms: 0,
            output: Vec::new(),
            truncated: false,
            timed_out: false,
            session_ended: true,
            cwd: None,
            exported: Vec::new(),
            notes: vec![format!("could not start the step: {}", why.into())],
        }
    }

    /// The output as text for the timeline: invalid UTF-8 and NUL replaced by U+FFFD, then each
    /// note on a line of its own in brackets.
    pub fn text(&self) -> String {
        let mut t = String::from_utf8_lossy(&self.output).replace('\0', "\u{fffd}");
        for n in &self.notes {
            if !t.is_empty() && !t.ends_with('\n') {
                t.push('\n');
            }
            t.push_str(&format!("[{n}]\n"));
        }
        t
    }
}

/// The part of a step's output kept for its result.
#[derive(Default)]
pub(super) struct Capture {
    pub bytes: Vec<u8>,
    pub max: usize,
    pub truncated: bool,
}

impl Capture {
    pub fn read_from(&mut self, file: &mut File, on_output: &mut impl FnMut(&[u8])) {
        let mut buf = [0u8; 16 * 1024];
        while let Ok(n @ 1..) = file.read(&mut buf) {
            on_output(&buf[..n]);
            let room = self.max.saturating_sub(self.bytes.len());
            if n > room {
                self.truncated = true;
            }
            self.bytes.extend_from_slice(&buf[..n.min(room)]);
        }
    }
}

/// `60s`, `1500ms`, `2m`.
pub(super) fn human(d: Duration) -> String {
    match d.as_millis() {
        ms if ms % 60_000 == 0 && ms > 0 => format!("{} min", ms / 60_000),
        ms if ms % 1000 == 0 => format!("{} s", ms / 1000),
        ms => format!("{ms} ms"),
    }
}
