//! The state commitment on disk: the sparse Merkle tree's nodes, the state root of every height,
//! and the values behind old roots. [`Store::state_proof`] proves a key's value (or its absence)
//! at any committed height; `crate::smt` verifies it without RocksDB.

use std::collections::HashMap;

use rocksdb::WriteBatch;
use serde::{Deserialize, Serialize};

use super::schema;
use super::{Store, StoreError};
use crate::execute::StateDelta;
use crate::hash::Hash;
use crate::smt::{self, Node, NodeStore, SmtError, SmtProof};

/// A key's value at a height, with the proof that ties it to that height's state root.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateProof {
    pub height: u64,
    pub state_root: Hash,
    #[serde(with = "crate::encoding_helpers::hex_bytes")]
    pub key: Vec<u8>,
    /// `None`: the key is absent at this height.
    #[serde(with = "crate::encoding_helpers::opt_hex_bytes")]
    pub value: Option<Vec<u8>>,
    pub proof: SmtProof,
}

/// What one block's state delta does to the tree, computed before the batch is written.
pub(super) struct StateWrite {
    pub root: Hash,
    nodes: Vec<(Hash, Node)>,
    values: Vec<(Hash, Vec<u8>)>,
}

impl StateWrite {
    pub(super) fn add_to(&self, store: &Store, batch: &mut WriteBatch) -> Result<(), StoreError> {
        // In key order: RocksDB's memtable inserts a batch's keys fastest in order (each
        // insertion starts its skiplist search where the previous one ended), and these keys
        // are hashes, in random order otherwise.
        let nodes = store.cf(schema::CF_SMT_NODES)?;
        let mut sorted: Vec<&(Hash, Node)> = self.nodes.iter().collect();
        sorted.sort_unstable_by_key(|(hash, _)| *hash);
        for (hash, node) in sorted {
            batch.put_cf(nodes, hash.as_bytes(), node.to_bytes());
        }
        let values = store.cf(schema::CF_STATE_VALUES)?;
        for (hash, value) in &self.values {
            batch.put_cf(values, hash.as_bytes(), value);
        }
        Ok(())
    }

    /// Once the batch is durable: keeps the new nodes in memory for the next commit's update.
    pub(super) fn remember_nodes(&self, store: &Store) {
        store
            .recent_nodes
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remember(&self.nodes);
    }
}

impl Store {
    /// The tree after applying `delta` on top of `root`: the new root and what to write.
    pub(super) fn state_write(
        &self,
        root: Hash,
        delta: &StateDelta,
    ) -> Result<StateWrite, StoreError> {
        let (new_root, nodes) = smt::apply(self, root, delta)?;
        // Identical values share one record; a map keeps the batch free of repeats.
        let values: HashMap<Hash, &Vec<u8>> = delta
            .values()
            .flatten()
            .map(|v| (smt::value_hash(v), v))
            .collect();
        let mut values: Vec<(Hash, Vec<u8>)> =
            values.into_iter().map(|(h, v)| (h, v.clone())).collect();
        values.sort_unstable_by_key(|(h, _)| *h);
        Ok(StateWrite {
            root: new_root,
            nodes,
            values,
        })
    }

    /// The state root after executing block `height`, if that block is committed.
    pub fn state_root_at(&self, height: u64) -> Result<Option<Hash>, StoreError> {
        let Some(v) = self
            .db
            .get_cf(self.cf(schema::CF_STATE_ROOTS)?, schema::u64_key(height))
            .map_err(StoreError::db("read state root"))?
        else {
            return Ok(None);
        };
        schema::decode_hash(&v)
            .map(Some)
            .ok_or_else(|| StoreError::Corrupt {
                cf: schema::CF_STATE_ROOTS,
                key: format!("height {height}"),
                reason: format!("value of {} bytes, expected 32", v.len()),
            })
    }

    /// The state root at the head (the empty tree before genesis).
    pub fn state_root(&self) -> Hash {
        self.state().state_root
    }

    /// `key`'s value at `height` (the head when `None`) with its proof of presence or absence.
    pub fn state_proof(&self, key: &[u8], height: Option<u64>) -> Result<StateProof, StoreError> {
        let head = self.head().ok_or(StoreError::NotInitialized)?.height;
        let height = height.unwrap_or(head);
        let state_root = self
            .state_root_at(height)?
            .ok_or(StoreError::MissingBlock { height, head })?;
        let (value_hash, proof) = smt::get_with_proof(self, state_root, key)?;
        let value = match value_hash {
            None => None,
            Some(h) => Some(self.state_value(&h)?.ok_or_else(|| StoreError::Corrupt {
                cf: schema::CF_STATE_VALUES,
                key: h.to_hex(),
                reason: format!(
                    "value of key {} at height {height} is missing",
                    hex::encode(key)
                ),
            })?),
        };
        Ok(StateProof {
            height,
            state_root,
            key: key.to_vec(),
            value,
            proof,
        })
    }

    pub(super) fn state_value(&self, hash: &Hash) -> Result<Option<Vec<u8>>, StoreError> {
        let v = self
            .db
            .get_cf(self.cf(schema::CF_STATE_VALUES)?, hash.as_bytes())
            .map_err(StoreError::db("read state value"))?;
        match v {
            Some(v) if smt::value_hash(&v) != *hash => Err(StoreError::Corrupt {
                cf: schema::CF_STATE_VALUES,
                key: hash.to_hex(),
                reason: format!("value hashes to {}", smt::value_hash(&v)),
            }),
            v => Ok(v),
        }
    }
}

/// The tree reads its nodes from the last commits' (in memory, hashed when they were made) or
/// else from the column family, and `smt` checks each one read from disk against the hash it
/// asked for.
impl NodeStore for Store {
    fn get_known(&self, hash: &Hash) -> Option<Node> {
        self.recent_nodes
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(hash)
    }

    fn get(&self, hash: &Hash) -> Result<Option<Node>, SmtError> {
        let cf = self
            .cf(schema::CF_SMT_NODES)
            .map_err(|e| SmtError::Store(e.to_string()))?;
        let Some(bytes) = self
            .db
            .get_cf(cf, hash.as_bytes())
            .map_err(|e| SmtError::Store(format!("read node {hash}: {e}")))?
        else {
            return Ok(None);
        };
        let node =
            Node::from_bytes(&bytes).map_err(|e| SmtError::Store(format!("node {hash}: {e}")))?;
        // Kept in memory for the next update's paths, but only if it is the node asked for:
        // the cache serves its nodes as already checked. A damaged one goes back to the tree,
        // which reports the mismatch.
        if node.hash() == *hash {
            self.recent_nodes
                .write()
                .unwrap_or_else(|e| e.into_inner())
                .remember_read(*hash, &node);
        }
        Ok(Some(node))
    }
}
