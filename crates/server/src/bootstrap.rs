//! First start: make sure an admin token exists and is written to `<data-dir>/admin.token`
//! (mode 0600) so the local CLI works without setup. An existing file whose token is still live
//! is kept; otherwise a new token replaces it.

use std::io::Write;
use std::path::{Path, PathBuf};

use sevwatch_core::{AccessRole, Timestamp};
use sevwatch_store::Store;

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
