//! The write path. Every check happens before anything is written; then the block, its index
//! entries, receipts, new accumulator nodes and the metadata go into one `WriteBatch` written
//! with fsync. So a commit either happened entirely and durably, or not at all. The
//! verified-up-to marker follows in a write of its own (see `marker`).

use rocksdb::{WriteBatch, WriteOptions};

use super::schema::{self, TxLocation};
use super::{sync_write, ChainState, CommitInfo, Head, Store, StoreError, VerifiedMarker};
use crate::accumulator::{self as acc, AccumulatorError, NodePos, NodeReader};
use crate::block::Block;
use crate::encoding::digest_encoded;
use crate::execute::{BlockExecution, StateDelta, MAX_STATE_VALUE_BYTES};
use crate::hash::{FastHashSet, Hash};
use crate::proof::LedgerCheckpoint;
use crate::receipt::{ExecStatus, Receipt, TxLeaf};
use crate::store_api::Durability;
use crate::stored::{
    receipt_to_bytes, StoredBlockParts, MAX_CERTIFICATE_BYTES, MAX_RECEIPT_BYTES,
    MAX_STORED_BLOCK_BYTES,
};
use crate::supply::events::EventRecord;

impl Store {
    /// Writes the genesis block (height 0, parent [`Hash::ZERO`], no transactions, no
    /// certificate: the genesis file is its authority) and records `genesis_hash`, the hash of
    /// that file. Repeating it with the same genesis and block is a no-op, so a node can call it
    /// on every start.
    pub fn init_genesis(
        &self,
        genesis_hash: Hash,
        block: &Block,
    ) -> Result<CommitInfo, StoreError> {
        self.init_genesis_with_state(genesis_hash, block, &StateDelta::new())
    }

    /// [`Store::init_genesis`] that also writes the initial application state (organizations and
    /// accounts from the genesis file) as the state of height 0.
    pub fn init_genesis_with_state(
        &self,
        genesis_hash: Hash,
        block: &Block,
        genesis_state: &StateDelta,
    ) -> Result<CommitInfo, StoreError> {
        let _guard = self.commit_lock.lock().unwrap_or_else(|e| e.into_inner());
        let state = self.state();
        if let Some(existing) = state.genesis_hash {
            let same_block = self
                .block_by_height(0)?
                .map(|s| s.block.hash() == block.hash())
                .unwrap_or(false);
            if existing == genesis_hash && same_block {
                let stored = self.block_by_height(0)?.ok_or(StoreError::MissingBlock {
                    height: 0,
                    head: state.head.map_or(0, |h| h.height),
                })?;
                return Ok(CommitInfo {
                    height: 0,
                    hash: block.hash(),
                    first_ledger_index: 0,
                    accumulator_size: stored.accumulator_size_after,
                    accumulator_root: stored.accumulator_root_after,
                    state_root: self
                        .state_root_at(0)?
                        .ok_or(StoreError::MissingStateRoot { height: 0 })?,
                });
            }
            return Err(StoreError::AlreadyInitialized {
                existing,
                given: genesis_hash,
            });
        }
        if block.header.height != 0 || block.header.parent != Hash::ZERO {
            return Err(StoreError::BadGenesisBlock {
                height: block.header.height,
                parent: block.header.parent,
            });
        }
        self.write_block(
            state,
            Some(genesis_hash),
            block,
            &[],
            &[],
            genesis_state,
            &[],
            Durability::Synced,
        )
    }

    /// Commits the next block with its commit certificate and one receipt per transaction, in
    /// order. Returns once the write is on disk. On any error nothing has been written.
    pub fn commit_block(
        &self,
        block: &Block,
        certificate: &[u8],
        receipts: &[Receipt],
    ) -> Result<CommitInfo, StoreError> {
        self.commit_block_with_state(block, certificate, receipts, &StateDelta::new())
    }

    /// [`Store::commit_block`] that also applies the state changes executing the block made, in
    /// the same fsynced batch: the state never disagrees with the head, even after a crash.
    pub fn commit_block_with_state(
        &self,
        block: &Block,
        certificate: &[u8],
        receipts: &[Receipt],
        state: &StateDelta,
    ) -> Result<CommitInfo, StoreError> {
        self.commit_next(block, certificate, receipts, state, &[], Durability::Synced)
    }

    /// Commits the next block with what executing it produced: its state changes and the events
    /// that feed the history and organization indexes, all in one batch, on disk as `durability`
    /// says (see [`Durability`]; atomic either way).
    pub fn commit_executed(
        &self,
        block: &Block,
        certificate: &[u8],
        receipts: &[Receipt],
        execution: &BlockExecution,
        durability: Durability,
    ) -> Result<CommitInfo, StoreError> {
        self.commit_next(
            block,
            certificate,
            receipts,
            &execution.delta,
            &execution.events,
            durability,
        )
    }

    /// Writes `block` as the head's child, under the commit lock.
    fn commit_next(
        &self,
        block: &Block,
        certificate: &[u8],
        receipts: &[Receipt],
        state: &StateDelta,
        events: &[EventRecord],
        durability: Durability,
    ) -> Result<CommitInfo, StoreError> {
        let _guard = self.commit_lock.lock().unwrap_or_else(|e| e.into_inner());
        let chain = self.state();
        self.check_next(&chain, block)?;
        self.write_block(
            chain,
            None,
            block,
            certificate,
            receipts,
            state,
            events,
            durability,
        )
    }

    /// `block` must be the head's child.
    fn check_next(&self, chain: &ChainState, block: &Block) -> Result<(), StoreError> {
        let head = chain.head.ok_or(StoreError::NotInitialized)?;
        let expected = head.height.checked_add(1).ok_or(StoreError::WrongHeight {
            expected: u64::MAX,
            found: block.header.height,
        })?;
        if block.header.height != expected {
            return Err(StoreError::WrongHeight {
                expected,
                found: block.header.height,
            });
        }
        if block.header.parent != head.hash {
            return Err(StoreError::WrongParent {
                height: block.header.height,
                expected: head.hash,
                found: block.header.parent,
            });
        }
        Ok(())
    }

    /// The shared tail of every commit; the caller holds `commit_lock` and has checked the
    /// block's place in the chain.
    #[allow(clippy::too_many_arguments)] // each is one part of the batch; a struct would only rename them
    fn write_block(
        &self,
        state: ChainState,
        genesis_hash: Option<Hash>,
        block: &Block,
        certificate: &[u8],
        receipts: &[Receipt],
        state_delta: &StateDelta,
        events: &[EventRecord],
        durability: Durability,
    ) -> Result<CommitInfo, StoreError> {
        let height = block.header.height;
        block
            .check_shape()
            .map_err(|source| StoreError::InvalidBlock { height, source })?;
        if certificate.len() > MAX_CERTIFICATE_BYTES {
            return Err(StoreError::CertificateTooLarge {
                height,
                len: certificate.len(),
                max: MAX_CERTIFICATE_BYTES,
            });
        }
        let first = state.accumulator_size;
        check_receipts(block, receipts, first)?;

        let receipt_bytes: Vec<Vec<u8>> = receipts.iter().map(receipt_to_bytes).collect();
        let leaves: Vec<Hash> = receipts
            .iter()
            .zip(&receipt_bytes)
            .map(|(r, bytes)| {
                let receipt_hash = digest_encoded::<Receipt>(bytes);
                debug_assert_eq!(receipt_hash, r.hash());
                acc::tx_leaf_hash(&TxLeaf {
                    tx_hash: r.tx_hash,
                    receipt_hash,
                })
            })
            .collect();
        let mut new_nodes = acc::append(&self.hasher, self, first, &leaves)?;
        // In key order (level, then index), not creation order: the overlay below searches them,
        // and the batch takes them in this order. Creation order alternates between levels, and
        // each jump made RocksDB's memtable search its skiplist again from the top.
        new_nodes.sort_unstable_by_key(|(pos, _)| (pos.level, pos.index));
        let size_after = first + leaves.len() as u64;
        let overlay = Overlay {
            store: self,
            nodes: &new_nodes,
        };
        let root_after = acc::root_at(&self.hasher, &overlay, size_after)?;

        let hash = block.hash();
        let stored_bytes = StoredBlockParts {
            block,
            certificate,
            accumulator_size_after: size_after,
            accumulator_root_after: root_after,
        }
        .to_bytes();
        // Nothing is written that the read path would refuse to decode.
        if stored_bytes.len() > MAX_STORED_BLOCK_BYTES {
            return Err(StoreError::BlockTooLarge {
                height,
                len: stored_bytes.len(),
                max: MAX_STORED_BLOCK_BYTES,
            });
        }
        if let Some((i, r)) = receipt_bytes
            .iter()
            .enumerate()
            .find(|(_, r)| r.len() > MAX_RECEIPT_BYTES)
        {
            return Err(StoreError::ReceiptTooLarge {
                height,
                index_in_block: i,
                len: r.len(),
                max: MAX_RECEIPT_BYTES,
            });
        }

        // Room for the whole batch up front: grown by doubling from empty, RocksDB's buffer
        // copied the block's megabytes several times over (visible in the profile under load).
        // The estimate covers the block, the receipts and, per transaction, its index entry,
        // accumulator nodes and a share of tree nodes; state changes are usually smaller.
        let receipts_len: usize = receipt_bytes.iter().map(Vec::len).sum();
        let mut batch = WriteBatch::with_capacity_bytes(
            stored_bytes.len() + receipts_len + 256 * block.txs.len() + (64 << 10),
        );
        batch.put_cf(
            self.cf(schema::CF_BLOCKS)?,
            schema::u64_key(height),
            stored_bytes,
        );
        batch.put_cf(
            self.cf(schema::CF_BLOCK_INDEX)?,
            hash.as_bytes(),
            schema::u64_key(height),
        );
        let tx_index = self.cf(schema::CF_TX_INDEX)?;
        let receipts_cf = self.cf(schema::CF_RECEIPTS)?;
        // A transaction hash can appear again (a replay, which execution then fails). The index
        // points at the inclusion that succeeded if there is one, else at the first. A success
        // is indexed without asking whether the hash is already there: a transaction succeeds
        // at most once, and asking (a read per transaction, nearly always a miss) was a tenth
        // of a block's commit.
        let mut seen = FastHashSet::default();
        let mut index_entries = Vec::with_capacity(block.txs.len());
        for (i, ((tx, receipt), bytes)) in block
            .txs
            .iter()
            .zip(receipts)
            .zip(receipt_bytes)
            .enumerate()
        {
            let tx_hash = tx.hash();
            let first_in_block = seen.insert(tx_hash);
            let index_it = match receipt.status {
                ExecStatus::Success => true,
                ExecStatus::Failed { .. } => {
                    first_in_block && self.tx_location(&tx_hash)?.is_none()
                }
            };
            if index_it {
                let loc = TxLocation {
                    height,
                    index_in_block: i as u32,
                    ledger_index: receipt.ledger_index,
                };
                index_entries.push((tx_hash, loc));
            }
            batch.put_cf(receipts_cf, schema::u64_key(receipt.ledger_index), bytes);
        }
        // In key order, which RocksDB's memtable inserts fastest (see `StateWrite::add_to`).
        // The sort is stable: of a hash's two entries in one block, the later still wins.
        index_entries.sort_by_key(|(tx_hash, _)| *tx_hash);
        for (tx_hash, loc) in index_entries {
            batch.put_cf(tx_index, tx_hash.as_bytes(), loc.encode());
        }
        let acc_cf = self.cf(schema::CF_ACCUMULATOR)?;
        for (pos, node) in &new_nodes {
            batch.put_cf(acc_cf, schema::accumulator_key(*pos), node.as_bytes());
        }
        self.index_events(&mut batch, block, first, events)?;
        let state_write = self.state_write(state.state_root, state_delta)?;
        state_write.add_to(self, &mut batch)?;
        batch.put_cf(
            self.cf(schema::CF_STATE_ROOTS)?,
            schema::u64_key(height),
            state_write.root.as_bytes(),
        );
        let state_cf = self.cf(schema::CF_STATE)?;
        let keys_cf = self.cf(schema::CF_STATE_KEYS)?;
        for (key, value) in state_delta {
            if value.is_some() {
                batch.put_cf(keys_cf, crate::smt::key_hash(key).as_bytes(), key);
            }
            match value {
                Some(v) => {
                    if v.len() > MAX_STATE_VALUE_BYTES {
                        return Err(StoreError::StateValueTooLarge {
                            key: hex::encode(key),
                            len: v.len(),
                            max: MAX_STATE_VALUE_BYTES,
                        });
                    }
                    batch.put_cf(state_cf, key, v)
                }
                None => batch.delete_cf(state_cf, key),
            }
        }
        let meta = self.cf(schema::CF_META)?;
        batch.put_cf(meta, schema::META_HEAD, schema::head_value(height, &hash));
        batch.put_cf(
            meta,
            schema::META_ACCUMULATOR_SIZE,
            schema::u64_key(size_after),
        );
        if let Some(g) = genesis_hash {
            batch.put_cf(meta, schema::META_GENESIS_HASH, g.as_bytes());
        }
        let options = match durability {
            Durability::Synced => sync_write(),
            Durability::WithNextSync => WriteOptions::default(),
        };
        self.db
            .write_opt(batch, &options)
            .map_err(StoreError::db("commit block"))?;
        if state.verified_through_head {
            // Everything this commit wrote was checked before it was written. A failed marker
            // write is no failure of the commit, which is durable: the marker stays where it
            // was and the next open checks from there.
            let _ = self.write_marker(&VerifiedMarker {
                height,
                block_hash: hash,
                accumulator_root: root_after,
            });
        }
        state_write.remember_nodes(self);
        self.recent_checkpoints
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remember(LedgerCheckpoint {
                chain_id: block.header.chain_id.clone(),
                height,
                block_hash: hash,
                state_root: state_write.root,
                accumulator_root: root_after,
                accumulator_size: size_after,
            });

        let mut st = self.state.write().unwrap_or_else(|e| e.into_inner());
        st.head = Some(Head { height, hash });
        st.accumulator_size = size_after;
        st.state_root = state_write.root;
        if genesis_hash.is_some() {
            st.genesis_hash = genesis_hash;
        }
        Ok(CommitInfo {
            height,
            hash,
            first_ledger_index: first,
            accumulator_size: size_after,
            accumulator_root: root_after,
            state_root: state_write.root,
        })
    }
}

/// Receipts must be exactly the block's transactions, in order, at the next ledger indexes.
fn check_receipts(block: &Block, receipts: &[Receipt], first: u64) -> Result<(), StoreError> {
    let height = block.header.height;
    if receipts.len() != block.txs.len() {
        return Err(StoreError::ReceiptCount {
            height,
            txs: block.txs.len(),
            receipts: receipts.len(),
        });
    }
    for (i, (tx, r)) in block.txs.iter().zip(receipts).enumerate() {
        let mismatch =
            |field: &'static str, expected: String, found: String| -> Result<(), StoreError> {
                Err(StoreError::ReceiptMismatch {
                    height,
                    index_in_block: i,
                    field,
                    expected,
                    found,
                })
            };
        let tx_hash = tx.hash();
        if r.tx_hash != tx_hash {
            return mismatch("tx_hash", tx_hash.to_hex(), r.tx_hash.to_hex());
        }
        if r.height != height {
            return mismatch("height", height.to_string(), r.height.to_string());
        }
        if r.index_in_block as usize != i {
            return mismatch(
                "index_in_block",
                i.to_string(),
                r.index_in_block.to_string(),
            );
        }
        let ledger_index = first + i as u64;
        if r.ledger_index != ledger_index {
            return mismatch(
                "ledger_index",
                ledger_index.to_string(),
                r.ledger_index.to_string(),
            );
        }
    }
    Ok(())
}

/// The committed nodes plus the ones this commit is about to write, so the new root can be
/// computed before the batch exists on disk.
struct Overlay<'a> {
    store: &'a Store,
    /// Sorted by (level, index): a block's thousands of nodes are searched, not hashed into a
    /// map built for the few lookups `root_at` makes.
    nodes: &'a [(NodePos, Hash)],
}

impl NodeReader for Overlay<'_> {
    fn frozen_node(&self, pos: NodePos) -> Result<Hash, AccumulatorError> {
        match self
            .nodes
            .binary_search_by_key(&(pos.level, pos.index), |(p, _)| (p.level, p.index))
        {
            Ok(i) => Ok(self.nodes[i].1),
            Err(_) => self.store.frozen_node(pos),
        }
    }
}
