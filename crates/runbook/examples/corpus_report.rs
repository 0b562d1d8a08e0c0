//! Prints what the parser and classifier make of a folder of runbooks (default: the shared
//! corpus): sections, sections with alerts and with a severity, steps, and the share of steps
//! in each risk class. The figures issue reports compare before and after a change.
//!
//! `cargo run --release -p sevwatch-runbook --example corpus_report [DIR] [--unknown N]`
//! (`--unknown N` also prints N unknown steps with their reasons, to see what is left).

use std::path::{Path, PathBuf};

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            files(&p, out);
        } else if p.extension().and_then(|x| x.to_str()).is_some_and(|x| matches!(x, "md" | "markdown" | "txt")) {
            out.push(p);
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let show = args.iter().position(|a| a == "--unknown").and_then(|i| args.get(i + 1)).and_then(|n| n.parse().ok());
    let dir = args
        .iter()
        .find(|a| !a.starts_with("--") && a.parse::<usize>().is_err())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/runbooks"));
    let mut paths = Vec::new();
    files(&dir, &mut paths);
    paths.sort();
    let (mut sections, mut with_alerts, mut with_severity, mut steps) = (0, 0, 0, 0);
    let mut by_class = std::collections::BTreeMap::<String, usize>::new();
    let mut unknown = Vec::new();
    for p in &paths {
        let text = String::from_utf8_lossy(&std::fs::read(p).expect("readable")).into_owned();
        let rb = sevwatch_runbook::parse(&text);
        for s in &rb.sections {
            sections += 1;
            with_alerts += usize::from(!s.alerts.is_empty());
            with_severity += usize::from(s.severity.is_some());
            for step in s.steps() {
                steps += 1;
                *by_class.entry(step.risk.class.as_str().to_string()).or_default() += 1;
                if step.risk.class == sevwatch_runbook::RiskClass::Unknown {
                    unknown.push((
                        format!("{} [{}]", p.display(), step.language),
                        step.command.clone(),
                        step.risk.reason.clone(),
                    ));
                }
            }
        }
    }
    println!(
        "runbooks: {}  sections: {sections}  with alerts: {with_alerts}  with severity: {with_severity}",
        paths.len()
    );
    println!("steps: {steps}");
    for (class, n) in &by_class {
        println!("  {class:<12} {n:>6}  {:>5.1}%", 100.0 * *n as f64 / steps.max(1) as f64);
    }
    if let Some(n) = show {
        for (file, command, reason) in unknown.iter().take(n) {
            println!("--- {file}\n{command}\n  => {reason}");
        }
    }
}
