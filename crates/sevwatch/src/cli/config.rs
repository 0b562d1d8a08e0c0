//! `sevwatch config validate FILE` and `sevwatch config default`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;
use sevwatch_core::Config;

#[derive(Subcommand)]
pub enum ConfigCmd {
    /// Check a configuration file; report every problem with its key path.
    Validate { file: PathBuf },
    /// Print a commented configuration file with every default.
    Default,
}

pub fn run(cmd: ConfigCmd, json_out: bool) -> anyhow::Result<ExitCode> {
    match cmd {
        ConfigCmd::Default => {
            print!("{}", sevwatch_core::config::default_toml());
            Ok(ExitCode::SUCCESS)
        }
        ConfigCmd::Validate { file } => {
            let text = std::fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))?;
            match parse_all(&text).map(|(c, _)| c) {
                Ok(_) => {
                    if json_out {
                        println!("{}", serde_json::json!({ "ok": true, "file": file, "problems": [] }));
                    } else {
                        super::output::print(&format!("{}: ok\n", file.display()));
                    }
                    Ok(ExitCode::SUCCESS)
                }
                Err(problems) => {
                    if json_out {
                        println!("{}", serde_json::json!({ "ok": false, "file": file, "problems": problems }));
                    } else {
                        for p in &problems {
                            super::output::eprint(&format!("{}: {p}", file.display()));
                        }
                        eprintln!("{} problem(s) found", problems.len());
                    }
                    Ok(ExitCode::FAILURE)
                }
            }
        }
    }
}

/// The whole file: the core's settings plus the notify crate's.
pub fn parse_all(text: &str) -> Result<(Config, sevwatch_notify::NotifyConfig), Vec<sevwatch_core::ConfigProblem>> {
    sevwatch_notify::config::parse_all(text)
}

/// Read a config file for `serve`; a bad file stops start-up with every problem listed.
pub fn load(file: &std::path::Path) -> anyhow::Result<(Config, sevwatch_notify::NotifyConfig)> {
    let text = std::fs::read_to_string(file).with_context(|| format!("cannot read config file {}", file.display()))?;
    parse_all(&text).map_err(|problems| {
        let list: Vec<String> = problems.iter().map(|p| format!("  {p}")).collect();
        anyhow::anyhow!("invalid config file {}:\n{}", file.display(), list.join("\n"))
    })
}
