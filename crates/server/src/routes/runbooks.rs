//! Runbooks: import (versioned), list, show. Parsing happens here, at the edge, with the
//! runbook crate; the store keeps the Markdown and the parsed JSON.

use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use sevwatch_core::Action;
use sevwatch_runbook::Runbook;
use sevwatch_store::{NewRunbook, RunbookRecord};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Caller;
use crate::error::ApiError;
use crate::json::{ApiJson, ApiQuery};
use crate::AppState;

/// Runbooks are imported whole; the largest the parser reads.
const MAX_IMPORT: usize = sevwatch_runbook::MAX_DOCUMENT + 64 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/runbooks", post(import).layer(DefaultBodyLimit::max(2 * MAX_IMPORT)).get(list))
        .route("/api/v1/runbooks/{name}", get(show))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportRequest {
    /// Name to store it under (1-100 letters, digits, `.`, `_`, `-`; not `.` or `..`, not
    /// starting with `-`); default: from `source`.
    pub name: Option<String>,
    /// Where it came from, e.g. its file path.
    pub source: Option<String>,
    /// The Markdown text.
    pub content: String,
}

#[derive(Serialize, ToSchema)]
pub struct ImportAnswer {
    pub name: String,
    pub version: i64,
    /// False when the content equals the latest version (nothing new was stored).
    pub created: bool,
    pub title: String,
    pub sections: usize,
    pub steps: usize,
}

/// `deploy/rollback.md` -> `rollback`.
fn name_from_source(source: &str) -> String {
    let file = source.rsplit(['/', '\\']).next().unwrap_or(source);
    let stem = [".md", ".markdown", ".txt"].iter().find_map(|ext| file.strip_suffix(ext)).unwrap_or(file);
    stem.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') { c } else { '-' }).collect()
}

fn importer(caller: &Caller) -> sevwatch_store::Importer<'_> {
    sevwatch_store::Importer { name: &caller.name, role: caller.role }
}

pub(crate) fn parse_record(r: &RunbookRecord) -> Result<Runbook, ApiError> {
    serde_json::from_str(&r.parsed).map_err(|e| ApiError::internal(format!("runbook {} v{}: {e}", r.name, r.version)))
}

/// Import (or re-import) a Markdown runbook.
#[utoipa::path(post, path = "/api/v1/runbooks", tag = "runbooks", request_body = ImportRequest,
    responses((status = 201, body = ImportAnswer), (status = 200, body = ImportAnswer, description = "unchanged"), (status = 422, body = crate::Problem)))]
pub async fn import(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<ImportRequest>,
) -> Result<(StatusCode, Json<ImportAnswer>), ApiError> {
    caller.require(Action::Respond)?;
    let source = req.source.unwrap_or_default();
    let name = match req.name {
        Some(n) => n,
        None if !source.is_empty() => name_from_source(&source),
        None => return Err(ApiError::invalid("name", "give a name or a source to derive it from")),
    };
    sevwatch_runbook::check_name(&name).map_err(|why| ApiError::invalid("name", why))?;
    if req.content.len() > sevwatch_runbook::MAX_DOCUMENT {
        return Err(ApiError::invalid("content", format!("is larger than {} bytes", sevwatch_runbook::MAX_DOCUMENT)));
    }
    if req.content.contains('\0') {
        return Err(ApiError::invalid("content", "must not contain NUL characters"));
    }
    let content = req.content;
    // Severity words in headings and `Severity:` lines mean what the policy's aliases say.
    let options = sevwatch_runbook::ParseOptions::from_policy(state.store.policy());
    let (parsed, content) =
        tokio::task::spawn_blocking(move || (sevwatch_runbook::parse_with_options(&content, &options), content))
            .await
            .map_err(ApiError::internal)?;
    let title = parsed.title.clone().unwrap_or_else(|| name.clone());
    let json = serde_json::to_string(&parsed).map_err(ApiError::internal)?;
    let done = {
        let runbook = NewRunbook { name: &name, title: &title, source: &source, content: &content, parsed_json: &json };
        state.store.import_runbook(runbook, importer(&caller), state.now()).await?
    };
    let steps = parsed.sections.iter().map(|s| s.steps().count()).sum();
    let status = if done.created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((
        status,
        Json(ImportAnswer {
            name,
            version: done.version,
            created: done.created,
            title,
            sections: parsed.sections.len(),
            steps,
        }),
    ))
}

#[derive(Serialize)]
pub struct Listed {
    #[serde(flatten)]
    pub record: RunbookRecord,
    pub sections: usize,
    pub steps: usize,
}

/// The latest version of every runbook.
#[utoipa::path(get, path = "/api/v1/runbooks", tag = "runbooks", responses((status = 200, description = "runbooks: [{name, version, title, source, sha256, imported_at, imported_by, sections, steps}]")))]
pub async fn list(State(state): State<AppState>, caller: Caller) -> Result<Json<serde_json::Value>, ApiError> {
    caller.require(Action::Read)?;
    let mut out = Vec::new();
    for record in state.store.latest_runbooks().await? {
        let rb = parse_record(&record)?;
        out.push(Listed {
            sections: rb.sections.len(),
            steps: rb.sections.iter().map(|s| s.steps().count()).sum(),
            record,
        });
    }
    Ok(Json(serde_json::json!({ "runbooks": out })))
}

#[derive(Deserialize, IntoParams)]
pub struct ShowQuery {
    /// A specific version (default: the latest).
    pub version: Option<i64>,
}

/// One runbook version, parsed.
#[utoipa::path(get, path = "/api/v1/runbooks/{name}", tag = "runbooks", params(("name" = String, Path), ShowQuery),
    responses((status = 200, description = "name, version, versions, title, source, content, runbook"), (status = 404, body = crate::Problem)))]
pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    ApiQuery(q): ApiQuery<ShowQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    caller.require(Action::Read)?;
    let record = state.store.runbook(&name, q.version).await?.ok_or_else(|| match q.version {
        Some(v) => ApiError::not_found(format!("no runbook {name:?} version {v}")),
        None => ApiError::not_found(format!("no runbook {name:?}")),
    })?;
    let versions = state.store.runbook_versions(&name).await?;
    let runbook = parse_record(&record)?;
    Ok(Json(serde_json::json!({
        "name": record.name, "version": record.version, "versions": versions, "title": record.title,
        "source": record.source, "sha256": record.sha256, "imported_at": record.imported_at,
        "imported_by": record.imported_by, "content": record.content, "runbook": runbook,
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_come_from_file_stems() {
        assert_eq!(name_from_source("docs/runbooks/High Error Rate.md"), "High-Error-Rate");
        assert_eq!(name_from_source("002_10fec5055860d3f4.txt"), "002_10fec5055860d3f4");
        let ok = |n: &str| sevwatch_runbook::check_name(n).is_ok();
        assert!(ok("rollback.v2") && !ok("a/b") && !ok("") && !ok("..") && !ok(&name_from_source("x/..md")));
    }
}
