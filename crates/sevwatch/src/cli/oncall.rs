//! `sevwatch oncall [SCHEDULE] [--at TIME] [--ics]` and `sevwatch escalate INC-n`.

use std::process::ExitCode;

use clap::Args;
use serde_json::{json, Value};

use super::client::{enc, Client};

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
            l["layer"].as_str().unwrap_or(""),
            l["user"].as_str().unwrap_or(""),
            l["start"].as_str().unwrap_or(""),
            l["end"].as_str().unwrap_or("")
        ));
    }
    out
}

pub async fn oncall(c: &Client, a: OncallArgs, json_out: bool) -> anyhow::Result<ExitCode> {
    if a.ics {
        let id = a.schedule.as_deref().unwrap_or("default");
        let text = c.get_text(&format!("/api/v1/schedules/{}/calendar.ics?weeks={}", enc(id), a.weeks)).await?;
        print!("{text}");
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
            print!(
                "{} ({})\n{}",
                s["id"].as_str().unwrap_or(""),
                s["name"].as_str().unwrap_or(""),
                layers(&s["oncall"])
            );
        }
    } else {
        print!(
            "{} at {}\n{}",
            v["schedule"].as_str().unwrap_or(""),
            v["oncall"]["at"].as_str().unwrap_or(""),
            layers(&v["oncall"])
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn escalate(c: &Client, id: &str, reason: Option<String>, json_out: bool) -> anyhow::Result<ExitCode> {
    let v = c.post(&format!("/api/v1/incidents/{}/escalate", enc(id)), json!({ "reason": reason })).await?;
    if json_out {
        println!("{}", serde_json::to_string(&v)?);
    } else {
        print!("{}", super::output::changed(&v));
    }
    Ok(ExitCode::SUCCESS)
}
