//! Characters that make text lie about itself, and the two things done about them: refusing
//! them where a field is one line (an incident title, a service, a role holder), and replacing
//! them with a visible escape where text is shown (the CLI's text output) or derived from a
//! sender that must not be refused (an alert's summary becoming an incident title).
//!
//! Two sets, because they do different harm:
//! - line breaks (`\n`, `\r`, VT, FF, NEL, U+2028, U+2029) turn one field into several lines:
//!   forged lines in a log or a table, a second header in an e-mail subject;
//! - invisible formatting (the bidi embeddings, overrides and isolates U+202A-U+202E and
//!   U+2066-U+2069, the marks U+200E, U+200F, U+061C, and the zero-width U+200B-U+200D and
//!   U+FEFF) make text read differently from what it holds ("Trojan Source").
//!
//! A terminal also obeys the other control characters (ESC starts a sequence that can retitle
//! the window, hide text or rewrite the screen; BEL, BS, DEL and the C1 controls are no better),
//! so [`escape`] replaces every control character as well. Titles may still hold those: the
//! API refuses only what breaks a line or hides itself, and shows the rest escaped.

use std::borrow::Cow;
use std::fmt::Write;

/// A character that breaks a line, for Unicode or for some consumer of our text.
pub fn is_line_break(c: char) -> bool {
    matches!(c, '\n' | '\r' | '\u{0b}' | '\u{0c}' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

/// A bidi control or a zero-width character: it changes how text reads without showing itself.
pub fn is_invisible_format(c: char) -> bool {
    matches!(c, '\u{061c}' | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
}

/// What [`escape`] replaces: every control character (C0, DEL, C1), line breaks and invisible
/// formatting.
pub fn is_unsafe(c: char) -> bool {
    c.is_control() || is_line_break(c) || is_invisible_format(c)
}

/// Whether [`escape`] keeps line breaks (a message body shown as a block) or escapes them too
/// (a table cell, a title).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Newlines {
    Keep,
    Escape,
}

/// `s` with every [`is_unsafe`] character replaced by a visible escape: `\n`, `\r`, `\t`, or
/// `\u{1b}` with the code point in hex. With [`Newlines::Keep`], `\n`, `\r\n` and `\t` stay as
/// they are. Borrows when there is nothing to replace (almost always), and escaping twice
/// changes nothing more.
pub fn escape(s: &str, newlines: Newlines) -> Cow<'_, str> {
    let keep = |c: char, next: Option<char>| {
        newlines == Newlines::Keep && (c == '\n' || c == '\t' || (c == '\r' && next == Some('\n')))
    };
    let mut chars = s.char_indices().peekable();
    let first = loop {
        match chars.next() {
            None => return Cow::Borrowed(s),
            Some((i, c)) if is_unsafe(c) && !keep(c, chars.peek().map(|p| p.1)) => break i,
            Some(_) => {}
        }
    };
    let mut out = String::with_capacity(s.len() + 8);
    out.push_str(&s[..first]);
    let mut chars = s[first..].chars().peekable();
    while let Some(c) = chars.next() {
        if !is_unsafe(c) || keep(c, chars.peek().copied()) {
            out.push(c);
            continue;
        }
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            other => {
                let _ = write!(out, "\\u{{{:x}}}", other as u32);
            }
        }
    }
    Cow::Owned(out)
}

/// Why `s` cannot be a one-line field, or `None`: it holds a line break or invisible
/// formatting. The message names the first such character by code point.
pub fn single_line_problem(s: &str) -> Option<String> {
    let (at, c) = s.chars().enumerate().find(|(_, c)| is_line_break(*c) || is_invisible_format(*c))?;
    let what = if is_line_break(c) { "a line break" } else { "an invisible or bidirectional formatting character" };
    Some(format!("must be one line without hidden formatting: {what} (U+{:04X}) at character {}", c as u32, at + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_shows_what_a_terminal_would_obey() {
        let cases = [
            ("plain text, ünïcødé 🚀", Newlines::Escape, "plain text, ünïcødé 🚀"),
            ("\u{1b}]0;pwned\u{7}title", Newlines::Escape, "\\u{1b}]0;pwned\\u{7}title"),
            ("\u{1b}[2J", Newlines::Keep, "\\u{1b}[2J"),
            ("a\nb\r\nc\td", Newlines::Escape, "a\\nb\\r\\nc\\td"),
            ("a\nb\r\nc\td", Newlines::Keep, "a\nb\r\nc\td"),
            ("lone\rcarriage return", Newlines::Keep, "lone\\rcarriage return"),
            ("del\u{7f} csi\u{9b} nel\u{85}", Newlines::Keep, "del\\u{7f} csi\\u{9b} nel\\u{85}"),
            ("evil\u{202e}txt.exe", Newlines::Keep, "evil\\u{202e}txt.exe"),
            (
                "\u{2066}\u{2069}\u{200b}\u{200f}\u{feff}\u{61c}",
                Newlines::Keep,
                "\\u{2066}\\u{2069}\\u{200b}\\u{200f}\\u{feff}\\u{61c}",
            ),
            ("para\u{2029}line\u{2028}", Newlines::Keep, "para\\u{2029}line\\u{2028}"),
            ("nul\0", Newlines::Escape, "nul\\u{0}"),
            ("", Newlines::Escape, ""),
        ];
        for (input, mode, want) in cases {
            assert_eq!(escape(input, mode), want, "{input:?} {mode:?}");
        }
    }

    #[test]
    fn clean_text_is_borrowed_and_escaping_twice_changes_nothing() {
        assert!(matches!(escape("INC-7 disk full", Newlines::Escape), Cow::Borrowed(_)));
        for s in ["\u{1b}[31mred\u{202e}\n", "x\r\ny\u{9b}"] {
            for mode in [Newlines::Keep, Newlines::Escape] {
                let once = escape(s, mode).into_owned();
                assert_eq!(escape(&once, mode), once);
                assert!(!once.chars().any(|c| is_unsafe(c) && c != '\n' && c != '\r' && c != '\t'));
            }
        }
    }

    #[test]
    fn one_line_fields_refuse_line_breaks_and_hidden_formatting_only() {
        for ok in ["Disk full on db-1", "ünïcødé", "tab\tinside", "\u{1b}[31m"] {
            assert_eq!(single_line_problem(ok), None, "{ok:?}");
        }
        let cases = [
            ("two\nlines", "a line break (U+000A) at character 4"),
            ("cr\r", "a line break (U+000D) at character 3"),
            ("sep\u{2028}", "a line break (U+2028)"),
            ("abc\u{202e}cba", "bidirectional formatting character (U+202E) at character 4"),
            ("\u{200b}", "(U+200B) at character 1"),
            ("iso\u{2067}", "(U+2067)"),
        ];
        for (bad, want) in cases {
            let got = single_line_problem(bad).unwrap_or_else(|| panic!("{bad:?} accepted"));
            assert!(got.contains(want), "{bad:?}: {got}");
        }
    }
}
