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

/// jemalloc's options, read by jemalloc itself at its first allocation (the `MALLOC_CONF`
/// environment variable still adds to them). With its default of four arenas per core, a
/// validator at half of saturation held 45-97 MiB of freed pages beyond what it had allocated,
/// more after each mempool backlog, so its resident set kept rising for 10 minutes while its
/// allocations levelled off. Two arenas held 25-55 MiB, the resident set levelled off at
/// 210-240 MiB, and saturation throughput did not drop; a background thread returning pages
/// after a second held less still but cost about a twentieth of the saturation throughput
/// (`BENCHMARKS.md`, third pass).
#[export_name = "malloc_conf"]
static JEMALLOC_OPTIONS: JemallocOptions = JemallocOptions(c"narenas:2".as_ptr());

/// jemalloc reads `malloc_conf` as a C `const char *`; a bare pointer is not `Sync`.
#[repr(transparent)]
struct JemallocOptions(*const std::ffi::c_char);

// SAFETY: the pointer is to a static, immutable, NUL-terminated string literal.
unsafe impl Sync for JemallocOptions {}

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    match cli::run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            cli::output::stderr(format_args!("error: {e:#}"));
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use tikv_jemalloc_ctl::opt;

    /// The options reach jemalloc: a misspelt symbol name or option would leave the defaults
    /// silently in place.
    #[test]
    fn jemalloc_runs_with_the_validator_options() {
        assert_eq!(opt::narenas::read().expect("opt.narenas"), 2);
    }
}
