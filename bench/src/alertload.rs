//! Flood an alert receiver over HTTP and print alerts/s and latency percentiles. Three targets
//! share one alert set, so their figures compare: Sevwatch's Alertmanager webhook
//! (`/api/v1/ingest/alertmanager`), Sevwatch's PagerDuty Events v2 endpoint (`/v2/enqueue`), and
//! a real Alertmanager's API v2 (`/api/v2/alerts`).
//!
//! The alert set is `--fingerprints` distinct alerts (label `instance` differs), in groups of
//! `--group-size` sharing an `alertname` (so Sevwatch opens one incident per group, as
//! Alertmanager would send one webhook per group). Requests carry `--batch` consecutive alerts
//! and cycle through the set with one shared counter, so after the first pass every request
//! repeats known fingerprints. Whole requests (head and body) are serialized once before the
//! clock starts and written over raw sockets: the load generator shares the machine's cores
//! with the server and should spend as little of them as it can.
//!
//! Each of the `--concurrency` workers owns one keep-alive connection and sends its next request
//! when the previous answer has been read (closed loop). `--verify` then reads back what
//! Sevwatch stored (open incidents and their alerts) and compares it with what was sent.
//! `--record FILE` appends one tab-separated line per run for `bench/alerts.sh`'s summary.

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context};
use clap::{Parser, ValueEnum};
use serde_json::{json, Map, Value};

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Target {
    /// Sevwatch `POST /api/v1/ingest/alertmanager` (Alertmanager webhook, version 4).
    Webhook,
    /// Sevwatch `POST /v2/enqueue` (PagerDuty Events API v2; one event per request).
    Pagerduty,
    /// Prometheus Alertmanager `POST /api/v2/alerts` (a JSON array of alerts).
    Alertmanager,
}

#[derive(Parser)]
struct Args {
    #[arg(long, value_enum, default_value = "webhook")]
    target: Target,
    /// Base URL of the receiver, e.g. http://127.0.0.1:8080.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
    /// Ingest token (Sevwatch targets): a Bearer header for the webhook, the `routing_key` for
    /// PagerDuty events.
    #[arg(long, env = "SEVWATCH_TOKEN", default_value = "")]
    token: String,
    /// Token allowed to read incidents and alerts, for `--verify` (defaults to `--token`).
    #[arg(long)]
    read_token: Option<String>,
    /// Alerts per request.
    #[arg(long, default_value_t = 1)]
    batch: usize,
    /// Connections, each with one request in flight.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Seconds of load.
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// Distinct alerts (fingerprints) cycled through.
    #[arg(long, default_value_t = 10_000)]
    fingerprints: usize,
    /// Alerts sharing one alertname (one Sevwatch incident each under the default grouping).
    #[arg(long, default_value_t = 100)]
    group_size: usize,
    /// Runtime threads of the load generator (one is plenty for hand-written HTTP/1.1, and
    /// leaves more of the machine to the server under test).
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Label printed with the results.
    #[arg(long, default_value = "")]
    label: String,
    /// After the run, read back what the receiver stored and compare it with what was sent.
    #[arg(long)]
    verify: bool,
    /// Append one tab-separated result line to this file.
    #[arg(long)]
    record: Option<std::path::PathBuf>,
    /// Process id of the server: its resident memory (VmRSS) is read after the load stops.
    #[arg(long)]
    server_pid: Option<u32>,
    /// Print a free loopback port and exit (for starting servers that cannot take port 0).
    #[arg(long)]
    free_port: bool,
    /// Wait (up to 30 s) until GET of this URL answers 2xx, then exit; exit 1 on timeout.
    #[arg(long)]
    wait: Option<String>,
}

/// One pre-serialized request body and how many alerts it carries.
struct Body {
    bytes: &'static [u8],
    alerts: u64,
}

struct Outcome {
    latencies_us: Vec<u32>,
    alerts_ok: u64,
    errors: u64,
}

fn main() -> anyhow::Result<()> {
    let a = Args::parse();
    if a.free_port {
        let l = std::net::TcpListener::bind("127.0.0.1:0").context("binding 127.0.0.1:0")?;
        println!("{}", l.local_addr()?.port());
        return Ok(());
    }
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(a.threads.max(1)).enable_all().build()?;
    if let Some(url) = &a.wait {
        return rt.block_on(wait_ready(url));
    }
    if a.batch == 0 || a.fingerprints == 0 || a.group_size == 0 || a.concurrency == 0 {
        bail!("--batch, --fingerprints, --group-size and --concurrency must be at least 1");
    }
    if a.target == Target::Pagerduty && a.batch != 1 {
        bail!("PagerDuty Events API v2 carries one event per request: use --batch 1");
    }
    rt.block_on(run(a))
}

async fn wait_ready(url: &str) -> anyhow::Result<()> {
    let http = client()?;
    let until = Instant::now() + Duration::from_secs(30);
    while Instant::now() < until {
        if let Ok(r) = http.get(url).timeout(Duration::from_secs(2)).send().await {
            if r.status().is_success() {
                return Ok(());
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("{url} did not answer 2xx within 30 s")
}

fn client() -> anyhow::Result<reqwest::Client> {
    // no_proxy: a proxy from the environment must never see loopback benchmark traffic.
    Ok(reqwest::Client::builder()
        .no_proxy()
        .tcp_nodelay(true)
        .pool_max_idle_per_host(1)
        .timeout(Duration::from_secs(30))
        .build()?)
}

async fn run(a: Args) -> anyhow::Result<()> {
    let bodies: Arc<Vec<Body>> = Arc::new(bodies(&a));
    let (path, auth) = match a.target {
        Target::Webhook => ("/api/v1/ingest/alertmanager", Some(format!("Bearer {}", a.token))),
        Target::Pagerduty => ("/v2/enqueue", None),
        Target::Alertmanager => ("/api/v2/alerts", None),
    };
    let addr =
        a.url.strip_prefix("http://").context("--url must be http://HOST:PORT")?.trim_end_matches('/').to_string();
    let requests: Arc<Vec<Vec<u8>>> =
        Arc::new(bodies.iter().map(|b| request_bytes(&addr, path, auth.as_deref(), b.bytes)).collect());
    let counter = Arc::new(AtomicU64::new(0));
    let first_error = Arc::new(Mutex::new(None::<String>));
    let start = Instant::now();
    let until = start + Duration::from_secs_f64(a.seconds);
    let mut tasks = Vec::new();
    for _ in 0..a.concurrency {
        let w = Worker {
            addr: addr.clone(),
            requests: requests.clone(),
            bodies: bodies.clone(),
            counter: counter.clone(),
            first_error: first_error.clone(),
        };
        tasks.push(tokio::spawn(w.run(until)));
    }
    let mut lat = Vec::new();
    let (mut alerts, mut errors) = (0u64, 0u64);
    for t in tasks {
        let o = t.await?;
        lat.extend(o.latencies_us);
        alerts += o.alerts_ok;
        errors += o.errors;
    }
    let secs = start.elapsed().as_secs_f64();
    lat.sort_unstable();
    let rss = a.server_pid.and_then(rss_mib);
    let rate = alerts as f64 / secs;
    let (p50, p99) = (pct(&lat, 0.50), pct(&lat, 0.99));
    println!(
        "{:<22} batch {:>3}  conns {:>2}  requests {:>7}  {:>8.0} alerts/s  p50 {:>6.2} ms  p99 {:>6.2} ms  max {:>7.2} ms  errors {}  RSS {}",
        a.label,
        a.batch,
        a.concurrency,
        lat.len(),
        rate,
        p50,
        p99,
        pct(&lat, 1.0),
        errors,
        rss.map_or("-".to_string(), |m| format!("{m:.1} MiB"))
    );
    if let Some(e) = first_error.lock().expect("no worker panics holding the lock").as_ref() {
        println!("  first error: {e}");
    }
    if let Some(path) = &a.record {
        let mut f = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
        let target = match a.target {
            Target::Webhook => "webhook",
            Target::Pagerduty => "pagerduty",
            Target::Alertmanager => "alertmanager",
        };
        writeln!(
            f,
            "{}\t{target}\t{}\t{}\t{}\t{rate:.0}\t{p50:.2}\t{p99:.2}\t{errors}\t{}",
            a.label,
            a.batch,
            a.concurrency,
            lat.len(),
            rss.map_or("-".to_string(), |m| format!("{m:.1}"))
        )?;
    }
    if a.verify {
        let sent_distinct = (a.fingerprints as u64).min(counter.load(Ordering::Relaxed) * a.batch as u64);
        verify(&a, alerts, sent_distinct).await?;
    }
    Ok(())
}

/// One closed-loop connection. HTTP/1.1 is written and read by hand over a raw socket: the
/// load generator shares the two cores with the server, and a full client (reqwest) spent about
/// 50 us of CPU per request here, a third of what it was measuring.
struct Worker {
    addr: String,
    requests: Arc<Vec<Vec<u8>>>,
    bodies: Arc<Vec<Body>>,
    counter: Arc<AtomicU64>,
    first_error: Arc<Mutex<Option<String>>>,
}

impl Worker {
    async fn run(self, until: Instant) -> Outcome {
        let mut o = Outcome { latencies_us: Vec::with_capacity(1 << 16), alerts_ok: 0, errors: 0 };
        let mut conn: Option<tokio::net::TcpStream> = None;
        let mut buf = Vec::with_capacity(16 * 1024);
        while Instant::now() < until {
            let i = self.counter.fetch_add(1, Ordering::Relaxed) as usize % self.bodies.len();
            let t = Instant::now();
            let failure = match exchange(&mut conn, &self.addr, &self.requests[i], &mut buf).await {
                Ok(200..=299) => {
                    o.latencies_us.push(t.elapsed().as_micros().min(u32::MAX as u128) as u32);
                    o.alerts_ok += self.bodies[i].alerts;
                    None
                }
                Ok(status) => Some(format!("{status}: {}", String::from_utf8_lossy(&buf[..buf.len().min(600)]))),
                Err(e) => {
                    conn = None;
                    Some(format!("{e:#}"))
                }
            };
            if let Some(f) = failure {
                o.errors += 1;
                {
                    let mut first = self.first_error.lock().expect("no worker panics holding the lock");
                    if first.is_none() {
                        *first = Some(f);
                    }
                }
                // A refusing server answers instantly; do not spin on it.
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
        o
    }
}

/// `POST path` with `body`, as complete request bytes (headers and body), built once.
fn request_bytes(host: &str, path: &str, auth: Option<&str>, body: &[u8]) -> Vec<u8> {
    let mut head = format!(
        "POST {path} HTTP/1.1\r\nhost: {host}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n",
        body.len()
    );
    if let Some(a) = auth {
        head.push_str(&format!("authorization: {a}\r\n"));
    }
    head.push_str("\r\n");
    let mut out = head.into_bytes();
    out.extend_from_slice(body);
    out
}

/// Send one request on the kept-alive connection (connecting first if there is none) and read
/// the whole response; returns its status, with the body left in `buf`.
async fn exchange(
    conn: &mut Option<tokio::net::TcpStream>,
    addr: &str,
    request: &[u8],
    buf: &mut Vec<u8>,
) -> anyhow::Result<u16> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    if conn.is_none() {
        let s = tokio::net::TcpStream::connect(addr).await.with_context(|| format!("connecting to {addr}"))?;
        s.set_nodelay(true)?;
        *conn = Some(s);
    }
    let s = conn.as_mut().expect("connected above");
    s.write_all(request).await.context("writing the request")?;
    buf.clear();
    let mut chunk = [0u8; 8192];
    let (status, head_len, length, close) = loop {
        let n = s.read(&mut chunk).await.context("reading the response")?;
        if n == 0 {
            bail!("the server closed the connection");
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = std::str::from_utf8(&buf[..end]).context("response head is not UTF-8")?;
            let status: u16 = head.get(9..12).and_then(|s| s.parse().ok()).context("no status line")?;
            let mut length = None;
            let mut close = false;
            for line in head.split("\r\n").skip(1) {
                let Some((k, v)) = line.split_once(':') else { continue };
                let (k, v) = (k.trim().to_ascii_lowercase(), v.trim());
                match k.as_str() {
                    "content-length" => length = v.parse::<usize>().ok(),
                    "transfer-encoding" if v.eq_ignore_ascii_case("chunked") => bail!("chunked responses are not read"),
                    "connection" if v.eq_ignore_ascii_case("close") => close = true,
                    _ => {}
                }
            }
            break (status, end + 4, length.unwrap_or(0), close);
        }
    };
    while buf.len() < head_len + length {
        let n = s.read(&mut chunk).await.context("reading the response body")?;
        if n == 0 {
            bail!("the server closed the connection mid-body");
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    buf.drain(..head_len);
    if close {
        *conn = None;
    }
    Ok(status)
}

/// VmRSS of process `pid` in MiB, from /proc.
fn rss_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn pct(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

const SEVERITIES: [&str; 4] = ["critical", "high", "warning", "info"];
/// PagerDuty knows four severities; `error` is the one Sevwatch maps like `high`.
const PD_SEVERITIES: [&str; 4] = ["critical", "error", "warning", "info"];

/// Labels of alert `i` of the set, sorted by name.
fn labels(i: usize, group_size: usize) -> Map<String, Value> {
    let g = i / group_size;
    let mut m = Map::new();
    m.insert("alertname".into(), json!(format!("BenchAlert{g:04}")));
    m.insert("instance".into(), json!(format!("host-{i:05}.bench:9100")));
    m.insert("job".into(), json!("bench"));
    m.insert("severity".into(), json!(SEVERITIES[g % SEVERITIES.len()]));
    m
}

/// Alertmanager's fingerprint shape: FNV-1a 64 over the sorted label pairs, 16 hex digits.
fn fingerprint(labels: &Map<String, Value>) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (k, v) in labels {
        for b in k.bytes().chain([0xff]).chain(v.as_str().unwrap_or("").bytes()).chain([0xff]) {
            h ^= b as u64;
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

fn bodies(a: &Args) -> Vec<Body> {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let starts_at = rfc3339(now);
    let ends_at = rfc3339(now + 3600);
    let mut out = Vec::new();
    let mut first = 0;
    while first < a.fingerprints {
        let last = (first + a.batch).min(a.fingerprints);
        let value = match a.target {
            Target::Webhook => webhook(a, first..last, &starts_at),
            Target::Pagerduty => pagerduty(a, first),
            Target::Alertmanager => Value::Array(
                (first..last)
                    .map(|i| {
                        json!({
                            "labels": labels(i, a.group_size),
                            "annotations": { "summary": format!("bench alert {i}") },
                            "startsAt": starts_at,
                            "endsAt": ends_at,
                            "generatorURL": format!("http://127.0.0.1:9090/graph?g0.expr=bench{i}"),
                        })
                    })
                    .collect(),
            ),
        };
        let bytes: &'static [u8] =
            Box::leak(serde_json::to_vec(&value).expect("JSON values serialize").into_boxed_slice());
        out.push(Body { bytes, alerts: (last - first) as u64 });
        first = last;
    }
    out
}

/// One Alertmanager webhook (version 4) carrying alerts `range`, shaped as Alertmanager sends
/// it: the group's labels and the labels every alert shares lifted to the envelope.
fn webhook(a: &Args, range: std::ops::Range<usize>, starts_at: &str) -> Value {
    let first = labels(range.start, a.group_size);
    let alerts: Vec<Value> = range
        .map(|i| {
            let l = labels(i, a.group_size);
            json!({
                "status": "firing",
                "fingerprint": fingerprint(&l),
                "labels": l,
                "annotations": { "summary": format!("bench alert {i}") },
                "startsAt": starts_at,
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": format!("http://127.0.0.1:9090/graph?g0.expr=bench{i}"),
            })
        })
        .collect();
    let mut common = first.clone();
    if alerts.len() > 1 {
        common.remove("instance");
    }
    json!({
        "version": "4",
        "groupKey": format!("{{}}:{{alertname=\"{}\"}}", first["alertname"].as_str().unwrap_or("")),
        "truncatedAlerts": 0,
        "status": "firing",
        "receiver": "sevwatch",
        "groupLabels": { "alertname": first["alertname"] },
        "commonLabels": common,
        "commonAnnotations": {},
        "externalURL": "http://127.0.0.1:9093",
        "alerts": alerts,
    })
}

fn pagerduty(a: &Args, i: usize) -> Value {
    let g = i / a.group_size;
    json!({
        "routing_key": a.token,
        "event_action": "trigger",
        "dedup_key": format!("bench-{i:05}"),
        "payload": {
            "summary": format!("BenchAlert{g:04} on host-{i:05}"),
            "source": format!("host-{i:05}.bench"),
            "severity": PD_SEVERITIES[g % PD_SEVERITIES.len()],
            "class": format!("BenchAlert{g:04}"),
            "component": "bench",
            "group": format!("BenchAlert{g:04}"),
        },
        "client": "sevwatch alertload",
    })
}

/// `secs` since the Unix epoch as `YYYY-MM-DDTHH:MM:SSZ` (civil-from-days, H. Hinnant).
fn rfc3339(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// Read back what the receiver stored and print it next to what was sent.
async fn verify(a: &Args, alerts_sent: u64, distinct_sent: u64) -> anyhow::Result<()> {
    let http = client()?;
    if a.target == Target::Alertmanager {
        let v: Value = http.get(format!("{}/api/v2/alerts?active=true", a.url)).send().await?.json().await?;
        let n = v.as_array().map_or(0, |x| x.len());
        println!("  verify: Alertmanager holds {n} active alerts (distinct sent {distinct_sent})");
        return Ok(());
    }
    let token = a.read_token.as_deref().unwrap_or(&a.token);
    let get = |path: String| {
        let http = http.clone();
        let url = format!("{}{path}", a.url);
        let token = token.to_string();
        async move {
            let r = http.get(&url).bearer_auth(token).send().await.with_context(|| format!("GET {url}"))?;
            let status = r.status();
            let text = r.text().await?;
            if !status.is_success() {
                bail!("GET {url}: {status}: {text}");
            }
            serde_json::from_str::<Value>(&text).with_context(|| format!("GET {url}: not JSON: {text}"))
        }
    };
    let mut incidents = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..1000 {
        let page = match &cursor {
            None => get("/api/v1/incidents?status=open&limit=100".to_string()).await?,
            Some(c) => get(format!("/api/v1/incidents?status=open&limit=100&cursor={c}")).await?,
        };
        incidents.extend(page["incidents"].as_array().cloned().unwrap_or_default());
        match page["next_cursor"].as_str() {
            Some(c) if !c.is_empty() => cursor = Some(c.to_string()),
            _ => break,
        }
    }
    let mut distinct = 0u64;
    let mut counted = 0u64;
    let mut severities = std::collections::BTreeMap::<String, u64>::new();
    for inc in &incidents {
        let id = inc["id"].as_str().context("an incident has an id")?;
        *severities.entry(inc["severity"].as_str().unwrap_or("?").to_string()).or_default() += 1;
        let v = get(format!("/api/v1/alerts?incident={id}&limit=10000")).await?;
        for al in v["alerts"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
            distinct += 1;
            counted += al["count"].as_u64().unwrap_or(0);
        }
    }
    let ok = distinct == distinct_sent && counted == alerts_sent;
    println!(
        "  verify: {} open incidents {:?}, {distinct} alerts (distinct sent {distinct_sent}), counts sum {counted} (alerts acknowledged {alerts_sent}){}",
        incidents.len(),
        severities,
        if ok { "" } else { "  <-- MISMATCH" }
    );
    Ok(())
}
