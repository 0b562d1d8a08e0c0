//! The two native connection pools behind one enum, and the macros that run the same SQL text
//! on either. (`sqlx::AnyPool` cannot decode several types we need; see STORAGE-NOTES.md.)

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, Postgres, Sqlite, SqlitePool, Transaction};

use crate::StoreError;

/// Where the data lives.
#[derive(Clone, Debug)]
pub enum Backend {
    /// An embedded SQLite file (WAL, synchronous=FULL), created if missing.
    Sqlite { path: PathBuf },
    /// A PostgreSQL database; several Sevwatch replicas may share it.
    Postgres { url: String },
}

#[derive(Clone)]
pub(crate) enum Db {
    Sqlite(SqlitePool),
    Pg(PgPool),
}

/// A write transaction on either backend.
pub(crate) enum Tx {
    Sqlite(SqliteTx),
    Pg(Transaction<'static, Postgres>),
}

/// A SQLite write transaction that begins (`BEGIN IMMEDIATE`) at its first statement. Each
/// statement is a round trip to the connection's thread, so a batch of plain alert repeats,
/// whose only statement is appending to the repeat log, runs that statement on its own (one
/// statement is atomic by itself) instead of three: see [`Tx::run_alone`].
pub(crate) struct SqliteTx {
    pool: SqlitePool,
    tx: Option<Transaction<'static, Sqlite>>,
}

impl SqliteTx {
    pub(crate) async fn begun(&mut self) -> Result<&mut Transaction<'static, Sqlite>, sqlx::Error> {
        if self.tx.is_none() {
            self.tx = Some(self.pool.begin_with("BEGIN IMMEDIATE").await?);
        }
        Ok(self.tx.as_mut().expect("just begun"))
    }
}

/// Evaluate `$body` with `$p` bound to the pool of whichever backend is in use.
macro_rules! with_pool {
    ($db:expr, |$p:ident| $body:expr) => {
        match $db {
            $crate::db::Db::Sqlite($p) => $body,
            $crate::db::Db::Pg($p) => $body,
        }
    };
}

/// Evaluate `$body` with `$c` bound to the connection of an open transaction.
macro_rules! with_tx {
    ($tx:expr, |$c:ident| $body:expr) => {
        match $tx {
            $crate::db::Tx::Sqlite(t) => match t.begun().await {
                Ok(t) => {
                    let $c = &mut **t;
                    $body
                }
                Err(e) => Err(e),
            },
            $crate::db::Tx::Pg(t) => {
                let $c = &mut **t;
                $body
            }
        }
    };
}

pub(crate) use {with_pool, with_tx};

impl Db {
    pub(crate) async fn connect(backend: &Backend) -> Result<Db, StoreError> {
        match backend {
            Backend::Sqlite { path } => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(|e| StoreError::Db(sqlx::Error::Io(e)))?;
                }
                let opts = sqlite_options(path, SqliteSynchronous::Full);
                // No health check on every acquire: a local file does not drop connections, and
                // the check is a round trip to the connection's thread on every transaction
                // (a tenth of a batch's time on the alert ingest path).
                let pool = SqlitePoolOptions::new()
                    .max_connections(8)
                    .min_connections(1)
                    .test_before_acquire(false)
                    .connect_with(opts)
                    .await?;
                Ok(Db::Sqlite(pool))
            }
            Backend::Postgres { url } => {
                let opts = PgConnectOptions::from_str(url)?;
                let pool = PgPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(opts)
                    .await?;
                Ok(Db::Pg(pool))
            }
        }
    }

    /// The group-commit writer's own connection on SQLite: `synchronous=NORMAL`, because
    /// `wal_sync` makes each batch durable before anyone hears of it (see there).
    pub(crate) async fn connect_sqlite_writer(path: &std::path::Path) -> Result<Db, StoreError> {
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .test_before_acquire(false)
            // Never closed for idling: it is the writer's, for the life of the process.
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(sqlite_options(path, SqliteSynchronous::Normal))
            .await?;
        Ok(Db::Sqlite(pool))
    }

    pub(crate) async fn migrate(&self) -> Result<(), StoreError> {
        match self {
            Db::Sqlite(p) => sqlx::migrate!("./migrations/sqlite").run(p).await?,
            Db::Pg(p) => sqlx::migrate!("./migrations/postgres").run(p).await?,
        }
        Ok(())
    }

    pub(crate) fn name(&self) -> &'static str {
        match self {
            Db::Sqlite(_) => "sqlite",
            Db::Pg(_) => "postgres",
        }
    }

    pub(crate) async fn ping(&self) -> Result<(), StoreError> {
        with_pool!(self, |p| sqlx::query("SELECT 1").execute(p).await.map(|_| ()))?;
        Ok(())
    }

    /// Begin a write transaction. SQLite takes its write lock up front (`BEGIN IMMEDIATE`, at
    /// the first statement): a deferred transaction that reads then writes fails with
    /// "database is locked" under concurrency, whatever the busy timeout.
    pub(crate) async fn begin_write(&self) -> Result<Tx, sqlx::Error> {
        Ok(match self {
            Db::Sqlite(p) => Tx::Sqlite(SqliteTx { pool: p.clone(), tx: None }),
            Db::Pg(p) => Tx::Pg(p.begin().await?),
        })
    }
}

fn sqlite_options(path: &std::path::Path, synchronous: SqliteSynchronous) -> SqliteConnectOptions {
    SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(synchronous)
        .busy_timeout(Duration::from_secs(10))
        .foreign_keys(true)
}

impl Tx {
    pub(crate) async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            Tx::Sqlite(SqliteTx { tx: Some(t), .. }) => t.commit().await,
            // Nothing was run, or one statement alone: nothing to commit.
            Tx::Sqlite(SqliteTx { tx: None, .. }) => Ok(()),
            Tx::Pg(t) => t.commit().await,
        }
    }

    /// When this transaction's last statement is its only one, the SQLite connection to run
    /// it on by itself, outside any transaction (a single statement commits atomically).
    /// Nothing may be run on the transaction afterwards except [`Tx::commit`].
    pub(crate) fn run_alone(&mut self) -> Option<&SqlitePool> {
        match self {
            Tx::Sqlite(SqliteTx { pool, tx: None }) => Some(pool),
            _ => None,
        }
    }

    pub(crate) fn is_postgres(&self) -> bool {
        matches!(self, Tx::Pg(_))
    }
}
