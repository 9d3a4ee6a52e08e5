//! The byte format of a gossip message: a batch of transactions. Its one owner, beside the
//! engine's other wire formats, so that the fuzz build reaches it without RocksDB (the node's
//! `gossip` module batches and publishes; this decides what a batch is).
//!
//! A batch is BCS `Vec<Vec<u8>>`, each element a signed transaction's canonical bytes, at most
//! [`MAX_GOSSIP_BATCH_TXS`] of them. Each element is decoded on its own afterwards (a bad one
//! costs only itself).

use ledger::encoding::{from_canonical, to_canonical, DecodeError};

/// Most transactions in one gossip message.
pub const MAX_GOSSIP_BATCH_TXS: usize = 512;
// The engine's long-pending transactions, offered again, fit one batch.
const _: () = assert!(crate::regossip::MAX_REGOSSIP_TXS <= MAX_GOSSIP_BATCH_TXS);

/// Most bytes of transactions in one gossip message (the network's gossip limit is above it).
pub const MAX_GOSSIP_BATCH_BYTES: usize = 512 << 10;

/// Most bytes a batch's encoding may take: the transactions' bytes plus BCS framing, a few
/// bytes per element. Anything longer is not a batch a node makes, and is refused before it is
/// decoded.
pub const MAX_GOSSIP_MESSAGE_BYTES: usize = MAX_GOSSIP_BATCH_BYTES + 8 * MAX_GOSSIP_BATCH_TXS + 8;

/// Why gossip bytes are not a batch.
#[derive(Debug, thiserror::Error)]
pub enum GossipError {
    #[error(transparent)]
    Decode(#[from] DecodeError),
    #[error("gossip batch of {count} transactions, at most {max}")]
    TooMany { count: usize, max: usize },
}

pub fn encode_batch(txs: &[Vec<u8>]) -> Vec<u8> {
    to_canonical(txs)
}

/// The transactions' bytes, as slices of `bytes`: every receiver decodes every batch, and
/// copying each transaction out first was a twentieth of the intake's time.
pub fn decode_batch(bytes: &[u8]) -> Result<Vec<&[u8]>, GossipError> {
    let txs: Vec<&[u8]> = from_canonical("gossip batch", bytes, MAX_GOSSIP_MESSAGE_BYTES)?;
    if txs.len() > MAX_GOSSIP_BATCH_TXS {
        return Err(GossipError::TooMany {
            count: txs.len(),
            max: MAX_GOSSIP_BATCH_TXS,
        });
    }
    Ok(txs)
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
        let too_long = encode_batch(&[vec![0u8; MAX_GOSSIP_MESSAGE_BYTES]]);
        assert!(matches!(
            decode_batch(&too_long),
            Err(GossipError::Decode(_))
        ));
    }
}
