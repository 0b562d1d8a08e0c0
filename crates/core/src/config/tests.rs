//! Unit tests of `config`, kept apart so the rules read on their own.

use super::*;
use crate::{Duration, Phase, Severity};

#[test]
fn an_empty_file_gives_the_defaults() {
    assert_eq!(Config::from_toml_str("").unwrap(), Config::default());
}

#[test]
fn the_printed_default_file_parses_back_to_the_defaults() {
    let cfg = Config::from_toml_str(&default_toml()).unwrap_or_else(|p| panic!("{p:?}"));
    assert_eq!(cfg.policy, Policy::default());
}

#[test]
fn overrides_apply_per_key() {
    let cfg = Config::from_toml_str(
        "[severity.P1]\nresponse_target = \"10m\"\n[severity.aliases]\nurgent = \"P0\"\n[roles]\ncustom = [\"security-lead\"]\n\
         [checklists]\nresolution = [{ id = \"rolled-back\", text = \"Rolled back\" }]\n",
    )
    .unwrap();
    assert_eq!(cfg.policy.level(Severity::P1).response_target.to_string(), "10m");
    assert_eq!(cfg.policy.level(Severity::P1).resolution_target.to_string(), "4h");
    assert_eq!(cfg.policy.resolve_severity("URGENT"), Ok(Severity::P0));
    assert_eq!(cfg.policy.custom_roles, ["security-lead"]);
    let res: Vec<String> =
        cfg.policy.checklist.iter().filter(|c| c.phase == Phase::Resolution).map(|c| c.key()).collect();
    assert_eq!(res, ["resolution.rolled-back"]);
}

#[test]
fn every_problem_is_reported_with_its_key_path() {
    let problems = Config::from_toml_str(
        "[server]\nlisten = \"nowhere\"\nport = 8\n\
         [severity.P0]\nresponse_target = \"5 minutes\"\nupdate_every = 15\n\
         [severity.P9]\n\
         [severity.aliases]\nsev0 = \"P7\"\n\
         [checklists]\nresolution = [{ id = \"Bad Id\", text = \"x\" }, { text = \"no id\" }]\n",
    )
    .unwrap_err();
    let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
    for expected in [
        "server.listen",
        "server.port",
        "severity.P0.response_target",
        "severity.P0.update_every",
        "severity.P9",
        "severity.aliases.sev0",
        "checklists.resolution[0].id",
        "checklists.resolution[1].id",
    ] {
        assert!(paths.contains(&expected), "missing {expected} in {paths:?}");
    }
}

#[test]
fn syntax_errors_name_the_line() {
    let p = Config::from_toml_str("[server]\nlisten = \n").unwrap_err();
    assert_eq!(p.len(), 1);
    assert!(p[0].path.starts_with("line "), "{:?}", p[0]);
}

#[test]
fn connection_limits_parse_and_bad_ones_are_reported_at_their_key_path() {
    let cfg = Config::from_toml_str(
        "[server]\nheader_timeout = \"250ms\"\nbody_timeout = \"2s\"\nidle_timeout = \"5m\"\nmax_connections = 16\n",
    )
    .unwrap();
    assert_eq!(cfg.server.header_timeout, Duration::from_millis(250));
    assert_eq!(cfg.server.body_timeout, Duration::from_secs(2));
    assert_eq!(cfg.server.idle_timeout, Duration::from_mins(5));
    assert_eq!(cfg.server.max_connections, 16);
    let problems = Config::from_toml_str(
        "[server]\nheader_timeout = \"0s\"\nbody_timeout = 30\nidle_timeout = \"2h\"\nmax_connections = 0\n",
    )
    .unwrap_err();
    let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
    assert_eq!(
        paths,
        ["server.header_timeout", "server.body_timeout", "server.idle_timeout", "server.max_connections"]
    );
    let p = Config::from_toml_str("[server]\nmax_connections = \"many\"\n").unwrap_err();
    assert_eq!(p[0].to_string(), "server.max_connections: expected an integer, found string");
}

#[test]
fn the_printed_server_section_uncommented_gives_the_default_limits() {
    let text = default_toml();
    let server: String = text
        .split("\n\n")
        .find(|block| block.contains("[server]"))
        .expect("the default file has a [server] block")
        .lines()
        .map(|l| l.strip_prefix("# ").filter(|l| l.contains(" = ")).unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n");
    let cfg = Config::from_toml_str(&server).unwrap_or_else(|p| panic!("{p:?}\n{server}"));
    let (got, want) = (&cfg.server, ServerConfig::default());
    assert_eq!(
        (got.max_body_bytes, got.header_timeout, got.body_timeout, got.idle_timeout, got.max_connections),
        (want.max_body_bytes, want.header_timeout, want.body_timeout, want.idle_timeout, want.max_connections)
    );
    assert_eq!(got.max_bodies_in_flight, want.max_bodies_in_flight);
    let p = Config::from_toml_str("[server]\nmax_bodies_in_flight = 0\n").unwrap_err();
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(p[0].to_string().starts_with("server.max_bodies_in_flight: must be between 1 and 65536"), "{p:?}");
}

#[test]
fn debug_output_hides_the_database_password() {
    let cfg = Config::from_toml_str("[server]\ndatabase_url = \"postgres://u:secret@db/x\"\n").unwrap();
    assert!(!format!("{cfg:?}").contains("secret"));
}
