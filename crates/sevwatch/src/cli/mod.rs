//! Command-line flags (clap derive) and dispatch to one module per subcommand group.

mod alerts;
mod client;
mod comms;
mod config;
mod incident;
mod oncall;
mod outbox;
mod output;
mod runbook;
mod runbook_prompt;
mod runbook_run;
mod serve;
mod token;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub const DEFAULT_DATA_DIR: &str = "./sevwatch-data";

#[derive(Parser)]
#[command(
    name = "sevwatch",
    version,
    about = "Incident response in one binary: severity policy, lifecycle, timeline, alerts, paging, runbooks."
)]
pub struct Cli {
    /// Server URL for client commands.
    #[arg(long, global = true, env = "SEVWATCH_URL", default_value = "http://127.0.0.1:8080")]
    pub server: String,
    /// API token (default: the admin token in the data directory).
    #[arg(long, global = true, env = "SEVWATCH_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Print one JSON object instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Cmd,
}

#[derive(Subcommand)]
pub enum Cmd {
    /// Run the server (embedded SQLite by default).
    Serve(serve::ServeArgs),
    /// Declare an incident.
    Declare(incident::DeclareArgs),
    /// List incidents, newest first.
    List(incident::ListArgs),
    /// Show one incident: state, roles, SLA clocks, checklist, last events.
    Show { id: String },
    /// Acknowledge an incident.
    Ack { id: String },
    /// Assign a role (commander, tech-lead, comms-lead, scribe or custom).
    Assign {
        id: String,
        #[arg(long)]
        role: String,
        #[arg(long)]
        to: String,
    },
    /// Post a status update: investigating, identified or monitoring.
    Status {
        id: String,
        status: String,
        #[arg(long)]
        note: Option<String>,
    },
    /// Change the severity.
    Severity {
        id: String,
        severity: String,
        #[arg(long)]
        reason: Option<String>,
    },
    /// Add a note to the timeline.
    Note { id: String, text: String },
    /// Check a checklist item (`<phase>.<id>`), or uncheck it with --undo.
    Check {
        id: String,
        item: String,
        #[arg(long)]
        undo: bool,
    },
    /// Resolve an incident.
    Resolve {
        id: String,
        #[arg(long)]
        root_cause: Option<String>,
        /// Resolve although resolution checklist items are unchecked (recorded).
        #[arg(long)]
        force: bool,
    },
    /// Close a resolved incident.
    Close { id: String },
    /// Reopen a resolved or closed incident.
    Reopen {
        id: String,
        #[arg(long)]
        reason: Option<String>,
    },
    /// Print an incident's timeline.
    Timeline { id: String },
    /// Verify the hash chains (of one incident, or of all).
    Verify { id: Option<String> },
    /// Manage API tokens.
    #[command(subcommand)]
    Token(token::TokenCmd),
    /// Check or print configuration files.
    #[command(subcommand)]
    Config(config::ConfigCmd),
    /// Runbooks: parse, classify, lint, import, list, show, run.
    #[command(subcommand)]
    Runbook(runbook::RunbookCmd),
    /// List alerts (one row per fingerprint), newest first.
    Alerts(alerts::AlertsArgs),
    /// Silence alerts: add, list, expire.
    #[command(subcommand)]
    Silence(alerts::SilenceCmd),
    /// Who is on call (per schedule and layer), now or --at a time; --ics exports shifts.
    Oncall(oncall::OncallArgs),
    /// Communications: preview a template for an incident, or send it.
    #[command(subcommand)]
    Comms(comms::CommsCmd),
    /// The outbox of messages: list, show attempts, retry dead letters.
    #[command(subcommand)]
    Outbox(outbox::OutboxCmd),
    /// Users and their contact methods.
    #[command(subcommand)]
    User(outbox::UserCmd),
    /// Jump to the next escalation step now.
    Escalate {
        id: String,
        #[arg(long)]
        reason: Option<String>,
    },
}

pub fn main() -> ExitCode {
    quiet_on_broken_pipe();
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("the tokio runtime starts");
    let json = cli.json;
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            if json {
                eprintln!("{}", serde_json::json!({ "error": format!("{e:#}") }));
            } else {
                output::eprint(&format!("error: {e:#}"));
            }
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Cmd::Serve(args) => serve::run(args).await.map(|_| ExitCode::SUCCESS),
        Cmd::Config(cmd) => config::run(cmd, cli.json),
        Cmd::Runbook(cmd) => match runbook::run_local(&cmd, cli.json) {
            Some(done) => done,
            None => {
                let c = client::Client::new(&cli.server, cli.token.as_deref())?;
                runbook::run_remote(&c, cmd, cli.json).await
            }
        },
        Cmd::Alerts(a) => {
            let c = client::Client::new(&cli.server, cli.token.as_deref())?;
            alerts::alerts(&c, a, cli.json).await
        }
        Cmd::Comms(cmd) => {
            let c = client::Client::new(&cli.server, cli.token.as_deref())?;
            comms::run(&c, cmd, cli.json).await
        }
        Cmd::Outbox(cmd) => {
            let c = client::Client::new(&cli.server, cli.token.as_deref())?;
            outbox::outbox(&c, cmd, cli.json).await
        }
        Cmd::User(cmd) => {
            let c = client::Client::new(&cli.server, cli.token.as_deref())?;
            outbox::user(&c, cmd, cli.json).await
        }
        Cmd::Oncall(a) => {
            let c = client::Client::new(&cli.server, cli.token.as_deref())?;
            oncall::oncall(&c, a, cli.json).await
        }
        Cmd::Escalate { id, reason } => {
            let c = client::Client::new(&cli.server, cli.token.as_deref())?;
            oncall::escalate(&c, &id, reason, cli.json).await
        }
        Cmd::Silence(cmd) => {
            let c = client::Client::new(&cli.server, cli.token.as_deref())?;
            alerts::silence(&c, cmd, cli.json).await
        }
        Cmd::Token(cmd) => {
            let c = client::Client::new(&cli.server, cli.token.as_deref())?;
            token::run(&c, cmd, cli.json).await
        }
        other => {
            let c = client::Client::new(&cli.server, cli.token.as_deref())?;
            incident::run(&c, other, cli.json).await
        }
    }
}

/// Where the local admin token lives when no token is given.
pub fn default_token_path() -> PathBuf {
    let dir = std::env::var("SEVWATCH_DATA_DIR").unwrap_or_else(|_| DEFAULT_DATA_DIR.to_string());
    PathBuf::from(dir).join(sevwatch_server::bootstrap::ADMIN_TOKEN_FILE)
}

/// `sevwatch list | head` closes our stdout early; Rust's `println!` then panics. Exit quietly
/// instead, as Unix tools do (status 141 = killed by SIGPIPE).
fn quiet_on_broken_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let msg = info.payload().downcast_ref::<String>().map(String::as_str).unwrap_or("");
        if msg.contains("failed printing to stdout") && msg.contains("Broken pipe") {
            std::process::exit(141);
        }
        default(info);
    }));
}
