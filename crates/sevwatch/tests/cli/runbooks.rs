//! Runbooks end to end: import with versions, linking the seeds' alerts to their sections, and
//! runs driven from the CLI (interactive and scripted), with confirmations, variable binding
//! that cannot inject shell code, outputs on the timeline, and interrupted steps after a crash.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{json, Value};

use crate::helpers::{stderr, stdout, Server, BIN};

const FIXTURE: &str = r#"# Cache Service Runbook

## Incident: CacheDown

**Alert:** `CacheDown`

### Diagnosis

```bash
# Show what we are working on
echo "service=$SERVICE agent=<agent-id>"
```

### Response

```bash
# Leave a marker
touch marker.txt
```

### Rollback

```bash
# Remove the marker
rm -f marker.txt
```
"#;

pub(crate) fn shared_seeds() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/seeds");
    if p.is_dir() {
        Some(p)
    } else {
        sevwatch_testkit::skip("seed runbook tests", "../shared/seeds not found beside the repository");
        None
    }
}

fn fixture(dir: &Path, text: &str) -> PathBuf {
    let f = dir.join("cache.md");
    std::fs::write(&f, text).unwrap();
    f
}

#[test]
fn seeds_import_with_versions_and_their_alerts_link_to_their_sections() {
    let Some(seeds) = shared_seeds() else { return };
    let dir = sevwatch_testkit::temp_dir();
    let s = Server::start(&dir.path().join("data"), None);
    let first = s.json(&["runbook", "import", seeds.to_str().unwrap()]);
    let imported = first["imported"].as_array().unwrap();
    assert!(imported.iter().filter(|v| v["created"] == true).count() >= 5);
    let again = s.json(&["runbook", "import", seeds.to_str().unwrap()]);
    assert!(
        again["imported"].as_array().unwrap().iter().all(|v| v["created"] == false && v["version"] == 1),
        "{again}"
    );
    for alert in ["TestPassRateLow", "HighErrorRate", "HighLatencyP95", "GenesisServiceDown"] {
        let inc = s.json(&["declare", "--severity", "P1", "--title", alert]);
        let shown = s.json(&["show", inc["id"].as_str().unwrap()]);
        let best = &shown["suggested_runbooks"][0];
        assert_eq!(best["runbook"], "002_10fec5055860d3f4", "{alert}: {shown}");
        assert!(best["section"].as_str().unwrap().contains(alert), "{alert} linked to {best}");
        assert!(!best["reason"].as_str().unwrap().is_empty());
    }
    let listed = s.json(&["runbook", "list"]);
    assert!(listed["runbooks"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["name"] == "002_10fec5055860d3f4" && r["steps"].as_u64() > Some(50)));
}

#[test]
fn parse_classify_and_lint_work_without_a_server() {
    let dir = sevwatch_testkit::temp_dir();
    let f = fixture(dir.path(), FIXTURE);
    let out = Command::new(BIN).args(["runbook", "parse", "--json"]).arg(&f).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let section = &v["sections"][0];
    assert_eq!(section["alerts"], json!(["CacheDown"]));
    let kinds: Vec<&str> = section["phases"].as_array().unwrap().iter().map(|p| p["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["diagnosis", "response", "rollback"]);
    assert_eq!(section["phases"][2]["steps"][0]["risk"]["class"], "destructive");
    let c = Command::new(BIN).args(["runbook", "classify", "sudo rm -rf /var/lib/app", "--json"]).output().unwrap();
    let v: Value = serde_json::from_slice(&c.stdout).unwrap();
    assert_eq!(v["class"], "destructive");
    assert!(v["reason"].as_str().unwrap().contains("rm"));
    let lint = Command::new(BIN).args(["runbook", "lint", "--json"]).arg(&f).output().unwrap();
    let v: Value = serde_json::from_slice(&lint.stdout).unwrap();
    assert!(v["findings"].is_array());
    assert_eq!(lint.status.success(), v["errors"] == 0);
}

#[test]
fn a_scripted_run_needs_explicit_confirmation_for_destructive_steps_and_records_everything() {
    let dir = sevwatch_testkit::temp_dir();
    let work = dir.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    let s = Server::start(&dir.path().join("data"), None);
    let f = fixture(dir.path(), FIXTURE);
    s.json(&["runbook", "import", f.to_str().unwrap(), "--name", "cache"]);
    let evil_service = format!("$(touch {}/pwned)", dir.path().display());
    let inc = s.json(&["declare", "--severity", "P2", "--title", "CacheDown", "--service", &evil_service]);
    let id = inc["id"].as_str().unwrap().to_string();
    let evil_agent = format!("; touch {}/pwned2 #", dir.path().display());
    let agent_var = format!("agent-id={evil_agent}");
    let base = [
        "runbook",
        "run",
        id.as_str(),
        "cache#Incident: CacheDown",
        "--yes",
        "--var",
        agent_var.as_str(),
        "--workdir",
        work.to_str().unwrap(),
    ];
    let stopped = s.sw(&base);
    assert_eq!(stopped.status.code(), Some(1), "{}", stdout(&stopped));
    assert!(stderr(&stopped).contains("--confirm-destructive"), "{}", stderr(&stopped));
    assert!(work.join("marker.txt").exists(), "the mutating step ran");
    let mut with_confirm = base.to_vec();
    with_confirm.extend(["--confirm-destructive", id.as_str()]);
    let done = s.sw(&with_confirm);
    assert!(done.status.success(), "{}\n{}", stdout(&done), stderr(&done));
    assert!(stdout(&done).contains("resuming run 1"), "{}", stdout(&done));
    assert!(!work.join("marker.txt").exists(), "the destructive step ran after confirmation");
    assert!(
        !dir.path().join("pwned").exists() && !dir.path().join("pwned2").exists(),
        "values were substituted unquoted"
    );
    let timeline = s.json(&["timeline", &id]);
    let events = timeline["events"].as_array().unwrap();
    let finished: Vec<&Value> = events.iter().filter(|e| e["type"] == "runbook_step_finished").collect();
    assert_eq!(finished.len(), 3);
    let out = finished[0]["data"]["output"].as_str().unwrap();
    assert!(out.contains(&format!("service={evil_service}")) && out.contains(&format!("agent={evil_agent}")), "{out}");
    let starts: Vec<&str> = events
        .iter()
        .filter(|e| e["type"] == "runbook_step_started")
        .map(|e| e["data"]["confirmation"].as_str().unwrap())
        .collect();
    assert_eq!(starts, ["none", "confirmed", "typed-incident-id"]);
    assert!(s.sw(&["verify"]).status.success());
    // A changed file becomes version 2; the run keeps the steps of the version it started with.
    fixture(dir.path(), &FIXTURE.replace("touch marker.txt", "touch marker.txt\nls -l marker.txt"));
    let v2 = s.json(&["runbook", "import", f.to_str().unwrap(), "--name", "cache"]);
    assert_eq!((v2["imported"][0]["version"].as_i64(), v2["imported"][0]["created"].as_bool()), (Some(2), Some(true)));
    let shown = s.json(&["runbook", "show", "cache", "--version", "1"]);
    assert_eq!(shown["versions"], json!([2, 1]));
    let run = &s.json(&["show", &id])["runbook_runs"][0];
    assert_eq!((run["version"].as_i64(), run["steps"].as_array().unwrap().len()), (Some(1), 3));
}

#[test]
fn an_interactive_run_asks_for_each_confirmation_and_stops_on_unbound_variables() {
    let dir = sevwatch_testkit::temp_dir();
    let work = dir.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    let s = Server::start(&dir.path().join("data"), None);
    let f = fixture(dir.path(), FIXTURE);
    s.json(&["runbook", "import", f.to_str().unwrap(), "--name", "cache"]);
    let id = s.json(&["declare", "--severity", "P2", "--title", "CacheDown", "--service", "cache"])["id"]
        .as_str()
        .unwrap()
        .to_string();
    // No value for <agent-id>: the first step cannot be bound.
    let unbound = s.sw(&["runbook", "run", &id, "cache#Incident: CacheDown", "--yes"]);
    assert_eq!(unbound.status.code(), Some(1));
    assert!(stderr(&unbound).contains("agent-id"), "{}", stderr(&unbound));
    // Enter runs the read-only step, "y" the mutating one, the typed id the destructive one.
    let mut child = Command::new(BIN)
        .args([
            "runbook",
            "run",
            &id,
            "cache#Incident: CacheDown",
            "--var",
            "agent-id=a-17",
            "--workdir",
            work.to_str().unwrap(),
        ])
        .env("SEVWATCH_URL", &s.url)
        .env("SEVWATCH_TOKEN", s.admin_token())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(format!("\nmaybe\ny\n{}\n", id.to_lowercase()).as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let text = stdout(&out);
    assert!(out.status.success(), "{text}\n{}", stderr(&out));
    assert!(
        text.contains("service=cache agent=a-17") && text.contains("(not understood)") && text.contains("finished"),
        "{text}"
    );
    let run = s.json(&["show", &id]);
    let states: Vec<&str> =
        run["runbook_runs"][0]["state"].as_array().unwrap().iter().map(|s| s["status"].as_str().unwrap()).collect();
    assert_eq!(states, ["succeeded", "succeeded", "succeeded"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_step_running_during_a_crash_is_interrupted_and_can_be_retried() {
    let dir = sevwatch_testkit::temp_dir();
    let data = dir.path().join("data");
    let mut s = tokio::task::block_in_place(|| Server::start(&data, None));
    let token = s.admin_token();
    let http = reqwest::Client::new();
    let post = |url: String, body: Value| {
        let (http, token) = (http.clone(), token.clone());
        async move {
            let r = http.post(url).bearer_auth(token).json(&body).send().await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    let f = fixture(dir.path(), FIXTURE);
    let (code, _) = post(
        format!("{}/api/v1/runbooks", s.url),
        json!({ "name": "cache", "content": std::fs::read_to_string(&f).unwrap() }),
    )
    .await;
    assert_eq!(code, 201);
    let (_, inc) = post(
        format!("{}/api/v1/incidents", s.url),
        json!({ "title": "CacheDown", "severity": "P2", "service": "cache" }),
    )
    .await;
    let runs = format!("{}/api/v1/incidents/{}/runbook-runs", s.url, inc["id"].as_str().unwrap());
    let (code, run) = post(
        runs.clone(),
        json!({ "runbook": "cache", "section": "incident: cachedown", "vars": { "agent-id": "x" } }),
    )
    .await;
    assert_eq!(code, 201, "{run}");
    let (code, p) = post(format!("{runs}/1/steps/2/start"), json!({})).await;
    assert_eq!((code, p["field"].as_str()), (422, Some("confirm")), "a mutating step needs confirmation: {p}");
    let (code, p) = post(format!("{runs}/1/steps/1/start"), json!({ "execute": true })).await;
    assert_eq!(code, 403, "server-side execution is off by default: {p}");
    let (code, started) = post(format!("{runs}/1/steps/1/start"), json!({})).await;
    assert_eq!(code, 200, "{started}");
    let bound = started["command"].as_str().unwrap();
    assert_eq!(
        bound, "sw_SERVICE='cache'\nsw_agent_id='x'\necho \"service=${sw_SERVICE} agent=${sw_agent_id}\"",
        "values are assigned first and referenced, never spliced"
    );
    s.kill_9();
    let s = tokio::task::block_in_place(|| Server::start(&data, None));
    let runs = runs.replace(&runs[..runs.find("/api").unwrap()], &s.url);
    let shown: Value = http.get(format!("{runs}/1")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    assert_eq!(shown["run"]["state"][0]["status"], "interrupted", "{shown}");
    let (code, _) = post(format!("{runs}/1/steps/1/start"), json!({})).await;
    assert_eq!(code, 200, "an interrupted step can be retried");
    let (code, done) =
        post(format!("{runs}/1/steps/1/result"), json!({ "exit_code": 0, "duration_ms": 5, "output": "ok\n" })).await;
    assert_eq!(code, 200, "{done}");
    assert_eq!(done["run"]["state"][0]["status"], "succeeded");
    assert_eq!(done["run"]["state"][0]["attempts"], 2);
    let (code, p) =
        post(format!("{runs}/1/steps/3/start"), json!({ "confirm": true, "confirm_destructive": "INC-99" })).await;
    assert_eq!((code, p["field"].as_str()), (422, Some("confirm_destructive")), "{p}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_runs_steps_itself_only_when_configured_to() {
    let dir = sevwatch_testkit::temp_dir();
    let work = dir.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    let cfg = dir.path().join("sevwatch.toml");
    std::fs::write(
        &cfg,
        format!("[runbooks]\nexecute_on_server = true\nworkdir = {:?}\ntimeout = \"5s\"\n", work.display().to_string()),
    )
    .unwrap();
    let s = tokio::task::block_in_place(|| Server::start_with(&dir.path().join("data"), None, Some(&cfg)));
    let token = s.admin_token();
    let http = reqwest::Client::new();
    let post = |path: String, body: Value| {
        let (http, token, url) = (http.clone(), token.clone(), s.url.clone());
        async move {
            let r = http.post(format!("{url}{path}")).bearer_auth(token).json(&body).send().await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    post("/api/v1/runbooks".into(), json!({ "name": "cache", "content": FIXTURE })).await;
    let (_, inc) =
        post("/api/v1/incidents".into(), json!({ "title": "CacheDown", "severity": "P2", "service": "cache" })).await;
    let runs = format!("/api/v1/incidents/{}/runbook-runs", inc["id"].as_str().unwrap());
    post(runs.clone(), json!({ "runbook": "cache", "section": "Incident: CacheDown", "vars": { "agent-id": "a1" } }))
        .await;
    let (code, step) = post(format!("{runs}/1/steps/1/start"), json!({ "execute": true })).await;
    assert_eq!(code, 200, "{step}");
    assert_eq!(step["result"]["exit_code"], 0);
    assert!(step["result"]["output"].as_str().unwrap().contains("service=cache agent=a1"), "{step}");
    let (code, step) = post(format!("{runs}/1/steps/2/start"), json!({ "execute": true, "confirm": true })).await;
    assert_eq!(code, 200, "{step}");
    assert!(work.join("marker.txt").exists(), "the step ran in the configured working directory");
    let shown = s.json(&["timeline", inc["id"].as_str().unwrap()]);
    assert_eq!(shown["events"].as_array().unwrap().iter().filter(|e| e["type"] == "runbook_step_finished").count(), 2);
}

/// The reported attack: an alert label sent with only an ingest token lands in `$(...)` inside
/// `"..."` of a read-only step. The value must come out as text, nothing else may run, and
/// the interactive header must show the bound script (with the value) before asking.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alert_label_in_a_nested_substitution_runs_nothing_and_is_shown_before_it_runs() {
    let dir = sevwatch_testkit::temp_dir();
    let work = dir.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    let s = tokio::task::block_in_place(|| Server::start(&dir.path().join("data"), None));
    let runbook = "# Web\n\n## Alert: WebDown\n\n**Alert:** `WebDown`\n\n### Diagnosis\n\n```bash\n\
                   echo \"pods: $(echo app=<service>)\"\n```\n";
    let f = dir.path().join("web.md");
    std::fs::write(&f, runbook).unwrap();
    s.json(&["runbook", "import", f.to_str().unwrap(), "--name", "web"]);
    let out = s.sw(&["token", "create", "--role", "ingest", "--name", "am"]);
    let ingest = stdout(&out).trim().to_string();
    let evil = "x\"$(touch pwned)\"`touch pwned2`'$(touch pwned3)'";
    let body = json!({ "version": "4", "status": "firing", "receiver": "sevwatch", "groupKey": "k",
        "alerts": [{ "status": "firing", "labels": { "alertname": "WebDown", "severity": "high", "service": evil },
        "annotations": { "summary": "web down" }, "startsAt": "2026-11-23T10:00:00Z" }] });
    let r: Value = reqwest::Client::new()
        .post(format!("{}/api/v1/ingest/alertmanager", s.url))
        .bearer_auth(&ingest)
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = r["opened"][0].as_str().expect("an incident opened").to_string();
    // Interactive: the header shows the assignment and the reference, then asks; "q" stops.
    let mut child = Command::new(BIN)
        .args(["runbook", "run", &id, "web#Alert: WebDown", "--workdir", work.to_str().unwrap()])
        .env("SEVWATCH_URL", &s.url)
        .env("SEVWATCH_TOKEN", s.admin_token())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"q\n").unwrap();
    let shown = tokio::task::block_in_place(|| child.wait_with_output()).unwrap();
    let text = stdout(&shown);
    let header = text.split("Enter to run").next().unwrap();
    assert!(
        header.contains(&format!("sw_service='{}'", evil.replace('\'', "'\\''")))
            && header.contains("echo \"pods: $(echo app=\"${sw_service}\")\""),
        "{text}"
    );
    // Scripted: the read-only step runs on --yes, and only echo ran.
    let done = s.sw(&["runbook", "run", &id, "web#Alert: WebDown", "--yes", "--workdir", work.to_str().unwrap()]);
    assert!(done.status.success(), "{}\n{}", stdout(&done), stderr(&done));
    for f in ["pwned", "pwned2", "pwned3"] {
        assert!(!work.join(f).exists(), "{f} was created: the value ran as code");
    }
    let timeline = s.json(&["timeline", &id]);
    let finished =
        timeline["events"].as_array().unwrap().iter().find(|e| e["type"] == "runbook_step_finished").unwrap();
    assert_eq!(finished["data"]["output"], format!("pods: app={evil}\n"));
}

/// Server-side execution is a grant of its own: a responder token cannot ask for it, a runbook
/// a responder imported never runs there, refusals record nothing, the step runs in a fresh
/// directory outside the data directory with a clean environment, and the timeline says who
/// asked. A workdir inside the data directory stops the server at start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_an_executor_runs_admin_imported_steps_on_the_server_and_never_in_the_data_dir() {
    let dir = sevwatch_testkit::temp_dir();
    let data = dir.path().join("data");
    let cfg = dir.path().join("sevwatch.toml");
    std::fs::write(&cfg, format!("[runbooks]\nexecute_on_server = true\nworkdir = {:?}\n", data.join("steps")))
        .unwrap();
    let refused = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--config", cfg.to_str().unwrap(), "--data-dir"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(stderr(&refused).contains("inside the data directory"), "{}", stderr(&refused));

    std::fs::write(&cfg, "[runbooks]\nexecute_on_server = true\ntimeout = \"5s\"\n").unwrap();
    let s = tokio::task::block_in_place(|| Server::start_with(&data, None, Some(&cfg)));
    let token = |role: &str| stdout(&s.sw(&["token", "create", "--role", role, "--name", role])).trim().to_string();
    let (responder, executor) = (token("responder"), token("executor"));
    let http = reqwest::Client::new();
    let post = |path: String, token: String, body: Value| {
        let (http, url) = (http.clone(), s.url.clone());
        async move {
            let r = http.post(format!("{url}{path}")).bearer_auth(token).json(&body).send().await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    let probe = "# Probe\n\n## Incident: Probe\n\n### Diagnosis\n\n```bash\npwd; env | cut -d= -f1\n```\n";
    let (code, _) =
        post("/api/v1/runbooks".into(), s.admin_token(), json!({ "name": "probe", "content": probe })).await;
    assert_eq!(code, 201);
    let (code, _) =
        post("/api/v1/runbooks".into(), responder.clone(), json!({ "name": "mine", "content": probe })).await;
    assert_eq!(code, 201, "a responder may import runbooks");
    let (_, inc) =
        post("/api/v1/incidents".into(), responder.clone(), json!({ "title": "Probe", "severity": "P3" })).await;
    let id = inc["id"].as_str().unwrap().to_string();
    let runs = format!("/api/v1/incidents/{id}/runbook-runs");
    for name in ["probe", "mine"] {
        let (code, r) =
            post(runs.clone(), responder.clone(), json!({ "runbook": name, "section": "Incident: Probe" })).await;
        assert_eq!(code, 201, "{r}");
    }
    let (code, p) = post(format!("{runs}/1/steps/1/start"), responder.clone(), json!({ "execute": true })).await;
    assert_eq!(code, 403, "a responder token cannot run steps on the server: {p}");
    assert!(p["detail"].as_str().unwrap().contains("executor"), "{p}");
    let (code, p) = post(format!("{runs}/2/steps/1/start"), executor.clone(), json!({ "execute": true })).await;
    assert_eq!(code, 403, "a runbook a responder imported never runs on the server: {p}");
    assert!(p["detail"].as_str().unwrap().contains("imported with an admin token"), "{p}");
    let (code, p) = post(format!("{runs}/2/steps/1/start"), s.admin_token(), json!({ "execute": true })).await;
    assert_eq!(code, 403, "not even for an admin: {p}");
    let timeline = s.json(&["timeline", &id]);
    let started = |t: &Value| -> Vec<Value> {
        t["events"].as_array().unwrap().iter().filter(|e| e["type"] == "runbook_step_started").cloned().collect()
    };
    assert!(started(&timeline).is_empty(), "refusals record nothing");

    let (code, step) = post(format!("{runs}/1/steps/1/start"), executor.clone(), json!({ "execute": true })).await;
    assert_eq!(code, 200, "{step}");
    let output = step["result"]["output"].as_str().unwrap();
    let pwd = std::path::PathBuf::from(output.lines().next().unwrap());
    assert!(!pwd.starts_with(&data) && !pwd.starts_with(data.canonicalize().unwrap()), "{output}");
    assert!(!pwd.exists(), "the fresh directory is removed after the step: {}", pwd.display());
    assert!(!output.contains("SEVWATCH_"), "the server's environment stays with the server: {output}");
    let timeline = s.json(&["timeline", &id]);
    let ev = &started(&timeline)[0];
    assert_eq!((ev["actor"].as_str(), ev["data"]["on_server"].as_bool()), (Some("executor"), Some(true)), "{ev}");
}

#[test]
fn runbook_names_that_are_not_one_plain_path_segment_are_refused_by_the_cli_and_the_server() {
    let dir = sevwatch_testkit::temp_dir();
    let s = Server::start(&dir.path().join("data"), None);
    let f = fixture(dir.path(), FIXTURE);
    for (name, why) in [("..", "`.` or `..`"), (".", "`.` or `..`"), ("-rf", "start with '-'"), ("a/b", "'/'")] {
        let out = s.sw(&["runbook", "import", f.to_str().unwrap(), &format!("--name={name}")]);
        assert_eq!(out.status.code(), Some(1), "{name}");
        let err = stderr(&out);
        assert!(err.contains("--name: runbook name") && err.contains(why), "{name}: {err}");
        assert!(!err.contains("HTTP"), "refused before anything was sent: {err}");
    }
    // A name taken from the file name is checked by the server, with the same rule.
    let dashed = dir.path().join("-cache.md");
    std::fs::write(&dashed, FIXTURE).unwrap();
    let out = s.sw(&["runbook", "import", dashed.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("must not start with '-'") && err.contains("HTTP 422"), "{err}");
    assert!(s.json(&["runbook", "list"])["runbooks"].as_array().unwrap().is_empty());
}

/// On the server a run's steps share one shell session too: a `cd` and a variable of one step
/// are there in the next, each result records the session's directory and exported names, and
/// the run's fresh directory goes when the run has nothing left to do.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_side_steps_of_one_run_share_a_session_in_a_fresh_directory() {
    let dir = sevwatch_testkit::temp_dir();
    let cfg = dir.path().join("sevwatch.toml");
    std::fs::write(&cfg, "[runbooks]\nexecute_on_server = true\ntimeout = \"5s\"\n").unwrap();
    let s = tokio::task::block_in_place(|| Server::start_with(&dir.path().join("data"), None, Some(&cfg)));
    let http = reqwest::Client::new();
    let post = |path: String, body: Value| {
        let (http, token, url) = (http.clone(), s.admin_token(), s.url.clone());
        async move {
            let r = http.post(format!("{url}{path}")).bearer_auth(token).json(&body).send().await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    let md = "# S\n\n## Incident: S\n\n### Response\n\n```bash\nmkdir -p sub && cd sub\nexport REGION=eu-1; COUNT=3\n\
              echo \"$PWD $REGION $COUNT\"\n```\n";
    let (code, _) = post("/api/v1/runbooks".into(), json!({ "name": "s", "content": md })).await;
    assert_eq!(code, 201);
    let (_, inc) = post("/api/v1/incidents".into(), json!({ "title": "S", "severity": "P3" })).await;
    let runs = format!("/api/v1/incidents/{}/runbook-runs", inc["id"].as_str().unwrap());
    post(runs.clone(), json!({ "runbook": "s", "section": "Incident: S" })).await;
    let mut results = Vec::new();
    for n in 1..=3 {
        let (code, step) = post(format!("{runs}/1/steps/{n}/start"), json!({ "execute": true, "confirm": true })).await;
        assert_eq!(code, 200, "{step}");
        results.push(step);
    }
    assert_eq!(results[2]["needs"], json!(["REGION", "COUNT"]), "the server names what the session must hold");
    let cwd = results[0]["result"]["cwd"].as_str().unwrap().to_string();
    assert!(cwd.ends_with("/sub"), "{cwd}");
    assert_eq!(results[1]["result"]["exported"], json!(["REGION"]));
    assert_eq!(results[2]["result"]["output"], format!("{cwd} eu-1 3\n"));
    let fresh = std::path::Path::new(&cwd).parent().unwrap().to_path_buf();
    assert!(!fresh.exists(), "the run's directory is removed once the run is done: {}", fresh.display());
    let shown: Value =
        http.get(format!("{}{runs}/1", s.url)).bearer_auth(s.admin_token()).send().await.unwrap().json().await.unwrap();
    assert_eq!(shown["results"][1]["exported"], json!(["REGION"]), "{shown}");
}
