//! Proof objects as they travel between a node, its clients and auditors: JSON with hex hashes
//! for humans and RPC, canonical BCS for anything stored or embedded. Decoding is strict
//! (unknown JSON fields, wrong hash lengths, truncated or trailing bytes are errors) and bounded,
//! since proofs come from untrusted parties. A decoded proof is only a claim: call `verify`.

use serde::{Deserialize, Serialize};

use crate::encoding::{from_canonical, to_canonical, DecodeError};
use crate::hash::{Hash, HASH_LEN};
use crate::merkle::TreeHasher;

use super::verify::{verify_consistency, verify_inclusion, ProofError};

/// Most hashes any valid proof carries: an inclusion path has at most one per bit of the size
/// (64), a consistency proof at most one more (the innermost old subtree root).
pub const MAX_PROOF_NODES: usize = 65;

/// Largest canonical encoding of a proof: two u64s, the path's ULEB128 length (1 byte for up to
/// 127 entries) and the hashes. Larger input is refused before decoding.
pub const MAX_PROOF_BYTES: usize = 8 + 8 + 1 + MAX_PROOF_NODES * HASH_LEN;

/// That leaf `leaf_index` is in the tree of `tree_size` leaves: RFC 9162 PATH, leaf end first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InclusionProof {
    pub leaf_index: u64,
    pub tree_size: u64,
    pub path: Vec<Hash>,
}

/// That the tree of `old_size` leaves is a prefix of the tree of `new_size` leaves:
/// RFC 9162 PROOF(old_size, D[new_size]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsistencyProof {
    pub old_size: u64,
    pub new_size: u64,
    pub path: Vec<Hash>,
}

impl InclusionProof {
    /// Checks that `leaf_hash` is leaf `self.leaf_index` of the tree of `self.tree_size` leaves
    /// with root `root`. The size itself must be authenticated together with `root`.
    pub fn verify<H: TreeHasher>(
        &self,
        hasher: &H,
        leaf_hash: &Hash,
        root: &Hash,
    ) -> Result<(), ProofError> {
        verify_inclusion(
            hasher,
            leaf_hash,
            self.leaf_index,
            self.tree_size,
            &self.path,
            root,
        )
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        to_canonical(self)
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        from_canonical("inclusion proof", bytes, MAX_PROOF_BYTES)
    }
}

impl ConsistencyProof {
    /// Checks that `old_root` (of `self.old_size` leaves) is a prefix of `new_root` (of
    /// `self.new_size` leaves).
    pub fn verify<H: TreeHasher>(
        &self,
        hasher: &H,
        old_root: &Hash,
        new_root: &Hash,
    ) -> Result<(), ProofError> {
        verify_consistency(
            hasher,
            self.old_size,
            self.new_size,
            old_root,
            new_root,
            &self.path,
        )
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        to_canonical(self)
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        from_canonical("consistency proof", bytes, MAX_PROOF_BYTES)
    }
}
