//! Checking one answer against the node it was asked for. A subtree's hash is a function of the
//! set of leaves under it (see `crate::smt`), so the leaves a peer sends are exactly the
//! subtree's when they hash to the node: by collision resistance, no other set does.

use crate::execute::MAX_STATE_VALUE_BYTES;
use crate::hash::Hash;
use crate::smt::{internal_hash, key_hash, leaf_hash, value_hash, EMPTY, MAX_DEPTH};

use super::chunk::{
    StateChunk, StateEntry, MAX_CHUNK_BYTES, MAX_CHUNK_ENTRIES, MAX_STATE_KEY_BYTES,
};

/// Why an answer is not the subtree asked for: the peer that sent it is at fault.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum ChunkFault {
    #[error("{count} entries, at most {max} per answer")]
    TooManyEntries { count: usize, max: usize },
    #[error("{bytes} bytes of keys and values, at most {max} per answer")]
    TooManyBytes { bytes: usize, max: usize },
    #[error("entry {index}: a key of {len} bytes, at most {max}")]
    KeyTooLong {
        index: usize,
        len: usize,
        max: usize,
    },
    #[error("entry {index}: a value of {len} bytes, at most {max}")]
    ValueTooLong {
        index: usize,
        len: usize,
        max: usize,
    },
    #[error("entry {index}: key hash {key_hash} does not follow {previous} (entries go in key-hash order, once each)")]
    OutOfOrder {
        index: usize,
        key_hash: Hash,
        previous: Hash,
    },
    #[error("the {count} leaves sent hash to {computed} at depth {depth}, the node asked for is {expected}")]
    WrongLeaves {
        expected: Hash,
        computed: Hash,
        depth: usize,
        count: usize,
    },
    #[error("the two children sent hash to {computed}, the node asked for is {expected}")]
    WrongChildren { expected: Hash, computed: Hash },
    #[error("a split at depth {depth}, where the tree holds only leaves")]
    SplitTooDeep { depth: usize },
    #[error("an answer for node {node}, which was not asked for (or was answered already)")]
    Unrequested { node: Hash },
}

/// An answer that checked out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VerifiedChunk {
    /// The subtree's leaves, to keep.
    Leaves(Vec<StateEntry>),
    /// The subtree's children, each at `depth + 1`, to ask for next.
    Split { left: Hash, right: Hash },
    /// Ask another peer.
    Unavailable,
}

/// The hash of the subtree at `depth` holding exactly `leaves`, given as `(key_hash,
/// value_hash)` in strictly increasing key-hash order, all sharing the subtree's first `depth`
/// bits (`crate::smt` defines the shape: empty, a single leaf at any depth, or an internal node
/// over the two halves split by bit `depth`).
pub fn subtree_hash(depth: usize, leaves: &[(Hash, Hash)]) -> Hash {
    match leaves {
        [] => EMPTY,
        [(k, v)] => leaf_hash(k, v),
        _ => {
            // Two distinct key hashes differ by bit 255 at the latest, so with strictly
            // increasing keys depth stays below MAX_DEPTH here.
            debug_assert!(depth < MAX_DEPTH);
            let split = leaves.partition_point(|(k, _)| !crate::smt::bit(k, depth));
            internal_hash(
                &subtree_hash(depth + 1, &leaves[..split]),
                &subtree_hash(depth + 1, &leaves[split..]),
            )
        }
    }
}

/// Checks `chunk` as the answer for the node `expected` at `depth` of the tree.
pub fn verify_chunk(
    expected: &Hash,
    depth: usize,
    chunk: StateChunk,
) -> Result<VerifiedChunk, ChunkFault> {
    match chunk {
        StateChunk::Unavailable => Ok(VerifiedChunk::Unavailable),
        StateChunk::Split { left, right } => {
            if depth >= MAX_DEPTH {
                return Err(ChunkFault::SplitTooDeep { depth });
            }
            let computed = internal_hash(&left, &right);
            if computed != *expected {
                return Err(ChunkFault::WrongChildren {
                    expected: *expected,
                    computed,
                });
            }
            Ok(VerifiedChunk::Split { left, right })
        }
        StateChunk::Leaves(entries) => {
            check_limits(&entries)?;
            let mut hashed: Vec<(Hash, Hash)> = Vec::with_capacity(entries.len());
            for (index, entry) in entries.iter().enumerate() {
                let kh = key_hash(&entry.key);
                if let Some(&(previous, _)) = hashed.last() {
                    if kh <= previous {
                        return Err(ChunkFault::OutOfOrder {
                            index,
                            key_hash: kh,
                            previous,
                        });
                    }
                }
                hashed.push((kh, value_hash(&entry.value)));
            }
            let computed = subtree_hash(depth.min(MAX_DEPTH), &hashed);
            if computed != *expected {
                return Err(ChunkFault::WrongLeaves {
                    expected: *expected,
                    computed,
                    depth,
                    count: hashed.len(),
                });
            }
            Ok(VerifiedChunk::Leaves(entries))
        }
    }
}

fn check_limits(entries: &[StateEntry]) -> Result<(), ChunkFault> {
    if entries.len() > MAX_CHUNK_ENTRIES {
        return Err(ChunkFault::TooManyEntries {
            count: entries.len(),
            max: MAX_CHUNK_ENTRIES,
        });
    }
    let mut bytes = 0usize;
    for (index, entry) in entries.iter().enumerate() {
        if entry.key.len() > MAX_STATE_KEY_BYTES {
            return Err(ChunkFault::KeyTooLong {
                index,
                len: entry.key.len(),
                max: MAX_STATE_KEY_BYTES,
            });
        }
        if entry.value.len() > MAX_STATE_VALUE_BYTES {
            return Err(ChunkFault::ValueTooLong {
                index,
                len: entry.value.len(),
                max: MAX_STATE_VALUE_BYTES,
            });
        }
        bytes = bytes.saturating_add(entry.key.len() + entry.value.len());
    }
    if bytes > MAX_CHUNK_BYTES {
        return Err(ChunkFault::TooManyBytes {
            bytes,
            max: MAX_CHUNK_BYTES,
        });
    }
    Ok(())
}

/// The subtree hash of a tree node as `crate::smt` stores it agrees with [`subtree_hash`]: kept
/// here so the tests can compare the two shapes on random trees.
#[cfg(test)]
pub(super) fn root_of(entries: &[StateEntry]) -> Hash {
    let changes = entries
        .iter()
        .map(|e| (e.key.clone(), Some(e.value.clone())))
        .collect();
    crate::smt::apply(&crate::smt::MemoryNodeStore::new(), EMPTY, &changes)
        .expect("an in-memory tree")
        .0
}
