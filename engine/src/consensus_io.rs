//! Between the wire and the consensus core: decoding consensus messages, feeding the core, and
//! carrying out its actions in order. Writes are collected and made durable as one batch (with
//! the safety mark when the safety data changed) before the first message that depends on them
//! is emitted, and at the latest when the actions run out; only then is the core told they are
//! durable.

use std::collections::VecDeque;

use consensus::{Action, ConsensusMsg, Input, Reject, WriteId};
use ledger::encoding::to_canonical;
use ledger::store_api::ConsensusWrite;
use tracing::{debug, error, warn};

use crate::guard;
use crate::node::{Asked, EngineError, Node};
use crate::offences::Offence;
use crate::payload::TxBatch;
use crate::store::NodeStore;
use crate::wire::{self, WireConsensus};
use crate::Peer;

/// Writes waiting to be made durable.
#[derive(Default)]
struct PendingWrites {
    writes: Vec<ConsensusWrite>,
    /// The safety data of the last `PersistSafety` among them, as a mark.
    mark: Option<consensus::SafetyData>,
    last: Option<WriteId>,
    /// Durable but not yet reported to the core.
    unreported: Option<WriteId>,
}

impl<P: Peer, S: NodeStore> Node<P, S> {
    /// Consensus-protocol bytes from `from`.
    pub(crate) fn on_consensus_bytes(
        &mut self,
        from: P,
        bytes: &[u8],
    ) -> Result<(), EngineError<S::Error>> {
        if self.offences.is_refused(&from, self.now) {
            return Ok(());
        }
        let Some(key) = self.book.key_of(&from) else {
            debug!(%from, "consensus message from a non-validator peer dropped");
            return Ok(());
        };
        match wire::decode_consensus(bytes) {
            Ok(WireConsensus::Full(msg)) => self.feed(Input::Message { from: key, msg }),
            Ok(WireConsensus::Compact(compact)) => self.on_compact_proposal(from, key, compact),
            Ok(WireConsensus::CheckpointVote { checkpoint, vote }) => {
                // The answer was the sync protocol's acknowledgement; a link needs none.
                self.on_checkpoint_vote(from, checkpoint, vote).map(drop)
            }
            Err(e) => {
                self.offend(from, Offence::UndecodableConsensus, &e);
                Ok(())
            }
        }
    }

    /// Hands one input to the core and carries out everything that follows from it.
    pub(crate) fn feed(&mut self, input: Input<TxBatch>) -> Result<(), EngineError<S::Error>> {
        let (round, qc_round) = (self.core.round(), self.core.high_qc().round());
        let timer = matches!(input, Input::TimerFired { .. });
        let actions = self.core.handle(self.now, input);
        let result = self.carry_out(actions);
        let (new_round, new_qc) = (self.core.round(), self.core.high_qc().round());
        let s = &mut self.status;
        s.timeouts += u64::from(timer);
        s.qcs += u64::from(new_qc > qc_round);
        s.tcs += u64::from(new_round > round && new_qc.saturating_add(1) < new_round);
        result
    }

    pub(crate) fn carry_out(
        &mut self,
        actions: Vec<Action<TxBatch>>,
    ) -> Result<(), EngineError<S::Error>> {
        let mut queue: VecDeque<Action<TxBatch>> = actions.into();
        let mut pending = PendingWrites::default();
        loop {
            while let Some(action) = queue.pop_front() {
                self.carry_out_one(action, &mut pending)?;
            }
            self.flush(&mut pending)?;
            match pending.unreported.take() {
                Some(w) => queue.extend(self.core.handle(self.now, Input::Persisted(w))),
                None => break,
            }
        }
        Ok(())
    }

    /// Makes the pending writes durable: the store's batch, and the safety mark beside it when
    /// the safety data changed. The two may become durable in either order (the real node syncs
    /// them side by side), and a crash may keep one without the other; the message that depends
    /// on them has not left yet. The mark names the safety data the store held before, so the
    /// guard can tell a write in flight at a crash from a store that went back, and claims only a
    /// committed height synced before this batch (the batch's sync is what makes the commits
    /// since durable, and it may be the half that is lost).
    fn flush(&mut self, pending: &mut PendingWrites) -> Result<(), EngineError<S::Error>> {
        if pending.writes.is_empty() {
            return Ok(());
        }
        let writes = std::mem::take(&mut pending.writes);
        let head = self.store.head().map_or(0, |h| h.height);
        match pending.mark.take() {
            Some(data) => {
                let mark =
                    guard::SafetyMark::replacing(&data, self.synced_head, self.durable_safety);
                self.store
                    .persist_consensus_and_mark(&writes, &mark)
                    .map_err(EngineError::Store)?;
                self.durable_safety = guard::safety_digest(&data);
            }
            None => self
                .store
                .persist_consensus(&writes)
                .map_err(EngineError::Store)?,
        }
        self.synced_head = self.synced_head.max(head);
        pending.unreported = pending.last;
        Ok(())
    }

    fn carry_out_one(
        &mut self,
        action: Action<TxBatch>,
        pending: &mut PendingWrites,
    ) -> Result<(), EngineError<S::Error>> {
        match action {
            Action::PersistSafety { data, write } => {
                pending
                    .writes
                    .push(ConsensusWrite::Safety(to_canonical(&data)));
                pending.mark = Some(data);
                pending.last = Some(write);
            }
            Action::PersistBlock { block, write } => {
                pending.writes.push(ConsensusWrite::Block {
                    height: block.height(),
                    id: block.id(),
                    bytes: to_canonical(&block),
                });
                pending.last = Some(write);
            }
            Action::Send { to, msg, after } => {
                if after.is_some() {
                    self.flush(pending)?;
                }
                if to == self.core.author() {
                    // The core handles its own copy on a later call.
                    let from = self.core.author();
                    self.loopback.push_back(Input::Message { from, msg });
                } else {
                    match self.book.peer_of(&to) {
                        Some(peer) => self.out.push(crate::Effect::Send {
                            to: peer,
                            bytes: wire::encode_consensus(&msg),
                        }),
                        None => warn!(to = %to, "consensus send to a key with no peer"),
                    }
                }
            }
            Action::Broadcast { msg, after } => {
                if after.is_some() {
                    self.flush(pending)?;
                }
                if let ConsensusMsg::Proposal(p) = &msg {
                    if self.own_proposals.len() >= crate::node::OWN_PROPOSALS_KEPT {
                        self.own_proposals.pop_front();
                    }
                    self.own_proposals.push_back(p.block.clone());
                }
                let bytes = match &msg {
                    ConsensusMsg::Proposal(p) => {
                        let pool = self.mempool.lock();
                        let now = self.now;
                        wire::encode_compact(&wire::CompactProposal::of(p, |t| {
                            pool.others_hold(t, now)
                        }))
                    }
                    _ => wire::encode_consensus(&msg),
                };
                self.out.push(crate::Effect::Broadcast { bytes });
            }
            Action::Commit {
                blocks,
                certificate,
            } => {
                // Applied on a later call (see `commit::Unapplied`), once the vote or proposal
                // this call sends has left: executing and storing the block is not on the
                // round's path. The writes before it are flushed when this call ends.
                self.unapplied.push(blocks, certificate);
            }
            Action::SetTimer { round, deadline } => {
                self.timer = Some((round, deadline));
                self.timer_length = deadline.saturating_sub(self.now);
                self.parked = None;
            }
            Action::RequestPayload {
                round,
                parent,
                uncommitted,
            } => self.answer_payload_request(round, parent, &uncommitted),
            Action::FetchBlocks { id, count, from } => match self.book.peer_of(&from) {
                Some(peer) => {
                    let request = wire::SyncRequest::Fetch {
                        id,
                        count: count.min(wire::MAX_BLOCKS_PER_SYNC),
                    };
                    if !self.request(
                        peer,
                        Asked::CoreFetch { from },
                        wire::encode_request(&request),
                    ) {
                        debug!(%peer, "block fetch not sent: too many requests waiting");
                    }
                }
                None => warn!(from = %from, "fetch from a key with no peer"),
            },
            Action::Rejected { from, reason } => self.on_rejected(from, reason),
        }
        Ok(())
    }

    /// An input the core refused: counted, and a mark against the sender when only a faulty
    /// peer sends such a thing.
    pub(crate) fn on_rejected(&mut self, from: Option<ledger::PublicKey>, reason: Reject) {
        self.status.rejected_inputs += 1;
        if let Reject::WrongEpoch { epoch, current, .. } = &reason {
            if epoch > current && from.is_some() {
                self.later_epoch_seen();
            }
        }
        let offence = match &reason {
            Reject::ForgottenSignature { .. } => {
                error!(%reason, "ROLLBACK GUARD: a certificate proves this node signed in a round it had forgotten");
                self.status.rollbacks_detected += 1;
                return;
            }
            Reject::NotAValidator
            | Reject::AuthorMismatch
            | Reject::BadSignature { .. }
            | Reject::WrongChain { .. }
            | Reject::BadCertificate { .. }
            | Reject::BadBlock { .. }
            | Reject::BadPayload { .. }
            | Reject::WrongLeader { .. }
            | Reject::ConflictsWithCommitted { .. } => Some(Offence::InvalidConsensus),
            Reject::Equivocation { .. } => Some(Offence::Equivocation),
            Reject::BadFetch { .. } => Some(Offence::BadBlockFetch),
            // Late, early or surplus messages, and this node's own refusals: not the sender's
            // fault.
            Reject::StaleRound { .. }
            | Reject::WrongEpoch { .. }
            | Reject::FutureRound { .. }
            | Reject::NotFetching { .. }
            | Reject::BufferFull { .. }
            | Reject::Unsafe { .. } => None,
        };
        debug!(from = ?from, %reason, "consensus input rejected");
        if let (Some(offence), Some(key)) = (offence, from) {
            if let Some(peer) = self.book.peer_of(&key) {
                self.offend(peer, offence, &reason);
            }
        }
    }

    /// Records an offence; disconnects the peer when its score says so.
    pub(crate) fn offend(&mut self, peer: P, offence: Offence, detail: &dyn std::fmt::Display) {
        *self
            .status
            .offences
            .entry(peer.to_string())
            .or_default()
            .entry(offence.label())
            .or_insert(0) += 1;
        if let crate::offences::Verdict::Refuse { until } =
            self.offences.record(peer, offence, detail, self.now)
        {
            self.status.peers_refused += 1;
            self.connected.remove(&peer);
            self.out.push(crate::Effect::Disconnect { peer, until });
        }
    }
}
