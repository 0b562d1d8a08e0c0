//! The OpenAPI 3 document, generated from the handlers' annotations and served at
//! `/api/v1/openapi.json`.

use axum::routing::get;
use axum::{Json, Router};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::routes::{alerts, comms, health, incidents, ingest, oncall, outbox, runbooks, runs, stream, tokens, users};
use crate::AppState;

#[derive(OpenApi)]
#[openapi(
    info(title = "Sevwatch API", description = "Incident response: incidents, timelines, integrity. Authenticate with `Authorization: Bearer <token>`."),
    paths(
        health::healthz, health::readyz,
        incidents::declare, incidents::list, incidents::show, incidents::ack, incidents::assign, incidents::status,
        incidents::severity, incidents::note, incidents::check, incidents::uncheck, incidents::resolve, incidents::close,
        incidents::reopen, incidents::timeline, incidents::verify, incidents::verify_all,
        tokens::create, tokens::list, tokens::revoke,
        stream::stream,
        ingest::alertmanager_webhook, ingest::grafana_webhook, ingest::generic_webhook, ingest::pagerduty_enqueue,
        alerts::list_alerts, alerts::create_silence, alerts::list_silences, alerts::expire_silence,
        oncall::list_schedules, oncall::who_is_on_call, oncall::calendar, oncall::list_policies, oncall::escalate_now,
        comms::preview, comms::send,
        outbox::list, outbox::show, outbox::retry, outbox::retry_dead,
        users::list, users::show, users::put, users::remove,
        runbooks::import, runbooks::list, runbooks::show,
        runs::start_run, runs::show_run, runs::start_step, runs::step_result, runs::skip_step, runs::interrupt_step,
    ),
    modifiers(&BearerAuth),
    security(("bearer" = []))
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/openapi.json", get(|| async { Json(ApiDoc::openapi()) }))
}
