//! `sevwatch runbook ...`: parse, classify and lint locally; import, list and show through the
//! API; and `run`, which walks an incident's runbook step by step in the terminal. Steps run on
//! this machine; the server binds variables, checks confirmations and records every start and
//! result on the incident's timeline.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{anyhow, bail, Context};
use clap::{Args, Subcommand};
use serde_json::{json, Value};
use sevwatch_core::runbook_run::incident_vars;
use sevwatch_core::{Incident, RunbookRun, StepRisk};

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
    /// RUNBOOK#SECTION (default: the best suggestion for the incident).
    pub target: Option<String>,
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
    /// Per-step timeout.
    #[arg(long, default_value = "60s")]
    pub timeout: String,
    /// Working directory for the steps.
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
                let body = json!({ "name": if files.len() == 1 { name.clone() } else { None }, "source": f.display().to_string(), "content": read(f)? });
                let v = c.post("/api/v1/runbooks", body).await.with_context(|| format!("importing {}", f.display()))?;
                if !json_out {
                    let what = if v["created"].as_bool() == Some(true) { "imported" } else { "unchanged" };
                    output::print(&format!(
                        "{what} {} v{} ({} sections, {} steps) from {}\n",
                        field(&v, "name"),
                        v["version"],
                        v["sections"],
                        v["steps"],
                        f.display()
                    ));
                }
                answers.push(v);
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
        RunbookCmd::Run(args) => walk(c, args).await,
        RunbookCmd::Parse { .. } | RunbookCmd::Classify { .. } | RunbookCmd::Lint { .. } => {
            unreachable!("handled locally")
        }
    }
}

/// What the responder chose at a prompt.
enum Choice {
    Run { confirm: bool, typed: Option<String> },
    Skip,
    Quit,
}

fn prompt(text: &str) -> Option<String> {
    output::print(text);
    let _ = std::io::stdout().flush();
    let mut line = String::new();
    match std::io::stdin().lock().read_line(&mut line) {
        Ok(0) | Err(_) => None,
        Ok(_) => Some(line.trim().to_string()),
    }
}

/// A step that cannot be bound can only be skipped (or the run stopped to pass a `--var`).
fn skip_or_quit(n: usize, e: &sevwatch_runbook::BindError, args: &RunArgs) -> anyhow::Result<Choice> {
    if args.yes {
        bail!("step {n} cannot run: {e}; pass a value with --var NAME=VALUE, or run without --yes to skip the step");
    }
    loop {
        match tokio::task::block_in_place(|| prompt("  s to skip, q to quit (then pass --var NAME=VALUE): ")).as_deref()
        {
            None | Some("q") => return Ok(Choice::Quit),
            Some("s") => return Ok(Choice::Skip),
            _ => output::print("  (not understood)\n"),
        }
    }
}

fn choose(risk: StepRisk, incident: &str, args: &RunArgs) -> anyhow::Result<Choice> {
    if args.yes {
        return match risk {
            StepRisk::ReadOnly => Ok(Choice::Run { confirm: false, typed: None }),
            StepRisk::Mutating | StepRisk::Unknown => Ok(Choice::Run { confirm: true, typed: None }),
            StepRisk::Destructive => match &args.confirm_destructive {
                Some(t) if t.eq_ignore_ascii_case(incident) => Ok(Choice::Run { confirm: true, typed: Some(t.clone()) }),
                _ => bail!("this step is destructive: --yes does not cover it; pass --confirm-destructive {incident} to run it"),
            },
        };
    }
    let question = match risk {
        StepRisk::ReadOnly => "  Enter to run, s to skip, q to quit: ".to_string(),
        StepRisk::Mutating | StepRisk::Unknown => "  y to run, s to skip, q to quit: ".to_string(),
        StepRisk::Destructive => format!("  type {incident} to run, s to skip, q to quit: "),
    };
    loop {
        let Some(answer) = tokio::task::block_in_place(|| prompt(&question)) else { return Ok(Choice::Quit) };
        match (risk, answer.as_str()) {
            (_, "q") => return Ok(Choice::Quit),
            (_, "s") => return Ok(Choice::Skip),
            (StepRisk::ReadOnly, "") => return Ok(Choice::Run { confirm: false, typed: None }),
            (StepRisk::Mutating | StepRisk::Unknown, "y" | "yes") => {
                return Ok(Choice::Run { confirm: true, typed: None })
            }
            (StepRisk::Destructive, typed) if typed.eq_ignore_ascii_case(incident) => {
                return Ok(Choice::Run { confirm: true, typed: Some(typed.to_string()) })
            }
            _ => output::print("  (not understood)\n"),
        }
    }
}

fn parse_timeout(s: &str) -> anyhow::Result<std::time::Duration> {
    let d: sevwatch_core::Duration = s.parse().map_err(|e| anyhow!("--timeout: {e}"))?;
    Ok(std::time::Duration::from_millis(d.as_millis().max(1) as u64))
}

async fn walk(c: &Client, args: RunArgs) -> anyhow::Result<ExitCode> {
    let timeout = parse_timeout(&args.timeout)?;
    let view = c.get(&format!("/api/v1/incidents/{}", enc(&args.incident))).await?;
    let inc: Incident = serde_json::from_value(view.clone()).context("reading the incident")?;
    let id = inc.id.to_string();
    let (runbook, section) = match &args.target {
        Some(t) => t
            .split_once('#')
            .map(|(r, s)| (r.to_string(), s.to_string()))
            .ok_or_else(|| anyhow!("name the target as RUNBOOK#SECTION"))?,
        None => {
            let best = view["suggested_runbooks"]
                .get(0)
                .ok_or_else(|| anyhow!("no runbook matches {id}: name one as RUNBOOK#SECTION"))?;
            output::print(&format!(
                "using {}#{} ({})\n",
                field(best, "runbook"),
                field(best, "section"),
                field(best, "reason")
            ));
            (best["runbook"].as_str().unwrap_or("").to_string(), best["section"].as_str().unwrap_or("").to_string())
        }
    };
    let user_vars: BTreeMap<String, String> = args.vars.iter().cloned().collect();
    if args.dry_run {
        return dry_run(c, &inc, &runbook, &section, &user_vars).await;
    }
    let base = format!("/api/v1/incidents/{}/runbook-runs", enc(&id));
    // The newest unfinished run of the same section is resumed rather than started again.
    let unfinished = |r: &&RunbookRun| {
        r.runbook == runbook
            && r.section.eq_ignore_ascii_case(&section)
            && (r.next_step().is_some() || r.state.iter().any(|s| s.status == sevwatch_core::StepStatus::Running))
    };
    let resumable = inc.runbook_runs.iter().rev().find(unfinished);
    let mut run: RunbookRun = match resumable {
        Some(r) => {
            output::print(&format!("resuming run {} of {}#{}\n", r.id, cell(&r.runbook), cell(&r.section)));
            r.clone()
        }
        None => {
            let v = c.post(&base, json!({ "runbook": runbook, "section": section, "vars": user_vars })).await?;
            serde_json::from_value(v["run"].clone()).context("reading the new run")?
        }
    };
    for (i, s) in run.state.clone().iter().enumerate() {
        if s.status == sevwatch_core::StepStatus::Running {
            let v = c.post(&format!("{base}/{}/steps/{}/interrupt", run.id, i + 1), json!({})).await?;
            output::print(&format!("step {} was left running; marked interrupted\n", i + 1));
            run = serde_json::from_value(v["run"].clone())?;
        }
    }
    let total = run.steps.len();
    while let Some(n) = run.next_step() {
        let step = run.steps[n - 1].clone();
        output::print(&format!("\n[{n}/{total}] ({}) {}\n", step.risk, cell(step.title.as_deref().unwrap_or(""))));
        // What is shown is what runs: the command bound here with the run's values, checked
        // below against the server's binding before anything starts.
        let mut vars = run.vars.clone();
        vars.extend(user_vars.clone());
        let bound = sevwatch_runbook::bind(&step.command, &vars);
        // Escaped as all text is: a step that hid itself with ESC sequences or a bidi override
        // would otherwise be confirmed as something it is not.
        match &bound {
            Ok(script) => output::print(&format!("  $ {}\n", script.replace('\n', "\n    "))),
            Err(e) => {
                output::print(&format!("  $ {}\n  ! cannot run this step: {e}\n", step.command.replace('\n', "\n    ")))
            }
        }
        output::print(&format!("  risk: {}\n", cell(&step.reason)));
        let choice = match &bound {
            Ok(_) => choose(step.risk, &id, &args)?,
            Err(e) => skip_or_quit(n, e, &args)?,
        };
        let shown = bound.ok();
        let path = format!("{base}/{}/steps/{n}", run.id);
        match choice {
            Choice::Quit => {
                output::print(&format!(
                    "stopped; `sevwatch runbook run {id} {}#{}` resumes at step {n}\n",
                    cell(&run.runbook),
                    cell(&run.section)
                ));
                return Ok(ExitCode::SUCCESS);
            }
            Choice::Skip => {
                let v = c.post(&format!("{path}/skip"), json!({ "reason": "skipped by the responder" })).await?;
                run = serde_json::from_value(v["run"].clone())?;
                continue;
            }
            Choice::Run { confirm, typed } => {
                let started = c
                    .post(
                        &format!("{path}/start"),
                        json!({ "confirm": confirm, "confirm_destructive": typed, "vars": user_vars }),
                    )
                    .await?;
                let command = started["command"].as_str().unwrap_or_default().to_string();
                if Some(&command) != shown.as_ref() {
                    c.post(&format!("{path}/interrupt"), json!({})).await?;
                    bail!(
                        "the server bound step {n} differently from what was shown, so it was not run \
                         (marked interrupted); server's version:\n{command}"
                    );
                }
                let opts = sevwatch_runbook::exec::ExecOptions {
                    timeout,
                    workdir: args.workdir.clone(),
                    ..Default::default()
                };
                let outcome = tokio::task::block_in_place(|| {
                    sevwatch_runbook::exec::run(&command, &opts, |chunk| {
                        let _ = std::io::stdout().write_all(chunk);
                        let _ = std::io::stdout().flush();
                    })
                });
                let (exit_code, duration_ms, output, truncated) = match outcome {
                    Ok(o) => (o.exit_code, o.duration_ms, o.output.replace('\0', "\u{fffd}"), o.truncated),
                    Err(e) => (127, 0, format!("could not start the step: {e}"), false),
                };
                let v = c.post(&format!("{path}/result"), json!({ "exit_code": exit_code, "duration_ms": duration_ms, "output": output, "truncated": truncated })).await?;
                run = serde_json::from_value(v["run"].clone())?;
                output::print(&format!("  -> exit {exit_code} in {duration_ms} ms (recorded on {id})\n"));
                if exit_code != 0 && args.yes {
                    output::print(&format!("step {n} failed; stopping (rerun the same command to retry it)\n"));
                    return Ok(ExitCode::FAILURE);
                }
            }
        }
    }
    output::print(&format!("\nrun {} finished: every step done or skipped\n", run.id));
    Ok(ExitCode::SUCCESS)
}

async fn dry_run(
    c: &Client,
    inc: &Incident,
    runbook: &str,
    section: &str,
    user_vars: &BTreeMap<String, String>,
) -> anyhow::Result<ExitCode> {
    let v = c.get(&format!("/api/v1/runbooks/{}", enc(runbook))).await?;
    let rb: sevwatch_runbook::Runbook = serde_json::from_value(v["runbook"].clone()).context("reading the runbook")?;
    let sec = rb
        .sections
        .iter()
        .find(|s| s.title.eq_ignore_ascii_case(section))
        .ok_or_else(|| anyhow!("{runbook} has no section {section:?}"))?;
    let mut vars = incident_vars(inc);
    vars.extend(user_vars.clone());
    let steps: Vec<_> = sec.steps().collect();
    output::print(&format!(
        "dry run of {}#{} on {} ({} steps; nothing runs, nothing is recorded)\n",
        cell(runbook),
        cell(&sec.title),
        inc.id,
        steps.len()
    ));
    for (i, s) in steps.iter().enumerate() {
        let title = cell(s.title.as_deref().unwrap_or(""));
        output::print(&format!("\n[{}/{}] ({}) {title}\n", i + 1, steps.len(), s.risk.class.as_str()));
        match sevwatch_runbook::bind(&s.command, &vars) {
            Ok(cmd) => output::print(&format!("  $ {}\n", cmd.replace('\n', "\n    "))),
            Err(e) => output::print(&format!("  $ {}\n  ! {e}\n", s.command.replace('\n', "\n    "))),
        }
        output::print(&format!("  risk: {}\n", cell(&s.risk.reason)));
    }
    Ok(ExitCode::SUCCESS)
}
