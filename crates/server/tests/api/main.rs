//! The HTTP API end to end: a real server on an ephemeral port, driven as a client would.

mod alerts;
mod authz;
mod connections;
mod engine;
mod helpers;
mod incidents;
mod ingest_limits;
mod oncall;
mod outbox;
mod robustness;
mod runbooks;
mod security;
mod stream;
mod tamper;
