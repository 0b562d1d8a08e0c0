//! One module per group of routes, each exposing `router() -> Router<AppState>`.

pub mod alerts;
pub mod comms;
pub mod health;
pub mod incidents;
pub mod ingest;
pub mod oncall;
pub mod outbox;
pub mod run_on_server;
pub mod runbooks;
pub mod runs;
pub mod stream;
pub mod tokens;
pub mod users;
