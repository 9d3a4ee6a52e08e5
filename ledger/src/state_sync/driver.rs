//! The walk of the state tree, sans IO: the caller asks [`StateSync::next_request`] what to
//! fetch, sends it to a peer of its choosing, and hands the answer to [`StateSync::on_chunk`],
//! which checks it and says what to keep. Depth first, so the nodes waiting to be asked for stay
//! few (two per level of the walk, plus what is in flight) whatever the size of the state.

use std::collections::BTreeMap;

use crate::hash::Hash;
use crate::smt::EMPTY;

use super::chunk::{StateChunk, StateChunkRequest, StateEntry};
use super::verify::{verify_chunk, ChunkFault, VerifiedChunk};

/// Most requests in flight at once: [`StateSync::next_request`] says `None` beyond it.
pub const MAX_IN_FLIGHT: usize = 8;
/// Most nodes waiting or in flight. Depth first, a split adds one node net, and the nodes
/// waiting are right siblings of the paths being walked: at most one per level (257) for each
/// path in flight, and one more path. So this bound holds by construction.
pub const MAX_PENDING_NODES: usize = 257 * (MAX_IN_FLIGHT + 1) + MAX_IN_FLIGHT;

/// What an answer added to the sync.
#[derive(Debug, PartialEq, Eq)]
pub enum SyncStep {
    /// Leaves of the certified state: write them.
    Entries(Vec<StateEntry>),
    /// The node was split; its children are now waiting to be asked for.
    Split,
    /// The peer did not have it; the node waits to be asked for again (of another peer).
    Unavailable,
}

/// The walk towards one certified state root.
#[derive(Debug)]
pub struct StateSync {
    root: Hash,
    /// Nodes to ask for, with their depth; the last is asked for first.
    waiting: Vec<(Hash, usize)>,
    in_flight: BTreeMap<Hash, usize>,
    entries: u64,
    answers: u64,
}

impl StateSync {
    /// A walk of the tree whose root is `root` (from a verified ledger certificate).
    pub fn new(root: Hash) -> StateSync {
        StateSync {
            root,
            waiting: if root == EMPTY {
                Vec::new()
            } else {
                vec![(root, 0)]
            },
            in_flight: BTreeMap::new(),
            entries: 0,
            answers: 0,
        }
    }

    pub fn root(&self) -> Hash {
        self.root
    }

    /// The next node to ask for, now counted as in flight; `None` when every node left is in
    /// flight already, [`MAX_IN_FLIGHT`] are, or the walk is over.
    pub fn next_request(&mut self) -> Option<StateChunkRequest> {
        if self.in_flight.len() >= MAX_IN_FLIGHT {
            return None;
        }
        let (node, depth) = self.waiting.pop()?;
        self.in_flight.insert(node, depth);
        Some(StateChunkRequest { node })
    }

    /// Checks the answer for `node`. A fault puts the node back to be asked for again (of
    /// another peer); the caller marks the peer.
    pub fn on_chunk(&mut self, node: &Hash, chunk: StateChunk) -> Result<SyncStep, ChunkFault> {
        let depth = self
            .in_flight
            .remove(node)
            .ok_or(ChunkFault::Unrequested { node: *node })?;
        match verify_chunk(node, depth, chunk) {
            Err(fault) => {
                self.waiting.push((*node, depth));
                Err(fault)
            }
            Ok(VerifiedChunk::Unavailable) => {
                self.waiting.push((*node, depth));
                Ok(SyncStep::Unavailable)
            }
            Ok(VerifiedChunk::Leaves(entries)) => {
                self.answers += 1;
                self.entries += entries.len() as u64;
                Ok(SyncStep::Entries(entries))
            }
            Ok(VerifiedChunk::Split { left, right }) => {
                self.answers += 1;
                // Right first, so that the left child is asked for next: leaves then arrive in
                // key-hash order.
                for child in [right, left] {
                    if child != EMPTY {
                        self.waiting.push((child, depth + 1));
                    }
                }
                // Every node waiting is a distinct node of the certified tree (its hash
                // checked), so no peer can grow this; the bound is the walk's own shape.
                debug_assert!(
                    self.waiting.len() + self.in_flight.len() <= MAX_PENDING_NODES,
                    "state sync: {} nodes waiting and {} in flight",
                    self.waiting.len(),
                    self.in_flight.len()
                );
                Ok(SyncStep::Split)
            }
        }
    }

    /// The request for `node` got no answer (the peer is gone, or timed out): ask again.
    pub fn on_lost(&mut self, node: &Hash) {
        if let Some(depth) = self.in_flight.remove(node) {
            self.waiting.push((*node, depth));
        }
    }

    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    /// Every node answered: the leaves kept are exactly the certified state.
    pub fn is_complete(&self) -> bool {
        self.waiting.is_empty() && self.in_flight.is_empty()
    }

    /// Leaves kept so far, and answers that checked out.
    pub fn progress(&self) -> (u64, u64) {
        (self.entries, self.answers)
    }
}
