//! One module per group of routes, each exposing `router() -> Router<AppState>`.

pub mod health;
pub mod incidents;
pub mod runbooks;
pub mod runs;
pub mod stream;
pub mod tokens;
