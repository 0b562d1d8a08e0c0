//! Incident commands: each becomes one API call; the answer is printed as text or JSON.

use std::process::ExitCode;

use clap::Args;
use serde_json::{json, Value};

use super::client::{enc, Client};
use super::output;
use super::Cmd;

#[derive(Args)]
pub struct DeclareArgs {
    /// P0-P4 or an alias (critical, high, SEV2, ...).
    #[arg(long)]
    pub severity: String,
    #[arg(long)]
    pub title: String,
    #[arg(long)]
    pub service: Option<String>,
    #[arg(long)]
    pub summary: Option<String>,
}

#[derive(Args)]
pub struct ListArgs {
    /// Comma-separated statuses, `open` or `all`.
    #[arg(long)]
    pub status: Option<String>,
    /// Comma-separated severities.
    #[arg(long)]
    pub severity: Option<String>,
    #[arg(long)]
    pub service: Option<String>,
    #[arg(long, default_value_t = 50)]
    pub limit: u32,
    /// Continue after this incident (the `next_cursor` of a previous page).
    #[arg(long)]
    pub cursor: Option<String>,
}

fn path(id: &str, action: &str) -> String {
    format!("/api/v1/incidents/{}/{action}", enc(id))
}

pub async fn run(c: &Client, cmd: Cmd, json_out: bool) -> anyhow::Result<ExitCode> {
    let answer = match cmd {
        Cmd::Declare(a) => {
            c.post(
                "/api/v1/incidents",
                json!({ "title": a.title, "severity": a.severity, "service": a.service, "summary": a.summary }),
            )
            .await?
        }
        Cmd::List(a) => {
            let mut q = vec![format!("limit={}", a.limit)];
            for (k, v) in [("status", a.status), ("severity", a.severity), ("service", a.service), ("cursor", a.cursor)]
            {
                if let Some(v) = v {
                    q.push(format!("{k}={}", enc(&v)));
                }
            }
            let v = c.get(&format!("/api/v1/incidents?{}", q.join("&"))).await?;
            return output::emit(&v, json_out, output::list);
        }
        Cmd::Show { id } => {
            let v = c.get(&format!("/api/v1/incidents/{}", enc(&id))).await?;
            return output::emit(&v, json_out, output::show);
        }
        Cmd::Ack { id } => c.post(&path(&id, "ack"), json!({})).await?,
        Cmd::Assign { id, role, to } => c.post(&path(&id, "assign"), json!({ "role": role, "to": to })).await?,
        Cmd::Status { id, status, note } => {
            c.post(&path(&id, "status"), json!({ "status": status, "note": note })).await?
        }
        Cmd::Severity { id, severity, reason } => {
            c.post(&path(&id, "severity"), json!({ "severity": severity, "reason": reason })).await?
        }
        Cmd::Note { id, text } => c.post(&path(&id, "notes"), json!({ "text": text })).await?,
        Cmd::Check { id, item, undo } => {
            c.post(&path(&id, if undo { "uncheck" } else { "check" }), json!({ "item": item })).await?
        }
        Cmd::Resolve { id, root_cause, force } => {
            c.post(&path(&id, "resolve"), json!({ "root_cause": root_cause, "force": force })).await?
        }
        Cmd::Close { id } => c.post(&path(&id, "close"), json!({})).await?,
        Cmd::Reopen { id, reason } => c.post(&path(&id, "reopen"), json!({ "reason": reason })).await?,
        Cmd::Timeline { id } => {
            let v = c.get(&path(&id, "timeline")).await?;
            return output::emit(&v, json_out, output::timeline);
        }
        Cmd::Verify { id } => {
            let v = match &id {
                Some(id) => c.get(&path(id, "verify")).await?,
                None => c.get("/api/v1/verify").await?,
            };
            let ok = v.get("ok").and_then(Value::as_bool).unwrap_or(false);
            output::emit(&v, json_out, output::verify)?;
            return Ok(if ok { ExitCode::SUCCESS } else { ExitCode::FAILURE });
        }
        Cmd::Serve(_)
        | Cmd::Token(_)
        | Cmd::Config(_)
        | Cmd::Runbook(_)
        | Cmd::Alerts(_)
        | Cmd::Silence(_)
        | Cmd::Oncall(_)
        | Cmd::Comms(_)
        | Cmd::Outbox(_)
        | Cmd::User(_)
        | Cmd::Escalate { .. } => {
            unreachable!("dispatched elsewhere")
        }
    };
    output::emit(&answer, json_out, output::changed)
}
