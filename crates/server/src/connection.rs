//! One admitted TCP connection, from its first byte to its close. hyper parses HTTP/1.1; this
//! module bounds how long each phase of a connection may take, which hyper alone does not:
//!
//! - Until its first request's headers have arrived: `server.header_timeout` from accept.
//!   Until the first byte, the connection is a socket and a small future only: hyper allocates
//!   8 KiB for writing as soon as it is handed a socket and 8 KiB for reading at its first read,
//!   so it is handed the socket once there is something to parse and an idle flood costs
//!   little memory.
//! - Between requests: `server.idle_timeout` until the next request's first byte, then
//!   `header_timeout` until the end of its headers. hyper's own `header_read_timeout` cannot
//!   tell the two apart: in hyper 1.12 it restarts as soon as a kept-alive connection goes idle
//!   (`proto/h1/conn.rs`, `State::idle` sets `notify_read` "so we can close the connection if
//!   another header isn't received in a timely manner"), so the idle wait could never be longer
//!   than the header read. It is turned off here and [`Watch`] keeps the phases instead.
//! - The body: `server.body_timeout` from the end of the headers to its last byte, when the
//!   handler reads it (a body nobody reads makes hyper close the connection after the answer).
//!   A body that misses it turns the answer into a 408 with `Connection: close`.
//! - While the handler runs and while its answer streams (SSE), no deadline.
//!
//! Memory under load is bounded by [`Bodies`]: a request with a body waits for its part of
//! `server.max_bodies_in_flight` turns before its body is read (a whole turn for a declared
//! body of 32 KiB or more, a sixteenth of one for each started 2 KiB below that: see
//! [`SHARES_PER_TURN`]), and keeps it until its handler returns (an ingest handler holds the
//! body, the parsed alerts and the batch's answer until the commit). A request waiting for a turn costs its socket buffers and hyper's read buffer
//! (at most [`MAX_BUF`]); it waits up to `server.body_timeout`, then gets a 503 with
//! `Retry-After`, and once admitted has the whole `body_timeout` for its body. Requests
//! without a body (GET, the live stream) never wait.
//!
//! [`Watch`] is moved by the socket wrapper (a byte arrives while idle), the service (a request
//! is in) and the answer's body (hyper drops it once written); the connection's task sleeps
//! until the current phase's deadline and drops the connection when it passes. All three run
//! inside the connection's own future, so the deadline is re-read after each poll.
//!
//! A connection admitted over `server.max_connections` (see `listener.rs`) runs here in
//! [`Mode::Refuse`]: no keep-alive, at most 250 ms for its headers, `GET /healthz` answered (the
//! process is alive, and a liveness probe that fails under load gets it restarted for nothing),
//! everything else a 503 with `Retry-After`.

use std::convert::Infallible;
use std::future::{poll_fn, Future};
use std::io;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, HeaderValue, Method, Request, Response, StatusCode};
use axum::response::IntoResponse;
use axum::Router;
use hyper::body::{Bytes, Frame, Incoming, SizeHint};
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use sevwatch_core::ServerConfig;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use tokio::time::{sleep_until, timeout_at, Instant, Sleep};
use tower::ServiceExt;

use crate::error::ApiError;

/// The turns for reading request bodies (`server.max_bodies_in_flight`), shared by every
/// connection, in shares: [`SHARES_PER_TURN`] permits a turn.
pub(crate) type Bodies = Arc<Semaphore>;

/// A turn is split into shares so that a small body takes a share and a large one a whole turn:
/// what a request holds while its handler runs grows with its body (at 100 alerts a request,
/// about 36 KiB, some 700 KiB of RSS each), while one-alert requests held to the same few turns
/// starve group commit (1 alert/request x 32 connections, SQLite, a loaded 2-core machine:
/// 12 whole turns gave 6,400-7,500 alerts/s and p99 24-31 ms against 7,100-10,300 and 12 ms
/// with 32; in shares, 12 turns and no limit measure the same).
pub(crate) const SHARES_PER_TURN: u32 = 16;
/// Declared body bytes per share: a body of 32 KiB or more, or of unknown length, takes a turn.
const BYTES_PER_SHARE: u64 = 2 * 1024;

/// The shares a request's body takes: one per started [`BYTES_PER_SHARE`], at most a turn.
fn shares(body: &Incoming) -> u32 {
    use hyper::body::Body as _;
    let whole = u64::from(SHARES_PER_TURN);
    body.size_hint().exact().map_or(whole, |n| n.div_ceil(BYTES_PER_SHARE).clamp(1, whole)) as u32
}

/// The deadlines of `[server]`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    pub header: Duration,
    pub body: Duration,
    pub idle: Duration,
}

impl Limits {
    pub(crate) fn of(server: &ServerConfig) -> Limits {
        Limits {
            header: std_duration(server.header_timeout),
            body: std_duration(server.body_timeout),
            idle: std_duration(server.idle_timeout),
        }
    }
}

/// Validation keeps these above zero; a zero built by hand still gets a millisecond.
fn std_duration(d: sevwatch_core::Duration) -> Duration {
    Duration::from_millis(u64::try_from(d.as_millis()).unwrap_or(0).max(1))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Within `server.max_connections`: the whole API, kept alive.
    Serve,
    /// Over it: `GET /healthz` or a 503, then close.
    Refuse,
}

/// Longest a connection over the cap may take to send its headers. A client sends its request
/// together with the last packet of the handshake, whatever the round trip, so this is ample
/// for a probe, and a flood of silent connections holds the refusal slots only this long.
const REFUSE_HEADER_WAIT: Duration = Duration::from_millis(250);

/// Largest buffer hyper keeps per connection (reading, and queued writes). Its default, about
/// 400 KiB, would let 2,048 connections that each once sent a large body keep 800 MB; 64 KiB
/// still holds any header block and reads bodies in 64 KiB steps.
const MAX_BUF: usize = 64 * 1024;

/// After an answer, how long (and how many bytes) to read and discard what the client is still
/// sending before closing: closing a socket with unread bytes makes the kernel send RST, which
/// can destroy an answer the client has not read yet (a 413 sent before its body arrived).
const LINGER: Duration = Duration::from_secs(1);
const LINGER_BYTES: usize = 1024 * 1024;

pub(crate) const OVER_CAPACITY: &str =
    "the server is at its connection limit (server.max_connections); retry in a moment";
pub(crate) const RETRY_AFTER_SECS: &str = "1";
const NO_TURN: &str = "the server is reading as many request bodies as it may at once (server.max_bodies_in_flight) \
     and none finished within server.body_timeout; retry in a moment";

/// Serve one connection until it closes, times out or the server stops; `_permit` is its slot.
pub(crate) async fn run(
    stream: TcpStream,
    app: Router,
    limits: Limits,
    mode: Mode,
    bodies: Bodies,
    stop: watch::Receiver<bool>,
    _permit: OwnedSemaphorePermit,
) {
    let header = match mode {
        Mode::Serve => limits.header,
        Mode::Refuse => limits.header.min(REFUSE_HEADER_WAIT),
    };
    let due = Instant::now() + header;
    tokio::select! {
        ready = timeout_at(due, stream.readable()) => if !matches!(ready, Ok(Ok(()))) { return },
        () = stopped(stop.clone()) => return,
    }
    // Boxed so that the future waiting above stays small: hyper's state is only allocated now.
    Box::pin(serve_http(stream, app, Limits { header, ..limits }, mode, bodies, stop, due)).await;
}

async fn stopped(mut stop: watch::Receiver<bool>) {
    // A dropped sender means the accept loop is gone: stop as well.
    let _ = stop.wait_for(|s| *s).await;
}

async fn serve_http(
    stream: TcpStream,
    app: Router,
    limits: Limits,
    mode: Mode,
    bodies: Bodies,
    stop: watch::Receiver<bool>,
    due: Instant,
) {
    let watch = Arc::new(Watch { phase: Mutex::new(Phase::Head(due)), header: limits.header, idle: limits.idle });
    // Handlers see the client's address as axum's `ConnectInfo` (the auth throttle keys on it).
    let peer = stream.peer_addr().ok();
    let io = TokioIo::new(Watched { stream, watch: watch.clone() });
    let service = Service { app, watch: watch.clone(), body_timeout: limits.body, mode, peer, bodies };
    let mut conn = http1::Builder::new()
        .header_read_timeout(None)
        .keep_alive(mode == Mode::Serve)
        .max_buf_size(MAX_BUF)
        .serve_connection(io, service);
    let mut stopping = pin!(stopped(stop));
    let mut alarm = pin!(sleep_until(due));
    let mut draining = false;
    let ended = poll_fn(|cx| {
        if !draining && stopping.as_mut().poll(cx).is_ready() {
            draining = true;
            Pin::new(&mut conn).graceful_shutdown();
        }
        if let Poll::Ready(done) = conn.poll_without_shutdown(cx) {
            return Poll::Ready(done.map_err(|e| e.to_string()));
        }
        // What ran above may have moved the connection to another phase.
        if let Some(due) = watch.due() {
            if alarm.deadline() != due {
                alarm.as_mut().reset(due);
            }
            if alarm.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Err(format!("{} timed out", watch.phase_name())));
            }
        }
        Poll::Pending
    })
    .await;
    match ended {
        Ok(()) => linger(conn.into_parts().io.into_inner().stream).await,
        Err(why) => tracing::debug!(%why, "connection closed"),
    }
}

/// Close after the answer without a reset: see [`LINGER`].
async fn linger(mut stream: TcpStream) {
    if stream.shutdown().await.is_err() {
        return;
    }
    let until = Instant::now() + LINGER;
    let mut buf = vec![0; 4096];
    let mut left = LINGER_BYTES;
    while left > 0 {
        match timeout_at(until, stream.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => left = left.saturating_sub(n),
            _ => return,
        }
    }
}

/// Where a connection is, and until when it may stay there.
#[derive(Clone, Copy, Debug)]
enum Phase {
    /// Reading a request's headers.
    Head(Instant),
    /// A request is being handled or its answer written.
    Busy,
    /// Waiting for the next request.
    Idle(Instant),
}

struct Watch {
    phase: Mutex<Phase>,
    header: Duration,
    idle: Duration,
}

impl Watch {
    fn with<T>(&self, f: impl FnOnce(&mut Phase) -> T) -> T {
        f(&mut self.phase.lock().unwrap_or_else(PoisonError::into_inner))
    }

    fn due(&self) -> Option<Instant> {
        self.with(|p| match *p {
            Phase::Head(due) | Phase::Idle(due) => Some(due),
            Phase::Busy => None,
        })
    }

    fn phase_name(&self) -> &'static str {
        self.with(|p| match *p {
            Phase::Head(_) => "header read",
            Phase::Busy => "request",
            Phase::Idle(_) => "keep-alive idle",
        })
    }

    /// Bytes arrived: while idle, they are the next request's first.
    fn bytes_in(&self) {
        let header = self.header;
        self.with(|p| {
            if let Phase::Idle(_) = p {
                *p = Phase::Head(Instant::now() + header);
            }
        });
    }

    fn busy(&self) {
        self.with(|p| *p = Phase::Busy);
    }

    fn idle(&self) {
        let idle = self.idle;
        self.with(|p| *p = Phase::Idle(Instant::now() + idle));
    }
}

/// The socket, telling the watch when bytes arrive.
struct Watched {
    stream: TcpStream,
    watch: Arc<Watch>,
}

impl AsyncRead for Watched {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.stream).poll_read(cx, buf);
        if buf.filled().len() > before {
            this.watch.bytes_in();
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

/// The router behind the connection's deadlines.
#[derive(Clone)]
struct Service {
    app: Router,
    watch: Arc<Watch>,
    body_timeout: Duration,
    mode: Mode,
    peer: Option<std::net::SocketAddr>,
    bodies: Bodies,
}

type Answer = Response<Tracked>;

impl hyper::service::Service<Request<Incoming>> for Service {
    type Response = Answer;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Answer, Infallible>> + Send>>;

    fn call(&self, req: Request<Incoming>) -> Self::Future {
        self.watch.busy();
        let watch = self.watch.clone();
        if self.mode == Mode::Refuse && !is_liveness_probe(&req) {
            return Box::pin(std::future::ready(Ok(over_capacity().map(|body| Tracked { body, watch }))));
        }
        let (app, body_timeout, peer, bodies) = (self.app.clone(), self.body_timeout, self.peer, self.bodies.clone());
        Box::pin(async move {
            // An empty body (GET, or `Content-Length: 0`) is at its end already.
            let turn = if hyper::body::Body::is_end_stream(req.body()) {
                None
            } else {
                let shares = shares(req.body());
                match timeout_at(Instant::now() + body_timeout, bodies.acquire_many_owned(shares)).await {
                    Ok(turn) => Some(turn.expect("the body semaphore is never closed")),
                    Err(_) => return Ok(no_turn().map(|body| Tracked { body, watch })),
                }
            };
            let late = Arc::new(AtomicBool::new(false));
            let deadline = Instant::now() + body_timeout;
            let mut req = req.map(|body| Body::new(Deadline { body, deadline, alarm: None, late: late.clone() }));
            if let Some(peer) = peer {
                req.extensions_mut().insert(axum::extract::ConnectInfo(peer));
            }
            let answer = match app.oneshot(req).await {
                Ok(answer) => answer,
                Err(never) => match never {},
            };
            drop(turn);
            let answer = if late.load(Ordering::Relaxed) { body_too_slow(answer, body_timeout) } else { answer };
            Ok(answer.map(|body| Tracked { body, watch }))
        })
    }
}

fn is_liveness_probe(req: &Request<Incoming>) -> bool {
    matches!(*req.method(), Method::GET | Method::HEAD) && req.uri().path() == "/healthz"
}

fn with_close(mut answer: Response<Body>) -> Response<Body> {
    answer.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    answer
}

fn over_capacity() -> Response<Body> {
    let mut answer = with_close(ApiError::new(StatusCode::SERVICE_UNAVAILABLE, OVER_CAPACITY).into_response());
    answer.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static(RETRY_AFTER_SECS));
    answer
}

/// No turn to read the body came within `body_timeout`. The body stays unread, so the
/// connection closes.
fn no_turn() -> Response<Body> {
    let mut answer = with_close(ApiError::new(StatusCode::SERVICE_UNAVAILABLE, NO_TURN).into_response());
    answer.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static(RETRY_AFTER_SECS));
    answer
}

/// The body missed its deadline: the handler saw an error reading it and answered 4xx (or, if
/// it did not need the rest, something else, which stands). Either way the connection closes:
/// the rest of the body is still on its way.
fn body_too_slow(answer: Response<Body>, body_timeout: Duration) -> Response<Body> {
    if answer.status().is_success() || answer.status().is_redirection() {
        return with_close(answer);
    }
    let limit = sevwatch_core::Duration::from_millis(i64::try_from(body_timeout.as_millis()).unwrap_or(i64::MAX));
    with_close(
        ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            format!("the request body did not arrive within {limit} (server.body_timeout)"),
        )
        .into_response(),
    )
}

/// A request body that fails once its deadline passes.
struct Deadline {
    body: Incoming,
    deadline: Instant,
    /// Allocated the first time the body has to wait.
    alarm: Option<Pin<Box<Sleep>>>,
    late: Arc<AtomicBool>,
}

impl hyper::body::Body for Deadline {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        if let Poll::Ready(frame) = Pin::new(&mut this.body).poll_frame(cx) {
            return Poll::Ready(frame.map(|f| f.map_err(Into::into)));
        }
        let deadline = this.deadline;
        let alarm = this.alarm.get_or_insert_with(|| Box::pin(sleep_until(deadline)));
        if alarm.as_mut().poll(cx).is_ready() {
            this.late.store(true, Ordering::Relaxed);
            return Poll::Ready(Some(Err("the request body did not arrive within server.body_timeout".into())));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// An answer's body; hyper drops it once written, and the connection is idle from then on.
struct Tracked {
    body: Body,
    watch: Arc<Watch>,
}

impl hyper::body::Body for Tracked {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.get_mut().body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.watch.idle();
    }
}

#[cfg(test)]
mod tests;
