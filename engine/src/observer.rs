//! Observers: a node whose consensus key is in no validator set it knows of (the current
//! epoch's) runs as a non-voting full node. It decides nothing and signs nothing; it follows.
//! An auditor's node is one for good; a member's node added by governance is one until the
//! epoch that names it begins, and one removed becomes one: each block it applies can end an
//! epoch, and the core, rebuilt on the new head, says which it is from then on.
//!
//! - **It never speaks consensus.** Its core is built and rebuilt on each new head (the store's
//!   recovery and the rollback guard run as for a validator) but is never fed: no message or
//!   timer reaches it, and a core whose key is not in its set signs nothing anyway. Consensus
//!   bytes a peer sends it are dropped unread. It signs no ledger checkpoint either (`certify`:
//!   it is no validator of the height's epoch).
//! - **It follows by certified catch-up.** Every [`FOLLOW_EVERY`] it asks one connected
//!   validator (round-robin, skipping refused ones) for the committed blocks after its head, in
//!   one request. The answer is believed only as far as catch-up believes one
//!   ([`crate::catchup::verify_committed`]): blocks that continue its own chain link by link, up
//!   to one whose certificate is a quorum certificate committing it, every certificate in that
//!   run verified against the epoch's validator set. It executes and stores them like any
//!   commit (`apply_block`): the same receipts, roots and checkpoints as every validator, the
//!   same `Committed` effects for clients and subscribers. A full answer means more is waiting:
//!   it asks again at once. A validator that withholds (answers nothing) costs one turn; one
//!   that lies is marked, and refused past the offence threshold.
//! - **Ledger certificates** come by the repair path every node has (`certify`): it asks its
//!   validators for the certificates of the heights it holds, once they have had time to form,
//!   and stores only those that verify against the genesis and match its own execution. So a
//!   proof it serves carries the same quorum signatures as a validator's.
//! - **Transactions** its clients submit are admitted to its mempool and gossiped to the
//!   validators by the shell, as a validator's are; they leave its mempool when they commit.
//!   Those still waiting are offered again on the poll ([`crate::regossip`], as on every
//!   node): an observer never proposes, so a forward lost (no validator connected at the time)
//!   would otherwise leave them waiting forever.
//!
//! Who may connect is the shell's allow-list, from the genesis (its validators and observers).

use tracing::{debug, info};

use crate::node::{Asked, EngineError, Node, POLL_EVERY};
use crate::store::NodeStore;
use crate::wire::{self, SyncRequest};
use crate::{Millis, Peer};

/// How often an observer asks a validator for what committed after its head.
pub const FOLLOW_EVERY: Millis = 250;
/// An answer with at least this many blocks may have left more behind (answers are bounded in
/// blocks and bytes): the observer asks again at once.
const MORE_WAITING: usize = 16;

/// Where an observer's following stands.
pub(crate) struct Follow {
    /// A request for committed blocks is out.
    in_flight: bool,
    next_peer: usize,
    /// When to ask next.
    next_at: Millis,
    /// Behind the validators, as far as it knows: from the start until an answer shows it at
    /// the top, and whenever an answer was full (reported as `syncing`).
    behind: bool,
}

impl Follow {
    pub(crate) fn new(now: Millis) -> Self {
        Follow {
            in_flight: false,
            next_peer: 0,
            next_at: now,
            behind: true,
        }
    }

    pub(crate) fn next_at(&self) -> Millis {
        self.next_at
    }

    pub(crate) fn behind(&self) -> bool {
        self.behind
    }
}

impl<P: Peer, S: NodeStore> Node<P, S> {
    /// Whether this node is an observer now (its key is not in the current epoch's set).
    pub fn is_observer(&self) -> bool {
        self.core
            .validators()
            .index_of(&self.core.author())
            .is_none()
    }

    /// An observer's [`crate::Event::Wake`]: follow when due, and the poll's chores
    /// (certificate repair, evicting transactions stuck behind a sequence gap, offering its
    /// clients' long-pending transactions to the validators again). No round timer,
    /// payload or proposal is ever pending on an observer.
    pub(crate) fn observer_wake(&mut self) -> Result<(), EngineError<S::Error>> {
        if self.follow.next_at <= self.now {
            self.follow_step();
        }
        if self.now >= self.next_poll {
            self.next_poll = self.now.saturating_add(POLL_EVERY);
            self.poll_certificates()?;
            self.evict_gapped();
            self.regossip();
        }
        Ok(())
    }

    /// Consensus bytes reached an observer: nobody should send them (validators broadcast to
    /// validators), and an observer has nothing to do with them.
    pub(crate) fn observer_drops_consensus(&mut self, from: P) {
        debug!(%from, "observer: consensus message dropped unread");
    }

    /// Asks the next connected validator for the committed blocks after the head.
    fn follow_step(&mut self) {
        self.follow.next_at = self.now.saturating_add(FOLLOW_EVERY);
        if self.follow.in_flight {
            return;
        }
        let turn = self.follow.next_peer;
        let Some(peer) = self.next_peer_to_ask(turn) else {
            return;
        };
        let from_height = self.store.head().map_or(0, |h| h.height) + 1;
        let request = SyncRequest::Committed {
            from_height,
            max_blocks: wire::MAX_BLOCKS_PER_SYNC,
        };
        let sent = self.request(
            peer,
            Asked::Follow { peer, from_height },
            wire::encode_request(&request),
        );
        self.follow.next_peer = turn.wrapping_add(1);
        self.follow.in_flight = sent;
    }

    /// A validator's answer to a follow request: the proven blocks are applied and the core is
    /// rebuilt on the new head (it enters the epoch a block ended, which may name this node); a
    /// full answer makes the observer ask again at once.
    pub(crate) fn on_followed(
        &mut self,
        peer: P,
        from_height: u64,
        records: &[Vec<u8>],
    ) -> Result<(), EngineError<S::Error>> {
        self.follow_failed();
        let applied = self.apply_committed_run(peer, from_height, records)?;
        let count = applied.map_or(0, |(first, last)| last + 1 - first);
        if count >= MORE_WAITING as u64 {
            self.follow.behind = true;
            self.follow.next_at = self.now;
        } else if count > 0 || records.is_empty() {
            self.follow.behind = false;
        }
        match applied {
            Some((first, last)) if count >= MORE_WAITING as u64 => {
                info!(%peer, first, last, "observer: applied certified blocks; asking for more")
            }
            Some((first, last)) => debug!(%peer, first, last, "observer: applied certified blocks"),
            None => return Ok(()),
        }
        // The rebuilt core of a node that is no validator signs nothing: its actions are a
        // round timer this node does not run while it observes.
        self.rebuild_core()?;
        if !self.is_observer() {
            info!(
                epoch = self.core.epoch(),
                "this node's key is in the validator set now: it votes from here on"
            );
        }
        Ok(())
    }

    /// A follow request got no usable answer: the next turn asks another validator.
    pub(crate) fn follow_failed(&mut self) {
        self.follow.in_flight = false;
    }
}
