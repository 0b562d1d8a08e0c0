//! Every HTTP channel delivers to a real receiver on 127.0.0.1: a small axum server per test
//! that records what arrives and answers with the status the test chose, so the payload
//! shapes, the signature and the retry contract are checked on the wire.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde_json::Value;
use sevwatch_core::{decide, Command, Incident, IncidentId, Policy, Severity, Status, Timestamp};
use sevwatch_notify::channel::webhook::{SIGNATURE_HEADER, TIMESTAMP_HEADER};
use sevwatch_notify::{
    context, deliver_all, http_client, verify_signature, Channel, ChannelConfig, ChannelKind, Delivery, Notification,
    Secret, Templates,
};

#[derive(Clone, Debug)]
struct Captured {
    at: Instant,
    path: String,
    headers: HeaderMap,
    body: Bytes,
}

impl Captured {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("the channel sent JSON")
    }
}

#[derive(Clone, Copy)]
enum Answer {
    Status(u16),
    StatusWithRetryAfter(u16, &'static str),
    Redirect,
    Hang,
}

struct Receiver {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Captured>>>,
}

impl Receiver {
    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
    fn seen(&self) -> Vec<Captured> {
        self.seen.lock().expect("no test thread panicked holding the lock").clone()
    }
}

/// Start a receiver that records each request and answers as told.
async fn receiver(answer: Answer) -> Receiver {
    let seen: Arc<Mutex<Vec<Captured>>> = Arc::default();
    let log = seen.clone();
    let app = Router::new().fallback(move |uri: Uri, headers: HeaderMap, body: Bytes| {
        let log = log.clone();
        async move {
            log.lock().expect("lock").push(Captured {
                at: Instant::now(),
                path: uri.path().to_string(),
                headers,
                body,
            });
            match answer {
                Answer::Status(s) => StatusCode::from_u16(s).expect("valid status").into_response(),
                Answer::StatusWithRetryAfter(s, after) => {
                    let mut r: Response = (StatusCode::from_u16(s).expect("valid status"), "busy").into_response();
                    r.headers_mut().insert("retry-after", after.parse().expect("header value"));
                    r
                }
                Answer::Redirect => {
                    let mut r: Response = StatusCode::TEMPORARY_REDIRECT.into_response();
                    r.headers_mut().insert("location", "http://127.0.0.1:9/elsewhere".parse().expect("header value"));
                    r
                }
                Answer::Hang => std::future::pending::<Response>().await,
            }
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind a free port");
    let addr = listener.local_addr().expect("bound address");
    tokio::spawn(async move { axum::serve(listener, app).await.expect("the receiver serves") });
    Receiver { addr, seen }
}

fn ts(s: &str) -> Timestamp {
    s.parse().expect("valid timestamp")
}

const NOW: &str = "2026-11-23T10:20:00Z";

/// A P0 on `payments` with a commander, in `status`, rendered with `template`.
fn notification(status: Status, template: &str) -> Notification {
    let p = Policy::default();
    let declare = Command::Declare {
        title: "Payments failing".into(),
        severity: Severity::P0,
        service: Some("payments".into()),
        summary: Some("card authorisations return 502".into()),
    };
    let ev = decide(&p, None, &declare, "alice", ts("2026-11-23T10:00:00Z")).expect("declare");
    let mut inc = Incident::from_declared(IncidentId(7), &ev[0]).expect("declared");
    let mut cmds = vec![Command::Assign { role: "commander".into(), to: "carol".into() }];
    match status {
        Status::Triggered => {}
        Status::Resolved => cmds.push(Command::Resolve { root_cause: Some("expired certificate".into()), force: true }),
        s => cmds.push(Command::SetStatus { status: s, note: None }),
    }
    for c in cmds {
        for e in decide(&p, Some(&inc), &c, "carol", ts("2026-11-23T10:10:00Z")).expect("legal") {
            inc.apply(&e);
        }
    }
    let extra = BTreeMap::from([("reason".to_string(), "still failing after 20 minutes".to_string())]);
    let ctx = context(&inc, &p, ts(NOW), &extra);
    let rendered = Templates::defaults().render(template, &ctx).expect("renders");
    Notification::new(&inc, template, rendered, Some("https://sevwatch.example/incidents/INC-7".into()))
}

fn named_channel(name: &str, kind: ChannelKind, timeout: Duration) -> Channel {
    let cfg = ChannelConfig { name: name.into(), kind, timeout };
    Channel::new(cfg, http_client(sevwatch_notify::Destinations::anywhere()).expect("an HTTP client"))
}

fn channel(kind: ChannelKind, timeout: Duration) -> Channel {
    named_channel("test", kind, timeout)
}

fn slack(url: String) -> Channel {
    channel(ChannelKind::Slack { url: Secret::new(url) }, Duration::from_secs(5))
}

#[tokio::test]
async fn slack_receives_a_block_kit_message_with_fields_a_link_and_a_text_fallback() {
    let r = receiver(Answer::Status(200)).await;
    let n = notification(Status::Investigating, "status-update");
    let d = slack(r.url("/services/T0/B0/xyz")).deliver(&n, ts(NOW)).await;
    assert_eq!(d, Delivery::Ok);
    let seen = r.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].path, "/services/T0/B0/xyz");
    assert_eq!(seen[0].headers["content-type"], "application/json");
    let v = seen[0].json();
    assert!(v["text"].as_str().expect("fallback text").starts_with("[P0] INC-7 update (investigating)"), "{v}");
    assert_eq!(v["blocks"][0]["type"], "header");
    assert_eq!(v["blocks"][0]["text"]["text"], "[P0] INC-7 update (investigating): Payments failing");
    let fields: Vec<&str> =
        v["blocks"][1]["fields"].as_array().expect("fields").iter().filter_map(|f| f["text"].as_str()).collect();
    assert_eq!(fields, ["*Severity*\nP0", "*Status*\ninvestigating", "*Commander*\ncarol", "*Service*\npayments"]);
    assert!(v["blocks"][2]["text"]["text"].as_str().expect("body").contains("investigating after 20m"), "{v}");
    assert_eq!(v["blocks"][3]["type"], "context");
    assert_eq!(v["blocks"][3]["elements"][0]["text"], "<https://sevwatch.example/incidents/INC-7|INC-7 in Sevwatch>");
}

#[tokio::test]
async fn discord_receives_an_embed_coloured_by_severity_with_fields() {
    let r = receiver(Answer::Status(204)).await;
    let n = notification(Status::Triggered, "incident-declared");
    let ch = channel(ChannelKind::Discord { url: Secret::new(r.url("/api/webhooks/1/abc")) }, Duration::from_secs(5));
    assert_eq!(ch.deliver(&n, ts(NOW)).await, Delivery::Ok);
    let v = r.seen()[0].json();
    let embed = &v["embeds"][0];
    assert_eq!(embed["title"], "[P0] INC-7 declared: Payments failing");
    assert_eq!(embed["color"], 0xC62828, "P0 is red");
    assert_eq!(embed["url"], "https://sevwatch.example/incidents/INC-7");
    assert!(embed["description"].as_str().expect("description").contains("card authorisations return 502"));
    let names: Vec<&str> =
        embed["fields"].as_array().expect("fields").iter().filter_map(|f| f["name"].as_str()).collect();
    assert_eq!(names, ["Severity", "Status", "Commander", "Service"]);
    assert_eq!(embed["fields"][2]["value"], "carol");
    assert_eq!(v["allowed_mentions"]["parse"], serde_json::json!([]), "incident text never pings anyone");
}

#[tokio::test]
async fn the_generic_webhook_is_signed_and_the_receiver_can_verify_it() {
    let r = receiver(Answer::Status(200)).await;
    let n = notification(Status::Resolved, "resolved");
    let ch = channel(
        ChannelKind::Webhook { url: Secret::new(r.url("/hooks/sevwatch")), secret: Secret::new("hunter2") },
        Duration::from_secs(5),
    );
    assert_eq!(ch.deliver(&n, ts(NOW)).await, Delivery::Ok);
    let got = &r.seen()[0];
    let stamp = got.headers[TIMESTAMP_HEADER].to_str().expect("ascii");
    let sig = got.headers[SIGNATURE_HEADER].to_str().expect("ascii");
    assert_eq!(stamp, ts(NOW).as_second().to_string());
    assert!(sig.starts_with("sha256=") && sig.len() == 7 + 64, "{sig}");
    let five_min = Duration::from_secs(300);
    let later = ts("2026-11-23T10:21:00Z");
    assert!(verify_signature(b"hunter2", stamp, &got.body, sig, later, five_min));
    assert!(!verify_signature(b"wrong", stamp, &got.body, sig, later, five_min));
    let mut tampered = got.body.to_vec();
    tampered.extend_from_slice(b" ");
    assert!(!verify_signature(b"hunter2", stamp, &tampered, sig, later, five_min));
    assert!(!verify_signature(b"hunter2", stamp, &got.body, sig, ts("2026-11-23T11:00:00Z"), five_min), "replayed");
    let v = got.json();
    assert_eq!(v["event"], "resolved");
    assert_eq!(v["incident"]["id"], "INC-7");
    assert_eq!(v["incident"]["severity"], "P0");
    assert_eq!(v["incident"]["status"], "resolved");
    assert!(v["body"].as_str().expect("body").contains("Root cause: expired certificate"), "{v}");
}

#[tokio::test]
async fn pagerduty_triggers_then_resolves_the_same_alert_by_dedup_key() {
    let r = receiver(Answer::Status(202)).await;
    let ch = channel(
        ChannelKind::PagerDuty { url: r.url("/v2/enqueue"), routing_key: Secret::new("R0UT1NGKEY") },
        Duration::from_secs(5),
    );
    assert_eq!(ch.deliver(&notification(Status::Triggered, "incident-declared"), ts(NOW)).await, Delivery::Ok);
    assert_eq!(ch.deliver(&notification(Status::Investigating, "status-update"), ts(NOW)).await, Delivery::Ok);
    assert_eq!(ch.deliver(&notification(Status::Resolved, "resolved"), ts(NOW)).await, Delivery::Ok);
    let seen = r.seen();
    let events: Vec<Value> = seen.iter().map(Captured::json).collect();
    assert!(seen.iter().all(|c| c.path == "/v2/enqueue"));
    let actions: Vec<&str> = events.iter().filter_map(|e| e["event_action"].as_str()).collect();
    assert_eq!(actions, ["trigger", "acknowledge", "resolve"]);
    assert!(events.iter().all(|e| e["dedup_key"] == "INC-7" && e["routing_key"] == "R0UT1NGKEY"));
    let trigger = &events[0]["payload"];
    assert_eq!(trigger["summary"], "[P0] INC-7: Payments failing");
    assert_eq!(trigger["severity"], "critical");
    assert_eq!(trigger["source"], "payments");
    assert_eq!(events[0]["links"][0]["href"], "https://sevwatch.example/incidents/INC-7");
    assert!(events[2].get("payload").is_none(), "resolve events carry no payload");
}

#[tokio::test]
async fn a_500_answer_is_retried_and_a_400_answer_fails() {
    let n = notification(Status::Investigating, "status-update");
    let r500 = receiver(Answer::Status(500)).await;
    match slack(r500.url("/x")).deliver(&n, ts(NOW)).await {
        Delivery::Retry { status, after, .. } => assert_eq!((status, after), (Some(500), None)),
        other => panic!("500 should be retried: {other:?}"),
    }
    let r400 = receiver(Answer::Status(400)).await;
    match slack(r400.url("/x")).deliver(&n, ts(NOW)).await {
        Delivery::Fail { status, error } => {
            assert_eq!(status, Some(400));
            assert!(error.contains("HTTP 400"), "{error}");
        }
        other => panic!("400 should fail: {other:?}"),
    }
    let r404 = receiver(Answer::Status(404)).await;
    assert!(slack(r404.url("/x")).deliver(&n, ts(NOW)).await.is_fail(), "a deleted webhook is not retried");
}

#[tokio::test]
async fn a_429_is_retried_after_the_receivers_retry_after() {
    let r = receiver(Answer::StatusWithRetryAfter(429, "7")).await;
    let d = slack(r.url("/x")).deliver(&notification(Status::Investigating, "status-update"), ts(NOW)).await;
    assert_eq!(
        d,
        Delivery::Retry { after: Some(Duration::from_secs(7)), error: "HTTP 429: busy".into(), status: Some(429) }
    );
}

#[tokio::test]
async fn a_receiver_that_hangs_is_retried_after_the_timeout() {
    let r = receiver(Answer::Hang).await;
    let ch = channel(ChannelKind::Slack { url: Secret::new(r.url("/slow")) }, Duration::from_millis(300));
    let start = Instant::now();
    let d = ch.deliver(&notification(Status::Investigating, "status-update"), ts(NOW)).await;
    let took = start.elapsed();
    match d {
        Delivery::Retry { status: None, error, .. } => assert!(error.contains("timed out"), "{error}"),
        other => panic!("a hang should be retried: {other:?}"),
    }
    assert!(took >= Duration::from_millis(300) && took < Duration::from_secs(5), "{took:?}");
    assert_eq!(r.seen().len(), 1, "the request did arrive; only the answer never came");
}

#[tokio::test]
async fn a_hanging_receiver_does_not_hold_up_the_other_channels() {
    let slow = receiver(Answer::Hang).await;
    let fast = receiver(Answer::Status(200)).await;
    let n = notification(Status::Investigating, "status-update");
    let timeout = Duration::from_millis(800);
    let slow_a = named_channel("slow-a", ChannelKind::Slack { url: Secret::new(slow.url("/a")) }, timeout);
    let slow_b = named_channel("slow-b", ChannelKind::Slack { url: Secret::new(slow.url("/b")) }, timeout);
    let quick = named_channel("fast", ChannelKind::Slack { url: Secret::new(fast.url("/")) }, timeout);
    let start = Instant::now();
    let results = deliver_all(&[&slow_a, &slow_b, &quick], &n, ts(NOW)).await;
    let took = start.elapsed();
    let names: Vec<&str> = results.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names, ["slow-a", "slow-b", "fast"], "results keep the order of the channels");
    assert!(results[0].1.is_retry() && results[1].1.is_retry(), "{results:?}");
    assert_eq!(results[2].1, Delivery::Ok);
    // In sequence the two hangs alone would take 1.6 s, and the fast message would leave
    // only after both.
    assert!(took < Duration::from_millis(1400), "deliveries ran one after the other: {took:?}");
    let arrived = fast.seen()[0].at.duration_since(start);
    assert!(arrived < Duration::from_millis(500), "the fast receiver waited for the slow ones: {arrived:?}");
}

#[tokio::test]
async fn a_refused_connection_is_retried() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    let d =
        slack(format!("http://{addr}/x")).deliver(&notification(Status::Triggered, "incident-declared"), ts(NOW)).await;
    match d {
        Delivery::Retry { status: None, error, .. } => assert!(error.contains("connect"), "{error}"),
        other => panic!("a refused connection should be retried: {other:?}"),
    }
}

#[tokio::test]
async fn a_redirect_is_not_followed_and_fails() {
    let r = receiver(Answer::Redirect).await;
    let ch = channel(
        ChannelKind::Webhook { url: Secret::new(r.url("/moved")), secret: Secret::new("k") },
        Duration::from_secs(5),
    );
    let d = ch.deliver(&notification(Status::Triggered, "incident-declared"), ts(NOW)).await;
    assert_eq!(d.status(), Some(307));
    assert!(d.is_fail(), "{d:?}");
}

#[test]
fn channel_debug_output_hides_urls_and_secrets() {
    let ch = channel(
        ChannelKind::Webhook {
            url: Secret::new("https://hooks.example/T0/very-secret-path"),
            secret: Secret::new("hunter2"),
        },
        Duration::from_secs(5),
    );
    let shown = format!("{ch:?}");
    assert!(!shown.contains("very-secret-path") && !shown.contains("hunter2"), "{shown}");
    assert!(shown.contains("<hidden>"), "{shown}");
}
