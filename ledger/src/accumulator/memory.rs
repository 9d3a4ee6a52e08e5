//! Frozen nodes in a HashMap, and an accumulator over them: for tests, benches and light clients
//! that mirror a ledger in memory. Same functions as the RocksDB store, so what is tested here
//! is what the node runs.

use std::collections::HashMap;

use crate::hash::Hash;
use crate::merkle::TreeHasher;

use super::build::{append, consistency_proof, inclusion_proof, root_at};
use super::proof::{ConsistencyProof, InclusionProof};
use super::{AccumulatorError, NodePos, NodeReader};

/// Frozen nodes by position. Writes follow the store's rule: a node, once written, never changes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemoryNodes {
    nodes: HashMap<NodePos, Hash>,
}

impl MemoryNodes {
    pub fn new() -> Self {
        Self::default()
    }

    /// Writes all of `nodes`, or none if any would overwrite a node with a different hash.
    /// Rewriting a node with its own hash is allowed (a retried write is harmless).
    pub fn insert_all(&mut self, nodes: &[(NodePos, Hash)]) -> Result<(), AccumulatorError> {
        for (pos, new) in nodes {
            if let Some(existing) = self.nodes.get(pos) {
                if existing != new {
                    return Err(AccumulatorError::NodeRewrite {
                        level: pos.level,
                        index: pos.index,
                        existing: *existing,
                        new: *new,
                    });
                }
            }
        }
        self.nodes.extend(nodes.iter().copied());
        Ok(())
    }

    pub fn get(&self, pos: NodePos) -> Option<&Hash> {
        self.nodes.get(&pos)
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    pub fn as_map(&self) -> &HashMap<NodePos, Hash> {
        &self.nodes
    }
}

impl NodeReader for MemoryNodes {
    fn frozen_node(&self, pos: NodePos) -> Result<Hash, AccumulatorError> {
        self.nodes
            .get(&pos)
            .copied()
            .ok_or(AccumulatorError::MissingNode {
                level: pos.level,
                index: pos.index,
            })
    }
}

/// An accumulator held in memory: its size and its frozen nodes.
#[derive(Clone, Debug)]
pub struct MemoryAccumulator<H: TreeHasher> {
    hasher: H,
    size: u64,
    nodes: MemoryNodes,
}

impl<H: TreeHasher> MemoryAccumulator<H> {
    pub fn new(hasher: H) -> Self {
        MemoryAccumulator {
            hasher,
            size: 0,
            nodes: MemoryNodes::new(),
        }
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.size
    }

    pub fn hasher(&self) -> &H {
        &self.hasher
    }

    pub fn nodes(&self) -> &MemoryNodes {
        &self.nodes
    }

    /// Appends one leaf hash (already `hash_leaf`ed); returns its leaf index.
    pub fn push(&mut self, leaf_hash: Hash) -> Result<u64, AccumulatorError> {
        let index = self.size;
        self.extend(&[leaf_hash])?;
        Ok(index)
    }

    /// Appends leaf hashes in order, all or nothing.
    pub fn extend(&mut self, leaf_hashes: &[Hash]) -> Result<(), AccumulatorError> {
        let new = append(&self.hasher, &self.nodes, self.size, leaf_hashes)?;
        self.nodes.insert_all(&new)?;
        // append checked size + len <= MAX_TREE_SIZE, so this cannot overflow.
        self.size += leaf_hashes.len() as u64;
        Ok(())
    }

    /// Root of all leaves so far.
    pub fn root(&self) -> Result<Hash, AccumulatorError> {
        root_at(&self.hasher, &self.nodes, self.size)
    }

    /// Root of the first `size` leaves.
    pub fn root_at(&self, size: u64) -> Result<Hash, AccumulatorError> {
        self.check(size)?;
        root_at(&self.hasher, &self.nodes, size)
    }

    /// Inclusion proof of leaf `leaf_index` in the tree of the first `tree_size` leaves.
    pub fn prove_inclusion(
        &self,
        leaf_index: u64,
        tree_size: u64,
    ) -> Result<InclusionProof, AccumulatorError> {
        self.check(tree_size)?;
        inclusion_proof(&self.hasher, &self.nodes, leaf_index, tree_size)
    }

    /// Consistency proof from the first `old_size` leaves to the first `new_size` leaves.
    pub fn prove_consistency(
        &self,
        old_size: u64,
        new_size: u64,
    ) -> Result<ConsistencyProof, AccumulatorError> {
        self.check(new_size)?;
        consistency_proof(&self.hasher, &self.nodes, old_size, new_size)
    }

    fn check(&self, requested: u64) -> Result<(), AccumulatorError> {
        if requested > self.size {
            return Err(AccumulatorError::BeyondTree {
                requested,
                size: self.size,
            });
        }
        Ok(())
    }
}
