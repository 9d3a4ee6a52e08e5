//! Crash consistency of the store: a child process commits blocks and is killed with SIGKILL at
//! random moments, over and over, in the same directory. After each kill the store must open
//! (which verifies the blocks after the verified-up-to marker, which the kill may have left
//! behind the head), pass the full chain check, hold every block the child acknowledged, and hold
//! exactly the bytes the deterministic chain defines.
//!
//! Replay a failure with `WAYBILL_CRASH_SEED=<seed>` (the seed is printed).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ledger::storage::Store;
use ledger::Hash;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use waybill_tests::store_chain::commit_next;

const KILLS: usize = 50;

#[test]
fn store_survives_sigkill() {
    let seed: u64 = std::env::var("WAYBILL_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| rand::thread_rng().gen());
    eprintln!("crash test seed {seed} (WAYBILL_CRASH_SEED={seed} to replay)");
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let dir = tempfile::tempdir().unwrap();
    let reference_dir = tempfile::tempdir().unwrap();
    // The same chain committed without crashes: what the crashed store must equal.
    let reference = Store::open(reference_dir.path()).unwrap();
    let started = Instant::now();
    let mut acknowledged: Vec<(u64, Hash)> = Vec::new();
    let mut mid_commit_kills = 0;

    for round in 0..KILLS {
        let mut child = Command::new(env!("CARGO_BIN_EXE_crash_writer"))
            .arg(dir.path())
            .arg(seed.to_string())
            .arg(u64::MAX.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn crash_writer");
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        // Sometimes kill during open and recovery (0 lines), mostly in the commit loop.
        let wait_lines = if rng.gen_bool(0.2) {
            0
        } else {
            rng.gen_range(1..20)
        };
        let mut line = String::new();
        for _ in 0..wait_lines {
            line.clear();
            let n = stdout.read_line(&mut line).unwrap();
            if n == 0 {
                let status = child.wait().unwrap();
                panic!("round {round}: crash_writer exited early with {status}");
            }
            acknowledged.push(parse(&line));
        }
        std::thread::sleep(Duration::from_millis(rng.gen_range(0..=50)));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        // Lines already in the pipe were printed after their commits returned: acknowledged too.
        // A line cut by the kill (no newline) was not fully printed, so it acknowledges nothing.
        loop {
            line.clear();
            if stdout.read_line(&mut line).unwrap() == 0 {
                break;
            }
            if !line.ends_with('\n') {
                break;
            }
            acknowledged.push(parse(&line));
        }

        let store = Store::open(dir.path())
            .unwrap_or_else(|e| panic!("round {round} (seed {seed}): reopen failed: {e}"));
        store
            .verify_chain()
            .unwrap_or_else(|e| panic!("round {round} (seed {seed}): full check failed: {e}"));
        assert_eq!(
            store
                .verified_marker()
                .unwrap()
                .map(|m| (m.height, m.block_hash)),
            store.head().map(|h| (h.height, h.hash)),
            "round {round}: the open leaves the marker at the head"
        );
        let head = store.head().map_or(0, |h| h.height);
        if let Some(&(h, _)) = acknowledged.last() {
            assert!(
                head >= h,
                "round {round}: head {head} behind acknowledged {h}"
            );
            if head > h {
                mid_commit_kills += 1; // durable but unacknowledged: allowed
            }
        }
        while reference.head().is_none_or(|h| h.height < head) {
            commit_next(&reference, seed).unwrap();
        }
        for &(h, hash) in &acknowledged {
            let stored = store.block_by_height(h).unwrap();
            let stored =
                stored.unwrap_or_else(|| panic!("round {round}: acknowledged block {h} lost"));
            assert_eq!(stored.block.hash(), hash, "round {round}: block {h}");
        }
        if store.head().is_some() {
            for h in 0..=head {
                assert_eq!(
                    store.block_bytes(h).unwrap(),
                    reference.block_bytes(h).unwrap(),
                    "round {round}: block {h} differs from the deterministic chain"
                );
            }
            assert_eq!(store.accumulator_size(), acc_size_at(&reference, head));
        }
    }
    eprintln!(
        "{KILLS} kills, {} acknowledged commits, {mid_commit_kills} rounds ended with an \
         unacknowledged durable commit, {:?}",
        acknowledged.len(),
        started.elapsed()
    );
    assert!(
        acknowledged.len() >= KILLS / 2,
        "the writer barely committed anything"
    );
}

fn parse(line: &str) -> (u64, Hash) {
    let mut parts = line.split_whitespace();
    assert_eq!(parts.next(), Some("committed"), "unexpected line {line:?}");
    let h = parts.next().and_then(|s| s.parse().ok()).expect("height");
    let hash = parts.next().and_then(|s| s.parse().ok()).expect("hash");
    (h, hash)
}

fn acc_size_at(store: &Store, height: u64) -> u64 {
    store
        .block_by_height(height)
        .unwrap()
        .unwrap()
        .accumulator_size_after
}
