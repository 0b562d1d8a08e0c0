//! `sevwatch runbook ...`: parse, classify and lint locally; import, list and show through the
//! API. `run`, which walks an incident's runbook step by step in the terminal, is in
//! `runbook_run.rs`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{anyhow, bail, Context};
use clap::{Args, Subcommand};
use serde_json::{json, Value};

use super::client::{enc, Client};
use super::output::{self, cell, s as field};

#[derive(Subcommand)]
pub enum RunbookCmd {
    /// Parse a Markdown runbook and print its structure.
    Parse { file: PathBuf },
    /// Classify one shell command: read-only, mutating, destructive or unknown.
    Classify { command: String },
    /// Lint a runbook; exit 1 when it has errors. --rules adds Prometheus rule files for alert names.
    Lint {
        file: PathBuf,
        #[arg(long)]
        rules: Vec<PathBuf>,
    },
    /// Import a runbook file, or every .md/.markdown/.txt file of a directory (a changed file
    /// becomes a new version).
    Import {
        path: PathBuf,
        /// Name for a single file (default: its file name without .md).
        #[arg(long)]
        name: Option<String>,
    },
    /// List imported runbooks.
    List,
    /// Show an imported runbook's sections and steps.
    Show {
        name: String,
        #[arg(long)]
        version: Option<i64>,
    },
    /// Walk an incident's runbook step by step.
    Run(RunArgs),
}

#[derive(Args)]
pub struct RunArgs {
    pub incident: String,
    /// RUNBOOK#SECTION, or a file: PATH or PATH#SECTION, imported first (a new version only when
    /// it changed). Default: the best suggestion for the incident.
    pub target: Option<String>,
    /// The scenario to follow when the section has scenarios ("B"); without it, the one the
    /// incident's alert labels match, else asked (refused under --yes).
    #[arg(long)]
    pub scenario: Option<String>,
    /// A value for a placeholder, e.g. --var agent-id=a-17 (repeatable).
    #[arg(long = "var", value_parser = parse_var)]
    pub vars: Vec<(String, String)>,
    /// Print the steps with their risk and bound commands; run and record nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Confirm read-only and mutating steps without asking (destructive steps still need
    /// --confirm-destructive).
    #[arg(long)]
    pub yes: bool,
    /// The incident id, to confirm destructive steps when running with --yes.
    #[arg(long)]
    pub confirm_destructive: Option<String>,
    /// Per-step timeout: the step is interrupted (as by Ctrl-C) and the run's shell goes on.
    #[arg(long, default_value = "60s")]
    pub timeout: String,
    /// Where the run's shell session starts (default: the current directory).
    #[arg(long)]
    pub workdir: Option<PathBuf>,
}

fn parse_var(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.trim().to_string(), v.to_string()))
        .ok_or_else(|| format!("{s:?} is not NAME=VALUE"))
}

fn read(path: &Path) -> anyhow::Result<String> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Commands that need no server.
pub fn run_local(cmd: &RunbookCmd, json_out: bool) -> Option<anyhow::Result<ExitCode>> {
    Some(match cmd {
        RunbookCmd::Parse { file } => (|| {
            let rb = sevwatch_runbook::parse(&read(file)?);
            output::emit(&serde_json::to_value(&rb)?, json_out, structure)
        })(),
        RunbookCmd::Classify { command } => {
            let r = sevwatch_runbook::classify(command);
            output::emit(&json!({ "class": r.class, "reason": r.reason }), json_out, |v| {
                format!("{}: {}\n", field(v, "class"), field(v, "reason"))
            })
        }
        RunbookCmd::Lint { file, rules } => (|| {
            let known = if rules.is_empty() {
                None
            } else {
                let mut names = BTreeSet::new();
                for r in rules {
                    names.extend(
                        sevwatch_runbook::alert_names_from_rules(&read(r)?)
                            .map_err(|e| anyhow!("{}: {e}", r.display()))?,
                    );
                }
                Some(names)
            };
            let findings = sevwatch_runbook::lint(&read(file)?, known.as_ref());
            let errors = findings.iter().filter(|f| f.level == sevwatch_runbook::Level::Error).count();
            if json_out {
                println!("{}", json!({ "file": file, "errors": errors, "findings": findings }));
            } else {
                for f in &findings {
                    let level = serde_json::to_value(f.level)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_string))
                        .unwrap_or_default();
                    output::print(&format!(
                        "{}:{}: {level}: {} [{}]\n",
                        file.display(),
                        f.line,
                        cell(&f.message),
                        f.code
                    ));
                }
                output::print(&format!("{} finding(s), {errors} error(s)\n", findings.len()));
            }
            Ok(if errors > 0 { ExitCode::FAILURE } else { ExitCode::SUCCESS })
        })(),
        _ => return None,
    })
}

fn structure(v: &Value) -> String {
    let mut out = format!("{}\n", cell(v["title"].as_str().unwrap_or("(untitled)")));
    for s in v["sections"].as_array().into_iter().flatten() {
        let sev = s["severity"].as_str().map(|x| format!(" [{}]", cell(x))).unwrap_or_default();
        let alerts: Vec<&str> = s["alerts"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
        let alerts = if alerts.is_empty() { String::new() } else { format!(" alerts: {}", cell(&alerts.join(", "))) };
        out.push_str(&format!("  {}{sev}{alerts}\n", field(s, "title")));
        for p in s["phases"].as_array().into_iter().flatten() {
            let steps = p["steps"].as_array().cloned().unwrap_or_default();
            out.push_str(&format!("    {} ({} steps)\n", field(p, "kind"), steps.len()));
            for st in steps {
                out.push_str(&format!(
                    "      [{}] {}\n",
                    field(&st["risk"], "class"),
                    cell(st["command"].as_str().unwrap_or("").lines().next().unwrap_or(""))
                ));
            }
        }
    }
    out
}

/// Imports one file (the server stores a new version only when the content changed) and
/// returns the server's answer; `say` prints what happened.
pub(super) async fn import_file(c: &Client, f: &Path, name: Option<String>, say: bool) -> anyhow::Result<Value> {
    let body = json!({ "name": name, "source": f.display().to_string(), "content": read(f)? });
    let v = c.post("/api/v1/runbooks", body).await.with_context(|| format!("importing {}", f.display()))?;
    if say {
        let what = if v["created"].as_bool() == Some(true) { "imported" } else { "unchanged" };
        output::print(&format!(
            "{what} {} v{} ({} sections, {} steps) from {}\n",
            field(&v, "name"),
            v["version"],
            v["sections"],
            v["steps"],
            cell(&f.display().to_string())
        ));
    }
    Ok(v)
}

/// Commands that talk to the server.
pub async fn run_remote(c: &Client, cmd: RunbookCmd, json_out: bool) -> anyhow::Result<ExitCode> {
    match cmd {
        RunbookCmd::Import { path, name } => {
            let files = if path.is_dir() {
                let mut v: Vec<PathBuf> = std::fs::read_dir(&path)
                    .with_context(|| format!("cannot list {}", path.display()))?
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| {
                        p.is_file() && matches!(p.extension().and_then(|e| e.to_str()), Some("md" | "markdown" | "txt"))
                    })
                    .collect();
                v.sort();
                v
            } else {
                vec![path.clone()]
            };
            if files.is_empty() {
                bail!("no .md, .markdown or .txt files in {}", path.display());
            }
            // Refused here before anything is sent; names derived from file names are checked
            // by the server with the same rule.
            if let Some(n) = &name {
                sevwatch_runbook::check_name(n).map_err(|why| anyhow!("--name: {why}"))?;
            }
            let mut answers = Vec::new();
            for f in &files {
                let one_name = if files.len() == 1 { name.clone() } else { None };
                answers.push(import_file(c, f, one_name, !json_out).await?);
            }
            if json_out {
                println!("{}", json!({ "imported": answers }));
            }
            Ok(ExitCode::SUCCESS)
        }
        RunbookCmd::List => {
            let v = c.get("/api/v1/runbooks").await?;
            output::emit(&v, json_out, |v| {
                let mut out = String::new();
                for r in v["runbooks"].as_array().into_iter().flatten() {
                    out.push_str(&format!(
                        "{:<32} v{:<3} {:>3} sections {:>4} steps  {}\n",
                        field(r, "name"),
                        r["version"],
                        r["sections"],
                        r["steps"],
                        field(r, "title")
                    ));
                }
                if out.is_empty() {
                    "no runbooks imported\n".into()
                } else {
                    out
                }
            })
        }
        RunbookCmd::Show { name, version } => {
            let q = version.map(|v| format!("?version={v}")).unwrap_or_default();
            let v = c.get(&format!("/api/v1/runbooks/{}{q}", enc(&name))).await?;
            output::emit(&v, json_out, |v| {
                format!(
                    "{} v{} (versions: {})\n{}",
                    field(v, "name"),
                    v["version"],
                    v["versions"],
                    structure(&v["runbook"])
                )
            })
        }
        RunbookCmd::Run(args) => super::runbook_run::walk(c, args).await,
        RunbookCmd::Parse { .. } | RunbookCmd::Classify { .. } | RunbookCmd::Lint { .. } => {
            unreachable!("handled locally")
        }
    }
}
