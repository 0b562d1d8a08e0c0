//! The only SQL that differs between SQLite and PostgreSQL. Everything else is written once.

/// Claim the jobs due at `$1`, at most `$2`. PostgreSQL skips rows another replica has
/// locked, so concurrent engines never fire the same job; SQLite's write lock already
/// serialises engines (and it rejects the clause).
pub(crate) fn claim_due_jobs(postgres: bool) -> &'static str {
    if postgres {
        "SELECT key, kind, incident_id FROM jobs WHERE due_at <= $1 ORDER BY due_at LIMIT $2 FOR UPDATE SKIP LOCKED"
    } else {
        "SELECT key, kind, incident_id FROM jobs WHERE due_at <= $1 ORDER BY due_at LIMIT $2"
    }
}

/// Claim up to `$2` outbox messages due at `$1` (pending, or claimed by a worker whose lease
/// has lapsed), leasing them until `$3`. PostgreSQL skips rows another replica is claiming.
pub(crate) fn claim_outbox(postgres: bool) -> &'static str {
    if postgres {
        "UPDATE outbox SET status = 'sending', next_at = $3 WHERE id IN (SELECT id FROM outbox \
         WHERE status IN ('pending', 'sending') AND next_at <= $1 ORDER BY next_at LIMIT $2 FOR UPDATE SKIP LOCKED) \
         RETURNING id, incident_id, event_seq, recipient, contact, template, message, status, attempts, next_at, \
         created_at, updated_at, last_error, last_status"
    } else {
        "UPDATE outbox SET status = 'sending', next_at = $3 WHERE id IN (SELECT id FROM outbox \
         WHERE status IN ('pending', 'sending') AND next_at <= $1 ORDER BY next_at LIMIT $2) \
         RETURNING id, incident_id, event_seq, recipient, contact, template, message, status, attempts, next_at, \
         created_at, updated_at, last_error, last_status"
    }
}

/// List alerts (`$1` incident or -1, `$2` firing only, `$3` limit), newest first, with the
/// highest count and last-seen time (ns) that the repeat log and `alert_counts` hold for each
/// (see `repeat_log`; `NULL`s on PostgreSQL, which has neither).
pub(crate) fn list_alerts(postgres: bool) -> &'static str {
    if postgres {
        "SELECT record, alert, NULL::BIGINT, NULL::BIGINT FROM alerts WHERE ($1 < 0 OR incident_id = $1) \
         AND ($2 = 0 OR status = 'firing') ORDER BY last_seen DESC, fingerprint LIMIT $3"
    } else {
        "SELECT a.record, a.alert, MAX(COALESCE(c.count, 0), COALESCE(r.count, 0)), \
         MAX(COALESCE(c.seen_ns, 0), COALESCE(r.seen_ns, 0)) FROM alerts a \
         LEFT JOIN alert_counts c ON c.fingerprint = a.fingerprint LEFT JOIN \
         (SELECT fingerprint, MAX(count) AS count, MAX(seen_ns) AS seen_ns FROM alert_repeats GROUP BY fingerprint) r \
         ON r.fingerprint = a.fingerprint WHERE ($1 < 0 OR a.incident_id = $1) AND ($2 = 0 OR a.status = 'firing') \
         ORDER BY MAX(a.last_seen, COALESCE(c.seen_ns / 1000000, 0), COALESCE(r.seen_ns / 1000000, 0)) DESC, \
         a.fingerprint LIMIT $3"
    }
}

/// A list of values as one JSON array parameter, for `IN (SELECT value FROM json_each($1))`
/// (SQLite) or `= ANY(ARRAY(SELECT jsonb_array_elements_text($1::jsonb)))` (PostgreSQL): one
/// statement and one parameter however long the list. (On PostgreSQL the `IN (SELECT ...)` form
/// is planned for the set function's default 100 rows, and once a table has a few thousand rows
/// a prepared statement's plan turns to a hash join over a scan of the whole table: 1 ms a
/// lookup at 6,000 incidents. `= ANY(ARRAY(...))` is an index scan at any size.)
pub(crate) fn json_list<T: serde::Serialize>(items: impl IntoIterator<Item = T>) -> String {
    serde_json::to_string(&items.into_iter().collect::<Vec<T>>()).expect("lists serialise")
}

/// Whether an error says the table does not exist: PostgreSQL's SQLSTATE 42P01; SQLite has
/// no code of its own for it (`SQLITE_ERROR`), only the message.
pub(crate) fn is_missing_table(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(d) => d.code().as_deref() == Some("42P01") || d.message().starts_with("no such table"),
        _ => false,
    }
}

/// `head`, then `rows` groups of `cols` parameters, then `tail` (an `ON CONFLICT` clause, or
/// empty). SQLite gets anonymous `?`: it finds a named parameter by scanning a list on every
/// bind (`sqlite3_bind_parameter_name`, which sqlx calls per parameter), so `$N` names cost
/// time quadratic in the parameters of a long statement (14% of the server's time in the
/// 100-alerts-per-request benchmark). PostgreSQL gets `$N`. Built once per shape and kept.
pub(crate) fn multi_row_insert(
    head: &'static str,
    cols: usize,
    rows: usize,
    tail: &'static str,
    postgres: bool,
) -> &'static str {
    use std::collections::HashMap;
    use std::sync::Mutex;
    /// (head, columns, rows, tail, PostgreSQL)
    type Shape = (&'static str, usize, usize, &'static str, bool);
    static BUILT: Mutex<Option<HashMap<Shape, &'static str>>> = Mutex::new(None);
    let mut built = BUILT.lock().expect("statement cache lock");
    let map = built.get_or_insert_with(HashMap::new);
    map.entry((head, cols, rows, tail, postgres)).or_insert_with(|| {
        let groups: Vec<String> = (0..rows)
            .map(|r| {
                let p: Vec<String> =
                    (1..=cols).map(|c| if postgres { format!("${}", r * cols + c) } else { "?".into() }).collect();
                format!("({})", p.join(", "))
            })
            .collect();
        // Leaked on purpose: one string per statement shape, a bounded handful per process.
        Box::leak(format!("{head}{}{tail}", groups.join(", ")).into_boxed_str())
    })
}
