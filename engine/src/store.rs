//! What the engine needs from storage. Every call is synchronous; a write is durable when it
//! returns, so the engine can let a message go out right after the write it depends on. The
//! one exception is a commit the engine asks for with [`Durability::WithNextSync`], which no
//! message depends on.
//!
//! Two implementations: the binary's RocksDB store with its safety-mark file (in `waybill-node`)
//! and [`crate::mem_store::MemStore`] (the simulator, the fuzz targets, the engine's tests).
//! Both compute the same roots from the same blocks, with the same `ledger` functions.

use ledger::execute::{BlockExecution, StateReader};
use ledger::governance::EpochSet;
use ledger::proof::{LedgerCertificate, LedgerCheckpoint, VerifiedCertificate};
use ledger::receipt::Receipt;
use ledger::store_api::{
    CertificateStored, CommitInfo, ConsensusRecords, ConsensusWrite, Durability, Head,
};
use ledger::stored::StoredBlock;
use ledger::{Block, Hash};

use crate::guard::{MarkState, SafetyMark};

pub trait NodeStore: StateReader {
    /// A storage failure: the node cannot go on safely (a disk that refuses writes, a store that
    /// reads back garbage). Never caused by a peer's input.
    type Error: std::error::Error + Send + Sync + 'static;

    /// The newest committed block (`None` before genesis is written).
    fn head(&self) -> Option<Head>;
    /// Transactions in the ledger (the accumulator's size).
    fn accumulator_size(&self) -> u64;
    fn block_by_height(&self, height: u64) -> Result<Option<StoredBlock>, Self::Error>;
    /// The canonical bytes of the stored block at `height` (what catch-up serves).
    fn block_bytes(&self, height: u64) -> Result<Option<Vec<u8>>, Self::Error>;
    /// The height of the committed block with this hash.
    fn block_height(&self, id: &Hash) -> Result<Option<u64>, Self::Error>;
    /// Whether the transaction is in the ledger.
    fn is_committed(&self, tx: &Hash) -> Result<bool, Self::Error>;
    /// The receipt of a committed transaction.
    fn receipt(&self, tx: &Hash) -> Result<Option<Receipt>, Self::Error>;

    /// Commits the head's child with its commit certificate, receipts and execution results, in
    /// one atomic write, on disk as `durability` says.
    fn commit_executed(
        &self,
        block: &Block,
        certificate: &[u8],
        receipts: &[Receipt],
        execution: &BlockExecution,
        durability: Durability,
    ) -> Result<CommitInfo, Self::Error>;

    /// The consensus core's writes, in one durable batch.
    fn persist_consensus(&self, writes: &[ConsensusWrite]) -> Result<(), Self::Error>;
    /// The consensus core's writes and the safety mark that covers them, both durable when it
    /// returns. A store may make the two durable at once (the real node does: two fsyncs side by
    /// side, not one after the other), so a crash may leave either one without the other; the
    /// mark says what it replaces, so that the guard can tell (see [`crate::guard`]). This
    /// default writes the batch, then the mark.
    fn persist_consensus_and_mark(
        &self,
        writes: &[ConsensusWrite],
        mark: &SafetyMark,
    ) -> Result<(), Self::Error> {
        self.persist_consensus(writes)?;
        self.store_safety_mark(mark)
    }
    fn load_consensus(&self) -> Result<ConsensusRecords, Self::Error>;
    /// Drops consensus block records at or below `height` (committed, never needed again).
    fn prune_consensus_blocks(&self, height: u64) -> Result<(), Self::Error>;

    /// The checkpoint this store computed for a committed height.
    fn ledger_checkpoint(&self, height: u64) -> Result<Option<LedgerCheckpoint>, Self::Error>;
    fn ledger_certificate(&self, height: u64) -> Result<Option<LedgerCertificate>, Self::Error>;
    /// Stores a certificate the engine verified against its epoch's set and matched with this
    /// store's checkpoint (a store may check the match again; its refusal is then an error).
    fn put_ledger_certificate(
        &self,
        cert: &VerifiedCertificate,
    ) -> Result<CertificateStored, Self::Error>;
    /// The first height in `from..=head` without a certificate, scanning at most `max_scan`.
    fn first_uncertified(
        &self,
        from: u64,
        head: u64,
        max_scan: u64,
    ) -> Result<Option<u64>, Self::Error>;

    /// The sets that followed genesis's, oldest first, each with the first height it
    /// certifies: the last `max` of them.
    fn epoch_starts(&self, max: usize) -> Result<Vec<(u64, EpochSet)>, Self::Error>;

    /// The safety high-water mark, kept apart from the store's own records (see
    /// [`crate::guard`]).
    fn load_safety_mark(&self) -> Result<MarkState, Self::Error>;
    /// Replaces the mark, durably.
    fn store_safety_mark(&self, mark: &SafetyMark) -> Result<(), Self::Error>;
    /// Where a store synced from a certified state starts (`ledger::state_sync`): it holds no
    /// block below. `None` for a store that starts at genesis.
    fn base_height(&self) -> Option<u64> {
        None
    }
    /// Damage the store found and repaired when it opened (e.g. a write-ahead log whose tail
    /// was dropped), for the rollback guard; `None` if it opened cleanly.
    fn recovery_report(&self) -> Option<String> {
        None
    }
}
