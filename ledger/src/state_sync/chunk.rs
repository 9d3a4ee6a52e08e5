//! What a syncing node asks for and what it is sent, with the limits that bound one answer.

use serde::{Deserialize, Serialize};

use crate::encoding::{from_canonical, to_canonical, Canonical, DecodeError};
use crate::execute::MAX_STATE_VALUE_BYTES;
use crate::hash::Hash;

/// Most leaves one answer carries.
pub const MAX_CHUNK_ENTRIES: usize = 2_048;
/// Most key and value bytes one answer carries. A single leaf always fits (a key of at most
/// [`MAX_STATE_KEY_BYTES`] and a value of at most [`MAX_STATE_VALUE_BYTES`]), so a subtree too
/// large for one answer is always an internal node, which can be split.
pub const MAX_CHUNK_BYTES: usize = 2 << 20;
/// Longest application state key a chunk may carry. Execution's keys are a short prefix and an
/// id of at most 255 bytes (`schema::index_prefix`), or a public key.
pub const MAX_STATE_KEY_BYTES: usize = 1_024;
/// Largest canonical encoding of a [`StateChunk`]: the key and value bytes, two length prefixes
/// (at most 10 bytes each) per entry, and the enum tag and entry count.
pub const MAX_STATE_CHUNK_WIRE_BYTES: usize = MAX_CHUNK_BYTES + MAX_CHUNK_ENTRIES * 20 + 16;

const _: () = assert!(MAX_STATE_KEY_BYTES + MAX_STATE_VALUE_BYTES <= MAX_CHUNK_BYTES);

/// "Send me the leaves under this node of the state tree."
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateChunkRequest {
    pub node: Hash,
}

/// One leaf as the application stores it: the key and the value whose hashes the leaf holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateEntry {
    #[serde(with = "crate::encoding_helpers::hex_bytes")]
    pub key: Vec<u8>,
    #[serde(with = "crate::encoding_helpers::hex_bytes")]
    pub value: Vec<u8>,
}

/// The answer to a [`StateChunkRequest`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum StateChunk {
    /// Every leaf under the node, in key-hash order.
    Leaves(Vec<StateEntry>),
    /// The node is internal and its leaves do not fit one answer: its two children (either may
    /// be the empty subtree).
    Split { left: Hash, right: Hash },
    /// The server does not hold this node, or a key or value under it.
    Unavailable,
}

impl Canonical for StateChunk {
    const DOMAIN: &'static str = "waybill/state-chunk/v1";
}

impl StateChunk {
    pub fn to_bytes(&self) -> Vec<u8> {
        to_canonical(self)
    }

    /// Decodes at most [`MAX_STATE_CHUNK_WIRE_BYTES`]; the limits on entries are checked by
    /// [`super::verify_chunk`], which every answer goes through.
    pub fn from_bytes(bytes: &[u8]) -> Result<StateChunk, DecodeError> {
        from_canonical("state chunk", bytes, MAX_STATE_CHUNK_WIRE_BYTES)
    }

    /// Key and value bytes carried.
    pub fn payload_bytes(&self) -> usize {
        match self {
            StateChunk::Leaves(entries) => entries
                .iter()
                .map(|e| e.key.len().saturating_add(e.value.len()))
                .fold(0usize, usize::saturating_add),
            StateChunk::Split { .. } | StateChunk::Unavailable => 0,
        }
    }
}
