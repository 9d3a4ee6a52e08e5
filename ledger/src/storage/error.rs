//! Everything the store can report. Every variant names the record it is about (height, ledger
//! index, node position, column family and key) and the values that disagree, because an
//! operator looking at a broken store needs to know where to look, not just that it is broken.

use crate::block::BlockError;
use crate::encoding::DecodeError;
use crate::hash::Hash;
use crate::stored::StoredBlockError;

use crate::accumulator::AccumulatorError;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    // --- the database itself ---
    #[error("rocksdb {op}: {source}")]
    Db {
        op: &'static str,
        #[source]
        source: rocksdb::Error,
    },
    #[error("column family {0:?} is missing from the open database")]
    MissingColumnFamily(&'static str),
    #[error("store schema version {found}, this build reads version {supported}: the data was written by another Waybill version and must be re-created (a fresh data dir, or a new localnet)")]
    SchemaVersion { found: u32, supported: u32 },
    #[error("store schema version {found}, this build reads version {supported}: a read-only open cannot upgrade it; start the node on it once (it upgrades the store in place), then read it")]
    SchemaUpgradeNeeded { found: u32, supported: u32 },
    #[error("store has blocks but no schema version record")]
    MissingSchemaVersion,
    #[error("consensus record of {len} bytes exceeds {max}")]
    ConsensusRecordTooLarge { len: usize, max: usize },
    #[error("state write {key} of {len} bytes exceeds {max}")]
    StateValueTooLarge { key: String, len: usize, max: usize },

    // --- commits that do not fit the chain (nothing is written) ---
    #[error("store has no genesis block yet; init_genesis first")]
    NotInitialized,
    #[error("store already holds genesis {existing}, refusing to initialise with {given}")]
    AlreadyInitialized { existing: Hash, given: Hash },
    // --- state sync ---
    #[error(
        "a snapshot is installed only into an empty store; this one has blocks up to height {head}"
    )]
    NotEmpty { head: u64 },
    #[error("the state synced hashes to root {computed}, the certificate for height {height} names {certified}")]
    SnapshotStateRoot {
        height: u64,
        certified: Hash,
        computed: Hash,
    },
    #[error("item {item_id:?} has {certified} events, {held} of them after this store's base {base}: it started from a certified state there (state sync) and holds no older event; ask a node that replayed from genesis")]
    HistoryBeforeBase {
        item_id: String,
        certified: u64,
        held: usize,
        base: u64,
    },
    #[error("ledger index {ledger_index} is below this store's base, which starts at ledger index {base_size} (height {base}): it holds nothing older")]
    LedgerIndexBeforeBase {
        ledger_index: u64,
        base_size: u64,
        base: u64,
    },

    #[error(
        "genesis block must have height 0 and parent 0, found height {height} parent {parent}"
    )]
    BadGenesisBlock { height: u64, parent: Hash },
    #[error("block height {found}, the next height is {expected}")]
    WrongHeight { expected: u64, found: u64 },
    #[error("block {height}: parent {found}, the head is {expected}")]
    WrongParent {
        height: u64,
        expected: Hash,
        found: Hash,
    },
    #[error("block {height}: invalid block: {source}")]
    InvalidBlock {
        height: u64,
        #[source]
        source: BlockError,
    },
    #[error("block {height}: certificate of {len} bytes exceeds {max}")]
    CertificateTooLarge { height: u64, len: usize, max: usize },
    #[error("block {height}: stored record of {len} bytes exceeds {max}")]
    BlockTooLarge { height: u64, len: usize, max: usize },
    #[error("block {height}: receipt {index_in_block} is {len} bytes, the limit is {max}")]
    ReceiptTooLarge {
        height: u64,
        index_in_block: usize,
        len: usize,
        max: usize,
    },
    #[error("block {height}: {txs} transactions but {receipts} receipts")]
    ReceiptCount {
        height: u64,
        txs: usize,
        receipts: usize,
    },
    #[error("block {height}: receipt {index_in_block} has {field} {found}, expected {expected}")]
    ReceiptMismatch {
        height: u64,
        index_in_block: usize,
        field: &'static str,
        expected: String,
        found: String,
    },

    // --- stored data that is inconsistent or corrupt (found by reads and verify_chain) ---
    #[error("corrupt record in {cf} at key {key}: {reason}")]
    Corrupt {
        cf: &'static str,
        key: String,
        reason: String,
    },
    #[error("block {height}: stored record does not decode: {source}")]
    BlockDecode {
        height: u64,
        #[source]
        source: StoredBlockError,
    },
    #[error("receipt {ledger_index}: stored record does not decode: {source}")]
    ReceiptDecode {
        ledger_index: u64,
        #[source]
        source: DecodeError,
    },
    #[error("block {height} is missing (head is {head})")]
    MissingBlock { height: u64, head: u64 },
    #[error("block stored under height {key_height} says it is height {found}")]
    HeightMismatch { key_height: u64, found: u64 },
    #[error("block {height}: parent is {found}, block {} hashes to {expected}", .height.wrapping_sub(1))]
    BrokenChain {
        height: u64,
        expected: Hash,
        found: Hash,
    },
    #[error("block {height} hashes to {hash}, but block_index maps that hash to {found:?}")]
    BlockIndexMismatch {
        height: u64,
        hash: Hash,
        found: Option<u64>,
    },
    #[error("block {height} tx {index_in_block} ({tx_hash}): tx_index {reason}")]
    TxIndexMismatch {
        height: u64,
        index_in_block: u32,
        tx_hash: Hash,
        reason: String,
    },
    #[error("receipt {ledger_index} (block {height} tx {index_in_block}): {reason}")]
    StoredReceiptMismatch {
        ledger_index: u64,
        height: u64,
        index_in_block: u32,
        reason: String,
    },
    #[error(
        "accumulator leaf {ledger_index} (block {height}) is {found:?}, receipts give {expected}"
    )]
    AccumulatorLeafMismatch {
        ledger_index: u64,
        height: u64,
        expected: Hash,
        found: Option<Hash>,
    },
    #[error(
        "accumulator node level {level} index {index} is {found}, its children hash to {expected}"
    )]
    AccumulatorNodeMismatch {
        level: u8,
        index: u64,
        expected: Hash,
        found: Hash,
    },
    #[error("accumulator node level {level} index {index} lies beyond size {size}")]
    AccumulatorNodeBeyondSize { level: u8, index: u64, size: u64 },
    #[error(
        "block {height}: records accumulator size {recorded}, its transactions make {computed}"
    )]
    AccumulatorSizeMismatch {
        height: u64,
        recorded: u64,
        computed: u64,
    },
    #[error("block {height}: records accumulator root {recorded} at size {size}, the nodes give {computed}")]
    AccumulatorRootMismatch {
        height: u64,
        size: u64,
        recorded: Hash,
        computed: Hash,
    },
    #[error("meta head is {meta:?}, the blocks end at {found:?}")]
    HeadMismatch {
        meta: Option<(u64, Hash)>,
        found: Option<(u64, Hash)>,
    },
    #[error("meta head is at height {meta:?}, the last stored block is {last_block:?}")]
    HeadHeightMismatch {
        meta: Option<u64>,
        last_block: Option<u64>,
    },
    #[error("column family {cf} holds {found} records, the chain implies {expected}")]
    RecordCount {
        cf: &'static str,
        expected: u64,
        found: u64,
    },
    #[error("meta accumulator size is {meta}, the head block records {found}")]
    MetaAccumulatorSizeMismatch { meta: u64, found: u64 },
    #[error("column family {cf} holds {key}, beyond the head {head} (accumulator size {accumulator_size})")]
    RecordBeyondHead {
        cf: &'static str,
        key: String,
        head: u64,
        accumulator_size: u64,
    },
    #[error("the verified-up-to marker is at height {marker}, beyond the head {head:?}: blocks this store once held and checked are gone (a lost write-ahead-log tail, or a copy restored from an older backup)")]
    MarkerAheadOfHead { marker: u64, head: Option<u64> },
    #[error("the verified-up-to marker at height {height} records {what} {marker}, the store holds {found}: the chain below the marker changed since it was checked (damage, or another store's files)")]
    MarkerMismatch {
        height: u64,
        what: &'static str,
        marker: Hash,
        found: Hash,
    },
    #[error("ledger index {ledger_index} is beyond the accumulator size {size}")]
    LedgerIndexOutOfRange { ledger_index: u64, size: u64 },
    #[error("accumulator size {requested} is beyond the current size {size}")]
    SizeOutOfRange { requested: u64, size: u64 },

    #[error("accumulator: {0}")]
    Accumulator(#[from] AccumulatorError),
    #[error("state tree: {0}")]
    Smt(#[from] crate::smt::SmtError),
    #[error("block {height}: an event names transaction {tx_index}, the block has {txs}")]
    EventOutOfRange {
        height: u64,
        tx_index: u32,
        txs: usize,
    },
    #[error("block {height}: no state root is stored for it")]
    MissingStateRoot { height: u64 },

    // --- ledger certificates ---
    #[error(
        "height {height} has no ledger certificate (head {head}, latest certified {})",
        .latest_certified.map_or_else(|| "none yet".to_string(), |h| h.to_string())
    )]
    NotCertified {
        height: u64,
        head: u64,
        latest_certified: Option<u64>,
    },
    #[error("history of item {item_id:?} has more than {max} events, more than one proof carries")]
    HistoryTooLong { item_id: String, max: usize },
    #[error("consistency from height {older} to height {newer}: the older height must come first")]
    HeightsOutOfOrder { older: u64, newer: u64 },
    #[error("ledger certificate for height {height}, beyond the head {head}")]
    CertificateBeyondHead { height: u64, head: u64 },
    #[error("ledger certificate for height {height} certifies {certified}, this store's records give {ours}")]
    CertificateMismatch {
        height: u64,
        ours: Box<crate::proof::LedgerCheckpoint>,
        certified: Box<crate::proof::LedgerCheckpoint>,
    },
}

impl StoreError {
    pub(crate) fn db(op: &'static str) -> impl FnOnce(rocksdb::Error) -> StoreError {
        move |source| StoreError::Db { op, source }
    }

    /// The block height the error is about, when it is about one: what an operator (or a test)
    /// needs first to find a damaged record.
    pub fn height(&self) -> Option<u64> {
        use StoreError::*;
        match self {
            WrongParent { height, .. }
            | InvalidBlock { height, .. }
            | CertificateTooLarge { height, .. }
            | BlockTooLarge { height, .. }
            | ReceiptTooLarge { height, .. }
            | ReceiptCount { height, .. }
            | ReceiptMismatch { height, .. }
            | BlockDecode { height, .. }
            | MissingBlock { height, .. }
            | BrokenChain { height, .. }
            | BlockIndexMismatch { height, .. }
            | TxIndexMismatch { height, .. }
            | StoredReceiptMismatch { height, .. }
            | AccumulatorLeafMismatch { height, .. }
            | AccumulatorSizeMismatch { height, .. }
            | AccumulatorRootMismatch { height, .. }
            | MissingStateRoot { height }
            | EventOutOfRange { height, .. }
            | CertificateBeyondHead { height, .. }
            | CertificateMismatch { height, .. }
            | MarkerMismatch { height, .. } => Some(*height),
            WrongHeight { found, .. } => Some(*found),
            HeightMismatch { key_height, .. } => Some(*key_height),
            _ => None,
        }
    }
}
