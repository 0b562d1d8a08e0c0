//! Drive incident commands over HTTP: each worker loops declare -> ack -> note -> resolve for a
//! fixed time, and the run prints commands/s and latency percentiles. Every command is a
//! durable write (answered after commit), so this measures group commit under concurrency.

use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::Parser;
use serde_json::{json, Value};

#[derive(Parser)]
struct Args {
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
    #[arg(long, env = "SEVWATCH_TOKEN")]
    token: String,
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Seconds to run.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Label printed with the results.
    #[arg(long, default_value = "")]
    label: String,
}

async fn post(http: &reqwest::Client, url: &str, token: &str, body: Value) -> anyhow::Result<Value> {
    let r = http.post(url).bearer_auth(token).json(&body).send().await?;
    let status = r.status();
    let v: Value = r.json().await?;
    if !status.is_success() {
        bail!("{status}: {v}");
    }
    Ok(v)
}

async fn worker(http: reqwest::Client, base: String, token: String, until: Instant) -> anyhow::Result<Vec<u32>> {
    let mut lat = Vec::with_capacity(1 << 16);
    let mut timed = |start: Instant| lat.push(start.elapsed().as_micros() as u32);
    let mut n = 0u64;
    while Instant::now() < until {
        n += 1;
        let t = Instant::now();
        let v = post(
            &http,
            &format!("{base}/api/v1/incidents"),
            &token,
            json!({ "title": format!("bench {n}"), "severity": "P2", "service": "bench" }),
        )
        .await?;
        timed(t);
        let id = v["id"].as_str().context("declare returns an id")?.to_string();
        for (path, body) in [
            ("ack", json!({})),
            ("notes", json!({ "text": "investigating under load" })),
            ("resolve", json!({ "root_cause": "benchmark", "force": true })),
        ] {
            let t = Instant::now();
            post(&http, &format!("{base}/api/v1/incidents/{id}/{path}"), &token, body).await?;
            timed(t);
        }
    }
    Ok(lat)
}

fn pct(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let a = Args::parse();
    let http = reqwest::Client::builder().pool_max_idle_per_host(a.concurrency).build()?;
    let start = Instant::now();
    let until = start + Duration::from_secs(a.seconds);
    let mut tasks = Vec::new();
    for _ in 0..a.concurrency {
        tasks.push(tokio::spawn(worker(http.clone(), a.url.clone(), a.token.clone(), until)));
    }
    let mut lat = Vec::new();
    for t in tasks {
        lat.extend(t.await??);
    }
    let secs = start.elapsed().as_secs_f64();
    lat.sort_unstable();
    println!(
        "{:<10} concurrency {:>3}  commands {:>7}  {:>8.0} commands/s  p50 {:>6.2} ms  p99 {:>6.2} ms  max {:>7.2} ms",
        a.label,
        a.concurrency,
        lat.len(),
        lat.len() as f64 / secs,
        pct(&lat, 0.50),
        pct(&lat, 0.99),
        pct(&lat, 1.0)
    );
    Ok(())
}
