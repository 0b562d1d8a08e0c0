//! Slack incoming webhooks: a Block Kit message (a header with the subject, a section of
//! fields for severity, status, commander and service, the body, and a context line linking
//! to the incident) with a plain `text` fallback for notifications and old clients.

use serde_json::{json, Value};

use super::{truncate, Notification};

/// Slack's limits: header text 150 characters, section text 3000, a field 2000.
const HEADER_MAX: usize = 150;
const SECTION_MAX: usize = 3000;

/// Slack's mrkdwn treats `&`, `<` and `>` as control characters: escape them so an incident
/// title cannot forge a link or a mention.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

fn field(label: &str, value: &str) -> Value {
    json!({ "type": "mrkdwn", "text": format!("*{label}*\n{}", truncate(&escape(value), 1900)) })
}

/// The JSON body for an incoming webhook.
pub fn payload(n: &Notification) -> Value {
    let mut fields = vec![
        field("Severity", n.severity.as_str()),
        field("Status", n.status.as_str()),
        field("Commander", n.commander.as_deref().unwrap_or("unassigned")),
    ];
    if let Some(svc) = &n.service {
        fields.push(field("Service", svc));
    }
    let mut blocks = vec![
        json!({ "type": "header", "text": { "type": "plain_text", "text": truncate(&n.subject, HEADER_MAX), "emoji": true } }),
        json!({ "type": "section", "fields": fields }),
    ];
    if !n.body.trim().is_empty() {
        blocks.push(
            json!({ "type": "section", "text": { "type": "mrkdwn", "text": truncate(&escape(&n.body), SECTION_MAX) } }),
        );
    }
    let context = match &n.link {
        Some(link) => format!("<{}|{} in Sevwatch>", escape(link), n.incident_id),
        None => format!("{} · Sevwatch", n.incident_id),
    };
    blocks.push(json!({ "type": "context", "elements": [{ "type": "mrkdwn", "text": context }] }));
    json!({
        // The fallback shows in notifications and is mrkdwn too: escaped like the blocks.
        "text": truncate(&escape(&format!("{}\n{}", n.subject, n.body)), SECTION_MAX),
        "blocks": blocks,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use sevwatch_core::{Severity, Status};

    fn note(title: &str) -> Notification {
        Notification {
            incident_id: "INC-7".into(),
            title: title.into(),
            severity: Severity::P0,
            status: Status::Investigating,
            service: None,
            commander: None,
            link: None,
            template: "incident-declared".into(),
            subject: format!("[P0] INC-7 declared: {title}"),
            body: "<!channel> look".into(),
        }
    }

    #[test]
    fn text_from_an_incident_cannot_ping_a_channel_or_forge_a_link() {
        let v = payload(&note("x"));
        assert_eq!(v["blocks"][2]["text"]["text"], "&lt;!channel&gt; look");
        assert!(v["text"].as_str().unwrap().ends_with("\n&lt;!channel&gt; look"), "{v}");
    }

    #[test]
    fn an_unassigned_commander_and_no_link_still_make_a_complete_message() {
        let v = payload(&note("x"));
        assert_eq!(v["blocks"][1]["fields"][2]["text"], "*Commander*\nunassigned");
        assert_eq!(v["blocks"][3]["elements"][0]["text"], "INC-7 · Sevwatch");
        let long = payload(&note(&"y".repeat(400)));
        assert_eq!(long["blocks"][0]["text"]["text"].as_str().map(|s| s.chars().count()), Some(HEADER_MAX));
    }
}
