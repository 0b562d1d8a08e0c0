-- Alerts by fingerprint (record = core::alert::AlertRecord JSON, alert = the latest
-- normalised core::alert::Alert JSON), the open incident of each alert group, silences, and
-- durable timers (jobs) such as auto-resolve.
CREATE TABLE alerts (
    fingerprint TEXT PRIMARY KEY,
    source      TEXT NOT NULL,
    status      TEXT NOT NULL,
    incident_id BIGINT,
    group_key   TEXT NOT NULL,
    last_seen   BIGINT NOT NULL,
    record      TEXT NOT NULL,
    alert       TEXT NOT NULL
);
CREATE INDEX alerts_by_incident ON alerts (incident_id, fingerprint);

CREATE TABLE alert_groups (
    group_key   TEXT PRIMARY KEY,
    incident_id BIGINT NOT NULL
);

CREATE TABLE silences (
    id         TEXT PRIMARY KEY,
    silence    TEXT NOT NULL,
    starts_at  BIGINT NOT NULL,
    ends_at    BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX silences_by_end ON silences (ends_at);

-- A future action: fired once by whichever engine claims it first.
CREATE TABLE jobs (
    key         TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    incident_id BIGINT,
    due_at      BIGINT NOT NULL,
    attempt     BIGINT NOT NULL DEFAULT 0,
    payload     TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX jobs_by_due ON jobs (due_at);
