//! Line-level lexical state: enough of the shell grammar to know where a command that spans
//! lines ends (open quotes, heredocs, line continuations, compound commands and function
//! bodies). `steps.rs` feeds it one line at a time.

/// Line-level lexical state: enough of the shell grammar to know where a command ends.
#[derive(Default)]
pub(super) struct Scanner {
    single: bool,
    double: bool,
    /// Pending heredoc delimiters (delimiter, strip leading tabs).
    heredocs: Vec<(String, bool)>,
    /// Whether we are inside a heredoc body.
    in_heredoc: bool,
    depth: i64,
    continued: bool,
    function: Function,
}

/// Where a function definition's head is.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
enum Function {
    #[default]
    No,
    /// After `function`.
    Keyword,
    /// After the name: a `{` opens the body.
    Name,
}

impl Scanner {
    pub(super) fn complete(&self) -> bool {
        !self.single && !self.double && self.heredocs.is_empty() && self.depth <= 0 && !self.continued
    }

    pub(super) fn feed(&mut self, line: &str) {
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
        // `function name {`, `name() {`: the brace opens the function's body.
        let head = std::mem::replace(&mut self.function, Function::No);
        match (head, word.as_str()) {
            (Function::Name, "{") => {
                self.depth += 1;
                *command_position = true;
                word.clear();
                return;
            }
            (Function::Name, "()") => self.function = Function::Name,
            (Function::Keyword, _) => self.function = Function::Name,
            (_, w) if *command_position && w == "function" => self.function = Function::Keyword,
            (_, w) if *command_position && w.len() > 2 && w.ends_with("()") => self.function = Function::Name,
            _ => {}
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
