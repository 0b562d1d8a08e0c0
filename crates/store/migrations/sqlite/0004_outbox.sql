-- Messages to deliver, each written in the transaction of the timeline event that caused it
-- (message = notify::Notification JSON, NULL when its template failed to render; contact =
-- core::oncall::ContactMethod JSON for a user's contact, NULL for a channel). status is
-- pending | sending | sent | dead; for pending rows next_at is when to try, for sending rows
-- when the claim lapses (a worker that died mid-delivery), so one index serves both.
CREATE TABLE outbox (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id BIGINT NOT NULL,
    event_seq   BIGINT NOT NULL,
    recipient   TEXT NOT NULL,
    contact     TEXT,
    template    TEXT NOT NULL,
    message     TEXT,
    status      TEXT NOT NULL,
    attempts    BIGINT NOT NULL DEFAULT 0,
    next_at     BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    last_error  TEXT,
    last_status BIGINT
);
CREATE INDEX outbox_due ON outbox (status, next_at);
CREATE INDEX outbox_by_incident ON outbox (incident_id, id);

-- Every delivery attempt: outcome ok | retry | fail, the receiver's status code, the error.
CREATE TABLE outbox_attempts (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    outbox_id   BIGINT NOT NULL REFERENCES outbox (id),
    at          BIGINT NOT NULL,
    duration_ms BIGINT NOT NULL,
    outcome     TEXT NOT NULL,
    status_code BIGINT,
    error       TEXT
);
CREATE INDEX outbox_attempts_by_message ON outbox_attempts (outbox_id, id);

-- People added or edited through the API (contacts = [ContactMethod] JSON). A row here
-- takes precedence over a [[users]] entry of the same id in sevwatch.toml.
CREATE TABLE users (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    contacts   TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
