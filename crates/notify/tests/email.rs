//! Email delivered to a real SMTP server (aiosmtpd, see `sevwatch_testkit::smtp`): it refuses
//! `nobody@` with a permanent 550 and `busy@` with a transient 451. Skips (or fails under `SEVWATCH_REQUIRE_ALL=1`) when no Python
//! with aiosmtpd is installed: `apt-get install python3-aiosmtpd` or `pip install aiosmtpd`.

use std::time::Duration;

use sevwatch_core::{decide, Command, Incident, IncidentId, Policy, Severity, Status, Timestamp};
use sevwatch_notify::{
    http_client, Channel, ChannelConfig, ChannelKind, Delivery, EmailConfig, Notification, Rendered, SmtpTls,
};
use sevwatch_testkit::smtp::smtp_server;

fn email(port: u16, tls: SmtpTls, to: &[&str]) -> Channel {
    let cfg = EmailConfig {
        host: "127.0.0.1".into(),
        port,
        tls,
        from: "Sevwatch <sevwatch@example.test>".into(),
        to: to.iter().map(|s| s.to_string()).collect(),
        username: None,
        password: None,
    };
    let ch = ChannelConfig { name: "mail".into(), kind: ChannelKind::Email(cfg), timeout: Duration::from_secs(5) };
    Channel::new(ch, http_client(sevwatch_notify::Destinations::anywhere()).expect("client"))
}

fn ts(s: &str) -> Timestamp {
    s.parse().expect("timestamp")
}

fn notification() -> Notification {
    let p = Policy::default();
    let declare =
        Command::Declare { title: "Queue backlog".into(), severity: Severity::P2, service: None, summary: None };
    let ev = decide(&p, None, &declare, "alice", ts("2026-11-23T10:00:00Z")).expect("declare");
    let mut inc = Incident::from_declared(IncidentId(9), &ev[0]).expect("declared");
    let status = Command::SetStatus { status: Status::Identified, note: None };
    for e in decide(&p, Some(&inc), &status, "alice", ts("2026-11-23T10:05:00Z")).expect("legal") {
        inc.apply(&e);
    }
    let rendered = Rendered {
        subject: Some("[P2] INC-9 update (identified): Queue backlog".into()),
        body: "The consumer is stuck on one poisoned message.\nNext post by 11:05 UTC.".into(),
    };
    Notification::new(&inc, "status-update", rendered, Some("https://sevwatch.example/incidents/INC-9".into()))
}

fn has_line(msg: &str, line: &str) -> bool {
    msg.lines().any(|l| l.trim_end() == line)
}

#[tokio::test]
async fn email_is_delivered_over_plain_smtp_with_subject_recipients_and_body() {
    let Some(server) = smtp_server().await else { return };
    let ch = email(server.port, SmtpTls::None, &["oncall@example.test", "Lead <lead@example.test>"]);
    assert_eq!(ch.deliver(&notification(), ts("2026-11-23T10:06:00Z")).await, Delivery::Ok);
    let msgs = server.messages();
    assert_eq!(msgs.len(), 1, "one message for both recipients");
    let m = &msgs[0];
    assert!(has_line(m, "X-Envelope-From: sevwatch@example.test"), "{m}");
    assert!(has_line(m, "X-Envelope-To: oncall@example.test,lead@example.test"), "{m}");
    assert!(has_line(m, "Subject: [P2] INC-9 update (identified): Queue backlog"), "{m}");
    assert!(m.contains("The consumer is stuck on one poisoned message."), "{m}");
    assert!(m.contains("https://sevwatch.example/incidents/INC-9"), "{m}");
    assert!(m.contains("References: <inc-9@sevwatch>"), "{m}");
}

#[tokio::test]
async fn a_permanent_smtp_refusal_fails_and_a_transient_one_is_retried() {
    let Some(server) = smtp_server().await else { return };
    let n = notification();
    match email(server.port, SmtpTls::None, &["nobody@example.test"]).deliver(&n, ts("2026-11-23T10:06:00Z")).await {
        Delivery::Fail { status, error } => {
            assert_eq!(status, Some(550));
            assert!(error.contains("no such mailbox"), "{error}");
        }
        other => panic!("550 should fail: {other:?}"),
    }
    match email(server.port, SmtpTls::None, &["busy@example.test"]).deliver(&n, ts("2026-11-23T10:06:00Z")).await {
        Delivery::Retry { status, .. } => assert_eq!(status, Some(451)),
        other => panic!("451 should be retried: {other:?}"),
    }
    assert!(server.messages().is_empty());
}

#[tokio::test]
async fn starttls_is_required_so_a_server_without_it_gets_nothing_in_clear_text() {
    let Some(server) = smtp_server().await else { return };
    let d = email(server.port, SmtpTls::StartTls, &["oncall@example.test"])
        .deliver(&notification(), ts("2026-11-23T10:06:00Z"))
        .await;
    match d {
        Delivery::Fail { error, .. } => assert!(error.contains("STARTTLS"), "{error}"),
        other => panic!("a relay that cannot encrypt is a configuration problem, not a blip: {other:?}"),
    }
    assert!(server.messages().is_empty(), "nothing was sent unencrypted");
}

#[tokio::test]
async fn an_smtp_server_that_is_down_is_retried() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    let d =
        email(port, SmtpTls::None, &["oncall@example.test"]).deliver(&notification(), ts("2026-11-23T10:06:00Z")).await;
    assert!(d.is_retry(), "{d:?}");
}

#[tokio::test]
async fn an_smtp_server_that_never_greets_is_retried_after_the_timeout() {
    // A listener that accepts and then says nothing: lettre waits for the 220 greeting.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            open.push(socket);
        }
    });
    let cfg = EmailConfig {
        host: "127.0.0.1".into(),
        port,
        tls: SmtpTls::None,
        from: "sevwatch@example.test".into(),
        to: vec!["oncall@example.test".into()],
        username: None,
        password: None,
    };
    let timeout = Duration::from_millis(400);
    let ch = Channel::new(
        ChannelConfig { name: "mail".into(), kind: ChannelKind::Email(cfg), timeout },
        http_client(sevwatch_notify::Destinations::anywhere()).expect("client"),
    );
    let start = std::time::Instant::now();
    let d = ch.deliver(&notification(), ts("2026-11-23T10:06:00Z")).await;
    let took = start.elapsed();
    held.abort();
    assert!(d.is_retry(), "{d:?}");
    assert!(took >= timeout && took < Duration::from_secs(5), "{took:?}");
}
