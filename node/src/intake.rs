//! Gossiped transactions are verified off the driver's loop: this task drains gossip messages
//! (batches of transactions, see `gossip`), decodes them, skips transactions already pending,
//! batch-verifies the rest on a blocking thread and admits the good ones to the shared mempool.
//! Its input queue is bounded; when full, gossip is dropped (the sender's own node still has the
//! transactions).

use std::sync::Arc;

use engine::signature_checks::CheckedVia;
use ledger::storage::Store;
use ledger::SignedTransaction;
use tokio::sync::{mpsc, Notify};
use tracing::debug;

use crate::driver::StoreView;
use crate::mempool::SharedMempool;

/// Gossip messages waiting for verification.
pub const INTAKE_QUEUE: usize = 1_024;
/// Gossip messages taken at once: their transactions are verified as one batch.
const MESSAGES_PER_ROUND: usize = 8;

/// Where admitted gossip goes.
pub struct IntakeSink {
    pub mempool: SharedMempool,
    pub store: Arc<Store>,
    /// Wakes a leader holding back a proposal for lack of transactions.
    pub admitted: Arc<Notify>,
}

pub async fn run(chain_id: String, mut raw: mpsc::Receiver<Vec<u8>>, sink: IntakeSink) {
    let mut messages = Vec::with_capacity(MESSAGES_PER_ROUND);
    while raw.recv_many(&mut messages, MESSAGES_PER_ROUND).await > 0 {
        // A full mempool would refuse them all after their signatures were checked; they reach
        // this node again in proposals.
        if sink.mempool.lock().check_room().is_err() {
            messages.clear();
            continue;
        }
        let mut txs = Vec::new();
        for message in messages.drain(..) {
            let batch = match crate::gossip::decode_batch(&message) {
                Ok(batch) => batch,
                Err(e) => {
                    debug!(error = %e, "undecodable gossip message");
                    continue;
                }
            };
            txs.extend(
                batch
                    .iter()
                    .filter_map(|b| match SignedTransaction::from_bytes(b) {
                        Ok(t) => Some(t),
                        Err(e) => {
                            debug!(error = %e, "undecodable gossiped transaction");
                            None
                        }
                    }),
            );
        }
        // Transactions already pending here (they came around again) would only be refused as
        // duplicates: they are dropped before anyone checks their signatures again.
        let unknown: Vec<SignedTransaction> = {
            let pool = sink.mempool.lock();
            txs.into_iter().filter(|t| !pool.holds(t)).collect()
        };
        let mut good = Vec::new();
        if !unknown.is_empty() {
            sink.mempool
                .signature_checks()
                .add(CheckedVia::Gossip, unknown.len());
            let chain = chain_id.clone();
            let Ok((unknown, results)) = tokio::task::spawn_blocking(move || {
                crate::priority::lower_this_thread_for_checking();
                let results = crate::payload::verify_in_parallel(&chain, &unknown);
                (unknown, results)
            })
            .await
            else {
                return;
            };
            let checked: Vec<SignedTransaction> = unknown
                .into_iter()
                .zip(results)
                .filter_map(|(t, r)| r.ok().map(|()| t))
                .collect();
            good.extend(checked);
        }
        if good.is_empty() {
            continue;
        }
        let mut admitted = false;
        {
            let now = crate::driver::now_ms();
            let mut pool = sink.mempool.lock();
            for tx in good {
                admitted |= pool
                    .admit_gossiped(tx, &StoreView(&sink.store), now)
                    .is_ok();
            }
        }
        if admitted {
            sink.admitted.notify_one();
        }
    }
}
