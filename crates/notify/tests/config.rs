//! The `[[channels]]`, `[[channel_routes]]` and `templates_dir` keys: a full example parses
//! into typed settings, and every mistake is reported at its key path in one pass.

use std::time::Duration;

use sevwatch_core::{ConfigProblem, Severity};
use sevwatch_notify::config::PAGERDUTY_EVENTS_URL;
use sevwatch_notify::{default_routes, parse, route, ChannelKind, NotifyConfig, SmtpTls};

fn parse_str(text: &str) -> (NotifyConfig, Vec<ConfigProblem>) {
    let t: toml::Table = text.parse().expect("test TOML is valid TOML");
    let mut problems = Vec::new();
    let cfg = parse(&t, "", &mut problems);
    (cfg, problems)
}

fn paths(problems: &[ConfigProblem]) -> Vec<&str> {
    problems.iter().map(|p| p.path.as_str()).collect()
}

const FULL: &str = r##"
[[channels]]
name = "#incident-critical"
kind = "slack"
url = "https://hooks.slack.com/services/T0/B0/SECRETPATH"

[[channels]]
name = "discord-ops"
kind = "discord"
url = "https://discord.com/api/webhooks/1/DISCORDTOKEN"
timeout = "3s"

[[channels]]
name = "audit"
kind = "webhook"
url = "https://audit.example/hooks/sevwatch"
secret = "WEBHOOKSECRET"

[[channels]]
name = "ops-mail"
kind = "email"
host = "smtp.example.com"
from = "Sevwatch <sevwatch@example.com>"
to = ["oncall@example.com", "lead@example.com"]
username = "sevwatch"
password = "SMTPPASSWORD"

[[channels]]
name = "relay"
kind = "email"
host = "127.0.0.1"
tls = "none"
from = "sevwatch@localhost"
to = "root@localhost"

[[channels]]
name = "pd"
kind = "pagerduty"
routing_key = "PDROUTINGKEY"

[[channel_routes]]
severities = ["P0"]
channel = "#incident-critical"

[[channel_routes]]
severities = ["P0", "P1"]
channel = "pd"

[[channel_routes]]
services = ["payments"]
channel = "ops-mail"
"##;

#[test]
fn a_full_example_parses_into_typed_channels_and_routes() {
    let (cfg, problems) = parse_str(FULL);
    assert_eq!(problems, []);
    let names: Vec<&str> = cfg.channels.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["#incident-critical", "discord-ops", "audit", "ops-mail", "relay", "pd"]);
    assert_eq!(cfg.channel("discord-ops").expect("defined").timeout, Duration::from_secs(3));
    assert_eq!(cfg.channel("audit").expect("defined").timeout, Duration::from_secs(10), "the default");
    let ChannelKind::Email(mail) = &cfg.channel("ops-mail").expect("defined").kind else { panic!("email") };
    assert_eq!((mail.port, mail.tls), (587, SmtpTls::StartTls));
    assert_eq!(mail.to, ["oncall@example.com", "lead@example.com"]);
    assert_eq!(mail.password.as_ref().map(|p| p.expose()), Some("SMTPPASSWORD"));
    let ChannelKind::Email(relay) = &cfg.channel("relay").expect("defined").kind else { panic!("email") };
    assert_eq!((relay.port, relay.tls, relay.to.as_slice()), (25, SmtpTls::None, &["root@localhost".to_string()][..]));
    let ChannelKind::PagerDuty { url, routing_key } = &cfg.channel("pd").expect("defined").kind else { panic!() };
    assert_eq!((url.as_str(), routing_key.expose()), (PAGERDUTY_EVENTS_URL, "PDROUTINGKEY"));
    assert_eq!(route(&cfg.routes, Severity::P0, Some("payments")), ["#incident-critical", "pd", "ops-mail"]);
    assert_eq!(route(&cfg.routes, Severity::P2, Some("api")), Vec::<String>::new());
}

#[test]
fn debug_output_never_shows_a_secret() {
    let (cfg, _) = parse_str(FULL);
    let shown = format!("{cfg:?}");
    for secret in ["SECRETPATH", "DISCORDTOKEN", "WEBHOOKSECRET", "SMTPPASSWORD", "PDROUTINGKEY"] {
        assert!(!shown.contains(secret), "{secret} leaked into Debug output");
    }
    assert!(shown.contains("ops-mail") && shown.contains("smtp.example.com"), "non-secrets stay visible");
}

#[test]
fn without_channel_routes_the_runbook_routes_apply() {
    let (cfg, problems) = parse_str("");
    assert_eq!(problems, []);
    assert_eq!(cfg.routes, default_routes());
    assert!(cfg.channels.is_empty() && cfg.templates_dir.is_none());
}

#[test]
fn every_problem_is_reported_with_its_key_path() {
    let (_, problems) = parse_str(
        r##"
templates_dir = "/no/such/dir"

[[channels]]
name = "a"
kind = "sms"

[[channels]]
kind = "slack"
url = "ftp://x"
colour = "red"

[[channels]]
name = "mail"
kind = "email"
port = 70000
tls = "ssl"
from = "not an address"
to = []
username = "u"
routing_key = "k"

[[channels]]
name = "hook"
kind = "webhook"
url = "https://x.example"
timeout = "soon"

[[channels]]
name = "hook"
kind = "pagerduty"
routing_key = "k"

[[channel_routes]]
severities = ["P9"]
channel = "nowhere"
when = "always"
"##,
    );
    let shown: Vec<String> = problems.iter().map(ToString::to_string).collect();
    let expected = [
        "channels[0].kind",
        "channels[1].colour",
        "channels[1].name",
        "channels[1].url",
        "channels[2].routing_key",
        "channels[2].host",
        "channels[2].tls",
        "channels[2].port",
        "channels[2].from",
        "channels[2].to",
        "channels[2].password",
        "channels[3].timeout",
        "channels[3].secret",
        "channels[4].name",
        "channel_routes[0].when",
        "channel_routes[0].severities[0]",
        "channel_routes[0].channel",
        "templates_dir",
    ];
    let mut got = paths(&problems);
    let mut want = expected.to_vec();
    got.sort_unstable();
    want.sort_unstable();
    assert_eq!(got, want, "{shown:#?}");
    let find = |p: &str| shown.iter().find(|s| s.starts_with(&format!("{p}:"))).cloned().unwrap_or_default();
    assert!(find("channels[0].kind").contains("\"sms\""), "{shown:#?}");
    assert!(find("channels[2].routing_key").contains("not used by kind = \"email\""), "{shown:#?}");
    assert!(find("channels[2].port").contains("70000"), "{shown:#?}");
    assert!(find("channels[4].name").contains("defined twice"), "{shown:#?}");
    assert!(find("channel_routes[0].channel").contains("\"nowhere\""), "{shown:#?}");
}

#[test]
fn a_section_path_prefixes_every_problem() {
    let t: toml::Table = "[notify]\n[[notify.channels]]\nname = \"x\"\nkind = \"slack\"\n".parse().expect("toml");
    let inner = t["notify"].as_table().expect("table");
    let mut problems = Vec::new();
    parse(inner, "notify", &mut problems);
    assert_eq!(paths(&problems), ["notify.channels[0].url"]);
}

#[test]
fn a_templates_dir_with_a_broken_template_is_refused_at_start_up() {
    let dir = sevwatch_testkit::temp_dir();
    std::fs::write(dir.path().join("resolved.j2"), "ok\n{% if %}\n").expect("write");
    let (cfg, problems) = parse_str(&format!("templates_dir = {:?}\n", dir.path().display().to_string()));
    assert_eq!(paths(&problems), ["templates_dir"]);
    assert!(problems[0].message.contains("resolved.j2:2"), "{}", problems[0]);
    assert_eq!(cfg.templates_dir.as_deref(), Some(dir.path()));
}

/// These blank values used to be accepted here (a channel called "", an empty password, an
/// empty signing secret) while the core refused blanks; the one checker refuses them all.
#[test]
fn blank_strings_are_refused_at_their_key_path_like_everywhere_else() {
    let (cfg, problems) = parse_str(
        r##"
templates_dir = ""

[[channels]]
name = ""
kind = "slack"
url = "https://hooks.slack.com/services/T0/B0/X"

[[channels]]
name = "mail"
kind = "email"
host = "smtp.example.com"
from = "sevwatch@example.com"
to = ["oncall@example.com", " "]
username = "sevwatch"
password = ""

[[channel_routes]]
services = ["payments", ""]
channel = "mail"

[outbox]
contact_webhook_secret = "   "
"##,
    );
    let shown: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert_eq!(
        shown,
        [
            "channels[0].name: must not be empty",
            "channels[1].to[1]: must not be empty",
            "channels[1].password: must not be empty",
            "channel_routes[0].services[1]: must not be empty",
            "outbox.contact_webhook_secret: must not be empty",
            "templates_dir: must not be empty",
        ]
    );
    assert!(cfg.templates_dir.is_none(), "a refused directory is not kept");
}

#[test]
fn urls_secrets_and_addresses_are_one_line() {
    let (_, problems) = parse_str(
        "[[channels]]\nname = \"hook\"\nkind = \"webhook\"\nurl = \"https://x.example/\\nHost: evil\"\nsecret = \"\"\"\nabc\n\"\"\"\n",
    );
    assert_eq!(paths(&problems), ["channels[0].url", "channels[0].secret"]);
    assert!(problems.iter().all(|p| p.message == "must be one line"), "{problems:#?}");
}

#[test]
fn a_section_path_reaches_nested_problems() {
    let t: toml::Table =
        "[notify]\n[[notify.channels]]\nname = \"mail\"\nkind = \"email\"\nhost = \"h\"\nfrom = \"a@b.co\"\nto = [\"x\"]\n[notify.outbox]\nmax_attempts = 0\n"
            .parse()
            .expect("toml");
    let inner = t["notify"].as_table().expect("table");
    let mut problems = Vec::new();
    parse(inner, "notify", &mut problems);
    let shown: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert_eq!(shown.len(), 2, "{shown:#?}");
    assert!(shown[0].starts_with("notify.channels[0].to[0]: \"x\" is not an email address"), "{shown:#?}");
    assert_eq!(shown[1], "notify.outbox.max_attempts: must be between 1 and 100, not 0");
}
