//! Importing runbooks: the parse reads severities through the policy in force, so a word a
//! team configured as an alias means the same level in a runbook heading as in `declare`.

use reqwest::StatusCode;
use serde_json::json;
use sevwatch_core::Config;

use crate::helpers::{spawn_app_with, Db};

#[tokio::test]
async fn an_imported_runbook_reads_severities_through_the_configured_aliases() {
    let config = Config::from_toml_str("[severity.aliases]\nurgent = \"P1\"\n").unwrap_or_else(|p| panic!("{p:?}"));
    let Some(app) = spawn_app_with(Db::Sqlite, config).await else { return };
    let content = "# Queues\n\n## Orders queue backlog (urgent)\n\n```sh\nkubectl get pods -n orders\n```\n\n\
                   ## Cache warm-up\n\n**Severity:** warning\n\n```sh\nredis-cli INFO\n```\n";
    let (s, v) = app.post("/api/v1/runbooks", json!({ "name": "queues", "content": content })).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (_, v) = app.get("/api/v1/runbooks/queues").await;
    let severities: Vec<&str> = v["runbook"]["sections"]
        .as_array()
        .expect("sections")
        .iter()
        .map(|s| s["severity"].as_str().unwrap_or("none"))
        .collect();
    assert_eq!(severities, ["P1", "P2"], "{v}");
}
