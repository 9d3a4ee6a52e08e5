//! Answering a [`super::StateChunkRequest`]: the walk under one node, bounded, over any store
//! that can give a leaf's key and value back from their hashes (the RocksDB store; an in-memory
//! one in tests).

use crate::hash::Hash;
use crate::smt::{Node, NodeStore, SmtError, EMPTY};

use super::chunk::{StateChunk, StateEntry, MAX_CHUNK_BYTES, MAX_CHUNK_ENTRIES};

/// A state tree with the keys and values behind its leaves.
pub trait ChunkSource: NodeStore {
    fn key_of(&self, key_hash: &Hash) -> Result<Option<Vec<u8>>, SmtError>;
    fn value_of(&self, value_hash: &Hash) -> Result<Option<Vec<u8>>, SmtError>;
}

/// How much one answer may carry: [`MAX_CHUNK_ENTRIES`] and [`MAX_CHUNK_BYTES`] on the wire;
/// smaller in tests, to make small trees split.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChunkLimits {
    pub entries: usize,
    pub bytes: usize,
}

impl Default for ChunkLimits {
    fn default() -> Self {
        ChunkLimits {
            entries: MAX_CHUNK_ENTRIES,
            bytes: MAX_CHUNK_BYTES,
        }
    }
}

/// Every leaf under `node`, with its key and value, in key-hash order; or, when they exceed
/// `limits`, the node's children. Reads at most `limits.entries + 1` leaves and the internal
/// nodes above them. A node, key or value the source lacks makes the answer
/// [`StateChunk::Unavailable`].
pub fn serve_chunk(
    source: &dyn ChunkSource,
    node: &Hash,
    limits: ChunkLimits,
) -> Result<StateChunk, SmtError> {
    let mut entries: Vec<StateEntry> = Vec::new();
    let mut bytes = 0usize;
    let mut stack = vec![*node];
    while let Some(hash) = stack.pop() {
        if hash == EMPTY {
            continue;
        }
        let Some(found) = source.get(&hash)? else {
            return Ok(StateChunk::Unavailable);
        };
        if found.hash() != hash {
            return Err(SmtError::NodeHashMismatch {
                expected: hash,
                computed: found.hash(),
            });
        }
        match found {
            Node::Internal { left, right } => {
                // Left is popped first: leaves come out in key-hash order.
                stack.push(right);
                stack.push(left);
            }
            Node::Leaf(leaf) => {
                let (Some(key), Some(value)) = (
                    source.key_of(&leaf.key_hash)?,
                    source.value_of(&leaf.value_hash)?,
                ) else {
                    return Ok(StateChunk::Unavailable);
                };
                bytes = bytes.saturating_add(key.len() + value.len());
                entries.push(StateEntry { key, value });
                if entries.len() > limits.entries || bytes > limits.bytes {
                    // More than one answer holds, so more than one leaf: `node` is internal.
                    return Ok(match source.get(node)? {
                        Some(Node::Internal { left, right }) => StateChunk::Split { left, right },
                        _ => StateChunk::Unavailable,
                    });
                }
            }
        }
    }
    Ok(StateChunk::Leaves(entries))
}
