//! The only SQL that differs between SQLite and PostgreSQL. Everything else is written once.

/// Read an incident for update. PostgreSQL locks the row so that replicas sharing the database
/// serialise their writes to one incident; SQLite needs no lock because `BEGIN IMMEDIATE`
/// already holds the database's single write lock (and it rejects `FOR UPDATE`).
pub(crate) fn select_incident_for_update(postgres: bool) -> &'static str {
    if postgres {
        "SELECT state, last_hash FROM incidents WHERE id = $1 FOR UPDATE"
    } else {
        "SELECT state, last_hash FROM incidents WHERE id = $1"
    }
}

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

/// `head` followed by `rows` groups of `cols` parameters: anonymous `?` on SQLite (which looks
/// named parameters up by scanning a list, quadratic over a long statement), `$N` on
/// PostgreSQL. Built once per shape and kept.
pub(crate) fn multi_row_insert(head: &'static str, cols: usize, rows: usize, postgres: bool) -> &'static str {
    use std::collections::HashMap;
    use std::sync::Mutex;
    /// (statement head, columns, rows, PostgreSQL)
    type Shape = (&'static str, usize, usize, bool);
    static BUILT: Mutex<Option<HashMap<Shape, &'static str>>> = Mutex::new(None);
    let mut built = BUILT.lock().expect("statement cache lock");
    let map = built.get_or_insert_with(HashMap::new);
    map.entry((head, cols, rows, postgres)).or_insert_with(|| {
        let groups: Vec<String> = (0..rows)
            .map(|r| {
                let p: Vec<String> =
                    (1..=cols).map(|c| if postgres { format!("${}", r * cols + c) } else { "?".into() }).collect();
                format!("({})", p.join(", "))
            })
            .collect();
        // Leaked on purpose: one string per statement shape, a bounded handful per process.
        Box::leak(format!("{head}{}", groups.join(", ")).into_boxed_str())
    })
}
