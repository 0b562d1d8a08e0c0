//! Email delivered to a real SMTP server: Python's aiosmtpd on 127.0.0.1, started per test,
//! writing each accepted message to a file and refusing chosen recipients with the SMTP reply
//! codes a real server uses. Skips (or fails under `SEVWATCH_REQUIRE_ALL=1`) when no Python
//! with aiosmtpd is installed: `apt-get install python3-aiosmtpd` or `pip install aiosmtpd`.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use sevwatch_core::{decide, Command, Incident, IncidentId, Policy, Severity, Status, Timestamp};
use sevwatch_notify::{
    http_client, Channel, ChannelConfig, ChannelKind, Delivery, EmailConfig, Notification, Rendered, SmtpTls,
};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command as Process};

/// The server: `nobody@` gets a permanent 550, `busy@` a transient 451, everyone else is
/// accepted and the message written (atomically, by rename) to `<dir>/<n>.eml`.
const SERVER: &str = r#"
import asyncio, os, sys
from aiosmtpd.smtp import SMTP

class Handler:
    def __init__(self, out):
        self.out, self.n = out, 0
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("nobody@"):
            return "550 5.1.1 no such mailbox"
        if address.startswith("busy@"):
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"
    async def handle_DATA(self, server, session, envelope):
        self.n += 1
        path = os.path.join(self.out, "%d.eml" % self.n)
        head = "X-Envelope-From: %s\r\nX-Envelope-To: %s\r\n" % (envelope.mail_from, ",".join(envelope.rcpt_tos))
        with open(path + ".tmp", "wb") as f:
            f.write(head.encode() + envelope.original_content)
        os.rename(path + ".tmp", path)
        return "250 2.0.0 accepted"

async def main():
    handler = Handler(sys.argv[1])
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(handler), "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    await asyncio.Event().wait()

asyncio.run(main())
"#;

struct SmtpServer {
    port: u16,
    dir: sevwatch_testkit::TempDir,
    _child: Child,
}

impl SmtpServer {
    fn messages(&self) -> Vec<String> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.dir.path().join("mail"))
            .expect("mail dir")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect();
        files.sort();
        files.iter().map(|p| std::fs::read_to_string(p).expect("readable message")).collect()
    }
}

/// A Python interpreter that has aiosmtpd: the one on PATH, or Debian's.
async fn python() -> Option<&'static str> {
    for candidate in ["python3", "/usr/bin/python3"] {
        let ok = Process::new(candidate)
            .args(["-c", "import aiosmtpd"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .await
            .is_ok_and(|s| s.success());
        if ok {
            return Some(candidate);
        }
    }
    None
}

async fn smtp_server() -> Option<SmtpServer> {
    let Some(py) = python().await else {
        sevwatch_testkit::skip(
            "SMTP test",
            "no python3 with aiosmtpd (apt-get install python3-aiosmtpd, or pip install aiosmtpd)",
        );
        return None;
    };
    let dir = sevwatch_testkit::temp_dir();
    let script = dir.path().join("smtpd.py");
    std::fs::write(&script, SERVER).expect("write the server script");
    std::fs::create_dir(dir.path().join("mail")).expect("mail dir");
    let mut child = Process::new(py)
        .arg(&script)
        .arg(dir.path().join("mail"))
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("python starts");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut line = String::new();
    tokio::time::timeout(Duration::from_secs(20), BufReader::new(stdout).read_line(&mut line))
        .await
        .expect("the SMTP server prints its port within 20 s")
        .expect("read the port");
    let port: u16 = line.trim().parse().unwrap_or_else(|_| panic!("a port number, got {line:?}"));
    Some(SmtpServer { port, dir, _child: child })
}

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
    Channel::new(ch, http_client().expect("client"))
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
        http_client().expect("client"),
    );
    let start = std::time::Instant::now();
    let d = ch.deliver(&notification(), ts("2026-11-23T10:06:00Z")).await;
    let took = start.elapsed();
    held.abort();
    assert!(d.is_retry(), "{d:?}");
    assert!(took >= timeout && took < Duration::from_secs(5), "{took:?}");
}
