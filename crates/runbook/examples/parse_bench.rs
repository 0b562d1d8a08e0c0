//! Parse-speed benchmark: `cargo run --release --example parse_bench -- [DIR]` reads every
//! Markdown file under DIR (default: the shared corpus beside the repo) and prints MB/s for
//! parsing alone and for parsing plus risk classification of every step.

use std::path::{Path, PathBuf};
use std::time::Instant;

fn collect(dir: &Path, out: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect(&p, out);
        } else if p.extension().is_some_and(|x| x == "md" || x == "txt") {
            if let Ok(b) = std::fs::read(&p) {
                out.push(String::from_utf8_lossy(&b).into_owned());
            }
        }
    }
}

fn main() {
    let dir = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/runbooks"));
    let mut docs = Vec::new();
    collect(&dir, &mut docs);
    let bytes: usize = docs.iter().map(String::len).sum();
    if bytes == 0 {
        eprintln!("no .md/.txt files under {}", dir.display());
        std::process::exit(1);
    }
    let mb = bytes as f64 / 1e6;
    let rounds = (200.0 / mb).ceil().max(1.0) as usize;

    // Parsing alone: the structure without classifying any command.
    let start = Instant::now();
    let mut sections = 0;
    for _ in 0..rounds {
        for d in &docs {
            sections += sevwatch_runbook::parse_structure(d).sections.len();
        }
    }
    let parse = start.elapsed().as_secs_f64();

    let start = Instant::now();
    let mut steps = 0;
    for _ in 0..rounds.div_ceil(10) {
        for d in &docs {
            steps += sevwatch_runbook::parse(d).sections.iter().map(|s| s.steps().count()).sum::<usize>();
        }
    }
    let full = start.elapsed().as_secs_f64();
    println!(
        "{} files, {:.2} MB; parse: {:.1} MB/s ({} rounds, {} sections); parse+classify: {:.1} MB/s ({} steps)",
        docs.len(),
        mb,
        mb * rounds as f64 / parse,
        rounds,
        sections / rounds,
        mb * rounds.div_ceil(10) as f64 / full,
        steps / rounds.div_ceil(10),
    );
}
