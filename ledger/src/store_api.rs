//! The plain data a ledger store takes and gives back, without the store: the node's sans-IO
//! engine and its in-memory stores use these, and the RocksDB store (`storage`, behind the
//! `storage` feature) re-exports them.

use crate::hash::Hash;

/// Largest consensus record a store accepts (a block with its payload, or the safety data).
pub const MAX_CONSENSUS_RECORD_BYTES: usize = crate::block::MAX_BLOCK_BYTES + 64 * 1024;

/// The newest committed block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Head {
    pub height: u64,
    pub hash: Hash,
}

/// What a successful commit wrote.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CommitInfo {
    pub height: u64,
    pub hash: Hash,
    /// Ledger index of the block's first transaction (= accumulator size before the block).
    pub first_ledger_index: u64,
    pub accumulator_size: u64,
    pub accumulator_root: Hash,
    /// Root of the state tree after executing the block.
    pub state_root: Hash,
}

/// When a committed block's write must be on disk.
///
/// A validator's commit is decided by consensus records (the committed blocks and the
/// certificate that commits them) that it made durable before its vote or proposal left. Its
/// commit write only materialises what those records already prove, so it may wait for the
/// store's next synced write: the store's write-ahead log is one sequence, and syncing it syncs
/// every write before. A power loss in between loses only that suffix, and the node's restart
/// commits those blocks again from the records (`Core::recover`), executing them to the same
/// state and the same checkpoint. This took an fsync per block off the engine's thread (at
/// 1,000 tx/s about 190 a second, each about 0.3 ms of a thread that also runs the rounds;
/// BENCHMARKS.md, sixteenth pass).
///
/// Everything else is synced: a block caught up from peers has no consensus record behind it,
/// and a block that ends an epoch changes which keys the node's next messages answer to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Durability {
    /// On disk when the write returns.
    Synced,
    /// On disk with the store's next synced write; lost in a power loss before it.
    WithNextSync,
}

/// One durable write the consensus core asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConsensusWrite {
    /// Replaces the stored safety data.
    Safety(Vec<u8>),
    /// Stores a block under its height and id.
    Block {
        height: u64,
        id: Hash,
        bytes: Vec<u8>,
    },
}

/// The consensus records a store read back.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConsensusRecords {
    pub safety: Option<Vec<u8>>,
    /// Blocks in key order (by height, then id).
    pub blocks: Vec<Vec<u8>>,
}

/// What storing a ledger certificate did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CertificateStored {
    /// Written: the height had none.
    New,
    /// The height already had one (for the same checkpoint); nothing written.
    AlreadyCertified,
}
