//! Real runs of the seed runbooks through the CLI and a real server, in a temporary directory
//! with stub tools first on PATH (`systemctl`, `git`, `sudo`, `sqlite3`, ... log their name,
//! working directory and arguments, and do nothing else), so the steps run as written while
//! nothing outside the test directory is touched. Where a seed names absolute paths
//! (`/home/genesis/genesis-rebuild`, `/var/lib/hal-o-swarm`), the test runs a copy of it with
//! those paths moved into its directory, and says so.
//!
//! What is checked: seed 004 "Create Backup" binds `$BACKUP_DIR` from the step before (one
//! shell session per run); seed 002's rollback runs its git commands inside the repository it
//! cd'd into; seed 003's corrupted-database branch runs exactly one of its two outcomes; seed
//! 002's HighErrorRate walks one scenario only.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use crate::helpers::{stderr, stdout, Server, BIN};
use crate::runbooks::shared_seeds;

/// A test directory with stub tools in `bin/` and their log in `stubs.log`.
struct Bench {
    _tmp: sevwatch_testkit::TempDir,
    root: PathBuf,
}

/// Every stub logs `tool<TAB>cwd<TAB>args`; some then act a little like the tool.
const STUBS: &[(&str, &str)] = &[
    ("systemctl", ""),
    ("journalctl", ""),
    ("git", ""),
    ("kubectl", ""),
    ("pg_dump", "echo '-- dump'"),
    ("sleep", ""),
    ("ping", "echo 'PING ok'"),
    ("nslookup", "echo 'Address: 192.0.2.1'"),
    ("curl", "echo '{\"status\":\"ok\"}'"),
    ("jq", "cat"),
    ("htop", ""),
    // sudo runs the command it is given (the stubs above, or real cp/mv inside the test dir).
    ("sudo", "exec \"$@\""),
    // `sqlite3 DB .recover` prints a dump; `sqlite3 OUT` writes stdin to OUT and exits with
    // $RECOVER_RC, which decides whether the recovery "worked".
    (
        "sqlite3",
        "for a; do [ \"$a\" = .recover ] && { echo 'CREATE TABLE t(x);'; exit 0; }; done\n\
         case \"$*\" in *PRAGMA*) echo ok; exit 0;; esac\n\
         cat > \"${@: -1}\"; exit \"${RECOVER_RC:-0}\"",
    ),
];

impl Bench {
    fn new() -> Bench {
        let tmp = sevwatch_testkit::temp_dir();
        let root = tmp.path().canonicalize().expect("the temp dir resolves");
        let bin = root.join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        for (tool, act) in STUBS {
            let script =
                format!("#!/bin/bash\nprintf '%s\\t%s\\t%s\\n' {tool} \"$PWD\" \"$*\" >> \"$STUB_LOG\"\n{act}\n");
            write_exec(&bin.join(tool), &script);
        }
        std::fs::create_dir_all(root.join("work")).unwrap();
        Bench { _tmp: tmp, root }
    }

    /// A copy of a seed with `from` (an absolute path it names) moved to `to`.
    fn seed_copy(&self, seeds: &Path, file: &str, from: &str, to: &Path) -> PathBuf {
        let text =
            String::from_utf8_lossy(&std::fs::read(seeds.join(file)).unwrap()).replace(from, to.to_str().unwrap());
        let copy = self.root.join(format!("{}.md", &file[..3]));
        std::fs::write(&copy, text).unwrap();
        copy
    }

    /// `sevwatch ARGS` with the stubs first on PATH, in the bench's work directory.
    fn sw(&self, s: &Server, args: &[&str], env: &[(&str, &str)]) -> Output {
        let path = format!("{}:{}", self.root.join("bin").display(), std::env::var("PATH").unwrap_or_default());
        let mut cmd = Command::new(BIN);
        cmd.args(args)
            .current_dir(self.root.join("work"))
            .env("SEVWATCH_URL", &s.url)
            .env("SEVWATCH_TOKEN", s.admin_token())
            .env("PATH", path)
            .env("STUB_LOG", self.root.join("stubs.log"));
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output().expect("the CLI runs")
    }

    /// The stub calls so far: (tool, cwd, args).
    fn calls(&self) -> Vec<(String, String, String)> {
        std::fs::read_to_string(self.root.join("stubs.log"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| {
                let mut p = l.splitn(3, '\t');
                Some((p.next()?.to_string(), p.next()?.to_string(), p.next()?.to_string()))
            })
            .collect()
    }
}

fn write_exec(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}

fn declare(s: &Server, title: &str) -> String {
    s.json(&["declare", "--severity", "P1", "--title", title])["id"].as_str().unwrap().to_string()
}

fn finished(s: &Server, id: &str) -> Vec<Value> {
    let t = s.json(&["timeline", id]);
    t["events"].as_array().unwrap().iter().filter(|e| e["type"] == "runbook_step_finished").cloned().collect()
}

fn ok(o: &Output) {
    assert!(o.status.success(), "exit {:?}\n{}\n{}", o.status.code(), stdout(o), stderr(o));
}

#[test]
fn seed_004_create_backup_binds_backup_dir_from_the_step_before() {
    let Some(seeds) = shared_seeds() else { return };
    let b = Bench::new();
    let relay = b.root.join("relay");
    for d in ["coordination", "agents/prompts", "scripts"] {
        std::fs::create_dir_all(relay.join(d)).unwrap();
    }
    std::fs::write(relay.join("coordination/state.json"), "{}").unwrap();
    let s = Server::start(&b.root.join("data"), None);
    let id = declare(&s, "state files corrupt");
    let target = format!("{}#Create Backup", seeds.join("004_00b8ee3263df4f5b.txt").display());
    let var = format!("COMMIT_RELAY_HOME={}", relay.display());
    let dry = b.sw(&s, &["runbook", "run", &id, &target, "--var", &var, "--dry-run"], &[]);
    ok(&dry);
    assert!(stdout(&dry).contains("imported 004_00b8ee3263df4f5b v1"), "{}", stdout(&dry));
    assert!(!stdout(&dry).contains("unbound"), "{}", stdout(&dry));
    // The same file again is the same version: nothing new is stored.
    let run = b.sw(&s, &["runbook", "run", &id, &target, "--var", &var, "--yes"], &[]);
    ok(&run);
    assert!(stdout(&run).contains("unchanged 004_00b8ee3263df4f5b v1"), "{}", stdout(&run));
    let backups: Vec<_> = std::fs::read_dir(relay.join("backups")).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(backups.len(), 1, "{backups:?}");
    let name = backups[0].to_str().unwrap();
    assert!(name.starts_with("cortex-backup-") && name.ends_with(".tar.gz"), "{name}");
    let results = finished(&s, &id);
    assert_eq!(results.len(), 5);
    assert!(results.iter().all(|r| r["data"]["exit_code"] == 0), "{results:?}");
    let echoed = results[4]["data"]["output"].as_str().unwrap();
    assert_eq!(echoed, format!("Backup created: {}/backups/{name}\n", relay.display()));
    assert_eq!(results[4]["data"]["cwd"], b.root.join("work").to_str().unwrap());
}

#[test]
fn seed_002_rollback_runs_its_git_commands_in_the_repository_it_changed_into() {
    let Some(seeds) = shared_seeds() else { return };
    let b = Bench::new();
    let repo = b.root.join("genesis-rebuild");
    std::fs::create_dir_all(repo.join("config/backup")).unwrap();
    std::fs::create_dir_all(repo.join("scripts")).unwrap();
    std::fs::write(repo.join("config/backup/app.yaml"), "a: 1\n").unwrap();
    write_exec(&repo.join("scripts/health_check.sh"), "#!/bin/bash\necho \"healthy in $PWD\"\n");
    // The seed's repository is /home/genesis/genesis-rebuild; this copy points it here.
    let copy = b.seed_copy(&seeds, "002_10fec5055860d3f4.txt", "/home/genesis/genesis-rebuild", &repo);
    let s = Server::start(&b.root.join("data"), None);
    let id = declare(&s, "bad deploy");
    let target = format!("{}#Rollback Procedure", copy.display());
    let run = b.sw(&s, &["runbook", "run", &id, &target, "--yes", "--confirm-destructive", &id], &[]);
    ok(&run);
    let git: Vec<(String, String)> =
        b.calls().into_iter().filter(|c| c.0 == "git").map(|(_, cwd, args)| (cwd, args)).collect();
    let here = repo.to_str().unwrap().to_string();
    assert_eq!(
        git,
        [
            (here.clone(), "fetch origin".to_string()),
            (here.clone(), "reset --hard origin/deployment-stable".to_string()),
            (here.clone(), "clean -fd".to_string()),
        ]
    );
    assert!(repo.join("config/app.yaml").exists(), "the configuration was restored in the repository");
    let results = finished(&s, &id);
    assert!(results.iter().any(|r| r["data"]["output"] == format!("healthy in {here}\n")), "{results:?}");
    assert!(results.iter().skip(7).all(|r| r["data"]["cwd"] == here.as_str()), "the session stayed in the repository");
}

#[test]
fn seed_003_corruption_runs_exactly_one_of_its_two_outcomes() {
    let Some(seeds) = shared_seeds() else { return };
    for (rc, taken, not_taken) in [
        ("0", "supervisor.db.recovered", "supervisor.db.backup"),
        ("1", "supervisor.db.backup", "supervisor.db.recovered"),
    ] {
        let b = Bench::new();
        let hal = b.root.join("hal");
        std::fs::create_dir_all(&hal).unwrap();
        std::fs::write(hal.join("supervisor.db"), "corrupt").unwrap();
        std::fs::write(hal.join("supervisor.db.backup"), "backup").unwrap();
        // The seed's database lives in /var/lib/hal-o-swarm; this copy keeps it here.
        let copy = b.seed_copy(&seeds, "003_1a425641372e7a85.txt", "/var/lib/hal-o-swarm", &hal);
        let s = Server::start(&b.root.join("data"), None);
        let id = declare(&s, "supervisor db corrupt");
        let target = format!("{}#Supervisor Database Corruption", copy.display());
        let run =
            b.sw(&s, &["runbook", "run", &id, &target, "--yes", "--confirm-destructive", &id], &[("RECOVER_RC", rc)]);
        ok(&run);
        let sudo: Vec<String> = b.calls().into_iter().filter(|c| c.0 == "sudo").map(|c| c.2).collect();
        let moved_or_copied: Vec<&String> = sudo
            .iter()
            .filter(|a| a.contains(taken) || a.contains(not_taken))
            .filter(|a| a.ends_with("supervisor.db"))
            .collect();
        assert_eq!(moved_or_copied.len(), 1, "exactly one outcome ran (recovery rc {rc}): {sudo:#?}");
        assert!(moved_or_copied[0].contains(taken), "recovery rc {rc}: {}", moved_or_copied[0]);
        let timeline = s.json(&["timeline", &id]);
        let skipped: Vec<&Value> =
            timeline["events"].as_array().unwrap().iter().filter(|e| e["type"] == "runbook_step_skipped").collect();
        assert_eq!(skipped.len(), 1, "{skipped:?}");
        assert!(skipped[0]["data"]["reason"].as_str().unwrap().starts_with("branch not taken"), "{skipped:?}");
        let content = std::fs::read_to_string(hal.join("supervisor.db")).unwrap();
        assert_eq!(content, if rc == "0" { "CREATE TABLE t(x);\n" } else { "backup" });
    }
}

#[test]
fn seed_002_high_error_rate_walks_one_scenario_and_refuses_to_guess_under_yes() {
    let Some(seeds) = shared_seeds() else { return };
    let b = Bench::new();
    let home = b.root.join("genesis-rebuild");
    std::fs::create_dir_all(home.join("logs")).unwrap();
    std::fs::write(home.join("logs/genesis.log"), "INFO up\nERROR routing failed\n").unwrap();
    let copy = b.seed_copy(&seeds, "002_10fec5055860d3f4.txt", "/home/genesis/genesis-rebuild", &home);
    let s = Server::start(&b.root.join("data"), None);
    let id = declare(&s, "errors up");
    let target = format!("{}#Incident: HighErrorRate", copy.display());
    let refused = b.sw(&s, &["runbook", "run", &id, &target, "--yes"], &[]);
    assert_eq!(refused.status.code(), Some(1), "{}", stdout(&refused));
    let err = stderr(&refused);
    assert!(
        err.contains("A (LLM API Errors") && err.contains("B (Network Errors)") && err.contains("--scenario"),
        "{err}"
    );
    let run = b.sw(&s, &["runbook", "run", &id, &target, "--yes", "--scenario", "B"], &[]);
    assert!(stdout(&run).contains("following scenario B"), "{}", stdout(&run));
    // The seed's verification step has an unquoted `rate(...)` in its URL: bash refuses it,
    // and the run stops there with bash's own words recorded.
    assert_eq!(run.status.code(), Some(1), "{}\n{}", stdout(&run), stderr(&run));
    let results = finished(&s, &id);
    assert_eq!(results.len(), 7, "{results:#?}");
    assert!(results[..6].iter().all(|r| r["data"]["exit_code"] == 0), "{results:#?}");
    let last = results[6]["data"]["output"].as_str().unwrap();
    assert!(last.contains("syntax error near unexpected token"), "{last}");
    let tools: Vec<String> = b.calls().into_iter().map(|c| c.0).collect();
    assert!(!tools.contains(&"systemctl".to_string()), "no other scenario's restart ran: {tools:?}");
    assert!(tools.contains(&"ping".to_string()) && tools.contains(&"nslookup".to_string()), "{tools:?}");
    let shown = s.json(&["show", &id]);
    let r = &shown["runbook_runs"][0];
    assert_eq!((r["scenario"].as_str(), r["steps"].as_array().unwrap().len()), (Some("B"), 7), "{r}");
}
