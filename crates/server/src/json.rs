//! `ApiJson<T>`: axum's JSON extractor with its rejections turned into problem documents that
//! name the offending field (axum reports the serde path, e.g. `severity: unknown variant`),
//! and with a key given twice in any object refused (422 naming its path), as the ingest
//! parsers refuse it: serde keeps the last copy in a map (`vars`, `fields`) and calls a
//! repeated struct field an error without a path, while a proxy or a log may read the first.

use axum::body::{Body, Bytes};
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        // The body is read once and handed to axum's extractor again (with the headers and
        // extensions it checks: content type, body limit), so its rejections stay as they were.
        let (headers, extensions) = (req.headers().clone(), req.extensions().clone());
        let bytes = Bytes::from_request(req, state).await.map_err(|r| rejection_to_problem(r.into()))?;
        let mut again = Request::new(Body::from(bytes.clone()));
        *again.headers_mut() = headers;
        *again.extensions_mut() = extensions;
        let parsed = axum::Json::<T>::from_request(again, state).await;
        // A repeated key is reported before a data error (a repeated struct field is one).
        if matches!(&parsed, Ok(_) | Err(JsonRejection::JsonDataError(_))) {
            if let Err(e) = sevwatch_core::alert::check_unique_keys(&bytes) {
                let detail = format!("{}: {}", e.path, e.message);
                return Err(ApiError::field(StatusCode::UNPROCESSABLE_ENTITY, &e.path, detail));
            }
        }
        match parsed {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(rejection) => Err(rejection_to_problem(rejection)),
        }
    }
}

fn rejection_to_problem(r: JsonRejection) -> ApiError {
    let status = r.status();
    let text = r.body_text();
    let field = match &r {
        JsonRejection::JsonDataError(_) => text
            .split_once("target type: ")
            .and_then(|(_, rest)| rest.split_once(": "))
            .map(|(path, _)| path.to_string())
            .filter(|p| !p.contains(' ') && p != "."),
        _ => None,
    };
    let detail = match &r {
        JsonRejection::MissingJsonContentType(_) => {
            "the body must be JSON sent with Content-Type: application/json".to_string()
        }
        JsonRejection::BytesRejection(_) if status == axum::http::StatusCode::PAYLOAD_TOO_LARGE => {
            "the request body is larger than the configured limit".to_string()
        }
        _ => text,
    };
    ApiError { status, detail, field, retry_after: None }
}

/// `axum::extract::Query` with its rejection rendered as a problem document.
pub struct ApiQuery<T>(pub T);

impl<S, T> axum::extract::FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(ApiQuery(v)),
            Err(r) => Err(ApiError::new(axum::http::StatusCode::BAD_REQUEST, r.body_text())),
        }
    }
}
