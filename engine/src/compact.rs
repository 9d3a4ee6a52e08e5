//! Compact proposals, the replica's side: rebuild the block from the mempool; when a named
//! transaction is not here, look again [`SECOND_LOOK_MS`] later (its gossip may still be in this
//! node's intake), then ask the proposer for the transactions still missing (up to
//! [`wire::MAX_TXS_PER_FETCH`], else for the whole block). A fetched block cost the proposer its
//! encoding and this node its decoding, both on the engine's thread, for transactions nearly all
//! of which were here already. Bounded: at most
//! [`MAX_PROPOSAL_FETCHES`] proposals wait at once, and a proposer that names transactions
//! nobody holds and then does not serve its block gets an offence against it.

use std::collections::VecDeque;

use consensus::{ConsensusMsg, Input};
use ledger::hash::FastHashMap;
use ledger::{Hash, PublicKey, SignedTransaction};
use tracing::debug;

use crate::node::{Asked, EngineError, Node};
use crate::offences::Offence;
use crate::payload::TxBatch;
use crate::store::NodeStore;
use crate::wire::{self, CompactProposal, SignaturePin};
use crate::{Millis, Peer};

/// Most compact proposals waiting for a second look or for their block from the proposer: an
/// honest leader's proposals rarely need either, and a peer sending proposals of unknown
/// transactions gets no more than this.
pub const MAX_PROPOSAL_FETCHES: usize = 4;
/// How long a compact proposal naming unknown transactions waits before a second look at the
/// mempool. The usual cause is gossip this node's intake is still verifying, which the leader's
/// had just admitted when it proposed; fetching at once (a round trip and the whole block) did
/// so for a fifth of the proposals at 10,000 tx/s.
pub const SECOND_LOOK_MS: Millis = 25;

/// A compact proposal due for a second look.
pub(crate) struct Look<P> {
    due: Millis,
    peer: P,
    from: PublicKey,
    compact: Box<CompactProposal>,
}

/// Proposals waiting: for their second look, or (counted only) for their block.
pub(crate) struct ProposalLooks<P> {
    looks: VecDeque<Look<P>>,
    fetching: usize,
}

impl<P> Default for ProposalLooks<P> {
    fn default() -> Self {
        ProposalLooks {
            looks: VecDeque::new(),
            fetching: 0,
        }
    }
}

impl<P> ProposalLooks<P> {
    fn busy(&self) -> bool {
        self.looks.len() + self.fetching >= MAX_PROPOSAL_FETCHES
    }

    pub(crate) fn next_due(&self) -> Option<Millis> {
        self.looks.iter().map(|l| l.due).min()
    }

    /// The looks due at `now` (they are queued in due order: every look waits the same time).
    pub(crate) fn take_due(&mut self, now: Millis) -> Vec<Look<P>> {
        let mut due = Vec::new();
        while self.looks.front().is_some_and(|l| l.due <= now) {
            due.extend(self.looks.pop_front());
        }
        due
    }
}

impl<P: Peer, S: NodeStore> Node<P, S> {
    /// Rebuilds a compact proposal from the mempool and hands it to the core, or schedules a
    /// second look.
    pub(crate) fn on_compact_proposal(
        &mut self,
        peer: P,
        from: PublicKey,
        compact: CompactProposal,
    ) -> Result<(), EngineError<S::Error>> {
        // Another epoch's proposal (a validator that has not yet left the last epoch, or left
        // the set) is refused before any transaction is looked for or its body fetched.
        let epoch = ledger::encoding::from_canonical::<consensus::QuorumCert>(
            "quorum certificate",
            &compact.header.justify,
            ledger::block::MAX_JUSTIFY_BYTES,
        )
        .map_or(u64::MAX, |qc| qc.epoch());
        if epoch != self.core.epoch() {
            self.on_rejected(
                Some(from),
                consensus::Reject::WrongEpoch {
                    what: "compact proposal",
                    epoch,
                    current: self.core.epoch(),
                },
            );
            return Ok(());
        }
        // Within the epoch, a proposal the sender did not sign is its fault however late it
        // is (a key rotated at the boundary signed the last epoch's with the old key).
        if compact.header.proposer != from {
            self.on_rejected(Some(from), consensus::Reject::AuthorMismatch);
            return Ok(());
        }
        if compact.header.round < self.core.round() {
            // A late proposal (a leader that has just caught up proposes in the round it
            // entered): the core would drop it as stale, so nothing is fetched for it. It still
            // shows its leader is up, which clears a suspicion of it (`consensus::suspects`).
            let tc_round = compact.tc.as_ref().map(|t| t.round);
            if let Err(reject) =
                self.core
                    .late_proposal_seen(from, &compact.header, tc_round, &compact.signature)
            {
                self.on_rejected(Some(from), reject);
                return Ok(());
            }
            self.on_rejected(
                Some(from),
                consensus::Reject::StaleRound {
                    round: compact.header.round,
                    current: self.core.round(),
                },
            );
            return Ok(());
        }
        self.status.compact_proposals += 1;
        if let Some(proposal) = self.rebuild(&compact) {
            return self.feed(Input::Message {
                from,
                msg: ConsensusMsg::Proposal(proposal),
            });
        }
        self.status.compact_second_looks += 1;
        if self.looks.busy() {
            debug!(%peer, "compact proposal of unknown transactions dropped: fetches busy");
            return Ok(());
        }
        debug!(%peer, round = compact.header.round, "compact proposal names unknown transactions; looking again shortly");
        self.looks.looks.push_back(Look {
            due: self.now.saturating_add(SECOND_LOOK_MS),
            peer,
            from,
            compact: Box::new(compact),
        });
        Ok(())
    }

    /// The second look: rebuild; or ask the proposer for the transactions still missing, or for
    /// the whole block when more than [`wire::MAX_TXS_PER_FETCH`] are.
    pub(crate) fn on_second_look(&mut self, look: Look<P>) -> Result<(), EngineError<S::Error>> {
        let Look {
            peer,
            from,
            compact,
            ..
        } = look;
        if let Some(proposal) = self.rebuild(&compact) {
            return self.feed(Input::Message {
                from,
                msg: ConsensusMsg::Proposal(proposal),
            });
        }
        let missing = {
            let pool = self.mempool.lock();
            compact.missing(|h, pin| {
                pool.get(h)
                    .is_some_and(|t| SignaturePin::of(&t.signature) == *pin)
            })
        };
        if missing.is_empty() || missing.len() > wire::MAX_TXS_PER_FETCH {
            // Empty: the mempool gained what was missing between the two calls above.
            self.fetch_block(peer, from, compact);
            return Ok(());
        }
        debug!(%peer, round = compact.header.round, missing = missing.len(), "compact proposal still names unknown transactions; fetching them");
        let request = wire::SyncRequest::Transactions {
            block: compact.block_id(),
            indices: missing.clone(),
        };
        if self.request(
            peer,
            Asked::ProposalTxs {
                peer,
                from,
                compact,
                indices: missing,
            },
            wire::encode_request(&request),
        ) {
            self.looks.fetching += 1;
            self.status.compact_tx_fetches += 1;
        }
        Ok(())
    }

    /// Asks the proposer for the whole block of `compact`.
    pub(crate) fn fetch_block(&mut self, peer: P, from: PublicKey, compact: Box<CompactProposal>) {
        debug!(%peer, round = compact.header.round, "compact proposal still names unknown transactions; fetching its block");
        let request = wire::SyncRequest::Fetch {
            id: compact.block_id(),
            count: 1,
        };
        if self.request(
            peer,
            Asked::ProposalBody {
                peer,
                from,
                compact,
            },
            wire::encode_request(&request),
        ) {
            self.looks.fetching += 1;
            self.status.compact_fetches += 1;
        }
    }

    /// The proposer's answer with the transactions a compact proposal was missing.
    pub(crate) fn on_proposal_txs(
        &mut self,
        peer: P,
        from: PublicKey,
        compact: Box<CompactProposal>,
        indices: &[u16],
        txs: Vec<SignedTransaction>,
    ) -> Result<(), EngineError<S::Error>> {
        self.looks.fetching = self.looks.fetching.saturating_sub(1);
        let (round, id) = (compact.header.round, compact.block_id());
        if txs.is_empty() {
            self.offend(
                peer,
                Offence::UnservedProposal,
                &format_args!("round {round}: the transactions of block {id} not served"),
            );
            return Ok(());
        }
        if !compact.names_at(indices, &txs) {
            self.offend(
                peer,
                Offence::UnservedProposal,
                &format_args!(
                    "round {round}: block {id}: other transactions or signatures served than its proposal named"
                ),
            );
            return Ok(());
        }
        self.status.compact_txs_fetched += txs.len() as u64;
        // The fetched transactions' signatures are checked with the proposal's (`payload`),
        // like those of any transaction a proposal brings.
        let fetched: FastHashMap<Hash, SignedTransaction> =
            txs.into_iter().map(|t| (t.hash(), t)).collect();
        let rebuilt = {
            let pool = self.mempool.lock();
            compact.rebuild(|h| fetched.get(h).cloned().or_else(|| pool.get(h).cloned()))
        };
        match rebuilt {
            Some(proposal) => self.feed(Input::Message {
                from,
                msg: ConsensusMsg::Proposal(proposal),
            }),
            // A transaction that was here at the second look has left the mempool since (another
            // branch committed it, or it was evicted), or the block names one twice with two
            // signatures: the whole block, then.
            None => {
                self.fetch_block(peer, from, compact);
                Ok(())
            }
        }
    }

    /// The proposer's answer for a compact proposal this node could not rebuild.
    pub(crate) fn on_proposal_body(
        &mut self,
        peer: P,
        from: PublicKey,
        compact: &CompactProposal,
        blocks: Vec<consensus::Block<TxBatch>>,
    ) -> Result<(), EngineError<S::Error>> {
        self.looks.fetching = self.looks.fetching.saturating_sub(1);
        let id = compact.block_id();
        match blocks.into_iter().find(|b| b.id() == id) {
            // The fetched payload is checked against the header's tx root by the core, like any
            // proposal's; here, that it carries the signatures the proposal pinned.
            Some(block) if compact.names(&block.payload) => self.feed(Input::Message {
                from,
                msg: ConsensusMsg::Proposal(compact.with_payload(block.payload)),
            }),
            Some(_) => {
                self.offend(
                    peer,
                    Offence::UnservedProposal,
                    &format_args!(
                        "round {}: block {id} served with other transactions or signatures than its proposal named",
                        compact.header.round
                    ),
                );
                Ok(())
            }
            None => {
                self.offend(
                    peer,
                    Offence::UnservedProposal,
                    &format_args!("round {}: block {id} not served", compact.header.round),
                );
                Ok(())
            }
        }
    }

    /// A failed or malformed answer to a body fetch frees its place.
    pub(crate) fn proposal_body_failed(&mut self) {
        self.looks.fetching = self.looks.fetching.saturating_sub(1);
    }

    fn rebuild(&self, compact: &CompactProposal) -> Option<consensus::Proposal<TxBatch>> {
        let pool = self.mempool.lock();
        compact.rebuild(|h| pool.get(h).cloned())
    }
}
