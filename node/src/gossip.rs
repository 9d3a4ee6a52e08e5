//! Transactions are gossiped in batches: one gossipsub message carries up to
//! [`MAX_GOSSIP_BATCH_TXS`] transactions admitted within [`GOSSIP_LINGER`] of each other.
//!
//! One message per transaction overflowed gossipsub's send queues at a few thousand
//! transactions a second (each message is signed, forwarded and checked on its own), and the
//! flood of gossip delayed the consensus messages sharing the connections: commits stalled while
//! clients submitted. A batch costs one envelope, one signature and one check.
//!
//! Wire format of a batch (the gossip message's data): BCS `Vec<Vec<u8>>`, each element a
//! signed transaction's canonical bytes.

use std::time::Duration;

use ledger::encoding::{from_canonical, to_canonical};
use tokio::sync::mpsc;
use tracing::debug;

use crate::network::NetworkHandle;

/// Most transactions in one gossip message.
pub const MAX_GOSSIP_BATCH_TXS: usize = 512;
// The engine's long-pending transactions, offered again, fit one batch.
const _: () = assert!(engine::regossip::MAX_REGOSSIP_TXS <= MAX_GOSSIP_BATCH_TXS);

/// Most bytes of transactions in one gossip message (the network's gossip limit is above it).
pub const MAX_GOSSIP_BATCH_BYTES: usize = 512 << 10;
/// How long the first transaction of a batch waits for company: short against a commit's
/// latency, long enough to fill batches under load.
pub const GOSSIP_LINGER: Duration = Duration::from_millis(5);
/// Admitted transactions waiting to be gossiped. Beyond it gossip is dropped, which costs
/// nothing but speed: the transaction is in this node's mempool and it proposes it when it leads.
pub const GOSSIP_QUEUE: usize = 32_768;

/// Why gossip bytes are not a batch.
#[derive(Debug, thiserror::Error)]
pub enum GossipError {
    #[error(transparent)]
    Decode(#[from] ledger::encoding::DecodeError),
    #[error("gossip batch of {count} transactions, at most {max}")]
    TooMany { count: usize, max: usize },
}

pub fn encode_batch(txs: &[Vec<u8>]) -> Vec<u8> {
    to_canonical(txs)
}

/// The transactions' bytes, as slices of `bytes`: every receiver decodes every batch, and
/// copying each transaction out first was a twentieth of the intake's time.
pub fn decode_batch(bytes: &[u8]) -> Result<Vec<&[u8]>, GossipError> {
    // BCS framing adds a few bytes per element; anything larger than this is not ours.
    let max_len = MAX_GOSSIP_BATCH_BYTES + 8 * MAX_GOSSIP_BATCH_TXS + 8;
    let txs: Vec<&[u8]> = from_canonical("gossip batch", bytes, max_len)?;
    if txs.len() > MAX_GOSSIP_BATCH_TXS {
        return Err(GossipError::TooMany {
            count: txs.len(),
            max: MAX_GOSSIP_BATCH_TXS,
        });
    }
    Ok(txs)
}

/// Collects admitted transactions' bytes and publishes them in batches until the sending side
/// closes.
pub async fn run_batcher(mut admitted: mpsc::Receiver<Vec<u8>>, net: NetworkHandle) {
    let mut batch: Vec<Vec<u8>> = Vec::with_capacity(MAX_GOSSIP_BATCH_TXS);
    while let Some(first) = admitted.recv().await {
        let mut bytes = first.len();
        batch.push(first);
        let deadline = tokio::time::Instant::now() + GOSSIP_LINGER;
        while batch.len() < MAX_GOSSIP_BATCH_TXS {
            let next = match admitted.try_recv() {
                Ok(tx) => tx,
                Err(_) => match tokio::time::timeout_at(deadline, admitted.recv()).await {
                    Ok(Some(tx)) => tx,
                    Ok(None) | Err(_) => break,
                },
            };
            if bytes + next.len() > MAX_GOSSIP_BATCH_BYTES {
                publish(&net, &batch);
                batch.clear();
                bytes = 0;
            }
            bytes += next.len();
            batch.push(next);
        }
        publish(&net, &batch);
        batch.clear();
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
    fn batches_round_trip_and_oversized_ones_are_refused() {
        let txs = vec![vec![1u8, 2, 3], vec![], vec![9; 300]];
        assert_eq!(decode_batch(&encode_batch(&txs)).unwrap(), txs);
        let too_many = vec![vec![0u8]; MAX_GOSSIP_BATCH_TXS + 1];
        assert!(matches!(
            decode_batch(&encode_batch(&too_many)),
            Err(GossipError::TooMany { .. })
        ));
        assert!(decode_batch(&[0xff, 0xff]).is_err());
        let mut trailing = encode_batch(&txs);
        trailing.push(0);
        assert!(decode_batch(&trailing).is_err());
    }
}
