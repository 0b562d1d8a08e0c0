//! `sevwatch comms preview INC-n --template NAME [--set FIELD=VALUE]...`.

use std::process::ExitCode;

use clap::Subcommand;

use super::client::{enc, Client};

#[derive(Subcommand)]
pub enum CommsCmd {
    /// Render a communication template for an incident.
    Preview {
        id: String,
        /// incident-declared, status-update, resolved, escalation-notice, customer-initial,
        /// customer-progress, customer-resolution, postmortem-reminder
        #[arg(long)]
        template: String,
        /// Extra fields, e.g. --set impact="EU customers cannot log in" (repeatable).
        #[arg(long = "set", value_parser = parse_field)]
        fields: Vec<(String, String)>,
    },
}

fn parse_field(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.trim().to_string(), v.to_string()))
        .ok_or_else(|| format!("{s:?} is not FIELD=VALUE"))
}

pub async fn run(c: &Client, cmd: CommsCmd, json_out: bool) -> anyhow::Result<ExitCode> {
    let CommsCmd::Preview { id, template, fields } = cmd;
    let q: Vec<String> = fields.iter().map(|(k, v)| format!("{}={}", enc(k), enc(v))).collect();
    let sep = if q.is_empty() { "" } else { "?" };
    let v = c.get(&format!("/api/v1/incidents/{}/comms/{}{sep}{}", enc(&id), enc(&template), q.join("&"))).await?;
    if json_out {
        println!("{}", serde_json::to_string(&v)?);
    } else {
        if let Some(subject) = v["subject"].as_str() {
            println!("Subject: {subject}\n");
        }
        print!("{}", v["body"].as_str().unwrap_or(""));
    }
    Ok(ExitCode::SUCCESS)
}
