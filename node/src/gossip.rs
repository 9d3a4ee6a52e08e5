//! Transactions are gossiped in batches: one gossipsub message carries up to
//! [`MAX_GOSSIP_BATCH_TXS`] transactions. Batches leave at most once per [`GOSSIP_LINGER`]: a
//! transaction admitted after a quiet spell leaves at once, one admitted soon after the last batch
//! waits for the linger to end and leaves with the others that came meanwhile (see
//! [`batch_due`]).
//!
//! One message per transaction overflowed gossipsub's send queues at a few thousand
//! transactions a second (each message is signed, forwarded and checked on its own), and the
//! flood of gossip delayed the consensus messages sharing the connections: commits stalled while
//! clients submitted. A batch costs one envelope, one signature and one check.
//!
//! A batch's byte format (the gossip message's data) is `engine::gossip_batch`'s.

use std::time::Duration;

pub use engine::gossip_batch::{
    decode_batch, encode_batch, GossipError, MAX_GOSSIP_BATCH_BYTES, MAX_GOSSIP_BATCH_TXS,
};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tracing::debug;

use crate::network::NetworkHandle;

/// Least time between two batches: short against a commit's latency, long enough to fill
/// batches under load.
pub const GOSSIP_LINGER: Duration = Duration::from_millis(5);
/// Groups of admitted transactions waiting to be gossiped: a group is one client call's
/// admissions (at most `rpc::types::MAX_SUBMIT_BATCH`) or one poll's offer again (at most
/// `engine::regossip::MAX_REGOSSIP_TXS`). Beyond it gossip is dropped, which costs nothing but
/// speed: the transactions are in this node's mempool and it proposes them when it leads.
pub const GOSSIP_QUEUE: usize = 1_024;

/// One client call's admitted transactions (or one regossip poll's), as canonical bytes. A call
/// travels as one group so that a batch never leaves with only the first part of it.
pub type GossipGroup = Vec<Vec<u8>>;

/// When a batch whose first transaction arrived at `now` leaves, the last batch having left at
/// `last`. After a quiet spell it leaves at once: at 1,000 tx/s a validator's transactions came
/// in one client call every 10 ms, and each waited the whole linger for company that never came,
/// about 5 of the 12 ms from submission to proposal. Under load batches still leave one linger
/// apart, as full as before.
pub fn batch_due(last: Option<Instant>, now: Instant) -> Instant {
    match last {
        Some(last) => now.max(last + GOSSIP_LINGER),
        None => now,
    }
}

/// Collects admitted transactions' bytes and publishes them in batches until the sending side
/// closes.
pub async fn run_batcher(mut admitted: mpsc::Receiver<GossipGroup>, net: NetworkHandle) {
    let mut batch = Batch::default();
    let mut last_publish: Option<Instant> = None;
    while let Some(first) = admitted.recv().await {
        batch.extend(first, &net);
        let deadline = batch_due(last_publish, Instant::now());
        while !batch.is_full() {
            let next = match admitted.try_recv() {
                Ok(group) => group,
                Err(_) => match tokio::time::timeout_at(deadline, admitted.recv()).await {
                    Ok(Some(group)) => group,
                    Ok(None) | Err(_) => break,
                },
            };
            batch.extend(next, &net);
        }
        batch.publish(&net);
        last_publish = Some(Instant::now());
    }
}

/// The batch being filled, within [`MAX_GOSSIP_BATCH_TXS`] and [`MAX_GOSSIP_BATCH_BYTES`].
#[derive(Default)]
struct Batch {
    txs: Vec<Vec<u8>>,
    bytes: usize,
}

impl Batch {
    /// Adds a group's transactions, publishing the batch whenever the next would not fit.
    fn extend(&mut self, group: GossipGroup, net: &NetworkHandle) {
        for tx in group {
            if self.is_full() || self.bytes + tx.len() > MAX_GOSSIP_BATCH_BYTES {
                self.publish(net);
            }
            self.bytes += tx.len();
            self.txs.push(tx);
        }
    }

    fn is_full(&self) -> bool {
        self.txs.len() >= MAX_GOSSIP_BATCH_TXS
    }

    fn publish(&mut self, net: &NetworkHandle) {
        publish(net, &self.txs);
        self.txs.clear();
        self.bytes = 0;
    }
}

fn publish(net: &NetworkHandle, batch: &[Vec<u8>]) {
    if batch.is_empty() {
        return;
    }
    if let Err(e) = net.publish_tx(encode_batch(batch)) {
        debug!(error = %e, txs = batch.len(), "gossiping a batch of transactions failed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_after_a_quiet_spell_leaves_at_once_and_batches_stay_a_linger_apart() {
        let t0 = Instant::now();
        assert_eq!(batch_due(None, t0), t0);
        let idle = t0 + GOSSIP_LINGER * 3;
        assert_eq!(batch_due(Some(t0), idle), idle);
        let soon = t0 + GOSSIP_LINGER / 5;
        assert_eq!(batch_due(Some(t0), soon), t0 + GOSSIP_LINGER);
        assert_eq!(batch_due(Some(t0), t0 + GOSSIP_LINGER), t0 + GOSSIP_LINGER);
    }
}
