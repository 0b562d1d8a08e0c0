//! Text rendering of API answers for people at a terminal. Scripts use `--json` instead.
//!
//! Everything the CLI prints as text goes out through [`print`] (or [`eprint`] for errors),
//! which passes it through [`terminal`]: titles, labels, notes and error details come from
//! whoever sent them, and a terminal obeys the control characters in what it is given (ESC
//! sequences retitle the window or rewrite the screen, bidi overrides reorder a line). Those
//! become visible escapes (`\u{1b}`); `--json` output is never touched. Fields shown in a table
//! cell or on one line go through [`cell`] as well, so a newline inside them shows as `\n`
//! instead of starting a forged row.

use std::borrow::Cow;
use std::process::ExitCode;

use serde_json::Value;
use sevwatch_core::text::{escape, Newlines};

/// The one rule for text on a terminal: control characters (C0 but newline and tab, DEL, C1)
/// and invisible formatting (bidi overrides and isolates, zero-width characters) become
/// visible escapes; newlines stay.
pub fn terminal(text: &str) -> Cow<'_, str> {
    escape(text, Newlines::Keep)
}

/// A value shown inside a line (a table cell, a title): [`terminal`], and newlines escaped too.
pub fn cell(text: &str) -> Cow<'_, str> {
    escape(text, Newlines::Escape)
}

/// Print text for a person on stdout.
pub fn print(text: &str) {
    std::print!("{}", terminal(text));
}

/// Print a line for a person on stderr.
pub fn eprint(text: &str) {
    std::eprintln!("{}", terminal(text));
}

/// Print an answer: one JSON object with `--json`, else `text` of it.
pub fn emit(v: &Value, json_out: bool, text: impl FnOnce(&Value) -> String) -> anyhow::Result<ExitCode> {
    if json_out {
        println!("{}", serde_json::to_string(v)?);
    } else {
        print(&text(v));
    }
    Ok(ExitCode::SUCCESS)
}

/// A string field of `v` as a [`cell`] (empty when absent).
pub fn s<'a>(v: &'a Value, key: &str) -> Cow<'a, str> {
    cell(v.get(key).and_then(Value::as_str).unwrap_or(""))
}

fn minutes(ms: i64) -> String {
    let m = ms.abs() / 60_000;
    let text = if m >= 60 { format!("{}h{:02}m", m / 60, m % 60) } else { format!("{m}m") };
    if ms < 0 {
        format!("-{text}")
    } else {
        text
    }
}

fn headline(v: &Value) -> String {
    format!("{} {} {}  {}\n", s(v, "id"), s(v, "severity"), s(v, "status"), s(v, "title"))
}

/// After a command: the incident line and what was appended.
pub fn changed(v: &Value) -> String {
    let mut out = headline(v);
    for e in v.get("events").and_then(Value::as_array).into_iter().flatten() {
        out.push_str(&format!("  #{} {}\n", e.get("seq").and_then(Value::as_i64).unwrap_or(0), s(e, "summary")));
    }
    out
}

pub fn list(v: &Value) -> String {
    let items = v.get("incidents").and_then(Value::as_array).cloned().unwrap_or_default();
    if items.is_empty() {
        return "no incidents\n".into();
    }
    let mut out =
        format!("{:<9} {:<3} {:<13} {:<12} {:<20} {}\n", "ID", "SEV", "STATUS", "SERVICE", "TRIGGERED", "TITLE");
    for i in &items {
        let triggered: String = s(i, "triggered_at").chars().take(19).collect();
        out.push_str(&format!(
            "{:<9} {:<3} {:<13} {:<12} {:<20} {}\n",
            s(i, "id"),
            s(i, "severity"),
            s(i, "status"),
            s(i, "service"),
            triggered,
            s(i, "title")
        ));
    }
    if let Some(c) = v.get("next_cursor").and_then(Value::as_str) {
        out.push_str(&format!("more: --cursor {c}\n"));
    }
    out
}

pub fn show(v: &Value) -> String {
    let mut out = headline(v);
    out.push_str(&format!("  severity: {} ({})\n", s(v, "severity"), s(v, "severity_name")));
    if !s(v, "service").is_empty() {
        out.push_str(&format!("  service:  {}\n", s(v, "service")));
    }
    if !s(v, "summary").is_empty() {
        out.push_str(&format!("  summary:  {}\n", s(v, "summary")));
    }
    out.push_str(&format!("  declared: {} by {}\n", s(v, "triggered_at"), s(v, "declared_by")));
    if let Some(sla) = v.get("sla") {
        for (name, key) in [("response", "response"), ("resolution", "resolution")] {
            let c = &sla[key];
            let state = if c["breached"].as_bool() == Some(true) {
                "BREACHED"
            } else if c["met_at"].is_string() {
                "met"
            } else {
                "running"
            };
            out.push_str(&format!(
                "  {name:<10} target {:<6} elapsed {:<7} {state} (deadline {})\n",
                s(c, "target"),
                minutes(c["elapsed_ms"].as_i64().unwrap_or(0)),
                s(c, "deadline")
            ));
        }
        if let Some(due) = sla["next_update_due"].as_str().map(cell) {
            let overdue = if sla["update_overdue"].as_bool() == Some(true) { " OVERDUE" } else { "" };
            out.push_str(&format!("  next update due {due}{overdue}\n"));
        }
    }
    if let Some(roles) = v.get("roles").and_then(Value::as_object).filter(|r| !r.is_empty()) {
        let list: Vec<String> =
            roles.iter().map(|(r, who)| format!("{}={}", cell(r), cell(who.as_str().unwrap_or("")))).collect();
        out.push_str(&format!("  roles: {}\n", list.join(", ")));
    }
    if !s(v, "root_cause").is_empty() {
        out.push_str(&format!("  root cause: {}\n", s(v, "root_cause")));
    }
    out.push_str("  checklist:\n");
    for c in v.get("checklist").and_then(Value::as_array).into_iter().flatten() {
        let mark = if c["checked_at"].is_string() { "x" } else { " " };
        out.push_str(&format!("    [{mark}] {:<40} {}\n", s(c, "key"), s(c, "text")));
    }
    let suggestions = v.get("suggested_runbooks").and_then(Value::as_array).cloned().unwrap_or_default();
    if !suggestions.is_empty() {
        out.push_str("  suggested runbooks:\n");
        for sug in &suggestions {
            out.push_str(&format!("    {}#{}  ({})\n", s(sug, "runbook"), s(sug, "section"), s(sug, "reason")));
        }
    }
    for run in v.get("runbook_runs").and_then(Value::as_array).into_iter().flatten() {
        let states = run["state"].as_array().cloned().unwrap_or_default();
        let done = states.iter().filter(|st| matches!(st["status"].as_str(), Some("succeeded" | "skipped"))).count();
        out.push_str(&format!(
            "  runbook run {}: {}#{} v{} ({done}/{} steps done)\n",
            run["id"],
            s(run, "runbook"),
            s(run, "section"),
            run["version"],
            states.len()
        ));
    }
    out.push_str("  recent events:\n");
    for e in v.get("events").and_then(Value::as_array).into_iter().flatten() {
        out.push_str(&format!(
            "    #{:<4} {}  {:<10} {}\n",
            e["seq"].as_i64().unwrap_or(0),
            s(e, "at"),
            s(e, "actor"),
            s(e, "summary")
        ));
    }
    out
}

pub fn timeline(v: &Value) -> String {
    let mut out = String::new();
    for e in v.get("events").and_then(Value::as_array).into_iter().flatten() {
        out.push_str(&format!(
            "#{:<4} {}  {:<10} {}\n",
            e["seq"].as_i64().unwrap_or(0),
            s(e, "at"),
            s(e, "actor"),
            s(e, "summary")
        ));
    }
    out
}

pub fn verify(v: &Value) -> String {
    let ok = v.get("ok").and_then(Value::as_bool).unwrap_or(false);
    let mut out = String::new();
    let reports: Vec<Value> = match v.get("failed").and_then(Value::as_array) {
        Some(failed) => {
            let n = v["incidents"].as_u64().unwrap_or(0);
            let events = v["events"].as_u64().unwrap_or(0);
            out.push_str(&format!(
                "{} {n} incident(s), {events} event(s) checked\n",
                if ok { "ok:" } else { "TAMPERING DETECTED:" }
            ));
            out.push_str(&checkpoint(&v["checkpoint"]));
            failed.clone()
        }
        None => {
            out.push_str(&format!(
                "{} {}: {} event(s) checked\n",
                if ok { "ok:" } else { "TAMPERING DETECTED:" },
                s(v, "incident"),
                v["events"].as_u64().unwrap_or(0)
            ));
            if let Some(c) = v.get("checkpoint") {
                let seq = c["seq"].as_i64().unwrap_or(0);
                out.push_str(&format!("  checked against the checkpoint of {} (events 1-{seq})\n", s(c, "at")));
            }
            vec![v.clone()]
        }
    };
    for r in reports {
        for p in r.get("problems").and_then(Value::as_array).into_iter().flatten() {
            out.push_str(&format!(
                "  {} event {}: {} ({})\n",
                s(&r, "incident"),
                p["seq"].as_i64().unwrap_or(0),
                s(p, "detail"),
                s(p, "kind")
            ));
        }
    }
    out
}

/// The checkpoint line of `verify`: what the chains were checked against, and what is wrong
/// with the checkpoints themselves.
fn checkpoint(c: &Value) -> String {
    let mut out = match c["status"].as_str() {
        Some("checked") => format!(
            "  checked against the checkpoint of {} (from the {}), which covers {} incident(s)\n",
            s(c, "at"),
            s(c, "source").replace('_', " "),
            c["incidents"].as_u64().unwrap_or(0)
        ),
        Some("none") => "  no checkpoint yet: the engine writes the first within a minute\n".into(),
        _ => "  no chain key: checked the unkeyed chains only\n".into(),
    };
    for p in c["problems"].as_array().into_iter().flatten() {
        out.push_str(&format!("  checkpoint: {} ({})\n", s(p, "detail"), s(p, "kind")));
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const HOSTILE: &str = "\u{1b}]0;pwned\u{7}Disk \u{202e}lluf\u{9b}2J\u{7f}\nINC-99 P0 resolved";

    /// What `print` would write, as a person's terminal receives it.
    fn printed(text: &str) -> String {
        terminal(text).into_owned()
    }

    fn obeyed(out: &str) -> Vec<char> {
        out.chars().filter(|c| sevwatch_core::text::is_unsafe(*c) && *c != '\n').collect()
    }

    #[test]
    fn the_terminal_rule_escapes_controls_and_hidden_formatting_but_keeps_lines() {
        let cases = [
            ("INC-1 P2 triggered  Disk full\n", "INC-1 P2 triggered  Disk full\n"),
            ("\u{1b}[2Jcleared", "\\u{1b}[2Jcleared"),
            ("bell\u{7} bs\u{8} del\u{7f} csi\u{9b}", "bell\\u{7} bs\\u{8} del\\u{7f} csi\\u{9b}"),
            (
                "rlo\u{202e} lri\u{2066} pdi\u{2069} zwsp\u{200b} rlm\u{200f}",
                "rlo\\u{202e} lri\\u{2066} pdi\\u{2069} zwsp\\u{200b} rlm\\u{200f}",
            ),
            ("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"),
        ];
        for (input, want) in cases {
            assert_eq!(terminal(input), want, "{input:?}");
        }
        assert_eq!(cell("line one\nline two\r\n"), "line one\\nline two\\r\\n");
    }

    #[test]
    fn list_show_and_timeline_print_hostile_titles_as_escapes_on_one_line() {
        let incident = json!({
            "id": "INC-7", "severity": "P1", "severity_name": "High", "status": "triggered",
            "service": "db\u{1b}[8m", "title": HOSTILE, "summary": HOSTILE, "triggered_at": "2026-01-01T00:00:00Z",
            "declared_by": "alice", "roles": { "commander\u{202e}": "bob\u{7}" }, "root_cause": HOSTILE,
            "checklist": [{ "key": "triage.page", "text": HOSTILE }],
            "events": [{ "seq": 1, "at": "2026-01-01T00:00:00Z", "actor": "alice", "summary": HOSTILE }],
        });
        let list = json!({ "incidents": [incident.clone()] });
        for out in [printed(&super::list(&list)), printed(&show(&incident)), printed(&timeline(&incident))] {
            assert_eq!(obeyed(&out), Vec::<char>::new(), "{out}");
            assert!(out.contains("\\u{1b}]0;pwned\\u{7}Disk \\u{202e}lluf"), "{out}");
            assert!(!out.contains("\nINC-99"), "a newline in a field forged a row: {out}");
        }
        let rows = printed(&super::list(&list));
        assert_eq!(rows.lines().count(), 2, "{rows}");
    }
}
