//! Reading a key with its proof, and the storage-free verifiers that clients and auditors run on
//! proofs from untrusted parties.
//!
//! The verifiers check the sibling count against [`MAX_DEPTH`] before hashing, then that the
//! leaf (if any) is the one the claim needs, then recompute the root; each failure is its own
//! error carrying the values that disagreed. Nothing in the proof is taken on trust: the key and
//! value come from the caller and are hashed here, and every sibling enters the recomputed root.

use serde::{Deserialize, Serialize};

use crate::encoding::{from_canonical, to_canonical, DecodeError};
use crate::hash::{Hash, HASH_LEN};

use super::node::{Node, NodeStore, SmtLeaf};
use super::update::load;
use super::{
    bit, common_prefix_len, internal_hash, key_hash, value_hash, SmtError, EMPTY, MAX_DEPTH,
};

/// Largest canonical encoding of a proof: the sibling count (ULEB128, 2 bytes for 256), 256
/// siblings, the option byte and a leaf. Larger input is refused before decoding.
pub const MAX_SMT_PROOF_BYTES: usize = 2 + MAX_DEPTH * HASH_LEN + 1 + 2 * HASH_LEN;

/// That a key is present with a value, or absent, under a root.
///
/// `siblings` run from the root down (`siblings[i]` is the sibling at depth `i + 1`) to where the
/// walk towards the key ended: at `leaf`, or at an empty subtree when `leaf` is `None`. At most
/// [`MAX_DEPTH`] of them.
///
/// JSON (hashes as 64 lower-case hex digits, unknown fields rejected):
/// `{"siblings": ["<hex>", ...], "leaf": {"key_hash": "<hex>", "value_hash": "<hex>"}}`, with
/// `"leaf": null` when the walk ended in an empty subtree (a missing `"leaf"` reads as null too).
///
/// Canonical bytes (BCS): `ULEB128(len(siblings)) || siblings (32 bytes each) || 0x00` when there
/// is no leaf, `|| 0x01 || key_hash || value_hash` when there is.
///
/// A decoded proof is only a claim: call [`SmtProof::verify_presence`] or
/// [`SmtProof::verify_absence`] against a trusted root.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtProof {
    pub siblings: Vec<Hash>,
    pub leaf: Option<SmtLeaf>,
}

/// Why a proof was rejected, with the values that failed.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum SmtVerifyError {
    #[error("proof has {got} siblings, a path has at most {max}")]
    TooManySiblings { got: usize, max: usize },
    #[error("presence proof for key hash {key_hash} ends in an empty subtree, not a leaf")]
    MissingLeaf { key_hash: Hash },
    #[error("presence proof for key hash {expected} ends at the leaf of key hash {found}")]
    KeyMismatch { expected: Hash, found: Hash },
    #[error("leaf of key hash {key_hash} holds value hash {found}, expected {expected}")]
    ValueMismatch {
        key_hash: Hash,
        expected: Hash,
        found: Hash,
    },
    #[error("absence proof for key hash {key_hash} ends at that key's own leaf (value hash {value_hash})")]
    KeyPresent { key_hash: Hash, value_hash: Hash },
    #[error("leaf of key hash {leaf_key_hash} at depth {depth} is not on the path of key hash {key_hash}: they share only {shared} leading bits")]
    LeafOffPath {
        key_hash: Hash,
        leaf_key_hash: Hash,
        depth: usize,
        shared: usize,
    },
    #[error("proof computes root {computed}, expected {expected}")]
    RootMismatch { expected: Hash, computed: Hash },
}

impl SmtProof {
    /// Checks that `key` holds `value` in the map with root `root`.
    pub fn verify_presence(
        &self,
        root: &Hash,
        key: &[u8],
        value: &[u8],
    ) -> Result<(), SmtVerifyError> {
        self.verify_presence_hashed(root, &key_hash(key), &value_hash(value))
    }

    /// Checks that `key` is absent from the map with root `root`.
    pub fn verify_absence(&self, root: &Hash, key: &[u8]) -> Result<(), SmtVerifyError> {
        self.verify_absence_hashed(root, &key_hash(key))
    }

    /// [`Self::verify_presence`] for a key and value already hashed.
    pub fn verify_presence_hashed(
        &self,
        root: &Hash,
        key_hash: &Hash,
        value_hash: &Hash,
    ) -> Result<(), SmtVerifyError> {
        self.check_len()?;
        let leaf = self.leaf.ok_or(SmtVerifyError::MissingLeaf {
            key_hash: *key_hash,
        })?;
        if leaf.key_hash != *key_hash {
            return Err(SmtVerifyError::KeyMismatch {
                expected: *key_hash,
                found: leaf.key_hash,
            });
        }
        if leaf.value_hash != *value_hash {
            return Err(SmtVerifyError::ValueMismatch {
                key_hash: *key_hash,
                expected: *value_hash,
                found: leaf.value_hash,
            });
        }
        self.check_root(root, key_hash, leaf.hash())
    }

    /// [`Self::verify_absence`] for a key already hashed.
    pub fn verify_absence_hashed(
        &self,
        root: &Hash,
        key_hash: &Hash,
    ) -> Result<(), SmtVerifyError> {
        self.check_len()?;
        let start = match &self.leaf {
            None => EMPTY,
            Some(leaf) => {
                if leaf.key_hash == *key_hash {
                    return Err(SmtVerifyError::KeyPresent {
                        key_hash: *key_hash,
                        value_hash: leaf.value_hash,
                    });
                }
                let depth = self.siblings.len();
                let shared = common_prefix_len(&leaf.key_hash, key_hash);
                if shared < depth {
                    return Err(SmtVerifyError::LeafOffPath {
                        key_hash: *key_hash,
                        leaf_key_hash: leaf.key_hash,
                        depth,
                        shared,
                    });
                }
                leaf.hash()
            }
        };
        self.check_root(root, key_hash, start)
    }

    /// The root this proof leads to from `start` (the hash at the bottom of the path) along the
    /// path of `key_hash`. Call only after [`Self::check_len`].
    fn root_from(&self, key_hash: &Hash, start: Hash) -> Hash {
        debug_assert!(self.siblings.len() <= MAX_DEPTH);
        self.siblings
            .iter()
            .enumerate()
            .rev()
            .fold(start, |h, (depth, sibling)| {
                if bit(key_hash, depth) {
                    internal_hash(sibling, &h)
                } else {
                    internal_hash(&h, sibling)
                }
            })
    }

    fn check_len(&self) -> Result<(), SmtVerifyError> {
        if self.siblings.len() > MAX_DEPTH {
            return Err(SmtVerifyError::TooManySiblings {
                got: self.siblings.len(),
                max: MAX_DEPTH,
            });
        }
        Ok(())
    }

    fn check_root(&self, root: &Hash, key_hash: &Hash, start: Hash) -> Result<(), SmtVerifyError> {
        let computed = self.root_from(key_hash, start);
        if computed != *root {
            return Err(SmtVerifyError::RootMismatch {
                expected: *root,
                computed,
            });
        }
        Ok(())
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        to_canonical(self)
    }

    /// Decodes canonical bytes: bounded, strict (truncated or trailing bytes, a non-minimal
    /// length, an option byte other than 0 or 1 are errors), and at most [`MAX_DEPTH`] siblings.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        let proof: SmtProof = from_canonical("smt proof", bytes, MAX_SMT_PROOF_BYTES)?;
        if proof.siblings.len() > MAX_DEPTH {
            return Err(DecodeError::Malformed {
                what: "smt proof",
                reason: format!(
                    "{} siblings, a path has at most {MAX_DEPTH}",
                    proof.siblings.len()
                ),
            });
        }
        Ok(proof)
    }
}

/// The value hash stored under `key` in the tree with root `root` (`None` if absent), with the
/// proof of that answer. The tree holds value hashes only: the caller reads the value from its
/// own store and checks it against the hash.
pub fn get_with_proof(
    store: &dyn NodeStore,
    root: Hash,
    key: &[u8],
) -> Result<(Option<Hash>, SmtProof), SmtError> {
    get_with_proof_hashed(store, root, &key_hash(key))
}

/// [`get_with_proof`] for a key already hashed.
pub fn get_with_proof_hashed(
    store: &dyn NodeStore,
    root: Hash,
    key_hash: &Hash,
) -> Result<(Option<Hash>, SmtProof), SmtError> {
    let mut siblings = Vec::new();
    let leaf = walk(store, root, key_hash, Some(&mut siblings))?;
    let value = leaf
        .filter(|l| l.key_hash == *key_hash)
        .map(|l| l.value_hash);
    Ok((value, SmtProof { siblings, leaf }))
}

/// The value hash stored under `key` in the tree with root `root`, without a proof.
pub fn get(store: &dyn NodeStore, root: Hash, key: &[u8]) -> Result<Option<Hash>, SmtError> {
    let kh = key_hash(key);
    let leaf = walk(store, root, &kh, None)?;
    Ok(leaf.filter(|l| l.key_hash == kh).map(|l| l.value_hash))
}

/// Follows `key_hash` from `root` to a leaf or an empty subtree, collecting siblings if asked.
fn walk(
    store: &dyn NodeStore,
    root: Hash,
    key_hash: &Hash,
    mut siblings: Option<&mut Vec<Hash>>,
) -> Result<Option<SmtLeaf>, SmtError> {
    let mut hash = root;
    let mut depth = 0;
    loop {
        if hash == EMPTY {
            return Ok(None);
        }
        match load(store, &hash)? {
            Node::Leaf(leaf) => {
                if common_prefix_len(&leaf.key_hash, key_hash) < depth {
                    return Err(SmtError::LeafOffPath {
                        leaf_key_hash: leaf.key_hash,
                        path_key_hash: *key_hash,
                        depth,
                    });
                }
                return Ok(Some(leaf));
            }
            Node::Internal { left, right } => {
                if depth >= MAX_DEPTH {
                    return Err(SmtError::NodeTooDeep { hash, depth });
                }
                let (next, sibling) = if bit(key_hash, depth) {
                    (right, left)
                } else {
                    (left, right)
                };
                if let Some(s) = siblings.as_deref_mut() {
                    s.push(sibling);
                }
                hash = next;
                depth += 1;
            }
        }
    }
}
