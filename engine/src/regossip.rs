//! Gossiping again what has waited long in the mempool.
//!
//! Gossip is best effort: a transaction admitted while its node was cut off from the others
//! stays in that node's mempool alone, and a client that retries there is told it is pending.
//! That node proposes it whenever it leads, but under two-chain HotStuff a block is certified
//! by the votes the *next* leader collects, so when the next leader is faulty the block never
//! gathers a certificate, and the transaction never commits (whole-node simulation, seed 3111:
//! the only copy sat with the validator before the Byzantine one in the rotation). Offering
//! such transactions to the peers again puts them in every mempool, whichever leader comes.
//!
//! Bounded: at most [`MAX_REGOSSIP_TXS`] transactions (one gossip batch) per poll, each at most
//! once per [`REGOSSIP_AFTER`].

use tracing::debug;

use crate::node::{Effect, Node};
use crate::store::NodeStore;
use crate::{Millis, Peer};

/// How long a transaction waits, since it was last offered to the peers, before it is offered
/// again. A transaction normally commits within a few hundred milliseconds; one still pending
/// after this is stuck or behind a backlog, and offering a backlog again costs one batch a poll.
pub const REGOSSIP_AFTER: Millis = 3_000;
/// Most transactions offered again per poll: the shell's largest gossip batch.
pub const MAX_REGOSSIP_TXS: usize = 512;

impl<P: Peer, S: NodeStore> Node<P, S> {
    pub(crate) fn regossip(&mut self) {
        let txs = self
            .mempool
            .lock()
            .take_for_regossip(self.now, REGOSSIP_AFTER, MAX_REGOSSIP_TXS);
        if txs.is_empty() {
            return;
        }
        debug!(txs = txs.len(), "gossiping long-pending transactions again");
        self.out.push(Effect::Gossip { txs });
    }
}
