-- Repeats of a firing alert that changed nothing but its count and last-seen time, appended
-- to `alert_repeats` instead of rewriting the alert's row (SQLite only; see
-- store/src/repeat_log.rs). Each row holds the record's count and last-seen time (ns) after
-- that repeat. No index: rows are only appended, and read whole when folded into
-- `alert_counts`, or scanned when a record is read back cold (the log stays short).
CREATE TABLE alert_repeats (
    id          INTEGER PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    count       BIGINT NOT NULL,
    seen_ns     BIGINT NOT NULL
);
-- The log folded: each alert's highest logged count and last-seen time. An alert's count is
-- the highest of its record's, this row's and its logged rows'; likewise its last-seen time.
CREATE TABLE alert_counts (
    fingerprint TEXT PRIMARY KEY,
    count       BIGINT NOT NULL,
    seen_ns     BIGINT NOT NULL
) WITHOUT ROWID;
