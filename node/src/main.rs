//! The `waybill` binary: one command with subcommands for operators, clients and auditors.

mod cli;

use std::process::ExitCode;

use clap::Parser;

/// jemalloc rather than glibc's allocator. Under steady load glibc's heap fragmented (a
/// validator's resident memory kept rising for 10 minutes), and the workaround of giving large
/// allocations their own mappings cost a page fault per page of every block and proposal
/// buffer: allocation and page faults were a fifth of a validator's CPU. RocksDB's C++ heap
/// fragmented glibc's the same way (after five minutes at 6,150 tx/s glibc held 80-100 MiB
/// freed but not returned), so jemalloc also replaces `malloc` itself (the workspace's
/// `unprefixed_malloc_on_supported_platforms`). Measured in `BENCHMARKS.md`.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    match cli::run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
