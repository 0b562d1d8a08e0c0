//! Text from incidents and alerts reaches a person's terminal: the CLI's text output carries no
//! control characters or bidi overrides (they show as visible escapes), while `--json` gives
//! back exactly what was stored.

use serde_json::{json, Value};

use crate::helpers::{post_json, stdout, Server};

const OSC_TITLE: &str = "\u{1b}]0;pwned\u{7}";

/// Bytes a terminal would obey rather than show: ESC, BEL, any other C0 control but newline,
/// DEL, C1, and the bidi and zero-width characters.
fn obeyed(text: &str) -> Vec<char> {
    text.chars()
        .filter(|&c| {
            (c.is_control() && c != '\n')
                || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_output_escapes_terminal_controls_and_json_keeps_them() {
    let dir = sevwatch_testkit::temp_dir();
    let s = tokio::task::block_in_place(|| Server::start(&dir.path().join("data"), None));
    let token = s.admin_token();
    let title = format!("Disk full {OSC_TITLE} on db-1");
    let summary = "first line\nINC-999 P0 resolved  forged row\nevil\u{202e}fdp.exe".to_string();
    let declared = post_json(
        &format!("{}/api/v1/incidents", s.url),
        &token,
        &json!({ "title": title, "severity": "P2", "summary": summary }),
    )
    .await;
    let id = declared["id"].as_str().unwrap_or_else(|| panic!("declared: {declared}")).to_string();
    // An alert label is stored exactly as sent, and must be escaped on the way out.
    let alertname = format!("Disk{OSC_TITLE}\u{202e}Full\u{9b}2J");
    let alert = json!({ "alerts": [{ "labels": { "alertname": alertname, "severity": "warning" },
        "annotations": { "summary": "Disk full" }, "startsAt": "2026-11-23T10:00:00Z" }] });
    let ingested = post_json(&format!("{}/api/v1/ingest/alertmanager", s.url), &token, &alert).await;
    assert_eq!(ingested["accepted"], 1, "{ingested}");

    for args in [vec!["list"], vec!["show", &id], vec!["timeline", &id], vec!["alerts"]] {
        let out = s.sw(&args);
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        let text = stdout(&out);
        assert_eq!(obeyed(&text), Vec::<char>::new(), "sevwatch {args:?} printed raw controls:\n{text}");
        assert!(!text.contains("\nINC-999"), "a newline inside a field started a forged row:\n{text}");
        let shown = if args[0] == "alerts" {
            "Disk\\u{1b}]0;pwned\\u{7}\\u{202e}Full\\u{9b}2J"
        } else {
            "\\u{1b}]0;pwned\\u{7}"
        };
        if args[0] != "timeline" {
            assert!(text.contains(shown), "sevwatch {args:?} does not show the escape {shown}:\n{text}");
        }
    }
    let shown = stdout(&s.sw(&["show", &id]));
    assert!(shown.contains("first line\\nINC-999 P0 resolved  forged row\\nevil\\u{202e}fdp.exe"), "{shown}");

    let list = s.json(&["list"]);
    let listed: Vec<&Value> = list["incidents"].as_array().unwrap().iter().filter(|i| i["id"] == id.as_str()).collect();
    assert_eq!(listed[0]["title"], title.as_str());
    let one = s.json(&["show", &id]);
    assert_eq!(one["title"], title.as_str());
    assert_eq!(one["summary"], summary.as_str());
    let alerts = s.json(&["alerts"]);
    assert_eq!(alerts["alerts"][0]["alert"]["labels"]["alertname"], alertname.as_str(), "{alerts}");
}
