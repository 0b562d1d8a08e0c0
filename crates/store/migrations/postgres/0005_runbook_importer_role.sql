-- The role of the token that imported each runbook version: server-side execution runs only
-- versions imported with an admin token. Versions imported before this column existed count as
-- not imported by an admin (re-import them with an admin token to run them on the server).
ALTER TABLE runbooks ADD COLUMN imported_by_role TEXT NOT NULL DEFAULT '';
