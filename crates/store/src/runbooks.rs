//! Imported runbooks and their versions. The store keeps the Markdown and the parsed JSON it
//! is given; parsing is the runbook crate's business, at the edge.

use serde::Serialize;
use sevwatch_core::Timestamp;
use sha2::{Digest, Sha256};

use crate::db::{with_pool, with_tx};
use crate::{Store, StoreError};

/// One version of one runbook.
#[derive(Clone, Debug, Serialize)]
pub struct RunbookRecord {
    pub name: String,
    pub version: i64,
    pub title: String,
    pub source: String,
    pub sha256: String,
    pub imported_at: Timestamp,
    pub imported_by: String,
    /// The role of the importing token (`admin`, `responder`, ...; empty for versions imported
    /// before roles were recorded).
    pub imported_by_role: String,
    /// The runbook crate's JSON of the content.
    #[serde(skip)]
    pub parsed: String,
    #[serde(skip)]
    pub content: String,
}

/// Who imports a runbook version.
#[derive(Clone, Copy, Debug)]
pub struct Importer<'a> {
    /// The token's name.
    pub name: &'a str,
    pub role: sevwatch_core::AccessRole,
}

/// What an import did.
#[derive(Clone, Debug, Serialize)]
pub struct Imported {
    pub name: String,
    pub version: i64,
    /// False when the content was identical to the latest version (nothing was added).
    pub created: bool,
}

type Row = (String, i64, String, String, String, i64, String, String, String, String);

fn decode(r: Row) -> Result<RunbookRecord, StoreError> {
    let (name, version, title, source, sha256, at, imported_by, imported_by_role, parsed, content) = r;
    let imported_at = Timestamp::from_millisecond(at).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    Ok(RunbookRecord {
        name,
        version,
        title,
        source,
        sha256,
        imported_at,
        imported_by,
        imported_by_role,
        parsed,
        content,
    })
}

/// A runbook file to import: its name, title and source, the text, and the parse as JSON.
#[derive(Clone, Copy, Debug)]
pub struct NewRunbook<'a> {
    pub name: &'a str,
    pub title: &'a str,
    pub source: &'a str,
    pub content: &'a str,
    pub parsed_json: &'a str,
}

impl Store {
    /// Store the runbook as the next version of its name, unless it equals the latest.
    pub async fn import_runbook(
        &self,
        runbook: NewRunbook<'_>,
        importer: Importer<'_>,
        now: Timestamp,
    ) -> Result<Imported, StoreError> {
        let NewRunbook { name, title, source, content, parsed_json } = runbook;
        const LATEST: &str = "SELECT version, sha256 FROM runbooks WHERE name = $1 ORDER BY version DESC LIMIT 1";
        const INSERT: &str =
            "INSERT INTO runbooks (name, version, title, source, sha256, content, parsed, imported_at, imported_by, \
            imported_by_role) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";
        let sha = hex::encode(Sha256::digest(content.as_bytes()));
        let mut tx = self.db.begin_write().await?;
        let latest: Option<(i64, String)> =
            with_tx!(&mut tx, |c| sqlx::query_as(LATEST).bind(name).fetch_optional(c).await)?;
        if let Some((version, existing)) = &latest {
            if *existing == sha {
                return Ok(Imported { name: name.to_string(), version: *version, created: false });
            }
        }
        let version = latest.map(|(v, _)| v + 1).unwrap_or(1);
        with_tx!(&mut tx, |c| sqlx::query(INSERT)
            .bind(name)
            .bind(version)
            .bind(title)
            .bind(source)
            .bind(&sha)
            .bind(content)
            .bind(parsed_json)
            .bind(now.as_millisecond())
            .bind(importer.name)
            .bind(importer.role.as_str())
            .execute(c)
            .await
            .map(|_| ()))?;
        tx.commit().await?;
        Ok(Imported { name: name.to_string(), version, created: true })
    }

    /// The latest version of every runbook, by name.
    pub async fn latest_runbooks(&self) -> Result<Vec<RunbookRecord>, StoreError> {
        const SQL: &str =
            "SELECT name, version, title, source, sha256, imported_at, imported_by, imported_by_role, parsed, '' \
            FROM runbooks r \
            WHERE version = (SELECT MAX(version) FROM runbooks WHERE name = r.name) ORDER BY name";
        let rows: Vec<Row> = with_pool!(&self.db, |p| sqlx::query_as(SQL).fetch_all(p).await)?;
        rows.into_iter().map(decode).collect()
    }

    /// One version (the latest when `version` is `None`), with its content.
    pub async fn runbook(&self, name: &str, version: Option<i64>) -> Result<Option<RunbookRecord>, StoreError> {
        const SQL: &str =
            "SELECT name, version, title, source, sha256, imported_at, imported_by, imported_by_role, parsed, content \
            FROM runbooks \
            WHERE name = $1 AND ($2 < 0 OR version = $2) ORDER BY version DESC LIMIT 1";
        let row: Option<Row> = with_pool!(&self.db, |p| sqlx::query_as(SQL)
            .bind(name)
            .bind(version.unwrap_or(-1))
            .fetch_optional(p)
            .await)?;
        row.map(decode).transpose()
    }

    /// Every version number of a runbook, newest first.
    pub async fn runbook_versions(&self, name: &str) -> Result<Vec<i64>, StoreError> {
        const SQL: &str = "SELECT version FROM runbooks WHERE name = $1 ORDER BY version DESC";
        Ok(with_pool!(&self.db, |p| sqlx::query_scalar(SQL).bind(name).fetch_all(p).await)?)
    }

    /// Incidents whose state records a runbook step as running: after a restart nobody is
    /// running them any more.
    pub async fn incidents_with_running_steps(&self) -> Result<Vec<sevwatch_core::Incident>, StoreError> {
        const SQL: &str = "SELECT state FROM incidents WHERE state LIKE '%\"status\":\"running\"%' ORDER BY id";
        let rows: Vec<String> = with_pool!(&self.db, |p| sqlx::query_scalar(SQL).fetch_all(p).await)?;
        rows.iter().map(|s| serde_json::from_str(s).map_err(|e| StoreError::Corrupt(e.to_string()))).collect()
    }
}
