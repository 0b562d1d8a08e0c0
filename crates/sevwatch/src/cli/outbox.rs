//! `sevwatch outbox list|show|retry` and `sevwatch user list|show|set|remove`.

use std::process::ExitCode;

use clap::Subcommand;
use serde_json::{json, Value};

use super::client::{enc, Client};
use super::output::{self, cell, s as field};

#[derive(Subcommand)]
pub enum OutboxCmd {
    /// Messages, newest first.
    List {
        /// pending, sending, sent or dead.
        #[arg(long)]
        status: Option<String>,
        #[arg(long)]
        incident: Option<String>,
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
    /// One message: its text and every delivery attempt.
    Show { id: String },
    /// Queue a dead message again (or every dead message with --all-dead).
    Retry {
        #[arg(required_unless_present = "all_dead")]
        id: Option<String>,
        #[arg(long, conflicts_with = "id")]
        all_dead: bool,
    },
}

#[derive(Subcommand)]
pub enum UserCmd {
    /// Every user, from the configuration and added through the API.
    List,
    Show {
        id: String,
    },
    /// Create or replace a user with their contact methods.
    Set {
        id: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        email: Vec<String>,
        /// A Slack incoming-webhook URL (or member id).
        #[arg(long)]
        slack: Vec<String>,
        /// A Discord webhook URL.
        #[arg(long)]
        discord: Vec<String>,
        /// Any URL that accepts Sevwatch's signed JSON.
        #[arg(long)]
        webhook: Vec<String>,
    },
    /// Remove a user added through the API.
    Remove {
        id: String,
    },
}

fn line(m: &Value) -> String {
    let err = m["last_error"].as_str().map(|e| format!("  {}", cell(e))).unwrap_or_default();
    format!(
        "{:<6} {:<8} {:<8} {:<20} {:<22} x{}{err}\n",
        m["id"],
        field(m, "incident"),
        field(m, "status"),
        field(m, "template"),
        field(m, "recipient"),
        m["attempts"]
    )
}

pub async fn outbox(c: &Client, cmd: OutboxCmd, json_out: bool) -> anyhow::Result<ExitCode> {
    match cmd {
        OutboxCmd::List { status, incident, limit } => {
            let mut q = vec![format!("limit={limit}")];
            if let Some(s) = status {
                q.push(format!("status={}", enc(&s)));
            }
            if let Some(i) = incident {
                q.push(format!("incident={}", enc(&i)));
            }
            let v = c.get(&format!("/api/v1/outbox?{}", q.join("&"))).await?;
            output::emit(&v, json_out, |v| {
                let rows: String = v["messages"].as_array().into_iter().flatten().map(line).collect();
                if rows.is_empty() {
                    "no messages\n".into()
                } else {
                    rows
                }
            })
        }
        OutboxCmd::Show { id } => {
            let v = c.get(&format!("/api/v1/outbox/{}", enc(&id))).await?;
            output::emit(&v, json_out, |v| {
                let mut out = line(&v["message"]);
                if let Some(contact) = v["contact"].as_str() {
                    out.push_str(&format!("contact: {}\n", cell(contact)));
                }
                for a in v["attempts"].as_array().into_iter().flatten() {
                    out.push_str(&format!(
                        "  {} {:<5} {:>5} ms {} {}\n",
                        field(a, "at"),
                        field(a, "outcome"),
                        a["duration_ms"],
                        a["status_code"].as_i64().map(|c| c.to_string()).unwrap_or_else(|| "-".into()),
                        field(a, "error")
                    ));
                }
                if let Some(subject) = v["text"]["subject"].as_str() {
                    out.push_str(&format!("\nSubject: {}\n", cell(subject)));
                }
                out.push_str(v["text"]["body"].as_str().unwrap_or(""));
                out
            })
        }
        OutboxCmd::Retry { id: Some(id), .. } => {
            let v = c.post(&format!("/api/v1/outbox/{}/retry", enc(&id)), json!({})).await?;
            output::emit(&v, json_out, |_| format!("queued message {id} again\n"))
        }
        OutboxCmd::Retry { id: None, .. } => {
            let v = c.post("/api/v1/outbox/retry", json!({})).await?;
            output::emit(&v, json_out, |v| format!("queued {} dead message(s) again\n", v["retried"]))
        }
    }
}

fn user_line(u: &Value) -> String {
    let contacts: Vec<&str> = u["contacts"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
    format!(
        "{:<20} {:<24} {:<6} {}\n",
        field(u, "id"),
        field(u, "name"),
        field(u, "source"),
        if contacts.is_empty() { "(no contacts)".to_string() } else { cell(&contacts.join(", ")).into_owned() }
    )
}

pub async fn user(c: &Client, cmd: UserCmd, json_out: bool) -> anyhow::Result<ExitCode> {
    match cmd {
        UserCmd::List => {
            let v = c.get("/api/v1/users").await?;
            output::emit(&v, json_out, |v| v["users"].as_array().into_iter().flatten().map(user_line).collect())
        }
        UserCmd::Show { id } => {
            let v = c.get(&format!("/api/v1/users/{}", enc(&id))).await?;
            output::emit(&v, json_out, user_line)
        }
        UserCmd::Set { id, name, email, slack, discord, webhook } => {
            let mut contacts = Vec::new();
            for (kind, values) in [("email", email), ("slack", slack), ("discord", discord), ("webhook", webhook)] {
                contacts.extend(values.into_iter().map(|to| json!({ "kind": kind, "to": to })));
            }
            let v =
                c.put(&format!("/api/v1/users/{}", enc(&id)), json!({ "name": name, "contacts": contacts })).await?;
            output::emit(&v, json_out, user_line)
        }
        UserCmd::Remove { id } => {
            c.delete(&format!("/api/v1/users/{}", enc(&id))).await?;
            output::emit(&json!({ "removed": id }), json_out, |_| format!("removed user {id}\n"))
        }
    }
}
