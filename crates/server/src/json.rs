//! `ApiJson<T>`: axum's JSON extractor with its rejections turned into problem documents that
//! name the offending field (axum reports the serde path, e.g. `severity: unknown variant`).

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
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
        match axum::Json::<T>::from_request(req, state).await {
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
