//! A [`NodeStore`] in memory, for the whole-node simulator, the fuzz targets and the engine's
//! tests. It derives what it stores with the same `ledger` functions as the RocksDB store (the
//! accumulator's leaf and tree hashing, the state tree's update), so the same blocks give the
//! same roots and checkpoints; a test in `waybill-node` checks the two against each other.
//!
//! It keeps the real store's durability: consensus writes and synced commits are on disk when
//! they return; [`Durability::WithNextSync`] commits, prunes and ledger certificates wait for
//! the next of those. For the simulator's disk faults it keeps a journal of its writes and how
//! much of it is on disk: [`MemStore::lose_unsynced`] forgets what was not (a power loss), and
//! [`MemStore::lose_tail`] the last writes whatever they were (a write-ahead log whose damaged
//! tail recovery dropped). The safety mark, a file of its own in the real node, keeps what it
//! had in both. [`MemStore::lose_write_beside_mark`] forgets the consensus write made beside the
//! mark (a power loss while both were in flight, the mark's half durable).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use ledger::accumulator::{self as acc, AccumulatorError, MemoryAccumulator};
use ledger::encoding::{from_canonical, to_canonical};
use ledger::execute::{BlockExecution, ExecError, StateDelta, StateReader};
use ledger::governance::{EpochSet, VALIDATORS_KEY};
use ledger::merkle::Blake3Hasher;
use ledger::proof::{LedgerCertificate, LedgerCheckpoint, VerifiedCertificate};
use ledger::receipt::{ExecStatus, Receipt, TxLeaf};
use ledger::smt::{self, MemoryNodeStore, SmtError};
use ledger::store_api::{
    CertificateStored, CommitInfo, ConsensusRecords, ConsensusWrite, Durability, Head,
};
use ledger::stored::StoredBlock;
use ledger::{Block, Genesis, Hash};

use crate::guard::{MarkState, SafetyMark};
use crate::store::NodeStore;

/// Why the in-memory store refused a write (the same refusals as the RocksDB store's).
#[derive(Debug, thiserror::Error)]
pub enum MemStoreError {
    #[error("block at height {found}, the head's child is {expected}")]
    WrongHeight { expected: u64, found: u64 },
    #[error("block {height}: parent {found}, the head is {expected}")]
    WrongParent {
        height: u64,
        expected: Hash,
        found: Hash,
    },
    #[error("block {height}: {source}")]
    InvalidBlock {
        height: u64,
        #[source]
        source: ledger::block::BlockError,
    },
    #[error("block {height}: {receipts} receipts for {txs} transactions")]
    Receipts {
        height: u64,
        receipts: usize,
        txs: usize,
    },
    #[error("consensus record of {len} bytes exceeds {max}")]
    RecordTooLarge { len: usize, max: usize },
    #[error(transparent)]
    Accumulator(#[from] AccumulatorError),
    #[error(transparent)]
    Smt(#[from] SmtError),
    #[error("certificate for height {height}: no checkpoint there")]
    CertificateBeyondHead { height: u64 },
    #[error("block {height} wrote a validator set that does not decode: {reason}")]
    ValidatorSet { height: u64, reason: String },
}

/// One write, as the journal keeps it.
#[derive(Clone, Debug)]
enum Write {
    Commit {
        block: Block,
        certificate: Vec<u8>,
        receipts: Vec<Receipt>,
        delta: StateDelta,
    },
    Consensus(Vec<ConsensusWrite>),
    Prune(u64),
    Certificate(LedgerCertificate),
}

struct Ledger {
    blocks: BTreeMap<u64, StoredBlock>,
    block_index: HashMap<Hash, u64>,
    /// tx hash -> ledger index of the inclusion the index points at.
    tx_index: HashMap<Hash, u64>,
    receipts: Vec<Receipt>,
    accumulator: MemoryAccumulator<Blake3Hasher>,
    tree: MemoryNodeStore,
    state_root: Hash,
    state: BTreeMap<Vec<u8>, Vec<u8>>,
    checkpoints: BTreeMap<u64, LedgerCheckpoint>,
    certificates: BTreeMap<u64, LedgerCertificate>,
    safety: Option<Vec<u8>>,
    consensus_blocks: BTreeMap<(u64, Hash), Vec<u8>>,
    /// The sets after genesis's, each with the first height it certifies (the state keeps only
    /// the newest; the RocksDB store finds the older ones in its versioned state).
    epoch_starts: Vec<(u64, EpochSet)>,
    journal: Vec<Write>,
    /// How many of the journal's first writes are on disk.
    synced: usize,
}

/// Clones share one store (the simulator keeps a handle across a node's restarts, as a disk
/// outlives its process).
#[derive(Clone)]
pub struct MemStore(Arc<Shared>);

struct Shared {
    genesis: Genesis,
    ledger: Mutex<Ledger>,
    mark: Mutex<MarkState>,
    /// The journal index of the last consensus write made beside the mark, and how many writes
    /// were on disk before it.
    beside_mark: Mutex<Option<(usize, usize)>>,
}

impl MemStore {
    /// A store holding the genesis block and state, as `waybill run` initialises a new one.
    pub fn new(genesis: &Genesis) -> MemStore {
        MemStore(Arc::new(Shared {
            genesis: genesis.clone(),
            ledger: Mutex::new(Ledger::at_genesis(genesis)),
            mark: Mutex::new(MarkState::Missing),
            beside_mark: Mutex::new(None),
        }))
    }

    /// Forgets the last consensus write made beside the safety mark, if it is still the last
    /// synced write, with the unsynced writes after it, and leaves what only it had synced
    /// unsynced: a power loss while the two were in flight, the mark's write durable and the
    /// store's not (follow it with [`MemStore::lose_unsynced`]). The mark is untouched. Returns
    /// whether it forgot the write.
    pub fn lose_write_beside_mark(&self) -> bool {
        let Some((index, synced_before)) = self
            .0
            .beside_mark
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
        else {
            return false;
        };
        if self.lock().synced != index + 1 {
            return false;
        }
        self.keep_first(index);
        let mut ledger = self.lock();
        ledger.synced = ledger.synced.min(synced_before);
        true
    }

    /// Forgets the last `writes` writes, as a store whose write-ahead log lost its tail would
    /// (the safety mark is untouched). Returns how many were dropped.
    pub fn lose_tail(&self, writes: usize) -> usize {
        let keep = self.lock().journal.len().saturating_sub(writes);
        self.keep_first(keep)
    }

    /// Forgets every write not yet on disk, as a power loss would. Returns how many were dropped.
    pub fn lose_unsynced(&self) -> usize {
        let keep = self.lock().synced;
        self.keep_first(keep)
    }

    /// Writes not on disk yet (for the simulator's fault choices).
    pub fn unsynced(&self) -> usize {
        let ledger = self.lock();
        ledger.journal.len() - ledger.synced
    }

    /// Rebuilds the store from the journal's first `keep` writes; returns how many it dropped.
    fn keep_first(&self, keep: usize) -> usize {
        *self.0.beside_mark.lock().unwrap_or_else(|e| e.into_inner()) = None;
        let mut ledger = self.lock();
        let dropped = ledger.journal.len() - keep;
        let synced = ledger.synced.min(keep);
        let journal: Vec<Write> = ledger.journal[..keep].to_vec();
        let mut fresh = Ledger::at_genesis(&self.0.genesis);
        for w in journal {
            fresh
                .apply(&self.0.genesis, w)
                .expect("a write the store took once replays");
        }
        fresh.synced = synced;
        *ledger = fresh;
        dropped
    }

    /// Writes made so far (for the simulator's fault choices).
    pub fn writes(&self) -> usize {
        self.lock().journal.len()
    }

    /// Replaces the mark as an operator's old backup would (the simulator's restore fault).
    pub fn set_mark(&self, mark: MarkState) {
        *self.0.mark.lock().unwrap_or_else(|e| e.into_inner()) = mark;
    }

    fn lock(&self) -> MutexGuard<'_, Ledger> {
        self.0.ledger.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Ledger {
    fn at_genesis(genesis: &Genesis) -> Ledger {
        let mut ledger = Ledger {
            blocks: BTreeMap::new(),
            block_index: HashMap::new(),
            tx_index: HashMap::new(),
            receipts: Vec::new(),
            accumulator: MemoryAccumulator::new(Blake3Hasher),
            tree: MemoryNodeStore::new(),
            state_root: smt::EMPTY,
            state: BTreeMap::new(),
            checkpoints: BTreeMap::new(),
            certificates: BTreeMap::new(),
            safety: None,
            consensus_blocks: BTreeMap::new(),
            epoch_starts: Vec::new(),
            journal: Vec::new(),
            synced: 0,
        };
        let block = crate::payload::to_ledger_block(&consensus::genesis_block::<
            crate::payload::TxBatch,
        >(genesis));
        ledger
            .write_block(
                genesis,
                &block,
                &[],
                &[],
                &ledger::supply::genesis_state(genesis),
            )
            .expect("the genesis block is valid");
        ledger
    }

    fn apply(&mut self, genesis: &Genesis, write: Write) -> Result<(), MemStoreError> {
        match &write {
            Write::Commit {
                block,
                certificate,
                receipts,
                delta,
            } => {
                self.check_next(block)?;
                self.write_block(genesis, block, certificate, receipts, delta)?;
            }
            Write::Consensus(writes) => {
                for w in writes {
                    let len = match w {
                        ConsensusWrite::Safety(b) | ConsensusWrite::Block { bytes: b, .. } => {
                            b.len()
                        }
                    };
                    if len > ledger::store_api::MAX_CONSENSUS_RECORD_BYTES {
                        return Err(MemStoreError::RecordTooLarge {
                            len,
                            max: ledger::store_api::MAX_CONSENSUS_RECORD_BYTES,
                        });
                    }
                }
                for w in writes {
                    match w {
                        ConsensusWrite::Safety(b) => self.safety = Some(b.clone()),
                        ConsensusWrite::Block { height, id, bytes } => {
                            self.consensus_blocks.insert((*height, *id), bytes.clone());
                        }
                    }
                }
            }
            Write::Prune(height) => {
                self.consensus_blocks = self.consensus_blocks.split_off(&(height + 1, Hash::ZERO));
            }
            Write::Certificate(cert) => {
                let height = cert.checkpoint.height;
                if !self.checkpoints.contains_key(&height) {
                    return Err(MemStoreError::CertificateBeyondHead { height });
                }
                self.certificates
                    .entry(height)
                    .or_insert_with(|| cert.clone());
            }
        }
        // A consensus write is synced, and syncing makes every earlier write durable too.
        let syncs = matches!(write, Write::Consensus(_));
        self.journal.push(write);
        if syncs {
            self.synced = self.journal.len();
        }
        Ok(())
    }

    fn head(&self) -> Option<Head> {
        self.blocks.last_key_value().map(|(h, b)| Head {
            height: *h,
            hash: b.block.hash(),
        })
    }

    fn check_next(&self, block: &Block) -> Result<(), MemStoreError> {
        let head = self.head().expect("a store always holds genesis");
        let expected = head.height + 1;
        if block.header.height != expected {
            return Err(MemStoreError::WrongHeight {
                expected,
                found: block.header.height,
            });
        }
        if block.header.parent != head.hash {
            return Err(MemStoreError::WrongParent {
                height: block.header.height,
                expected: head.hash,
                found: block.header.parent,
            });
        }
        Ok(())
    }

    fn write_block(
        &mut self,
        genesis: &Genesis,
        block: &Block,
        certificate: &[u8],
        receipts: &[Receipt],
        delta: &StateDelta,
    ) -> Result<CommitInfo, MemStoreError> {
        let height = block.header.height;
        block
            .check_shape()
            .map_err(|source| MemStoreError::InvalidBlock { height, source })?;
        if receipts.len() != block.txs.len() {
            return Err(MemStoreError::Receipts {
                height,
                receipts: receipts.len(),
                txs: block.txs.len(),
            });
        }
        let first = self.accumulator.size();
        let leaves: Vec<Hash> = receipts
            .iter()
            .map(|r| {
                acc::tx_leaf_hash(&TxLeaf {
                    tx_hash: r.tx_hash,
                    receipt_hash: r.hash(),
                })
            })
            .collect();
        let (state_root, nodes) = smt::apply(&self.tree, self.state_root, delta)?;
        self.accumulator.extend(&leaves)?;
        self.tree.insert_all(&nodes)?;
        self.state_root = state_root;
        let accumulator_root = self.accumulator.root()?;
        let accumulator_size = self.accumulator.size();
        for (i, receipt) in receipts.iter().enumerate() {
            let tx_hash = block.txs[i].hash();
            match receipt.status {
                ExecStatus::Success => {
                    self.tx_index.insert(tx_hash, receipt.ledger_index);
                }
                ExecStatus::Failed { .. } => {
                    self.tx_index.entry(tx_hash).or_insert(receipt.ledger_index);
                }
            }
            self.receipts.push(receipt.clone());
        }
        for (key, value) in delta {
            match value {
                Some(v) => self.state.insert(key.clone(), v.clone()),
                None => self.state.remove(key),
            };
        }
        let new_set = delta
            .iter()
            .find(|(key, _)| key.as_slice() == VALIDATORS_KEY)
            .and_then(|(_, value)| value.as_ref());
        if let Some(bytes) = new_set {
            let set: EpochSet = from_canonical(
                "validator set",
                bytes,
                ledger::execute::MAX_STATE_VALUE_BYTES,
            )
            .map_err(|e| MemStoreError::ValidatorSet {
                height,
                reason: e.to_string(),
            })?;
            if set.epoch > 0 {
                self.epoch_starts.push((height + 1, set));
            }
        }
        let hash = block.hash();
        self.block_index.insert(hash, height);
        self.blocks.insert(
            height,
            StoredBlock {
                block: block.clone(),
                certificate: certificate.to_vec(),
                accumulator_size_after: accumulator_size,
                accumulator_root_after: accumulator_root,
            },
        );
        self.checkpoints.insert(
            height,
            LedgerCheckpoint {
                chain_id: genesis.chain_id.clone(),
                height,
                block_hash: hash,
                state_root,
                accumulator_root,
                accumulator_size,
            },
        );
        Ok(CommitInfo {
            height,
            hash,
            first_ledger_index: first,
            accumulator_size,
            accumulator_root,
            state_root,
        })
    }
}

impl StateReader for MemStore {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, ExecError> {
        Ok(self.lock().state.get(key).cloned())
    }
}

impl NodeStore for MemStore {
    type Error = MemStoreError;

    fn head(&self) -> Option<Head> {
        self.lock().head()
    }

    fn accumulator_size(&self) -> u64 {
        self.lock().accumulator.size()
    }

    fn block_by_height(&self, height: u64) -> Result<Option<StoredBlock>, MemStoreError> {
        Ok(self.lock().blocks.get(&height).cloned())
    }

    fn block_bytes(&self, height: u64) -> Result<Option<Vec<u8>>, MemStoreError> {
        Ok(self.lock().blocks.get(&height).map(to_canonical))
    }

    fn block_height(&self, id: &Hash) -> Result<Option<u64>, MemStoreError> {
        Ok(self.lock().block_index.get(id).copied())
    }

    fn is_committed(&self, tx: &Hash) -> Result<bool, MemStoreError> {
        Ok(self.lock().tx_index.contains_key(tx))
    }

    fn receipt(&self, tx: &Hash) -> Result<Option<Receipt>, MemStoreError> {
        let ledger = self.lock();
        Ok(ledger
            .tx_index
            .get(tx)
            .and_then(|i| ledger.receipts.get(*i as usize))
            .cloned())
    }

    fn commit_executed(
        &self,
        block: &Block,
        certificate: &[u8],
        receipts: &[Receipt],
        execution: &BlockExecution,
        durability: Durability,
    ) -> Result<CommitInfo, MemStoreError> {
        let mut ledger = self.lock();
        ledger.check_next(block)?;
        let info = ledger.write_block(
            &self.0.genesis,
            block,
            certificate,
            receipts,
            &execution.delta,
        )?;
        ledger.journal.push(Write::Commit {
            block: block.clone(),
            certificate: certificate.to_vec(),
            receipts: receipts.to_vec(),
            delta: execution.delta.clone(),
        });
        if durability == Durability::Synced {
            ledger.synced = ledger.journal.len();
        }
        Ok(info)
    }

    fn persist_consensus(&self, writes: &[ConsensusWrite]) -> Result<(), MemStoreError> {
        if writes.is_empty() {
            return Ok(());
        }
        self.lock()
            .apply(&self.0.genesis, Write::Consensus(writes.to_vec()))
    }

    fn persist_consensus_and_mark(
        &self,
        writes: &[ConsensusWrite],
        mark: &SafetyMark,
    ) -> Result<(), MemStoreError> {
        let before = {
            let ledger = self.lock();
            (ledger.journal.len(), ledger.synced)
        };
        self.persist_consensus(writes)?;
        if !writes.is_empty() {
            *self.0.beside_mark.lock().unwrap_or_else(|e| e.into_inner()) = Some(before);
        }
        self.store_safety_mark(mark)
    }

    fn load_consensus(&self) -> Result<ConsensusRecords, MemStoreError> {
        let ledger = self.lock();
        Ok(ConsensusRecords {
            safety: ledger.safety.clone(),
            blocks: ledger.consensus_blocks.values().cloned().collect(),
        })
    }

    fn prune_consensus_blocks(&self, height: u64) -> Result<(), MemStoreError> {
        self.lock().apply(&self.0.genesis, Write::Prune(height))
    }

    fn ledger_checkpoint(&self, height: u64) -> Result<Option<LedgerCheckpoint>, MemStoreError> {
        Ok(self.lock().checkpoints.get(&height).cloned())
    }

    fn ledger_certificate(&self, height: u64) -> Result<Option<LedgerCertificate>, MemStoreError> {
        Ok(self.lock().certificates.get(&height).cloned())
    }

    fn put_ledger_certificate(
        &self,
        cert: &VerifiedCertificate,
    ) -> Result<CertificateStored, MemStoreError> {
        let cert = cert.certificate();
        let mut ledger = self.lock();
        if ledger.certificates.contains_key(&cert.checkpoint.height) {
            return Ok(CertificateStored::AlreadyCertified);
        }
        ledger.apply(&self.0.genesis, Write::Certificate(cert.clone()))?;
        Ok(CertificateStored::New)
    }

    fn first_uncertified(
        &self,
        from: u64,
        head: u64,
        max_scan: u64,
    ) -> Result<Option<u64>, MemStoreError> {
        let ledger = self.lock();
        let end = head.min(from.saturating_add(max_scan.saturating_sub(1)));
        Ok((from..=end).find(|h| !ledger.certificates.contains_key(h)))
    }

    fn epoch_starts(&self, max: usize) -> Result<Vec<(u64, EpochSet)>, MemStoreError> {
        let ledger = self.lock();
        let skip = ledger.epoch_starts.len().saturating_sub(max);
        Ok(ledger.epoch_starts[skip..].to_vec())
    }

    fn load_safety_mark(&self) -> Result<MarkState, MemStoreError> {
        Ok(self
            .0
            .mark
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone())
    }

    fn store_safety_mark(&self, mark: &SafetyMark) -> Result<(), MemStoreError> {
        *self.0.mark.lock().unwrap_or_else(|e| e.into_inner()) =
            MarkState::Present(Box::new(mark.clone()));
        Ok(())
    }
}
