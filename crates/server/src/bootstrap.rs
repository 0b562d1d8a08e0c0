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
    write_secret(data_dir, ADMIN_TOKEN_FILE, &token)?;
    Ok(path)
}

/// Writes `<data_dir>/<name>` readable by its owner only (0600), whole or not at all: through a
/// temporary file, synced, then renamed over the old one.
fn write_secret(data_dir: &Path, name: &str, secret: &str) -> std::io::Result<()> {
    std::fs::create_dir_all(data_dir)?;
    let tmp = data_dir.join(format!(".{name}.tmp"));
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts.open(&tmp)?;
    f.write_all(format!("{secret}\n").as_bytes())?;
    f.sync_all()?;
    std::fs::rename(&tmp, data_dir.join(name))
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

pub const CONTACT_WEBHOOK_KEY_FILE: &str = "contact-webhook.key";

/// Messages to users' own webhook contacts are signed with `[outbox] contact_webhook_secret`.
/// Left empty, the signature would prove nothing, so a key is generated at first start and kept
/// in `<data-dir>/contact-webhook.key` (mode 0600); receivers verify with it. Returns the key's
/// file when one was generated or read, so `serve` can say so. Replicas on PostgreSQL each have
/// their own data directory: they must be given the same key in the configuration.
pub fn ensure_contact_webhook_secret(
    notify: &mut sevwatch_notify::NotifyConfig,
    data_dir: &Path,
) -> anyhow::Result<Option<PathBuf>> {
    if !notify.outbox.contact_webhook_secret.expose().is_empty() {
        return Ok(None);
    }
    let path = data_dir.join(CONTACT_WEBHOOK_KEY_FILE);
    let key = match std::fs::read_to_string(&path) {
        Ok(k) if !k.trim().is_empty() => k.trim().to_string(),
        _ => {
            let mut raw = [0u8; 32];
            getrandom::fill(&mut raw).map_err(|e| anyhow::anyhow!("randomness: {e}"))?;
            let key = hex::encode(raw);
            write_secret(data_dir, CONTACT_WEBHOOK_KEY_FILE, &key)?;
            key
        }
    };
    notify.outbox.contact_webhook_secret = sevwatch_notify::Secret::new(key);
    Ok(Some(path))
}
