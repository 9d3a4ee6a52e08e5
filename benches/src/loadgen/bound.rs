//! The machine's signature-verification bound, measured in the run it qualifies.
//!
//! Every validator verifies every transaction once, so N validators sharing C cores can commit
//! at most `C x (per-core batch-verify rate) / N` transactions per second. The rate is measured
//! with `ledger::tx::verify_transactions` (what the node's intake calls, batches of 512) on all
//! cores at once, over the run's own presigned transactions, while the validators are idle.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ledger::tx::verify_transactions;
use ledger::SignedTransaction;
use serde::Serialize;

use super::LoadgenError;

/// The node intake's batch size (`node/src/intake.rs`).
pub const BATCH: usize = 512;

#[derive(Clone, Debug, Serialize)]
pub struct Bound {
    pub cores: usize,
    pub validators: usize,
    /// Signatures verified per second by all cores together.
    pub verify_rate_all_cores: f64,
    pub verify_rate_per_core: f64,
    /// `verify_rate_all_cores / validators`: the most the cluster could commit.
    pub bound_tx_per_s: f64,
    pub sample_txs: usize,
    pub measured_s: f64,
}

/// Batch-verifies `sample` over and over on `cores` threads for `secs`.
pub fn measure(
    chain_id: &str,
    sample: &[SignedTransaction],
    cores: usize,
    validators: usize,
    secs: f64,
) -> Result<Bound, LoadgenError> {
    if sample.len() < BATCH {
        return Err(LoadgenError::Usage(format!(
            "the signature bound needs at least {BATCH} transactions, the run has {}",
            sample.len()
        )));
    }
    // Once, outside the clock: a failure here is a generator bug, not a slow machine.
    if let Some(e) = verify_transactions(chain_id, &sample[..BATCH])
        .into_iter()
        .find_map(Result::err)
    {
        return Err(LoadgenError::BadPresigned(e.to_string()));
    }
    let cores = cores.max(1);
    let verified = AtomicU64::new(0);
    let stop = AtomicBool::new(false);
    let chunks: Vec<&[SignedTransaction]> = sample.chunks_exact(BATCH).collect();
    let start = Instant::now();
    std::thread::scope(|s| {
        for t in 0..cores {
            let (verified, stop, chunks) = (&verified, &stop, &chunks);
            s.spawn(move || {
                // Threads start on different chunks so they do not share cache lines of one batch.
                let mut k = t;
                while !stop.load(Ordering::Relaxed) {
                    let chunk = chunks[k % chunks.len()];
                    let ok = verify_transactions(chain_id, chunk)
                        .iter()
                        .filter(|r| r.is_ok())
                        .count();
                    verified.fetch_add(ok as u64, Ordering::Relaxed);
                    k += 1;
                }
            });
        }
        std::thread::sleep(Duration::from_secs_f64(secs.max(0.5)));
        stop.store(true, Ordering::Relaxed);
    });
    // Threads finish the batch in hand after `stop`; count the time they took for it too.
    let elapsed = start.elapsed().as_secs_f64();
    let all = verified.load(Ordering::Relaxed) as f64 / elapsed;
    Ok(Bound {
        cores,
        validators,
        verify_rate_all_cores: all,
        verify_rate_per_core: all / cores as f64,
        bound_tx_per_s: all / validators.max(1) as f64,
        sample_txs: sample.len(),
        measured_s: elapsed,
    })
}
