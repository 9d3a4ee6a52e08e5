//! Blocks: a header that commits to its parent (the hash chain), its height and round, the Merkle
//! root of its transactions, its proposer, and the consensus certificate it extends; and the
//! transactions themselves. The consensus block *is* the ledger block: one hash chain.

use serde::{Deserialize, Serialize};

use crate::crypto::PublicKey;
use crate::encoding::{digest, from_canonical, to_canonical, Canonical, DecodeError};
use crate::hash::Hash;
use crate::merkle::tx_root;
use crate::tx::{SignedTransaction, MAX_TX_BYTES};

/// Most transactions in one block.
pub const MAX_BLOCK_TXS: usize = 10_000;
/// Largest consensus certificate carried in a header.
pub const MAX_JUSTIFY_BYTES: usize = 64 * 1024;
/// Largest canonical encoding of a block.
pub const MAX_BLOCK_BYTES: usize = 16 * 1024 * 1024;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockHeader {
    pub chain_id: String,
    /// 0 for genesis; every block is its parent's height + 1.
    pub height: u64,
    /// The consensus round in which it was proposed (0 for genesis).
    pub round: u64,
    /// Hash of the parent header; [`Hash::ZERO`] for genesis.
    pub parent: Hash,
    /// [`crate::merkle::tx_root`] of the block's transaction hashes.
    pub tx_root: Hash,
    pub proposer: PublicKey,
    /// Proposer's clock, milliseconds since the Unix epoch. Informational; not used for safety.
    pub timestamp_ms: u64,
    /// Canonical bytes of the consensus certificate (QC) that this block extends. Opaque to the
    /// ledger: the consensus crate owns its meaning.
    #[serde(with = "crate::encoding_helpers::hex_bytes")]
    pub justify: Vec<u8>,
}

impl Canonical for BlockHeader {
    const DOMAIN: &'static str = "waybill/block/v1";
}

impl BlockHeader {
    pub fn hash(&self) -> Hash {
        digest(self)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Block {
    pub header: BlockHeader,
    pub txs: Vec<SignedTransaction>,
}

/// A block whose parts do not fit together.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BlockError {
    #[error(transparent)]
    Decode(#[from] DecodeError),
    #[error("block {height} has {count} transactions, the limit is {max}")]
    TooManyTxs {
        height: u64,
        count: usize,
        max: usize,
    },
    #[error("block {height}: tx_root is {header}, transactions hash to {computed}")]
    TxRootMismatch {
        height: u64,
        header: Hash,
        computed: Hash,
    },
    #[error("block {height}: justify certificate of {len} bytes exceeds {max}")]
    JustifyTooLarge { height: u64, len: usize, max: usize },
}

impl Block {
    pub fn hash(&self) -> Hash {
        self.header.hash()
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        to_canonical(self)
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, BlockError> {
        let block: Block = from_canonical("block", bytes, MAX_BLOCK_BYTES)?;
        block.check_shape()?;
        Ok(block)
    }

    /// Checks that the header's transaction root matches the transactions and limits hold.
    pub fn check_shape(&self) -> Result<(), BlockError> {
        let height = self.header.height;
        if self.txs.len() > MAX_BLOCK_TXS {
            return Err(BlockError::TooManyTxs {
                height,
                count: self.txs.len(),
                max: MAX_BLOCK_TXS,
            });
        }
        if self.header.justify.len() > MAX_JUSTIFY_BYTES {
            return Err(BlockError::JustifyTooLarge {
                height,
                len: self.header.justify.len(),
                max: MAX_JUSTIFY_BYTES,
            });
        }
        let computed = tx_root(&self.txs.iter().map(|t| t.hash()).collect::<Vec<_>>());
        if computed != self.header.tx_root {
            return Err(BlockError::TxRootMismatch {
                height,
                header: self.header.tx_root,
                computed,
            });
        }
        Ok(())
    }
}

const _: () = assert!(MAX_BLOCK_TXS * 512 < MAX_BLOCK_BYTES && MAX_TX_BYTES < MAX_BLOCK_BYTES);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::KeyPair;
    use crate::tx::{Payload, Transaction};

    #[test]
    fn tx_root_is_checked() {
        let key = KeyPair::from_secret([4; 32]);
        let txs: Vec<_> = (0..3)
            .map(|i| {
                Transaction {
                    chain_id: "c".into(),
                    signer: key.public(),
                    sequence: i,
                    payload: Payload::Memo { data: vec![] },
                }
                .sign(&key)
            })
            .collect();
        let header = BlockHeader {
            chain_id: "c".into(),
            height: 1,
            round: 1,
            parent: Hash::ZERO,
            tx_root: tx_root(&txs.iter().map(|t| t.hash()).collect::<Vec<_>>()),
            proposer: key.public(),
            timestamp_ms: 0,
            justify: vec![],
        };
        let block = Block { header, txs };
        let back = Block::from_bytes(&block.to_bytes()).unwrap();
        assert_eq!(back.hash(), block.hash());
        let mut bad = block.clone();
        bad.txs.pop();
        assert!(matches!(
            Block::from_bytes(&bad.to_bytes()),
            Err(BlockError::TxRootMismatch { .. })
        ));
    }
}
