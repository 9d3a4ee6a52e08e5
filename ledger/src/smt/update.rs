//! Batch updates: one block's state delta in, the new root and the nodes it needs out.
//!
//! The changes are sorted by tree key, so the changes under any subtree are a contiguous run and
//! split at one index per level. A subtree without changes is not read at all; a subtree whose
//! old content is a single leaf or nothing is rebuilt from its (few) leaves; an internal node is
//! descended into. Children are then recombined into the compact shape: an empty child next to a
//! single leaf lets the leaf rise (its hash does not depend on its depth), so deleting restores
//! exactly the shape the remaining leaves would have had if inserted alone.

use std::collections::BTreeMap;

use crate::hash::Hash;

use super::node::{Node, NodeStore, SmtLeaf};
use super::{bit, common_prefix_len, key_hash, value_hash, SmtError, EMPTY, MAX_DEPTH};

/// Applies a batch of changes (key -> `Some(value)` to set, `None` to delete; deleting an absent
/// key does nothing) to the tree with root `root`, reading old nodes from `store`.
///
/// Returns the new root and every node it needs that the store may lack, children before parents,
/// each with its hash (its store key). Writing them never overwrites a different node: nodes are
/// content-addressed. A subtree that ends up with its old hash contributes no nodes, so a batch
/// that changes nothing returns the old root and no nodes. `changes` is a block's
/// `ledger::execute::StateDelta`.
pub fn apply(
    store: &dyn NodeStore,
    root: Hash,
    changes: &BTreeMap<Vec<u8>, Option<Vec<u8>>>,
) -> Result<(Hash, Vec<(Hash, Node)>), SmtError> {
    let hashed: Vec<(Hash, Option<Hash>)> = changes
        .iter()
        .map(|(k, v)| (key_hash(k), v.as_deref().map(value_hash)))
        .collect();
    apply_hashed(store, root, &hashed)
}

/// [`apply`] with keys and values already hashed: `(key_hash, Some(value_hash))` to set,
/// `(key_hash, None)` to delete, in any order; a key hash may appear once.
pub fn apply_hashed(
    store: &dyn NodeStore,
    root: Hash,
    changes: &[(Hash, Option<Hash>)],
) -> Result<(Hash, Vec<(Hash, Node)>), SmtError> {
    if changes.is_empty() {
        return Ok((root, Vec::new()));
    }
    let mut sorted = changes.to_vec();
    sorted.sort_unstable_by_key(|a| a.0);
    if let Some(w) = sorted.windows(2).find(|w| w[0].0 == w[1].0) {
        return Err(SmtError::DuplicateKeyHash { key_hash: w[0].0 });
    }
    let mut updater = Updater {
        store,
        new_nodes: Vec::new(),
    };
    let new_root = updater.update(root, 0, &sorted)?.hash();
    Ok((new_root, updater.new_nodes))
}

/// A subtree after the update, with as much as is known of its kind.
#[derive(Clone, Copy, Debug)]
enum Sub {
    Empty,
    Leaf(Hash),
    Internal(Hash),
    /// An old subtree left untouched: its kind is read only if a recombination needs it.
    Unchanged(Hash),
}

impl Sub {
    fn hash(self) -> Hash {
        match self {
            Sub::Empty => EMPTY,
            Sub::Leaf(h) | Sub::Internal(h) | Sub::Unchanged(h) => h,
        }
    }

    fn is_empty(self) -> bool {
        self.hash() == EMPTY
    }
}

/// A leaf of a subtree being rebuilt; `stored` if it is already in the store.
#[derive(Clone, Copy, Debug)]
struct Pending {
    leaf: SmtLeaf,
    stored: bool,
}

struct Updater<'a> {
    store: &'a dyn NodeStore,
    new_nodes: Vec<(Hash, Node)>,
}

impl Updater<'_> {
    /// The subtree at `depth` whose hash was `hash`, after `changes` (sorted, unique, and all
    /// sharing the subtree's `depth`-bit prefix).
    fn update(
        &mut self,
        hash: Hash,
        depth: usize,
        changes: &[(Hash, Option<Hash>)],
    ) -> Result<Sub, SmtError> {
        if changes.is_empty() {
            return Ok(Sub::Unchanged(hash));
        }
        let mark = self.new_nodes.len();
        let result = if hash == EMPTY {
            self.rebuild(depth, None, changes)?
        } else {
            match load(self.store, &hash)? {
                Node::Leaf(old) => {
                    let on_path = common_prefix_len(&old.key_hash, &changes[0].0);
                    if on_path < depth {
                        return Err(SmtError::LeafOffPath {
                            leaf_key_hash: old.key_hash,
                            path_key_hash: changes[0].0,
                            depth,
                        });
                    }
                    self.rebuild(depth, Some(old), changes)?
                }
                Node::Internal { left, right } => {
                    if depth >= MAX_DEPTH {
                        return Err(SmtError::NodeTooDeep { hash, depth });
                    }
                    let split = changes.partition_point(|(k, _)| !bit(k, depth));
                    let l = self.update(left, depth + 1, &changes[..split])?;
                    let r = self.update(right, depth + 1, &changes[split..])?;
                    self.combine(l, r)?
                }
            }
        };
        if result.hash() == hash {
            // Same subtree as before (e.g. a value set to what it was, or deleting an absent
            // key): everything made below is already stored.
            self.new_nodes.truncate(mark);
        }
        Ok(result)
    }

    /// A subtree at `depth` whose old content is at most the leaf `old`, after `changes`.
    fn rebuild(
        &mut self,
        depth: usize,
        old: Option<SmtLeaf>,
        changes: &[(Hash, Option<Hash>)],
    ) -> Result<Sub, SmtError> {
        let mut leaves: Vec<Pending> = changes
            .iter()
            .filter_map(|(k, v)| {
                v.map(|vh| Pending {
                    leaf: SmtLeaf::new(*k, vh),
                    stored: false,
                })
            })
            .collect();
        if let Some(old) = old {
            if changes
                .binary_search_by(|(k, _)| k.cmp(&old.key_hash))
                .is_err()
            {
                leaves.push(Pending {
                    leaf: old,
                    stored: true,
                });
                leaves.sort_unstable_by_key(|p| p.leaf.key_hash);
            }
        }
        self.build(depth, &leaves)
    }

    /// The subtree at `depth` holding exactly `leaves` (sorted by distinct key hash, sharing the
    /// subtree's prefix).
    fn build(&mut self, depth: usize, leaves: &[Pending]) -> Result<Sub, SmtError> {
        match leaves {
            [] => Ok(Sub::Empty),
            [one] => {
                let hash = one.leaf.hash();
                if !one.stored {
                    self.new_nodes.push((hash, Node::Leaf(one.leaf)));
                }
                Ok(Sub::Leaf(hash))
            }
            [first, ..] => {
                if depth >= MAX_DEPTH {
                    // Two leaves with all 256 bits equal: callers deduplicate, so unreachable.
                    debug_assert!(depth < MAX_DEPTH, "two leaves with one key hash");
                    return Err(SmtError::DuplicateKeyHash {
                        key_hash: first.leaf.key_hash,
                    });
                }
                let split = leaves.partition_point(|p| !bit(&p.leaf.key_hash, depth));
                let l = self.build(depth + 1, &leaves[..split])?;
                let r = self.build(depth + 1, &leaves[split..])?;
                self.combine(l, r)
            }
        }
    }

    /// The parent of two sibling subtrees, in compact form.
    fn combine(&mut self, left: Sub, right: Sub) -> Result<Sub, SmtError> {
        let (lone, left_is_lone) = match (left.is_empty(), right.is_empty()) {
            (true, true) => return Ok(Sub::Empty),
            (true, false) => (right, false),
            (false, true) => (left, true),
            (false, false) => return Ok(self.internal(left.hash(), right.hash())),
        };
        // One child is empty: a single leaf rises, anything bigger keeps its parent.
        match self.resolve(lone)? {
            Sub::Leaf(h) => Ok(Sub::Leaf(h)),
            other if left_is_lone => Ok(self.internal(other.hash(), EMPTY)),
            other => Ok(self.internal(EMPTY, other.hash())),
        }
    }

    fn internal(&mut self, left: Hash, right: Hash) -> Sub {
        let node = Node::Internal { left, right };
        let hash = node.hash();
        self.new_nodes.push((hash, node));
        Sub::Internal(hash)
    }

    /// Reads the kind of an unchanged subtree.
    fn resolve(&self, sub: Sub) -> Result<Sub, SmtError> {
        match sub {
            Sub::Unchanged(h) if h == EMPTY => Ok(Sub::Empty),
            Sub::Unchanged(h) => Ok(match load(self.store, &h)? {
                Node::Leaf(_) => Sub::Leaf(h),
                Node::Internal { .. } => Sub::Internal(h),
            }),
            known => Ok(known),
        }
    }
}

/// Reads the node stored under `hash` and checks it is the node with that hash.
pub(super) fn load(store: &dyn NodeStore, hash: &Hash) -> Result<Node, SmtError> {
    if let Some(node) = store.get_known(hash) {
        debug_assert_eq!(node.hash(), *hash, "a known node under another hash");
        return Ok(node);
    }
    let node = store
        .get(hash)?
        .ok_or(SmtError::MissingNode { hash: *hash })?;
    let computed = node.hash();
    if computed != *hash {
        return Err(SmtError::NodeHashMismatch {
            expected: *hash,
            computed,
        });
    }
    Ok(node)
}
