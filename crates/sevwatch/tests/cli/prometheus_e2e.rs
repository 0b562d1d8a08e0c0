//! Prometheus -> Alertmanager -> Sevwatch with the real binaries, on loopback: a metric the test
//! serves goes bad, Prometheus fires a rule, Alertmanager posts its webhook to
//! `/api/v1/ingest/alertmanager`, and a P0 incident opens; the metric recovers, the resolved
//! webhook arrives, and after `[alerts] auto_resolve_after` the incident resolves by itself.
//! Skipped (failing under SEVWATCH_REQUIRE_ALL=1) when `prometheus` or `prometheus-alertmanager`
//! is not installed (Debian packages of those names; `.ci/run` installs them).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::helpers::{stderr, stdout, Server};

/// Every wait of the story shares this budget.
const DEADLINE: Duration = Duration::from_secs(60);

#[test]
fn a_prometheus_alert_opens_a_p0_incident_that_resolves_when_the_metric_recovers() {
    let (Some(prometheus), Some(alertmanager)) = (which("prometheus"), which("prometheus-alertmanager")) else {
        sevwatch_testkit::skip(
            "Prometheus end-to-end test",
            "`prometheus` or `prometheus-alertmanager` is not on PATH (apt-get install prometheus prometheus-alertmanager)",
        );
        return;
    };
    let started = Instant::now();
    let deadline = started + DEADLINE;
    let dir = sevwatch_testkit::temp_dir();
    let d = dir.path();

    let target = MetricsTarget::start();
    let config = d.join("sevwatch.toml");
    std::fs::write(&config, "[alerts]\nauto_resolve_after = \"2s\"\n").expect("the config is written");
    let sw = Server::start_with(&d.join("data"), None, Some(&config));
    let out = sw.sw(&["token", "create", "--role", "ingest", "--name", "alertmanager"]);
    assert!(out.status.success(), "token create: {}", stderr(&out));
    let ingest = stdout(&out).trim().to_string();

    let am_port = free_port();
    std::fs::write(
        d.join("alertmanager.yml"),
        format!(
            r#"route:
  receiver: sevwatch
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: sevwatch
    webhook_configs:
      - url: "{}/api/v1/ingest/alertmanager"
        send_resolved: true
        http_config:
          authorization:
            credentials: "{ingest}"
"#,
            sw.url
        ),
    )
    .expect("the Alertmanager config is written");
    let am = Proc::spawn(
        "alertmanager",
        Command::new(&alertmanager)
            .arg(format!("--config.file={}", d.join("alertmanager.yml").display()))
            .arg(format!("--storage.path={}", d.join("am-data").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{am_port}"))
            .arg("--cluster.listen-address=")
            .arg("--log.level=warn"),
        d,
    );

    let prom_port = free_port();
    std::fs::write(
        d.join("rules.yml"),
        r#"groups:
  - name: demo
    rules:
      - alert: DemoDown
        expr: demo_up == 0
        for: 0s
        labels:
          severity: critical
          service: demo
        annotations:
          summary: the demo service is down
"#,
    )
    .expect("the rules are written");
    std::fs::write(
        d.join("prometheus.yml"),
        format!(
            r#"global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - "{}"
alerting:
  alertmanagers:
    - static_configs:
        - targets: ["127.0.0.1:{am_port}"]
scrape_configs:
  - job_name: demo
    static_configs:
      - targets: ["{}"]
"#,
            d.join("rules.yml").display(),
            target.addr
        ),
    )
    .expect("the Prometheus config is written");
    let prom = Proc::spawn(
        "prometheus",
        Command::new(&prometheus)
            .arg(format!("--config.file={}", d.join("prometheus.yml").display()))
            .arg(format!("--storage.tsdb.path={}", d.join("prom-data").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{prom_port}"))
            .arg("--log.level=warn"),
        d,
    );
    let procs = [&am, &prom];
    let am_url = format!("http://127.0.0.1:{am_port}");
    let prom_url = format!("http://127.0.0.1:{prom_port}");
    let diagnose = || diagnostics(&procs, &prom_url, &am_url);
    let http = Http::new();
    wait_until("Alertmanager is ready", deadline, &diagnose, || http.get(&format!("{am_url}/-/ready"), None).ok());
    wait_until("Prometheus is ready", deadline, &diagnose, || http.get(&format!("{prom_url}/-/ready"), None).ok());

    // Down: an open P0 incident with a firing alert.
    let token = sw.admin_token();
    let incident = wait_until("a P0 incident is open", deadline, &diagnose, || {
        let v = http.json(&format!("{}/api/v1/incidents?status=open", sw.url), &token).ok()?;
        v["incidents"].as_array()?.iter().find(|i| i["severity"] == "P0").cloned()
    });
    let id = incident["id"].as_str().expect("an incident has an id").to_string();
    let alerts_url = format!("{}/api/v1/alerts?incident={id}", sw.url);
    let alert = wait_until("the incident lists its firing alert", deadline, &diagnose, || {
        let v = http.json(&alerts_url, &token).ok()?;
        v["alerts"].as_array()?.iter().find(|a| a["status"] == "firing").cloned()
    });
    let fingerprint = alert["fingerprint"].as_str().expect("an alert has a fingerprint").to_string();
    eprintln!("{id} opened at P0 after {:.1}s: {incident}\nalert: {alert}", started.elapsed().as_secs_f64());

    // Healthy again: the alert resolves, then (after auto_resolve_after) the incident.
    target.down.store(false, Ordering::SeqCst);
    let recovered = Instant::now();
    let resolved_alert = wait_until("the alert is resolved", deadline, &diagnose, || {
        let v = http.json(&alerts_url, &token).ok()?;
        let a = v["alerts"].as_array()?.iter().find(|a| a["fingerprint"] == fingerprint.as_str())?.clone();
        (a["status"] == "resolved").then_some(a)
    });
    let resolved = wait_until("the incident is resolved", deadline, &diagnose, || {
        let v = http.json(&format!("{}/api/v1/incidents/{id}", sw.url), &token).ok()?;
        (v["status"] == "resolved").then_some(v)
    });
    eprintln!(
        "alert resolved: {resolved_alert}\n{id} resolved {:.1}s after the metric recovered ({:.1}s in all)",
        recovered.elapsed().as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    assert_eq!(resolved["severity"], "P0", "{resolved}");
    let others = http.json(&format!("{}/api/v1/incidents?status=open", sw.url), &token).expect("incidents are listed");
    assert_eq!(others["incidents"].as_array().map(Vec::len), Some(0), "no other incident opened: {others}");
    drop(prom);
    drop(am);
}

/// Poll `check` (every 200 ms) until it returns a value; panic with `diagnose()` at `deadline`.
fn wait_until<T>(
    what: &str,
    deadline: Instant,
    diagnose: &dyn Fn() -> String,
    mut check: impl FnMut() -> Option<T>,
) -> T {
    loop {
        if let Some(v) = check() {
            return v;
        }
        if Instant::now() >= deadline {
            panic!("timed out waiting until {what}\n{}", diagnose());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// What Prometheus and Alertmanager think, and the end of their logs, for a failure message.
fn diagnostics(procs: &[&Proc], prom_url: &str, am_url: &str) -> String {
    let http = Http::new();
    let mut s = String::new();
    for url in [format!("{prom_url}/api/v1/alerts"), format!("{am_url}/api/v2/alerts")] {
        s += &format!("GET {url}: {}\n", http.get(&url, None).unwrap_or_else(|e| e));
    }
    for p in procs {
        let log = std::fs::read_to_string(&p.log).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(20).collect();
        s += &format!("--- {} log (last lines) ---\n", p.name);
        for l in tail.iter().rev() {
            s += l;
            s += "\n";
        }
    }
    s
}

/// A child process killed and reaped on drop, its stderr kept in a file for diagnostics.
struct Proc {
    name: &'static str,
    child: Child,
    log: PathBuf,
}

impl Proc {
    fn spawn(name: &'static str, cmd: &mut Command, dir: &Path) -> Proc {
        let log = dir.join(format!("{name}.log"));
        let file = std::fs::File::create(&log).expect("the log file is created");
        let child = cmd
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(file.try_clone().expect("the log file handle is cloned"))
            .stderr(file)
            .spawn()
            .unwrap_or_else(|e| panic!("{name} starts: {e}"));
        Proc { name, child, log }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The scrape target: `/metrics` answers `demo_up 0` while `down` is set, `demo_up 1` after.
struct MetricsTarget {
    addr: String,
    down: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl MetricsTarget {
    fn start() -> MetricsTarget {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port is free");
        let addr = listener.local_addr().expect("the listener has an address").to_string();
        // Non-blocking so the thread notices `stop` and ends with the test.
        listener.set_nonblocking(true).expect("the listener can be non-blocking");
        let (down, stop) = (Arc::new(AtomicBool::new(true)), Arc::new(AtomicBool::new(false)));
        let (d, s) = (down.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((conn, _)) => serve_metrics(conn, d.load(Ordering::SeqCst)),
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(10));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        MetricsTarget { addr, down, stop, thread: Some(thread) }
    }
}

impl Drop for MetricsTarget {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve_metrics(mut conn: TcpStream, down: bool) {
    let _ = conn.set_nonblocking(false);
    let _ = conn.set_read_timeout(Some(Duration::from_secs(2)));
    let mut req = Vec::new();
    let mut buf = [0u8; 4096];
    while !req.windows(4).any(|w| w == b"\r\n\r\n") && req.len() < 65_536 {
        match conn.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => req.extend_from_slice(&buf[..n]),
        }
    }
    let body =
        format!("# HELP demo_up Whether the demo service is up.\n# TYPE demo_up gauge\ndemo_up {}\n", u8::from(!down));
    let _ = write!(
        conn,
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}

/// A free loopback port for servers that cannot be told to pick one: bound, then released.
fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("a loopback port is free");
    l.local_addr().expect("the listener has an address").port()
}

fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/bin"), PathBuf::from("/usr/local/bin")])
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// Blocking GETs for a synchronous test: one small runtime, a client that ignores proxies.
struct Http {
    rt: tokio::runtime::Runtime,
    client: reqwest::Client,
}

impl Http {
    fn new() -> Http {
        Http {
            rt: tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime starts"),
            client: reqwest::Client::builder()
                .no_proxy()
                .timeout(Duration::from_secs(5))
                .build()
                .expect("an HTTP client builds"),
        }
    }

    /// The body of a 2xx answer, or a description of what came instead.
    fn get(&self, url: &str, token: Option<&str>) -> Result<String, String> {
        self.rt.block_on(async {
            let mut req = self.client.get(url);
            if let Some(t) = token {
                req = req.bearer_auth(t);
            }
            let r = req.send().await.map_err(|e| format!("{e}"))?;
            let status = r.status();
            let text = r.text().await.map_err(|e| format!("{e}"))?;
            if status.is_success() {
                Ok(text)
            } else {
                Err(format!("{status}: {text}"))
            }
        })
    }

    fn json(&self, url: &str, token: &str) -> Result<Value, String> {
        let text = self.get(url, Some(token))?;
        serde_json::from_str(&text).map_err(|e| format!("not JSON ({e}): {text}"))
    }
}
