//! Child process of the storage crash test (`tests/crash_store.rs`): opens the store at argv[1]
//! and commits the deterministic chain of seed argv[2] until killed or at height argv[3],
//! printing `committed <height> <hash>` after each commit returns (so every printed line is an
//! acknowledged, durable commit).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use ledger::storage::Store;
use waybill_tests::store_chain::commit_next;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (Some(dir), Some(seed), Some(max)) = (
        args.get(1).map(PathBuf::from),
        args.get(2).and_then(|s| s.parse::<u64>().ok()),
        args.get(3).and_then(|s| s.parse::<u64>().ok()),
    ) else {
        eprintln!("usage: crash_writer <dir> <seed> <max-height>");
        return ExitCode::from(2);
    };
    let store = match Store::open(&dir) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("crash_writer: open {}: {e}", dir.display());
            return ExitCode::FAILURE;
        }
    };
    let mut out = std::io::stdout().lock();
    loop {
        if store.head().is_some_and(|h| h.height >= max) {
            return ExitCode::SUCCESS;
        }
        let info = match commit_next(&store, seed) {
            Ok(info) => info,
            Err(e) => {
                eprintln!("crash_writer: commit: {e}");
                return ExitCode::FAILURE;
            }
        };
        // A closed pipe means the parent is gone: stop quietly.
        // One write per line (under PIPE_BUF, so atomic on a pipe): a kill never tears a line.
        let line = format!("committed {} {}\n", info.height, info.hash);
        if out
            .write_all(line.as_bytes())
            .and_then(|_| out.flush())
            .is_err()
        {
            return ExitCode::SUCCESS;
        }
    }
}
