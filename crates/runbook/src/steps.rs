//! Turns one fenced code block into steps: decides whether the fence holds shell at all,
//! strips shell prompts, splits the text into complete commands (following heredocs, quotes,
//! line continuations and compound commands across lines: `steps/scanner.rs`), titles each
//! command with the comment group above it, and keeps the output the block shows after a
//! command as that step's expected output (what is output: `output.rs`). Risk classification
//! is delegated to `classify`.

mod scanner;

use crate::classify::{classify, known_command, plausible_command_name};
use crate::model::{Risk, RiskClass, Step};
use crate::output::{self, Line};
use crate::placeholders::placeholders;
use scanner::Scanner;

/// A command cut out of a block, before classification.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawCommand {
    pub title: Option<String>,
    /// The title's comment is directly above (no blank line between it and this command or
    /// the commands before it under the same comment).
    pub fresh_title: bool,
    pub text: String,
    /// 0-based line offset inside the block.
    pub offset: usize,
    /// The lines the command printed, as the block shows them.
    pub output: Vec<String>,
}

/// One step of a block, and whether its title is the comment directly above it (a condition
/// in such a title applies to it: "# If recovery fails, restore from backup").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockStep {
    pub step: Step,
    pub fresh_title: bool,
}

/// What one code block yields.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BlockSteps {
    pub steps: Vec<BlockStep>,
    /// Captured output before the block's first command (or the whole block, when it holds
    /// no command): what the step before printed.
    pub leading_output: Option<String>,
}

/// Fence languages that are shell without further checks.
const SHELL_LANGS: &[&str] =
    &["bash", "sh", "shell", "zsh", "ksh", "console", "shell-session", "shellsession", "terminal", "shell-script"];

/// Fence languages that show a terminal session: commands and what they printed, mixed; a
/// `# ` there is root's prompt when a known command follows it.
const TRANSCRIPT_LANGS: &[&str] = &["console", "shell-session", "shellsession", "terminal"];

/// Fence languages that hold queries, never output, whatever the sentence before them says.
const QUERY_LANGS: &[&str] = &["promql", "sql", "logql", "traceql", "cql", "kql", "flux", "graphql"];

/// Does the command start like one: a shell assignment (`NODE=$(oc get ...)`), or a first word
/// after any assignments that looks like a command name?
fn starts_with_command(c: &RawCommand) -> bool {
    let first = c.text.split_whitespace().next().unwrap_or("");
    let assignment = first.split_once('=').is_some_and(|(name, _)| {
        name.bytes().next().is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    });
    assignment || named_command(c)
}

/// Is the first word after any `VAR=value` assignments a plausible command name (`pwd;`
/// counts as `pwd`)?
fn named_command(c: &RawCommand) -> bool {
    c.text
        .split_whitespace()
        .find(|w| !w.contains('=') || w.starts_with('='))
        .is_some_and(|w| plausible_command_name(w.trim_end_matches([';', '&', '|'])))
}

/// Returns the language name to record for a fence, or `None` when the block is not shell.
/// Untagged blocks count as shell only when every command starts with a plausible command
/// name, so diagrams, templates and crontab lines are left alone.
/// An untagged block with lines of output before its first command, or after a command that
/// is not plainly one, is a template or a diagram rather than a terminal.
pub fn shell_language(lang: &str, split: &Split) -> Option<String> {
    if SHELL_LANGS.contains(&lang) {
        return Some(lang.to_string());
    }
    let commands = &split.commands;
    if split.prompted && !commands.is_empty() && (lang.is_empty() || output::OUTPUT_LANGS.contains(&lang)) {
        // Prompts mark the commands of a terminal session pasted without a language.
        return Some("console".to_string());
    }
    if !lang.is_empty() || commands.is_empty() || !split.leading.is_empty() {
        return None;
    }
    // Stricter than `starts_with_command`: an untagged block of `key=value` lines only is a
    // label list, not shell; assignments next to a named command are shell. Commands next to
    // a console session of another language (`gitlab-rails console` and Ruby) must be plain.
    let assignment = |c: &&RawCommand| {
        c.text.split_whitespace().all(|w| {
            w.split_once('=').is_some_and(|(k, _)| {
                k.bytes().next().is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
                    && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
            })
        })
    };
    let shell = commands.iter().any(named_command)
        && commands.iter().all(|c| named_command(c) || assignment(&c))
        && commands.iter().filter(|c| split.foreign || !c.output.is_empty()).all(|c| output::plain_command(&c.text));
    shell.then(|| "sh".to_string())
}

/// Builds the steps of one code block. `first_line` is the document line of the block's
/// first body line; `context` titles commands that have no comment of their own; `lead_in`
/// is the paragraph right before the block, which may say that output follows.
///
/// Output is not a step. A whole block is output when the sentence before it says so
/// ("Example output:", "You should see:") or its fence is `text`/`log`/`output`, unless it
/// opens with a plain command; inside a shell block, lines shaped like output (see
/// `output.rs`) after a command are that command's expected output, and a shell block with
/// no command at all is the expected output of the step before it. Queries and REPL input
/// are neither, and are dropped.
pub fn steps_of_block(
    lang: &str,
    body: &str,
    first_line: usize,
    context: Option<&str>,
    lead_in: Option<&str>,
    classify_steps: bool,
) -> BlockSteps {
    if output::json_block(body) && !lead_in.is_some_and(output::lead_in_says_output) {
        // JSON in a shell fence is what a command printed; anywhere else it is an example.
        let output = SHELL_LANGS.contains(&lang).then(|| body.trim_end().to_string());
        return BlockSteps { steps: Vec::new(), leading_output: output };
    }
    let split = split_block(body, TRANSCRIPT_LANGS.contains(&lang));
    let whole = || Some(body.trim_end().to_string());
    if lead_in.is_some_and(output::lead_in_says_content) && !split.opens_with_command {
        // A file's contents ("for a line in the config like this:"): neither steps nor output.
        return BlockSteps::default();
    }
    let announced = lead_in.is_some_and(output::lead_in_says_output) && !QUERY_LANGS.contains(&lang);
    if (announced || output::OUTPUT_LANGS.contains(&lang)) && !split.opens_with_command {
        let query = split.foreign && split.commands.is_empty();
        return BlockSteps { steps: Vec::new(), leading_output: if query { None } else { whole() } };
    }
    let Some(language) = shell_language(lang, &split) else {
        return BlockSteps::default();
    };
    if !split.commands.iter().any(starts_with_command) {
        // A shell block without a command: captured output as a whole, unless it is a query.
        let output = !split.foreign && !split.leading.is_empty();
        return BlockSteps { steps: Vec::new(), leading_output: if output { whole() } else { None } };
    }
    let steps = split
        .commands
        .into_iter()
        .map(|c| {
            let risk = if classify_steps { classify(&c.text) } else { Risk::new(RiskClass::Unknown, "not classified") };
            let step = Step {
                title: c.title.or_else(|| context.map(str::to_string)),
                placeholders: placeholders(&c.text),
                command: c.text,
                risk,
                line: first_line + c.offset,
                language: language.clone(),
                scenario: None,
                window: None,
                branch: None,
                expected_output: (!c.output.is_empty()).then(|| c.output.join("\n")),
            };
            BlockStep { step, fresh_title: c.fresh_title }
        })
        .collect();
    let leading_output = (!split.leading.is_empty()).then(|| split.leading.join("\n"));
    BlockSteps { steps, leading_output }
}

/// A block cut into commands and output.
#[derive(Debug, Default)]
pub struct Split {
    pub commands: Vec<RawCommand>,
    /// Output lines before the first command.
    pub leading: Vec<String>,
    /// Some line was neither shell nor output (a query, REPL input).
    pub foreign: bool,
    /// Some line has a shell prompt (`$ `, `user@host:~$ `): those lines are the commands.
    pub prompted: bool,
    /// The block's first line (after comments) is plainly a command: one the classifier
    /// knows by name, a shell keyword, an assignment, a script path or a prompted line.
    pub opens_with_command: bool,
}

/// What the lines just before the current one were, for the lines that continue them.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Run {
    Commands,
    Output,
    Foreign,
}

/// Splits a block into complete commands, each with its title and the output printed after
/// it. `transcript`: the fence is a terminal session (`console`).
pub fn split_block(body: &str, transcript: bool) -> Split {
    // A block with shell prompts (`$ `, `user@host:~$ `) marks its commands: every other line
    // that does not continue one is output.
    let prompted = body.lines().any(|l| output::shell_prompt(l).is_some());
    let mut split = Split { prompted, ..Split::default() };
    let mut scanner = Scanner::default();
    let mut buf: Vec<String> = Vec::new();
    let mut start = 0;
    // Comment lines of the current group (a blank line starts a new group).
    let mut comments: Vec<String> = Vec::new();
    let mut title: Option<String> = None;
    let mut fresh = false;
    let mut run = Run::Commands;
    let mut seen_line = false;
    for (offset, line) in body.lines().enumerate() {
        if buf.is_empty() {
            let t = line.trim();
            if t.is_empty() {
                if !comments.is_empty() {
                    title = Some(comments.join(" - "));
                    comments.clear();
                }
                fresh = false;
                run = Run::Commands;
                continue;
            }
            let root_prompt = (transcript || prompted)
                && t.strip_prefix("# ").is_some_and(|c| c.split_whitespace().next().is_some_and(known_command));
            if t.starts_with('#') && !root_prompt {
                let comment = t.strip_prefix('#').filter(|_| !t.starts_with("#!")).map(str::trim);
                if let Some(c) = comment.filter(|c| !c.is_empty()) {
                    comments.push(c.to_string());
                }
                continue;
            }
            let judged = if root_prompt {
                Line::Command(t[2..].to_string())
            } else if prompted && output::shell_prompt(line).is_none() {
                if output::repl_prompt(line) {
                    Line::Foreign
                } else {
                    Line::Output
                }
            } else {
                match (run, output::judge(line, run != Run::Commands)) {
                    // A run of foreign lines (a multi-line query) continues as foreign.
                    (Run::Foreign, Line::Output) => Line::Foreign,
                    (_, judged) => judged,
                }
            };
            let first = !std::mem::replace(&mut seen_line, true);
            let text = match judged {
                Line::Output => {
                    run = Run::Output;
                    match split.commands.last_mut() {
                        Some(c) => c.output.push(line.to_string()),
                        None => split.leading.push(line.to_string()),
                    }
                    continue;
                }
                Line::Foreign => {
                    run = Run::Foreign;
                    split.foreign = true;
                    continue;
                }
                Line::Command(text) => {
                    if text.trim_end().ends_with('\\') {
                        text.trim_end().to_string()
                    } else {
                        text
                    }
                }
            };
            if first {
                split.opens_with_command = root_prompt || prompted || output::plain_command(&text);
            }
            run = Run::Commands;
            if !comments.is_empty() {
                title = Some(comments.join(" - "));
                comments.clear();
                fresh = true;
            }
            start = offset;
            scanner.feed(&text);
            buf.push(text);
        } else {
            // `oc delete machineconfig \ ` meant a continuation: a space after the backslash is
            // an author's slip, not an escaped space.
            let line = if line.trim_end().ends_with('\\') { line.trim_end() } else { line };
            buf.push(line.to_string());
            scanner.feed(line);
        }
        if scanner.complete() {
            let text = buf.join("\n").trim().to_string();
            let raw = RawCommand { title: title.clone(), fresh_title: fresh, text, offset: start, output: Vec::new() };
            split.commands.push(raw);
            buf.clear();
            scanner = Scanner::default();
        }
    }
    if !buf.is_empty() {
        let text = buf.join("\n").trim().to_string();
        split.commands.push(RawCommand { title, fresh_title: fresh, text, offset: start, output: Vec::new() });
    }
    split
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split_commands(body: &str) -> Vec<RawCommand> {
        split_block(body, false).commands
    }

    fn texts(body: &str) -> Vec<String> {
        split_commands(body).into_iter().map(|c| c.text).collect()
    }

    #[test]
    fn comments_title_the_commands_below_them() {
        let c = split_commands("# 1. Check\nps aux\n\n# 2. Clean\nrm -f a\nrm -f b\n");
        assert_eq!(c.len(), 3);
        assert_eq!(c[0].title.as_deref(), Some("1. Check"));
        assert_eq!(c[2].title.as_deref(), Some("2. Clean"));
        assert_eq!(c[2].offset, 5);
    }

    #[test]
    fn heredocs_and_continuations_stay_in_one_command() {
        let t = texts("cat > f << EOF\na: 1\nEOF\necho a \\\n  b\nps aux |\n  grep x\n");
        assert_eq!(t, vec!["cat > f << EOF\na: 1\nEOF", "echo a \\\n  b", "ps aux |\n  grep x"]);
    }

    #[test]
    fn compound_commands_span_lines() {
        let t = texts("for f in *.json; do\n  jq . $f\ndone\nif true; then\n echo\nfi\nx || {\n echo\n}\n");
        assert_eq!(t.len(), 3);
    }

    #[test]
    fn output_in_transcripts_and_blocks_of_only_output_are_not_steps() {
        let commands = |lang: &str, body: &str| -> Vec<String> {
            steps_of_block(lang, body, 1, None, None, false).steps.into_iter().map(|s| s.step.command).collect()
        };
        let transcript = "oc get mcp worker -o yaml\napiVersion: v1\nkind: MachineConfigPool\nspec:\n  paused: false\n";
        assert_eq!(commands("console", transcript), vec!["oc get mcp worker -o yaml"]);
        let assigned = "NODE=$(oc -n \"$NS\" get pods -ojson | jq -r '.items[0].spec.nodeName')\n";
        assert_eq!(commands("console", assigned).len(), 1, "an assignment is a command");
        let logs = "1 drain_controller.go:173] node x: draining\nspec:\n  paused: false\n";
        assert!(commands("bash", logs).is_empty(), "a block with no command line is output");
        assert!(commands("shell", "> config get maxmemory\n").is_empty(), "an interactive prompt is not shell");
        assert_eq!(commands("bash", "kubectl get pods\n").len(), 1);
        assert_eq!(commands("bash", "pwd; env | cut -d= -f1\n").len(), 1);
    }

    #[test]
    fn prompts_are_stripped_and_output_dropped() {
        let t = texts("$ kubectl get pods\nNAME READY\npod-1 1/1\n$ ls\n");
        assert_eq!(t, vec!["kubectl get pods", "ls"]);
    }

    #[test]
    fn untagged_diagrams_and_templates_are_not_shell() {
        for text in [
            "1. DETECT\n   └─> Alert received\n",
            "0 2 * * * /opt/backup.sh\n",
            "Subject: [INCIDENT] Cell 0 down\nCurrent Status: investigating\nNext Update: 15 min\n",
            "Dear Customer,\nWe are aware of an issue.\n",
        ] {
            assert_eq!(shell_language("", &split_block(text, false)), None, "{text}");
        }
        assert_eq!(shell_language("", &split_block("kubectl get pods\n", false)).as_deref(), Some("sh"));
        let transcript = split_block("kubectl get pods\nNAME  READY\npod-1  1/1\n", false);
        assert_eq!(shell_language("", &transcript).as_deref(), Some("sh"));
    }

    #[test]
    fn output_after_a_command_is_its_expected_output() {
        let block = |lang: &str, body: &str, lead_in: Option<&str>| steps_of_block(lang, body, 1, None, lead_in, false);
        let b = block(
            "bash",
            "  ceph status\n    cluster:\n      id: 6266\n      health: HEALTH_ERR\n              3 full osd(s)\n",
            None,
        );
        assert_eq!(b.steps.len(), 1);
        assert_eq!(b.steps[0].step.command, "ceph status");
        assert_eq!(
            b.steps[0].step.expected_output.as_deref(),
            Some("    cluster:\n      id: 6266\n      health: HEALTH_ERR\n              3 full osd(s)")
        );
        let logs = "Mar 20 13:16:36 runner-2 gitlab-runner[19931]: level=info msg=\"Checking for jobs\"\n";
        let b = block("sh", logs, None);
        assert!(b.steps.is_empty());
        assert_eq!(b.leading_output.as_deref(), Some(logs.trim_end()), "kept for the step before");
        let b = block("", "NAME   READY   STATUS\nweb-1  1/1     Running\n", Some("The output should look like:"));
        assert!(b.steps.is_empty() && b.leading_output.is_some());
        let b = block("", "kubectl get pods -n web\n", Some("Run this and check the output:"));
        assert_eq!(b.steps.len(), 1, "a plain command stays a command whatever the lead-in says");
        let b = block("text", " - alertname = KubePodNotReady\n - pod = web-1\n", None);
        assert!(b.steps.is_empty() && b.leading_output.is_some(), "a text fence is output");
        let b = block("sh", "sum by (node) (rate(x_total{job=\"a\"}[5m]))\n  / on (node) y\n", None);
        assert_eq!((b.steps.len(), b.leading_output), (0, None), "a query is neither step nor output");
        let b = block("console", "pgbouncer=# SHOW POOLS;\n database | user\n----------+------\n", None);
        assert_eq!((b.steps.len(), b.leading_output), (0, None), "REPL input is not a step");
        let b = block("console", "# systemctl status kubelet\n● kubelet.service - kubelet\n", None);
        assert_eq!(b.steps[0].step.command, "systemctl status kubelet", "root's prompt in a transcript");
        assert!(b.steps[0].step.expected_output.is_some());
    }

    #[test]
    fn json_reports_and_a_space_after_a_continuation() {
        let b = steps_of_block("sh", "{\ncontext: Job raised exception,\njob: {\n", 1, None, None, false);
        assert!(b.steps.is_empty() && b.leading_output.is_some());
        let b = steps_of_block("", "{\n  \"name\": \"x\"\n}\n", 1, None, None, false);
        assert_eq!((b.steps.len(), b.leading_output), (0, None), "a JSON example outside a shell fence");
        let t = texts("$ oc delete machineconfig \\ \n  00-override-worker\n");
        assert_eq!(t, vec!["oc delete machineconfig \\\n  00-override-worker"]);
    }

    #[test]
    fn function_bodies_stay_one_command() {
        let t = texts("function queue() {\n  local T=\"$1\"\n  shift\n}\nqueue a\nb() {\n  echo\n}\n");
        assert_eq!(t.len(), 3, "{t:?}");
    }
}
