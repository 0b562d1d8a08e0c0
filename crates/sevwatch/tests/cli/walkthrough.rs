//! The README's walkthrough, command by command, plus config validation and failure modes.

use std::process::Command;

use crate::helpers::{stderr, stdout, Server, BIN};

#[test]
fn the_walkthrough_works_from_the_command_line() {
    let dir = sevwatch_testkit::temp_dir();
    let s = Server::start(&dir.path().join("data"), None);
    let v = s.json(&[
        "declare",
        "--severity",
        "P1",
        "--title",
        "API latency 10x",
        "--service",
        "api",
        "--summary",
        "p99 at 2s",
    ]);
    assert_eq!(
        (v["id"].as_str(), v["severity"].as_str(), v["status"].as_str()),
        (Some("INC-1"), Some("P1"), Some("triggered"))
    );
    for args in [
        vec!["ack", "INC-1"],
        vec!["assign", "INC-1", "--role", "commander", "--to", "alice"],
        vec!["status", "INC-1", "identified", "--note", "bad deploy of 3.4.1"],
        vec!["severity", "INC-1", "P0", "--reason", "data loss confirmed"],
        vec!["note", "INC-1", "rolled back to 3.4.0"],
        vec!["check", "INC-1", "resolution.root-cause-identified"],
    ] {
        let out = s.sw(&args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        assert!(stdout(&out).starts_with("INC-1 "), "{args:?}: {}", stdout(&out));
    }
    let refused = s.sw(&["resolve", "INC-1", "--root-cause", "bad deploy"]);
    assert!(!refused.status.success());
    assert!(stderr(&refused).contains("resolution.fix-verified"), "{}", stderr(&refused));
    assert_eq!(s.json(&["resolve", "INC-1", "--root-cause", "bad deploy", "--force"])["status"], "resolved");
    assert_eq!(s.json(&["close", "INC-1"])["status"], "closed");
    assert_eq!(s.json(&["reopen", "INC-1", "--reason", "alerts again"])["status"], "investigating");
    let shown = stdout(&s.sw(&["show", "INC-1"]));
    for needle in [
        "INC-1 P0 investigating",
        "commander=alice",
        "[x] resolution.root-cause-identified",
        "response",
        "rolled back to 3.4.0",
    ] {
        assert!(shown.contains(needle), "show lacks {needle:?}:\n{shown}");
    }
    let list = s.json(&["list", "--status", "open", "--severity", "P0,P1"]);
    assert_eq!(list["incidents"][0]["id"], "INC-1");
    let timeline = s.json(&["timeline", "INC-1"]);
    let types: Vec<&str> = timeline["events"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types.len(), 11, "{types:?}");
    assert_eq!(types[1], "paged", "declaring a P1 pages the primary on-call at once");
    let oncall = stdout(&s.sw(&["oncall"]));
    assert!(oncall.contains("default") && oncall.contains("primary") && oncall.contains("oncall-primary"), "{oncall}");
    let ics = stdout(&s.sw(&["oncall", "default", "--ics", "--weeks", "1"]));
    assert!(ics.starts_with("BEGIN:VCALENDAR"), "{ics}");
    let p0 = s.json(&["declare", "--severity", "P0", "--title", "everything is down"]);
    let escalated = s.json(&["escalate", p0["id"].as_str().unwrap(), "--reason", "nobody answered"]);
    assert_eq!(escalated["events"][0]["type"], "escalated_manually", "{escalated}");
    let verify = s.sw(&["verify"]);
    assert!(verify.status.success() && stdout(&verify).starts_with("ok:"), "{}", stdout(&verify));
}

#[test]
fn token_create_prints_the_token_alone() {
    let dir = sevwatch_testkit::temp_dir();
    let s = Server::start(&dir.path().join("data"), None);
    let out = s.sw(&["token", "create", "--role", "responder", "--name", "ci"]);
    let token = stdout(&out);
    assert!(out.status.success());
    assert_eq!(token.trim().lines().count(), 1);
    assert!(token.trim().starts_with("sw_"));
    let as_json = s.json(&["token", "create", "--role", "viewer", "--name", "dash"]);
    assert!(as_json["token"].as_str().unwrap().starts_with("sw_"));
    // The new token works, and is limited to its role.
    let viewer = Command::new(BIN)
        .args(["list"])
        .env("SEVWATCH_URL", &s.url)
        .env("SEVWATCH_TOKEN", as_json["token"].as_str().unwrap())
        .output()
        .unwrap();
    assert!(viewer.status.success(), "{}", stderr(&viewer));
    let denied = Command::new(BIN)
        .args(["declare", "--severity", "P2", "--title", "x"])
        .env("SEVWATCH_URL", &s.url)
        .env("SEVWATCH_TOKEN", as_json["token"].as_str().unwrap())
        .output()
        .unwrap();
    assert!(!denied.status.success());
    assert!(stderr(&denied).contains("403"), "{}", stderr(&denied));
}

#[test]
fn the_cli_finds_the_admin_token_in_the_default_data_directory() {
    let dir = sevwatch_testkit::temp_dir();
    let s = Server::start(&dir.path().join("sevwatch-data"), None);
    let out = Command::new(BIN)
        .args(["declare", "--severity", "critical", "--title", "db down", "--json"])
        .current_dir(dir.path())
        .env("SEVWATCH_URL", &s.url)
        .env_remove("SEVWATCH_TOKEN")
        .env_remove("SEVWATCH_DATA_DIR")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["severity"], "P0");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // The admin token, and the key that signs messages to users' webhooks (generated
        // because none is configured), are the owner's alone.
        for file in ["admin.token", "contact-webhook.key"] {
            let mode = std::fs::metadata(dir.path().join("sevwatch-data").join(file)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{file}");
        }
        let key = std::fs::read_to_string(dir.path().join("sevwatch-data/contact-webhook.key")).unwrap();
        assert_eq!(key.trim().len(), 64, "32 random bytes, hex");
    }
}

#[test]
fn failures_exit_non_zero_with_a_message_on_stderr() {
    let dir = sevwatch_testkit::temp_dir();
    let s = Server::start(&dir.path().join("data"), None);
    let missing = s.sw(&["ack", "INC-77"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(stderr(&missing).contains("no incident INC-77"), "{}", stderr(&missing));
    assert!(stdout(&missing).is_empty());
    let bad = s.sw(&["declare", "--severity", "P9", "--title", "x"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(stderr(&bad).contains("field: severity"), "{}", stderr(&bad));
    let json_err = s.sw(&["ack", "INC-77", "--json"]);
    let e: serde_json::Value = serde_json::from_slice(&json_err.stderr).expect("errors are JSON with --json");
    assert!(e["error"].as_str().unwrap().contains("INC-77"));
    let unreachable = Command::new(BIN)
        .args(["list"])
        .env("SEVWATCH_URL", "http://127.0.0.1:9")
        .env("SEVWATCH_TOKEN", "sw_x")
        .output()
        .unwrap();
    assert_eq!(unreachable.status.code(), Some(1));
    assert!(stderr(&unreachable).contains("cannot reach"), "{}", stderr(&unreachable));
    let usage = Command::new(BIN).args(["declare"]).output().unwrap();
    assert_eq!(usage.status.code(), Some(2));
}

#[test]
fn config_validate_reports_every_problem_with_its_key_path() {
    let dir = sevwatch_testkit::temp_dir();
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[severity.P1]\nresponse_target = \"soon\"\nresolution_target = \"4h\"\n[severity.P2]\nupdate_every = 5\n[alerting]\nx = 1\n").unwrap();
    let out = Command::new(BIN).args(["config", "validate"]).arg(&bad).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    for path in ["severity.P1.response_target", "severity.P2.update_every", "alerting"] {
        assert!(err.contains(path), "{path} not reported:\n{err}");
    }
    let defaults = Command::new(BIN).args(["config", "default"]).output().unwrap();
    let good = dir.path().join("good.toml");
    std::fs::write(&good, &defaults.stdout).unwrap();
    let ok = Command::new(BIN).args(["config", "validate", "--json"]).arg(&good).output().unwrap();
    assert!(ok.status.success(), "{}", stderr(&ok));
    let v: serde_json::Value = serde_json::from_slice(&ok.stdout).unwrap();
    assert_eq!(v["ok"], true);
    // serve refuses to start on an invalid file, naming the problem.
    let serve = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(&bad)
        .arg("--data-dir")
        .arg(dir.path().join("d"))
        .output()
        .unwrap();
    assert!(!serve.status.success());
    assert!(stderr(&serve).contains("severity.P1.response_target"), "{}", stderr(&serve));
}

#[test]
fn verify_fails_loudly_when_the_timeline_was_tampered_with() {
    let dir = sevwatch_testkit::temp_dir();
    let data = dir.path().join("data");
    let s = Server::start(&data, None);
    s.json(&["declare", "--severity", "P2", "--title", "x"]);
    s.json(&["note", "INC-1", "the truth"]);
    s.json(&["note", "INC-1", "more truth"]);
    let db = data.join("sevwatch.db");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        use sqlx::Connection;
        let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.display())).await.unwrap();
        sqlx::raw_sql("DROP TRIGGER events_no_update; UPDATE events SET data = '{\"type\":\"note_added\",\"text\":\"a lie\"}' WHERE seq = 2;")
            .execute(&mut c)
            .await
            .unwrap();
    });
    let out = s.sw(&["verify"]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(text.contains("TAMPERING DETECTED") && text.contains("INC-1 event 2") && text.contains("edited"), "{text}");
    let one = s.sw(&["verify", "INC-1", "--json"]);
    assert_eq!(one.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&one.stdout).unwrap();
    assert_eq!(v["problems"][0]["seq"], 2);
}

#[test]
fn every_toml_example_in_the_readme_is_a_valid_configuration() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).unwrap();
    let dir = sevwatch_testkit::temp_dir();
    let blocks: Vec<&str> = readme.split("```toml\n").skip(1).map(|rest| rest.split("```").next().unwrap()).collect();
    assert!(!blocks.is_empty(), "the README has TOML examples");
    for (i, block) in blocks.iter().enumerate() {
        let f = dir.path().join(format!("example{i}.toml"));
        std::fs::write(&f, block).unwrap();
        let out = Command::new(BIN).args(["config", "validate"]).arg(&f).output().unwrap();
        assert!(out.status.success(), "README example {i} is invalid: {}\n{block}", stderr(&out));
    }
}

#[test]
fn comms_preview_renders_a_template_and_names_the_missing_field_of_a_broken_override() {
    let dir = sevwatch_testkit::temp_dir();
    let templates = dir.path().join("templates");
    std::fs::create_dir_all(&templates).unwrap();
    std::fs::write(
        templates.join("customer-progress.j2"),
        "Subject: Update on {{ title }}\n\nLine two mentions {{ no_such_field }}.\n",
    )
    .unwrap();
    let cfg = dir.path().join("sevwatch.toml");
    std::fs::write(&cfg, format!("templates_dir = {:?}\n", templates.display().to_string())).unwrap();
    let s = Server::start_with(&dir.path().join("data"), None, Some(&cfg));
    s.json(&["declare", "--severity", "P1", "--title", "Checkout errors", "--service", "shop"]);
    let out =
        s.sw(&["comms", "preview", "INC-1", "--template", "status-update", "--set", "update=Rolled back to 3.4.0"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("INC-1") && text.contains("Rolled back to 3.4.0"), "{text}");
    let broken = s.sw(&["comms", "preview", "INC-1", "--template", "customer-progress"]);
    assert_eq!(broken.status.code(), Some(1));
    let err = stderr(&broken);
    assert!(err.contains("customer-progress") && err.contains("no_such_field") && err.contains('3'), "{err}");
    let unknown = s.sw(&["comms", "preview", "INC-1", "--template", "haiku"]);
    assert!(stderr(&unknown).contains("status-update"), "lists the templates: {}", stderr(&unknown));
}
