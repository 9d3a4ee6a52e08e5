//! Applying committed blocks: execute, store (one atomic write per block, on disk with the next
//! consensus write; see [`Durability`]), sign the checkpoint, then tell the mempool and the shell
//! (clients waiting for receipts, subscribers). Blocks the store already holds (applied by
//! catch-up first) must be the same block, and are skipped.
//!
//! A commit the core decides is applied on the node's next call, not in the call that decided
//! it (see [`Unapplied`]): that call's vote or proposal leaves first.

use std::collections::VecDeque;

use consensus::{Block, QuorumCert};
use ledger::encoding::to_canonical;
use ledger::execute::execute_block;
use ledger::hash::FastHashSet;
use ledger::store_api::{CommitInfo, Durability};
use ledger::Hash;
use tracing::{error, info};

use crate::node::{Committed, EngineError, Node};
use crate::payload::{to_ledger_block, TxBatch};
use crate::status::BlockSummary;
use crate::store::NodeStore;
use crate::{Effect, Peer};

/// Most commits waiting to be applied. A node applies them at its next call unless it owes its
/// core an input first, so a few at most wait; past this many they are applied at once.
pub const MAX_UNAPPLIED: usize = 8;

/// Commits the core decided that the node has not executed and stored yet.
///
/// Why they wait: a replica learns that a block committed from the proposal it is about to vote
/// for, and a leader from the certificate it is about to extend. Applying the block first put
/// its execution and its durable write (an fsync) between the message that arrived and the vote
/// or proposal that answers it, in every round and at every validator. Nothing in those
/// messages depends on the ledger: a block header names no state root, and the payload
/// validator checks transactions, not state. So the answer leaves first and the block is
/// applied on the node's next call, which the shell makes at once (`next_wake` is now).
///
/// Safety is untouched: the consensus records that prove the commit (the blocks and the
/// certificate) are durable before the answer leaves, as before, and a node that stops before
/// applying replays them on restart (`Core::recover` commits them again). While commits wait,
/// a leader's payload leaves out their transactions, which the mempool drops only once they
/// are applied.
#[derive(Default)]
pub(crate) struct Unapplied {
    commits: VecDeque<(Vec<Block<TxBatch>>, QuorumCert)>,
}

impl Unapplied {
    pub(crate) fn push(&mut self, blocks: Vec<Block<TxBatch>>, certificate: QuorumCert) {
        self.commits.push_back((blocks, certificate));
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.commits.is_empty()
    }

    pub(crate) fn is_full(&self) -> bool {
        self.commits.len() >= MAX_UNAPPLIED
    }

    /// The hashes of the transactions in blocks waiting to be applied.
    pub(crate) fn tx_hashes(&self) -> impl Iterator<Item = Hash> + '_ {
        self.commits
            .iter()
            .flat_map(|(blocks, _)| blocks.iter())
            .flat_map(|b| b.payload.txs.iter().map(|t| t.hash()))
    }

    fn take(&mut self) -> VecDeque<(Vec<Block<TxBatch>>, QuorumCert)> {
        std::mem::take(&mut self.commits)
    }
}

impl<P: Peer, S: NodeStore> Node<P, S> {
    /// Applies every commit waiting, in the order the core decided them; a block among them that
    /// ends the epoch takes the core into the next one (the later ones are of the old epoch).
    pub(crate) fn apply_unapplied(&mut self) -> Result<(), EngineError<S::Error>> {
        for (blocks, certificate) in self.unapplied.take() {
            self.apply_commit(&blocks, &certificate)?;
        }
        if std::mem::take(&mut self.epoch_ended) {
            self.rebuild_core()?;
        }
        Ok(())
    }

    /// Transactions a payload must leave out besides those of the uncommitted blocks: those of
    /// committed blocks not applied yet (still in the mempool).
    pub(crate) fn unapplied_tx_hashes(&self) -> FastHashSet<Hash> {
        self.unapplied.tx_hashes().collect()
    }

    pub(crate) fn apply_commit(
        &mut self,
        blocks: &[Block<TxBatch>],
        certificate: &QuorumCert,
    ) -> Result<(), EngineError<S::Error>> {
        if self.epoch_ended {
            // The old epoch's core committed further blocks above the one that ended it: they
            // belong to no epoch's chain.
            return Ok(());
        }
        let cert_bytes = certificate.to_bytes();
        let mut applied = 0;
        for (i, block) in blocks.iter().enumerate() {
            // The certificate commits the batch's last block; a block that ends the epoch
            // before it keeps, with the certificate, the headers from its child to that last
            // block, which prove it committed (see `catchup::verify_committed`).
            let later: Vec<ledger::BlockHeader> =
                blocks[i + 1..].iter().map(|b| b.header.clone()).collect();
            // The core decided this commit from records it made durable before its answer
            // left, so the write may wait for the next sync (see `Durability`).
            self.apply_block_ending(
                &to_ledger_block(block),
                &cert_bytes,
                &later,
                true,
                Durability::WithNextSync,
            )?;
            applied = i + 1;
            if self.epoch_ended {
                break;
            }
        }
        if let Some(last) = blocks[..applied].last() {
            // Consensus records below the committed head are never needed again.
            self.store
                .prune_consensus_blocks(last.height())
                .map_err(EngineError::Store)?;
            self.status.commits += applied as u64;
            self.status.last_commit_latency_ms = self.now.saturating_sub(last.header.timestamp_ms);
        }
        Ok(())
    }

    /// Executes and stores one block on top of the head; `None` if the store already had it.
    /// `announce`: send this node's checkpoint vote to the others (not for catch-up of heights
    /// they have long certified; certificate repair fetches those).
    pub(crate) fn apply_block(
        &mut self,
        block: &ledger::Block,
        certificate: &[u8],
        announce: bool,
    ) -> Result<Option<CommitInfo>, EngineError<S::Error>> {
        // A block from a peer: no consensus record of this node's proves it.
        self.apply_block_ending(block, certificate, &[], announce, Durability::Synced)
    }

    /// [`Node::apply_block`] for a block committed with the blocks whose `later` headers follow
    /// it (the certificate commits the last of them). If its execution ends the epoch, it is
    /// stored with the certificate and those headers, and `epoch_ended` is set. `durability`:
    /// how soon the write must be on disk; a block that ends an epoch is synced whatever it says.
    pub(crate) fn apply_block_ending(
        &mut self,
        block: &ledger::Block,
        certificate: &[u8],
        later: &[ledger::BlockHeader],
        announce: bool,
        durability: Durability,
    ) -> Result<Option<CommitInfo>, EngineError<S::Error>> {
        let height = block.header.height;
        let head = self.store.head().map_or(0, |h| h.height);
        if height <= head {
            let ours = self
                .store
                .block_by_height(height)
                .map_err(EngineError::Store)?
                .map(|s| s.block.hash())
                .unwrap_or_default();
            if ours != block.hash() {
                error!(height, %ours, theirs = %block.hash(), "FORK: consensus committed a different block");
                return Err(EngineError::Fork {
                    height,
                    ours,
                    theirs: block.hash(),
                });
            }
            return Ok(None);
        }
        let execution = execute_block(&self.genesis.chain_id, &block.txs, &self.store)?;
        let receipts = execution.receipts(block, self.store.accumulator_size());
        let proof;
        let certificate = match (&execution.next_epoch, later.is_empty()) {
            (Some(_), false) => {
                // BCS of (certificate, headers) is the one's bytes then the other's.
                proof = [certificate, &to_canonical(later)].concat();
                &proof[..]
            }
            _ => certificate,
        };
        let durability = match execution.next_epoch {
            Some(_) => Durability::Synced,
            None => durability,
        };
        let info = self
            .store
            .commit_executed(block, certificate, &receipts, &execution, durability)
            .map_err(EngineError::Store)?;
        if let Some(set) = &execution.next_epoch {
            info!(
                height,
                next_epoch = set.epoch,
                validators = set.validators.len(),
                "this block ends the epoch"
            );
            self.epoch_ended = true;
        }
        self.certify_executed(&info, announce)?;
        self.mempool.lock().remove_committed(
            &block.txs,
            &CommittedView {
                store: &self.store,
                delta: &execution.delta,
            },
        );
        self.out.push(Effect::Committed(Box::new(Committed {
            summary: BlockSummary {
                height,
                hash: info.hash,
                tx_count: block.txs.len() as u32,
                timestamp_ms: block.header.timestamp_ms,
                accumulator_size: info.accumulator_size,
                accumulator_root: info.accumulator_root,
                state_root: info.state_root,
            },
            receipts,
        })));
        Ok(Some(info))
    }
}

/// The store just after a commit, with that commit's state changes at hand: the mempool asks
/// for the next sequence of every account the block touched, and the changes answer without a
/// read per account.
struct CommittedView<'a, S> {
    store: &'a S,
    delta: &'a ledger::execute::StateDelta,
}

impl<S: NodeStore> crate::mempool::LedgerView for CommittedView<'_, S> {
    fn next_sequence(&self, account: &ledger::PublicKey) -> u64 {
        let state = ledger::execute::Overlay::new(self.store, self.delta);
        ledger::execute::next_sequence(&state, account).unwrap_or(0)
    }
    fn is_committed(&self, tx: &ledger::Hash) -> bool {
        self.store.is_committed(tx).unwrap_or(false)
    }
}
