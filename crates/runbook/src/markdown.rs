//! Flattens Markdown (via pulldown-cmark) into the few block kinds the section builder needs:
//! headings, paragraphs, list items and code blocks, each with its 1-based line. Inline
//! formatting is kept only where it carries meaning for runbooks: `**bold**` labels and
//! `` `code` `` spans are re-emitted with their markers so `**Alert:** `X`` stays recognisable.

use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag, TagEnd};

/// One block of a runbook document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Block {
    Heading {
        level: u8,
        text: String,
        line: usize,
    },
    Paragraph {
        text: String,
        line: usize,
    },
    Item {
        text: String,
        line: usize,
    },
    Code {
        lang: String,
        body: String,
        /// Line of the first body line.
        line: usize,
        /// Leading text of the list item that contains the block, if any.
        context: Option<String>,
    },
}

/// Maps byte offsets to 1-based line numbers.
struct Lines {
    starts: Vec<usize>,
}

impl Lines {
    fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.bytes().enumerate().filter(|(_, b)| *b == b'\n').map(|(i, _)| i + 1));
        Lines { starts }
    }

    fn line(&self, offset: usize) -> usize {
        match self.starts.binary_search(&offset) {
            Ok(i) => i + 1,
            Err(i) => i,
        }
    }
}

/// Open inline container being collected.
enum Collect {
    None,
    Heading(u8, usize),
    Paragraph(usize),
    Code { lang: String, line: usize, fenced: bool },
}

/// An open list item: its line, collected leading text and whether it was emitted.
struct OpenItem {
    line: usize,
    text: String,
    emitted: bool,
}

/// Splits front matter (`---` ... `---` at the very start) from the body. Returns the
/// key/value pairs and the number of lines the front matter occupied.
pub fn front_matter(text: &str) -> (Vec<(String, String)>, usize) {
    let Some(rest) = text.strip_prefix("---\n").or_else(|| text.strip_prefix("---\r\n")) else {
        return (Vec::new(), 0);
    };
    let mut pairs = Vec::new();
    for (i, line) in rest.lines().enumerate() {
        let line = line.trim_end();
        if line == "---" || line == "..." {
            return (pairs, i + 2);
        }
        if let Some((k, v)) = line.split_once(':') {
            if !k.starts_with(' ') && !k.is_empty() {
                let v = v.trim().trim_matches('"').trim_matches('\'');
                pairs.push((k.trim().to_lowercase(), v.to_string()));
            }
        }
    }
    // No closing fence: it was a thematic break, not front matter.
    (Vec::new(), 0)
}

/// Parses `text` into blocks. Lines before `skip_lines` (front matter) are ignored.
pub fn blocks(text: &str, skip_lines: usize) -> Vec<Block> {
    let body_start = if skip_lines == 0 {
        0
    } else {
        text.match_indices('\n').nth(skip_lines - 1).map_or(text.len(), |(i, _)| i + 1)
    };
    let body = &text[body_start..];
    let lines = Lines::new(text);
    let mut out = Vec::new();
    let mut collect = Collect::None;
    let mut buf = String::new();
    let mut items: Vec<OpenItem> = Vec::new();

    let parser = Parser::new_ext(body, Options::ENABLE_TABLES | Options::ENABLE_TASKLISTS);
    for (event, range) in parser.into_offset_iter() {
        let line = lines.line(body_start + range.start);
        match event {
            Event::Start(tag) => match tag {
                Tag::Heading { level, .. } => {
                    flush_item(&mut items, &mut out);
                    buf.clear();
                    collect = Collect::Heading(level as u8, line);
                }
                Tag::Paragraph => {
                    // The first paragraph of a loose list item is the item's text.
                    if items.last().is_some_and(|i| !i.emitted && i.text.is_empty()) {
                        continue;
                    }
                    flush_item(&mut items, &mut out);
                    buf.clear();
                    collect = Collect::Paragraph(line);
                }
                Tag::CodeBlock(kind) => {
                    flush_item(&mut items, &mut out);
                    buf.clear();
                    let (lang, fenced) = match kind {
                        CodeBlockKind::Fenced(info) => (
                            info.split(|c: char| c.is_whitespace() || c == ',' || c == '{')
                                .next()
                                .unwrap_or("")
                                .to_lowercase(),
                            true,
                        ),
                        CodeBlockKind::Indented => (String::new(), false),
                    };
                    collect = Collect::Code { lang, line, fenced };
                }
                Tag::Item => {
                    flush_item(&mut items, &mut out);
                    items.push(OpenItem { line, text: String::new(), emitted: false });
                }
                Tag::List(_) | Tag::BlockQuote(_) | Tag::Table(_) => {
                    flush_item(&mut items, &mut out);
                }
                Tag::Strong => push_inline(&mut collect, &mut buf, &mut items, "**"),
                _ => {}
            },
            Event::End(end) => match end {
                TagEnd::Heading(_) => {
                    if let Collect::Heading(level, hline) = collect {
                        out.push(Block::Heading { level, text: clean(&buf), line: hline });
                    }
                    collect = Collect::None;
                }
                TagEnd::Paragraph => {
                    if let Collect::Paragraph(pline) = collect {
                        let text = buf.trim().to_string();
                        if !text.is_empty() {
                            out.push(Block::Paragraph { text, line: pline });
                        }
                        collect = Collect::None;
                    } else {
                        flush_item(&mut items, &mut out);
                    }
                }
                TagEnd::CodeBlock => {
                    if let Collect::Code { lang, line: cline, fenced } = std::mem::replace(&mut collect, Collect::None)
                    {
                        let context = items.last().map(|i| clean(&i.text)).filter(|t| !t.is_empty());
                        out.push(Block::Code {
                            lang,
                            body: std::mem::take(&mut buf),
                            // A fenced block's content starts on the line after the fence.
                            line: if fenced { cline + 1 } else { cline },
                            context,
                        });
                    }
                }
                TagEnd::Item => {
                    flush_item(&mut items, &mut out);
                    items.pop();
                }
                TagEnd::Strong => push_inline(&mut collect, &mut buf, &mut items, "**"),
                _ => {}
            },
            Event::Text(t) => push_inline(&mut collect, &mut buf, &mut items, &t),
            Event::Code(t) => {
                push_inline(&mut collect, &mut buf, &mut items, "`");
                push_inline(&mut collect, &mut buf, &mut items, &t);
                push_inline(&mut collect, &mut buf, &mut items, "`");
            }
            Event::SoftBreak | Event::HardBreak => push_inline(&mut collect, &mut buf, &mut items, "\n"),
            _ => {}
        }
    }
    flush_item(&mut items, &mut out);
    out
}

/// Routes inline text to the open container: heading/paragraph/code buffer, else the
/// innermost list item that has not yet been emitted.
fn push_inline(collect: &mut Collect, buf: &mut String, items: &mut [OpenItem], text: &str) {
    match collect {
        Collect::None => {
            if let Some(item) = items.last_mut() {
                if !item.emitted {
                    item.text.push_str(text);
                }
            }
        }
        _ => buf.push_str(text),
    }
}

/// Emits the innermost open item's leading text once, before any nested block.
fn flush_item(items: &mut [OpenItem], out: &mut Vec<Block>) {
    if let Some(item) = items.last_mut() {
        if !item.emitted {
            item.emitted = true;
            let text = item.text.trim();
            if !text.is_empty() {
                out.push(Block::Item { text: text.to_string(), line: item.line });
            }
        }
    }
}

/// Trims and collapses internal newlines of heading or item text.
fn clean(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}
