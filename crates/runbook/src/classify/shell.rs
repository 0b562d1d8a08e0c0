//! Walks the brush-parser AST of a command and flattens it into simple commands with
//! quote-removed argv, their redirections, heredoc bodies and the text of every `$(...)`
//! found in their words, so the rules in `commands.rs` see one flat list no matter how the
//! command was composed (pipelines, `&&`, subshells, loops, functions).

use brush_parser::ast::{
    AssignmentValue, Command, CommandPrefixOrSuffixItem, CompoundCommand, CompoundList, IoFileRedirectKind,
    IoFileRedirectTarget, IoRedirect, Pipeline, Program, SimpleCommand,
};
use brush_parser::word::{self, WordPiece, WordPieceWithSource};
use brush_parser::ParserOptions;

/// A redirection that touches a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileRedirect {
    pub append: bool,
    pub write: bool,
    pub target: String,
}

/// One simple command after flattening.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Simple {
    pub argv: Vec<String>,
    /// True when argv[0] came from an expansion (`$CMD args`), so its name is unknowable.
    pub dynamic_name: bool,
    pub redirects: Vec<FileRedirect>,
    /// Heredoc bodies and here-strings fed to the command.
    pub stdin_docs: Vec<String>,
    /// Text of `$(...)` / backtick substitutions inside the command's words.
    pub substitutions: Vec<String>,
    /// Variable names assigned by this command (`X=1`, prefix assignments).
    pub assigns: Vec<String>,
    /// Redirections of a compound command (`done < in > out`), not a command of its own.
    pub compound: bool,
}

/// Something the walk could not turn into simple commands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item {
    Simple(Simple),
    /// `((...))` whose text looks like words: probably `( ( cmd ) )` mis-parsed.
    WordyArithmetic(String),
}

pub fn options() -> ParserOptions {
    ParserOptions::default()
}

/// Parses a whole shell text with brush. brush-parser 0.4 can panic on some malformed input
/// (an `unwrap` in its tokenizer, found by proptest on `"$(<<EOF\n)\nEOF`), so the call is
/// fenced with `catch_unwind` and a panic counts as a parse failure.
pub fn parse(text: &str) -> Result<Program, String> {
    std::panic::catch_unwind(|| {
        let opts = options();
        let mut parser = brush_parser::Parser::new(std::io::Cursor::new(text.as_bytes()), &opts);
        parser.parse_program().map_err(|e| e.to_string())
    })
    .unwrap_or_else(|_| Err("shell parser panicked".to_string()))
}

/// Flattens a parsed program.
pub fn flatten(program: &Program) -> Vec<Item> {
    let mut out = Vec::new();
    for list in &program.complete_commands {
        walk_list(list, &mut out);
    }
    out
}

fn walk_list(list: &CompoundList, out: &mut Vec<Item>) {
    for item in &list.0 {
        let and_or = &item.0;
        walk_pipeline(&and_or.first, out);
        for next in &and_or.additional {
            match next {
                brush_parser::ast::AndOr::And(p) | brush_parser::ast::AndOr::Or(p) => walk_pipeline(p, out),
            }
        }
    }
}

fn walk_pipeline(p: &Pipeline, out: &mut Vec<Item>) {
    for cmd in &p.seq {
        walk_command(cmd, out);
    }
}

fn walk_command(cmd: &Command, out: &mut Vec<Item>) {
    match cmd {
        Command::Simple(s) => out.push(Item::Simple(simple(s))),
        Command::Compound(c, redirects) => {
            walk_compound(c, out);
            if let Some(r) = redirects {
                // Redirections on a compound command apply to it as a whole; record them
                // on an empty pseudo-command so the rules still see the file write.
                let mut s = Simple { compound: true, ..Simple::default() };
                for redirect in &r.0 {
                    redirect_into(redirect, &mut s);
                }
                if !s.redirects.is_empty() || !s.stdin_docs.is_empty() || !s.substitutions.is_empty() {
                    out.push(Item::Simple(s));
                }
            }
        }
        Command::Function(f) => walk_compound(&f.body.0, out),
        Command::ExtendedTest(_, _) => {}
    }
}

fn walk_compound(c: &CompoundCommand, out: &mut Vec<Item>) {
    match c {
        CompoundCommand::Arithmetic(a) => {
            let text = a.expr.value.trim();
            if looks_like_words(text) {
                out.push(Item::WordyArithmetic(text.to_string()));
            }
        }
        CompoundCommand::ArithmeticForClause(f) => walk_list(&f.body.list, out),
        CompoundCommand::BraceGroup(b) => walk_list(&b.list, out),
        CompoundCommand::Subshell(s) => walk_list(&s.list, out),
        CompoundCommand::ForClause(f) => {
            let mut s = Simple::default();
            for w in f.values.iter().flatten() {
                unquote_into(&w.value, &mut s.substitutions);
            }
            if !s.substitutions.is_empty() {
                out.push(Item::Simple(s));
            }
            walk_list(&f.body.list, out)
        }
        CompoundCommand::CaseClause(c) => {
            for case in &c.cases {
                if let Some(list) = &case.cmd {
                    walk_list(list, out);
                }
            }
        }
        CompoundCommand::IfClause(i) => {
            walk_list(&i.condition, out);
            walk_list(&i.then, out);
            for e in i.elses.iter().flatten() {
                if let Some(c) = &e.condition {
                    walk_list(c, out);
                }
                walk_list(&e.body, out);
            }
        }
        CompoundCommand::WhileClause(w) | CompoundCommand::UntilClause(w) => {
            walk_list(&w.0, out);
            walk_list(&w.1.list, out);
        }
        CompoundCommand::Coprocess(c) => walk_command(&c.body, out),
    }
}

/// Arithmetic never contains command names with dashed options or paths.
fn looks_like_words(text: &str) -> bool {
    let text = text.trim_start_matches(|c: char| c == '(' || c.is_whitespace());
    let words: Vec<&str> = text.split_whitespace().collect();
    words.len() >= 2
        && words[0].chars().all(|c| c.is_ascii_alphanumeric() || "_-./".contains(c))
        && words[0].chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && words[1..].iter().any(|w| w.starts_with('-') || w.contains('/') || w.chars().all(char::is_alphabetic))
}

fn simple(s: &SimpleCommand) -> Simple {
    let mut out = Simple::default();
    let mut words: Vec<&str> = Vec::new();
    let prefix = s.prefix.iter().flat_map(|p| p.0.iter()).map(|i| (true, i));
    let name = s.word_or_name.iter().map(|w| w.value.as_str());
    let suffix = s.suffix.iter().flat_map(|p| p.0.iter()).map(|i| (false, i));
    for (in_prefix, item) in prefix {
        item_into(in_prefix, item, &mut out, &mut words);
    }
    words.extend(name);
    for (in_prefix, item) in suffix {
        item_into(in_prefix, item, &mut out, &mut words);
    }
    if s.word_or_name.as_ref().is_some_and(|w| w.value.trim_start().starts_with('$')) {
        out.dynamic_name = true;
    }
    for raw in words {
        let text = unquote_into(raw, &mut out.substitutions);
        out.argv.push(text);
    }
    out
}

fn item_into<'a>(in_prefix: bool, item: &'a CommandPrefixOrSuffixItem, out: &mut Simple, words: &mut Vec<&'a str>) {
    match item {
        CommandPrefixOrSuffixItem::IoRedirect(r) => redirect_into(r, out),
        CommandPrefixOrSuffixItem::Word(w) => words.push(&w.value),
        CommandPrefixOrSuffixItem::AssignmentWord(a, w) => {
            out.assigns.push(a.name.to_string());
            match &a.value {
                AssignmentValue::Scalar(v) => {
                    unquote_into(&v.value, &mut out.substitutions);
                }
                AssignmentValue::Array(vs) => {
                    for (_, v) in vs {
                        unquote_into(&v.value, &mut out.substitutions);
                    }
                }
            }
            // `export X=1` / `local X=$(...)`: after the name the assignment is an argument.
            if !in_prefix {
                words.push(&w.value);
            }
        }
        CommandPrefixOrSuffixItem::ProcessSubstitution(_, sub) => {
            out.substitutions.push(sub.list.to_string());
        }
    }
}

fn redirect_into(r: &IoRedirect, out: &mut Simple) {
    match r {
        IoRedirect::File(_, kind, target) => {
            let (write, append) = match kind {
                IoFileRedirectKind::Write | IoFileRedirectKind::Clobber => (true, false),
                IoFileRedirectKind::Append => (true, true),
                IoFileRedirectKind::ReadAndWrite => (true, true),
                _ => (false, false),
            };
            match target {
                IoFileRedirectTarget::Filename(w) => {
                    let t = unquote_into(&w.value, &mut out.substitutions);
                    out.redirects.push(FileRedirect { append, write, target: t });
                }
                IoFileRedirectTarget::ProcessSubstitution(_, sub) => out.substitutions.push(sub.list.to_string()),
                IoFileRedirectTarget::Fd(_) | IoFileRedirectTarget::Duplicate(_) => {}
            }
        }
        IoRedirect::HereDocument(_, doc) => {
            if doc.requires_expansion {
                let body = &doc.doc.value;
                let parsed = std::panic::catch_unwind(|| word::parse_heredoc(body, &options()).ok());
                if let Ok(Some(pieces)) = parsed {
                    collect_substitutions(&pieces, &mut out.substitutions);
                }
            }
            out.stdin_docs.push(doc.doc.value.clone());
        }
        IoRedirect::HereString(_, w) => {
            let t = unquote_into(&w.value, &mut out.substitutions);
            out.stdin_docs.push(t);
        }
        IoRedirect::OutputAndError(w, append) => {
            let t = unquote_into(&w.value, &mut out.substitutions);
            out.redirects.push(FileRedirect { append: *append, write: true, target: t });
        }
    }
}

/// Removes quotes from a raw word (brush returns words as written) and collects the command
/// substitutions it contains. Falls back to naive quote stripping when the word does not
/// parse.
pub fn unquote_into(raw: &str, subs: &mut Vec<String>) -> String {
    let parsed = std::panic::catch_unwind(|| word::parse(raw, &options()).ok()).unwrap_or(None);
    match parsed {
        Some(pieces) => {
            collect_substitutions(&pieces, subs);
            let mut s = String::new();
            render(raw, &pieces, &mut s);
            s
        }
        None => raw.replace(['"', '\''], ""),
    }
}

fn render(raw: &str, pieces: &[WordPieceWithSource], out: &mut String) {
    for p in pieces {
        match &p.piece {
            WordPiece::Text(t) | WordPiece::SingleQuotedText(t) | WordPiece::AnsiCQuotedText(t) => out.push_str(t),
            WordPiece::DoubleQuotedSequence(inner) | WordPiece::GettextDoubleQuotedSequence(inner) => {
                render(raw, inner, out)
            }
            WordPiece::EscapeSequence(e) => out.push_str(e.strip_prefix('\\').unwrap_or(e)),
            _ => out.push_str(raw.get(p.start_index..p.end_index).unwrap_or("")),
        }
    }
}

fn collect_substitutions(pieces: &[WordPieceWithSource], subs: &mut Vec<String>) {
    for p in pieces {
        match &p.piece {
            WordPiece::CommandSubstitution(c) | WordPiece::BackquotedCommandSubstitution(c) => subs.push(c.clone()),
            WordPiece::DoubleQuotedSequence(inner) | WordPiece::GettextDoubleQuotedSequence(inner) => {
                collect_substitutions(inner, subs)
            }
            _ => {}
        }
    }
}
