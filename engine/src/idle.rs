//! Leading with nothing to order. A leader asked for a payload while its mempool has nothing
//! ready and no uncommitted block carries a transaction holds the request back until a
//! transaction arrives or `idle_wait` passes, instead of proposing an empty block at once.
//! Without this an idle network commits empty blocks back to back (a lone validator about
//! 1,500 a second, each with an fsync) and the ledger grows with nothing in it.
//!
//! Empty blocks are still proposed at once while a recent block carries transactions: under the
//! two-chain rule a block commits once a block of the next round is certified on top of it, and
//! the other validators learn that certificate only from the proposal after. So the two blocks
//! after a block with transactions are proposed without waiting, and any uncommitted block with
//! transactions also means no waiting.

use consensus::{Input, Round};
use ledger::hash::FastHashSet;
use ledger::Hash;

use crate::node::{Node, StoreView};
use crate::payload::{fit_proposal, TxBatch};
use crate::store::NodeStore;
use crate::{Millis, Peer};

/// A payload request held back, and when it must be answered at the latest.
#[derive(Clone, Copy, Debug)]
pub(crate) struct DeferredPayload {
    pub(crate) round: Round,
    pub(crate) deadline: Millis,
}

/// Half the genesis round timeout: replicas wait a whole timeout for the proposal, so a leader
/// waiting half of it for transactions never makes a round fail.
pub(crate) fn proposal_wait(round_timeout_ms: u64) -> Millis {
    round_timeout_ms / 2
}

impl<P: Peer, S: NodeStore> Node<P, S> {
    /// Answers the core's request for a payload, or holds it back when there is nothing to order.
    pub(crate) fn answer_payload_request(
        &mut self,
        round: Round,
        parent: Hash,
        uncommitted: &[Hash],
    ) {
        let pending: FastHashSet<Hash> = uncommitted
            .iter()
            .filter_map(|id| self.core.block(id))
            .flat_map(|b| b.payload.txs.iter().map(|t| t.hash()))
            .collect();
        let payload = self.next_payload(&pending);
        if payload.txs.is_empty()
            && pending.is_empty()
            && self.idle_wait > 0
            && !self.recent_blocks_carry_txs(parent)
        {
            self.deferred = Some(DeferredPayload {
                round,
                deadline: self.now.saturating_add(self.idle_wait),
            });
            return;
        }
        self.deferred = None;
        self.loopback
            .push_back(Input::PayloadReady { round, payload });
    }

    /// Answers a held-back request now (the wait is over). A request for a round the core has
    /// left is dropped: the core would ignore its answer anyway.
    pub(crate) fn release_deferred_payload(&mut self) {
        let Some(deferred) = self.deferred.take() else {
            return;
        };
        if deferred.round != self.core.round() {
            return;
        }
        // Nothing was uncommitted with transactions when the request was held back, and this
        // node proposes nothing else meanwhile, so nothing needs excluding.
        let payload = self.next_payload(&FastHashSet::default());
        self.loopback.push_back(Input::PayloadReady {
            round: deferred.round,
            payload,
        });
    }

    /// Whether `parent` or its parent carries transactions (looked up in the core's tree, or
    /// in the ledger once committed and pruned from it).
    fn recent_blocks_carry_txs(&self, parent: Hash) -> bool {
        let mut id = parent;
        for _ in 0..2 {
            let (carries, next) = match self.core.block(&id) {
                Some(b) => (!b.payload.txs.is_empty(), b.header.parent),
                None => {
                    let stored = self
                        .store
                        .block_height(&id)
                        .ok()
                        .flatten()
                        .and_then(|h| self.store.block_by_height(h).ok().flatten());
                    match stored {
                        Some(s) => (!s.block.txs.is_empty(), s.block.header.parent),
                        // Unknown or unreadable: nothing to hurry for.
                        None => return false,
                    }
                }
            };
            if carries {
                return true;
            }
            id = next;
        }
        false
    }

    /// Transactions were admitted: answer a held-back request if there is now something to
    /// order (a stale wake-up finds nothing and keeps waiting).
    pub(crate) fn on_admitted(&mut self) {
        let Some(deferred) = self.deferred else {
            return;
        };
        if deferred.round != self.core.round() {
            self.deferred = None;
            return;
        }
        let payload = self.next_payload(&FastHashSet::default());
        if payload.txs.is_empty() {
            return;
        }
        self.deferred = None;
        self.loopback.push_back(Input::PayloadReady {
            round: deferred.round,
            payload,
        });
    }

    fn next_payload(&mut self, exclude: &FastHashSet<Hash>) -> TxBatch {
        let max_txs = self.genesis.consensus.max_block_txs as usize;
        let txs = self
            .mempool
            .lock()
            .next_batch(max_txs, exclude, &StoreView(&self.store));
        TxBatch::new(fit_proposal(txs, max_txs))
    }
}
