//! Parses every public runbook of the shared corpus: none may panic, and a file with both
//! headings and code must yield some structure. Also reads every Prometheus rule file.

mod common;

use std::path::Path;

fn files(dir: &Path, ext: &[&str], out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            files(&p, ext, out);
        } else if p.extension().and_then(|x| x.to_str()).is_some_and(|x| ext.contains(&x)) {
            out.push(p);
        }
    }
}

#[test]
fn every_corpus_runbook_parses_into_some_structure() {
    let Some(shared) = common::shared_dir() else {
        return;
    };
    let mut paths = Vec::new();
    files(&shared.join("corpus/runbooks"), &["md", "markdown", "txt"], &mut paths);
    assert!(!paths.is_empty());
    let (mut sections, mut steps, mut empty) = (0, 0, Vec::new());
    for p in &paths {
        let text = String::from_utf8_lossy(&std::fs::read(p).expect("readable")).into_owned();
        let rb = std::panic::catch_unwind(|| sevwatch_runbook::parse(&text))
            .unwrap_or_else(|_| panic!("parse panicked on {}", p.display()));
        sections += rb.sections.len();
        steps += rb.sections.iter().map(|s| s.steps().count()).sum::<usize>();
        let has_heading = text.lines().any(|l| l.starts_with('#'));
        let has_code = text.contains("```");
        if has_heading && has_code && rb.sections.is_empty() && rb.title.is_none() {
            empty.push(p.display().to_string());
        }
    }
    println!("corpus: {} files, {sections} sections, {steps} steps", paths.len());
    assert!(empty.is_empty(), "no structure from: {empty:?}");
}

#[test]
fn every_corpus_rule_file_yields_alert_names() {
    let Some(shared) = common::shared_dir() else {
        return;
    };
    let mut paths = Vec::new();
    files(&shared.join("corpus/rules"), &["yaml", "yml"], &mut paths);
    let mut total = 0;
    for p in &paths {
        let text = std::fs::read_to_string(p).expect("readable");
        match sevwatch_runbook::alert_names_from_rules(&text) {
            Ok(names) => total += names.len(),
            Err(e) => panic!("{}: {e}", p.display()),
        }
    }
    println!("rules: {} files, {total} alert names", paths.len());
    assert!(total > 0);
}
