//! Carrying out the core's actions in order. Writes are collected and flushed as one fsynced
//! batch before the first send that depends on them (and at the latest when the actions run
//! out); only then is the core told they are durable.

use std::collections::VecDeque;

use consensus::{Action, ConsensusMsg, Input, WriteId};
use ledger::encoding::to_canonical;
use ledger::storage::ConsensusWrite;
use tracing::{debug, warn};

use super::{wire, Driver, DriverError};
use crate::payload::TxBatch;

/// Writes waiting for their fsync.
#[derive(Default)]
struct PendingWrites {
    writes: Vec<ConsensusWrite>,
    last: Option<WriteId>,
    /// Durable but not yet reported to the core.
    unreported: Option<WriteId>,
}

impl Driver {
    pub(super) fn carry_out(&mut self, actions: Vec<Action<TxBatch>>) -> Result<(), DriverError> {
        let mut queue: VecDeque<Action<TxBatch>> = actions.into();
        let mut pending = PendingWrites::default();
        loop {
            while let Some(action) = queue.pop_front() {
                let more = self.carry_out_one(action, &mut pending)?;
                queue.extend(more);
            }
            self.flush(&mut pending)?;
            match pending.unreported.take() {
                Some(w) => queue.extend(self.core.handle(super::now_ms(), Input::Persisted(w))),
                None => return Ok(()),
            }
        }
    }

    fn flush(&mut self, pending: &mut PendingWrites) -> Result<(), DriverError> {
        if pending.writes.is_empty() {
            return Ok(());
        }
        // Blocking the loop for the fsync is deliberate: nothing may be sent before it anyway.
        let writes = std::mem::take(&mut pending.writes);
        tokio::task::block_in_place(|| self.store.persist_consensus(&writes))?;
        pending.unreported = pending.last;
        Ok(())
    }

    /// Carries out one action; returns the actions that follow from it immediately.
    fn carry_out_one(
        &mut self,
        action: Action<TxBatch>,
        pending: &mut PendingWrites,
    ) -> Result<Vec<Action<TxBatch>>, DriverError> {
        match action {
            Action::PersistSafety { data, write } => {
                pending
                    .writes
                    .push(ConsensusWrite::Safety(to_canonical(&data)));
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
                match self.book.peer_of(&to) {
                    Some(peer) if peer == self.net.local_peer_id() => {
                        // The core handles its own copy on the event loop's next turn.
                        let from = self.core.author();
                        self.loopback.push_back(Input::Message { from, msg });
                    }
                    Some(peer) => {
                        if let Err(e) = self.net.send_consensus(peer, wire::encode_consensus(&msg))
                        {
                            debug!(%peer, error = %e, "consensus send failed");
                        }
                    }
                    None => warn!(to = %to, "consensus send to a key with no PeerId"),
                }
            }
            Action::Broadcast { msg, after } => {
                if after.is_some() {
                    self.flush(pending)?;
                }
                let bytes = match &msg {
                    ConsensusMsg::Proposal(p) => {
                        let (pool, now) = (self.mempool.lock(), std::time::Instant::now());
                        wire::encode_compact(&wire::CompactProposal::of(p, |t| {
                            pool.others_hold(t, now)
                        }))
                    }
                    _ => wire::encode_consensus(&msg),
                };
                if let Err(e) = self.net.broadcast_consensus(bytes) {
                    debug!(error = %e, "consensus broadcast failed");
                }
            }
            Action::Commit {
                blocks,
                certificate,
            } => {
                // Everything before the commit in this batch becomes durable first, so a restart
                // never finds a committed block whose consensus records it lost.
                self.flush(pending)?;
                self.apply_commit(&blocks, &certificate)?;
            }
            Action::SetTimer { round, deadline } => self.timer = Some((round, deadline)),
            Action::RequestPayload {
                round,
                parent,
                uncommitted,
            } => self.answer_payload_request(round, parent, &uncommitted),
            Action::FetchBlocks { id, count, from } => match self.book.peer_of(&from) {
                Some(peer) => self.spawn_request(
                    peer,
                    wire::SyncRequest::Fetch {
                        id,
                        count: count.min(wire::MAX_BLOCKS_PER_SYNC),
                    },
                    from,
                ),
                None => warn!(from = %from, "fetch from a key with no PeerId"),
            },
            Action::Rejected { from, reason } => {
                debug!(from = ?from, %reason, "consensus input rejected");
                self.status.update(|s| s.rejected_inputs += 1);
            }
        }
        Ok(Vec::new())
    }
}
