//! The auditor's rescan of a whole store (`waybill audit ledger`), deeper than the chain check
//! run on open: given the genesis file, it re-derives everything the ledger commits to and
//! compares it with what is stored.
//!
//! 1. The chain check ([`Store::verify_chain`], full mode): hash links, indexes, receipts'
//!    positions, every accumulator node, record counts.
//! 2. A walk from genesis that, per height, checks every transaction's signature, re-executes
//!    the block on the state tree of the height before (read through the tree and the stored
//!    values, not the current-state column family), and compares the receipts, the history
//!    index records and the new state root with the stored ones; then checks the height's ledger
//!    certificate, if any, against the genesis validator set and against the recomputed values.
//! 3. The current-state column family against the head's state tree, key by key, and every
//!    stored old value against its hash.
//!
//! The first finding by height is reported (the walk stops below the height the chain check
//! failed at, so neither pass can hide an earlier finding of the other), naming the record.
//!
//! From a height (`waybill audit ledger --from`), 1 and 2 cover that height on, trusting the
//! block, state root and accumulator below it; the record counts of the whole store are then
//! not checked. This is the check a node's open does not repeat below its verified-up-to marker.

use std::collections::HashMap;

use rocksdb::IteratorMode;

use super::index::index_entries;
use super::schema;
use super::{Head, Store, StoreError, VerifyMode};
use crate::accumulator as acc;
use crate::crypto::verify_batch;
use crate::encoding::from_canonical;
use crate::execute::{execute_block, ExecError, StateReader};
use crate::genesis::Genesis;
use crate::hash::Hash;
use crate::proof::{CertificateError, LedgerCheckpoint};
use crate::receipt::Receipt;
use crate::smt::{self, Node, NodeStore};
use crate::stored::{StoredBlock, MAX_STORED_BLOCK_BYTES};

/// What a clean audit covered.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuditSummary {
    pub head: Option<Head>,
    /// The first height checked and re-executed: 1 for a whole audit (genesis is checked against
    /// the genesis file's state), or the `from` it was given.
    pub from_height: u64,
    /// Whether the audit covered the whole history, record counts included (a `from` above 1
    /// trusts the records below it and cannot count the ones above it).
    pub whole: bool,
    /// Blocks re-executed (every height from `from_height`).
    pub blocks: u64,
    pub transactions: u64,
    /// Keys in the current state, each checked against the head's state tree.
    pub state_keys: u64,
    /// Ledger certificates verified (signatures and checkpoint).
    pub certificates: u64,
    /// Heights after genesis without a stored certificate (not an error: a node may still be
    /// fetching them; a proof can only be anchored at a certified height).
    pub uncertified_heights: u64,
    pub last_certified: Option<u64>,
}

/// Which part of an audit is running, for a progress display.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuditStage {
    /// The chain check: hash links, indexes, receipts' positions, accumulator.
    ChainCheck,
    /// Signatures, re-execution, state roots and certificates, height by height.
    ReExecution,
}

/// How far an audit has got: `height` is done, of `first..=last` in this stage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AuditProgress {
    pub stage: AuditStage,
    pub height: u64,
    pub first: u64,
    pub last: u64,
}

/// The first thing in the store that does not match, with the record and the values.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("cannot audit from height {from}: the head is {head:?}")]
    FromBeyondHead { from: u64, head: Option<u64> },
    #[error("the store belongs to genesis {stored:?}, the genesis file hashes to {given}")]
    GenesisMismatch { stored: Option<Hash>, given: Hash },
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("block {height} tx {index_in_block} (ledger index {ledger_index}): the stored transaction hashes to {found}, its receipt records {recorded}: the transaction was altered")]
    TxAltered {
        height: u64,
        index_in_block: u32,
        ledger_index: u64,
        recorded: Hash,
        found: Hash,
    },
    #[error("block {height} tx {index_in_block} ({tx_hash}): signature does not verify against signer {signer}")]
    TxSignature {
        height: u64,
        index_in_block: u32,
        tx_hash: Hash,
        signer: String,
    },
    #[error("block {height}: re-executing it failed: {source}")]
    Execution {
        height: u64,
        #[source]
        source: ExecError,
    },
    #[error("block {height} tx {index_in_block} (ledger index {ledger_index}): stored receipt {stored:?}, re-executing gives {recomputed:?}")]
    ReceiptDiffers {
        height: u64,
        index_in_block: u32,
        ledger_index: u64,
        stored: Box<Option<Receipt>>,
        recomputed: Box<Receipt>,
    },
    #[error(
        "block {height} tx {index_in_block}: stored receipt {ledger_index} is unreadable: {reason}"
    )]
    ReceiptUnreadable {
        height: u64,
        index_in_block: u32,
        ledger_index: u64,
        reason: String,
    },
    #[error("block {height}: index record {cf} {key} {problem}")]
    IndexDiffers {
        height: u64,
        cf: &'static str,
        key: String,
        problem: String,
    },
    #[error("column family {cf} holds {found} records, re-executing the ledger gives {expected}")]
    IndexCount {
        cf: &'static str,
        expected: u64,
        found: u64,
    },
    #[error("block {height}: stored state root {stored:?}, re-executing gives {recomputed}")]
    StateRootDiffers {
        height: u64,
        stored: Option<Hash>,
        recomputed: Hash,
    },
    #[error("state key {key} (last written at height {last_written:?}): the current-state record holds a value hashing to {stored}, the state tree at head {head} holds {tree:?}")]
    StateValueDiffers {
        key: String,
        head: u64,
        last_written: Option<u64>,
        stored: Hash,
        tree: Option<Hash>,
    },
    #[error(
        "the state tree at head {head} holds {tree} keys, the current-state column family {stored}"
    )]
    StateKeyCount { head: u64, tree: u64, stored: u64 },
    #[error("state_values record {key}: its value hashes to {computed}")]
    StateValueCorrupt { key: Hash, computed: Hash },
    #[error("ledger certificate for height {height}: {source}")]
    CertificateInvalid {
        height: u64,
        #[source]
        source: CertificateError,
    },
    #[error("ledger certificate for height {height} certifies {certified}, recomputing gives {recomputed}")]
    CertificateDiffers {
        height: u64,
        certified: Box<LedgerCheckpoint>,
        recomputed: Box<LedgerCheckpoint>,
    },
}

impl AuditError {
    /// The height of the first mismatch, when the finding is tied to one.
    pub fn height(&self) -> Option<u64> {
        use AuditError::*;
        match self {
            Store(e) => e.height(),
            TxAltered { height, .. }
            | TxSignature { height, .. }
            | Execution { height, .. }
            | ReceiptDiffers { height, .. }
            | ReceiptUnreadable { height, .. }
            | IndexDiffers { height, .. }
            | StateRootDiffers { height, .. }
            | CertificateInvalid { height, .. }
            | CertificateDiffers { height, .. } => Some(*height),
            StateValueDiffers {
                last_written, head, ..
            } => last_written.or(Some(*head)),
            GenesisMismatch { .. }
            | FromBeyondHead { .. }
            | IndexCount { .. }
            | StateKeyCount { .. }
            | StateValueCorrupt { .. } => None,
        }
    }
}

/// The walk's running state.
struct Walk {
    root: Hash,
    size: u64,
    last_written: HashMap<Vec<u8>, u64>,
    index_counts: HashMap<&'static str, u64>,
    summary: AuditSummary,
}

impl Store {
    /// Audits the whole store against `genesis` (see the module doc).
    pub fn audit(&self, genesis: &Genesis) -> Result<AuditSummary, AuditError> {
        self.audit_with(genesis, 0, &mut |_| {})
    }

    /// Audits heights `from..=head` against `genesis`, trusting the records below `from` (the
    /// state root and accumulator of height `from - 1` are where re-execution starts), and tells
    /// `progress` about each height done. `from` 0 or 1 audits everything, record counts
    /// included; the current state and the stored old values are checked whole either way.
    pub fn audit_with(
        &self,
        genesis: &Genesis,
        from: u64,
        progress: &mut dyn FnMut(AuditProgress),
    ) -> Result<AuditSummary, AuditError> {
        let given = genesis.hash();
        if self.genesis_hash() != Some(given) {
            return Err(AuditError::GenesisMismatch {
                stored: self.genesis_hash(),
                given,
            });
        }
        let whole = from <= 1;
        let head_before = self.head().map(|h| h.height);
        if !whole && head_before.is_none_or(|h| from > h) {
            return Err(AuditError::FromBeyondHead {
                from,
                head: head_before,
            });
        }
        let mode = if whole {
            VerifyMode::Full
        } else {
            VerifyMode::From(from)
        };
        let first = if whole { 0 } else { from };
        let last = head_before.unwrap_or(0);
        let chain = self.verify_chain_reporting(mode, &mut |height| {
            progress(AuditProgress {
                stage: AuditStage::ChainCheck,
                height,
                first,
                last,
            })
        });
        let head = match &chain {
            Ok(s) => s.head.map_or(0, |h| h.height),
            Err(_) => last,
        };
        // Up to the chain check's finding: the walk reports what lies before it, and at that
        // height its finding names the record more precisely (which transaction, say).
        let walk_to = match &chain {
            Err(e) => e.height().map_or(head, |h| h.min(head)),
            Ok(_) => head,
        };
        let mut walk = self.audit_walk(genesis, from.max(1), walk_to, progress)?;
        chain?;
        if whole {
            self.audit_index_counts(&walk)?;
        }
        walk.summary.state_keys = self.audit_current_state(&walk, head)?;
        self.audit_state_values()?;
        walk.summary.head = self.head();
        walk.summary.from_height = from.max(1);
        walk.summary.whole = whole;
        Ok(walk.summary)
    }

    /// Heights `from..=to`: signatures, re-execution, receipts, index records, state roots and
    /// certificates (see the module doc), on top of the state and accumulator of `from - 1`
    /// (genesis's recomputed from the genesis file when `from` is 1).
    fn audit_walk(
        &self,
        genesis: &Genesis,
        from: u64,
        to: u64,
        progress: &mut dyn FnMut(AuditProgress),
    ) -> Result<Walk, AuditError> {
        let mut walk = if from <= 1 {
            let genesis_state = crate::supply::genesis_state(genesis);
            let (root, _) =
                smt::apply(self, smt::EMPTY, &genesis_state).map_err(StoreError::from)?;
            let stored = self.state_root_at(0)?;
            if stored != Some(root) {
                return Err(AuditError::StateRootDiffers {
                    height: 0,
                    stored,
                    recomputed: root,
                });
            }
            Walk {
                root,
                size: 0,
                last_written: genesis_state.keys().map(|k| (k.clone(), 0)).collect(),
                index_counts: HashMap::new(),
                summary: AuditSummary::default(),
            }
        } else {
            // Trusted: the chain check anchored at this block, and what it says is below `from`.
            let before = from - 1;
            let head = self.head().map_or(0, |h| h.height);
            Walk {
                root: self
                    .state_root_at(before)?
                    .ok_or(StoreError::MissingStateRoot { height: before })?,
                size: self
                    .block_by_height(before)?
                    .ok_or(StoreError::MissingBlock {
                        height: before,
                        head,
                    })?
                    .accumulator_size_after,
                last_written: HashMap::new(),
                index_counts: HashMap::new(),
                summary: AuditSummary::default(),
            }
        };
        for height in from.max(1)..=to {
            self.audit_height(genesis, height, &mut walk)?;
            progress(AuditProgress {
                stage: AuditStage::ReExecution,
                height,
                first: from.max(1),
                last: to,
            });
        }
        Ok(walk)
    }

    fn audit_height(
        &self,
        genesis: &Genesis,
        height: u64,
        walk: &mut Walk,
    ) -> Result<(), AuditError> {
        let stored = self.audit_block(height, walk.size)?;
        let block = &stored.block;

        // Signatures: a batch for the common case, one by one to name the bad one.
        let items: Vec<_> = block
            .txs
            .iter()
            .map(|t| (&t.tx.signer, &t.tx, &t.signature))
            .collect();
        if verify_batch(&items).is_err() {
            for (i, t) in block.txs.iter().enumerate() {
                if t.tx.signer.verify(&t.tx, &t.signature).is_err() {
                    return Err(AuditError::TxSignature {
                        height,
                        index_in_block: i as u32,
                        tx_hash: t.hash(),
                        signer: t.tx.signer.to_hex(),
                    });
                }
            }
        }

        let state = TreeState {
            store: self,
            root: walk.root,
        };
        let execution = execute_block(&genesis.chain_id, &block.txs, &state)
            .map_err(|source| AuditError::Execution { height, source })?;
        for recomputed in execution.receipts(block, walk.size) {
            let stored = match self.receipt(recomputed.ledger_index) {
                Err(StoreError::ReceiptDecode { source, .. }) => {
                    return Err(AuditError::ReceiptUnreadable {
                        height,
                        index_in_block: recomputed.index_in_block,
                        ledger_index: recomputed.ledger_index,
                        reason: source.to_string(),
                    })
                }
                other => other?,
            };
            if stored.as_ref() != Some(&recomputed) {
                return Err(AuditError::ReceiptDiffers {
                    height,
                    index_in_block: recomputed.index_in_block,
                    ledger_index: recomputed.ledger_index,
                    stored: Box::new(stored),
                    recomputed: Box::new(recomputed),
                });
            }
        }
        for entry in index_entries(block, walk.size, &execution.events)? {
            let found = self
                .db
                .get_cf(self.cf(entry.cf)?, &entry.key)
                .map_err(StoreError::db("read index"))?;
            if found.as_deref() != Some(entry.value.as_slice()) {
                return Err(AuditError::IndexDiffers {
                    height,
                    cf: entry.cf,
                    key: hex::encode(&entry.key),
                    problem: match found {
                        None => "is missing".into(),
                        Some(_) => "differs from the event re-execution gives".into(),
                    },
                });
            }
            *walk.index_counts.entry(entry.cf).or_default() += 1;
        }

        let (root, _) = smt::apply(self, walk.root, &execution.delta).map_err(StoreError::from)?;
        let stored_root = self.state_root_at(height)?;
        if stored_root != Some(root) {
            return Err(AuditError::StateRootDiffers {
                height,
                stored: stored_root,
                recomputed: root,
            });
        }
        for key in execution.delta.keys() {
            walk.last_written.insert(key.clone(), height);
        }
        walk.root = root;
        walk.size += block.txs.len() as u64;
        walk.summary.blocks += 1;
        walk.summary.transactions += block.txs.len() as u64;

        let Some(cert) = self.ledger_certificate(height)? else {
            walk.summary.uncertified_heights += 1;
            return Ok(());
        };
        cert.verify(genesis)
            .map_err(|source| AuditError::CertificateInvalid { height, source })?;
        let recomputed = LedgerCheckpoint {
            chain_id: genesis.chain_id.clone(),
            height,
            block_hash: block.hash(),
            state_root: root,
            accumulator_root: acc::root_at(&self.hasher, self, walk.size)
                .map_err(StoreError::from)?,
            accumulator_size: walk.size,
        };
        if cert.checkpoint != recomputed {
            return Err(AuditError::CertificateDiffers {
                height,
                certified: Box::new(cert.checkpoint),
                recomputed: Box::new(recomputed),
            });
        }
        walk.summary.certificates += 1;
        walk.summary.last_certified = Some(height);
        Ok(())
    }

    /// Block `height`, decoded; when its transactions no longer hash to its header's tx root,
    /// the altered transaction is named by comparing each with the hash its receipt recorded.
    fn audit_block(&self, height: u64, first: u64) -> Result<StoredBlock, AuditError> {
        let head = self.head().map_or(0, |h| h.height);
        let bytes = self
            .block_bytes(height)?
            .ok_or(StoreError::MissingBlock { height, head })?;
        match StoredBlock::from_bytes(&bytes) {
            Ok(stored) => Ok(stored),
            Err(source) => {
                if let Ok(raw) =
                    from_canonical::<StoredBlock>("stored block", &bytes, MAX_STORED_BLOCK_BYTES)
                {
                    for (i, tx) in raw.block.txs.iter().enumerate() {
                        let ledger_index = first + i as u64;
                        if let Some(r) = self.receipt(ledger_index)? {
                            if r.tx_hash != tx.hash() {
                                return Err(AuditError::TxAltered {
                                    height,
                                    index_in_block: i as u32,
                                    ledger_index,
                                    recorded: r.tx_hash,
                                    found: tx.hash(),
                                });
                            }
                        }
                    }
                }
                Err(StoreError::BlockDecode { height, source }.into())
            }
        }
    }

    /// No index records beyond the ones re-execution produced.
    fn audit_index_counts(&self, walk: &Walk) -> Result<(), AuditError> {
        for cf in [
            schema::CF_ITEM_HISTORY,
            schema::CF_ORG_EVENTS,
            schema::CF_EPCIS_EVENTS,
        ] {
            let expected = walk.index_counts.get(cf).copied().unwrap_or(0);
            let found = self.count_records(cf)?;
            if found != expected {
                return Err(AuditError::IndexCount {
                    cf,
                    expected,
                    found,
                });
            }
        }
        Ok(())
    }

    /// Every current-state record against the head's state tree, and the tree's key count
    /// against the records' (so a deleted or added record is found too). Returns the count.
    fn audit_current_state(&self, walk: &Walk, head: u64) -> Result<u64, AuditError> {
        let mut stored = 0u64;
        for item in self
            .db
            .iterator_cf(self.cf(schema::CF_STATE)?, IteratorMode::Start)
        {
            let (key, value) = item.map_err(StoreError::db("iterate state"))?;
            stored += 1;
            let tree = smt::get(self, walk.root, &key).map_err(StoreError::from)?;
            let value_hash = smt::value_hash(&value);
            if tree != Some(value_hash) {
                return Err(AuditError::StateValueDiffers {
                    key: printable_key(&key),
                    head,
                    last_written: walk.last_written.get(key.as_ref()).copied(),
                    stored: value_hash,
                    tree,
                });
            }
        }
        let tree = self.count_leaves(walk.root)?;
        if tree != stored {
            return Err(AuditError::StateKeyCount { head, tree, stored });
        }
        Ok(stored)
    }

    /// Every stored value (behind old and current roots) hashes to its key.
    fn audit_state_values(&self) -> Result<(), AuditError> {
        for item in self
            .db
            .iterator_cf(self.cf(schema::CF_STATE_VALUES)?, IteratorMode::Start)
        {
            let (key, value) = item.map_err(StoreError::db("iterate state values"))?;
            let computed = smt::value_hash(&value);
            if key.as_ref() != computed.as_bytes() {
                return Err(AuditError::StateValueCorrupt {
                    key: schema::decode_hash(&key).unwrap_or(Hash::ZERO),
                    computed,
                });
            }
        }
        Ok(())
    }

    /// Leaves under `root`, walking the tree (iteratively: it can be 256 deep).
    fn count_leaves(&self, root: Hash) -> Result<u64, AuditError> {
        let mut leaves = 0u64;
        let mut stack = vec![root];
        while let Some(hash) = stack.pop() {
            if hash == smt::EMPTY {
                continue;
            }
            match NodeStore::get(self, &hash).map_err(StoreError::from)? {
                None => return Err(StoreError::from(smt::SmtError::MissingNode { hash }).into()),
                Some(Node::Leaf(_)) => leaves += 1,
                Some(Node::Internal { left, right }) => {
                    stack.push(left);
                    stack.push(right);
                }
            }
        }
        Ok(leaves)
    }

    fn count_records(&self, cf: &'static str) -> Result<u64, StoreError> {
        let mut n = 0;
        for item in self.db.iterator_cf(self.cf(cf)?, IteratorMode::Start) {
            item.map_err(StoreError::db("iterate"))?;
            n += 1;
        }
        Ok(n)
    }
}

/// The state as of one root, read through the tree and the stored values (never the
/// current-state column family, which only matches the head).
struct TreeState<'a> {
    store: &'a Store,
    root: Hash,
}

impl StateReader for TreeState<'_> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, ExecError> {
        let read = |reason: String| ExecError::Read {
            key: hex::encode(key),
            reason,
        };
        let Some(value_hash) =
            smt::get(self.store, self.root, key).map_err(|e| read(e.to_string()))?
        else {
            return Ok(None);
        };
        match self.store.state_value(&value_hash) {
            Ok(Some(v)) => Ok(Some(v)),
            Ok(None) => Err(read(format!("value {value_hash} is not stored"))),
            Err(e) => Err(read(e.to_string())),
        }
    }
}

/// State keys are mostly `prefix/` and text or key bytes: printable ones are shown as text.
fn printable_key(key: &[u8]) -> String {
    match std::str::from_utf8(key) {
        Ok(s) if s.chars().all(|c| !c.is_control()) => s.to_string(),
        _ => hex::encode(key),
    }
}
