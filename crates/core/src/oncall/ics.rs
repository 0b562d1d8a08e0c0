//! iCalendar export of on-call shifts (RFC 5545), so people can see their shifts in the
//! calendar they already use. One VEVENT per shift, times in UTC, CRLF line endings and lines
//! folded at 75 octets. UIDs are derived from the schedule, layer and shift start so that
//! re-importing a fresh export updates events instead of duplicating them.

use std::fmt::Write;

use jiff::Timestamp;

use super::schedule::{Schedule, Shift};

/// The calendar for `shifts` of `schedule`, stamped with `now` (DTSTAMP).
pub fn to_ics(schedule: &Schedule, shifts: &[Shift], now: Timestamp) -> String {
    let mut out = String::new();
    let mut line = |l: &str| fold_into(&mut out, l);
    line("BEGIN:VCALENDAR");
    line("VERSION:2.0");
    line("PRODID:-//Sevwatch//On-call schedule//EN");
    line("CALSCALE:GREGORIAN");
    line("METHOD:PUBLISH");
    line(&format!("X-WR-CALNAME:{}", escape_text(&format!("On call: {}", schedule.name))));
    let stamp = utc(now);
    for s in shifts {
        line("BEGIN:VEVENT");
        line(&format!("UID:{}-{}-{}@sevwatch", schedule.id, uid_part(&s.layer), s.start.as_second()));
        line(&format!("DTSTAMP:{stamp}"));
        line(&format!("DTSTART:{}", utc(s.start)));
        line(&format!("DTEND:{}", utc(s.end)));
        let cover = if s.overridden { " (override)" } else { "" };
        line(&format!(
            "SUMMARY:{}",
            escape_text(&format!("{} on call: {} ({}){cover}", s.user, schedule.name, s.layer))
        ));
        line("TRANSP:TRANSPARENT");
        line("END:VEVENT");
    }
    line("END:VCALENDAR");
    out
}

/// `20260302T090000Z`: the UTC form of DATE-TIME; sub-second precision is dropped because
/// the format has none.
fn utc(t: Timestamp) -> String {
    t.strftime("%Y%m%dT%H%M%SZ").to_string()
}

/// UIDs must be unique and stable; layer names are free text, so keep only safe characters.
fn uid_part(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c.to_ascii_lowercase() } else { '_' }).collect()
}

/// TEXT escaping (RFC 5545 3.3.11): backslash, semicolon, comma and newlines.
fn escape_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// Append one content line, folded so no physical line exceeds 75 octets (RFC 5545 3.1):
/// continuation lines start with a space, which counts toward their 75. Folds never split a
/// UTF-8 character.
fn fold_into(out: &mut String, line: &str) {
    let mut budget = 75;
    let mut used = 0;
    for c in line.chars() {
        if used + c.len_utf8() > budget {
            out.push_str("\r\n ");
            budget = 75;
            used = 1;
        }
        out.push(c);
        used += c.len_utf8();
    }
    let _ = write!(out, "\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_fold_at_75_octets_without_splitting_characters() {
        let mut out = String::new();
        let text = format!("SUMMARY:{}", "é".repeat(60));
        fold_into(&mut out, &text);
        for physical in out.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(physical.len() <= 75, "{} octets: {physical:?}", physical.len());
        }
        let unfolded = out.replace("\r\n ", "");
        assert_eq!(unfolded, format!("{text}\r\n"));
    }

    #[test]
    fn text_values_escape_the_characters_rfc_5545_reserves() {
        assert_eq!(escape_text("a;b,c\\d\ne"), "a\\;b\\,c\\\\d\\ne");
    }

    #[test]
    fn short_lines_are_left_whole() {
        let mut out = String::new();
        fold_into(&mut out, "BEGIN:VEVENT");
        assert_eq!(out, "BEGIN:VEVENT\r\n");
    }
}
