//! Group commit with the fsync taken off the writer's path (SQLite only).
//!
//! With `synchronous=FULL` every commit waits for its own fsync of the WAL, and the single
//! writer can do nothing else meanwhile: at one alert per request that wait was most of a
//! batch's time. The writer's connection therefore commits with `synchronous=NORMAL` (the
//! frames are written to the WAL, not yet synced) and hands the batch's answers to this
//! thread, which makes the WAL durable with one `fdatasync` for every batch committed since
//! the last one and only then answers the callers. Meanwhile the writer is already running the
//! next batch. "2xx means committed and on disk" still holds:
//! - fsync works on the file, not the descriptor, so syncing our own descriptor of the WAL
//!   flushes frames that SQLite wrote through its own;
//! - SQLite's WAL recovery keeps only an unbroken, checksummed prefix of frames, so a crash
//!   before the sync loses the unanswered batches and nothing older;
//! - before a checkpoint copies frames into the database SQLite syncs the WAL itself, and when
//!   it restarts the WAL from its beginning it syncs the new header before the first frame, in
//!   `NORMAL` as in `FULL` (only commits skip their sync in `NORMAL`); a WAL that is gone was
//!   checkpointed into the database file and removed, so then the database file is synced.
//!
//! Every other connection keeps `synchronous=FULL`.

use std::fs::File;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use sevwatch_core::SealedEvent;
use tokio::sync::broadcast;

use crate::writer::{Done, Op, Reply};
use crate::StoreError;

/// One committed batch waiting for its sync: each op with its result and who is waiting.
pub(crate) type Answers = Vec<(Result<Done, StoreError>, Reply, Op)>;

/// Start the syncing thread for the database at `db_path`; batches sent to the returned
/// channel are answered once durable, in the order sent.
pub(crate) fn spawn(db_path: PathBuf, events: broadcast::Sender<SealedEvent>) -> mpsc::Sender<Answers> {
    let (tx, rx) = mpsc::channel::<Answers>();
    std::thread::Builder::new()
        .name("sevwatch-wal-sync".into())
        .spawn(move || run(&db_path, &rx, &events))
        .expect("the WAL sync thread starts");
    tx
}

fn run(db_path: &Path, rx: &mpsc::Receiver<Answers>, events: &broadcast::Sender<SealedEvent>) {
    let mut wal = WalFile::new(db_path);
    // Ends when the writer (the only sender) is gone.
    while let Ok(first) = rx.recv() {
        let mut batches = vec![first];
        batches.extend(rx.try_iter());
        let synced = wal.sync();
        if let Err(e) = &synced {
            tracing::error!(error = %e, "could not make committed writes durable (fdatasync of the WAL failed)");
        }
        for batch in batches {
            for (result, reply, op) in batch {
                let result = match (&synced, result) {
                    (Ok(()), r) => r,
                    (Err(e), Ok(_)) => Err(StoreError::Db(sqlx::Error::Io(std::io::Error::new(
                        e.kind(),
                        format!("the write was committed but could not be made durable: {e}"),
                    )))),
                    (Err(_), Err(refused)) => Err(refused),
                };
                crate::writer::answer(result, reply, op, events);
            }
        }
    }
}

/// Our own descriptor of the WAL, reopened whenever the file at its path is another one (the
/// WAL is removed when the last connection closes, and made anew by the next).
struct WalFile {
    db: PathBuf,
    wal: PathBuf,
    open: Option<(File, u64)>,
}

impl WalFile {
    fn new(db: &Path) -> Self {
        let mut wal = db.as_os_str().to_owned();
        wal.push("-wal");
        WalFile { db: db.to_path_buf(), wal: PathBuf::from(wal), open: None }
    }

    fn sync(&mut self) -> std::io::Result<()> {
        let current = match std::fs::metadata(&self.wal) {
            Ok(m) => m.ino(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                // Checkpointed into the database file and removed: sync that instead.
                self.open = None;
                return File::open(&self.db)?.sync_data();
            }
            Err(e) => return Err(e),
        };
        // Reopen if the file at the path is another one, or ours was removed (its inode number
        // could be reused by the new file).
        let stale = match &self.open {
            None => true,
            Some((f, ino)) => *ino != current || f.metadata()?.nlink() == 0,
        };
        if stale {
            let f = File::open(&self.wal)?;
            let ino = f.metadata()?.ino();
            self.open = Some((f, ino));
        }
        let (f, _) = self.open.as_ref().expect("opened above");
        f.sync_data()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wal_made_anew_is_reopened_and_a_missing_one_syncs_the_database() {
        let tmp = sevwatch_testkit::temp_dir();
        let dir = tmp.path();
        let db = dir.join("x.db");
        std::fs::write(&db, b"db").unwrap();
        let mut w = WalFile::new(&db);
        assert_eq!(w.wal, dir.join("x.db-wal"));
        w.sync().unwrap();
        assert!(w.open.is_none(), "no WAL yet: the database file is synced");
        std::fs::write(&w.wal, b"one").unwrap();
        w.sync().unwrap();
        assert!(w.open.is_some(), "the WAL is synced once it exists");
        std::fs::remove_file(&w.wal).unwrap();
        std::fs::write(&w.wal, b"two").unwrap();
        w.sync().unwrap();
        let (f, _) = w.open.as_ref().unwrap();
        assert_eq!(f.metadata().unwrap().nlink(), 1, "the new WAL is synced, not the removed one");
    }
}
