//! State sync: a node that is far behind, or new (an observer joining a long chain), starts from
//! a certified state instead of executing every block since genesis.
//!
//! # Trust
//!
//! The same rule as catch-up: only what a quorum signed. The node picks a ledger certificate it
//! has verified (against the epoch chain from genesis); the certificate names the state root,
//! the block hash and the accumulator root and size. Everything else it fetches is checked
//! against those four hashes before it is kept, so a peer can slow a sync down but never make it
//! install a state, a block or an accumulator that the quorum did not sign:
//!
//! - **State**, by subtree ([`StateChunkRequest`] names a tree node by its hash): the answer is
//!   either every leaf under it, as application keys and values, whose subtree hash must be the
//!   node's ([`verify_chunk`]), or the node's two children, whose internal hash must be the
//!   node's. Starting from the certified root, this walks the whole tree and nothing else.
//! - **The base block** ([`SnapshotBase`]): its hash must be the certified block hash.
//! - **The accumulator frontier** ([`crate::accumulator::Frontier`]): it must fold to the
//!   certified accumulator root.
//!
//! A wrong answer is a [`ChunkFault`], a mark against the peer that sent it; a peer without the
//! node answers [`StateChunk::Unavailable`], which is no fault.
//!
//! # Files
//!
//! - `chunk`: the wire types and their limits;
//! - `verify`: the subtree hash of a set of leaves, and the check of one answer;
//! - `serve`: the answer to a request, over any store of the tree with its keys and values;
//! - `driver`: the sans-IO walk of the tree ([`StateSync`]): which node to ask for next, what
//!   an answer adds;
//! - `base`: the certified block and frontier a synced store starts from.
//!
//! The RocksDB store serves chunks (`Store::state_chunk`, through `serve`) and installs a finished sync
//! (`Store::install_snapshot`).

mod base;
mod chunk;
mod driver;
mod serve;
mod verify;

pub use base::{BaseError, SnapshotBase, VerifiedBase};
pub use chunk::{
    StateChunk, StateChunkRequest, StateEntry, MAX_CHUNK_BYTES, MAX_CHUNK_ENTRIES,
    MAX_STATE_CHUNK_WIRE_BYTES, MAX_STATE_KEY_BYTES,
};
pub use driver::{StateSync, SyncStep, MAX_IN_FLIGHT, MAX_PENDING_NODES};
pub use serve::{serve_chunk, ChunkLimits, ChunkSource};
pub use verify::{subtree_hash, verify_chunk, ChunkFault, VerifiedChunk};

#[cfg(test)]
mod tests;
