//! The `sevwatch` binary as a user runs it: a real `serve` process on an ephemeral port, and
//! CLI commands against it.

mod alerts;
mod comms;
mod crash;
mod helpers;
mod prometheus_e2e;
mod replicas;
mod runbooks;
mod seed_runs;
mod terminal;
mod walkthrough;
