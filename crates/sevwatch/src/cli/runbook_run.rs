//! `sevwatch runbook run INC-n [TARGET]`: walks one runbook section on an incident, step by step,
//! in one shell session on this machine (`sevwatch_runbook::session`), so a `cd` or a variable of
//! one step is there for the next, as at a terminal. The server binds each step's values, checks
//! its confirmation and records its start and result (exit code, duration, output, the session's
//! directory and exported names) on the incident's timeline.
//!
//! The target is `RUNBOOK#SECTION`, or a file (`PATH` or `PATH#SECTION`), imported first through
//! the API, which stores a new version only when the content changed.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{anyhow, bail, Context};
use serde_json::{json, Value};
use sevwatch_core::runbook_run::incident_vars;
use sevwatch_core::{BranchOutcome, Incident, RunbookRun, StepStatus};
use sevwatch_runbook::session::{Session, SessionOptions, StepOutcome};
use sevwatch_runbook::Section;

use super::client::{enc, Client};
use super::output::{self, cell, s as field};
use super::runbook::{import_file, RunArgs};
use super::runbook_prompt::{choose, scenario, skip_or_quit, Choice};

fn parse_timeout(s: &str) -> anyhow::Result<std::time::Duration> {
    let d: sevwatch_core::Duration = s.parse().map_err(|e| anyhow!("--timeout: {e}"))?;
    Ok(std::time::Duration::from_millis(d.as_millis().max(1) as u64))
}

/// Splits a target into a file to import (when it names an existing file) or a runbook name,
/// and the section after `#`, if any. The longest file wins, so a path holding `#` still works.
fn split_target(t: &str) -> (Option<PathBuf>, String, Option<String>) {
    if Path::new(t).is_file() {
        return (Some(PathBuf::from(t)), t.to_string(), None);
    }
    for (i, _) in t.match_indices('#') {
        if Path::new(&t[..i]).is_file() {
            return (Some(PathBuf::from(&t[..i])), t[..i].to_string(), Some(t[i + 1..].to_string()));
        }
    }
    match t.split_once('#') {
        Some((l, s)) => (None, l.to_string(), Some(s.to_string())),
        None => (None, t.to_string(), None),
    }
}

/// The runbook and section to run: from the target (importing a file first), or the incident's
/// best suggestion.
async fn target(c: &Client, args: &RunArgs, id: &str, view: &Value) -> anyhow::Result<(String, String)> {
    let Some(t) = &args.target else {
        let best = view["suggested_runbooks"]
            .get(0)
            .ok_or_else(|| anyhow!("no runbook matches {id}: name one as RUNBOOK#SECTION or PATH#SECTION"))?;
        output::print(&format!(
            "using {}#{} ({})\n",
            field(best, "runbook"),
            field(best, "section"),
            field(best, "reason")
        ));
        let get = |k: &str| best[k].as_str().unwrap_or("").to_string();
        return Ok((get("runbook"), get("section")));
    };
    let (file, name, section) = split_target(t);
    let Some(file) = file else {
        let section = section
            .ok_or_else(|| anyhow!("{t:?} is not a file: name the target as RUNBOOK#SECTION, PATH or PATH#SECTION"))?;
        return Ok((name, section));
    };
    let imported = import_file(c, &file, None, true).await?;
    let name = imported["name"].as_str().unwrap_or_default().to_string();
    if let Some(s) = section {
        return Ok((name, s));
    }
    // No section named: the incident's suggestion within this runbook, else its only section
    // with steps.
    let view = c.get(&format!("/api/v1/incidents/{}", enc(id))).await?;
    let suggested = view["suggested_runbooks"].as_array().into_iter().flatten().find(|s| s["runbook"] == name);
    if let Some(s) = suggested {
        output::print(&format!("using section {} ({})\n", field(s, "section"), field(s, "reason")));
        return Ok((name, s["section"].as_str().unwrap_or("").to_string()));
    }
    let rb = c.get(&format!("/api/v1/runbooks/{}", enc(&name))).await?;
    let with_steps: Vec<String> = rb["runbook"]["sections"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|s| {
            s["phases"].as_array().into_iter().flatten().any(|p| p["steps"].as_array().is_some_and(|v| !v.is_empty()))
        })
        .filter_map(|s| s["title"].as_str().map(str::to_string))
        .collect();
    match with_steps.as_slice() {
        [only] => Ok((name, only.clone())),
        _ => bail!(
            "{} has {} sections with steps and none matches {id}: name one as {}#SECTION ({})",
            name,
            with_steps.len(),
            file.display(),
            with_steps.join("; ")
        ),
    }
}

pub async fn walk(c: &Client, args: RunArgs) -> anyhow::Result<ExitCode> {
    let timeout = parse_timeout(&args.timeout)?;
    let view = c.get(&format!("/api/v1/incidents/{}", enc(&args.incident))).await?;
    let inc: Incident = serde_json::from_value(view.clone()).context("reading the incident")?;
    let id = inc.id.to_string();
    let (runbook, section) = target(c, &args, &id, &view).await?;
    let user_vars: BTreeMap<String, String> = args.vars.iter().cloned().collect();
    if args.dry_run {
        return dry_run(c, &inc, &args, &runbook, &section, &user_vars).await;
    }
    let base = format!("/api/v1/incidents/{}/runbook-runs", enc(&id));
    let sec = section_of(c, &runbook, &section).await?;
    // The newest unfinished run of the same section (and scenario) is resumed, not started again.
    let unfinished = |r: &&RunbookRun| {
        r.runbook == runbook
            && r.section.eq_ignore_ascii_case(&section)
            && args
                .scenario
                .as_ref()
                .is_none_or(|want| r.scenario.as_ref().is_some_and(|s| s.eq_ignore_ascii_case(want)))
            && (r.next_step().is_some() || r.state.iter().any(|s| s.status == StepStatus::Running))
    };
    let resumable = inc.runbook_runs.iter().rev().find(unfinished);
    let mut run: RunbookRun = match resumable {
        Some(r) => {
            let scenario = r.scenario.as_ref().map(|s| format!(", scenario {}", cell(s))).unwrap_or_default();
            output::print(&format!("resuming run {} of {}#{}{scenario}\n", r.id, cell(&r.runbook), cell(&r.section)));
            r.clone()
        }
        None => start_run(c, &args, &base, &runbook, &sec, &user_vars).await?,
    };
    let options: Vec<String> = sec
        .timed_options()
        .map(|o| format!("{}{}", o.label, o.window.as_ref().map(|w| format!(" ({w})")).unwrap_or_default()))
        .collect();
    if !options.is_empty() {
        output::print(&format!(
            "timed options, not scheduled by this run (offer them when due): {}\n",
            cell(&options.join("; "))
        ));
    }
    for (i, s) in run.state.clone().iter().enumerate() {
        if s.status == StepStatus::Running {
            let v = c.post(&format!("{base}/{}/steps/{}/interrupt", run.id, i + 1), json!({})).await?;
            output::print(&format!("step {} was left running; marked interrupted\n", i + 1));
            run = serde_json::from_value(v["run"].clone())?;
        }
    }
    let total = run.steps.len();
    let mut shell: Option<Session> = None;
    while let Some(n) = run.next_step() {
        let step = run.steps[n - 1].clone();
        output::print(&format!("\n[{n}/{total}] ({}) {}\n", step.risk, cell(step.title.as_deref().unwrap_or(""))));
        if let Some(b) = step.branch {
            output::print(&format!(
                "  (runs because step {} {})\n",
                b.after,
                if b.on == BranchOutcome::Success { "succeeded" } else { "failed" }
            ));
        }
        // What is shown is what runs: the command bound here with the run's values, checked
        // below against the server's binding before anything starts.
        let mut vars = run.vars.clone();
        vars.extend(user_vars.clone());
        let earlier = sevwatch_runbook::defined_by(run.steps[..n - 1].iter().map(|s| s.command.as_str()));
        let bound = sevwatch_runbook::bind_in_run(&step.command, &vars, &earlier);
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
                let continuing = run.state.iter().any(|s| s.attempts > 0 || s.status == StepStatus::Skipped);
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
                let needs: Vec<String> = started["needs"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect();
                let outcome = tokio::task::block_in_place(|| {
                    run_in_session(&mut shell, &args, continuing, &command, &needs, timeout)
                });
                let o = outcome.unwrap_or_else(|e| StepOutcome::not_started(format!("{e:#}")));
                for note in &o.notes {
                    output::print(&format!("  [{}]\n", cell(note)));
                }
                let body = json!({ "exit_code": o.exit_code, "duration_ms": o.duration_ms, "output": o.text(),
                    "truncated": o.truncated, "cwd": o.cwd, "exported": o.exported });
                let v = c.post(&format!("{path}/result"), body).await?;
                run = serde_json::from_value(v["run"].clone())?;
                output::print(&format!("  -> exit {} in {} ms (recorded on {id})\n", o.exit_code, o.duration_ms));
                for (m, _) in run.alternatives(n).filter(|(m, _)| run.state[m - 1].status == StepStatus::Skipped) {
                    output::print(&format!("  step {m} will not run: it is the branch for the other outcome\n"));
                }
                if o.exit_code != 0 && run.failure_expected(n) {
                    output::print(&format!("  step {n} failed: the run takes the branch for its failure\n"));
                } else if o.exit_code != 0 && args.yes {
                    output::print(&format!("step {n} failed; stopping (rerun the same command to retry it)\n"));
                    return Ok(ExitCode::FAILURE);
                }
            }
        }
    }
    output::print(&format!("\nrun {} finished: every step done or skipped\n", run.id));
    Ok(ExitCode::SUCCESS)
}

/// The section as stored on the server (its scenarios and timed options).
async fn section_of(c: &Client, runbook: &str, section: &str) -> anyhow::Result<Section> {
    let v = c.get(&format!("/api/v1/runbooks/{}", enc(runbook))).await?;
    let rb: sevwatch_runbook::Runbook = serde_json::from_value(v["runbook"].clone()).context("reading the runbook")?;
    rb.sections
        .into_iter()
        .find(|s| s.title.eq_ignore_ascii_case(section))
        .ok_or_else(|| anyhow!("{runbook} has no section {section:?}"))
}

/// Starts a run. A section with scenarios and no `--scenario`: the server takes the one the
/// alert labels match; when none does, the responder is asked (under `--yes`, refused).
async fn start_run(
    c: &Client,
    args: &RunArgs,
    base: &str,
    runbook: &str,
    sec: &Section,
    user_vars: &BTreeMap<String, String>,
) -> anyhow::Result<RunbookRun> {
    let post = |scenario: Option<String>| {
        c.post(base, json!({ "runbook": runbook, "section": sec.title, "vars": user_vars, "scenario": scenario }))
    };
    let answer = match post(args.scenario.clone()).await {
        Err(e) if args.scenario.is_none() && e.to_string().contains("(field: scenario)") => {
            if args.yes {
                bail!("{e}; pass --scenario NAME");
            }
            let list: Vec<(String, String)> =
                sec.scenarios().iter().map(|s| (s.name.clone(), s.trigger.clone())).collect();
            let Some(chosen) = scenario(&list) else { bail!("no scenario chosen: pass --scenario NAME") };
            post(Some(chosen)).await?
        }
        other => other?,
    };
    let run: RunbookRun = serde_json::from_value(answer["run"].clone()).context("reading the new run")?;
    if let Some(s) = &run.scenario {
        output::print(&format!("following scenario {}\n", cell(s)));
    }
    Ok(run)
}

/// Runs a bound step in the run's session, starting one when there is none yet (or the last
/// step ended it); the step's output is shown as it comes.
fn run_in_session(
    shell: &mut Option<Session>,
    args: &RunArgs,
    continuing: bool,
    command: &str,
    needs: &[String],
    timeout: std::time::Duration,
) -> anyhow::Result<StepOutcome> {
    if shell.as_ref().is_none_or(|s| !s.alive()) {
        let opts = SessionOptions { workdir: args.workdir.clone(), ..SessionOptions::default() };
        *shell = Some(Session::start(&opts).context("starting the run's shell session")?);
        if continuing {
            output::print(
                "  [a new shell session: the cd and variables of this run's earlier steps are not carried over]\n",
            );
        }
    }
    let session = shell.as_mut().expect("a session was started above");
    let mut last = b'\n';
    let o = session.run(command, needs, timeout, |chunk| {
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(chunk);
        let _ = out.flush();
        last = chunk.last().copied().unwrap_or(last);
    })?;
    if last != b'\n' {
        output::print("\n");
    }
    Ok(o)
}

async fn dry_run(
    c: &Client,
    inc: &Incident,
    args: &RunArgs,
    runbook: &str,
    section: &str,
    user_vars: &BTreeMap<String, String>,
) -> anyhow::Result<ExitCode> {
    let sec = section_of(c, runbook, section).await?;
    let plan = match sevwatch_runbook::plan(&sec, args.scenario.as_deref(), &BTreeMap::new()) {
        Ok(p) => p,
        Err(e) => {
            output::eprint(&format!("{}: pass --scenario NAME to see its steps\n", cell(&e.to_string())));
            return Ok(ExitCode::FAILURE);
        }
    };
    let mut vars = incident_vars(inc);
    vars.extend(user_vars.clone());
    let steps = &plan.steps;
    let scenario = plan.scenario.as_ref().map(|s| format!(", scenario {}", cell(s))).unwrap_or_default();
    output::print(&format!(
        "dry run of {}#{}{scenario} on {} ({} steps; nothing runs, nothing is recorded)\n",
        cell(runbook),
        cell(&sec.title),
        inc.id,
        steps.len()
    ));
    for (i, s) in steps.iter().enumerate() {
        let title = cell(s.title.as_deref().unwrap_or(""));
        output::print(&format!("\n[{}/{}] ({}) {title}\n", i + 1, steps.len(), s.risk));
        if let Some(b) = s.branch {
            output::print(&format!("  (only if step {} {})\n", b.after, b.on));
        }
        let earlier = sevwatch_runbook::defined_by(steps[..i].iter().map(|s| s.command.as_str()));
        match sevwatch_runbook::bind_in_run(&s.command, &vars, &earlier) {
            Ok(cmd) => output::print(&format!("  $ {}\n", cmd.replace('\n', "\n    "))),
            Err(e) => output::print(&format!("  $ {}\n  ! {e}\n", s.command.replace('\n', "\n    "))),
        }
        output::print(&format!("  risk: {}\n", cell(&s.reason)));
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_are_files_when_they_exist_and_runbook_names_otherwise() {
        let dir = std::env::temp_dir().join(format!("sevwatch-target-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("web#1.md");
        std::fs::write(&file, "# x\n").unwrap();
        let f = file.to_str().unwrap();
        assert_eq!(split_target(f), (Some(file.clone()), f.to_string(), None));
        let with = format!("{f}#Incident: Down");
        assert_eq!(split_target(&with), (Some(file.clone()), f.to_string(), Some("Incident: Down".into())));
        assert_eq!(split_target("cache#Incident: X"), (None, "cache".into(), Some("Incident: X".into())));
        assert_eq!(split_target("cache"), (None, "cache".into(), None));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
