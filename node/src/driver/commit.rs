//! Applying committed blocks: execute, store (one fsynced batch per block), then tell the
//! mempool, the waiting clients and the subscribers. Blocks the store already holds (applied by
//! catch-up first) are checked to be the same block and skipped.

use consensus::{Block, QuorumCert};
use ledger::execute::execute_block;
use ledger::stored::StoredBlock;
use tracing::{error, info, warn};

use super::catchup::verify_committed;
use super::{CommittedView, Driver, DriverError};
use crate::network::PeerId;
use crate::payload::{to_ledger_block, TxBatch};
use crate::status::BlockSummary;

impl Driver {
    pub(super) fn apply_commit(
        &mut self,
        blocks: &[Block<TxBatch>],
        certificate: &QuorumCert,
    ) -> Result<(), DriverError> {
        let cert_bytes = certificate.to_bytes();
        for block in blocks {
            let ledger_block = to_ledger_block(block);
            self.apply_block(&ledger_block, &cert_bytes, None)?;
        }
        if let Some(last) = blocks.last() {
            // Consensus records below the committed head are never needed again.
            self.store.prune_consensus_blocks(last.height())?;
            let now = super::now_ms();
            self.status.update(|s| {
                s.commits += blocks.len() as u64;
                s.last_commit_latency_ms = now.saturating_sub(last.header.timestamp_ms);
            });
        }
        Ok(())
    }

    /// Executes and stores one block on top of the head. `expected_root`, for blocks from
    /// catch-up, is the accumulator root the certified peer reported: a different result here is
    /// non-determinism and stops the node rather than let it diverge silently.
    fn apply_block(
        &mut self,
        block: &ledger::Block,
        certificate: &[u8],
        expected_root: Option<ledger::Hash>,
    ) -> Result<(), DriverError> {
        let height = block.header.height;
        let head = self.store.head().map_or(0, |h| h.height);
        if height <= head {
            let ours = self
                .store
                .block_by_height(height)?
                .map(|s| s.block.hash())
                .unwrap_or_default();
            if ours != block.hash() {
                error!(height, %ours, theirs = %block.hash(), "FORK: consensus committed a different block");
                return Err(DriverError::Fork {
                    height,
                    ours,
                    theirs: block.hash(),
                });
            }
            return Ok(());
        }
        let execution = tokio::task::block_in_place(|| {
            execute_block(&self.genesis.chain_id, &block.txs, &*self.store)
        })?;
        let receipts = execution.receipts(block, self.store.accumulator_size());
        let info = tokio::task::block_in_place(|| {
            self.store
                .commit_executed(block, certificate, &receipts, &execution)
        })?;
        if let Some(theirs) = expected_root {
            if theirs != info.accumulator_root {
                error!(height, ours = %info.accumulator_root, %theirs, "NON-DETERMINISM: accumulator root differs from the certified peer's");
                return Err(DriverError::Divergence {
                    height,
                    ours: info.accumulator_root,
                    theirs,
                });
            }
        }
        // Sign what we just executed (announced to the others unless this is catch-up of a
        // height they have long certified).
        self.certify_executed(&info, expected_root.is_none());
        self.mempool.lock().remove_committed(
            &block.txs,
            &CommittedView {
                store: &self.store,
                delta: &execution.delta,
            },
        );
        for receipt in receipts {
            if let Some(waiters) = self.waiters.remove(&receipt.tx_hash) {
                self.waiter_count -= waiters.len();
                for w in waiters {
                    let _ = w.send(receipt.clone());
                }
            }
        }
        let _ = self.blocks.send(BlockSummary {
            height,
            hash: info.hash,
            tx_count: block.txs.len() as u32,
            timestamp_ms: block.header.timestamp_ms,
            accumulator_size: info.accumulator_size,
            accumulator_root: info.accumulator_root,
            state_root: info.state_root,
        });
        Ok(())
    }

    /// Applies the proven prefix of committed blocks a peer sent, then rebuilds the core on the
    /// new head. A peer that sends junk is logged and ignored.
    pub(super) fn apply_catchup(
        &mut self,
        peer: PeerId,
        records: &[Vec<u8>],
    ) -> Result<(), DriverError> {
        let Some(head) = self.store.head() else {
            return Ok(());
        };
        let validators = self.core.validators().clone();
        let proven = match verify_committed(
            &self.genesis.chain_id,
            &validators,
            self.genesis_block_id,
            head,
            records,
        ) {
            Ok(p) => p,
            Err(e) => {
                warn!(%peer, error = %e, "catch-up response refused");
                return Ok(());
            }
        };
        if proven.is_empty() {
            return Ok(());
        }
        let (first, last) = (
            proven[0].block.header.height,
            proven[proven.len() - 1].block.header.height,
        );
        for StoredBlock {
            block,
            certificate,
            accumulator_root_after,
            ..
        } in &proven
        {
            self.apply_block(block, certificate, Some(*accumulator_root_after))?;
        }
        self.store.prune_consensus_blocks(last)?;
        info!(%peer, first, last, "caught up");
        self.rebuild_core()
    }
}
