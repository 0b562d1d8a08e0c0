//! Text rendering of API answers for people at a terminal. Scripts use `--json` instead.

use std::process::ExitCode;

use serde_json::Value;

/// Print an answer: one JSON object with `--json`, else `text` of it.
pub fn emit(v: &Value, json_out: bool, text: impl FnOnce(&Value) -> String) -> anyhow::Result<ExitCode> {
    if json_out {
        println!("{}", serde_json::to_string(v)?);
    } else {
        print!("{}", text(v));
    }
    Ok(ExitCode::SUCCESS)
}

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
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
                c["target"].as_str().unwrap_or(""),
                minutes(c["elapsed_ms"].as_i64().unwrap_or(0)),
                c["deadline"].as_str().unwrap_or("")
            ));
        }
        if let Some(due) = sla["next_update_due"].as_str() {
            let overdue = if sla["update_overdue"].as_bool() == Some(true) { " OVERDUE" } else { "" };
            out.push_str(&format!("  next update due {due}{overdue}\n"));
        }
    }
    if let Some(roles) = v.get("roles").and_then(Value::as_object).filter(|r| !r.is_empty()) {
        let list: Vec<String> = roles.iter().map(|(r, who)| format!("{r}={}", who.as_str().unwrap_or(""))).collect();
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
            failed.clone()
        }
        None => {
            out.push_str(&format!(
                "{} {}: {} event(s) checked\n",
                if ok { "ok:" } else { "TAMPERING DETECTED:" },
                s(v, "incident"),
                v["events"].as_u64().unwrap_or(0)
            ));
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
