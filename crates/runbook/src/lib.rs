//! Sevwatch runbooks: parses Markdown incident runbooks into incident types, phases and
//! runnable steps; classifies each shell command's risk; lints runbooks; binds responder
//! values into commands safely; and links firing alerts to runbook sections. Pure: it only
//! reads the text it is given (no files, network or processes), except [`session`], which runs
//! a run's steps in one shell session.

mod bind;
mod classify;
mod defined;
mod link;
mod lint;
mod markdown;
mod model;
mod name;
mod navigate;
mod output;
mod placeholders;
mod rules;
mod run_plan;
mod sections;
pub mod session;
mod severity;
mod steps;

pub use bind::{bind, bind_in_run, is_inert, quote_value, shell_quote, BindError, UnboundVariable};
pub use classify::{classify, plausible_command_name};
pub use defined::{assigned_names, defined_by, session_needs};
pub use link::{link, Suggestion};
pub use lint::{lint, Finding, Level};
pub use model::{
    Branch, Duration, Outcome, Phase, PhaseKind, Placeholder, PlaceholderKind, Risk, RiskClass, Runbook, Scenario,
    Section, Severity, Step, TimedOption,
};
pub use name::{check_name, MAX_NAME};
pub use navigate::StepRef;
pub use placeholders::{placeholders, RUNTIME_VARIABLES};
pub use rules::{alert_names_from_rules, RulesError};
pub use run_plan::{plan, scenario_list, PlanError, RunPlan};
pub use severity::{parse_severity, Aliases};

/// Markdown longer than this is cut before parsing; runbooks are far smaller, and the cap
/// keeps worst-case parse time bounded.
pub const MAX_DOCUMENT: usize = 8 * 1024 * 1024;

/// How to read runbooks: which words mean which severity, and whether to classify steps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseOptions {
    /// Lower-case alias -> level (`critical` -> P0, `sev2` -> P1): the policy's
    /// `[severity.aliases]`, so a heading's "(critical)" means what `declare --severity
    /// critical` means.
    pub aliases: Aliases,
    /// Classify every step's risk; `false` leaves each step `unknown` ("not classified").
    pub classify: bool,
}

impl Default for ParseOptions {
    /// The aliases every installation starts with, and classification on.
    fn default() -> Self {
        ParseOptions { aliases: sevwatch_core::policy::default_aliases(), classify: true }
    }
}

impl ParseOptions {
    /// The options for the policy in force.
    pub fn from_policy(policy: &sevwatch_core::Policy) -> Self {
        ParseOptions { aliases: policy.aliases.clone(), classify: true }
    }
}

/// Parses a Markdown runbook and classifies every step, with the default aliases. Never
/// panics; unrecognisable input yields an empty structure.
pub fn parse(text: &str) -> Runbook {
    parse_with_options(text, &ParseOptions::default())
}

/// Parses the structure only: every step's risk is left `unknown` ("not classified").
/// For callers that classify lazily, and for measuring the parser alone.
pub fn parse_structure(text: &str) -> Runbook {
    parse_with_options(text, &ParseOptions { classify: false, ..ParseOptions::default() })
}

/// Parses a Markdown runbook with the given options (the configured severity aliases).
pub fn parse_with_options(text: &str, options: &ParseOptions) -> Runbook {
    let text = if text.len() > MAX_DOCUMENT {
        let mut cut = MAX_DOCUMENT;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        &text[..cut]
    } else {
        text
    };
    let (front, skip) = markdown::front_matter(text);
    let blocks = markdown::blocks(text, skip);
    let h1: Vec<usize> = blocks
        .iter()
        .enumerate()
        .filter(|(_, b)| matches!(b, markdown::Block::Heading { level: 1, .. }))
        .map(|(i, _)| i)
        .collect();
    // One level-one heading is the title; several mean the document has no single title.
    let title_index = (h1.len() == 1).then(|| h1[0]);
    let mut metadata: std::collections::BTreeMap<String, String> = front.into_iter().collect();
    let first_section = blocks
        .iter()
        .position(|b| matches!(b, markdown::Block::Heading { level, .. } if *level > 1))
        .unwrap_or(blocks.len());
    for b in &blocks[..first_section] {
        if let markdown::Block::Paragraph { text, .. } = b {
            for line in text.lines() {
                if let Some((k, v)) = meta_line(line) {
                    metadata.entry(k).or_insert(v);
                }
            }
        }
    }
    let title = title_index
        .and_then(|i| match &blocks[i] {
            markdown::Block::Heading { text, .. } => Some(text.clone()),
            _ => None,
        })
        .or_else(|| metadata.get("title").cloned())
        .or_else(|| {
            // Without a level-one heading the first heading is the best title there is.
            blocks.iter().find_map(|b| match b {
                markdown::Block::Heading { text, .. } => Some(text.clone()),
                _ => None,
            })
        });
    Runbook { title, metadata, sections: sections::build(&blocks, title_index, options) }
}

/// `**Owner:** SRE Team` -> ("owner", "SRE Team").
fn meta_line(line: &str) -> Option<(String, String)> {
    let inner = line.trim().strip_prefix("**")?;
    let end = inner.find("**")?;
    let key = inner[..end].trim().trim_end_matches(':').trim();
    let value = inner[end + 2..].trim_start_matches(':').trim();
    (!key.is_empty() && !value.is_empty() && key.len() < 40).then(|| (key.to_lowercase(), value.replace('`', "")))
}
