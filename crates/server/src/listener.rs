//! The accept loop: every TCP connection is accepted at once (a full backlog would leave
//! `/healthz` unanswered too) and admitted in one of three ways:
//!
//! 1. within `server.max_connections`: served in full (`connection.rs`);
//! 2. over it, within [`REFUSAL_SLOTS`] more: read with hyper for at most 250 ms, then
//!    `GET /healthz` is answered and anything else gets a 503 problem document with
//!    `Retry-After` and `Connection: close`. Answering after reading the request, rather than
//!    before, keeps the kernel from resetting the connection over unread bytes and the client
//!    from losing the answer;
//! 3. over both: the same 503 written straight into the fresh socket's empty send buffer
//!    (never blocks, allocates nothing) and the socket closed.
//!
//! Each connection's task holds a semaphore permit; that is the whole count, and graceful
//! shutdown is taking every permit back. Idle connections do not keep slots for long:
//! `connection.rs` cuts one that has sent nothing within `server.header_timeout`, so after a
//! flood of idle connections the slots are free again within that time.
//!
//! The cap has to fit under the process's open-file limit or accepting fails with EMFILE,
//! which is how 20,000 idle connections once made `/healthz` time out: [`raise_fd_limit`]
//! raises the soft limit to the hard one at start-up, and a cap that still does not fit is
//! lowered with a warning.

use std::future::Future;
use std::io;
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tokio::time::Instant;

use crate::connection::{self, Limits, Mode};
use crate::AppState;

/// Connections over the cap that are read and answered properly (the second way above).
pub(crate) const REFUSAL_SLOTS: usize = 64;

/// Descriptors kept for everything but client connections: database pool, SQLite files,
/// outbox deliveries, logs.
const FD_RESERVE: u64 = 128;

/// How often, at most, refused connections are reported in the log.
const REPORT_EVERY: Duration = Duration::from_secs(10);

/// Serve `state`'s API on `listener` under the connection limits of `[server]` until
/// `shutdown` resolves, then stop accepting and wait for open connections to finish. Runs no
/// background workers (see [`crate::serve`]).
pub async fn serve_until(listener: TcpListener, state: AppState, shutdown: impl Future<Output = ()>) -> io::Result<()> {
    let limits = Limits::of(&state.config.server);
    let cap = within_fd_limit(state.config.server.max_connections);
    let turns = state.config.server.max_bodies_in_flight.max(1);
    let app = crate::app(state);
    let serving = Arc::new(Semaphore::new(cap));
    let refusing = Arc::new(Semaphore::new(REFUSAL_SLOTS));
    let bodies = Arc::new(Semaphore::new(turns.saturating_mul(connection::SHARES_PER_TURN as usize)));
    let refusal = refusal_bytes();
    let (stop, stopped) = watch::channel(false);
    let mut shutdown = pin!(shutdown);
    // Refused connections since the last warning, and when that was.
    let (mut refused, mut reported) = (0u64, None::<Instant>);
    loop {
        let stream = tokio::select! {
            biased;
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) if is_per_connection(&e) => continue,
                Err(e) => {
                    // Out of descriptors or memory: give closing connections a moment.
                    tracing::warn!(error = %e, "accepting a connection failed; retrying in 100 ms");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let (permit, mode) = match serving.clone().try_acquire_owned() {
            Ok(permit) => (permit, Mode::Serve),
            Err(_) => {
                refused += 1;
                if reported.is_none_or(|at| at.elapsed() >= REPORT_EVERY) {
                    tracing::warn!(refused, max_connections = cap, "connection limit reached; answering 503");
                    (refused, reported) = (0, Some(Instant::now()));
                }
                match refusing.clone().try_acquire_owned() {
                    Ok(permit) => (permit, Mode::Refuse),
                    Err(_) => {
                        let _ = stream.try_write(&refusal);
                        continue;
                    }
                }
            }
        };
        tokio::spawn(connection::run(stream, app.clone(), limits, mode, bodies.clone(), stopped.clone(), permit));
    }
    drop(listener);
    stop.send_replace(true);
    // Every connection's task holds a permit until it ends.
    let _ = serving.acquire_many(u32::try_from(cap).unwrap_or(u32::MAX)).await;
    let _ = refusing.acquire_many(REFUSAL_SLOTS as u32).await;
    Ok(())
}

/// Errors that concern one connection only; the loop goes on at once.
fn is_per_connection(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionRefused
    )
}

/// A whole HTTP/1.1 503 answer, the same problem document `connection.rs` sends.
fn refusal_bytes() -> Vec<u8> {
    let status = StatusCode::SERVICE_UNAVAILABLE;
    let problem = crate::Problem {
        kind: "about:blank",
        title: status.canonical_reason().unwrap_or("Service Unavailable").to_string(),
        status: status.as_u16(),
        detail: connection::OVER_CAPACITY.to_string(),
        field: None,
    };
    let body = serde_json::to_string(&problem).expect("a problem document always serializes");
    format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/problem+json\r\nretry-after: {}\r\n\
         connection: close\r\ncontent-length: {}\r\n\r\n{body}",
        connection::RETRY_AFTER_SECS,
        body.len()
    )
    .into_bytes()
}

/// `wanted`, or fewer if that many sockets would not fit under the open-file limit.
fn within_fd_limit(wanted: usize) -> usize {
    let Some(limit) = open_file_limit() else { return wanted };
    let room = limit.saturating_sub(FD_RESERVE + REFUSAL_SLOTS as u64);
    if wanted as u64 <= room {
        return wanted;
    }
    let cap = usize::try_from(room.max(1)).unwrap_or(wanted);
    tracing::warn!(
        max_connections = wanted,
        open_file_limit = limit,
        serving = cap,
        "server.max_connections does not fit under the open-file limit (ulimit -n); serving fewer at once"
    );
    cap
}

/// The soft limit on open files; `None` when unlimited or unknown.
#[cfg(unix)]
fn open_file_limit() -> Option<u64> {
    rustix::process::getrlimit(rustix::process::Resource::Nofile).current
}

#[cfg(not(unix))]
fn open_file_limit() -> Option<u64> {
    None
}

/// Raise the soft limit on open files to the hard limit (often 1024 against 524288 under
/// systemd), so that `server.max_connections` fits. Returns the soft limit now in force.
#[cfg(unix)]
pub(crate) fn raise_fd_limit() -> Option<u64> {
    use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
    let now = getrlimit(Resource::Nofile);
    let raised = match (now.current, now.maximum) {
        (Some(soft), Some(hard)) if soft < hard => Some(hard),
        _ => None,
    };
    if let Some(hard) = raised {
        match setrlimit(Resource::Nofile, Rlimit { current: Some(hard), maximum: Some(hard) }) {
            Ok(()) => tracing::info!(from = now.current, to = hard, "raised the open-file limit to the hard limit"),
            Err(e) => tracing::warn!(error = %e, limit = now.current, "could not raise the open-file limit"),
        }
    }
    open_file_limit()
}

#[cfg(not(unix))]
pub(crate) fn raise_fd_limit() -> Option<u64> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_written_refusal_is_a_whole_http_answer_with_a_problem_document() {
        let bytes = refusal_bytes();
        let text = std::str::from_utf8(&bytes).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 503 "), "{head}");
        assert!(head.contains(&format!("content-length: {}", body.len())), "{head}");
        let doc: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(doc["status"], 503);
        assert_eq!(doc["detail"], connection::OVER_CAPACITY);
    }

    #[test]
    fn a_cap_that_does_not_fit_the_open_file_limit_is_lowered() {
        let Some(limit) = open_file_limit() else { return };
        assert_eq!(within_fd_limit(1), 1);
        let most = within_fd_limit(usize::MAX / 2) as u64;
        assert!(most >= 1 && most + FD_RESERVE + REFUSAL_SLOTS as u64 <= limit.max(200), "{most} of {limit}");
    }
}
