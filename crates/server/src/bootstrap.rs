//! First start: make sure an admin token exists and is written to `<data-dir>/admin.token`
//! (mode 0600) so the local CLI works without setup. An existing file whose token is still live
//! is kept; otherwise a new token replaces it.

use std::io::Write;
use std::path::{Path, PathBuf};

use sevwatch_core::{AccessRole, Command, StepStatus, Timestamp};
use sevwatch_store::{IncidentOp, Store};

pub const ADMIN_TOKEN_FILE: &str = "admin.token";

pub async fn ensure_admin_token(store: &Store, data_dir: &Path) -> anyhow::Result<PathBuf> {
    let path = data_dir.join(ADMIN_TOKEN_FILE);
    if let Ok(existing) = std::fs::read_to_string(&path) {
        if let Some(t) = store.authenticate(existing.trim()).await? {
            if t.role == AccessRole::Admin {
                return Ok(path);
            }
        }
    }
    let (token, _) = store.create_token("admin", AccessRole::Admin, Timestamp::now()).await?;
    std::fs::create_dir_all(data_dir)?;
    let tmp = data_dir.join(".admin.token.tmp");
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts.open(&tmp)?;
    f.write_all(format!("{token}\n").as_bytes())?;
    f.sync_all()?;
    std::fs::rename(&tmp, &path)?;
    Ok(path)
}

/// After a restart nothing is executing runbook steps any more: mark every step still recorded
/// as running `interrupted`, so responders can retry or skip it. A result that arrives later
/// (from a CLI that kept running) is still accepted. Returns how many steps were marked.
pub async fn interrupt_running_steps(store: &Store) -> anyhow::Result<usize> {
    let mut marked = 0;
    for inc in store.incidents_with_running_steps().await? {
        for run in &inc.runbook_runs {
            for (i, s) in run.state.iter().enumerate() {
                if s.status == StepStatus::Running {
                    let command = Command::InterruptStep { run: run.id, step: i + 1 };
                    store
                        .execute(IncidentOp {
                            target: Some(inc.id),
                            command,
                            actor: "sevwatch".into(),
                            now: Timestamp::now(),
                        })
                        .await?;
                    marked += 1;
                }
            }
        }
    }
    Ok(marked)
}
