-- Keyed checkpoints of the hash chains (core/src/checkpoint.rs): every incident's head
-- (heads = JSON [{incident, seq, hash}] sorted by incident) at `at` (ms), with the
-- HMAC-SHA256 under a key the database does not hold. A database editor cannot forge a row;
-- deleting rows is caught by the copy of the newest one in the server's data directory.
CREATE TABLE chain_checkpoints (
    id     INTEGER PRIMARY KEY AUTOINCREMENT,
    at     BIGINT NOT NULL,
    key_id TEXT NOT NULL,
    heads  TEXT NOT NULL,
    mac    TEXT NOT NULL
);
CREATE INDEX chain_checkpoints_by_time ON chain_checkpoints (at, id);
