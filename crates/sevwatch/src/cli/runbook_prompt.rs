//! The questions `sevwatch runbook run` asks at the terminal: run, skip or quit each step, with
//! the confirmation its risk needs, and the answers `--yes` and `--confirm-destructive` give
//! instead. Nothing here talks to the server or runs anything.

use std::io::{BufRead, Write};

use anyhow::bail;
use sevwatch_core::StepRisk;

use super::output;
use super::runbook::RunArgs;

/// What the responder chose at a prompt.
pub enum Choice {
    Run { confirm: bool, typed: Option<String> },
    Skip,
    Quit,
}

pub fn prompt(text: &str) -> Option<String> {
    output::print(text);
    let _ = std::io::stdout().flush();
    let mut line = String::new();
    match std::io::stdin().lock().read_line(&mut line) {
        Ok(0) | Err(_) => None,
        Ok(_) => Some(line.trim().to_string()),
    }
}

/// A step that cannot be bound can only be skipped (or the run stopped to pass a `--var`).
pub fn skip_or_quit(n: usize, e: &sevwatch_runbook::BindError, args: &RunArgs) -> anyhow::Result<Choice> {
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

pub fn choose(risk: StepRisk, incident: &str, args: &RunArgs) -> anyhow::Result<Choice> {
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

/// Asks which scenario to follow; `None` when the responder quits (or input ends).
pub fn scenario(list: &[(String, String)]) -> Option<String> {
    output::print("  this section has scenarios; the run follows one:\n");
    for (name, trigger) in list {
        output::print(&format!("    {}: {}\n", output::cell(name), output::cell(trigger)));
    }
    loop {
        let answer = tokio::task::block_in_place(|| prompt("  scenario (or q to quit): "))?;
        if answer == "q" {
            return None;
        }
        if let Some((name, _)) = list.iter().find(|(n, _)| n.eq_ignore_ascii_case(&answer)) {
            return Some(name.clone());
        }
        output::print("  (not one of them)\n");
    }
}
