//! The authorization matrix: every route of the server's own OpenAPI document, called with
//! every kind of credential, on both backends. The routes come from `GET /api/v1/openapi.json`,
//! so a new route cannot be forgotten: one missing from [`RULES`] fails the test until its rule
//! is written down here, read from its handler's `caller.require(...)`.
//!
//! Credentials: none, a malformed token, a real admin token under another scheme (`Basic`),
//! an unknown token, a revoked one, a valid token in `?token=` (accepted only under
//! `/api/v1/ingest/`), and one valid token per role. Expected: 401 for every invalid
//! credential, 403 for a role that lacks the action, anything but 401, 403 or 5xx for a role
//! that has it (a 4xx for a body the state no longer fits is fine). PagerDuty's `/v2/enqueue`
//! reads no header: the token is the body's `routing_key`, and anything but an ingest or admin
//! token is PagerDuty's own 400 (`{"status": "invalid event"}`).
//!
//! Every refusal is sent first, between two snapshots of everything a request could change
//! (incidents with their event counts, tokens, silences, runbooks with their versions, users,
//! the outbox, alerts), which must be equal; only then are the allowed calls made.
//!
//! The app is started from a `sevwatch.toml` (not the default config) for two things the
//! matrix needs: a channel, so the incident's declaration leaves a real outbox message, and
//! `[runbooks] execute_on_server = true`, so that `"execute": true` on a step start is checked
//! against the executor role rather than refused for everyone.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sevwatch_core::{AccessRole, Action};

use crate::helpers::{on_both_backends_with, spawn_app_toml, Db, TestApp};

mod rules;

use rules::{may, Needs, Public, RoutingKey, Rule, RULES};

#[derive(Clone, Copy, Debug, PartialEq)]
enum Cred {
    Missing,
    /// `Authorization: Bearer` with something that is not a token's shape.
    Malformed,
    /// A valid admin token under `Authorization: Basic`.
    OtherScheme,
    /// A well-formed token the server never issued.
    Unknown,
    Revoked,
    /// A valid token in `?token=`: the ingest token on ingest paths, the admin token elsewhere.
    InQuery,
    Role(AccessRole),
}

const CREDS: [Cred; 11] = [
    Cred::Missing,
    Cred::Malformed,
    Cred::OtherScheme,
    Cred::Unknown,
    Cred::Revoked,
    Cred::InQuery,
    Cred::Role(AccessRole::Viewer),
    Cred::Role(AccessRole::Responder),
    Cred::Role(AccessRole::Ingest),
    Cred::Role(AccessRole::Executor),
    Cred::Role(AccessRole::Admin),
];

const MALFORMED: &str = "not-a-token!{}";
const UNKNOWN: &str = "sw_00112233445566778899aabbccddeeff0011223344556677";

#[derive(Clone, Copy, Debug, PartialEq)]
enum Expect {
    Unauthorized,
    Forbidden,
    /// PagerDuty's 400 `{"status": "invalid event"}`.
    PagerDutyRefusal,
    /// Anything but 401, 403 or a server error.
    Answered,
}

fn accepts_query_token(path: &str) -> bool {
    path.starts_with("/api/v1/ingest/")
}

fn expected(rule: Rule, cred: Cred, path: &str) -> Expect {
    match (rule, cred) {
        (Public, _) => Expect::Answered,
        (RoutingKey, Cred::Role(r)) if may(r, Action::Ingest) => Expect::Answered,
        (RoutingKey, _) => Expect::PagerDutyRefusal,
        (Needs(a), Cred::Role(r)) => {
            if may(r, a) {
                Expect::Answered
            } else {
                Expect::Forbidden
            }
        }
        (Needs(_), Cred::InQuery) if accepts_query_token(path) => expected(rule, Cred::Role(AccessRole::Ingest), path),
        (Needs(_), _) => Expect::Unauthorized,
    }
}

/// One request shape: a route with concrete ids and the body it is sent with.
struct Case {
    method: Method,
    /// As documented, e.g. `/api/v1/incidents/{id}`.
    template: String,
    path: String,
    rule: Rule,
    body: Option<Value>,
}

/// What the setup created, to stand in for path parameters.
struct Fixture {
    incident: String,
    run: i64,
    runbook: String,
    silence: String,
    /// A token only `DELETE /api/v1/tokens/{id}` uses (revoking a role's token would turn the
    /// rest of the matrix into 401s).
    token_id: i64,
    user: String,
    outbox: i64,
    tokens: HashMap<AccessRole, String>,
    revoked: String,
}

impl Fixture {
    fn token(&self, role: AccessRole) -> &str {
        &self.tokens[&role]
    }
}

fn concrete(template: &str, f: &Fixture) -> String {
    let segments: Vec<&str> = template.split('/').collect();
    let mut out = Vec::with_capacity(segments.len());
    for (i, seg) in segments.iter().enumerate() {
        let Some(param) = seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) else {
            out.push(seg.to_string());
            continue;
        };
        let owner = if i > 0 { segments[i - 1] } else { "" };
        out.push(match (owner, param) {
            ("incidents", "id") => f.incident.clone(),
            ("runbook-runs", "run") => f.run.to_string(),
            ("steps", "step") => "1".into(),
            ("comms", "template") => "status-update".into(),
            ("tokens", "id") => f.token_id.to_string(),
            ("silences", "id") => f.silence.clone(),
            ("schedules", "id") => "default".into(),
            ("outbox", "id") => f.outbox.to_string(),
            ("users", "id") => f.user.clone(),
            ("runbooks", "name") => f.runbook.clone(),
            _ => panic!(
                "{template}: no fixture for the path parameter {{{param}}} after /{owner}/: create one in the \
                 setup of tests/api/authz.rs and add it to `concrete`"
            ),
        });
    }
    out.join("/")
}

/// A minimal plausible body for each route that takes one. Refusals must come before the
/// body is judged, so a role lacking the action gets 403 whatever it sends; a plausible body
/// also makes the allowed calls do their work.
fn body_for(method: &str, template: &str) -> Option<Value> {
    let alert = json!({ "alertname": "AuthzProbe", "service": "authz", "severity": "warning" });
    Some(match (method, template) {
        ("POST", "/api/v1/incidents") => json!({ "title": "authz probe", "severity": "P4", "service": "authz" }),
        ("POST", "/api/v1/incidents/{id}/assign") => json!({ "role": "scribe", "to": "authz-someone" }),
        ("POST", "/api/v1/incidents/{id}/status") => json!({ "status": "identified", "note": "authz" }),
        ("POST", "/api/v1/incidents/{id}/severity") => json!({ "severity": "P3", "reason": "authz" }),
        ("POST", "/api/v1/incidents/{id}/notes") => json!({ "text": "authz probe" }),
        ("POST", "/api/v1/incidents/{id}/check" | "/api/v1/incidents/{id}/uncheck") => {
            json!({ "item": "resolution.root-cause-identified" })
        }
        ("POST", "/api/v1/incidents/{id}/resolve") => json!({ "root_cause": "authz", "force": true }),
        ("POST", "/api/v1/incidents/{id}/reopen") => json!({ "reason": "authz" }),
        ("POST", "/api/v1/incidents/{id}/escalate") => json!({ "reason": "authz" }),
        ("POST", "/api/v1/incidents/{id}/comms/{template}") => json!({ "fields": { "update": "authz probe" } }),
        ("POST", "/api/v1/tokens") => json!({ "name": "authz-made", "role": "viewer" }),
        ("POST", "/api/v1/ingest/alertmanager") => json!({ "version": "4", "status": "firing", "receiver": "sevwatch",
            "groupKey": "authz", "alerts": [{ "status": "firing", "labels": alert,
            "annotations": { "summary": "authz probe" }, "startsAt": "2026-01-05T10:00:00Z" }] }),
        ("POST", "/api/v1/ingest/grafana") => json!({ "title": "[FIRING:1] AuthzProbe", "alerts": [{
            "status": "firing", "labels": alert, "annotations": { "summary": "authz probe" },
            "startsAt": "2026-01-05T10:00:00Z", "fingerprint": "authz-grafana" }] }),
        ("POST", "/api/v1/ingest/generic") => {
            json!({ "alerts": [{ "name": "AuthzProbe", "status": "firing", "summary": "authz probe" }] })
        }
        ("POST", "/v2/enqueue") => json!({ "event_action": "trigger", "dedup_key": "authz",
            "payload": { "summary": "AuthzProbe", "source": "authz", "severity": "warning" } }),
        ("POST", "/api/v1/silences") => {
            json!({ "matchers": ["alertname=\"AuthzOther\""], "duration": "1h", "comment": "authz probe" })
        }
        ("PUT", "/api/v1/users/{id}") => json!({ "name": "Authz Probe", "contacts": [] }),
        ("POST", "/api/v1/runbooks") => json!({ "name": "authz-made", "content": RUNBOOK }),
        ("POST", "/api/v1/incidents/{id}/runbook-runs") => json!({ "runbook": "authz", "section": "Probe" }),
        ("POST", "/api/v1/incidents/{id}/runbook-runs/{run}/steps/{step}/start") => json!({}),
        ("POST", "/api/v1/incidents/{id}/runbook-runs/{run}/steps/{step}/result") => {
            json!({ "exit_code": 0, "duration_ms": 5, "output": "ok" })
        }
        ("POST", "/api/v1/incidents/{id}/runbook-runs/{run}/steps/{step}/skip") => json!({ "reason": "authz" }),
        _ => return None,
    })
}

const RUNBOOK: &str = "# Authz\n\n## Probe\n\n```sh\necho one\n```\n\n```sh\necho two\n```\n\n```sh\necho three\n```\n";

/// A webhook channel on a loopback address that `[outbox] allow_networks` does not list: the
/// declaration's message is refused at once and goes dead, so the outbox holds a real message
/// whose state no longer changes by itself.
const CONFIG: &str = "[[channels]]\nname = \"authz-hook\"\nkind = \"webhook\"\nurl = \"http://127.0.0.1:9/authz\"\n\
    secret = \"authz\"\n[[channel_routes]]\nchannel = \"authz-hook\"\n\n\
    [runbooks]\nexecute_on_server = true\ntimeout = \"5s\"\n";

struct Answer {
    status: StatusCode,
    retry_after: bool,
    /// `WWW-Authenticate: Bearer`, which every 401 carries.
    bearer_challenge: bool,
    body: Value,
}

async fn send(app: &TestApp, method: &Method, path: &str, auth: Option<String>, body: Option<&Value>) -> Answer {
    let mut req = app.http.request(method.clone(), format!("{}{path}", app.base));
    if let Some(a) = auth {
        req = req.header(AUTHORIZATION, a);
    }
    if let Some(b) = body {
        req = req.json(b);
    }
    let resp = req.send().await.expect("the server answers");
    let status = resp.status();
    let retry_after = resp.headers().contains_key(RETRY_AFTER);
    let bearer_challenge = resp.headers().get(WWW_AUTHENTICATE).is_some_and(|v| v.as_bytes() == b"Bearer");
    let streaming = resp.headers().get(CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"));
    // An event stream never ends: its status is the answer, and dropping it closes it.
    let body = if streaming {
        Value::Null
    } else {
        let text = resp.text().await.expect("the answer is read");
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    Answer { status, retry_after, bearer_challenge, body }
}

/// The request `case` becomes with credential `cred`: its path (with `?token=`), its
/// `Authorization` header and its body (with `routing_key` for PagerDuty).
fn request(case: &Case, cred: Cred, f: &Fixture) -> (String, Option<String>, Option<Value>) {
    let mut path = case.path.clone();
    let mut body = case.body.clone();
    let bearer = |t: &str| Some(format!("Bearer {t}"));
    let presented: Option<String> = match cred {
        Cred::Missing | Cred::OtherScheme | Cred::InQuery => None,
        Cred::Malformed => Some(MALFORMED.into()),
        Cred::Unknown => Some(UNKNOWN.into()),
        Cred::Revoked => Some(f.revoked.clone()),
        Cred::Role(r) => Some(f.token(r).to_string()),
    };
    let mut auth = match cred {
        Cred::OtherScheme => Some(format!("Basic {}", f.token(AccessRole::Admin))),
        _ => presented.as_deref().and_then(bearer),
    };
    if cred == Cred::InQuery {
        let t = if accepts_query_token(&path) { f.token(AccessRole::Ingest) } else { f.token(AccessRole::Admin) };
        let sep = if path.contains('?') { '&' } else { '?' };
        path = format!("{path}{sep}token={t}");
    }
    if let RoutingKey = case.rule {
        // PagerDuty reads no header: the credential travels as the routing key.
        if cred != Cred::OtherScheme {
            auth = None;
        }
        if let (Some(key), Some(Value::Object(b))) = (presented, body.as_mut()) {
            b.insert("routing_key".into(), Value::String(key));
        }
    }
    (path, auth, body)
}

fn judge(expect: Expect, cred: Cred, a: &Answer) -> Result<(), String> {
    let s = a.status.as_u16();
    let ok = match expect {
        // The throttle of `throttle.rs` answers 429 with Retry-After once an address has sent
        // too many unknown tokens. Servers started by `helpers.rs` may or may not pass the client
        // address; the matrix sends at most three bad tokens in a row before a valid one resets
        // the count, but an unknown token answered 429 with Retry-After is still a refusal. No
        // other credential may be answered 429.
        Expect::Unauthorized => {
            (s == 401 && a.bearer_challenge) || (cred == Cred::Unknown && s == 429 && a.retry_after)
        }
        Expect::Forbidden => s == 403,
        Expect::PagerDutyRefusal => s == 400 && a.body["status"] == "invalid event",
        Expect::Answered => s != 401 && s != 403 && s < 500,
    };
    if ok {
        Ok(())
    } else {
        Err(format!("expected {expect:?}, got {s} {}", a.body))
    }
}

/// Everything a refused request must leave alone, read as the admin.
async fn snapshot(app: &TestApp) -> BTreeMap<String, Value> {
    let mut s = BTreeMap::new();
    let mut read = |name: &str, v: Value| s.insert(name.to_string(), v);
    let (_, mut incidents) = app.get("/api/v1/incidents?status=all&limit=500").await;
    // SLA clocks are computed from now; everything else in the list is stored state.
    for i in incidents["incidents"].as_array_mut().expect("an incident list") {
        i.as_object_mut().expect("an incident").remove("sla");
    }
    read("incidents", incidents);
    read("tokens", app.get("/api/v1/tokens").await.1);
    read("silences", app.get("/api/v1/silences?all=true").await.1);
    let runbooks = app.get("/api/v1/runbooks").await.1;
    for r in runbooks["runbooks"].as_array().expect("a runbook list") {
        let name = r["name"].as_str().expect("a runbook name");
        let versions = app.get(&format!("/api/v1/runbooks/{name}")).await.1["versions"].clone();
        read(&format!("runbook {name} versions"), versions);
    }
    read("runbooks", runbooks);
    read("users", app.get("/api/v1/users").await.1);
    read("outbox", app.get("/api/v1/outbox?limit=10000").await.1);
    read("alerts", app.get("/api/v1/alerts?limit=10000").await.1);
    s
}

async fn created(app: &TestApp, method: Method, path: &str, body: Value) -> Value {
    let (s, v) = app.call(method, path, Some(&app.admin), Some(body)).await;
    assert!(s.is_success(), "setup {path}: {s} {v}");
    v
}

async fn setup(app: &TestApp) -> Fixture {
    let mut tokens = HashMap::new();
    for role in AccessRole::ALL {
        let v = created(app, Method::POST, "/api/v1/tokens", json!({ "name": format!("authz-{role}"), "role": role }))
            .await;
        tokens.insert(role, v["token"].as_str().expect("a token").to_string());
    }
    let revoked =
        created(app, Method::POST, "/api/v1/tokens", json!({ "name": "authz-revoked", "role": "admin" })).await;
    let (s, v) = app.call(Method::DELETE, &format!("/api/v1/tokens/{}", revoked["id"]), Some(&app.admin), None).await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
    let victim =
        created(app, Method::POST, "/api/v1/tokens", json!({ "name": "authz-victim", "role": "viewer" })).await;
    created(app, Method::POST, "/api/v1/runbooks", json!({ "name": "authz", "content": RUNBOOK })).await;
    let incident = app.declare("authz matrix", "P4").await;
    let run = created(
        app,
        Method::POST,
        &format!("/api/v1/incidents/{incident}/runbook-runs"),
        json!({ "runbook": "authz", "section": "Probe" }),
    )
    .await;
    let silence = created(
        app,
        Method::POST,
        "/api/v1/silences",
        json!({ "matchers": ["alertname=\"AuthzProbe\""], "duration": "2h", "comment": "authz matrix" }),
    )
    .await;
    created(app, Method::PUT, "/api/v1/users/authz-user", json!({ "name": "Authz User", "contacts": [] })).await;
    Fixture {
        outbox: settled_outbox(app, &incident).await,
        incident,
        run: run["run"]["id"].as_i64().expect("a run id"),
        runbook: "authz".into(),
        silence: silence["id"].as_str().expect("a silence id").to_string(),
        token_id: victim["id"].as_i64().expect("a token id"),
        user: "authz-user".into(),
        tokens,
        revoked: revoked["token"].as_str().expect("a token").to_string(),
    }
}

/// The id of the declaration's outbox message, once a delivery pass has settled every message
/// (the delivery refuses the loopback address at once, so one pass dead-letters it).
async fn settled_outbox(app: &TestApp, incident: &str) -> i64 {
    app.deliver().await;
    let (_, v) = app.get(&format!("/api/v1/outbox?incident={incident}")).await;
    let messages = v["messages"].as_array().cloned().unwrap_or_default();
    assert!(messages.iter().all(|m| m["status"] != "pending" && m["status"] != "sending"), "{v}");
    messages
        .iter()
        .find(|m| m["recipient"] == "channel:authz-hook")
        .and_then(|m| m["id"].as_i64())
        .unwrap_or_else(|| panic!("the declaration's message to authz-hook: {v}"))
}

/// Every documented operation, checked against the table; routes the document does not list
/// are added by hand.
async fn cases(app: &TestApp, f: &Fixture) -> Vec<Case> {
    let (s, doc) = app.call(Method::GET, "/api/v1/openapi.json", None, None).await;
    assert_eq!(s, StatusCode::OK, "{doc}");
    let rules: HashMap<(&str, &str), Rule> = RULES.iter().map(|(m, p, r)| ((*m, *p), *r)).collect();
    let mut documented = BTreeSet::new();
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for (template, item) in doc["paths"].as_object().expect("the document has paths") {
        for (method, op) in item.as_object().expect("a path item") {
            let method = method.to_ascii_uppercase();
            if !["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE"].contains(&method.as_str()) {
                continue;
            }
            documented.insert((method.clone(), template.clone()));
            let Some(rule) = rules.get(&(method.as_str(), template.as_str())) else {
                problems.push(format!(
                    "{method} {template} is in the OpenAPI document but not in RULES of tests/api/authz.rs: \
                     add it with the action its handler requires"
                ));
                continue;
            };
            let body = body_for(&method, template);
            if op.get("requestBody").is_some() && body.is_none() {
                problems.push(format!("{method} {template} takes a body: add a minimal one to `body_for`"));
            }
            out.push(Case {
                method: Method::from_bytes(method.as_bytes()).expect("an HTTP method"),
                template: template.clone(),
                path: concrete(template, f),
                rule: *rule,
                body,
            });
        }
    }
    for (method, template, _) in RULES {
        if !documented.contains(&(method.to_string(), template.to_string())) {
            problems.push(format!(
                "{method} {template} is in RULES but not in the OpenAPI document: remove it or document it"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // The document itself is served without a token and is not one of its own paths.
    out.push(Case {
        method: Method::GET,
        template: "/api/v1/openapi.json".into(),
        path: "/api/v1/openapi.json".into(),
        rule: Public,
        body: None,
    });
    // Running a step on the server is a separate grant on the same route: `"execute": true`.
    // Step 2, so that the plain start of step 1 above does not stand in its way.
    let template = "/api/v1/incidents/{id}/runbook-runs/{run}/steps/{step}/start";
    out.push(Case {
        method: Method::POST,
        template: format!("{template} (execute)"),
        path: concrete(template, f).replace("/steps/1/", "/steps/2/"),
        rule: Needs(Action::ExecuteOnServer),
        body: Some(json!({ "execute": true })),
    });
    out
}

async fn every_route_answers_every_credential_as_its_rule_says(db: Db) {
    let Some((app, _store)) = spawn_app_toml(db, CONFIG).await else { return };
    let f = setup(&app).await;
    let cases = cases(&app, &f).await;
    let mut failures = Vec::new();
    let (mut refusals, mut answered) = (0, 0);

    let before = snapshot(&app).await;
    for case in &cases {
        for cred in CREDS {
            let expect = expected(case.rule, cred, &case.path);
            if expect == Expect::Answered {
                continue;
            }
            let (path, auth, body) = request(case, cred, &f);
            let got = send(&app, &case.method, &path, auth, body.as_ref()).await;
            refusals += 1;
            if let Err(e) = judge(expect, cred, &got) {
                failures.push(format!("{} {} with {cred:?}: {e}", case.method, case.template));
            }
        }
    }
    let after = snapshot(&app).await;
    for (part, was) in &before {
        if after.get(part) != Some(was) {
            failures.push(format!("a refused request changed {part}:\nbefore {was}\nafter  {:?}", after.get(part)));
        }
    }
    for part in after.keys().filter(|p| !before.contains_key(*p)) {
        failures.push(format!("a refused request created {part}: {:?}", after.get(part)));
    }

    for case in &cases {
        for cred in CREDS {
            if expected(case.rule, cred, &case.path) != Expect::Answered {
                continue;
            }
            let (path, auth, body) = request(case, cred, &f);
            let got = send(&app, &case.method, &path, auth, body.as_ref()).await;
            answered += 1;
            if let Err(e) = judge(Expect::Answered, cred, &got) {
                failures.push(format!("{} {} with {cred:?}: {e}", case.method, case.template));
            }
        }
    }
    assert_eq!(refusals + answered, cases.len() * CREDS.len());
    eprintln!(
        "authz: {} routes x {} credentials = {} cases ({refusals} refusals, {answered} allowed)",
        cases.len(),
        CREDS.len(),
        refusals + answered
    );
    assert!(
        failures.is_empty(),
        "{} failures in {} cases:\n{}",
        failures.len(),
        refusals + answered,
        failures.join("\n")
    );
}

on_both_backends_with!(every_route_answers_every_credential_as_its_rule_says);
