//! Letting an idle network rest. A network with nothing to order writes nothing: no empty
//! blocks, no round timeouts, no fsyncs. Two rules make it so, one for each side of a round.
//!
//! - **A leader with nothing to order holds its proposal.** Asked for a payload while its
//!   mempool has nothing ready, no uncommitted block on its way to commit carries a
//!   transaction, and neither the parent nor the grandparent does, it holds the request until
//!   there is work. Empty blocks are still proposed at once after a block with transactions:
//!   under the two-chain rule a block commits once a block of the next round is certified on top
//!   of it, and the other validators learn that certificate only from the proposal after. So the
//!   two blocks after a block with transactions are proposed without waiting. A leader that
//!   holds shares the certificate it just formed, so every validator commits the last block.
//! - **A validator with no work lets its round timer rest.** A timer that expires while the
//!   node has nothing ready in its mempool and no open block carries a transaction is parked
//!   instead of timing the round out. Work (an admitted transaction, a proposal with some)
//!   restarts it with its full length, so a leader that then stays silent is timed out as
//!   before, and a transaction arriving at an idle network does not race a fresh proposal with
//!   a volley of timeouts. A node just started times its first round out regardless, to learn
//!   the round the others rest in.
//!
//! Safety does not depend on either rule: HotStuff's safety rests on the voting rules and
//! quorum intersection, never on when a proposal or a timeout is sent, and both rules only
//! delay sending them. Liveness: a transaction pending at any honest node is offered to every
//! other again while it stays pending (`regossip`), so every honest node has work until it
//! commits; from then on every honest timer runs and the protocol is the one without these
//! rules. A Byzantine node can neither hold honest timers parked (a node's work is its own
//! mempool and block tree) nor keep them running for long: a block only it proposed stops
//! counting once a higher certificate passes it.

use consensus::types::SyncInfo;
use consensus::{ConsensusMsg, Input, Round};
use ledger::hash::FastHashSet;
use ledger::Hash;

use crate::node::{EngineError, Node, StoreView};
use crate::payload::{fit_proposal, TxBatch};
use crate::store::NodeStore;
use crate::{wire, Effect, Millis, Peer};

/// A payload request held back for want of work.
#[derive(Clone, Copy, Debug)]
pub(crate) struct DeferredPayload {
    pub(crate) round: Round,
}

/// A round timer that expired while the node had no work, and its length, to run again in
/// full once work arrives.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ParkedTimer {
    pub(crate) round: Round,
    pub(crate) length: Millis,
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
        let mut exclude = self.unapplied_tx_hashes();
        exclude.extend(pending.iter().copied());
        let payload = self.next_payload(&exclude);
        if payload.txs.is_empty()
            && pending.is_empty()
            && !self.recent_blocks_carry_txs(parent)
            && !self.open_blocks_carry_txs()
        {
            self.deferred = Some(DeferredPayload { round });
            // Only this leader knows the certificate it has just formed: the others would learn
            // it from the proposal that now waits. Shared at once, it lets every validator commit
            // what this one commits and enter its round, so the network rests at one height
            // (else the others fetched the last block by catch-up seconds later).
            let sync = ConsensusMsg::SyncInfo(SyncInfo {
                high_qc: self.core.high_qc().clone(),
                high_tc: None,
            });
            self.out.push(Effect::Broadcast {
                bytes: wire::encode_consensus(&sync),
            });
            return;
        }
        self.deferred = None;
        self.loopback
            .push_back(Input::PayloadReady { round, payload });
    }

    /// The round timer expired: time the round out if there is work, otherwise park the timer.
    pub(crate) fn on_timer_expired(
        &mut self,
        round: Round,
        length: Millis,
    ) -> Result<(), EngineError<S::Error>> {
        // A node that has not timed a round out since it started does not know where the
        // network is (it may have rested in a later round meanwhile, waiting for this node to
        // lead): it times its round out once, work or not, and the validators that left the
        // round answer with their certificates, which bring it to theirs.
        if self.has_work() || !self.timed_out_since_start {
            self.timed_out_since_start = true;
            return self.feed(Input::TimerFired { round });
        }
        self.parked = Some(ParkedTimer { round, length });
        Ok(())
    }

    /// Whether the node rests: its timer is parked or its payload request held. The shell then
    /// reports admissions with [`crate::Event::TxAdmitted`].
    pub(crate) fn rests(&self) -> bool {
        self.parked.is_some() || self.deferred.is_some()
    }

    /// Ends the rest once there is work: answers a held-back request, restarts a parked timer.
    /// Called after every event while the node rests (cheap then: an idle mempool has nothing
    /// ready to look through).
    pub(crate) fn wake_if_work(&mut self) {
        if let Some(deferred) = self.deferred {
            if deferred.round != self.core.round() {
                // The core left the round: it would ignore the answer.
                self.deferred = None;
            } else {
                // Nothing was uncommitted with transactions when the request was held back, and
                // this node proposes nothing else meanwhile, so nothing needs excluding.
                let payload = self.next_payload(&FastHashSet::default());
                if !payload.txs.is_empty() || self.open_blocks_carry_txs() {
                    self.deferred = None;
                    self.loopback.push_back(Input::PayloadReady {
                        round: deferred.round,
                        payload,
                    });
                }
            }
        }
        if let Some(parked) = self.parked {
            if parked.round != self.core.round() || self.has_work() {
                self.parked = None;
                if parked.round == self.core.round() {
                    self.timer = Some((parked.round, self.now.saturating_add(parked.length)));
                    self.timer_length = parked.length;
                }
            }
        }
    }

    /// Work that needs rounds to move: a transaction ready to propose, or one in a block that
    /// may still commit.
    fn has_work(&self) -> bool {
        self.mempool.lock().has_ready(&StoreView(&self.store)) || self.open_blocks_carry_txs()
    }

    fn open_blocks_carry_txs(&self) -> bool {
        self.core.open_blocks().any(|b| !b.payload.txs.is_empty())
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

    fn next_payload(&mut self, exclude: &FastHashSet<Hash>) -> TxBatch {
        let max_txs = self.genesis.consensus.max_block_txs as usize;
        let txs = self
            .mempool
            .lock()
            .next_batch(max_txs, exclude, &StoreView(&self.store));
        TxBatch::new(fit_proposal(txs, max_txs))
    }
}
