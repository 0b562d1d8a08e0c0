//! Helpers shared by the integration tests of every crate: a fresh PostgreSQL schema per test,
//! temporary directories, and the rule for optional parts: a test whose dependency is missing
//! skips with a printed reason, unless `SEVWATCH_REQUIRE_ALL=1` (set by `.ci/run`), when it
//! fails instead.

use std::time::{SystemTime, UNIX_EPOCH};

use sqlx::Connection;

pub mod smtp;

pub use tempfile::TempDir;

/// The database tests create their schemas in. Override with `SEVWATCH_TEST_PG_URL`.
pub const DEFAULT_PG_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

pub fn require_all() -> bool {
    std::env::var("SEVWATCH_REQUIRE_ALL").is_ok_and(|v| v == "1")
}

/// Report that an optional part is missing: skip (return) normally, fail under REQUIRE_ALL.
pub fn skip(what: &str, why: &str) {
    if require_all() {
        panic!("{what} is required (SEVWATCH_REQUIRE_ALL=1) but unavailable: {why}");
    }
    eprintln!("skipping {what}: {why}");
}

pub fn temp_dir() -> TempDir {
    tempfile::Builder::new().prefix("sevwatch-test-").tempdir().expect("a temporary directory can be created")
}

fn unix_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// A URL to a brand-new, empty schema in the test database, or `None` (after [`skip`]) when
/// PostgreSQL is not reachable. Schemas older than an hour from earlier runs are dropped.
pub async fn postgres_url() -> Option<String> {
    let base = std::env::var("SEVWATCH_TEST_PG_URL").unwrap_or_else(|_| DEFAULT_PG_URL.to_string());
    let mut conn = match sqlx::PgConnection::connect(&base).await {
        Ok(c) => c,
        Err(e) => {
            skip("PostgreSQL tests", &format!("cannot connect to {base}: {e}"));
            return None;
        }
    };
    let mut rnd = [0u8; 4];
    getrandom::fill(&mut rnd).expect("randomness");
    let now = unix_secs();
    let schema = format!("sw_t_{now}_{}", hex::encode(rnd));
    let stale: Vec<String> = sqlx::query_scalar("SELECT nspname::text FROM pg_namespace WHERE nspname LIKE 'sw_t_%'")
        .fetch_all(&mut conn)
        .await
        .unwrap_or_default();
    for old in stale {
        let created: u64 = old.split('_').nth(2).and_then(|t| t.parse().ok()).unwrap_or(0);
        if created + 3600 < now {
            let _ = sqlx::query(&format!("DROP SCHEMA IF EXISTS \"{old}\" CASCADE")).execute(&mut conn).await;
        }
    }
    sqlx::query(&format!("CREATE SCHEMA \"{schema}\""))
        .execute(&mut conn)
        .await
        .expect("the test user can create schemas");
    let sep = if base.contains('?') { '&' } else { '?' };
    Some(format!("{base}{sep}options[search_path]={schema}"))
}
