//! Durable timers under load: N open incidents, each with an escalation step pending, coming
//! due at a steady rate; the engine fires them while more incidents are declared. Prints the
//! firing lag (when the `paged` event was written minus when the step was due) at p50/p99/max
//! and the process's memory. In-process (store + engine, no HTTP), SQLite in a temporary
//! directory by default, or PostgreSQL with `--database-url`.

use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;
use sevwatch_core::{Command, Config, EventKind, IncidentId, Severity, Timestamp};
use sevwatch_store::{Backend, IncidentOp, Store};

#[derive(Parser)]
struct Args {
    /// Open incidents, each with one pending timer.
    #[arg(long, default_value_t = 100_000)]
    incidents: usize,
    /// Timers coming due per second (the declaration rate).
    #[arg(long, default_value_t = 1_000)]
    rate: usize,
    /// Delay of the second escalation step: how long each timer is pending. The default exceeds
    /// the declaration time (incidents / rate), so every timer is pending at once before the
    /// first comes due.
    #[arg(long, default_value_t = 105)]
    delay_secs: u64,
    /// Measure the lag on every n-th incident.
    #[arg(long, default_value_t = 10)]
    sample_every: usize,
    #[arg(long)]
    database_url: Option<String>,
}

fn rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

fn pct(sorted: &[i64], p: f64) -> i64 {
    sorted.get(((sorted.len().max(1) - 1) as f64 * p).round() as usize).copied().unwrap_or(0)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let a = Args::parse();
    let config = Config::from_toml_str(&format!(
        "[[users]]\nid = \"alice\"\nname = \"Alice\"\ncontacts = [{{ email = \"alice@example.com\" }}]\n\
         [[escalation_policies]]\nid = \"p2\"\nname = \"Medium\"\n\
         [[escalation_policies.steps]]\ndelay = \"0s\"\ntargets = [\"user:alice\"]\n\
         [[escalation_policies.steps]]\ndelay = \"{}s\"\ntargets = [\"channel:#incident-warning\"]\n",
        a.delay_secs
    ))
    .map_err(|p| anyhow::anyhow!("{p:?}"))?;
    let dir = tempfile::tempdir()?;
    let backend = match &a.database_url {
        Some(url) => Backend::Postgres { url: url.clone() },
        None => Backend::Sqlite { path: dir.path().join("timers.db") },
    };
    let store = Store::open_configured(&backend, &config).await.context("opening the store")?;
    let engine = sevwatch_server::engine::spawn(store.clone());
    let started = Instant::now();
    // Declarations paced at `rate`, from a few concurrent tasks so commits are shared.
    let tasks = 16;
    let per_task = a.incidents.div_ceil(tasks);
    let mut handles = Vec::new();
    for t in 0..tasks {
        let store = store.clone();
        let rate = a.rate;
        handles.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            for n in 0..per_task {
                let i = n * tasks + t;
                let due = Duration::from_secs_f64(i as f64 / rate as f64);
                if let Some(wait) = due.checked_sub(started.elapsed()) {
                    tokio::time::sleep(wait).await;
                }
                let cmd = Command::Declare {
                    title: format!("timer {i}"),
                    severity: Severity::P2,
                    service: None,
                    summary: None,
                };
                let op = IncidentOp { target: None, command: cmd, actor: "bench".into(), now: Timestamp::now() };
                match store.execute(op).await {
                    Ok(w) => ids.push(w.incident.id),
                    Err(e) => eprintln!("declare failed: {e}"),
                }
            }
            ids
        }));
    }
    let mut ids: Vec<IncidentId> = Vec::new();
    for h in handles {
        ids.extend(h.await?);
    }
    let declared_in = started.elapsed();
    let rss_loaded = rss_mib();
    // Wait until the last timer is due, plus a margin for the engine to catch up.
    tokio::time::sleep(Duration::from_secs(a.delay_secs) + Duration::from_secs(3)).await;
    ids.sort();
    let mut lags = Vec::new();
    let mut missing = 0;
    for id in ids.iter().step_by(a.sample_every) {
        let events = store.timeline(*id, 0, 100).await?;
        let triggered = events[0].event.at;
        let second = events.iter().find(|e| matches!(&e.event.kind, EventKind::Paged { step: 1, .. }));
        match second {
            Some(e) => {
                let due = triggered.as_millisecond() + (a.delay_secs as i64) * 1000;
                lags.push(e.event.at.as_millisecond() - due);
            }
            None => missing += 1,
        }
    }
    engine.abort();
    lags.sort_unstable();
    println!(
        "timers: {} incidents declared in {:.1}s ({:.0}/s), each with a pending step due {}s later; sampled {} ({} not fired)",
        ids.len(),
        declared_in.as_secs_f64(),
        ids.len() as f64 / declared_in.as_secs_f64(),
        a.delay_secs,
        lags.len(),
        missing
    );
    println!(
        "firing lag: p50 {} ms  p99 {} ms  max {} ms   RSS {:.1} MiB with every timer pending, {:.1} MiB at the end",
        pct(&lags, 0.5),
        pct(&lags, 0.99),
        lags.last().copied().unwrap_or(0),
        rss_loaded,
        rss_mib()
    );
    Ok(())
}
