//! Tree nodes, their stored bytes, and the content-addressed store they are read from.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::encoding::{from_canonical, to_canonical, DecodeError};
use crate::hash::{Hash, HASH_LEN};

use super::{internal_hash, leaf_hash, SmtError};

/// Length of every node's canonical bytes: a variant byte and two hashes.
pub const NODE_BYTES: usize = 1 + 2 * HASH_LEN;

/// A leaf: the tree key and the hash of the value stored under it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtLeaf {
    pub key_hash: Hash,
    pub value_hash: Hash,
}

impl SmtLeaf {
    pub fn new(key_hash: Hash, value_hash: Hash) -> Self {
        SmtLeaf {
            key_hash,
            value_hash,
        }
    }

    /// [`leaf_hash`] of this leaf.
    pub fn hash(&self) -> Hash {
        leaf_hash(&self.key_hash, &self.value_hash)
    }
}

/// A stored node. Empty subtrees are not nodes: they are [`super::EMPTY`] wherever a child hash
/// can be. Canonical bytes (BCS): `0x00 || key_hash || value_hash` or `0x01 || left || right`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Node {
    Leaf(SmtLeaf),
    Internal { left: Hash, right: Hash },
}

impl Node {
    /// The node's hash: its address in the store.
    pub fn hash(&self) -> Hash {
        match self {
            Node::Leaf(leaf) => leaf.hash(),
            Node::Internal { left, right } => internal_hash(left, right),
        }
    }

    /// Canonical bytes, always [`NODE_BYTES`] long.
    pub fn to_bytes(&self) -> Vec<u8> {
        let bytes = to_canonical(self);
        debug_assert_eq!(bytes.len(), NODE_BYTES);
        bytes
    }

    /// Decodes canonical bytes; anything but exactly one well-formed node is an error.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        from_canonical("smt node", bytes, NODE_BYTES)
    }
}

/// Read access to the tree's nodes by hash. A node that is not there is `Ok(None)`; the tree
/// turns that into [`SmtError::MissingNode`] and checks that what is returned has the hash asked
/// for, so an implementation need not.
pub trait NodeStore {
    fn get(&self, hash: &Hash) -> Result<Option<Node>, SmtError>;

    /// The node under `hash` if the store holds it already checked, because it computed that
    /// hash from the node itself (say, a node it wrote a moment ago and kept in memory); the
    /// tree then skips re-hashing it. Whatever comes from storage goes through [`Self::get`].
    fn get_known(&self, _hash: &Hash) -> Option<Node> {
        None
    }
}

impl<T: NodeStore + ?Sized> NodeStore for &T {
    fn get(&self, hash: &Hash) -> Result<Option<Node>, SmtError> {
        (**self).get(hash)
    }

    fn get_known(&self, hash: &Hash) -> Option<Node> {
        (**self).get_known(hash)
    }
}

/// Nodes in a HashMap: for tests, and for callers that mirror a state tree in memory.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemoryNodeStore {
    nodes: HashMap<Hash, Node>,
}

impl MemoryNodeStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// Writes all of `nodes`, or none if one is not stored under its own hash.
    pub fn insert_all(&mut self, nodes: &[(Hash, Node)]) -> Result<(), SmtError> {
        for (hash, node) in nodes {
            let computed = node.hash();
            if computed != *hash {
                return Err(SmtError::NodeHashMismatch {
                    expected: *hash,
                    computed,
                });
            }
        }
        self.nodes.extend(nodes.iter().copied());
        Ok(())
    }

    /// Applies `changes` to the tree with root `root` (see [`super::apply`]), writes the new nodes
    /// and returns the new root.
    pub fn apply(
        &mut self,
        root: Hash,
        changes: &std::collections::BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    ) -> Result<Hash, SmtError> {
        let (new_root, nodes) = super::apply(self, root, changes)?;
        self.insert_all(&nodes)?;
        Ok(new_root)
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    pub fn contains(&self, hash: &Hash) -> bool {
        self.nodes.contains_key(hash)
    }

    pub fn as_map(&self) -> &HashMap<Hash, Node> {
        &self.nodes
    }
}

impl NodeStore for MemoryNodeStore {
    fn get(&self, hash: &Hash) -> Result<Option<Node>, SmtError> {
        Ok(self.nodes.get(hash).copied())
    }
}
