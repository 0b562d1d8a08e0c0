//! Sevwatch's HTTP edge: the JSON API under `/api/v1`, health checks, the OpenAPI document and
//! the live event stream. Handlers are thin: they authenticate, parse, hand a command to the
//! store (which runs the core's rules inside its transaction) and render the result.
//!
//! [`app`] builds the router from an [`AppState`] so tests can drive it without a socket;
//! [`serve`] runs it on a listener until shutdown, through the accept loop of `listener.rs`
//! (connection cap) and the per-connection deadlines of `connection.rs`.

mod auth;
pub mod bootstrap;
pub mod checkpoint;
pub mod clock;
mod connection;
pub mod engine;
mod error;
mod headers;
mod json;
mod listener;
mod openapi;
pub mod outbox;
mod routes;
mod throttle;
mod token_cache;
mod views;

/// Is a directory the data directory or inside it (server-side steps never run there)?
pub use routes::run_on_server::inside as inside_data_dir;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::Router;
use sevwatch_core::Config;
use sevwatch_store::Store;
use tokio::net::TcpListener;

pub use error::{ApiError, Problem};
pub use listener::serve_until;

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub config: Arc<Config>,
    /// Communication templates: the defaults, or those of `templates_dir`.
    pub templates: Arc<sevwatch_notify::Templates>,
    /// The chain key and checkpoint anchor; without one, `verify` checks the unkeyed chains only.
    pub chain_anchor: Option<Arc<checkpoint::ChainAnchor>>,
    /// The time every handler stamps its command with (see `clock.rs`).
    pub clock: Arc<dyn clock::Clock>,
    tokens: Arc<token_cache::TokenCache>,
    throttle: Arc<throttle::AuthThrottle>,
    /// The shell sessions of runs whose steps execute on this server.
    sessions: Arc<routes::run_on_server::Sessions>,
}

impl AppState {
    pub fn new(store: Store, config: Config) -> Self {
        Self::with_templates(store, config, Arc::new(sevwatch_notify::Templates::defaults()))
    }

    pub fn with_templates(store: Store, config: Config, templates: Arc<sevwatch_notify::Templates>) -> Self {
        AppState {
            store,
            config: Arc::new(config),
            templates,
            chain_anchor: None,
            clock: Arc::new(clock::SystemClock),
            tokens: Arc::default(),
            throttle: Arc::default(),
            sessions: Arc::default(),
        }
    }

    /// Check `verify` against keyed checkpoints, and have [`serve`]'s engine write them.
    pub fn with_chain_anchor(mut self, anchor: Arc<checkpoint::ChainAnchor>) -> Self {
        self.chain_anchor = Some(anchor);
        self
    }

    /// Read the time from `clock` instead of the system clock (tests move a `ManualClock`).
    pub fn with_clock(mut self, clock: Arc<dyn clock::Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Now, by this app's clock.
    pub fn now(&self) -> sevwatch_core::Timestamp {
        self.clock.now()
    }
}

/// The whole HTTP surface.
pub fn app(state: AppState) -> Router {
    let limit = state.config.server.max_body_bytes;
    Router::new()
        .merge(on_configured_limit(limit))
        .merge(routes::runbooks::router())
        .merge(routes::runs::router())
        .fallback(routes::health::not_found)
        .method_not_allowed_fallback(routes::health::method_not_allowed)
        .layer(DefaultBodyLimit::max(limit))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(routes::health::panic_response))
        .layer(axum::middleware::map_response(headers::security_headers))
        .with_state(state)
}

/// The routes whose bodies are held to `server.max_body_bytes`: a larger `Content-Length` gets
/// 413 before a byte of the body is read (otherwise the extractor would read up to the limit
/// first, or wait for a body the client holds back until `100 Continue`). Runbook import and
/// step results set larger limits of their own inside their routers, which a check out here
/// cannot see; those two routers check while reading.
fn on_configured_limit(limit: usize) -> Router<AppState> {
    Router::new()
        .merge(routes::health::router())
        .merge(routes::incidents::router())
        .merge(routes::tokens::router())
        .merge(routes::ingest::router())
        .merge(routes::alerts::router())
        .merge(routes::oncall::router())
        .merge(routes::comms::router())
        .merge(routes::outbox::router())
        .merge(routes::users::router())
        .merge(routes::stream::router())
        .merge(openapi::router())
        .route_layer(axum::middleware::from_fn_with_state(limit, refuse_oversized))
}

async fn refuse_oversized(
    axum::extract::State(limit): axum::extract::State<usize>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::http::{header, HeaderValue, StatusCode};
    use axum::response::IntoResponse;
    let declared = req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    match declared {
        Some(n) if n > limit as u64 => {
            let detail = format!(
                "the request body ({n} bytes) is larger than the configured limit (server.max_body_bytes = {limit})"
            );
            let mut answer = ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, detail).into_response();
            // The body stays unread, so this connection cannot carry another request.
            answer.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
            answer
        }
        _ => next.run(req).await,
    }
}

/// Serve until ctrl-c or SIGTERM, then finish in-flight requests. Starts the engine that fires
/// durable timers and the worker that delivers the outbox.
pub async fn serve(listener: TcpListener, state: AppState) -> std::io::Result<()> {
    let engine = engine::spawn_with(state.store.clone(), state.chain_anchor.clone());
    let deliveries = outbox::spawn(state.store.clone());
    listener::raise_fd_limit();
    let served = serve_until(listener, state, shutdown_signal()).await;
    engine.abort();
    deliveries.abort();
    served
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
