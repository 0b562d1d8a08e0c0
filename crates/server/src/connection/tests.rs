//! The body turns (`server.max_bodies_in_flight`) over real sockets: a router whose handler
//! holds its turn until the test lets it go, so who is inside is decided by the test. Bodies are
//! named by their first word and padded to the size a test wants.

use std::net::SocketAddr;
use std::sync::atomic::AtomicUsize;

use axum::routing::{get, post};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

use super::*;

/// The handlers' side: who came in, how many were in at once, and a gate the test opens.
#[derive(Clone)]
struct Inside {
    entered: mpsc::UnboundedSender<String>,
    now: Arc<AtomicUsize>,
    most: Arc<AtomicUsize>,
    gate: Arc<Semaphore>,
}

async fn hold(axum::extract::State(s): axum::extract::State<Inside>, body: String) -> String {
    let n = s.now.fetch_add(1, Ordering::SeqCst) + 1;
    s.most.fetch_max(n, Ordering::SeqCst);
    let body = body.split(' ').next().unwrap_or_default().to_string();
    s.entered.send(body.clone()).expect("the test listens");
    s.gate.acquire().await.expect("the gate stays open").forget();
    s.now.fetch_sub(1, Ordering::SeqCst);
    body
}

struct Harness {
    addr: SocketAddr,
    entered: mpsc::UnboundedReceiver<String>,
    inside: Inside,
    http: reqwest::Client,
}

/// A body of 32 KiB, which takes a whole turn.
const LARGE: usize = 32 * 1024;

/// Serve the hold router through [`run`] with `turns` body turns.
async fn start(turns: usize, body: Duration) -> Harness {
    let (tx, entered) = mpsc::unbounded_channel();
    let inside = Inside { entered: tx, now: Arc::default(), most: Arc::default(), gate: Arc::new(Semaphore::new(0)) };
    let app =
        Router::new().route("/hold", post(hold)).route("/peek", get(|| async { "ok" })).with_state(inside.clone());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let limits = Limits { header: Duration::from_secs(5), body, idle: Duration::from_secs(5) };
    let bodies: Bodies = Arc::new(Semaphore::new(turns * SHARES_PER_TURN as usize));
    tokio::spawn(async move {
        let (_stop, stopped) = watch::channel(false);
        let connections = Arc::new(Semaphore::new(64));
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let permit = connections.clone().try_acquire_owned().unwrap();
            tokio::spawn(run(stream, app.clone(), limits, Mode::Serve, bodies.clone(), stopped.clone(), permit));
        }
    });
    Harness { addr, entered, inside, http: reqwest::Client::new() }
}

impl Harness {
    /// Post `name` padded to `size` bytes.
    fn post(&self, name: &str, size: usize) -> tokio::task::JoinHandle<reqwest::Response> {
        let body = format!("{name} {}", "x".repeat(size.saturating_sub(name.len() + 1)));
        let req = self.http.post(format!("http://{}/hold", self.addr)).body(body);
        tokio::spawn(async move { req.send().await.expect("an answer") })
    }

    async fn next_in(&mut self) -> String {
        tokio::time::timeout(Duration::from_secs(5), self.entered.recv()).await.expect("a handler runs").unwrap()
    }

    fn release_one(&self) {
        self.inside.gate.add_permits(1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_waits_for_a_turn_and_is_let_in_when_a_handler_finishes() {
    let mut h = start(1, Duration::from_secs(10)).await;
    let a = h.post("a", LARGE);
    assert_eq!(h.next_in().await, "a");
    let b = h.post("b", LARGE);
    // The only turn is A's until the test lets A go: B must not come in meanwhile.
    let early = tokio::time::timeout(Duration::from_millis(300), h.entered.recv()).await;
    assert!(early.is_err(), "B came in while A held the only turn: {early:?}");
    let peek = h.http.get(format!("http://{}/peek", h.addr)).send().await.unwrap();
    assert_eq!(peek.status(), 200, "a request without a body never waits for a turn");
    h.release_one();
    assert_eq!(a.await.unwrap().status(), 200);
    assert_eq!(h.next_in().await, "b", "B queued, it did not fail");
    h.release_one();
    assert_eq!(b.await.unwrap().status(), 200);
    assert_eq!(h.inside.most.load(Ordering::SeqCst), 1, "never two bodies in at once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_gets_no_turn_within_the_body_timeout_gets_503_with_retry_after() {
    let mut h = start(2, Duration::from_millis(300)).await;
    let (a, b) = (h.post("a", LARGE), h.post("b", LARGE));
    let mut both = [h.next_in().await, h.next_in().await];
    both.sort();
    assert_eq!(both, ["a", "b"]);
    let began = Instant::now();
    let c = h.post("c", LARGE).await.unwrap();
    assert_eq!(c.status(), 503);
    assert!(began.elapsed() >= Duration::from_millis(250), "refused after {:?}", began.elapsed());
    assert_eq!(c.headers()["retry-after"], RETRY_AFTER_SECS);
    assert_eq!(c.headers()["connection"], "close");
    let problem: serde_json::Value = c.json().await.unwrap();
    assert!(problem["detail"].as_str().unwrap().contains("server.max_bodies_in_flight"), "{problem}");
    h.inside.gate.add_permits(2);
    assert_eq!(a.await.unwrap().status(), 200);
    assert_eq!(b.await.unwrap().status(), 200);
    assert!(h.entered.try_recv().is_err(), "C's handler never ran");
    assert_eq!(h.inside.most.load(Ordering::SeqCst), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn small_bodies_share_a_turn_and_a_large_one_waits_for_them() {
    let mut h = start(1, Duration::from_secs(10)).await;
    // 2 KiB each: a sixteenth of a turn, so sixteen of them are in at once.
    let small: Vec<_> = (0..16).map(|i| h.post(&format!("s{i}"), 2 * 1024)).collect();
    for _ in 0..16 {
        h.next_in().await;
    }
    let large = h.post("large", LARGE);
    let early = tokio::time::timeout(Duration::from_millis(300), h.entered.recv()).await;
    assert!(early.is_err(), "the large body came in while the small ones held the turn: {early:?}");
    h.inside.gate.add_permits(16);
    for s in small {
        assert_eq!(s.await.unwrap().status(), 200);
    }
    assert_eq!(h.next_in().await, "large");
    h.release_one();
    assert_eq!(large.await.unwrap().status(), 200);
    assert_eq!(h.inside.most.load(Ordering::SeqCst), 16);
}
