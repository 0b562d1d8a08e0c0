//! Running a runbook step on the server's own machine (`"execute": true` with `[runbooks]
//! execute_on_server = true`). Commands run here with the server's privileges, so three rules
//! hold before anything is recorded or run:
//! - the caller's token has the `executor` (or `admin`) role: a responder token is not enough;
//! - the step comes from a runbook version imported with an admin token, so a responder cannot
//!   import a runbook of their own and run it here;
//! - the working directory is never the data directory (nor inside it): by default each run
//!   gets a fresh empty directory under the system's temporary directory, removed when the run's
//!   session ends, and the steps see a clean environment (the server's holds the database URL
//!   and keys).
//!
//! The steps of one run share one shell session (`sevwatch_runbook::session`), kept here in
//! [`Sessions`] from the run's first step on the server until the run has no step left to do,
//! or until it has been idle for [`IDLE`]. The session lives in this process: after a restart,
//! or when the next step reaches another replica, a new session starts in a new directory, and
//! the step's output says so (a step that needs a variable an earlier step set then fails at
//! the session's check instead of running with it empty).
//!
//! Who asked is the actor of the `runbook_step_started` event, which says `on the server`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sevwatch_core::runbook_run::MAX_STEP_OUTPUT;
use sevwatch_core::{Action, IncidentId, RunbookRun};
use sevwatch_runbook::session::{Session, SessionOptions, StepOutcome};

use crate::auth::Caller;
use crate::error::ApiError;
use crate::AppState;

/// Refuses unless this caller may run this run's steps on the server.
pub async fn authorize(state: &AppState, caller: &Caller, run: &RunbookRun) -> Result<(), ApiError> {
    if !state.config.runbooks.execute_on_server {
        return Err(ApiError::forbidden(
            "server-side execution is off ([runbooks] execute_on_server = false): run the step with the CLI",
        ));
    }
    caller.require(Action::ExecuteOnServer)?;
    let record = state.store.runbook(&run.runbook, Some(run.version)).await?.ok_or_else(|| {
        ApiError::forbidden(format!(
            "runbook {} v{} is no longer stored: it cannot run on the server",
            run.runbook, run.version
        ))
    })?;
    if record.imported_by_role != "admin" {
        let role = if record.imported_by_role.is_empty() { "unrecorded" } else { &record.imported_by_role };
        return Err(ApiError::forbidden(format!(
            "the server runs only runbooks imported with an admin token; {} v{} was imported by {} (role {role}): \
             re-import it with an admin token and start a new run",
            record.name, record.version, record.imported_by
        )));
    }
    Ok(())
}

/// A run's session idle this long is closed (its processes get SIGHUP, its directory goes).
pub const IDLE: Duration = Duration::from_secs(3600);

/// One run's shell session and the directory it started in (removed after the session).
struct RunSession {
    // Declared first so the shell ends before its directory is removed.
    session: Session,
    _workdir: Workdir,
    last_used: Instant,
}

type Slot = Arc<Mutex<Option<RunSession>>>;

/// The shell sessions of the runs executing on this server, one per (incident, run).
#[derive(Default)]
pub struct Sessions {
    runs: Mutex<HashMap<(IncidentId, u32), Slot>>,
}

impl Sessions {
    fn slot(&self, id: IncidentId, run: u32) -> Slot {
        let mut runs = self.runs.lock().unwrap_or_else(|p| p.into_inner());
        // Idle sessions go whenever another is looked up; a slot in use (locked, or held by a
        // request that is about to start its session) is never taken.
        runs.retain(|_, slot| {
            let held = Arc::strong_count(slot) > 1;
            match slot.try_lock() {
                Ok(s) => held || s.as_ref().is_some_and(|s| s.last_used.elapsed() < IDLE),
                Err(_) => true,
            }
        });
        runs.entry((id, run)).or_default().clone()
    }

    /// Ends the run's session, if this server has one, and removes its fresh directory.
    pub async fn close(&self, id: IncidentId, run: u32) {
        let slot = self.runs.lock().unwrap_or_else(|p| p.into_inner()).remove(&(id, run));
        if let Some(slot) = slot {
            // Closing waits (up to a second) for the shell to go: off the async threads.
            let _ = tokio::task::spawn_blocking(move || drop(slot)).await;
        }
    }
}

/// Runs a bound step in its run's session on this server, starting the session (in a fresh
/// working directory) when the run has none here or its last step ended it. `continuing`: an
/// earlier step of the run has started, so a new session is worth a note. A step that cannot
/// be started has an outcome too (exit 127 and why), so it is never left running.
pub async fn execute(
    state: &AppState,
    id: IncidentId,
    run: u32,
    script: String,
    needs: Vec<String>,
    continuing: bool,
) -> Result<StepOutcome, ApiError> {
    let slot = state.sessions.slot(id, run);
    let fresh = {
        let current = slot.lock().unwrap_or_else(|p| p.into_inner());
        current.as_ref().is_none_or(|s| !s.session.alive())
    };
    let workdir = match fresh.then(|| Workdir::prepare(state)).transpose() {
        Ok(w) => w,
        Err(why) => return Ok(StepOutcome::not_started(why)),
    };
    let opts = SessionOptions {
        workdir: workdir.as_ref().map(|w| w.path().to_path_buf()),
        env: state.config.runbooks.env.clone(),
        clean_env: true,
        max_output: MAX_STEP_OUTPUT,
        ..SessionOptions::default()
    };
    let timeout = Duration::from_millis(state.config.runbooks.timeout.as_millis() as u64);
    let outcome = tokio::task::spawn_blocking(move || {
        let mut current = slot.lock().unwrap_or_else(|p| p.into_inner());
        let mut note = None;
        if let Some(workdir) = workdir {
            if continuing {
                note = Some(
                    "this step ran in a new shell session, without the cd and variables of the run's earlier \
                     steps (the last session ended, the server restarted, or another replica ran them)"
                        .to_string(),
                );
            }
            *current = None;
            let session = Session::start(&opts)?;
            *current = Some(RunSession { session, _workdir: workdir, last_used: Instant::now() });
        }
        let rs = current.as_mut().expect("a session was started above");
        let mut outcome = rs.session.run(&script, &needs, timeout, |_| {})?;
        rs.last_used = Instant::now();
        outcome.notes.extend(note);
        Ok::<_, std::io::Error>(outcome)
    })
    .await
    .map_err(ApiError::internal)?;
    Ok(outcome.unwrap_or_else(|e| StepOutcome::not_started(format!("shell session: {e}"))))
}

/// Where a run's steps start on the server: the configured directory, or a fresh one removed on
/// drop.
pub struct Workdir {
    path: PathBuf,
    remove: bool,
}

impl Workdir {
    /// The directory for a new session, or why there is none.
    pub fn prepare(state: &AppState) -> Result<Workdir, String> {
        let data_dir = state.config.server.data_dir.as_deref().map(Path::new);
        match &state.config.runbooks.workdir {
            Some(dir) => {
                let path = PathBuf::from(dir);
                if let Some(data) = data_dir {
                    if inside(&path, data) {
                        return Err(format!(
                            "[runbooks] workdir {dir} is inside the data directory {}: steps never run there",
                            data.display()
                        ));
                    }
                }
                Ok(Workdir { path, remove: false })
            }
            None => {
                let mut rnd = [0u8; 8];
                getrandom::fill(&mut rnd).map_err(|e| format!("randomness: {e}"))?;
                let path = std::env::temp_dir().join(format!("sevwatch-step-{}", hex::encode(rnd)));
                std::fs::create_dir(&path).map_err(|e| format!("cannot create {}: {e}", path.display()))?;
                Ok(Workdir { path, remove: true })
            }
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Workdir {
    fn drop(&mut self) {
        if self.remove {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

/// Is `dir` the data directory or inside it? Compared after resolving symlinks and `..` where
/// the paths exist, and as written where they do not.
pub fn inside(dir: &Path, data_dir: &Path) -> bool {
    let resolve = |p: &Path| p.canonicalize().unwrap_or_else(|_| std::path::absolute(p).unwrap_or(p.to_path_buf()));
    resolve(dir).starts_with(resolve(data_dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slot_held_by_a_request_survives_other_lookups_and_an_unheld_empty_one_goes() {
        let sessions = Sessions::default();
        let held = sessions.slot(IncidentId(1), 1);
        let _other = sessions.slot(IncidentId(2), 1);
        assert!(Arc::ptr_eq(&held, &sessions.slot(IncidentId(1), 1)), "the held slot was kept");
        drop(held);
        sessions.slot(IncidentId(3), 1);
        let runs = sessions.runs.lock().unwrap();
        assert!(!runs.contains_key(&(IncidentId(1), 1)), "an empty slot nobody holds is dropped");
    }

    #[test]
    fn the_data_directory_and_anything_under_it_are_inside() {
        let base = std::env::temp_dir().join(format!("sevwatch-inside-{}", std::process::id()));
        let data = base.join("data");
        std::fs::create_dir_all(data.join("sub")).unwrap();
        assert!(inside(&data, &data));
        assert!(inside(&data.join("sub"), &data));
        assert!(inside(&data.join("sub/.."), &data));
        assert!(inside(&base.join("data/../data/sub"), &data));
        assert!(!inside(&base, &data));
        assert!(!inside(&base.join("data-other"), &data));
        let _ = std::fs::remove_dir_all(&base);
    }
}
