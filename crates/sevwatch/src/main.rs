//! The `sevwatch` binary: `serve` runs the server; every other subcommand is a client of its
//! HTTP API (so the rules live in one place), except `config`, which works on files.
//!
//! Exit codes: 0 success; 1 the operation failed (the API refused it, the server is
//! unreachable, verification found tampering, a config file is invalid); 2 bad command line.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
