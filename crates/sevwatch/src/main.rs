//! The `sevwatch` binary: `serve` runs the server; every other subcommand is a client of its
//! HTTP API (so the rules live in one place), except `config`, which works on files.
//!
//! Exit codes: 0 success; 1 the operation failed (the API refused it, the server is
//! unreachable, verification found tampering, a config file is invalid); 2 bad command line.

mod cli;

/// jemalloc instead of the system allocator: glibc keeps what a burst allocated (an idle
/// connection flood measured 56 MiB after the burst against 21 MiB before, and 176 MiB after
/// 10,000 held connections); jemalloc gives freed pages back within seconds (30 and 32 MiB in
/// the same runs, bench/idle_flood.py). A pager must not stay bloated after an attack.
#[cfg(all(unix, not(target_env = "musl")))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> std::process::ExitCode {
    cli::main()
}
