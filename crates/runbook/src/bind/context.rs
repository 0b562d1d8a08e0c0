//! The quoting context of every byte of a command (plain word, `"..."`, literal, unquoted
//! here-doc, arithmetic), for `bind` to choose how a value is referenced. A small scanner over
//! a stack of frames (`$(...)`, backticks, `"..."`, `$((...))`), not a parser: where it is
//! wrong it errs between a plain word and `"..."`, which costs word splitting, never
//! execution, because `bind` never splices a value that is not inert.

/// The quoting context a byte of the command is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Ctx {
    /// A plain word of a command (at the top, inside `$(...)` or backticks).
    Word,
    /// Inside `"..."`.
    Double,
    /// An unquoted here-doc body: expands, does not split.
    Heredoc,
    /// `'...'`, `$'...'` or a quoted here-doc body: nothing expands.
    Literal,
    /// `$((...))`, `((...))`, `$[...]`.
    Arith,
}

/// What encloses the scanner's position.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Frame {
    /// A command list: the top, `$( ... )` (with its open parentheses) or `` `...` ``.
    Commands {
        parens: usize,
        backtick: bool,
    },
    Double,
    /// Arithmetic: `$[` closes with `]`, the others with `))`.
    Arith {
        parens: usize,
        bracket: bool,
    },
}

/// The context of every byte of `command`. A small scanner, not a parser: it errs only
/// between `Word` and `Double` in corner cases (`case` patterns inside `$(...)`), which costs
/// word splitting, never execution (see the module comment).
pub(super) fn contexts(command: &str) -> Vec<Ctx> {
    let b = command.as_bytes();
    let mut ctx = vec![Ctx::Word; b.len()];
    let mut stack = vec![Frame::Commands { parens: 0, backtick: false }];
    // Here-docs announced on the current line: (delimiter, quoted, strip tabs).
    let mut pending: Vec<(String, bool, bool)> = Vec::new();
    let at = |i: usize, s: &str| b[i..].starts_with(s.as_bytes());
    let mut i = 0;
    while i < b.len() {
        let top = *stack.last().expect("the bottom frame is never popped");
        let here = match top {
            Frame::Commands { .. } => Ctx::Word,
            Frame::Double => Ctx::Double,
            Frame::Arith { .. } => Ctx::Arith,
        };
        ctx[i] = here;
        let c = b[i];
        // Openers shared by every expanding frame.
        if c == b'\\' {
            if i + 1 < b.len() {
                ctx[i + 1] = here;
            }
            i += 2;
            continue;
        }
        if at(i, "$((") {
            stack.push(Frame::Arith { parens: 0, bracket: false });
            ctx[i + 1] = Ctx::Arith;
            ctx[i + 2] = Ctx::Arith;
            i += 3;
            continue;
        }
        if at(i, "$[") {
            stack.push(Frame::Arith { parens: 0, bracket: true });
            ctx[i + 1] = Ctx::Arith;
            i += 2;
            continue;
        }
        if at(i, "$(") {
            stack.push(Frame::Commands { parens: 0, backtick: false });
            ctx[i + 1] = here;
            i += 2;
            continue;
        }
        match top {
            Frame::Commands { parens, backtick } => match c {
                b'\'' => i = literal_until_quote(b, i + 1, &mut ctx, false),
                b'$' if at(i, "$'") => {
                    ctx[i + 1] = Ctx::Literal;
                    i = literal_until_quote(b, i + 2, &mut ctx, true);
                }
                b'"' => {
                    stack.push(Frame::Double);
                    i += 1;
                }
                b'`' if backtick => {
                    stack.pop();
                    i += 1;
                }
                b'`' => {
                    stack.push(Frame::Commands { parens: 0, backtick: true });
                    i += 1;
                }
                b'(' if at(i, "((") => {
                    stack.push(Frame::Arith { parens: 0, bracket: false });
                    ctx[i + 1] = Ctx::Arith;
                    i += 2;
                }
                b'(' => {
                    set_parens(&mut stack, parens + 1);
                    i += 1;
                }
                b')' if parens > 0 => {
                    set_parens(&mut stack, parens - 1);
                    i += 1;
                }
                b')' if stack.len() > 1 && !backtick => {
                    stack.pop();
                    i += 1;
                }
                b'<' if at(i, "<<") && !at(i, "<<<") => {
                    let strip = at(i, "<<-");
                    let start = i + if strip { 3 } else { 2 };
                    let (delim, quoted, end) = heredoc_delimiter(command, start);
                    if !delim.is_empty() {
                        pending.push((delim, quoted, strip));
                    }
                    i = end.max(i + 2);
                }
                b'#' if i == 0 || b[i - 1].is_ascii_whitespace() || b";&|(".contains(&b[i - 1]) => {
                    // A comment runs to the end of its line; its quotes open nothing.
                    i = command[i..].find('\n').map_or(b.len(), |e| i + e);
                }
                b'\n' if !pending.is_empty() => {
                    i = heredoc_bodies(command, i + 1, &mut pending, &mut ctx);
                }
                _ => i += 1,
            },
            Frame::Double => {
                match c {
                    b'"' => {
                        stack.pop();
                    }
                    b'`' => stack.push(Frame::Commands { parens: 0, backtick: true }),
                    _ => {}
                }
                i += 1;
            }
            Frame::Arith { parens, bracket } => {
                match c {
                    b'(' => set_arith_parens(&mut stack, parens + 1),
                    b')' if parens > 0 => set_arith_parens(&mut stack, parens - 1),
                    b')' if !bracket && at(i, "))") => {
                        ctx[i + 1] = Ctx::Arith;
                        stack.pop();
                        i += 1;
                    }
                    b']' if bracket => {
                        stack.pop();
                    }
                    b'"' => stack.push(Frame::Double),
                    b'`' => stack.push(Frame::Commands { parens: 0, backtick: true }),
                    _ => {}
                }
                i += 1;
            }
        }
    }
    ctx
}

fn set_parens(stack: &mut [Frame], n: usize) {
    if let Some(Frame::Commands { parens, .. }) = stack.last_mut() {
        *parens = n;
    }
}

fn set_arith_parens(stack: &mut [Frame], n: usize) {
    if let Some(Frame::Arith { parens, .. }) = stack.last_mut() {
        *parens = n;
    }
}

/// Marks `'...'` (or `$'...'`, where `\'` does not close) as literal; returns the index after
/// the closing quote.
fn literal_until_quote(b: &[u8], mut i: usize, ctx: &mut [Ctx], ansi_c: bool) -> usize {
    if i > 0 {
        ctx[i - 1] = Ctx::Literal;
    }
    while i < b.len() {
        ctx[i] = Ctx::Literal;
        if ansi_c && b[i] == b'\\' && i + 1 < b.len() {
            ctx[i + 1] = Ctx::Literal;
            i += 2;
            continue;
        }
        if b[i] == b'\'' {
            return i + 1;
        }
        i += 1;
    }
    i
}

/// Reads a here-doc delimiter word after `<<`: quoted if any part of it is quoted.
fn heredoc_delimiter(command: &str, start: usize) -> (String, bool, usize) {
    let rest = &command[start..];
    let skipped = rest.len() - rest.trim_start_matches([' ', '\t']).len();
    let mut delim = String::new();
    let mut quoted = false;
    let mut end = start + skipped;
    for (k, ch) in command[start + skipped..].char_indices() {
        end = start + skipped + k;
        match ch {
            '\'' | '"' | '\\' => quoted = true,
            c if c.is_whitespace() || ";|&<>()".contains(c) => return (delim, quoted, end),
            c => delim.push(c),
        }
        end += ch.len_utf8();
    }
    (delim, quoted, end)
}

/// Marks the bodies of the pending here-docs, which start at `i`; returns the index after the
/// last delimiter line.
fn heredoc_bodies(command: &str, mut i: usize, pending: &mut Vec<(String, bool, bool)>, ctx: &mut [Ctx]) -> usize {
    for (delim, quoted, strip) in pending.drain(..) {
        let body = if quoted { Ctx::Literal } else { Ctx::Heredoc };
        while i < command.len() {
            let end = command[i..].find('\n').map_or(command.len(), |e| i + e);
            let line = &command[i..end];
            let line = if strip { line.trim_start_matches('\t') } else { line };
            if line == delim {
                i = (end + 1).min(command.len());
                break;
            }
            for c in ctx.iter_mut().take(end).skip(i) {
                *c = body;
            }
            i = (end + 1).min(command.len());
        }
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contexts_are_told_apart() {
        use Ctx::*;
        let at = |cmd: &str, needle: &str| contexts(cmd)[cmd.find(needle).unwrap()];
        assert_eq!(at("echo X", "X"), Word);
        assert_eq!(at("echo \"a X\"", "X"), Double);
        assert_eq!(at("echo 'a X'", "X"), Literal);
        assert_eq!(at("echo $'a\\' X'", "X"), Literal);
        assert_eq!(at("echo \"$(echo \"$(echo X)\")\"", "X"), Word);
        assert_eq!(at("echo \"`echo X`\"", "X"), Word);
        assert_eq!(at("echo $(( X + 1 ))", "X"), Arith);
        assert_eq!(at("(( X > 1 ))", "X"), Arith);
        assert_eq!(at("echo $[ X ]", "X"), Arith);
        assert_eq!(at("cat <<EOF\nX\nEOF\necho Y", "X"), Heredoc);
        assert_eq!(at("cat <<EOF\nX\nEOF\necho Y", "Y"), Word);
        assert_eq!(at("cat <<'EOF'\nX\nEOF", "X"), Literal);
        assert_eq!(at("cat <<-\"EOF\"\n\tX\n\tEOF", "X"), Literal);
        assert_eq!(at("echo $(( (1+2) * X ))", "X"), Arith);
        assert_eq!(at("echo $(( 1 )) X", "X"), Word);
    }
}
