-- Incidents, their hash-chained timelines, and API tokens. Times are integer milliseconds.
CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);
INSERT INTO counters (name, value) VALUES ('incident', 0);

-- A cache of the fold of each incident's events (state is the JSON of core::Incident); the
-- other columns exist for filtering and for the chain head.
CREATE TABLE incidents (
    id           BIGINT PRIMARY KEY,
    title        TEXT NOT NULL,
    severity     TEXT NOT NULL,
    status       TEXT NOT NULL,
    service      TEXT NOT NULL DEFAULT '',
    triggered_at BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    last_seq     BIGINT NOT NULL,
    last_hash    TEXT NOT NULL,
    state        TEXT NOT NULL
);
CREATE INDEX incidents_by_status ON incidents (status, id);
CREATE INDEX incidents_by_severity ON incidents (severity, id);
CREATE INDEX incidents_by_service ON incidents (service, id);

CREATE TABLE events (
    incident_id BIGINT NOT NULL,
    seq         BIGINT NOT NULL,
    at          BIGINT NOT NULL,
    actor       TEXT NOT NULL,
    type        TEXT NOT NULL,
    data        TEXT NOT NULL,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL,
    PRIMARY KEY (incident_id, seq)
);
CREATE INDEX events_by_time ON events (at);

-- The timeline is append-only. The hash chain detects tampering; this trigger stops accidents.
CREATE FUNCTION events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'timeline events are append-only';
END;
$$;
CREATE TRIGGER events_no_change BEFORE UPDATE OR DELETE ON events
FOR EACH ROW EXECUTE FUNCTION events_append_only();

CREATE TABLE tokens (
    id         BIGSERIAL PRIMARY KEY,
    name       TEXT NOT NULL,
    role       TEXT NOT NULL,
    hash       TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
