//! The state commitment: a sparse Merkle tree over 256-bit keys, in compact form, giving proofs of
//! presence and absence of an application state key as of any committed root.
//!
//! # Shape
//!
//! An application key (arbitrary bytes) is placed at the 256-bit tree key `key_hash(key)`, whose
//! bits are read most significant first, starting at byte 0: bit `i` is
//! `(key_hash[i / 8] >> (7 - i % 8)) & 1`, and 0 goes left. A subtree is identified by a prefix of
//! `depth` bits (the root has depth 0) and its hash is, by the set of leaves under that prefix:
//!
//! - no leaf: [`EMPTY`], 32 zero bytes (never stored);
//! - exactly one leaf: that leaf's hash, whatever the depth (the leaf sits at the root of the
//!   largest subtree that holds only it);
//! - two or more leaves: `internal_hash(left, right)` of the two child subtrees at `depth + 1`
//!   (one child may be empty when all the leaves go one way; the other is then internal).
//!
//! The root is therefore a function of the map's contents only, not of the order of updates, and
//! the root of the empty map is [`EMPTY`]. Two distinct key hashes diverge by bit 255 at the
//! latest, so leaves sit at depth 0 to 256 and an internal node never sits deeper than 255.
//!
//! # Hashes, byte for byte
//!
//! All four are blake3 (32-byte output) of a canonical encoding `BCS((domain_tag, object))` as
//! [`crate::encoding`] defines it: one length byte (the tags are shorter than 128 bytes), the
//! ASCII tag, then the object. `ULEB128(n)` is the unsigned LEB128 encoding of a length.
//!
//! ```text
//! key_hash(key)         = blake3(0x12 || "waybill/smt-key/v1"   || ULEB128(len(key))   || key)
//! value_hash(value)     = blake3(0x14 || "waybill/smt-value/v1" || ULEB128(len(value)) || value)
//! leaf_hash(kh, vh)     = blake3(0x13 || "waybill/smt-leaf/v1"  || kh || vh)
//! internal_hash(l, r)   = blake3(0x13 || "waybill/smt-node/v1"  || l  || r)
//! EMPTY                 = 0x00 * 32
//! ```
//!
//! A leaf input is 84 bytes, as is an internal input; they differ in the tag, and the tags keep
//! them apart from the transaction accumulator's RFC 9162 `0x00`/`0x01` hashes too. A leaf commits
//! to the *hash* of the value: the tree never holds values, the caller keeps them in its own
//! key-value store and hands them to the verifier.
//!
//! # Storage
//!
//! Nodes are content-addressed (key = the node's hash) and never overwritten or deleted, so every
//! old root stays provable. [`apply`] reads through a [`NodeStore`] and returns the new root with
//! the nodes it created, children before parents, for the caller to write in its commit batch.
//! A node's stored bytes ([`Node::to_bytes`]) are 65 bytes: `0x00 || key_hash || value_hash` for a
//! leaf, `0x01 || left || right` for an internal node (the BCS encoding of [`Node`]).
//!
//! # Proofs
//!
//! [`get_with_proof`] walks from the root towards the key and returns an [`SmtProof`]: the sibling
//! hashes met on the way, **root end first** (`siblings[i]` is the sibling at depth `i + 1`), and
//! the leaf where the walk ended, if it ended at a leaf rather than at an empty subtree. To verify,
//! start from the leaf's hash (or [`EMPTY`]) at depth `n = siblings.len()` and for
//! `i = n - 1` down to `0` hash with `siblings[i]`: `internal_hash(h, siblings[i])` when bit `i`
//! of the key hash is 0, `internal_hash(siblings[i], h)` when it is 1; the result must equal the
//! trusted root. Presence further requires the leaf with the key's `key_hash` and the value's
//! `value_hash`; absence requires no leaf, or a leaf with another key hash that agrees with the
//! key's on the first `n` bits (the leaf lies on the key's path). See [`SmtProof`] for the JSON
//! and BCS forms.

mod node;
mod proof;
mod update;

pub use node::{MemoryNodeStore, Node, NodeStore, SmtLeaf, NODE_BYTES};
pub use proof::{
    get, get_with_proof, get_with_proof_hashed, SmtProof, SmtVerifyError, MAX_SMT_PROOF_BYTES,
};
pub use update::{apply, apply_hashed};

use serde::{Serialize, Serializer};

use crate::encoding::{digest, Canonical};
use crate::hash::{Hash, HASH_LEN};

/// Hash of an empty subtree, and root of the empty map: 32 zero bytes.
pub const EMPTY: Hash = Hash::ZERO;

/// Number of bits in a tree key, and so the deepest level a leaf can sit at.
pub const MAX_DEPTH: usize = HASH_LEN * 8;

/// Domain tag of [`key_hash`].
pub const KEY_DOMAIN: &str = "waybill/smt-key/v1";
/// Domain tag of [`value_hash`].
pub const VALUE_DOMAIN: &str = "waybill/smt-value/v1";
/// Domain tag of [`leaf_hash`].
pub const LEAF_DOMAIN: &str = "waybill/smt-leaf/v1";
/// Domain tag of [`internal_hash`].
pub const INTERNAL_DOMAIN: &str = "waybill/smt-node/v1";

/// Why the tree could not be read or updated. Proof *verification* has its own error,
/// [`SmtVerifyError`].
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum SmtError {
    #[error("tree node {hash} is not in the store")]
    MissingNode { hash: Hash },
    /// The store failed to read a node (I/O error, undecodable value): the store's own message.
    #[error("reading tree nodes: {0}")]
    Store(String),
    /// The store returned, under `expected`, a node whose hash is `computed`.
    #[error("store returned a node hashing to {computed} for {expected}")]
    NodeHashMismatch { expected: Hash, computed: Hash },
    /// An internal node at depth 256, where only leaves and empty subtrees can be.
    #[error("internal node {hash} at depth {depth}: the tree is at most {max} deep", max = MAX_DEPTH)]
    NodeTooDeep { hash: Hash, depth: usize },
    /// A stored leaf lies at a position its key hash does not lead to.
    #[error("leaf with key hash {leaf_key_hash} found at depth {depth} on the path of {path_key_hash}, which it does not share")]
    LeafOffPath {
        leaf_key_hash: Hash,
        path_key_hash: Hash,
        depth: usize,
    },
    /// Two changes of one batch for the same tree key (two application keys whose hashes collide,
    /// or a key repeated in a batch given by key hash).
    #[error("key hash {key_hash} appears twice in one batch of changes")]
    DuplicateKeyHash { key_hash: Hash },
}

/// Raw bytes that BCS writes as `ULEB128(len) || bytes` in one call.
struct Bytes<'a>(&'a [u8]);

impl Serialize for Bytes<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(self.0)
    }
}

struct KeyPreimage<'a>(Bytes<'a>);
impl Serialize for KeyPreimage<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}
impl Canonical for KeyPreimage<'_> {
    const DOMAIN: &'static str = KEY_DOMAIN;
}

struct ValuePreimage<'a>(Bytes<'a>);
impl Serialize for ValuePreimage<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}
impl Canonical for ValuePreimage<'_> {
    const DOMAIN: &'static str = VALUE_DOMAIN;
}

/// blake3 of `BCS((domain, (a, b)))` for a 19-byte domain tag, written out byte by byte: a block
/// commit hashes tens of thousands of tree nodes, and going through the serde encoder cost
/// as much as the hashing itself. The format tests pin these bytes.
fn pair_hash(domain: &str, a: &Hash, b: &Hash) -> Hash {
    const TAG: usize = 19;
    debug_assert_eq!(domain.len(), TAG, "tag {domain}");
    let mut preimage = [0u8; 1 + TAG + 2 * HASH_LEN];
    preimage[0] = TAG as u8;
    preimage[1..=TAG].copy_from_slice(domain.as_bytes());
    preimage[1 + TAG..1 + TAG + HASH_LEN].copy_from_slice(&a.0);
    preimage[1 + TAG + HASH_LEN..].copy_from_slice(&b.0);
    Hash(*blake3::hash(&preimage).as_bytes())
}

/// The tree key of an application state key.
pub fn key_hash(key: &[u8]) -> Hash {
    digest(&KeyPreimage(Bytes(key)))
}

/// What a leaf commits to for a value.
pub fn value_hash(value: &[u8]) -> Hash {
    digest(&ValuePreimage(Bytes(value)))
}

/// Hash of the leaf placing `value_hash` at `key_hash`.
pub fn leaf_hash(key_hash: &Hash, value_hash: &Hash) -> Hash {
    pair_hash(LEAF_DOMAIN, key_hash, value_hash)
}

/// Hash of an internal node from its children's hashes.
pub fn internal_hash(left: &Hash, right: &Hash) -> Hash {
    pair_hash(INTERNAL_DOMAIN, left, right)
}

/// Bit `i` (0 = most significant bit of byte 0) of a tree key; `true` goes right.
/// Callers pass `i < MAX_DEPTH`.
pub(crate) fn bit(key: &Hash, i: usize) -> bool {
    debug_assert!(i < MAX_DEPTH, "bit {i} of a 256-bit key");
    (key.0[i / 8] >> (7 - i % 8)) & 1 == 1
}

/// Number of leading bits two tree keys share (256 when equal).
pub(crate) fn common_prefix_len(a: &Hash, b: &Hash) -> usize {
    for (i, (x, y)) in a.0.iter().zip(b.0.iter()).enumerate() {
        let d = x ^ y;
        if d != 0 {
            return i * 8 + d.leading_zeros() as usize;
        }
    }
    MAX_DEPTH
}

#[cfg(test)]
mod tests;
