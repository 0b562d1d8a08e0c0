-- Imported runbooks, versioned: a re-import with changed content adds a version; runs keep the
-- version they started with. `parsed` is the runbook crate's JSON of the content.
CREATE TABLE runbooks (
    name        TEXT NOT NULL,
    version     BIGINT NOT NULL,
    title       TEXT NOT NULL,
    source      TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    content     TEXT NOT NULL,
    parsed      TEXT NOT NULL,
    imported_at BIGINT NOT NULL,
    imported_by TEXT NOT NULL,
    PRIMARY KEY (name, version)
);
