//! Connection limits over a real socket (`serve_until`, as `sevwatch serve` runs it): deadlines
//! for headers, bodies and idle keep-alive, the connection cap's refusal, the early 413 and
//! graceful shutdown. Timeouts are a few hundred milliseconds, and every wait is on a socket
//! event (an answer, or a read returning 0 or an error) with an upper bound, never a sleep.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use sevwatch_core::{AccessRole, Config, Timestamp};
use sevwatch_server::AppState;
use sevwatch_store::{Backend, Store};
use sevwatch_testkit::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Longest any awaited socket event may take before the test fails.
const BOUND: Duration = Duration::from_secs(3);

struct Server {
    addr: SocketAddr,
    admin: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    served: tokio::task::JoinHandle<std::io::Result<()>>,
    _dir: TempDir,
}

async fn start(toml: &str) -> Server {
    let config = Config::from_toml_str(toml).unwrap_or_else(|p| panic!("{p:?}"));
    let dir = sevwatch_testkit::temp_dir();
    let store =
        Store::open_configured(&Backend::Sqlite { path: dir.path().join("sevwatch.db") }, &config).await.unwrap();
    let (admin, _) = store.create_token("admin", AccessRole::Admin, Timestamp::now()).await.unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let shutdown = async move {
        let _ = stopped.await;
    };
    let served = tokio::spawn(sevwatch_server::serve_until(listener, AppState::new(store, config), shutdown));
    Server { addr, admin, stop: Some(stop), served, _dir: dir }
}

struct Answer {
    status: u16,
    /// The header block, lower-cased.
    head: String,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }

    fn assert_problem(&self, status: u16) {
        assert_eq!(self.status, status, "{}\n{}", self.head, self.body);
        assert!(self.head.contains("content-type: application/problem+json"), "{}", self.head);
        assert_eq!(self.json()["status"], status);
    }
}

async fn connect(addr: SocketAddr) -> TcpStream {
    TcpStream::connect(addr).await.expect("the server accepts")
}

fn get(path: &str, token: Option<&str>) -> String {
    let auth = token.map(|t| format!("authorization: Bearer {t}\r\n")).unwrap_or_default();
    format!("GET {path} HTTP/1.1\r\nhost: test\r\n{auth}\r\n")
}

/// Read one whole answer (headers, then `content-length` bytes of body) within [`BOUND`].
async fn read_answer(stream: &mut TcpStream) -> Answer {
    let read = async {
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
                let length = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length: "))
                    .map(|n| n.trim().parse::<usize>().unwrap())
                    .unwrap_or(0);
                if buf.len() >= end + 4 + length {
                    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
                    let body = String::from_utf8_lossy(&buf[end + 4..end + 4 + length]).into_owned();
                    buf.drain(..end + 4 + length);
                    return Answer { status, head, body };
                }
            }
            let n = stream.read(&mut chunk).await.unwrap_or(0);
            assert!(n > 0, "the connection closed before a whole answer: {:?}", String::from_utf8_lossy(&buf));
            buf.extend_from_slice(&chunk[..n]);
        }
    };
    tokio::time::timeout(BOUND, read).await.expect("an answer within the bound")
}

/// Wait until the server closes `stream` (a read returns 0 or fails); the bytes it sent first.
async fn closed(stream: &mut TcpStream) -> Vec<u8> {
    let wait = async {
        let mut seen = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return seen,
                Ok(n) => seen.extend_from_slice(&chunk[..n]),
            }
        }
    };
    tokio::time::timeout(BOUND, wait).await.expect("the server closes the connection within the bound")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_trickles_its_headers_is_cut_off_at_the_header_timeout() {
    let server = start("[server]\nheader_timeout = \"300ms\"\nidle_timeout = \"10s\"\n").await;
    let (mut reader, mut writer) = connect(server.addr).await.into_split();
    let began = Instant::now();
    // A header line every 50 ms: each byte is progress, none of it finishes the headers.
    let trickle = tokio::spawn(async move {
        writer.write_all(b"GET /healthz HTTP/1.1\r\nhost: test\r\n").await?;
        for i in 0..100 {
            tokio::time::sleep(Duration::from_millis(50)).await;
            writer.write_all(format!("x-slow-{i}: y\r\n").as_bytes()).await?;
        }
        std::io::Result::Ok(())
    });
    let wait = async {
        let mut chunk = [0u8; 256];
        if let Ok(n @ 1..) = reader.read(&mut chunk).await {
            panic!("no answer is due, got {:?}", String::from_utf8_lossy(&chunk[..n]));
        }
    };
    tokio::time::timeout(BOUND, wait).await.expect("cut off within the bound");
    let took = began.elapsed();
    assert!(took >= Duration::from_millis(250), "cut off after {took:?}, before the header timeout");
    trickle.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_holds_back_its_body_gets_408_and_the_connection_closes() {
    let server = start("[server]\nbody_timeout = \"300ms\"\n").await;
    let mut s = connect(server.addr).await;
    let began = Instant::now();
    let head = format!(
        "POST /api/v1/incidents HTTP/1.1\r\nhost: test\r\nauthorization: Bearer {}\r\n\
         content-type: application/json\r\ncontent-length: 100\r\n\r\n{{\"title\":",
        server.admin
    );
    s.write_all(head.as_bytes()).await.unwrap();
    let answer = read_answer(&mut s).await;
    answer.assert_problem(408);
    assert!(answer.json()["detail"].as_str().unwrap().contains("server.body_timeout"), "{}", answer.body);
    assert!(answer.head.contains("connection: close"), "{}", answer.head);
    assert!(began.elapsed() >= Duration::from_millis(250), "answered after {:?}", began.elapsed());
    assert!(closed(&mut s).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_keep_alive_connection_is_closed_after_the_idle_timeout_not_the_header_timeout() {
    let server = start("[server]\nheader_timeout = \"100ms\"\nidle_timeout = \"600ms\"\n").await;
    let mut s = connect(server.addr).await;
    for _ in 0..2 {
        s.write_all(get("/healthz", None).as_bytes()).await.unwrap();
        let answer = read_answer(&mut s).await;
        assert_eq!((answer.status, answer.json()), (200, json!({ "status": "ok" })));
    }
    let idle_since = Instant::now();
    assert!(closed(&mut s).await.is_empty());
    let idle = idle_since.elapsed();
    assert!(idle >= Duration::from_millis(500), "closed after {idle:?}: the header timeout, not the idle one");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_the_connection_cap_requests_get_a_clear_503_while_healthz_still_answers() {
    // Long timeouts: the held connections must stay for the whole test.
    let server = start("[server]\nmax_connections = 2\nheader_timeout = \"10s\"\nidle_timeout = \"10s\"\n").await;
    let mut held = Vec::new();
    for _ in 0..2 {
        held.push(connect(server.addr).await);
    }
    let mut over = connect(server.addr).await;
    over.write_all(get("/api/v1/incidents", Some(&server.admin)).as_bytes()).await.unwrap();
    let answer = read_answer(&mut over).await;
    answer.assert_problem(503);
    assert!(answer.head.contains("retry-after: 1"), "{}", answer.head);
    assert!(answer.head.contains("connection: close"), "{}", answer.head);
    assert!(answer.json()["detail"].as_str().unwrap().contains("server.max_connections"), "{}", answer.body);
    assert!(closed(&mut over).await.is_empty());

    // The process is alive: a liveness probe says so even at the cap.
    let mut probe = connect(server.addr).await;
    probe.write_all(get("/healthz", None).as_bytes()).await.unwrap();
    assert_eq!(read_answer(&mut probe).await.json(), json!({ "status": "ok" }));

    // With the refusal slots full too, the refusal is written at once into the fresh socket,
    // before the client sends anything. A refusal slot is held for 250 ms at most: a slow
    // machine may free one before the last connection comes, so fill them again and retry.
    let mut written = String::new();
    for _ in 0..5 {
        for _ in 0..64 {
            held.push(connect(server.addr).await);
        }
        let mut last = connect(server.addr).await;
        written = String::from_utf8(closed(&mut last).await).unwrap();
        if !written.is_empty() {
            break;
        }
    }
    assert!(written.starts_with("HTTP/1.1 503 Service Unavailable\r\n"), "{written}");
    assert!(written.contains("retry-after: 1\r\n") && written.contains("server.max_connections"), "{written}");

    // The clients go away; their slots come back.
    drop(held);
    let deadline = Instant::now() + BOUND;
    loop {
        let mut s = connect(server.addr).await;
        s.write_all(get("/api/v1/incidents", Some(&server.admin)).as_bytes()).await.unwrap();
        let answer = read_answer(&mut s).await;
        if answer.status == 200 {
            break;
        }
        assert_eq!(answer.status, 503, "{}", answer.body);
        assert!(Instant::now() < deadline, "the slots did not come back");
        tokio::task::yield_now().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_filling_the_cap_are_cut_and_fresh_requests_are_served_again() {
    let server = start("[server]\nmax_connections = 2\nheader_timeout = \"300ms\"\n").await;
    let mut idle = vec![connect(server.addr).await, connect(server.addr).await];
    for s in &mut idle {
        assert!(closed(s).await.is_empty());
    }
    let mut s = connect(server.addr).await;
    s.write_all(get("/api/v1/incidents", Some(&server.admin)).as_bytes()).await.unwrap();
    let answer = read_answer(&mut s).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_content_length_over_the_limit_gets_413_before_the_body_is_sent() {
    let server = start("[server]\nmax_body_bytes = 2048\n").await;
    for expect in ["", "expect: 100-continue\r\n"] {
        let mut s = connect(server.addr).await;
        let head = format!(
            "POST /api/v1/incidents HTTP/1.1\r\nhost: test\r\nauthorization: Bearer {}\r\n\
             content-type: application/json\r\ncontent-length: 1000000\r\n{expect}\r\n",
            server.admin
        );
        // Headers only: a server that waited for the body would answer after body_timeout (30 s).
        s.write_all(head.as_bytes()).await.unwrap();
        let answer = read_answer(&mut s).await;
        answer.assert_problem(413);
        assert!(answer.json()["detail"].as_str().unwrap().contains("server.max_body_bytes"), "{}", answer.body);
        assert!(answer.head.contains("connection: close"), "{}", answer.head);
        assert!(closed(&mut s).await.is_empty());
    }
    // Within the limit, the same request goes through.
    let http = reqwest::Client::new();
    let resp = http
        .post(format!("http://{}/api/v1/incidents", server.addr))
        .bearer_auth(&server.admin)
        .json(&json!({ "title": "x", "severity": "P2" }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 201);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kept_alive_connections_carry_ordinary_requests_and_close_on_shutdown() {
    let mut server = start("").await;
    let http = reqwest::Client::new();
    let base = format!("http://{}", server.addr);
    for i in 0..5 {
        let resp = http
            .post(format!("{base}/api/v1/incidents"))
            .bearer_auth(&server.admin)
            .json(&json!({ "title": format!("incident {i}"), "severity": "P2" }))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 201);
    }
    let list: Value = http
        .get(format!("{base}/api/v1/incidents"))
        .bearer_auth(&server.admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["incidents"].as_array().map(Vec::len), Some(5), "{list}");

    let mut kept = connect(server.addr).await;
    kept.write_all(get("/healthz", None).as_bytes()).await.unwrap();
    assert_eq!(read_answer(&mut kept).await.status, 200);
    let _ = server.stop.take().expect("not stopped yet").send(());
    assert!(closed(&mut kept).await.is_empty());
    let served = tokio::time::timeout(BOUND, &mut server.served).await.expect("serve_until returns after shutdown");
    served.unwrap().unwrap();
    assert!(TcpStream::connect(server.addr).await.is_err(), "the listener is closed");
}
