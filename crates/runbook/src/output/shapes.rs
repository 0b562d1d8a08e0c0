//! What output, queries and other languages look like, one line at a time: log lines,
//! tables, reports, messages (output); PromQL, SQL typed into a console, Ruby (foreign).
//! `output.rs` asks these only about lines that do not start with a known command.

use crate::classify::plausible_command_name;

fn ident(k: &str) -> bool {
    !k.is_empty() && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.')
}

/// Keys that make a line of `key=value` words a log line (logfmt).
const LOG_KEYS: &[&str] = &["level=", "ts=", "time=", "msg=", "caller=", "lvl=", "t="];

/// Shapes that only output has.
pub(super) fn output_shape(t: &str, first: &str) -> bool {
    let words: Vec<&str> = t.split_whitespace().collect();
    let assignment = first.split_once('=').is_some_and(|(k, _)| {
        !k.is_empty() && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') && !k.as_bytes()[0].is_ascii_digit()
    });
    // An assignment (`POOL=<name of old pool>`) is a command unless the line is logfmt: a
    // logging key first and two more `key=` words (`level=error ts=... msg="a b c"`).
    if assignment {
        let keys = words.iter().filter(|w| w.split_once('=').is_some_and(|(k, _)| ident(k))).count();
        let logfmt = LOG_KEYS.iter().any(|k| first.starts_with(k)) && keys >= 3;
        // `notAfter=Aug  6 13:11:20 2025 GMT`: a plain value followed by a number, not by a
        // command.
        let plain_value = !first.contains(['$', '"', '\'', '(', '`']);
        let number_next = words.get(1).is_some_and(|w| w.starts_with(|c: char| c.is_ascii_digit()));
        return logfmt || (plain_value && number_next);
    }
    // `cluster:`, `1)`, `-`, `{"level":...}`: no command starts like this.
    if !plausible_command_name(first) && !first.starts_with('"') {
        return true;
    }
    // `(integer) 7`, `(nil)`, `(439,226) |`: a reply or a tuple, not a subshell.
    let grouping = matches!(first, "(" | "((" | "[" | "[[" | "{" | "}" | "!" | "." | ":");
    if !grouping && (first.starts_with("(integer)") || first.starts_with("(nil)") || first.starts_with("(error)")) {
        return true;
    }
    if !grouping && !first.chars().any(|c| c.is_ascii_alphabetic()) && !first.starts_with(['$', '.', '/', '~']) {
        return true;
    }
    // `"msg"="trying to connect" "database"="OVN"`: logfmt with quoted keys.
    if first.starts_with('"') && first.contains("\"=") {
        return true;
    }
    if log_line(t, &words) {
        return true;
    }
    // `role:master`, `connected_slaves:4`: a `key:value` report line (Redis `INFO`).
    let key_value = first.split_once(':').is_some_and(|(k, v)| {
        !k.is_empty()
            && k.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            && !v.is_empty()
            && !v.contains('/')
    });
    if key_value {
        return true;
    }
    // `NAME  READY  STATUS`, `STARTING controllers ...`, `WARN ...`: commands are not upper case.
    let upper = first.len() > 1
        && first.chars().any(|c| c.is_ascii_alphabetic())
        && first.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || "_-".contains(c));
    if upper {
        return true;
    }
    // `37m Normal ...`, `3 full osd(s)`, `11/2142 objects`, a commit id: a count, a time, a hash.
    let hash =
        first.len() >= 7 && first.chars().all(|c| c.is_ascii_hexdigit()) && first.chars().any(|c| c.is_ascii_digit());
    if first.starts_with(|c: char| c.is_ascii_digit()) || hash {
        return true;
    }
    // `Ceph Monitor <pod> on host <hostX> has seen ...`, `Normal  Scheduled  5m`: a sentence or
    // a table row starting with a capitalised word.
    let capitalised = first.chars().next().is_some_and(|c| c.is_ascii_uppercase())
        && first.chars().skip(1).all(|c| c.is_ascii_lowercase() || ",.:;'".contains(c));
    if capitalised && words.len() >= 3 {
        return true;
    }
    // `changes per minute recently.`: prose, ending like a sentence, with nothing shell-like.
    let sentence = t.ends_with(['.', '?', '!'])
        && !t.ends_with("..")
        && words.len() >= 3
        && !t.contains(['$', '|', '>', '<', '=', '`', ';', '&', '/'])
        && !words.iter().any(|w| w.starts_with('-'));
    if sentence {
        return true;
    }
    // `could not read block ZZZZ in file "base/16401": read only 0 of NNNN bytes`,
    // `received unexpected HTTP status: 500 Internal Server Error`: a message, not a command.
    let shell_like = t.contains(['$', '|', '>', '<', '=', '`', ';', '&']) || words.iter().any(|w| w.starts_with('-'));
    let function_words = words
        .iter()
        .take(8)
        .filter(|w| {
            let w = w.to_ascii_lowercase();
            let w = w.trim_matches(|c: char| !c.is_ascii_alphabetic());
            matches!(
                w,
                "the"
                    | "of"
                    | "in"
                    | "to"
                    | "a"
                    | "an"
                    | "is"
                    | "are"
                    | "not"
                    | "for"
                    | "with"
                    | "from"
                    | "on"
                    | "was"
                    | "be"
                    | "this"
                    | "that"
                    | "has"
                    | "have"
                    | "will"
                    | "can"
                    | "could"
                    | "only"
                    | "it"
                    | "there"
            )
        })
        .count();
    let message = t.contains(": ") && words.len() >= 4 && first.chars().all(|c| c.is_ascii_lowercase());
    if !shell_like && words.len() >= 5 && (function_words >= 3 || message) {
        return true;
    }
    // Columns: three or more gaps of two spaces or more (`virt-handler   2   2   2   4h`).
    t.matches("  ").count() >= 3 && t.split("  ").filter(|c| !c.trim().is_empty()).count() >= 4
}

/// A row of a table drawn with bars (`   id    |    state    |`, `----+----`): bars set off by
/// runs of spaces, or a rule of dashes and `+`. A pipeline has single spaces around its bars.
pub(super) fn table_row(t: &str) -> bool {
    let padded = t.match_indices('|').filter(|(i, _)| t[..*i].ends_with("  ") || t[i + 1..].starts_with("  ")).count();
    let rule = t.len() > 3 && t.contains("-+-") && t.chars().all(|c| c == '-' || c == '+' || c == ' ');
    padded >= 2 || rule
}

/// `I0208 15:21:03.769731 ...` (klog), `Mar 20 13:17:56 host ...` (syslog), `2023-07-03T20:37`
/// or `2023/07/03 20:37` (a timestamp first), `[INFO] ...`, `ERROR: ...`.
fn log_line(t: &str, words: &[&str]) -> bool {
    let first = words.first().copied().unwrap_or("");
    let second = words.get(1).copied().unwrap_or("");
    let clock = |w: &str| {
        let b = w.as_bytes();
        b.len() >= 5 && b[0].is_ascii_digit() && b[1].is_ascii_digit() && b[2] == b':' && b[3].is_ascii_digit()
    };
    let klog = first.len() == 5
        && first.starts_with(['I', 'W', 'E', 'F'])
        && first[1..].chars().all(|c| c.is_ascii_digit())
        && clock(second);
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let syslog =
        MONTHS.contains(&first) && second.chars().all(|c| c.is_ascii_digit()) && words.get(2).is_some_and(|w| clock(w));
    let b = t.as_bytes();
    let date = b.len() >= 10
        && b[..4].iter().all(u8::is_ascii_digit)
        && matches!(b[4], b'-' | b'/')
        && b[5..7].iter().all(u8::is_ascii_digit)
        && matches!(b[7], b'-' | b'/');
    let level = |w: &str| {
        let w = w.trim_matches(['[', ']', ':']);
        matches!(w, "INFO" | "WARN" | "WARNING" | "ERROR" | "DEBUG" | "FATAL" | "TRACE" | "CRITICAL" | "PANIC")
    };
    klog || syslog || date || (first.starts_with('[') && level(first))
}

/// PromQL: a selector `metric{label="x"}`, a range `[5m]`, `sum by (x) (...)`, or a
/// function call such as `rate(` at the start, or a lone binary operator line.
pub(super) fn is_promql(t: &str) -> bool {
    const FUNCTIONS: &[&str] = &[
        "sum",
        "count",
        "avg",
        "max",
        "min",
        "topk",
        "bottomk",
        "rate",
        "irate",
        "increase",
        "delta",
        "histogram_quantile",
        "label_replace",
        "label_join",
        "absent",
        "ceil",
        "floor",
        "round",
        "scalar",
        "vector",
        "clamp_max",
        "clamp_min",
        "predict_linear",
        "deriv",
        "quantile",
        "stddev",
        "count_values",
        "group",
        "sort",
        "sort_desc",
        "time",
        "abs",
        "changes",
        "resets",
        "avg_over_time",
        "max_over_time",
        "min_over_time",
        "sum_over_time",
    ];
    if matches!(t, "or" | "and" | "unless" | "on" | "ignoring" | ")" | "(") {
        return true;
    }
    let head: String = t.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':').collect();
    let after = t[head.len()..].trim_start();
    let call = FUNCTIONS.contains(&head.as_str())
        && (after.starts_with('(') || after.starts_with("by") || after.starts_with("without"));
    let selector =
        !head.is_empty() && after.starts_with('{') && (t.contains("=\"") || t.contains("=~") || t.ends_with('{'));
    let range = t.contains("}[") || t.contains(")[");
    // `(etcd_mvcc_db_total_size_in_bytes / etcd_server_quota_backend_bytes) * 100`, or a metric
    // name alone (`node_filesystem_free_bytes`): arithmetic on metrics.
    let inner = t.trim_start_matches('(');
    let metric: String = inner.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':').collect();
    let rest = inner[metric.len()..].trim_start();
    let metric_like = metric.matches('_').count() >= 2;
    let arithmetic = metric_like
        && ["/ ", "* ", "+ ", "- ", "> ", "< ", "== ", ">= ", "<= ", ")"].iter().any(|op| rest.starts_with(op));
    const SUFFIXES: &[&str] = &["_total", "_bytes", "_seconds", "_count", "_sum", "_bucket", "_info", "_ratio"];
    let alone = metric_like && rest.is_empty() && SUFFIXES.iter().any(|x| metric.ends_with(x));
    call || selector || range || arithmetic || alone
}

/// Code in another language: `queue = Sidekiq::Queue.new(...)` (an assignment with spaces
/// around `=`, which the shell would run as a command named `queue`), `Errno::EHOSTUNREACH`.
pub(super) fn other_language(t: &str) -> bool {
    let mut words = t.split_whitespace();
    let first = words.next().unwrap_or("");
    let spaced_assignment =
        words.next() == Some("=") && first.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') && !first.is_empty();
    const SQL: &[&str] = &[
        "select", "show", "insert", "update", "delete", "create", "drop", "alter", "explain", "vacuum", "analyze",
        "grant", "revoke", "truncate", "begin", "commit", "rollback", "with", "pause", "resume", "reload", "kill",
    ];
    // `show databases;`, `SELECT * FROM t`: SQL typed into a database console. (The shell's
    // own `kill` or `set` is caught earlier as a known command.)
    let lower = first.to_ascii_lowercase();
    let sql = SQL.contains(&lower.trim_end_matches(';'))
        && (t.ends_with(';') || (first.chars().all(|c| c.is_ascii_uppercase()) && first.len() > 2));
    spaced_assignment || sql || (first.contains("::") && !first.contains('/'))
}
