//! Blocks: a header that commits to its parent (the hash chain), its height and round, the Merkle
//! root of its transactions, its proposer, and the consensus certificate it extends; and the
//! transactions themselves. The consensus block *is* the ledger block: one hash chain.

use serde::{Deserialize, Serialize};

use crate::crypto::PublicKey;
use crate::encoding::{digest, from_canonical, to_canonical, Canonical, DecodeError};
use crate::hash::Hash;
use crate::merkle::tx_root;
use crate::tx::{SignedTransaction, TxError, MAX_CHAIN_ID_LEN, MAX_TX_BYTES};

/// Most transactions in one block (the genesis `max_block_txs` may only lower it).
pub const MAX_BLOCK_TXS: usize = 10_000;
/// Most bytes of transactions in one block: the sum of their canonical encodings.
pub const MAX_BLOCK_TX_BYTES: usize = 3 << 20;
/// Largest consensus certificate carried in a header.
pub const MAX_JUSTIFY_BYTES: usize = 64 * 1024;
/// Largest canonical encoding of a header: a chain id and a justify at their limits, the fixed
/// fields (heights, rounds, hashes, key, time: under 200 bytes) and length prefixes.
pub const MAX_HEADER_BYTES: usize = MAX_JUSTIFY_BYTES + MAX_CHAIN_ID_LEN + 256;
/// Largest canonical encoding of a valid block: its header, the transaction list's length
/// prefix (at most 5 bytes) and the transactions. Every limit that carries a block (a consensus
/// record, a proposal on the wire, a sync answer, a stored block) is derived from this one and
/// checked against it at compile time, so nothing valid here is refused later.
pub const MAX_BLOCK_BYTES: usize = MAX_HEADER_BYTES + 5 + MAX_BLOCK_TX_BYTES;

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
    #[error("block {height} has {bytes} bytes of transactions, the limit is {max}")]
    TooManyTxBytes {
        height: u64,
        bytes: usize,
        max: usize,
    },
    #[error("block {height} is for chain {found:?}, not {expected:?}")]
    WrongChain {
        height: u64,
        expected: String,
        found: String,
    },
    #[error("block {height}, transaction {index}: {source}")]
    Transaction {
        height: u64,
        index: usize,
        #[source]
        source: TxError,
    },
}

/// The genesis's rules for blocks, beyond the ledger's fixed limits.
#[derive(Clone, Copy, Debug)]
pub struct BlockRules<'a> {
    pub chain_id: &'a str,
    /// The genesis `max_block_txs` (never above [`MAX_BLOCK_TXS`]).
    pub max_txs: usize,
}

/// The one authority on a block's validity short of its transactions' signatures and its
/// execution: its chain, its transaction count and bytes, each transaction's own limits, and the
/// size of its justify certificate. The payload validator asks before a vote, and the store and
/// catch-up before a block is written ([`Block::check_shape`]), so a block valid here fits every
/// record and message that carries one.
pub fn check_block(
    header: &BlockHeader,
    txs: &[SignedTransaction],
    rules: &BlockRules,
) -> Result<(), BlockError> {
    if header.chain_id != rules.chain_id {
        return Err(BlockError::WrongChain {
            height: header.height,
            expected: rules.chain_id.to_string(),
            found: header.chain_id.clone(),
        });
    }
    check_limits(header, txs, rules.max_txs)
}

/// The fixed limits, with at most `max_txs` transactions.
fn check_limits(
    header: &BlockHeader,
    txs: &[SignedTransaction],
    max_txs: usize,
) -> Result<(), BlockError> {
    let height = header.height;
    let max = max_txs.min(MAX_BLOCK_TXS);
    if txs.len() > max {
        return Err(BlockError::TooManyTxs {
            height,
            count: txs.len(),
            max,
        });
    }
    if header.justify.len() > MAX_JUSTIFY_BYTES {
        return Err(BlockError::JustifyTooLarge {
            height,
            len: header.justify.len(),
            max: MAX_JUSTIFY_BYTES,
        });
    }
    if header.chain_id.len() > MAX_CHAIN_ID_LEN {
        return Err(BlockError::WrongChain {
            height,
            expected: format!("a chain id of at most {MAX_CHAIN_ID_LEN} bytes"),
            found: header.chain_id.clone(),
        });
    }
    let mut bytes = 0usize;
    for (index, tx) in txs.iter().enumerate() {
        tx.check_limits()
            .map_err(|source| BlockError::Transaction {
                height,
                index,
                source,
            })?;
        bytes += tx.encoded_len();
        if bytes > MAX_BLOCK_TX_BYTES {
            return Err(BlockError::TooManyTxBytes {
                height,
                bytes,
                max: MAX_BLOCK_TX_BYTES,
            });
        }
    }
    Ok(())
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

    /// Checks that the ledger's fixed limits hold (see [`check_block`]) and the header's
    /// transaction root matches the transactions.
    pub fn check_shape(&self) -> Result<(), BlockError> {
        let height = self.header.height;
        check_limits(&self.header, &self.txs, MAX_BLOCK_TXS)?;
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

// One transaction of the largest size fits a block, and a header fits its bound.
const _: () = assert!(MAX_TX_BYTES <= MAX_BLOCK_TX_BYTES);
const _: () = assert!(MAX_JUSTIFY_BYTES + MAX_CHAIN_ID_LEN < MAX_HEADER_BYTES);

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
