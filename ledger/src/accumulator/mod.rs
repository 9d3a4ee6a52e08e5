//! The transaction accumulator: an append-only Merkle tree over every committed transaction (a
//! [`TxLeaf`] binding it to its receipt) in ledger order, shaped exactly as RFC 9162 section 2.1
//! (leaf = H(0x00 || data), node = H(0x01 || left || right), the largest power of two strictly
//! below n goes left). The hash is pluggable ([`TreeHasher`]) so the very same code is checked
//! against the published RFC 6962 SHA-256 vectors; Waybill itself uses blake3.
//!
//! Storage keeps only *frozen nodes*: roots of perfect subtrees, which never change once written.
//! Every other hash (the root of any size, the non-perfect siblings on a proof's right border) is
//! recomputed from O(log n) frozen nodes, so a store never rewrites a key and any old size stays
//! provable forever.
//!
//! - [`build`]: appending, roots of any size, and building inclusion/consistency proofs from a
//!   [`NodeReader`];
//! - [`verify`]: the storage-free RFC 9162 verifiers that clients and auditors run;
//! - [`proof`]: the proof objects as they travel (serde, canonical bytes);
//! - [`position`]: frozen nodes numbered in the order they freeze, which the store keys them by;
//! - [`frontier`]: the few nodes a tree needs to go on, which a state-synced store starts from;
//! - [`memory`]: an in-memory store and accumulator for tests, benches and light clients.

mod build;
mod frontier;
mod memory;
mod position;
mod proof;
mod verify;

pub use build::{append, consistency_proof, inclusion_proof, root_at};
pub use frontier::{frontier_positions, Frontier, FrontierError};
pub use memory::{MemoryAccumulator, MemoryNodes};
pub use position::{frozen_count, frozen_since};
pub use proof::{ConsistencyProof, InclusionProof, MAX_PROOF_BYTES, MAX_PROOF_NODES};
pub use verify::{
    consistency_proof_len, inclusion_proof_len, verify_consistency, verify_inclusion, ProofError,
};

use crate::hash::Hash;
use crate::merkle::{Blake3Hasher, TreeHasher};
use crate::receipt::TxLeaf;

/// Most leaves an accumulator may hold: 2^63. Keeping one bit of headroom means every node's
/// leaf range `[i * 2^level, (i + 1) * 2^level)` fits in a u64 and every level fits in 0..=63.
pub const MAX_TREE_SIZE: u64 = 1 << 63;

/// Address of a frozen node: the root of the perfect subtree over leaves
/// `[index * 2^level, (index + 1) * 2^level)`. Level 0 holds the leaf hashes themselves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodePos {
    pub level: u8,
    pub index: u64,
}

impl NodePos {
    pub fn new(level: u8, index: u64) -> Self {
        NodePos { level, index }
    }

    /// The leaf position `index` (level 0).
    pub fn leaf(index: u64) -> Self {
        NodePos { level: 0, index }
    }
}

/// Read access to the frozen nodes of one accumulator. The RocksDB store implements it; so does
/// [`MemoryNodes`]. A node that is not there is [`AccumulatorError::MissingNode`], never a panic.
pub trait NodeReader {
    fn frozen_node(&self, pos: NodePos) -> Result<Hash, AccumulatorError>;
}

impl<T: NodeReader + ?Sized> NodeReader for &T {
    fn frozen_node(&self, pos: NodePos) -> Result<Hash, AccumulatorError> {
        (**self).frozen_node(pos)
    }
}

/// Why the accumulator could not append, compute a root or build a proof.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum AccumulatorError {
    #[error("frozen node at level {level} index {index} is not in the store")]
    MissingNode { level: u8, index: u64 },
    /// The store failed to read a node (I/O error, corrupt value): the store's own message.
    #[error("reading frozen nodes: {0}")]
    Read(String),
    /// A frozen node was about to be written with a different hash than it already has.
    #[error("frozen node at level {level} index {index} is {existing}, refusing to overwrite with {new}")]
    NodeRewrite {
        level: u8,
        index: u64,
        existing: Hash,
        new: Hash,
    },
    #[error("appending {adding} leaves to a tree of {size} exceeds the maximum of {max} leaves")]
    TreeFull { size: u64, adding: u64, max: u64 },
    #[error("tree size {size} exceeds the maximum of {max} leaves")]
    SizeTooLarge { size: u64, max: u64 },
    #[error("leaf index {leaf_index} is not in a tree of {tree_size} leaves")]
    IndexOutOfRange { leaf_index: u64, tree_size: u64 },
    #[error("old size {old_size} is larger than new size {new_size}")]
    OldSizeExceedsNewSize { old_size: u64, new_size: u64 },
    /// RFC 9162 defines consistency only from a non-empty tree: everything extends the empty one.
    #[error("no consistency proof from the empty tree (to size {new_size})")]
    EmptyOldTree { new_size: u64 },
    /// A size was asked of an accumulator that holds fewer leaves.
    #[error("size {requested} is beyond the accumulator's {size} leaves")]
    BeyondTree { requested: u64, size: u64 },
}

/// The accumulator leaf hash of a committed transaction with its receipt:
/// `blake3(0x00 || BCS(("waybill/tx-leaf/v1", leaf)))`.
pub fn tx_leaf_hash(leaf: &TxLeaf) -> Hash {
    Blake3Hasher.hash_leaf(&leaf.leaf_data())
}

#[cfg(test)]
mod tests;
