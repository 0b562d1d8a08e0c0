//! Running a runbook step on the server's own machine (`"execute": true` with `[runbooks]
//! execute_on_server = true`). Commands run here with the server's privileges, so three rules
//! hold before anything is recorded or run:
//! - the caller's token has the `executor` (or `admin`) role: a responder token is not enough;
//! - the step comes from a runbook version imported with an admin token, so a responder cannot
//!   import a runbook of their own and run it here;
//! - the working directory is never the data directory (nor inside it): by default each step
//!   gets a fresh empty directory under the system's temporary directory, removed afterwards,
//!   and the step sees a clean environment (the server's holds the database URL and keys).
//!
//! Who asked is the actor of the `runbook_step_started` event, which says `on the server`.

use std::path::{Path, PathBuf};

use sevwatch_core::{Action, RunbookRun};

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

/// Where a step runs on the server: the configured directory, or a fresh one removed on drop.
pub struct Workdir {
    path: PathBuf,
    remove: bool,
}

impl Workdir {
    pub fn prepare(state: &AppState) -> Result<Workdir, ApiError> {
        let data_dir = state.config.server.data_dir.as_deref().map(Path::new);
        match &state.config.runbooks.workdir {
            Some(dir) => {
                let path = PathBuf::from(dir);
                if let Some(data) = data_dir {
                    if inside(&path, data) {
                        return Err(ApiError::forbidden(format!(
                            "[runbooks] workdir {dir} is inside the data directory {}: steps never run there",
                            data.display()
                        )));
                    }
                }
                Ok(Workdir { path, remove: false })
            }
            None => {
                let mut rnd = [0u8; 8];
                getrandom::fill(&mut rnd).map_err(|e| ApiError::internal(format!("randomness: {e}")))?;
                let path = std::env::temp_dir().join(format!("sevwatch-step-{}", hex::encode(rnd)));
                std::fs::create_dir(&path)
                    .map_err(|e| ApiError::internal(format!("cannot create {}: {e}", path.display())))?;
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
