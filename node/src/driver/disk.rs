//! The engine's storage on a real disk: the RocksDB ledger store, and the safety mark in a file
//! of its own beside it (outside RocksDB, so a RocksDB recovery that drops writes cannot take the
//! mark back with them; see `engine::guard`).

use std::fs::File;
use std::io::{ErrorKind, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use engine::guard::{MarkState, SafetyMark};
use engine::NodeStore;
use ledger::execute::{BlockExecution, ExecError, StateReader};
use ledger::governance::EpochSet;
use ledger::proof::{LedgerCertificate, LedgerCheckpoint, VerifiedCertificate};
use ledger::receipt::Receipt;
use ledger::storage::{Store, StoreError};
use ledger::store_api::{
    CertificateStored, CommitInfo, ConsensusRecords, ConsensusWrite, Durability, Head,
};
use ledger::stored::StoredBlock;
use ledger::{Block, Hash};

use super::mark_file::{MarkFile, MarkWriter};

/// The safety mark's file name, in the node's data directory (beside `ledger/`).
pub const MARK_FILE: &str = "safety-mark";

#[derive(Debug, thiserror::Error)]
pub enum DiskError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("safety mark {path}: {source}")]
    Mark {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The RocksDB store and the safety-mark file.
pub struct Disk {
    store: Arc<Store>,
    mark: Arc<MarkFile>,
    /// Writes the mark while the engine's thread writes the store.
    mark_writer: MarkWriter,
}

impl Disk {
    /// `data_dir` is the node's data directory (the mark lives in it, beside the ledger).
    pub fn new(store: Arc<Store>, data_dir: &Path) -> Result<Disk, DiskError> {
        let mark = Arc::new(MarkFile::new(data_dir.join(MARK_FILE)));
        let mark_writer = MarkWriter::start(mark.clone()).map_err(|source| DiskError::Mark {
            path: mark.path().to_path_buf(),
            source,
        })?;
        Ok(Disk {
            store,
            mark,
            mark_writer,
        })
    }

    fn mark_err(&self, source: std::io::Error) -> DiskError {
        DiskError::Mark {
            path: self.mark.path().to_path_buf(),
            source,
        }
    }
}

/// Reads a safety-mark file (for the node, `reset` and `audit ledger`).
pub fn read_mark(path: &Path) -> std::io::Result<MarkState> {
    let mut bytes = Vec::new();
    match File::open(path) {
        Ok(f) => {
            // Read one byte past the longest mark: anything longer is damage, not a mark.
            f.take(engine::guard::MAX_MARK_BYTES as u64 + 1)
                .read_to_end(&mut bytes)?;
        }
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(MarkState::Missing),
        Err(e) => return Err(e),
    }
    Ok(match SafetyMark::from_bytes(&bytes) {
        Ok(m) => MarkState::Present(Box::new(m)),
        Err(e) => MarkState::Damaged(e),
    })
}

impl StateReader for Disk {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, ExecError> {
        self.store.get(key)
    }
}

impl NodeStore for Disk {
    type Error = DiskError;

    fn head(&self) -> Option<Head> {
        self.store.head()
    }

    fn accumulator_size(&self) -> u64 {
        self.store.accumulator_size()
    }

    fn block_by_height(&self, height: u64) -> Result<Option<StoredBlock>, DiskError> {
        Ok(self.store.block_by_height(height)?)
    }

    fn block_bytes(&self, height: u64) -> Result<Option<Vec<u8>>, DiskError> {
        Ok(self.store.block_bytes(height)?)
    }

    fn block_height(&self, id: &Hash) -> Result<Option<u64>, DiskError> {
        Ok(self.store.block_height(id)?)
    }

    fn is_committed(&self, tx: &Hash) -> Result<bool, DiskError> {
        Ok(self.store.tx_location(tx)?.is_some())
    }

    fn receipt(&self, tx: &Hash) -> Result<Option<Receipt>, DiskError> {
        Ok(self.store.transaction(tx)?.map(|c| c.receipt))
    }

    fn commit_executed(
        &self,
        block: &Block,
        certificate: &[u8],
        receipts: &[Receipt],
        execution: &BlockExecution,
        durability: Durability,
    ) -> Result<CommitInfo, DiskError> {
        Ok(self
            .store
            .commit_executed(block, certificate, receipts, execution, durability)?)
    }

    fn persist_consensus(&self, writes: &[ConsensusWrite]) -> Result<(), DiskError> {
        Ok(self.store.persist_consensus(writes)?)
    }

    /// The mark's write and sync on its own thread, the store's on this one, at once.
    fn persist_consensus_and_mark(
        &self,
        writes: &[ConsensusWrite],
        mark: &SafetyMark,
    ) -> Result<(), DiskError> {
        let pending = self.mark_writer.begin(mark.to_bytes());
        let stored = self.store.persist_consensus(writes);
        // Waited for even when the store's write failed: nothing may run beside the next one.
        let marked = pending.wait().map_err(|e| self.mark_err(e));
        stored?;
        marked
    }

    fn load_consensus(&self) -> Result<ConsensusRecords, DiskError> {
        Ok(self.store.load_consensus()?)
    }

    fn prune_consensus_blocks(&self, height: u64) -> Result<(), DiskError> {
        Ok(self.store.prune_consensus_blocks(height)?)
    }

    fn ledger_checkpoint(&self, height: u64) -> Result<Option<LedgerCheckpoint>, DiskError> {
        Ok(self.store.ledger_checkpoint(height)?)
    }

    fn ledger_certificate(&self, height: u64) -> Result<Option<LedgerCertificate>, DiskError> {
        Ok(self.store.ledger_certificate(height)?)
    }

    fn put_ledger_certificate(
        &self,
        cert: &VerifiedCertificate,
    ) -> Result<CertificateStored, DiskError> {
        Ok(self.store.put_ledger_certificate(cert)?)
    }

    fn first_uncertified(
        &self,
        from: u64,
        head: u64,
        max_scan: u64,
    ) -> Result<Option<u64>, DiskError> {
        Ok(self.store.first_uncertified(from, head, max_scan)?)
    }

    fn epoch_starts(&self, max: usize) -> Result<Vec<(u64, EpochSet)>, DiskError> {
        Ok(self.store.epoch_starts(max)?)
    }

    fn load_safety_mark(&self) -> Result<MarkState, DiskError> {
        read_mark(self.mark.path()).map_err(|e| self.mark_err(e))
    }

    fn store_safety_mark(&self, mark: &SafetyMark) -> Result<(), DiskError> {
        self.mark
            .write(&mark.to_bytes())
            .map_err(|e| self.mark_err(e))
    }

    fn recovery_report(&self) -> Option<String> {
        self.store.recovery_report()
    }

    fn base_height(&self) -> Option<u64> {
        self.store.base_height()
    }
}
