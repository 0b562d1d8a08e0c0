//! Paging: the escalation ladder climbs until someone acknowledges, "escalate now" jumps a
//! step, a missed response target is recorded and escalates; schedules answer who is on call.

use reqwest::{Method, StatusCode};
use serde_json::json;
use sevwatch_core::Config;

use crate::helpers::{assert_problem, spawn_app_with, Db, TestApp};

const PEOPLE: &str = r#"
[[users]]
id = "alice"
name = "Alice"
contacts = [{ email = "alice@example.com" }]
[[users]]
id = "bob"
name = "Bob"
contacts = [{ email = "bob@example.com" }]
[[users]]
id = "carol"
name = "Carol"
contacts = [{ email = "carol@example.com" }]
"#;

pub(crate) fn config(policy_steps: &str, extra: &str) -> Config {
    let text = format!("{extra}\n{PEOPLE}\n[[escalation_policies]]\nid = \"p1\"\nname = \"High\"\n{policy_steps}");
    Config::from_toml_str(&text).unwrap_or_else(|p| panic!("{p:?}"))
}

pub(crate) fn step(delay: &str, target: &str) -> String {
    format!("[[escalation_policies.steps]]\ndelay = \"{delay}\"\ntargets = [\"{target}\"]\n")
}

async fn pages(app: &TestApp, id: &str) -> Vec<String> {
    let (_, t) = app.get(&format!("/api/v1/incidents/{id}/timeline")).await;
    t["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "paged")
        .map(|e| e["data"]["targets"][0].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn escalation_climbs_until_someone_acknowledges() {
    let steps = [step("0s", "user:alice"), step("1s", "user:bob"), step("3s", "user:carol")].concat();
    let app = spawn_app_with(Db::Sqlite, config(&steps, "")).await.unwrap();
    let id = app.declare("checkout down", "P1").await;
    assert_eq!(pages(&app, &id).await, ["user:alice"], "the first step pages at once");
    app.advance_ms(999);
    app.run_engine().await;
    assert_eq!(pages(&app, &id).await, ["user:alice"], "not before its delay");
    app.advance_ms(1);
    app.run_engine().await;
    assert_eq!(pages(&app, &id).await, ["user:alice", "user:bob"], "the second step pages after its delay");
    app.post(&format!("/api/v1/incidents/{id}/ack"), json!({})).await;
    // Past the third step's time: acknowledged, so nobody else is paged.
    app.advance_ms(60_000);
    app.run_engine().await;
    assert_eq!(pages(&app, &id).await, ["user:alice", "user:bob"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn escalate_now_pages_the_next_step_at_once_and_stops_after_acknowledgement() {
    let steps = [step("0s", "user:alice"), step("1h", "user:bob")].concat();
    let app = spawn_app_with(Db::Sqlite, config(&steps, "")).await.unwrap();
    let id = app.declare("queue stuck", "P1").await;
    let (s, v) =
        app.post(&format!("/api/v1/incidents/{id}/escalate"), json!({ "reason": "alice is on a plane" })).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let types: Vec<&str> = v["events"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["escalated_manually", "paged"], "{v}");
    assert_eq!(pages(&app, &id).await, ["user:alice", "user:bob"]);
    app.post(&format!("/api/v1/incidents/{id}/ack"), json!({})).await;
    assert_problem(&app.post(&format!("/api/v1/incidents/{id}/escalate"), json!({})).await, 409, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missed_response_target_is_recorded_and_escalates() {
    let steps = [step("0s", "user:alice"), step("1h", "user:bob")].concat();
    let app = spawn_app_with(Db::Sqlite, config(&steps, "[severity.P1]\nresponse_target = \"1s\"\n")).await.unwrap();
    let id = app.declare("logins failing", "P1").await;
    app.advance_ms(1000);
    app.run_engine().await;
    assert_eq!(pages(&app, &id).await, ["user:alice"], "a target is missed only once its deadline has passed");
    app.advance_ms(1);
    app.run_engine().await;
    assert_eq!(pages(&app, &id).await, ["user:alice", "user:bob"], "the breach pulls the next step forward");
    let (_, t) = app.get(&format!("/api/v1/incidents/{id}/timeline")).await;
    let breach = t["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["type"] == "sla_breached")
        .expect("the breach is on the timeline");
    assert_eq!(breach["data"]["target"], "response");
    let (_, inc) = app.get(&format!("/api/v1/incidents/{id}")).await;
    assert_eq!(inc["sla"]["response"]["breached"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schedules_say_who_is_on_call_and_export_a_calendar() {
    let app = spawn_app_with(Db::Sqlite, Config::default()).await.unwrap();
    let (s, v) = app.get("/api/v1/schedules/default/oncall?at=2026-11-25T12:00:00Z").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let layers: Vec<(&str, &str)> = v["oncall"]["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["layer"].as_str().unwrap(), l["user"].as_str().unwrap()))
        .collect();
    assert_eq!(layers, [("primary", "oncall-primary"), ("secondary", "oncall-secondary")]);
    assert_problem(&app.get("/api/v1/schedules/nope/oncall").await, 404, None);
    assert_problem(&app.get("/api/v1/schedules/default/oncall?at=tomorrow").await, 422, Some("at"));
    let r = app
        .http
        .get(format!("{}/api/v1/schedules/default/calendar.ics?weeks=2", app.base))
        .bearer_auth(&app.admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-type"], "text/calendar; charset=utf-8");
    let ics = r.text().await.unwrap();
    assert!(
        ics.starts_with("BEGIN:VCALENDAR\r\n")
            && ics.contains("BEGIN:VEVENT")
            && ics.trim_end().ends_with("END:VCALENDAR"),
        "{ics}"
    );
    let (_, p) = app.call(Method::GET, "/api/v1/escalation-policies", Some(&app.admin), None).await;
    let ids: Vec<&str> =
        p["policies"].as_array().unwrap().iter().map(|x| x["id"].as_str().unwrap()).collect::<Vec<_>>();
    assert!(ids.contains(&"p0") && ids.contains(&"p1"), "{p}");
}
