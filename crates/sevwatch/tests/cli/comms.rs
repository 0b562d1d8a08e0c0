//! Communications from the command line, through a real `serve` with a configuration file: a
//! user adds their contacts, `comms send` posts a status update by email (a real SMTP server),
//! a channel whose receiver is down is retried into the dead letters, and `outbox retry`
//! queues it again.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::helpers::{stderr, stdout, Server};

fn wait_for(s: &Server, args: &[&str], what: &str, ok: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let v = s.json(args);
        if ok(&v) {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}: {v}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_comms_and_the_outbox_from_the_command_line() {
    let Some(smtp) = sevwatch_testkit::smtp::smtp_server().await else { return };
    let dir = sevwatch_testkit::temp_dir();
    // Port 1 on loopback: nothing listens, so every delivery there is refused and retried.
    let config = format!(
        r##"
[[channels]]
name = "ops-mail"
kind = "email"
host = "127.0.0.1"
port = {port}
tls = "none"
from = "sevwatch@example.test"
to = ["ops@example.test"]

[[channels]]
name = "#incident-high"
kind = "slack"
url = "http://127.0.0.1:1/hook"
timeout = "2s"

[[channel_routes]]
severities = ["P1"]
channel = "ops-mail"
[[channel_routes]]
severities = ["P1"]
channel = "#incident-high"

[outbox]
backoff = "100ms"
max_backoff = "200ms"
max_attempts = 2
allow_networks = ["127.0.0.1"]
"##,
        port = smtp.port
    );
    let file = dir.path().join("sevwatch.toml");
    std::fs::write(&file, config).unwrap();
    tokio::task::block_in_place(|| {
        let s = Server::start_with(&dir.path().join("data"), None, Some(&file));

        let bad = s.sw(&["user", "set", "dana", "--name", "Dana", "--email", "not-an-address"]);
        assert!(!bad.status.success());
        assert!(stderr(&bad).contains("contacts[0].to"), "{}", stderr(&bad));
        let set = s.sw(&["user", "set", "dana", "--name", "Dana Scully", "--email", "dana@example.test"]);
        assert!(set.status.success(), "{}", stderr(&set));
        let users = stdout(&s.sw(&["user", "list"]));
        assert!(
            users.contains("dana") && users.contains("Email(\"dana@example.test\")") && users.contains("api"),
            "{users}"
        );

        let inc = s.json(&["declare", "--title", "EU logins failing", "--severity", "P1"]);
        let id = inc["id"].as_str().unwrap().to_string();
        let sent = s.json(&["comms", "send", &id, "--set", "update=Rolled back the auth deploy."]);
        assert_eq!(sent["template"], "status-update");
        let text = stdout(&s.sw(&["comms", "send", &id, "--template", "customer-initial", "--channel", "ops-mail"]));
        assert!(text.contains("queued for channel:ops-mail"), "{text}");

        let deadline = Instant::now() + Duration::from_secs(20);
        while smtp.messages().len() < 3 {
            assert!(Instant::now() < deadline, "mail: {:?}", smtp.messages());
            std::thread::sleep(Duration::from_millis(100));
        }
        let mail = smtp.messages();
        assert!(mail.iter().any(|m| m.contains("Rolled back the auth deploy.")), "the update by email: {mail:?}");
        assert!(mail.iter().all(|m| m.contains("X-Envelope-To: ops@example.test")));

        let dead = wait_for(&s, &["outbox", "list", "--status", "dead"], "dead letters", |v| {
            v["messages"].as_array().is_some_and(|m| m.len() == 2)
        });
        let first = &dead["messages"][0];
        assert_eq!(first["recipient"], "channel:#incident-high");
        assert_eq!(first["attempts"], 2);
        assert!(first["last_error"].as_str().unwrap().contains("could not connect"), "{first}");
        let msg_id = first["id"].to_string();
        let shown = stdout(&s.sw(&["outbox", "show", &msg_id]));
        assert_eq!(shown.matches(" retry ").count(), 2, "both attempts are listed:\n{shown}");

        let again = s.sw(&["outbox", "retry", &msg_id]);
        assert!(again.status.success(), "{}", stderr(&again));
        let requeued = s.json(&["outbox", "show", &msg_id]);
        assert_ne!(requeued["message"]["status"], "sent");
        wait_for(&s, &["outbox", "show", &msg_id], "the retried message to die again", |v| {
            v["message"]["status"] == "dead" && v["attempts"].as_array().is_some_and(|a| a.len() == 4)
        });
        let sent = s.sw(&["outbox", "retry", "999999"]);
        assert!(!sent.status.success());
        assert!(stderr(&sent).contains("no outbox message 999999"), "{}", stderr(&sent));
    });
}
