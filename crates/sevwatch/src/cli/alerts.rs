//! `sevwatch alerts` and `sevwatch silence add|list|expire`.

use std::process::ExitCode;

use clap::{Args, Subcommand};
use serde_json::{json, Value};

use super::client::{enc, Client};
use super::output::{self, cell, s as field};

#[derive(Args)]
pub struct AlertsArgs {
    /// Only the alerts of this incident.
    #[arg(long)]
    pub incident: Option<String>,
    /// Only firing alerts.
    #[arg(long)]
    pub firing: bool,
    #[arg(long, default_value_t = 100)]
    pub limit: u32,
}

#[derive(Subcommand)]
pub enum SilenceCmd {
    /// Silence alerts matching every matcher (e.g. --matcher 'alertname="DiskFull"').
    Add {
        #[arg(long = "matcher", required = true)]
        matchers: Vec<String>,
        /// How long, e.g. 2h (or give --until).
        #[arg(long)]
        duration: Option<String>,
        /// End time, RFC 3339.
        #[arg(long)]
        until: Option<String>,
        /// Start time, RFC 3339 (default now).
        #[arg(long)]
        starts: Option<String>,
        #[arg(long)]
        comment: String,
    },
    /// List silences that have not ended (--all for every one).
    List {
        #[arg(long)]
        all: bool,
    },
    /// End a silence now.
    Expire { id: String },
}

pub async fn alerts(c: &Client, a: AlertsArgs, json_out: bool) -> anyhow::Result<ExitCode> {
    let mut q = vec![format!("limit={}", a.limit)];
    if let Some(i) = &a.incident {
        q.push(format!("incident={}", enc(i)));
    }
    if a.firing {
        q.push("status=firing".into());
    }
    let v = c.get(&format!("/api/v1/alerts?{}", q.join("&"))).await?;
    output::emit(&v, json_out, |v| {
        let mut out = String::new();
        for a in v["alerts"].as_array().into_iter().flatten() {
            let name =
                cell(a["alert"]["labels"]["alertname"].as_str().unwrap_or(a["fingerprint"].as_str().unwrap_or("")));
            let suppressed = a["suppressed"].as_str().map(|s| format!(" ({})", cell(s))).unwrap_or_default();
            out.push_str(&format!(
                "{:<9} {:<3} {:<9} x{:<5} {:<10} {name}{suppressed}\n",
                cell(a["incident"].as_str().unwrap_or("-")),
                field(a, "severity"),
                field(a, "status"),
                a["count"],
                field(a, "source")
            ));
        }
        if out.is_empty() {
            "no alerts\n".into()
        } else {
            out
        }
    })
}

pub async fn silence(c: &Client, cmd: SilenceCmd, json_out: bool) -> anyhow::Result<ExitCode> {
    match cmd {
        SilenceCmd::Add { matchers, duration, until, starts, comment } => {
            let v = c
                .post("/api/v1/silences", json!({ "matchers": matchers, "duration": duration, "ends_at": until, "starts_at": starts, "comment": comment }))
                .await?;
            output::emit(&v, json_out, |v| format!("{}\n", v["id"].as_str().unwrap_or("")))
        }
        SilenceCmd::List { all } => {
            let v = c.get(&format!("/api/v1/silences{}", if all { "?all=true" } else { "" })).await?;
            output::emit(&v, json_out, |v| {
                let mut out = String::new();
                for s in v["silences"].as_array().into_iter().flatten() {
                    let m: Vec<&str> =
                        s["matchers"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
                    out.push_str(&format!(
                        "{}  {} -> {}  by {}  {}  ({})\n",
                        field(s, "id"),
                        field(s, "starts_at"),
                        field(s, "ends_at"),
                        field(s, "created_by"),
                        cell(&m.join(", ")),
                        field(s, "comment")
                    ));
                }
                if out.is_empty() {
                    "no silences\n".into()
                } else {
                    out
                }
            })
        }
        SilenceCmd::Expire { id } => {
            c.delete(&format!("/api/v1/silences/{}", enc(&id))).await?;
            output::emit(&json!({ "expired": id }), json_out, |_| format!("expired silence {id}\n"))
        }
    }
}
