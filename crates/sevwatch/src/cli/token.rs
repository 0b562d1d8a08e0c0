//! `sevwatch token create|list|revoke`.

use std::process::ExitCode;

use clap::Subcommand;
use serde_json::json;

use super::client::Client;
use super::output::{self, s as field};

#[derive(Subcommand)]
pub enum TokenCmd {
    /// Create a token and print it (alone on stdout; with --json as {"token": ...}).
    Create {
        #[arg(long, value_parser = ["viewer", "responder", "ingest", "executor", "admin"])]
        role: String,
        #[arg(long)]
        name: String,
    },
    /// List tokens (not their values).
    List,
    /// Revoke a token by id.
    Revoke { id: i64 },
}

pub async fn run(c: &Client, cmd: TokenCmd, json_out: bool) -> anyhow::Result<ExitCode> {
    match cmd {
        TokenCmd::Create { role, name } => {
            let v = c.post("/api/v1/tokens", json!({ "name": name, "role": role })).await?;
            if json_out {
                println!("{}", serde_json::to_string(&v)?);
            } else {
                println!("{}", v["token"].as_str().unwrap_or_default());
            }
        }
        TokenCmd::List => {
            let v = c.get("/api/v1/tokens").await?;
            if json_out {
                println!("{}", serde_json::to_string(&v)?);
            } else {
                for t in v["tokens"].as_array().into_iter().flatten() {
                    let revoked = if t["revoked"].as_bool() == Some(true) { " (revoked)" } else { "" };
                    output::print(&format!(
                        "{:<5} {:<10} {:<20} {}{revoked}\n",
                        t["id"],
                        field(t, "role"),
                        field(t, "name"),
                        field(t, "created_at")
                    ));
                }
            }
        }
        TokenCmd::Revoke { id } => {
            c.delete(&format!("/api/v1/tokens/{id}")).await?;
            if json_out {
                println!("{}", json!({ "revoked": id }));
            } else {
                println!("revoked token {id}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
