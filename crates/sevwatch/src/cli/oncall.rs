//! `sevwatch oncall [SCHEDULE] [--at TIME] [--ics]` and `sevwatch escalate INC-n`.

use std::process::ExitCode;

use clap::Args;
use serde_json::{json, Value};

use super::client::{enc, Client};
use super::output::{self, s as field};

#[derive(Args)]
pub struct OncallArgs {
    /// A schedule id (default: every schedule).
    pub schedule: Option<String>,
    /// When (RFC 3339, default now).
    #[arg(long)]
    pub at: Option<String>,
    /// Print the schedule's next weeks as iCalendar instead.
    #[arg(long)]
    pub ics: bool,
    /// Weeks for --ics.
    #[arg(long, default_value_t = 4)]
    pub weeks: u32,
}

fn layers(v: &Value) -> String {
    let mut out = String::new();
    for l in v["layers"].as_array().into_iter().flatten() {
        let over = if l["overridden"].as_bool() == Some(true) { " (override)" } else { "" };
        out.push_str(&format!(
            "  {:<12} {:<20} {} -> {}{over}\n",
            field(l, "layer"),
            field(l, "user"),
            field(l, "start"),
            field(l, "end")
        ));
    }
    out
}

pub async fn oncall(c: &Client, a: OncallArgs, json_out: bool) -> anyhow::Result<ExitCode> {
    if a.ics {
        let id = a.schedule.as_deref().unwrap_or("default");
        let text = c.get_text(&format!("/api/v1/schedules/{}/calendar.ics?weeks={}", enc(id), a.weeks)).await?;
        // iCalendar lines end in CRLF, which `print` keeps.
        output::print(&text);
        return Ok(ExitCode::SUCCESS);
    }
    let v = match &a.schedule {
        Some(id) => {
            let q = a.at.as_deref().map(|t| format!("?at={}", enc(t))).unwrap_or_default();
            c.get(&format!("/api/v1/schedules/{}/oncall{q}", enc(id))).await?
        }
        None => c.get("/api/v1/schedules").await?,
    };
    if json_out {
        println!("{}", serde_json::to_string(&v)?);
    } else if let Some(list) = v["schedules"].as_array() {
        for s in list {
            output::print(&format!("{} ({})\n{}", field(s, "id"), field(s, "name"), layers(&s["oncall"])));
        }
    } else {
        output::print(&format!("{} at {}\n{}", field(&v, "schedule"), field(&v["oncall"], "at"), layers(&v["oncall"])));
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn escalate(c: &Client, id: &str, reason: Option<String>, json_out: bool) -> anyhow::Result<ExitCode> {
    let v = c.post(&format!("/api/v1/incidents/{}/escalate", enc(id)), json!({ "reason": reason })).await?;
    if json_out {
        println!("{}", serde_json::to_string(&v)?);
    } else {
        output::print(&output::changed(&v));
    }
    Ok(ExitCode::SUCCESS)
}
