//! Lookups and proofs. Every record is decoded and checked on the way out, so corruption that
//! appears after open is an error naming the record, never a panic or a silently wrong answer.

use super::schema::{self, TxLocation};
use super::{Head, Store, StoreError};
use crate::accumulator::{
    self as acc, AccumulatorError, ConsistencyProof, InclusionProof, NodePos, NodeReader,
};
use crate::hash::Hash;
use crate::receipt::Receipt;
use crate::stored::{receipt_from_bytes, StoredBlock};
use crate::tx::SignedTransaction;

/// A committed transaction with where it is and what executing it did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommittedTx {
    pub tx: SignedTransaction,
    pub receipt: Receipt,
    pub location: TxLocation,
}

impl Store {
    pub fn head(&self) -> Option<Head> {
        self.state().head
    }

    /// Hash of the genesis file this store was initialised with.
    pub fn genesis_hash(&self) -> Option<Hash> {
        self.state().genesis_hash
    }

    /// Transactions in the ledger: the accumulator's size.
    pub fn accumulator_size(&self) -> u64 {
        self.state().accumulator_size
    }

    /// The canonical bytes stored for `height`, exactly as on disk (for serving to peers and
    /// auditors, who decode them with [`StoredBlock::from_bytes`]).
    pub fn block_bytes(&self, height: u64) -> Result<Option<Vec<u8>>, StoreError> {
        self.db
            .get_cf(self.cf(schema::CF_BLOCKS)?, schema::u64_key(height))
            .map_err(StoreError::db("read block"))
    }

    pub fn block_by_height(&self, height: u64) -> Result<Option<StoredBlock>, StoreError> {
        let Some(bytes) = self.block_bytes(height)? else {
            return Ok(None);
        };
        let stored = StoredBlock::from_bytes(&bytes)
            .map_err(|source| StoreError::BlockDecode { height, source })?;
        if stored.block.header.height != height {
            return Err(StoreError::HeightMismatch {
                key_height: height,
                found: stored.block.header.height,
            });
        }
        Ok(Some(stored))
    }

    pub fn block_height(&self, hash: &Hash) -> Result<Option<u64>, StoreError> {
        let Some(v) = self
            .db
            .get_cf(self.cf(schema::CF_BLOCK_INDEX)?, hash.as_bytes())
            .map_err(StoreError::db("read block index"))?
        else {
            return Ok(None);
        };
        schema::decode_u64(&v)
            .map(Some)
            .ok_or_else(|| StoreError::Corrupt {
                cf: schema::CF_BLOCK_INDEX,
                key: hash.to_hex(),
                reason: format!("value of {} bytes, expected 8", v.len()),
            })
    }

    pub fn block_by_hash(&self, hash: &Hash) -> Result<Option<StoredBlock>, StoreError> {
        let Some(height) = self.block_height(hash)? else {
            return Ok(None);
        };
        let head = self.head().map_or(0, |h| h.height);
        let stored = self
            .block_by_height(height)?
            .ok_or(StoreError::MissingBlock { height, head })?;
        let found = stored.block.hash();
        if found != *hash {
            return Err(StoreError::BlockIndexMismatch {
                height,
                hash: found,
                found: Some(height),
            });
        }
        Ok(Some(stored))
    }

    pub fn tx_location(&self, tx_hash: &Hash) -> Result<Option<TxLocation>, StoreError> {
        let Some(v) = self
            .db
            .get_cf(self.cf(schema::CF_TX_INDEX)?, tx_hash.as_bytes())
            .map_err(StoreError::db("read tx index"))?
        else {
            return Ok(None);
        };
        TxLocation::decode(&v)
            .map(Some)
            .ok_or_else(|| StoreError::Corrupt {
                cf: schema::CF_TX_INDEX,
                key: tx_hash.to_hex(),
                reason: format!(
                    "value of {} bytes, expected {}",
                    v.len(),
                    TxLocation::ENCODED_LEN
                ),
            })
    }

    pub fn receipt(&self, ledger_index: u64) -> Result<Option<Receipt>, StoreError> {
        let Some(v) = self
            .db
            .get_cf(self.cf(schema::CF_RECEIPTS)?, schema::u64_key(ledger_index))
            .map_err(StoreError::db("read receipt"))?
        else {
            return Ok(None);
        };
        receipt_from_bytes(&v)
            .map(Some)
            .map_err(|source| StoreError::ReceiptDecode {
                ledger_index,
                source,
            })
    }

    /// The transaction with this hash (the inclusion that succeeded, else its first), its
    /// receipt and location.
    pub fn transaction(&self, tx_hash: &Hash) -> Result<Option<CommittedTx>, StoreError> {
        let Some(location) = self.tx_location(tx_hash)? else {
            return Ok(None);
        };
        let index_mismatch = |reason: String| StoreError::TxIndexMismatch {
            height: location.height,
            index_in_block: location.index_in_block,
            tx_hash: *tx_hash,
            reason,
        };
        let head = self.head().map_or(0, |h| h.height);
        let stored = self
            .block_by_height(location.height)?
            .ok_or(StoreError::MissingBlock {
                height: location.height,
                head,
            })?;
        let tx = stored
            .block
            .txs
            .get(location.index_in_block as usize)
            .cloned()
            .ok_or_else(|| {
                index_mismatch(format!(
                    "points past the block's {} txs",
                    stored.block.txs.len()
                ))
            })?;
        if tx.hash() != *tx_hash {
            return Err(index_mismatch(format!("points at tx {}", tx.hash())));
        }
        let receipt = self.receipt(location.ledger_index)?.ok_or_else(|| {
            index_mismatch(format!("receipt {} is missing", location.ledger_index))
        })?;
        if receipt.tx_hash != *tx_hash {
            return Err(index_mismatch(format!(
                "receipt {} is for tx {}",
                location.ledger_index, receipt.tx_hash
            )));
        }
        Ok(Some(CommittedTx {
            tx,
            receipt,
            location,
        }))
    }

    /// Accumulator root at any size up to the current one (every frozen node is kept).
    pub fn accumulator_root_at(&self, size: u64) -> Result<Hash, StoreError> {
        self.check_size(size)?;
        Ok(acc::root_at(&self.hasher, self, size)?)
    }

    /// Proof that leaf `leaf_index` is in the accumulator of `size` leaves.
    pub fn inclusion_proof(
        &self,
        leaf_index: u64,
        size: u64,
    ) -> Result<InclusionProof, StoreError> {
        self.check_size(size)?;
        if leaf_index >= size {
            return Err(StoreError::LedgerIndexOutOfRange {
                ledger_index: leaf_index,
                size,
            });
        }
        self.check_not_before_base(leaf_index)?;
        Ok(acc::inclusion_proof(&self.hasher, self, leaf_index, size)?)
    }

    /// Proof that the accumulator of `old_size` leaves is a prefix of the one of `new_size`.
    pub fn consistency_proof(
        &self,
        old_size: u64,
        new_size: u64,
    ) -> Result<ConsistencyProof, StoreError> {
        self.check_size(new_size)?;
        // From the base's size on, the frontier holds every node a proof needs.
        if old_size > 0 {
            self.check_not_before_base(old_size)?;
        }
        Ok(acc::consistency_proof(
            &self.hasher,
            self,
            old_size,
            new_size,
        )?)
    }

    fn check_size(&self, requested: u64) -> Result<(), StoreError> {
        let size = self.accumulator_size();
        if requested > size {
            return Err(StoreError::SizeOutOfRange { requested, size });
        }
        Ok(())
    }

    /// A frozen node straight from the column family, with the failure kept typed.
    pub(crate) fn read_node(&self, level: u8, index: u64) -> Result<Option<Hash>, StoreError> {
        let pos = NodePos::new(level, index);
        if pos.checked_post_order().is_none() {
            // Beyond the largest tree: no store holds it.
            return Ok(None);
        }
        let Some(v) = self
            .db
            .get_cf(
                self.cf(schema::CF_ACCUMULATOR)?,
                schema::accumulator_key(pos),
            )
            .map_err(StoreError::db("read accumulator node"))?
        else {
            return Ok(None);
        };
        schema::decode_hash(&v)
            .map(Some)
            .ok_or_else(|| StoreError::Corrupt {
                cf: schema::CF_ACCUMULATOR,
                key: format!("level {level} index {index}"),
                reason: format!("value of {} bytes, expected 32", v.len()),
            })
    }
}

/// The accumulator reads frozen nodes through this. Its error type cannot carry a `StoreError`,
/// so storage failures are passed on as text naming the node.
impl NodeReader for Store {
    fn frozen_node(&self, pos: NodePos) -> Result<Hash, AccumulatorError> {
        match self.read_node(pos.level, pos.index) {
            Ok(Some(h)) => Ok(h),
            Ok(None) => Err(AccumulatorError::MissingNode {
                level: pos.level,
                index: pos.index,
            }),
            Err(e) => Err(AccumulatorError::Read(e.to_string())),
        }
    }
}

/// Execution reads the committed state straight from the store.
impl Store {
    /// The current state's keys that start with `prefix`, in key order, at most `limit`.
    pub fn state_keys_with_prefix(
        &self,
        prefix: &[u8],
        limit: usize,
    ) -> Result<Vec<Vec<u8>>, StoreError> {
        let mut out = Vec::new();
        let iter = self.db.iterator_cf(
            self.cf(schema::CF_STATE)?,
            rocksdb::IteratorMode::From(prefix, rocksdb::Direction::Forward),
        );
        for item in iter {
            if out.len() >= limit {
                break;
            }
            let (key, _) = item.map_err(StoreError::db("iterate state"))?;
            if !key.starts_with(prefix) {
                break;
            }
            out.push(key.to_vec());
        }
        Ok(out)
    }
}

impl crate::execute::StateReader for Store {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, crate::execute::ExecError> {
        self.state_get(key)
            .map_err(|e| crate::execute::ExecError::Read {
                key: hex::encode(key),
                reason: e.to_string(),
            })
    }
}
