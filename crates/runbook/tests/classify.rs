//! Table-driven checks of the classifier on the cases SHELL-NOTES.md calls out: wrappers,
//! substitutions, heredocs, mis-parsed subshells, redirections after `sudo`, parse failures
//! and implausible command names.

use sevwatch_runbook::{classify, RiskClass};

use RiskClass::{Destructive as D, Mutating as M, ReadOnly as R, Unknown as U};

#[test]
fn composed_commands_take_their_most_dangerous_part() {
    let cases: &[(&str, RiskClass)] = &[
        ("ps aux | grep x | wc -l", R),
        ("ls && rm -rf /tmp/x", D),
        ("false || systemctl restart nginx", M),
        ("(cd /srv && rm -f old.log)", D),
        ("( ( rm -rf /x ) )", D),
        ("echo $(rm -rf /x)", D),
        ("echo `shred secret`", D),
        ("sudo rm -rf /var/cache/app", D),
        ("sudo -u postgres psql -c 'DROP TABLE users'", D),
        ("ssh db1 'sudo systemctl restart postgresql'", M),
        ("ssh -i key.pem db1 \"rm -rf /data\"", D),
        ("bash -c 'git reset --hard HEAD'", D),
        ("watch -n 5 'df -h'", R),
        ("find /tmp -name '*.tmp' -exec rm {} \\;", D),
        ("find /var/log -mtime +7 -delete", D),
        ("find . -name '*.json'", R),
        ("xargs kill -9 < pids", D),
        ("kubectl exec -it pod -- rm -rf /cache", D),
        ("for f in *.log; do gzip $f; done", M),
        ("sqlite3 app.db \"PRAGMA integrity_check;\"", R),
        ("sqlite3 app.db 'DELETE FROM jobs'", D),
        ("psql -c 'TRUNCATE events'", D),
        ("mysql -e 'SELECT 1'", R),
        ("sqlite3 app.db <<EOF\nUPDATE t SET a=1;\nEOF", M),
        ("curl -s https://x/api", R),
        ("curl -X POST https://x/api", M),
        ("curl -X DELETE https://x/api/1", D),
        ("curl -d @body.json https://x/api", M),
        ("git reset --hard origin/main", D),
        ("git clean -fdx", D),
        ("git checkout main", M),
        ("git log -5", R),
        ("mkfs.ext4 /dev/sdb1", D),
        ("dd if=/dev/zero of=/dev/sda bs=1M", D),
        ("pkill nginx", D),
        ("kill -9 1234", D),
        ("kill 1234", M),
        ("docker system prune -af", D),
        ("kubectl delete pod x", D),
        ("kubectl get pods", R),
        ("cat > /etc/app.conf <<'EOF'\na=1\nEOF", M),
        ("echo x > notes.txt", M),
        ("> /var/log/app.log", D),
        ("echo '' > /var/lib/app/state.db", D),
        ("echo x >> log.txt", M),
        ("sudo echo x > /etc/motd", D),
        ("X=1", R),
        ("export PATH=$PATH:/opt/bin", R),
        ("systemctl status nginx", R),
        ("systemctl restart nginx", M),
    ];
    let mut wrong = Vec::new();
    for (cmd, want) in cases {
        let got = classify(cmd);
        if got.class != *want {
            wrong.push(format!("{cmd:?}: want {want:?}, got {:?} ({})", got.class, got.reason));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn reasons_name_the_dangerous_operation_and_its_target() {
    assert_eq!(classify("rm -rf data/temp/*").reason, "rm -rf on data/temp/*");
    assert!(classify("sudo rm -f /x").reason.starts_with("sudo: rm -f on /x"));
    assert!(classify("ls; git reset --hard").reason.contains("git reset --hard"));
}

#[test]
fn nonsense_and_unparseable_lines_are_unknown() {
    for cmd in [
        "└─> Alert received",
        "0 2 * * * /opt/backup.sh",
        "1. DETECT",
        "@pytest.mark.xfail(reason=\"x\")",
        "Subject: [INCIDENT] down",
        "$CMD --force",
        "if then fi (",
    ] {
        assert_eq!(classify(cmd).class, U, "{cmd}");
    }
}

#[test]
fn a_block_that_fails_to_parse_is_judged_line_by_line() {
    let block = "ps aux\nhalctl sessions kill <session-id>\nrm -rf /tmp/x";
    let r = classify(block);
    assert_eq!(r.class, D, "{}", r.reason);
}

#[test]
fn oversized_and_deeply_nested_inputs_are_refused_not_crashed() {
    assert_eq!(classify(&"a ".repeat(40_000)).class, U);
    let deep = "(".repeat(1000) + "ls" + &")".repeat(1000);
    assert_eq!(classify(&deep).class, U);
    // Moderately deep input takes the big-stack thread; nested `( (` pairs read as
    // arithmetic are re-parsed until the re-parse cap, so the answer is never read-only.
    let medium = "( ".repeat(100) + "rm -rf /x" + &" )".repeat(100);
    assert!(matches!(classify(&medium).class, D | U));
}

#[test]
fn inputs_that_crash_brush_parser_become_unknown() {
    // brush-parser 0.4 panics in its tokenizer on this; the panic is caught.
    let r = classify("\"$(<<EOF\n)\nEOF\n");
    assert_eq!(r.class, U, "{}", r.reason);
}

#[test]
fn placeholders_read_as_plain_words_never_as_redirections_or_hidden_commands() {
    let cases: &[(&str, RiskClass)] = &[
        ("kubectl describe pod <pod-name> -n web", R),
        ("kubectl logs <pod> -n <namespace> --tail=100", R),
        ("ssh <node> 'sudo rm -rf /srv/cache'", D),
        ("ssh {{host}} 'sudo systemctl restart nginx'", M),
        ("kubectl exec -it <pod> -- rm -rf /tmp/x", D),
        ("mysql -h <host> -e 'DROP DATABASE staging'", D),
        ("psql -h <replica-host> -c 'SELECT 1'", R),
        ("sudo -u [user] rm -rf /var/lib/app/{cache}", D),
        ("curl -H 'Authorization: Bearer YOUR_API_TOKEN' https://x/api", R),
        ("docker rm -f <container>", D),
        ("cat <file> | grep ERROR", R),
    ];
    for (cmd, want) in cases {
        let got = classify(cmd);
        assert_eq!(got.class, *want, "{cmd:?}: {}", got.reason);
    }
    // The reason names the placeholder, not a stand-in.
    assert!(classify("ssh <node> 'sudo rm -rf /srv/cache'").reason.contains("<node>"));
}
