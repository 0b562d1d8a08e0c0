//! Pins what the five seed runbooks parse into: per seed the incident types, their
//! severities and alerts, the steps per phase, and the risk class of every seed command
//! (reviewed by hand once; `R` read-only, `M` mutating, `D` destructive, `U` unknown).

mod common;

use sevwatch_runbook::{classify, parse, PhaseKind, RiskClass, Runbook, Severity};

const R: RiskClass = RiskClass::ReadOnly;
const M: RiskClass = RiskClass::Mutating;
const D: RiskClass = RiskClass::Destructive;
const U: RiskClass = RiskClass::Unknown;

fn seed(name: &str) -> Option<Runbook> {
    let text = common::read_shared(&format!("seeds/{name}"))?;
    Some(parse(&text))
}

/// (title, severity, alerts, [(phase kind, steps)]) of each incident type, in order.
type Expected<'a> = (&'a str, Option<Severity>, &'a [&'a str], &'a [(PhaseKind, usize)]);

fn check(rb: &Runbook, expected: &[Expected]) {
    let incidents: Vec<_> = rb.sections.iter().filter(|s| s.incident).collect();
    let got: Vec<&str> = incidents.iter().map(|s| s.title.as_str()).collect();
    let want: Vec<&str> = expected.iter().map(|e| e.0).collect();
    assert_eq!(got, want);
    for (s, (title, sev, alerts, phases)) in incidents.iter().zip(expected) {
        assert_eq!(s.severity, *sev, "{title}");
        assert_eq!(s.alerts, alerts.to_vec(), "{title}");
        let got: Vec<(PhaseKind, usize)> = s.phases.iter().map(|p| (p.kind, p.steps.len())).collect();
        assert_eq!(got, phases.to_vec(), "{title}");
    }
}

use PhaseKind::{Diagnosis as Dg, Mitigation as Mi, Prevention as Pv, Response as Rs, Verification as Vf};

#[test]
fn seed_000_has_six_severity_prefixed_incident_types() {
    let Some(rb) = seed("000_bba7b5548cc726b2.txt") else {
        return;
    };
    check(
        &rb,
        &[
            ("P0 - Service Down", Some(Severity::P0), &[], &[(Rs, 5), (Rs, 5)]),
            ("P0 - Data Corruption", Some(Severity::P0), &[], &[(Rs, 6)]),
            ("P1 - Ollama Connection Lost", Some(Severity::P1), &[], &[(Rs, 7)]),
            ("P1 - High Memory Usage", Some(Severity::P1), &[], &[(Rs, 5)]),
            ("P1 - WebSocket Connection Issues", Some(Severity::P1), &[], &[(Rs, 6)]),
            ("P2 - Slow Response Times", Some(Severity::P2), &[], &[(Rs, 6)]),
        ],
    );
    assert_eq!(rb.sections.len(), 6, "the workflow diagram and templates yield no steps");
}

#[test]
fn seed_001_is_policy_with_procedures_but_no_incident_types() {
    let Some(rb) = seed("001_439ab145497baef2.txt") else {
        return;
    };
    check(&rb, &[]);
    assert_eq!(rb.metadata.get("owner").map(String::as_str), Some("SRE Team"));
    let steps: Vec<(&str, usize)> = rb.sections.iter().map(|s| (s.title.as_str(), s.steps().count())).collect();
    assert_eq!(steps, vec![("Incident Resolution", 8), ("Useful Commands", 5)]);
}

#[test]
fn seed_002_keys_incidents_by_alert_name() {
    let Some(rb) = seed("002_10fec5055860d3f4.txt") else {
        return;
    };
    check(
        &rb,
        &[
            (
                "Incident: TestPassRateLow",
                Some(Severity::P1),
                &["TestPassRateLow"],
                // 5, not 6: `@pytest.mark.xfail(...)` in a bash fence is Python, not a step.
                &[(Dg, 7), (Rs, 8), (Mi, 5), (Vf, 2)],
            ),
            ("Incident: HighErrorRate", Some(Severity::P1), &["HighErrorRate"], &[(Dg, 2), (Rs, 16), (Mi, 2), (Vf, 1)]),
            (
                "Incident: HighLatencyP95",
                Some(Severity::P1),
                &["HighLatencyP95"],
                &[(Dg, 6), (Rs, 10), (Mi, 0), (Vf, 1)],
            ),
            (
                "Incident: GenesisServiceDown",
                Some(Severity::P0),
                &["GenesisServiceDown"],
                &[(Dg, 2), (Rs, 13), (Mi, 0), (Vf, 2)],
            ),
        ],
    );
    let first = &rb.sections[0];
    assert_eq!(first.trigger.as_deref(), Some("Pass rate <98% for 5 minutes"));
    let mitigation = &first.phases[2];
    let windows: Vec<Option<&str>> = mitigation.options.iter().map(|o| o.window.as_deref()).collect();
    assert_eq!(windows, vec![Some("0-5 min"), Some("5-15 min"), Some("15-30 min"), Some("if unresolved after 30 min")]);
    let scenarios: Vec<_> = first.phases[1].steps.iter().filter_map(|s| s.scenario.as_deref()).collect();
    assert_eq!(scenarios[0], "A", "{scenarios:?}");
    let rollback = rb.sections.iter().find(|s| s.title == "Rollback Procedure").expect("rollback section");
    assert_eq!(
        rollback.phases.iter().map(|p| (p.kind, p.steps.len())).collect::<Vec<_>>(),
        vec![(PhaseKind::Rollback, 0), (PhaseKind::Rollback, 22)]
    );
}

#[test]
fn seed_003_groups_ten_component_incidents() {
    let Some(rb) = seed("003_1a425641372e7a85.txt") else {
        return;
    };
    let p = |d, r| -> [(PhaseKind, usize); 3] { [(Dg, d), (Rs, r), (Pv, 0)] };
    let phases = [p(4, 6), p(5, 5), p(3, 7), p(8, 7), p(4, 6), p(4, 6), p(8, 7), p(6, 5), p(3, 4), p(4, 4)];
    let titles = [
        "Supervisor Process Crashed",
        "Supervisor High Memory Usage",
        "Supervisor Database Corruption",
        "Agent Can't Connect to Supervisor",
        "Agent High Memory Usage",
        "Agent Process Crashed",
        "Supervisor Unreachable from Agents",
        "High Latency / Slow Responses",
        "Lost Session Data",
        "Cost Data Discrepancy",
    ];
    let expected: Vec<Expected> = titles.iter().zip(&phases).map(|(t, p)| (*t, None, &[][..], &p[..])).collect();
    check(&rb, &expected);
    assert_eq!(rb.sections[0].group.as_deref(), Some("Supervisor Incidents"));
    assert_eq!(rb.sections[0].symptoms.len(), 3);
}

#[test]
fn seed_004_has_three_recovery_incidents() {
    let Some(rb) = seed("004_00b8ee3263df4f5b.txt") else {
        return;
    };
    check(
        &rb,
        &[
            ("P1: Complete System Failure", Some(Severity::P1), &[], &[(Rs, 15)]),
            ("P2: Configuration Disaster", Some(Severity::P2), &[], &[(Rs, 9)]),
            ("Data Corruption Recovery", None, &[], &[(Rs, 7)]),
        ],
    );
    let first = rb.sections[0].steps().next().expect("a step");
    assert_eq!(first.title.as_deref(), Some("Kill all processes"));
    assert_eq!(first.line, 38);
}

#[test]
fn seed_alerts_link_to_their_sections() {
    let Some(rb) = seed("002_10fec5055860d3f4.txt") else {
        return;
    };
    let books = vec![("genesis".to_string(), rb)];
    for alert in ["TestPassRateLow", "HighErrorRate", "HighLatencyP95", "GenesisServiceDown"] {
        let s = sevwatch_runbook::link(&books, Some(alert), None, None, "firing");
        assert_eq!(s[0].section, format!("Incident: {alert}"), "{alert}");
        assert!(s[0].score >= 100.0);
    }
}

#[test]
fn every_seed_command_is_pinned_in_the_risk_table() {
    let mut seen = std::collections::BTreeSet::new();
    for name in [
        "000_bba7b5548cc726b2.txt",
        "001_439ab145497baef2.txt",
        "002_10fec5055860d3f4.txt",
        "003_1a425641372e7a85.txt",
        "004_00b8ee3263df4f5b.txt",
    ] {
        let Some(rb) = seed(name) else { return };
        for s in &rb.sections {
            for st in s.steps() {
                seen.insert(st.command.clone());
            }
        }
    }
    let pinned: std::collections::BTreeSet<String> = TABLE.iter().map(|(c, _)| c.to_string()).collect();
    assert_eq!(seen, pinned, "seed commands and the pinned table differ");
}

#[test]
fn every_seed_command_has_its_reviewed_risk_class() {
    let mut wrong = Vec::new();
    for (command, class) in TABLE {
        let got = classify(command);
        if got.class != *class {
            wrong.push(format!("{command:?}: want {class:?}, got {:?} ({})", got.class, got.reason));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[rustfmt::skip]
const TABLE: &[(&str, RiskClass)] = &[
    ("pgrep -f cell0d || echo \"PROCESS DOWN\"", R),
    ("python scripts/cell0-doctor.py --quick", R),
    ("tail -n 50 logs/error.log", R),
    ("./stop.sh && sleep 2 && ./start.sh", M),
    ("curl -s http://localhost:18800/api/health", R),
    ("python service/cell0d.py --minimal", U),
    ("lsof -i :18800", R),
    ("rm -f data/*.lock", D),
    ("rm -rf data/temp/*", D),
    ("python scripts/restore.py backups/latest.tar.gz --configs-only", M),
    ("./stop.sh", M),
    ("cp -r data data.corrupted.$(date +%s)", M),
    ("ls -t backups/*.tar.gz | head -5", R),
    ("python scripts/restore.py backups/cell0_backup_YYYYMMDD_HHMMSS.tar.gz --verify", M),
    ("./start.sh", M),
    ("python scripts/cell0-doctor.py --verbose", R),
    ("curl -s http://localhost:11434/api/tags > /dev/null && echo \"UP\" || echo \"DOWN\"", R),
    ("ollama serve &", M),
    ("sudo systemctl restart ollama", M),
    ("docker restart ollama", M),
    ("ollama list", R),
    ("ollama run llama3.1 \"test\"", R),
    ("rm -rf data/model_cache/*", D),
    ("ps aux --sort=-%mem | head -10", R),
    ("pmap $(pgrep -f cell0d) | tail -1", R),
    ("cat > config/emergency_limits.yaml << EOF\nmax_concurrent_models: 1\nmax_context_length: 2048\nmax_workers: 2\nEOF", M),
    ("./stop.sh && ./start.sh", M),
    ("watch -n 2 'free -h'", R),
    ("nc -zv localhost 18801", R),
    ("ss -tan | grep :18801 | wc -l", R),
    ("pkill -f gateway_ws", D),
    ("sleep 2", R),
    ("python service/gateway_ws.py &", U),
    ("wscat -c ws://localhost:18801", R),
    ("python scripts/cell0-doctor.py", R),
    ("nvidia-smi  # or rocm-smi", R),
    ("git log --oneline -10", R),
    ("export CELL0_LOG_LEVEL=debug", R),
    ("export CELL0_PROFILE=true", R),
    ("kubectl get pods -n production | grep -v Running", R),
    ("curl -s https://api.agentos.io/health | jq .", R),
    ("./scripts/verify-agent-execution.sh", R),
    ("./scripts/check-error-rates.sh --last 15m", R),
    ("kubectl rollout undo deployment/[name] -n production", M),
    ("./scripts/db-rollback.sh --version [previous_version]", M),
    ("./scripts/feature-flag.sh disable [flag_name]", M),
    ("./scripts/config-rollback.sh --config [config_name] --version [version]", M),
    ("./scripts/health-check.sh", R),
    ("./scripts/error-rates.sh --last 1h", R),
    ("./scripts/queue-status.sh", R),
    ("./scripts/recent-deploys.sh --last 24h", R),
    ("./scripts/incident-summary.sh --id INC-XXXX", R),
    ("cd /home/genesis/genesis-rebuild", R),
    ("python3 -m pytest tests/ -v --tb=short | tee logs/incident_test_run.log", M),
    ("grep \"FAILED\" logs/incident_test_run.log", R),
    ("./scripts/health_check.sh", R),
    ("htop", R),
    ("df -h", R),
    ("free -h", R),
    ("python3 -c \"from infrastructure import htdag_planner, halo_router, aop_validator\"", U),
    ("git log --oneline --since=\"24 hours ago\" infrastructure/", R),
    ("pip list | grep -E \"opentelemetry|pytest|prometheus\"", R),
    ("./scripts/rollback_deployment.sh", M),
    ("grep \"test_halo_routing_performance_large_dag\" logs/incident_test_run.log", R),
    ("python3 -m pytest tests/test_performance.py::test_halo_routing_performance_large_dag -v", R),
    ("diff logs/deployment_baseline_tests.log logs/incident_test_run.log", R),
    ("git diff HEAD~1 infrastructure/htdag_planner.py", R),
    ("git checkout -b hotfix/test-failures", M),
    ("pytest tests/ -v", R),
    ("git commit -m \"fix: resolve test failures\"", M),
    ("./scripts/deploy.sh", M),
    ("python3 -m pytest tests/ -v --tb=no | grep \"passed\"", R),
    ("echo \"Incident: TestPassRateLow - Resolved via [action]\" >> logs/incidents.log", M),
    ("curl -s http://localhost:9090/api/v1/query?query=genesis_errors_total | jq", R),
    ("tail -n 100 /home/genesis/genesis-rebuild/logs/genesis.log | grep ERROR", R),
    ("curl -s http://localhost:9090/api/v1/query?query=genesis_llm_errors_total", R),
    ("cat > /home/genesis/genesis-rebuild/config/llm_fallback.yaml <<EOF\nllm:\n  enabled: false  # Temporarily disable LLM\n  fallback_mode: heuristic\nEOF", M),
    ("systemctl restart genesis-orchestration", M),
    ("ping -c 5 api.openai.com", R),
    ("curl -I https://api.anthropic.com", R),
    ("nslookup api.openai.com", R),
    ("curl -s http://localhost:8000/health | jq .circuit_breaker", R),
    ("ps aux --sort=-%cpu | head -10", R),
    ("grep \"AOP\" /home/genesis/genesis-rebuild/logs/genesis.log | tail -50", R),
    ("cat > /home/genesis/genesis-rebuild/config/aop_relaxed.yaml <<EOF\naop:\n  solvability_threshold: 0.5  # Reduced from 0.7\n  completeness_threshold: 0.5  # Reduced from 0.7\nEOF", M),
    ("curl -s http://localhost:9090/api/v1/query?query=rate(genesis_errors_total[5m]) | jq", U),
    ("curl -s http://localhost:9090/api/v1/query?query=rate(genesis_htdag_decomposition_duration_seconds_sum[5m])/rate(genesis_htdag_decomposition_duration_seconds_count[5m])", U),
    ("curl -s http://localhost:9090/api/v1/query?query=rate(genesis_halo_routing_duration_seconds_sum[5m])/rate(genesis_halo_routing_duration_seconds_count[5m])", U),
    ("curl -s http://localhost:9090/api/v1/query?query=rate(genesis_aop_validation_duration_seconds_sum[5m])/rate(genesis_aop_validation_duration_seconds_count[5m])", U),
    ("mpstat 1 5", R),
    ("vmstat 1 5", R),
    ("iostat -x 1 5", R),
    ("curl -w \"@curl-format.txt\" -o /dev/null -s https://api.openai.com/v1/chat/completions", R),
    ("cat > /home/genesis/genesis-rebuild/config/htdag_cache.yaml <<EOF\nhtdag:\n  cache_enabled: true\n  cache_ttl_seconds: 3600\nEOF", M),
    ("curl -s http://localhost:8000/health | jq .halo_optimizations", R),
    ("cat > /home/genesis/genesis-rebuild/config/halo_perf.yaml <<EOF\nhalo:\n  rule_indexing: true\n  agent_pool_enabled: true\n  batch_routing: true\nEOF", M),
    ("cat > /home/genesis/genesis-rebuild/config/concurrency.yaml <<EOF\norchestration:\n  max_concurrent_tasks: 5  # Reduced from 10\n  worker_threads: 4  # Reduced from 8\nEOF", M),
    ("export PYTHONMALLOC=malloc", R),
    ("sed -i 's/level=DEBUG/level=INFO/' /home/genesis/genesis-rebuild/config/logging.yaml", M),
    ("curl -s http://localhost:9090/api/v1/query?query=histogram_quantile(0.95,rate(genesis_operation_duration_seconds_bucket[5m])) | jq", U),
    ("systemctl status genesis-orchestration", R),
    ("journalctl -u genesis-orchestration --since \"5 minutes ago\" | tail -100", R),
    ("sleep 30", R),
    ("systemctl is-active genesis-orchestration", R),
    ("curl http://localhost:8000/health", R),
    ("python3 -m pytest tests/test_production_health.py::TestProductionHealth::test_observability_manager_functional -v", R),
    ("mkdir -p /home/genesis/genesis-rebuild/logs/crash_$(date +%Y%m%d_%H%M%S)", M),
    ("cp /var/log/syslog logs/crash_*/", M),
    ("journalctl -u genesis-orchestration --since \"1 hour ago\" > logs/crash_*/service.log", M),
    ("dmesg | tail -100 > logs/crash_*/dmesg.log", M),
    ("set -euo pipefail", R),
    ("echo \"=== GENESIS ROLLBACK PROCEDURE ===\"", R),
    ("echo \"Timestamp: $(date)\"", R),
    ("echo \"Stopping service...\"", R),
    ("systemctl stop genesis-orchestration", M),
    ("echo \"Reverting code...\"", R),
    ("git fetch origin", R),
    ("git reset --hard origin/deployment-stable", D),
    ("git clean -fd", D),
    ("echo \"Restoring configuration...\"", R),
    ("cp /home/genesis/genesis-rebuild/config/backup/*.yaml /home/genesis/genesis-rebuild/config/", M),
    ("echo \"Starting service...\"", R),
    ("systemctl start genesis-orchestration", M),
    ("echo \"Verifying rollback...\"", R),
    ("sleep 10", R),
    ("systemctl is-active genesis-orchestration || {\n    echo \"ERROR: Service failed to start after rollback\"\n    exit 1\n}", R),
    ("echo \"Running health check...\"", R),
    ("echo \"=== ROLLBACK COMPLETE ===\"", R),
    ("echo \"Service restored to stable version\"", R),
    ("echo \"Investigate incident offline\"", R),
    ("sudo systemctl status hal-supervisor", R),
    ("sudo journalctl -u hal-supervisor -n 50", R),
    ("ps aux | grep hal-supervisor", R),
    ("sudo lsof -i :8420", R),
    ("sudo systemctl restart hal-supervisor", M),
    ("sudo journalctl -u hal-supervisor --since \"5 minutes ago\"", R),
    ("/usr/local/bin/hal-supervisor --config /etc/hal-o-swarm/supervisor.config.json --validate", R),
    ("sudo cp /etc/hal-o-swarm/supervisor.config.json.backup /etc/hal-o-swarm/supervisor.config.json", M),
    ("systemctl show hal-supervisor -p MemoryLimit", R),
    ("sudo journalctl -u hal-supervisor | grep -i \"memory\\|leak\"", R),
    ("halctl --supervisor-url ws://localhost:8420 sessions list | wc -l", R),
    ("du -sh /var/lib/hal-o-swarm/supervisor.db", R),
    ("sudo systemctl edit hal-supervisor", M),
    ("sudo systemctl daemon-reload", M),
    ("sqlite3 /var/lib/hal-o-swarm/supervisor.db \\\n  \"DELETE FROM events WHERE timestamp < datetime('now', '-30 days');\"", D),
    ("sudo journalctl -u hal-supervisor -p err --since \"24 hours ago\"", R),
    ("sqlite3 /var/lib/hal-o-swarm/supervisor.db \"PRAGMA integrity_check;\"", R),
    ("ls -lh /var/lib/hal-o-swarm/supervisor.db", R),
    ("sudo journalctl -u hal-supervisor -p err -n 20", R),
    ("sudo systemctl stop hal-supervisor", M),
    ("sudo cp /var/lib/hal-o-swarm/supervisor.db \\\n  /var/lib/hal-o-swarm/supervisor.db.corrupt.$(date +%s)", M),
    ("sqlite3 /var/lib/hal-o-swarm/supervisor.db \".recover\" | \\\n  sqlite3 /var/lib/hal-o-swarm/supervisor.db.recovered", U),
    ("sudo mv /var/lib/hal-o-swarm/supervisor.db.recovered \\\n  /var/lib/hal-o-swarm/supervisor.db", M),
    ("sudo cp /var/lib/hal-o-swarm/supervisor.db.backup \\\n  /var/lib/hal-o-swarm/supervisor.db", M),
    ("sudo systemctl start hal-supervisor", M),
    ("sudo systemctl status hal-agent", R),
    ("sudo journalctl -u hal-agent -n 50", R),
    ("curl -v ws://supervisor-host:8420", R),
    ("ssh supervisor-host \"sudo systemctl status hal-supervisor\"", R),
    ("sudo ufw status | grep 8420", R),
    ("sudo iptables -L -n | grep 8420", R),
    ("grep auth_token /etc/hal-o-swarm/agent.config.json", R),
    ("ssh supervisor-host \"grep auth_token /etc/hal-o-swarm/supervisor.config.json\"", R),
    ("ssh supervisor-host \"sudo systemctl restart hal-supervisor\"", M),
    ("sudo nano /etc/hal-o-swarm/agent.config.json", M),
    ("ssh supervisor-host \"sudo nano /etc/hal-o-swarm/supervisor.config.json\"", M),
    ("sudo ufw allow 8420/tcp", M),
    ("sudo systemctl restart hal-agent", M),
    ("sudo journalctl -u hal-agent --since \"1 minute ago\"", R),
    ("ps aux | grep hal-agent", R),
    ("systemctl show hal-agent -p MemoryLimit", R),
    ("halctl --supervisor-url ws://localhost:8420 sessions list | grep \"node_id: <agent-id>\"", R),
    ("sudo journalctl -u hal-agent | grep -i \"memory\\|leak\"", R),
    ("sudo systemctl edit hal-agent", M),
    ("halctl --supervisor-url ws://localhost:8420 sessions list --node-id <agent-id>", R),
    ("halctl --supervisor-url ws://localhost:8420 sessions kill <session-id>", D),
    ("sudo journalctl -u hal-agent -p err --since \"24 hours ago\"", R),
    ("/usr/local/bin/hal-agent --config /etc/hal-o-swarm/agent.config.json --validate", R),
    ("sudo journalctl -u hal-agent --since \"5 minutes ago\"", R),
    ("sudo cp /etc/hal-o-swarm/agent.config.json.backup /etc/hal-o-swarm/agent.config.json", M),
    ("sudo netstat -tlnp | grep 8420", R),
    ("sudo ufw status", R),
    ("ssh agent-host \"curl -v ws://supervisor-host:8420\"", R),
    ("nslookup supervisor-host", R),
    ("ssh agent-host \"nslookup supervisor-host\"", R),
    ("traceroute supervisor-host", R),
    ("ssh agent-host \"traceroute supervisor-host\"", R),
    ("sudo iptables -A INPUT -p tcp --dport 8420 -j ACCEPT", M),
    ("sudo iptables-save > /etc/iptables/rules.v4", D),
    ("ssh agent-host \"sudo systemctl restart hal-agent\"", M),
    ("top -p $(pgrep -f hal-supervisor)", R),
    ("ping supervisor-host", R),
    ("uptime", R),
    ("sqlite3 /var/lib/hal-o-swarm/supervisor.db \".timer on\"", R),
    ("sqlite3 /var/lib/hal-o-swarm/supervisor.db \"SELECT COUNT(*) FROM sessions;\"", R),
    ("ss -tnp | grep hal-supervisor | wc -l", R),
    ("sqlite3 /var/lib/hal-o-swarm/supervisor.db \"VACUUM;\"", M),
    ("sqlite3 /var/lib/hal-o-swarm/supervisor.db \"ANALYZE;\"", M),
    ("watch -n 5 'top -p $(pgrep -f hal-supervisor) -b -n 1'", R),
    ("ls -lh /var/lib/hal-o-swarm/supervisor.db.backup*", R),
    ("sqlite3 /var/lib/hal-o-swarm/supervisor.db \\\n  \"SELECT COUNT(*) FROM sessions WHERE timestamp > datetime('now', '-1 day');\"", R),
    ("halctl --supervisor-url ws://localhost:8420 sessions list", R),
    ("sudo journalctl -u hal-supervisor | grep -i \"cost\"", R),
    ("sqlite3 /var/lib/hal-o-swarm/supervisor.db \\\n  \"SELECT * FROM costs ORDER BY date DESC LIMIT 10;\"", R),
    ("curl -H \"Authorization: Bearer <api-key>\" \\\n  https://api.anthropic.com/v1/usage", R),
    ("grep -A 10 '\"cost\"' /etc/hal-o-swarm/supervisor.config.json", R),
    ("sudo nano /etc/hal-o-swarm/supervisor.config.json", M),
    ("halctl --supervisor-url ws://localhost:8420 cost today", M),
    ("sudo journalctl -u hal-supervisor -p err --since \"1 hour ago\"", R),
    ("sudo journalctl -u hal-supervisor -n 1000 > /tmp/supervisor.log", M),
    ("sudo journalctl -u hal-agent -n 1000 > /tmp/agent.log", M),
    ("uname -a > /tmp/system.info", M),
    ("df -h >> /tmp/system.info", M),
    ("free -h >> /tmp/system.info", M),
    ("pkill -9 -f \"cortex\"", D),
    ("rm -f /tmp/cortex-*.pid", D),
    ("sleep 5", R),
    ("ps aux | grep cortex | grep -v grep && echo \"Processes still running!\" || echo \"All stopped\"", R),
    ("df -h $COMMIT_RELAY_HOME", R),
    ("vm_stat | head -20", R),
    ("for file in coordination/task-queue.json coordination/token-budget.json; do\n    [[ -f \"$COMMIT_RELAY_HOME/$file\" ]] && echo \"[OK] $file\" || echo \"[MISSING] $file\"\ndone", R),
    ("for file in $COMMIT_RELAY_HOME/coordination/*.json; do\n    if ! jq empty \"$file\" 2>/dev/null; then\n        echo \"[CORRUPT] $file\"\n    fi\ndone", R),
    ("[[ ! -f \"$COMMIT_RELAY_HOME/coordination/task-queue.json\" ]] && \\\n    echo '{\"tasks\": []}' > \"$COMMIT_RELAY_HOME/coordination/task-queue.json\"", M),
    ("[[ ! -f \"$COMMIT_RELAY_HOME/coordination/token-budget.json\" ]] && \\\n    cat > \"$COMMIT_RELAY_HOME/coordination/token-budget.json\" << 'EOF'\n{\n  \"total\": 500000,\n  \"used\": 0,\n  \"available\": 500000,\n  \"last_updated\": \"2025-01-01T00:00:00Z\"\n}\nEOF", M),
    ("[[ ! -f \"$COMMIT_RELAY_HOME/coordination/dashboard-events.jsonl\" ]] && \\\n    touch \"$COMMIT_RELAY_HOME/coordination/dashboard-events.jsonl\"", M),
    ("./scripts/start-cortex.sh", M),
    ("./scripts/dashboards/daemon-monitor.sh --status", U),
    ("./scripts/emit-event.sh --type \"emergency_recovery\" --severity \"critical\" \\\n    --message \"System recovered from P1 failure\"", M),
    ("for config in $COMMIT_RELAY_HOME/coordination/config/*.json; do\n    if ! jq empty \"$config\" 2>/dev/null; then\n        echo \"[CORRUPT] $config\"\n    fi\ndone", R),
    ("jq empty $COMMIT_RELAY_HOME/coordination/moe/router-config.json || echo \"Router config corrupt\"", R),
    ("git checkout -- coordination/config/", M),
    ("git checkout -- coordination/moe/", M),
    ("jq empty $COMMIT_RELAY_HOME/coordination/config/*.json && echo \"Configs restored\"", R),
    ("LATEST_BACKUP=$(ls -t $COMMIT_RELAY_HOME/backups/*.tar.gz 2>/dev/null | head -1)", R),
    ("if [[ -n \"$LATEST_BACKUP\" ]]; then\n    echo \"Restoring from: $LATEST_BACKUP\"\n\n    # Extract to temp\n    TEMP_DIR=$(mktemp -d)\n    tar -xzf \"$LATEST_BACKUP\" -C \"$TEMP_DIR\"\n\n    # Restore configs\n    cp \"$TEMP_DIR\"/*/coordination/config/*.json $COMMIT_RELAY_HOME/coordination/config/\n\n    rm -rf \"$TEMP_DIR\"\nfi", D),
    ("cat > $COMMIT_RELAY_HOME/coordination/config/worker-types.json << 'EOF'\n{\n  \"worker_types\": {\n    \"implementation-worker\": {\"default_budget\": 100000, \"default_duration\": 45},\n    \"analysis-worker\": {\"default_budget\": 50000, \"default_duration\": 15},\n    \"scan-worker\": {\"default_budget\": 70000, \"default_duration\": 15},\n    \"fix-worker\": {\"default_budget\": 70000, \"default_duration\": 20}\n  }\n}\nEOF", M),
    ("cat > $COMMIT_RELAY_HOME/coordination/moe/router-config.json << 'EOF'\n{\n  \"rules\": [\n    {\"pattern\": \"implement\", \"worker_type\": \"implementation-worker\", \"confidence\": 0.9},\n    {\"pattern\": \"scan|security\", \"worker_type\": \"scan-worker\", \"confidence\": 0.9},\n    {\"pattern\": \"fix|bug\", \"worker_type\": \"fix-worker\", \"confidence\": 0.9},\n    {\"pattern\": \".*\", \"worker_type\": \"analysis-worker\", \"confidence\": 0.5, \"is_default\": true}\n  ]\n}\nEOF", M),
    ("find $COMMIT_RELAY_HOME/coordination -name \"*.json\" -exec sh -c '\n    jq empty \"$1\" 2>/dev/null || echo \"$1\"\n' _ {} \\;", R),
    ("for jsonl in $COMMIT_RELAY_HOME/coordination/*.jsonl; do\n    TEMP=$(mktemp)\n    while IFS= read -r line; do\n        echo \"$line\" | jq empty 2>/dev/null && echo \"$line\"\n    done < \"$jsonl\" > \"$TEMP\"\n    mv \"$TEMP\" \"$jsonl\"\ndone", M),
    ("rm -f $COMMIT_RELAY_HOME/coordination/worker-specs/active/*.json", D),
    ("echo '{\"total\": 500000, \"used\": 0, \"available\": 500000}' > \\\n    $COMMIT_RELAY_HOME/coordination/token-budget.json", M),
    ("cp $COMMIT_RELAY_HOME/coordination/task-queue.json \\\n   $COMMIT_RELAY_HOME/coordination/task-queue.json.corrupt", M),
    ("echo '{\"tasks\": []}' > $COMMIT_RELAY_HOME/coordination/task-queue.json", M),
    ("if jq -e '.tasks' $COMMIT_RELAY_HOME/coordination/task-queue.json.corrupt > /dev/null 2>&1; then\n    jq '{tasks: [.tasks[] | select(.task_id != null)]}' \\\n       $COMMIT_RELAY_HOME/coordination/task-queue.json.corrupt > \\\n       $COMMIT_RELAY_HOME/coordination/task-queue.json\nfi", M),
    ("BACKUP_NAME=\"cortex-backup-$(date +%Y%m%d-%H%M%S)\"", R),
    ("BACKUP_DIR=\"$COMMIT_RELAY_HOME/backups\"", R),
    ("mkdir -p \"$BACKUP_DIR\"", M),
    ("tar -czf \"$BACKUP_DIR/$BACKUP_NAME.tar.gz\" \\\n    -C \"$COMMIT_RELAY_HOME\" \\\n    coordination \\\n    agents/prompts \\\n    scripts", M),
    ("echo \"Backup created: $BACKUP_DIR/$BACKUP_NAME.tar.gz\"", R),
    ("ls -la $COMMIT_RELAY_HOME/backups/*.tar.gz", R),
    ("BACKUP_FILE=\"$COMMIT_RELAY_HOME/backups/cortex-backup-20251121-100000.tar.gz\"", R),
    ("pkill -f \"cortex\"", D),
    ("cd $COMMIT_RELAY_HOME", R),
    ("tar -xzf \"$BACKUP_FILE\"", M),
    ("./scripts/restore-from-backup.sh --help", R),
    ("./scripts/restore-from-backup.sh --latest", M),
    ("./scripts/restore-from-backup.sh --file backups/backup.tar.gz", M),
    ("GOOD_COMMIT=\"abc123\"", R),
    ("git checkout $GOOD_COMMIT", M),
    ("git revert HEAD~3..HEAD", M),
    ("git show HEAD~1:coordination/config/worker-types.json > \\\n    $COMMIT_RELAY_HOME/coordination/config/worker-types.json", M),
    ("git checkout HEAD~1 -- coordination/config/", M),
    ("for file in $COMMIT_RELAY_HOME/coordination/*.json; do\n    jq empty \"$file\" 2>/dev/null || echo \"[INVALID] $file\"\ndone", R),
    ("cat $COMMIT_RELAY_HOME/coordination/token-budget.json | jq .", R),
    ("cat $COMMIT_RELAY_HOME/coordination/task-queue.json | jq '.tasks | length'", R),
    ("./scripts/create-task.sh --description \"Recovery test\" --priority low", U),
    ("./scripts/dashboards/system-live.sh &", U),
    ("kill $!", M),
    ("./scripts/emit-event.sh \\\n    --type \"system_recovery_complete\" \\\n    --severity \"info\" \\\n    --message \"System recovered and verified\"", M),
    ("cat > $COMMIT_RELAY_HOME/incidents/incident-$(date +%Y%m%d).md << 'EOF'\n# Incident Report\n\n**Date**: $(date)\n**Severity**: P1/P2/P3\n**Duration**: X minutes\n\n## Summary\nBrief description of what happened\n\n## Root Cause\nWhat caused the failure\n\n## Recovery Actions\nSteps taken to recover\n\n## Prevention\nActions to prevent recurrence\n\n## Lessons Learned\nWhat we learned from this incident\nEOF", M),
    // Seed 004's crontab lines (`0 2 * * * ...`) are a block with no command line: not steps.
    ("jq empty new-config.json && mv new-config.json config.json", M),
    ("rm -rf $COMMIT_RELAY_HOME/coordination/worker-specs/active/*", D),
    ("rm -rf $COMMIT_RELAY_HOME/coordination/worker-specs/zombie/*", D),
    ("echo '{\"total\": 500000, \"used\": 0, \"available\": 500000}' > $COMMIT_RELAY_HOME/coordination/token-budget.json", M),
    ("./scripts/dashboards/system-live.sh", U),
];
