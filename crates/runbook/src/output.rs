//! Telling what a code block shows from what it asks the responder to run. Runbooks paste
//! captured output into their blocks: a table after `kubectl get`, `ceph status` with its
//! report, log lines, an alert's labels, an interactive `psql` or `redis-cli` session, a
//! PromQL query in a `sh` fence. None of it is a step. This file judges one line at a time by
//! its shape; `steps.rs` keeps output as the expected output of the command before it and
//! drops what is neither (queries, other languages, prose).
//!
//! The rules lean one way: a line whose first word is a command the classifier knows by name
//! is always a command, so a rule here can hide only lines that no shell would run as
//! written.

mod shapes;

use crate::classify::known_command;
use shapes::{is_promql, other_language, output_shape, table_row};

/// What one line of a block is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Line {
    /// A command, with any shell prompt (`$ `, `user@host:~$ `) removed.
    Command(String),
    /// What a command printed: a log line, a table, YAML, a report.
    Output,
    /// Not shell and not output: a query in another language, a REPL's input, a comment in
    /// another syntax.
    Foreign,
}

/// Fence languages that hold output or plain text: a block in one of them is output unless
/// its first line is plainly a command.
pub const OUTPUT_LANGS: &[&str] = &["text", "txt", "output", "log", "logs", "plaintext", "plain", "none", "out"];

/// Words in the sentence before a block that announce output rather than commands.
const OUTPUT_LEAD_INS: &[&str] = &[
    "output",
    "sample",
    "should see",
    "will see",
    "would see",
    "you see",
    "expect",
    "look like",
    "looks like",
    "look similar",
    "similar to",
    "along the lines",
    "of the form",
    "will return",
    "should return",
    "returns",
    "will show",
    "will appear",
    "appears as",
    "error message",
    "log entries",
    "log lines",
    "logs like",
    "message like",
    "will print",
    "prints",
    "example alert",
    "example error",
    "example event",
    "example message",
    "response:",
    "result:",
];

/// Does the last sentence before a block say that output follows ("Example output:", "You
/// should see something like:", "This will return:")?
pub fn lead_in_says_output(lead_in: &str) -> bool {
    last_sentence_says(lead_in, OUTPUT_LEAD_INS)
}

/// Does the last sentence of `lead_in` (after the last ". ", so not a dot inside a word or
/// a file name) contain one of `phrases`?
fn last_sentence_says(lead_in: &str, phrases: &[&str]) -> bool {
    let text = lead_in.trim().to_lowercase();
    let last = text.lines().last().unwrap_or("");
    let sentence = last.rsplit(". ").next().unwrap_or(last);
    phrases.iter().any(|w| sentence.contains(w))
}

/// A block of JSON or a JSON-like report: a lone `{` or `[` followed by `"key":` or `key:`
/// lines (a shell would read the `{` as the start of a group of commands).
pub fn json_block(body: &str) -> bool {
    let mut lines = body.lines().map(str::trim).filter(|l| !l.is_empty());
    let opens = lines.next().is_some_and(|l| matches!(l, "{" | "[") || l.starts_with("{\"") || l.starts_with("[{"));
    let key = |l: &str| {
        let name = l.trim_start_matches('"');
        let end = name.find(['"', ':']).unwrap_or(0);
        end > 0 && name[..end].chars().all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c)) && l.contains(':')
    };
    opens && lines.next().is_some_and(|l| key(l) || matches!(l, "}" | "]" | "{" | "[" | "},"))
}

/// Words in the sentence before a block that announce a file's contents (a config line, a
/// file to write) rather than commands.
const CONTENT_LEAD_INS: &[&str] = &[
    "in the config",
    "in the configuration",
    "config file",
    "configuration file",
    "add the following to",
    "add this to",
    "contents of the file",
    "file contents",
    "file should contain",
];

/// Does the last sentence before a block say that a file's contents follow ("for a line in
/// the config like this:", "Add the following to /etc/x.conf:")?
pub fn lead_in_says_content(lead_in: &str) -> bool {
    last_sentence_says(lead_in, CONTENT_LEAD_INS)
}

/// Is `line` a shell prompt followed by a command? Returns the command.
/// `$ cmd`, `user@host:~$ cmd`, `root@host:/# cmd`, `[root@host ~]# cmd`, `sh-4.4# cmd`,
/// `❯ cmd`, `% cmd`.
pub fn shell_prompt(line: &str) -> Option<&str> {
    let t = line.trim_start();
    for p in ["$ ", "❯ ", "➜ ", "% "] {
        if let Some(rest) = t.strip_prefix(p) {
            return Some(rest);
        }
    }
    if t == "$" {
        return Some("");
    }
    // `[root@node-1 ~]# cmd`
    if t.starts_with('[') {
        let close = t.find(']')?;
        let inside = &t[1..close];
        let rest = t[close + 1..].strip_prefix("# ").or_else(|| t[close + 1..].strip_prefix("$ "))?;
        return (inside.contains('@') && !inside.contains(['"', '\'', '='])).then_some(rest);
    }
    let (head, rest) = t.split_once(' ')?;
    let marker = head.chars().last()?;
    if !matches!(marker, '$' | '#') || head.len() < 2 {
        return None;
    }
    let body = &head[..head.len() - 1];
    let user_host = body.split_once('@').is_some_and(|(u, h)| {
        !u.is_empty()
            && u.chars().all(|c| c.is_ascii_alphanumeric() || "_-.[".contains(c))
            && h.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
            && !h.contains(['"', '\'', '='])
    });
    let versioned_shell = ["sh-", "bash-", "zsh-"].iter().any(|s| {
        body.strip_prefix(s).is_some_and(|v| !v.is_empty() && v.chars().all(|c| c.is_ascii_digit() || c == '.'))
    });
    (user_host || versioned_shell).then_some(rest)
}

/// Is `line` the input of an interactive program other than the shell (`postgres=# SELECT`,
/// `mysql> SHOW`, `127.0.0.1:6379> INFO`, `> CONFIG GET`, `>>> import x`)?
pub fn repl_prompt(line: &str) -> bool {
    let t = line.trim_start();
    if t.starts_with("> ") || t.starts_with(">>> ") || t == ">" {
        return true;
    }
    let Some((head, _)) = t.split_once(' ') else {
        return false;
    };
    if let Some(name) = head.strip_suffix("=#").or_else(|| head.strip_suffix("=>")) {
        return !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c));
    }
    let Some(name) = head.strip_suffix('>') else {
        return false;
    };
    let known = ["mysql", "sqlite", "cqlsh", "mongo", "redis", "irb", "pry", "ksql", "mariadb", "influx", "etcdctl"];
    let host_port = name.split_once(':').is_some_and(|(h, p)| {
        !h.is_empty() && !p.is_empty() && p.chars().all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
    });
    known.iter().any(|k| name.to_ascii_lowercase().starts_with(k)) || host_port
}

/// Judges a line at the start of a command (not inside a multi-line one). `in_output`: the
/// line before it (with no blank line between) was output, so a line that does not start
/// with a known command continues it (table rows, wrapped log lines, YAML).
pub fn judge(line: &str, in_output: bool) -> Line {
    let t = line.trim();
    if let Some(cmd) = shell_prompt(line) {
        return Line::Command(cmd.to_string());
    }
    if repl_prompt(line) {
        return Line::Foreign;
    }
    let first = t.split_whitespace().next().unwrap_or("");
    let bare = first.trim_end_matches([';', '&', '|']);
    if table_row(t) {
        return Line::Output;
    }
    if known_command(bare.rsplit('/').next().unwrap_or(bare)) && !first.ends_with(':') {
        return Line::Command(t.to_string());
    }
    if t.starts_with("//") || is_promql(t) || other_language(t) {
        return Line::Foreign;
    }
    if in_output || output_shape(t, first) {
        return Line::Output;
    }
    Line::Command(t.to_string())
}

/// Is `text` plainly a command, whatever the sentence before its block said: a command the
/// classifier knows by name, a shell keyword, an assignment, or a script path?
pub fn plain_command(text: &str) -> bool {
    let first = text.split_whitespace().next().unwrap_or("");
    let name = first.trim_end_matches([';', '&', '|']);
    let keyword = matches!(
        name,
        "for" | "while" | "until" | "if" | "case" | "select" | "function" | "{" | "(" | "((" | "[[" | "!" | "time"
    );
    let assignment = name.split_once('=').is_some_and(|(k, _)| {
        !k.is_empty() && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') && !k.as_bytes()[0].is_ascii_digit()
    });
    let script = (name.starts_with("./") || name.starts_with('/') || name.starts_with("~/")) && !name.contains("//")
        || name.ends_with(".sh")
        || name.ends_with(".py");
    keyword || assignment || script || known_command(name.rsplit('/').next().unwrap_or(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(line: &str) -> &'static str {
        match judge(line, false) {
            Line::Command(_) => "command",
            Line::Output => "output",
            Line::Foreign => "foreign",
        }
    }

    #[test]
    fn captured_output_shapes_are_output() {
        for line in [
            "37m Normal SuccessfulDelete ReplicaSet (combined from similar events): Deleted pod: ingester-01",
            "level=error ts=2020-07-12T17:35:05.516823471Z caller=compactor.go:339 msg=\"failed\"",
            "I0208 15:21:03.769731       1 utils.go:221] pool shares path with OS",
            "Mar 20 13:16:36 shared-runners-manager-2 gitlab-runner[19931]: time=\"x\"",
            "2023-07-03T20:37:20.740Z warn something",
            "NAME                  DESIRED   CURRENT   READY   AGE",
            "STARTING controllers with following threads : node 3, vmi 3",
            "virt-handler          2         2         2       2            2           kubernetes.io/os=linux   4h",
            "cluster:",
            "health: HEALTH_OK",
            "Computes:    3",
            "3 full osd(s)",
            "1) \"master\"",
            "(integer) 7657965683",
            "0123456789abcdef0123456789abcdef01234567 refs/heads/master",
            "Ceph Monitor <rook-ceph-mon-X> on host <hostX> has seen <X> leader",
            "changes per minute recently.",
            "Degraded data redundancy: 833/6426 objects degraded (12.963%)",
            "WARN    elasticsearch/client.go:502    Cannot index event",
            "[INFO] started",
            "{\"level\":\"info\",\"msg\":\"x\"}",
            "I have a few advices for you:",
            "   id    |    state    |         created_at         |",
            "---------+-------------+",
            "role:master",
            "level=error ts=2020-07-12T17:35:05Z caller=compactor.go:339 msg=\"failed to compact user blocks\" err=\"x\"",
            "could not read block ZZZZ in file \"base/16401/33909\": read only 0 of NNNN bytes",
            "received unexpected HTTP status: 500 Internal Server Error",
            "notAfter=Aug  6 13:11:20 2025 GMT",
            "slave0:ip=10.45.2.8,port=6379,state=online",
            " - alertname = KubePodNotReady",
        ] {
            assert_eq!(kind(line), "output", "{line}");
        }
    }

    #[test]
    fn queries_repl_input_and_other_languages_are_foreign() {
        for line in [
            "sum by (node) (container_memory_rss{id=\"/system.slice\"}) > 0",
            "count by(cluster, namespace) (cortex_ingester_memory_series)",
            "kubelet_volume_stats_inodes_used{",
            "rate(genesis_errors_total[5m])",
            "or",
            "// Top 5 of containers with the most CPU utilization",
            "pgbouncer=# SHOW CONFIG;",
            "> config get maxmemory",
            "127.0.0.1:6379> INFO replication",
            "mysql> SHOW PROCESSLIST;",
            "queue = Sidekiq::Queue.new(\"chaos:chaos_sleep\")",
            "subnet_capability = 2^[(32 - clusternetwork_netmask) - (32 - hostPrefix)]",
            "(etcd_mvcc_db_total_size_in_bytes / etcd_server_quota_backend_bytes) * 100",
            "node_filesystem_free_bytes",
            "show databases;",
            "SELECT * FROM pg_stat_activity",
        ] {
            assert_eq!(kind(line), "foreign", "{line}");
        }
    }

    #[test]
    fn commands_stay_commands_and_prompts_are_stripped() {
        for line in [
            "kubectl get pods -n web",
            "oc get mcp worker -o yaml",
            "NODE=$(oc get nodes -o name | head -1)",
            "crictl ps | grep websockets",
            "./scripts/health_check.sh",
            "sudo systemctl restart nginx",
            "for f in *.log; do gzip $f; done",
            "sum=$(( a + b ))",
            "count=3",
            "OLD_NODE_POOL=<name of old pool>",
            "CONSUMERNAME=\"storageconsumer-<ID>\"",
            "ceph status",
            "time curl -s http://x",
            "sort -u names.txt",
            "[ -f /etc/app.conf ] && echo ok",
            "consul catalog nodes -service=patroni",
            "gcloud compute instances list --filter name=node-1 --format=\"value(zone)\"",
            "my_backup_script",
            "FOO=bar ./run.sh",
        ] {
            assert_eq!(kind(line), "command", "{line}");
        }
        assert_eq!(judge("$ kubectl get pods", false), Line::Command("kubectl get pods".into()));
        assert_eq!(
            judge("[root@node-1 ~]# systemctl status kubelet", false),
            Line::Command("systemctl status kubelet".into())
        );
        assert_eq!(judge("user@host:~$ df -h", false), Line::Command("df -h".into()));
        assert_eq!(judge("sh-4.4# chroot /host", false), Line::Command("chroot /host".into()));
        assert_eq!(judge("❯ ocm describe cluster x", false), Line::Command("ocm describe cluster x".into()));
    }

    #[test]
    fn output_continues_until_a_known_command() {
        assert_eq!(judge("foo-1   1/1   Running", true), Line::Output);
        assert_eq!(judge("openshift-ovn-kubernetes/ovnkube-master", true), Line::Output);
        assert_eq!(judge("kubectl get pods", true), Line::Command("kubectl get pods".into()));
    }

    #[test]
    fn lead_ins_that_announce_output() {
        for yes in [
            "Example output:",
            "You should see something like the following:",
            "This will return something like:",
            "In this case, you should expect logs like the following:",
            "The error message will appear as follows:",
            "2. Sample failed Pods and events:",
        ] {
            assert!(lead_in_says_output(yes), "{yes}");
        }
        for no in ["Restart the service:", "For example:", "Run the following command.", "Check the pods:"] {
            assert!(!lead_in_says_output(no), "{no}");
        }
        assert!(lead_in_says_content("Thus for a line in the config like this"));
        assert!(lead_in_says_content("Add the following to /etc/redis/redis.conf:"));
        assert!(!lead_in_says_content("Then reload the configuration:"));
    }
}
