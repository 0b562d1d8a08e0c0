//! Turns one fenced code block into steps: decides whether the fence holds shell at all,
//! strips `$ ` prompts, splits the text into complete commands (following heredocs, quotes,
//! line continuations and compound commands across lines) and titles each command with the
//! comment group above it. Risk classification is delegated to `classify`.

use crate::classify::{classify, plausible_command_name};
use crate::model::{Risk, RiskClass, Step};
use crate::placeholders::placeholders;

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

/// Fence languages that show a terminal session: commands and what they printed, mixed.
const TRANSCRIPT_LANGS: &[&str] = &["console", "shell-session", "shellsession", "terminal"];

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
pub fn shell_language(lang: &str, commands: &[RawCommand]) -> Option<String> {
    if SHELL_LANGS.contains(&lang) {
        return Some(lang.to_string());
    }
    if !lang.is_empty() && lang != "text" && lang != "plain" && lang != "none" {
        return None;
    }
    if commands.is_empty() {
        return None;
    }
    // Stricter than `starts_with_command`: an untagged block of `key=value` lines is a label
    // list, not shell.
    let all_plausible = commands.iter().all(named_command);
    all_plausible.then(|| "sh".to_string())
}

/// Builds the steps of one code block. `first_line` is the document line of the block's
/// first body line; `context` titles commands that have no comment of their own.
pub fn steps_of_block(
    lang: &str,
    body: &str,
    first_line: usize,
    context: Option<&str>,
    _lead_in: Option<&str>,
    classify_steps: bool,
) -> BlockSteps {
    let mut commands = split_commands(body);
    let Some(language) = shell_language(lang, &commands) else {
        return BlockSteps::default();
    };
    // Output is not a step: in a terminal transcript, lines that do not start with a command
    // name are what the commands printed (YAML, log lines, tables); and a block of any shell
    // language in which no line starts with one is captured output as a whole.
    if TRANSCRIPT_LANGS.contains(&lang) {
        commands.retain(starts_with_command);
    }
    if !commands.iter().any(starts_with_command) {
        return BlockSteps::default();
    }
    let steps = commands
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
                expected_output: None,
            };
            BlockStep { step, fresh_title: c.fresh_title }
        })
        .collect();
    BlockSteps { steps, leading_output: None }
}

/// Removes interactive prompts: when some lines start with `$ `, only those lines (and
/// their continuations) are commands and the rest is output.
fn strip_prompts(body: &str) -> Vec<(usize, String)> {
    let has_prompt = body.lines().any(|l| l.trim_start().starts_with("$ "));
    if !has_prompt {
        return body.lines().map(str::to_string).enumerate().collect();
    }
    let mut out = Vec::new();
    let mut continuing = false;
    for (i, line) in body.lines().enumerate() {
        let t = line.trim_start();
        if let Some(cmd) = t.strip_prefix("$ ") {
            out.push((i, cmd.to_string()));
            continuing = cmd.trim_end().ends_with('\\');
        } else if continuing || t.starts_with('#') {
            out.push((i, line.to_string()));
            continuing = continuing && line.trim_end().ends_with('\\');
        }
    }
    out
}

/// Splits a block into complete commands with their titles.
pub fn split_commands(body: &str) -> Vec<RawCommand> {
    let lines = strip_prompts(body);
    let mut out = Vec::new();
    let mut scanner = Scanner::default();
    let mut buf: Vec<&str> = Vec::new();
    let mut start = 0;
    // Comment lines of the current group (a blank line starts a new group).
    let mut comments: Vec<String> = Vec::new();
    let mut title: Option<String> = None;
    let mut fresh = false;
    for (offset, line) in &lines {
        if buf.is_empty() {
            let t = line.trim();
            if t.is_empty() {
                if !comments.is_empty() {
                    title = Some(comments.join(" - "));
                    comments.clear();
                }
                fresh = false;
                continue;
            }
            if t.starts_with("#!") {
                continue;
            }
            if let Some(c) = t.strip_prefix('#') {
                let c = c.trim();
                if !c.is_empty() {
                    comments.push(c.to_string());
                }
                continue;
            }
            if !comments.is_empty() {
                title = Some(comments.join(" - "));
                comments.clear();
                fresh = true;
            }
            start = *offset;
        }
        buf.push(line);
        scanner.feed(line);
        if scanner.complete() {
            let text = buf.join("\n").trim().to_string();
            out.push(RawCommand { title: title.clone(), fresh_title: fresh, text, offset: start });
            buf.clear();
            scanner = Scanner::default();
        }
    }
    if !buf.is_empty() {
        out.push(RawCommand { title, fresh_title: fresh, text: buf.join("\n").trim().to_string(), offset: start });
    }
    out
}

/// Line-level lexical state: enough of the shell grammar to know where a command ends.
#[derive(Default)]
struct Scanner {
    single: bool,
    double: bool,
    /// Pending heredoc delimiters (delimiter, strip leading tabs).
    heredocs: Vec<(String, bool)>,
    /// Whether we are inside a heredoc body.
    in_heredoc: bool,
    depth: i64,
    continued: bool,
}

impl Scanner {
    fn complete(&self) -> bool {
        !self.single && !self.double && self.heredocs.is_empty() && self.depth <= 0 && !self.continued
    }

    fn feed(&mut self, line: &str) {
        if self.in_heredoc {
            if let Some((delim, tabs)) = self.heredocs.first() {
                let l = if *tabs { line.trim_start_matches('\t') } else { line };
                if l.trim_end() == delim {
                    self.heredocs.remove(0);
                }
            }
            self.in_heredoc = !self.heredocs.is_empty();
            return;
        }
        let bytes = line.as_bytes();
        let mut i = 0;
        let mut word = String::new();
        let mut command_position = !self.single && !self.double;
        let mut last_sig = b' ';
        while i < bytes.len() {
            let b = bytes[i];
            if self.single {
                if b == b'\'' {
                    self.single = false;
                }
                word.push(b as char);
                i += 1;
                continue;
            }
            if b == b'\\' {
                if i + 1 == bytes.len() {
                    break;
                }
                word.push(b as char);
                i += 2;
                continue;
            }
            if self.double {
                if b == b'"' {
                    self.double = false;
                }
                word.push(b as char);
                i += 1;
                continue;
            }
            match b {
                b'\'' => self.single = true,
                b'"' => self.double = true,
                b'#' if word.is_empty() => break,
                b'(' => self.depth += 1,
                b')' => self.depth -= 1,
                b'<' if bytes.get(i + 1) == Some(&b'<') && bytes.get(i + 2) != Some(&b'<') => {
                    let (delim, tabs, used) = heredoc_delimiter(&line[i + 2..]);
                    if !delim.is_empty() {
                        self.heredocs.push((delim, tabs));
                    }
                    i += 2 + used;
                    continue;
                }
                _ => {}
            }
            if b.is_ascii_whitespace() || matches!(b, b';' | b'|' | b'&') {
                self.end_word(&mut word, &mut command_position);
                if matches!(b, b';' | b'|' | b'&') {
                    command_position = true;
                }
            } else {
                word.push(b as char);
            }
            if !b.is_ascii_whitespace() {
                last_sig = b;
            }
            i += 1;
        }
        let trailing_backslash = line.ends_with('\\') && !line.ends_with("\\\\");
        self.end_word(&mut word, &mut command_position);
        self.continued = !self.single
            && !self.double
            && (trailing_backslash || (last_sig == b'|') || line.trim_end().ends_with("&&"));
        self.in_heredoc = !self.heredocs.is_empty();
    }

    fn end_word(&mut self, word: &mut String, command_position: &mut bool) {
        if word.is_empty() {
            return;
        }
        if *command_position {
            match word.as_str() {
                "if" | "case" | "for" | "while" | "until" | "select" | "{" => self.depth += 1,
                "fi" | "esac" | "done" | "}" => self.depth -= 1,
                _ => {}
            }
            // Keywords that leave the next word in command position.
            *command_position = matches!(
                word.as_str(),
                "then" | "do" | "else" | "elif" | "{" | "!" | "if" | "while" | "until" | "time"
            );
        }
        if word.ends_with(';') {
            *command_position = true;
        }
        word.clear();
    }
}

/// Reads a heredoc delimiter after `<<`: returns (delimiter, strip tabs, bytes consumed).
fn heredoc_delimiter(rest: &str) -> (String, bool, usize) {
    let mut used = 0;
    let mut tabs = false;
    let mut r = rest;
    if let Some(s) = r.strip_prefix('-') {
        tabs = true;
        r = s;
        used += 1;
    }
    let trimmed = r.trim_start();
    used += r.len() - trimmed.len();
    let mut delim = String::new();
    let mut chars = trimmed.char_indices();
    for (_, c) in chars.by_ref() {
        if c == '\'' || c == '"' || c == '\\' {
            used += 1;
            continue;
        }
        if c.is_alphanumeric() || c == '_' || c == '-' || c == '.' {
            delim.push(c);
            used += c.len_utf8();
        } else {
            break;
        }
    }
    (delim, tabs, used)
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn untagged_diagrams_are_not_shell() {
        let c = split_commands("1. DETECT\n   └─> Alert received\n");
        assert_eq!(shell_language("", &c), None);
        let c = split_commands("0 2 * * * /opt/backup.sh\n");
        assert_eq!(shell_language("", &c), None);
        let c = split_commands("kubectl get pods\n");
        assert_eq!(shell_language("", &c).as_deref(), Some("sh"));
    }
}
