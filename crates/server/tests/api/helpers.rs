//! `spawn_app`: a real server on an ephemeral port over a fresh database, and a small client.
//! The app reads a [`ManualClock`] and runs no background loops: a test moves the clock and
//! fires timers ([`TestApp::run_engine`]) and deliveries ([`TestApp::deliver`]) itself, so
//! nothing waits for a loop to come round.

use std::sync::Arc;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::Value;
use sevwatch_core::{AccessRole, Config, Timestamp};
use sevwatch_server::checkpoint::ChainAnchor;
use sevwatch_server::clock::{Clock, ManualClock};
use sevwatch_server::outbox::Deliverer;
use sevwatch_server::AppState;
use sevwatch_store::{Backend, Store};
use sevwatch_testkit::TempDir;

pub struct TestApp {
    pub base: String,
    pub admin: String,
    pub http: reqwest::Client,
    pub store: Store,
    pub clock: Arc<ManualClock>,
    pub deliverer: Deliverer,
    _dir: Option<TempDir>,
}

pub enum Db {
    Sqlite,
    Postgres,
}

/// Start the app on 127.0.0.1:0; `None` when the backend is unavailable (and allowed to be).
pub async fn spawn_app(db: Db) -> Option<TestApp> {
    spawn_app_with(db, Config::default()).await
}

pub async fn spawn_app_with(db: Db, config: Config) -> Option<TestApp> {
    let (backend, dir) = backend(db).await?;
    let store = Store::open_configured(&backend, &config).await.expect("store opens");
    let state = AppState::new(store, config);
    Some(serve(state, dir).await)
}

/// Like `spawn_app`, with a chain key and its anchor file in a temporary data directory. Tests
/// call the checkpoint step themselves. Also returns the store, the anchor and the backend (to
/// reach the database behind the server's back).
pub async fn spawn_app_anchored(db: Db) -> Option<(TestApp, Store, Arc<ChainAnchor>, Backend)> {
    let dir = sevwatch_testkit::temp_dir();
    let backend = match db {
        Db::Sqlite => Backend::Sqlite { path: dir.path().join("sevwatch.db") },
        Db::Postgres => Backend::Postgres { url: sevwatch_testkit::postgres_url().await? },
    };
    let config = Config::default();
    let store = Store::open_configured(&backend, &config).await.expect("store opens");
    let anchor = Arc::new(ChainAnchor::load(dir.path(), None).expect("the chain key is created"));
    let state = AppState::new(store.clone(), config).with_chain_anchor(anchor.clone());
    Some((serve(state, Some(dir)).await, store, anchor, backend))
}

/// Start the app with a whole `sevwatch.toml` (notification channels included).
pub async fn spawn_app_toml(db: Db, toml: &str) -> Option<(TestApp, Store)> {
    let (config, notify) = sevwatch_notify::config::parse_all(toml).unwrap_or_else(|p| panic!("config: {p:?}"));
    let (backend, dir) = backend(db).await?;
    let templates = Arc::new(sevwatch_notify::Templates::load(notify.templates_dir.as_deref()).unwrap());
    let store = Store::open_full(&backend, &config, notify, templates.clone()).await.expect("store opens");
    let state = AppState::with_templates(store.clone(), config, templates);
    Some((serve(state, dir).await, store))
}

async fn backend(db: Db) -> Option<(Backend, Option<TempDir>)> {
    Some(match db {
        Db::Sqlite => {
            let dir = sevwatch_testkit::temp_dir();
            (Backend::Sqlite { path: dir.path().join("sevwatch.db") }, Some(dir))
        }
        Db::Postgres => (Backend::Postgres { url: sevwatch_testkit::postgres_url().await? }, None),
    })
}

/// Fire every timer due at `now` on `store`: engine passes until one says nothing more is due.
pub async fn run_engine(store: &Store, now: Timestamp) {
    for _ in 0..1000 {
        if !sevwatch_server::engine::tick(store, None, now).await.is_zero() {
            return;
        }
    }
    panic!("the engine still had jobs due after 1,000 passes");
}

/// Serve `state` through the real accept loop, on a manual clock set to the time of day.
async fn serve(state: AppState, dir: Option<TempDir>) -> TestApp {
    let clock = Arc::new(ManualClock::starting_at(Timestamp::now()));
    let store = state.store.clone();
    let (admin, _) = store.create_token("admin", AccessRole::Admin, clock.now()).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let state = state.with_clock(clock.clone());
    tokio::spawn(sevwatch_server::serve_until(listener, state, std::future::pending()));
    let deliverer = Deliverer::new(store.clone()).expect("the delivery client builds");
    TestApp { base, admin, http: reqwest::Client::new(), store, clock, deliverer, _dir: dir }
}

impl TestApp {
    /// The app's time.
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// Move the app's clock forward by `ms` milliseconds.
    pub fn advance_ms(&self, ms: u64) -> Timestamp {
        self.clock.advance(Duration::from_millis(ms))
    }

    /// Fire every timer due at the clock's time, as the engine's passes would.
    pub async fn run_engine(&self) {
        run_engine(&self.store, self.now()).await;
    }

    /// Deliver every message due at the clock's time (each pass waits for its deliveries).
    /// Returns how many deliveries were made.
    pub async fn deliver(&self) -> usize {
        let mut made = 0;
        for _ in 0..1000 {
            match self.deliverer.drain_once(self.now()).await {
                0 => return made,
                n => made += n,
            }
        }
        panic!("messages were still due after 1,000 delivery passes");
    }

    /// Send `body` (if any) with `token` and return the status and the parsed JSON answer.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("the server answers");
        let status = resp.status();
        let text = resp.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, Some(&self.admin), Some(body)).await
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, Some(&self.admin), None).await
    }

    pub async fn token(&self, role: &str, name: &str) -> String {
        let (s, v) = self.post("/api/v1/tokens", serde_json::json!({ "role": role, "name": name })).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        v["token"].as_str().unwrap().to_string()
    }

    pub async fn declare(&self, title: &str, severity: &str) -> String {
        let (s, v) = self
            .post("/api/v1/incidents", serde_json::json!({ "title": title, "severity": severity, "service": "api" }))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        v["id"].as_str().unwrap().to_string()
    }
}

/// Assert a problem+json answer with this status (and field, when given).
pub fn assert_problem(got: &(StatusCode, Value), status: u16, field: Option<&str>) {
    assert_eq!(got.0.as_u16(), status, "{}", got.1);
    assert_eq!(got.1["status"].as_u64(), Some(status as u64), "{}", got.1);
    assert!(got.1["detail"].as_str().is_some_and(|d| !d.is_empty()), "{}", got.1);
    if let Some(f) = field {
        assert_eq!(got.1["field"].as_str(), Some(f), "{}", got.1);
    }
}

macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
               async fn $name() { if let Some(app) = $crate::helpers::spawn_app($crate::helpers::Db::Sqlite).await { super::$name(app).await } } )*
        }
        mod postgres {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
               async fn $name() { if let Some(app) = $crate::helpers::spawn_app($crate::helpers::Db::Postgres).await { super::$name(app).await } } )*
        }
    };
}
pub(crate) use on_both_backends;

/// Like `on_both_backends!` for tests that start their own app: each gets the backend.
macro_rules! on_both_backends_with {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
               async fn $name() { super::$name($crate::helpers::Db::Sqlite).await } )*
        }
        mod postgres {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
               async fn $name() { super::$name($crate::helpers::Db::Postgres).await } )*
        }
    };
}
pub(crate) use on_both_backends_with;
