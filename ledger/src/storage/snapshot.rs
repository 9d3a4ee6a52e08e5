//! State sync in the store: serving the state by subtree and the base of a certified height to
//! a peer, and, on the syncing side, keeping the state as it arrives and installing the base.
//! `crate::state_sync` checks everything a peer sends before it gets here.
//!
//! A synced store starts at its *base* ([`schema::META_BASE`]): the certified block, its state
//! root and certificate, and the accumulator's frontier after it. It holds no block, receipt or
//! accumulator leaf below, so proofs reach back to the base and not beyond; everything from the
//! base on is stored and checked exactly as in a store that started at genesis.

use std::collections::BTreeMap;

use rocksdb::{IteratorMode, WriteBatch};

use super::schema;
use super::{sync_write, ChainState, CommitInfo, Head, Store, StoreError};
use crate::accumulator::{self as acc, Frontier};
use crate::hash::Hash;
use crate::proof::EpochChange;
use crate::smt::{self, SmtError, EMPTY};
use crate::state_sync::{
    serve_chunk, ChunkLimits, ChunkSource, SnapshotBase, StateChunk, StateEntry, VerifiedBase,
};

/// State entries applied to the tree in one step while installing.
const INSTALL_BATCH_ENTRIES: usize = 10_000;

/// Where a synced store starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Base {
    pub height: u64,
    pub block_hash: Hash,
    /// Transactions in the ledger up to and including the base block: the first ledger index
    /// this store holds a receipt for.
    pub accumulator_size: u64,
}

impl Store {
    /// Every leaf under the state-tree node `node`, with its key and value, in key-hash order;
    /// or, when they do not fit one answer, the node's children (`state_sync::serve_chunk`).
    pub fn state_chunk(&self, node: &Hash) -> Result<StateChunk, StoreError> {
        Ok(serve_chunk(self, node, ChunkLimits::default())?)
    }

    fn state_key(&self, key_hash: &Hash) -> Result<Option<Vec<u8>>, StoreError> {
        let Some(key) = self
            .db
            .get_cf(self.cf(schema::CF_STATE_KEYS)?, key_hash.as_bytes())
            .map_err(StoreError::db("read state key"))?
        else {
            return Ok(None);
        };
        if smt::key_hash(&key) != *key_hash {
            return Err(StoreError::Corrupt {
                cf: schema::CF_STATE_KEYS,
                key: key_hash.to_hex(),
                reason: format!("key hashes to {}", smt::key_hash(&key)),
            });
        }
        Ok(Some(key))
    }

    /// What a peer needs, besides the state, to start from `height`: its ledger certificate,
    /// block and the accumulator frontier after it. `None` when the height is not certified
    /// here.
    pub fn snapshot_base(&self, height: u64) -> Result<Option<SnapshotBase>, StoreError> {
        let Some(certificate) = self.ledger_certificate(height)? else {
            return Ok(None);
        };
        let head = self.head().map_or(0, |h| h.height);
        let block = self
            .block_by_height(height)?
            .ok_or(StoreError::MissingBlock { height, head })?;
        let frontier = Frontier::read(self, block.accumulator_size_after)?;
        Ok(Some(SnapshotBase {
            certificate,
            block,
            frontier,
        }))
    }

    /// Where this store starts, if it was synced (`None`: it starts at genesis), as opened.
    pub fn base_height(&self) -> Option<u64> {
        self.state().base.map(|b| b.height)
    }

    /// A ledger index below the base has no receipt or accumulator leaf here.
    pub(super) fn check_not_before_base(&self, ledger_index: u64) -> Result<(), StoreError> {
        match self.state().base {
            Some(b) if ledger_index < b.accumulator_size => {
                Err(StoreError::LedgerIndexBeforeBase {
                    ledger_index,
                    base_size: b.accumulator_size,
                    base: b.height,
                })
            }
            _ => Ok(()),
        }
    }

    /// Where this store starts, read from the records (`None`: it starts at genesis).
    pub fn base(&self) -> Result<Option<Base>, StoreError> {
        let Some(v) = self
            .db
            .get_cf(self.cf(schema::CF_META)?, schema::META_BASE)
            .map_err(StoreError::db("read base"))?
        else {
            return Ok(None);
        };
        let (height, block_hash) = schema::decode_head(&v).ok_or_else(|| StoreError::Corrupt {
            cf: schema::CF_META,
            key: "base".into(),
            reason: format!("value of {} bytes", v.len()),
        })?;
        let stored = self
            .block_by_height(height)?
            .ok_or(StoreError::MissingBlock {
                height,
                head: self.head().map_or(0, |h| h.height),
            })?;
        Ok(Some(Base {
            height,
            block_hash,
            accumulator_size: stored.accumulator_size_after,
        }))
    }

    /// The chain of epoch changes up to the base, as the sync verified it (empty for a store
    /// that starts at genesis).
    pub fn base_epoch_changes(&self) -> Result<Vec<EpochChange>, StoreError> {
        let Some(v) = self
            .db
            .get_cf(self.cf(schema::CF_META)?, schema::META_BASE_EPOCHS)
            .map_err(StoreError::db("read base epoch changes"))?
        else {
            return Ok(Vec::new());
        };
        serde_json::from_slice(&v).map_err(|e| StoreError::Corrupt {
            cf: schema::CF_META,
            key: "base_epochs".into(),
            reason: e.to_string(),
        })
    }

    /// Starts (or starts over) a sync into this store, which must hold no block: forgets any
    /// state an interrupted sync kept, which may have been for another root.
    pub fn begin_state_sync(&self) -> Result<(), StoreError> {
        let _guard = self.commit_lock.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(head) = self.state().head {
            return Err(StoreError::NotEmpty { head: head.height });
        }
        let mut batch = WriteBatch::default();
        for name in [schema::CF_STATE, schema::CF_STATE_KEYS] {
            let cf = self.cf(name)?;
            for item in self.db.iterator_cf(cf, IteratorMode::Start) {
                let (key, _) = item.map_err(StoreError::db("clear staged state"))?;
                batch.delete_cf(cf, key);
            }
        }
        self.db
            .write_opt(batch, &sync_write())
            .map_err(StoreError::db("clear staged state"))
    }

    /// Keeps leaves of the state being synced (checked by `crate::state_sync`). Not fsynced:
    /// [`Store::install_snapshot`] is, and an interrupted sync starts over.
    pub fn stage_state(&self, entries: &[StateEntry]) -> Result<(), StoreError> {
        if let Some(head) = self.state().head {
            return Err(StoreError::NotEmpty { head: head.height });
        }
        let mut batch = WriteBatch::default();
        let (state, keys, values) = (
            self.cf(schema::CF_STATE)?,
            self.cf(schema::CF_STATE_KEYS)?,
            self.cf(schema::CF_STATE_VALUES)?,
        );
        for e in entries {
            batch.put_cf(state, &e.key, &e.value);
            batch.put_cf(keys, smt::key_hash(&e.key).as_bytes(), &e.key);
            batch.put_cf(values, smt::value_hash(&e.value).as_bytes(), &e.value);
        }
        self.db
            .write(batch)
            .map_err(StoreError::db("stage synced state"))
    }

    /// Finishes a sync: builds the state tree from the staged state and checks its root against
    /// the certificate, then writes the base (block, state root, certificate, frontier, epoch
    /// changes, head and the verified-up-to marker) in one fsynced batch. The store then opens,
    /// commits and proves from the base on like any other.
    pub fn install_snapshot(
        &self,
        genesis_hash: Hash,
        base: &VerifiedBase,
        epoch_changes: &[EpochChange],
    ) -> Result<CommitInfo, StoreError> {
        let _guard = self.commit_lock.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(head) = self.state().head {
            return Err(StoreError::NotEmpty { head: head.height });
        }
        let checkpoint = &base.certificate.checkpoint;
        let height = checkpoint.height;
        let root = self.build_state_tree()?;
        if root != checkpoint.state_root {
            return Err(StoreError::SnapshotStateRoot {
                height,
                certified: checkpoint.state_root,
                computed: root,
            });
        }

        let hash = base.block.block.hash();
        let mut batch = WriteBatch::default();
        batch.put_cf(
            self.cf(schema::CF_BLOCKS)?,
            schema::u64_key(height),
            base.block.to_bytes(),
        );
        batch.put_cf(
            self.cf(schema::CF_BLOCK_INDEX)?,
            hash.as_bytes(),
            schema::u64_key(height),
        );
        batch.put_cf(
            self.cf(schema::CF_STATE_ROOTS)?,
            schema::u64_key(height),
            root.as_bytes(),
        );
        batch.put_cf(
            self.cf(schema::CF_LEDGER_CERTS)?,
            schema::u64_key(height),
            crate::encoding::to_canonical(&base.certificate),
        );
        let acc_cf = self.cf(schema::CF_ACCUMULATOR)?;
        for (pos, node) in &base.frontier_nodes {
            batch.put_cf(acc_cf, schema::accumulator_key(*pos), node.as_bytes());
        }
        let meta = self.cf(schema::CF_META)?;
        let size = checkpoint.accumulator_size;
        batch.put_cf(meta, schema::META_HEAD, schema::head_value(height, &hash));
        batch.put_cf(meta, schema::META_BASE, schema::head_value(height, &hash));
        batch.put_cf(meta, schema::META_ACCUMULATOR_SIZE, schema::u64_key(size));
        batch.put_cf(meta, schema::META_GENESIS_HASH, genesis_hash.as_bytes());
        batch.put_cf(
            meta,
            schema::META_BASE_EPOCHS,
            serde_json::to_vec(epoch_changes).expect("epoch changes serialize"),
        );
        batch.put_cf(
            meta,
            schema::META_VERIFIED,
            schema::marker_value(height, &hash, &checkpoint.accumulator_root),
        );
        self.db
            .write_opt(batch, &sync_write())
            .map_err(StoreError::db("install snapshot"))?;
        // The frontier folds to the certified root (checked by `SnapshotBase::verify`); the
        // stored nodes must give it back.
        debug_assert_eq!(
            acc::root_at(&self.hasher, self, size).ok(),
            Some(checkpoint.accumulator_root)
        );
        *self.state.write().unwrap_or_else(|e| e.into_inner()) = ChainState {
            genesis_hash: Some(genesis_hash),
            head: Some(Head { height, hash }),
            accumulator_size: size,
            state_root: root,
            verified_through_head: true,
            base: Some(Base {
                height,
                block_hash: hash,
                accumulator_size: size,
            }),
        };
        Ok(CommitInfo {
            height,
            hash,
            first_ledger_index: size,
            accumulator_size: size,
            accumulator_root: checkpoint.accumulator_root,
            state_root: root,
        })
    }

    /// The state tree of the staged state, built in steps of [`INSTALL_BATCH_ENTRIES`] (the
    /// root depends only on the entries, not on the order they are added in), its nodes written
    /// as it goes. Returns the root.
    fn build_state_tree(&self) -> Result<Hash, StoreError> {
        let state_cf = self.cf(schema::CF_STATE)?;
        let nodes_cf = self.cf(schema::CF_SMT_NODES)?;
        let mut root = EMPTY;
        let mut changes: BTreeMap<Vec<u8>, Option<Vec<u8>>> = BTreeMap::new();
        let flush = |changes: &mut BTreeMap<Vec<u8>, Option<Vec<u8>>>,
                     root: &mut Hash|
         -> Result<(), StoreError> {
            let (new_root, nodes) = smt::apply(self, *root, changes)?;
            let mut batch = WriteBatch::default();
            for (hash, node) in &nodes {
                batch.put_cf(nodes_cf, hash.as_bytes(), node.to_bytes());
            }
            self.db
                .write(batch)
                .map_err(StoreError::db("write synced state tree"))?;
            *root = new_root;
            changes.clear();
            Ok(())
        };
        for item in self.db.iterator_cf(state_cf, IteratorMode::Start) {
            let (key, value) = item.map_err(StoreError::db("read synced state"))?;
            changes.insert(key.to_vec(), Some(value.to_vec()));
            if changes.len() == INSTALL_BATCH_ENTRIES {
                flush(&mut changes, &mut root)?;
            }
        }
        if !changes.is_empty() {
            flush(&mut changes, &mut root)?;
        }
        Ok(root)
    }
}

/// The store serves chunks from its tree nodes, key index and values (every value ever written
/// is kept, so any root's leaves can be served).
impl ChunkSource for Store {
    fn key_of(&self, key_hash: &Hash) -> Result<Option<Vec<u8>>, SmtError> {
        self.state_key(key_hash)
            .map_err(|e| SmtError::Store(e.to_string()))
    }

    fn value_of(&self, value_hash: &Hash) -> Result<Option<Vec<u8>>, SmtError> {
        self.state_value(value_hash)
            .map_err(|e| SmtError::Store(e.to_string()))
    }
}
