//! Shell command risk classification: `classify(command) -> Risk`. Parses with brush-parser
//! (a real bash grammar) behind the guards SHELL-NOTES.md asks for: input size and nesting
//! caps, a large-stack thread for deep inputs, line-by-line fallback when a block does not
//! parse, and re-parsing of text that reaches a shell again (`$(...)`, `sudo`, `ssh host
//! '...'`, `bash -c`, `watch`, `find -exec`). A composed command is as risky as its most
//! dangerous part. Rules per command live in `commands`, SQL in `sql`.

mod commands;
mod names;
mod readers;
mod scripts;
mod shell;
mod sql;
mod tools;
mod verbs;

use crate::model::{Risk, RiskClass};
use shell::{FileRedirect, Item, Simple};

/// Inputs longer than this are not parsed at all.
pub const MAX_INPUT: usize = 64 * 1024;
/// Nesting beyond this is refused before parsing (brush recurses per level).
const MAX_DEPTH: usize = 256;
/// Nesting up to this parses on the caller's stack; deeper goes to a big-stack thread.
const INLINE_DEPTH: usize = 48;
/// How many times text may be handed back to the parser (`sudo bash -c "ssh h '...'"`).
const MAX_REPARSE: usize = 8;

/// Classifies one command (possibly multi-line: pipelines, heredocs, compound commands).
pub fn classify(command: &str) -> Risk {
    // Prose placeholders read as plain words: `<pod>` is no redirection (see placeholders.rs).
    let neutral = crate::placeholders::neutral(command);
    let mut risk = classify_text(&neutral);
    // Say `<node>`, not the stand-in, where the reason can tell which placeholder it was.
    let prose: Vec<String> = crate::placeholders::placeholders(command)
        .into_iter()
        .filter(|p| p.kind != crate::model::PlaceholderKind::Variable)
        .map(|p| p.text)
        .collect();
    if prose.len() == 1 {
        risk.reason = risk.reason.replace(crate::placeholders::NEUTRAL, &prose[0]);
    }
    risk
}

fn classify_text(command: &str) -> Risk {
    let text = command.trim();
    if text.is_empty() {
        return Risk::new(RiskClass::ReadOnly, "empty command");
    }
    if text.len() > MAX_INPUT {
        return Risk::new(RiskClass::Unknown, "command too long to classify");
    }
    let depth = nesting_estimate(text);
    if depth > MAX_DEPTH {
        return Risk::new(RiskClass::Unknown, "command nested too deeply to classify");
    }
    if depth <= INLINE_DEPTH {
        return Classifier::default().text_risk(text);
    }
    let owned = text.to_string();
    std::thread::Builder::new()
        .name("classify".into())
        .stack_size(256 * 1024 * 1024)
        .spawn(move || Classifier::default().text_risk(&owned))
        .ok()
        .and_then(|h| h.join().ok())
        .unwrap_or_else(|| Risk::new(RiskClass::Unknown, "classifier failed on this command"))
}

/// An upper bound on syntactic nesting: counts openers without regard to quoting, so it
/// can only over-estimate.
fn nesting_estimate(text: &str) -> usize {
    let mut depth: i64 = 0;
    let mut max: i64 = 0;
    for word in text.split(|c: char| c.is_whitespace() || c == ';') {
        match word {
            "if" | "for" | "while" | "until" | "case" | "select" => depth += 1,
            "fi" | "done" | "esac" => depth -= 1,
            _ => {}
        }
        for b in word.bytes() {
            match b {
                b'(' | b'{' | b'[' | b'`' => depth += 1,
                b')' | b'}' | b']' => depth -= 1,
                _ => {}
            }
            max = max.max(depth);
        }
        max = max.max(depth);
    }
    // Unbalanced closers do not reduce real nesting; count all openers in that case.
    max.max(0) as usize
}

/// Is `name` a command some rule of the classifier knows by name (`kubectl`, `grep`, `cd`)?
pub(crate) fn known_command(name: &str) -> bool {
    commands::known_name(name)
}

/// Is `word` plausibly the name of a command? Rejects diagram glyphs, list numbering,
/// crontab schedules, prose labels and decorators that parse as "commands".
pub fn plausible_command_name(word: &str) -> bool {
    let Some(first) = word.chars().next() else {
        return false;
    };
    if matches!(word, "[" | "[[" | "{" | "(" | "((" | "!" | "." | ":") {
        return true;
    }
    word.is_ascii()
        && (first.is_ascii_alphanumeric() || matches!(first, '.' | '/' | '~' | '_' | '$' | '('))
        && !word.ends_with(':')
        && !word.ends_with('.')
        && !word.ends_with(',')
        && !word.chars().all(|c| c.is_ascii_digit() || c == '*' || c == '/' || c == ',' || c == '-')
        && word.chars().all(|c| c.is_ascii_alphanumeric() || "._-/~+$@{}()=:%,\"'".contains(c))
}

/// Every text of `command` that a second shell would read (`ssh host "..."`, `bash -c`,
/// `eval`, a here-doc fed to a shell), with the wrapper that hands it over; `None` when a part
/// of the command does not parse, so nothing is known about where its words go. `bind` uses
/// this to keep values out of text that is parsed twice.
pub(crate) fn second_shell_texts(command: &str) -> Option<Reach> {
    let text = command.trim();
    if text.len() > MAX_INPUT || nesting_estimate(text) > INLINE_DEPTH {
        return None;
    }
    let mut c = Classifier::default();
    c.text_risk(text);
    (!c.unparsed).then_some(Reach { reread: c.reread, command_names: c.command_names })
}

/// Where the words of a command go, as far as the classifier followed them.
pub(crate) struct Reach {
    /// (wrapper, text) for every text handed to a second shell.
    pub reread: Vec<(String, String)>,
    /// argv[0] of every command found, nested ones included.
    pub command_names: Vec<String>,
}

/// Recursion state shared by the walkers, and what `second_shell_texts` needs to know.
#[derive(Default)]
pub(crate) struct Classifier {
    reparse: usize,
    /// (wrapper, text) for every text handed to a second shell.
    reread: Vec<(String, String)>,
    /// Some part did not parse.
    unparsed: bool,
    command_names: Vec<String>,
}

impl Classifier {
    /// Parses shell text and classifies it; falls back to one line at a time.
    pub(crate) fn text_risk(&mut self, text: &str) -> Risk {
        if self.reparse >= MAX_REPARSE {
            self.unparsed = true;
            return Risk::new(RiskClass::Unknown, "command substitutions nested too deeply");
        }
        self.reparse += 1;
        let r = match shell::parse(text) {
            Ok(program) => self.items_risk(&shell::flatten(&program)),
            Err(_) => self.line_fallback(text),
        };
        self.reparse -= 1;
        r
    }

    fn line_fallback(&mut self, text: &str) -> Risk {
        let mut risks = Vec::new();
        let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
        if lines.len() <= 1 {
            self.unparsed = true;
            return Risk::new(RiskClass::Unknown, format!("could not parse: {}", short(text)));
        }
        for line in lines {
            match shell::parse(line) {
                Ok(program) => risks.push(self.items_risk(&shell::flatten(&program))),
                Err(_) => {
                    self.unparsed = true;
                    risks.push(Risk::new(RiskClass::Unknown, format!("could not parse: {}", short(line))))
                }
            }
        }
        worst(risks)
    }

    fn items_risk(&mut self, items: &[Item]) -> Risk {
        let risks = items
            .iter()
            .map(|item| match item {
                Item::Simple(s) => self.simple_risk(s),
                Item::WordyArithmetic(text) => {
                    // `( ( rm -rf /x ) )` is read by brush as `((...))`: judge the words.
                    let r = self.text_risk(text);
                    if r.class == RiskClass::ReadOnly {
                        Risk::new(RiskClass::Unknown, format!("ambiguous (( {} ))", short(text)))
                    } else {
                        r
                    }
                }
            })
            .collect();
        worst(risks)
    }

    fn simple_risk(&mut self, s: &Simple) -> Risk {
        let mut risks = Vec::new();
        if s.compound {
            // Only the redirections below matter; the commands were walked already.
        } else if s.dynamic_name {
            risks.push(Risk::new(
                RiskClass::Unknown,
                format!("command name comes from a variable: {}", short(&s.argv.join(" "))),
            ));
        } else if let Some(name) = s.argv.first() {
            self.command_names.push(name.clone());
            if !plausible_command_name(name) && !commands::known_name(name) {
                risks.push(Risk::new(RiskClass::Unknown, format!("not a plausible command: {}", short(name))));
            } else {
                risks.push(commands::argv_risk(self, &s.argv, &s.stdin_docs));
            }
        } else {
            risks.push(Risk::new(RiskClass::ReadOnly, "only sets shell variables"));
        }
        for r in &s.redirects {
            if let Some(risk) = redirect_risk(s, r) {
                risks.push(risk);
            }
        }
        for sub in &s.substitutions {
            let r = self.text_risk(sub);
            risks.push(Risk::new(r.class, format!("in $(...): {}", r.reason)));
        }
        worst(risks)
    }

    /// Classifies text that `wrapper` hands to a second shell, and records it.
    pub(crate) fn reread(&mut self, wrapper: &str, text: &str) -> Risk {
        self.reread.push((wrapper.to_string(), text.to_string()));
        self.text_risk(text)
    }

    pub(crate) fn argv_risk(&mut self, argv: &[String], stdin: &[String]) -> Risk {
        if let Some(name) = argv.first() {
            self.command_names.push(name.clone());
        }
        if argv.first().is_some_and(|n| !plausible_command_name(n)) {
            return Risk::new(RiskClass::Unknown, format!("not a plausible command: {}", short(&argv[0])));
        }
        commands::argv_risk(self, argv, stdin)
    }
}

/// Output redirections write files even when the command itself only reads.
fn redirect_risk(s: &Simple, r: &FileRedirect) -> Option<Risk> {
    if !r.write || r.target.starts_with("/dev/") || r.target == "-" {
        return None;
    }
    let t = &r.target;
    if r.append {
        return Some(Risk::new(RiskClass::Mutating, format!("appends to {t}")));
    }
    let bare = !s.compound
        && match unwrapped(&s.argv) {
            [] => true,
            [only] => matches!(only.as_str(), ":" | "true"),
            [cat, null] => cat == "cat" && null == "/dev/null",
            _ => false,
        };
    if bare {
        return Some(Risk::new(RiskClass::Destructive, format!("truncates {t}")));
    }
    if !s.stdin_docs.is_empty() {
        return Some(Risk::new(RiskClass::Mutating, format!("writes {t} from a heredoc")));
    }
    let precious = t.starts_with("/etc/")
        || t.starts_with("/var/lib/")
        || t.starts_with("~/.")
        || [".db", ".sqlite", ".sqlite3", ".jsonl", ".wal", ".key", ".pem"].iter().any(|ext| t.ends_with(ext));
    if precious {
        Some(Risk::new(RiskClass::Destructive, format!("truncating redirection overwrites existing {t}")))
    } else {
        Some(Risk::new(RiskClass::Mutating, format!("writes {t} (replacing its contents)")))
    }
}

/// The command a wrapper runs (`sudo -u x`, `nice -n 5`, `timeout 30`, `time`): with none,
/// `sudo > file` truncates the file like `> file` does.
fn unwrapped(argv: &[String]) -> &[String] {
    let mut rest = argv;
    while let Some((first, tail)) = rest.split_first() {
        if !matches!(
            first.as_str(),
            "sudo" | "doas" | "nice" | "nohup" | "time" | "timeout" | "command" | "exec" | "stdbuf" | "ionice" | "env"
        ) {
            break;
        }
        let mut i = 0;
        while i < tail.len() && (tail[i].starts_with('-') || (first == "env" && tail[i].contains('='))) {
            let takes_value = matches!(tail[i].as_str(), "-u" | "-g" | "-n" | "-c" | "-p" | "-s" | "-k");
            i += if takes_value { 2 } else { 1 };
        }
        if first == "timeout" && i < tail.len() {
            i += 1;
        }
        rest = tail.get(i..).unwrap_or(&[]);
    }
    rest
}

/// The most dangerous risk; ties keep the first reason.
fn worst(risks: Vec<Risk>) -> Risk {
    let mut best: Option<Risk> = None;
    for r in risks {
        if best.as_ref().is_none_or(|b| r.class > b.class) {
            best = Some(r);
        }
    }
    best.unwrap_or_else(|| Risk::new(RiskClass::ReadOnly, "no commands"))
}

fn short(s: &str) -> String {
    let line = s.lines().next().unwrap_or("");
    if line.chars().count() > 60 {
        format!("{}...", line.chars().take(57).collect::<String>())
    } else {
        line.to_string()
    }
}
