//! People who can be paged and how to reach them. A [`User`] is referenced by its `id` from
//! schedules, overrides and escalation policies; its [`ContactMethod`]s are validated here
//! (email shape, http/https URLs, Slack member ids) so the senders in `notify` never see a
//! malformed address in the middle of an incident.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Someone who can be on call or be an escalation target.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// Stable, kebab-case handle used by schedules and policies (`alice`, `vp-engineering`).
    pub id: String,
    /// Display name.
    pub name: String,
    /// Empty is allowed: the default configuration ships placeholder users (such as
    /// `vp-engineering`) that the operator fills in. A user without contacts is never reached.
    pub contacts: Vec<ContactMethod>,
}

/// Where a page to a user is delivered.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "to", rename_all = "snake_case")]
pub enum ContactMethod {
    Email(String),
    /// A Slack member id (`U024BE7LH`), messaged directly through the bot.
    SlackMember(String),
    /// A Slack incoming-webhook URL.
    SlackWebhook(String),
    DiscordWebhook(String),
    /// Any other HTTP endpoint that accepts Sevwatch's JSON payload.
    Webhook(String),
}

/// Webhook URLs are bearer secrets (anyone holding one can post): `Debug` shows only their
/// scheme and host so they stay out of logs.
impl fmt::Debug for ContactMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ContactMethod::Email(a) => write!(f, "Email({a:?})"),
            ContactMethod::SlackMember(m) => write!(f, "SlackMember({m:?})"),
            ContactMethod::SlackWebhook(u) => write!(f, "SlackWebhook({:?})", redact(u)),
            ContactMethod::DiscordWebhook(u) => write!(f, "DiscordWebhook({:?})", redact(u)),
            ContactMethod::Webhook(u) => write!(f, "Webhook({:?})", redact(u)),
        }
    }
}

/// A URL as safe to show: its scheme and host, without `user:password@`, path or query (a
/// webhook's path is its secret).
pub fn redact(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
            let host = authority.rsplit('@').next().unwrap_or_default();
            format!("{scheme}://{host}/<hidden>")
        }
        None => "<hidden>".into(),
    }
}

/// Free text (a delivery error, a receiver's answer) with every URL in it redacted.
pub fn redact_urls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let start = rest[..at].rfind(|c: char| !(c.is_ascii_alphanumeric() || "+.-".contains(c))).map_or(0, |i| i + 1);
        let end =
            at + rest[at..].find(|c: char| c.is_whitespace() || "\"'<>()[]{}`,".contains(c)).unwrap_or(rest.len() - at);
        out.push_str(&rest[..start]);
        out.push_str(&redact(&rest[start..end]));
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

impl ContactMethod {
    /// The configuration keys, one per kind: `{ email = "..." }`, `{ slack = "U024BE7LH" }` or
    /// `{ slack = "https://hooks.slack.com/..." }`, `{ discord = "https://..." }`,
    /// `{ webhook = "https://..." }`.
    pub const KINDS: [&'static str; 4] = ["email", "slack", "discord", "webhook"];

    /// Validate `value` as a contact of `kind` (one of [`ContactMethod::KINDS`]).
    pub fn parse(kind: &str, value: &str) -> Result<ContactMethod, String> {
        let value = value.trim();
        match kind {
            "email" => check_email(value).map(|()| ContactMethod::Email(value.to_string())),
            "slack" if value.contains("://") => {
                check_http_url(value).map(|()| ContactMethod::SlackWebhook(value.to_string()))
            }
            "slack" => check_slack_member(value).map(|()| ContactMethod::SlackMember(value.to_string())),
            "discord" => check_http_url(value).map(|()| ContactMethod::DiscordWebhook(value.to_string())),
            "webhook" => check_http_url(value).map(|()| ContactMethod::Webhook(value.to_string())),
            other => Err(format!("unknown contact kind {other:?} (expected one of: {})", Self::KINDS.join(", "))),
        }
    }
}

/// The shape of an address, not deliverability: one `@`, a non-empty local part, a dotted
/// domain of letters, digits and hyphens, no spaces. Anything stricter rejects real addresses.
pub fn check_email(s: &str) -> Result<(), String> {
    let bad = |why: &str| Err(format!("{s:?} is not an email address: {why}"));
    let Some((local, domain)) = s.split_once('@') else { return bad("it has no @") };
    if local.is_empty() || local.len() > 64 {
        return bad("the part before @ must be 1-64 characters");
    }
    if domain.contains('@') {
        return bad("it has more than one @");
    }
    if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return bad("it contains a space or control character");
    }
    let labels: Vec<&str> = domain.split('.').collect();
    let label_ok = |l: &&str| {
        !l.is_empty() && !l.starts_with('-') && !l.ends_with('-') && l.chars().all(|c| c.is_alphanumeric() || c == '-')
    };
    if labels.len() < 2 || !labels.iter().all(label_ok) {
        return bad("the domain must look like example.com");
    }
    Ok(())
}

/// An absolute `http://` or `https://` URL with a host. Plain http is accepted because
/// internal relays often run without TLS; any other scheme is refused.
pub fn check_http_url(s: &str) -> Result<(), String> {
    let Some((scheme, rest)) = s.split_once("://") else {
        return Err(format!("{s:?} is not a URL (expected https://...)"));
    };
    if !scheme.eq_ignore_ascii_case("https") && !scheme.eq_ignore_ascii_case("http") {
        return Err(format!("{s:?} must use http or https, not {scheme:?}"));
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = authority.rsplit('@').next().unwrap_or_default();
    // Drop the port; an IPv6 literal keeps its colons inside brackets.
    let host = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => host.split(':').next().unwrap_or_default(),
    };
    if host.is_empty() || host.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("{s:?} has no host"));
    }
    if s.chars().any(char::is_whitespace) {
        return Err(format!("{s:?} contains a space"));
    }
    Ok(())
}

/// Slack member ids are upper-case letters and digits starting with `U` (or `W` on Enterprise
/// Grid). A display name such as `@alice` is the usual mistake, so it gets its own message.
pub fn check_slack_member(s: &str) -> Result<(), String> {
    if s.starts_with('@') || s.starts_with('#') {
        return Err(format!(
            "{s:?} is a name, not a Slack member id (copy the id like U024BE7LH from the profile, or give a webhook URL)"
        ));
    }
    let ok = (s.starts_with('U') || s.starts_with('W'))
        && (9..=21).contains(&s.len())
        && s.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
    if ok {
        Ok(())
    } else {
        Err(format!("{s:?} is not a Slack member id (like U024BE7LH) or a webhook URL"))
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn urls_lose_credentials_paths_and_queries_wherever_they_appear() {
        assert_eq!(redact("https://bob:pw@hooks.example.com/T/B/xyz?k=1"), "https://hooks.example.com/<hidden>");
        assert_eq!(
            redact_urls("could not connect: error sending request for url (https://u:p@h.example/s/t): refused"),
            "could not connect: error sending request for url (https://h.example/<hidden>): refused"
        );
        assert_eq!(redact_urls("no url here"), "no url here");
    }

    use super::*;

    #[test]
    fn contact_methods_are_validated_by_kind() {
        let cases: &[(&str, &str, bool)] = &[
            ("email", "alice@example.com", true),
            ("email", "a.b+tag@mail.example.co.uk", true),
            ("email", "alice", false),
            ("email", "@example.com", false),
            ("email", "alice@localhost", false),
            ("email", "alice@exa mple.com", false),
            ("email", "a@b@example.com", false),
            ("email", "alice@-example.com", false),
            ("slack", "U024BE7LH", true),
            ("slack", "W0123ABCDEF", true),
            ("slack", "@alice", false),
            ("slack", "u024be7lh", false),
            ("slack", "https://hooks.slack.com/services/T0/B0/xyz", true),
            ("slack", "ftp://hooks.slack.com/x", false),
            ("discord", "https://discord.com/api/webhooks/1/abc", true),
            ("discord", "discord.com/api/webhooks/1/abc", false),
            ("webhook", "http://relay.internal:8080/page", true),
            ("webhook", "https://", false),
            ("webhook", "https://exa mple.com/x", false),
            ("webhook", "javascript://alert", false),
            ("pager", "555-0100", false),
        ];
        for (kind, value, ok) in cases {
            assert_eq!(ContactMethod::parse(kind, value).is_ok(), *ok, "{kind} = {value:?}");
        }
    }

    #[test]
    fn slack_values_are_told_apart_by_shape() {
        assert_eq!(ContactMethod::parse("slack", "U024BE7LH"), Ok(ContactMethod::SlackMember("U024BE7LH".into())));
        assert!(matches!(
            ContactMethod::parse("slack", "https://hooks.slack.com/x"),
            Ok(ContactMethod::SlackWebhook(_))
        ));
    }

    #[test]
    fn debug_output_hides_webhook_secrets() {
        let c = ContactMethod::Webhook("https://hooks.example.com/services/SECRET?token=abc".into());
        let shown = format!("{c:?}");
        assert!(!shown.contains("SECRET") && !shown.contains("abc"), "{shown}");
        assert!(shown.contains("hooks.example.com"), "{shown}");
    }

    #[test]
    fn a_display_name_instead_of_a_member_id_gets_a_specific_hint() {
        let e = ContactMethod::parse("slack", "@alice").unwrap_err();
        assert!(e.contains("not a Slack member id"), "{e}");
    }
}
