//! `sevwatch comms preview|send INC-n --template NAME [--set FIELD=VALUE]... [--channel NAME]...`.

use std::collections::BTreeMap;
use std::process::ExitCode;

use clap::Subcommand;
use serde_json::{json, Value};

use super::client::{enc, Client};
use super::output::{self, cell};

#[derive(Subcommand)]
pub enum CommsCmd {
    /// Render a communication template for an incident.
    Preview {
        id: String,
        /// incident-declared, status-update, resolved, escalation-notice, customer-initial,
        /// customer-progress, customer-resolution, postmortem-reminder, update-reminder
        #[arg(long)]
        template: String,
        /// Extra fields, e.g. --set impact="EU customers cannot log in" (repeatable).
        #[arg(long = "set", value_parser = parse_field)]
        fields: Vec<(String, String)>,
    },
    /// Send a communication: the text goes on the timeline (restarting the update cadence)
    /// and out to the channels named, or those routed for the incident's severity and service.
    Send {
        id: String,
        #[arg(long, default_value = "status-update")]
        template: String,
        /// Extra fields, e.g. --set update="rolled back 3.4.1" (repeatable).
        #[arg(long = "set", value_parser = parse_field)]
        fields: Vec<(String, String)>,
        /// A configured channel to post to (repeatable); default: the routed channels.
        #[arg(long = "channel")]
        channels: Vec<String>,
    },
}

fn parse_field(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.trim().to_string(), v.to_string()))
        .ok_or_else(|| format!("{s:?} is not FIELD=VALUE"))
}

fn print_text(v: &Value) {
    if let Some(subject) = v["subject"].as_str() {
        output::print(&format!("Subject: {}\n\n", cell(subject)));
    }
    output::print(v["body"].as_str().unwrap_or(""));
}

pub async fn run(c: &Client, cmd: CommsCmd, json_out: bool) -> anyhow::Result<ExitCode> {
    match cmd {
        CommsCmd::Preview { id, template, fields } => {
            let q: Vec<String> = fields.iter().map(|(k, v)| format!("{}={}", enc(k), enc(v))).collect();
            let sep = if q.is_empty() { "" } else { "?" };
            let path = format!("/api/v1/incidents/{}/comms/{}{sep}{}", enc(&id), enc(&template), q.join("&"));
            let v = c.get(&path).await?;
            if json_out {
                println!("{}", serde_json::to_string(&v)?);
            } else {
                print_text(&v);
            }
        }
        CommsCmd::Send { id, template, fields, channels } => {
            let fields: BTreeMap<String, String> = fields.into_iter().collect();
            let path = format!("/api/v1/incidents/{}/comms/{}", enc(&id), enc(&template));
            let v = c.post(&path, json!({ "fields": fields, "channels": channels })).await?;
            if json_out {
                println!("{}", serde_json::to_string(&v)?);
            } else {
                print_text(&v);
                let to: Vec<String> = v["deliveries"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|d| format!("{} (#{})", d["recipient"].as_str().unwrap_or(""), d["id"]))
                    .collect();
                if to.is_empty() {
                    output::print("\nrecorded on the timeline; no channel is configured to receive it\n");
                } else {
                    output::print(&format!("\nrecorded on the timeline and queued for {}\n", cell(&to.join(", "))));
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
