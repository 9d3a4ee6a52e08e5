//! The RocksDB store: committed blocks with their certificates, the block and transaction
//! indexes, receipts, the transaction accumulator's frozen nodes, and a little metadata.
//!
//! One commit is one `WriteBatch` written with fsync, so after a crash the store holds every
//! block whose commit returned and is never half-way through one. Opening verifies the hash chain
//! after the verified-up-to marker (`marker`), so that a store damaged by a crash is reported,
//! with the height, before it is served; `waybill audit ledger` checks all of it.
//!
//! Files: `schema` (column families and key encodings), `commit` (the write path), `read`
//! (lookups, proofs), `verify` (the chain check), `marker` (how far the check is known to hold),
//! `certs` (ledger certificates), `audit` (the auditor's deep rescan: re-execution, signatures,
//! certificates), `snapshot` (state sync: serving state and installing a synced base),
//! `recent_nodes` (state-tree nodes kept in memory between commits), `memory`
//! (RocksDB's memory for metrics), `error`.

mod audit;
mod backup;
mod certs;
mod commit;
mod compaction;
mod consensus;
mod epochs;
mod error;
mod index;
mod marker;
mod memory;
mod proofs;
mod read;
mod recent_nodes;
pub mod schema;
mod snapshot;
mod state;
mod verify;

#[cfg(test)]
mod audit_tests;
#[cfg(test)]
mod marker_tests;
#[cfg(test)]
mod snapshot_tests;
#[cfg(test)]
mod tests;

use std::path::Path;
use std::sync::{Mutex, RwLock};

use rocksdb::{
    ColumnFamily, ColumnFamilyDescriptor, DBCompactionStyle, DBRecoveryMode, Options, WriteOptions,
    DB,
};

use crate::hash::Hash;
use crate::merkle::Blake3Hasher;

pub use crate::store_api::{
    CertificateStored, ConsensusRecords, ConsensusWrite, Durability, MAX_CONSENSUS_RECORD_BYTES,
};
pub use audit::{AuditError, AuditProgress, AuditStage, AuditSummary};
pub use compaction::CompactionBacklog;
pub use error::StoreError;
pub use index::MAX_HISTORY_PAGE;
pub use marker::VerifiedMarker;
pub use memory::StoreMemory;
pub use read::CommittedTx;
pub use schema::TxLocation;
pub use snapshot::Base;
pub use state::StateProof;
pub use verify::ChainSummary;

/// How much of the chain [`Store::open`] checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum VerifyMode {
    /// The blocks after the verified-up-to marker (see `marker`), the marker against the chain,
    /// and the metadata that points at the head: an open costs the same whatever the history.
    /// A store without a marker is checked whole. The marker then moves to the head.
    #[default]
    SinceVerified,
    /// Every block from genesis, every receipt, index entry and accumulator node (what
    /// `waybill audit ledger` runs, with re-execution on top). The marker then moves to the head.
    Full,
    /// Only the last `n` blocks (at least the head) and the metadata that points at them.
    Tail(u64),
    /// The blocks from this height (at most the head's) on, following the block before it.
    From(u64),
    /// Nothing: for a tool that runs its own, more thorough check next (`waybill audit ledger`),
    /// and must be able to open a damaged store to say where it is damaged.
    Skip,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OpenOptions {
    pub verify: VerifyMode,
    /// Open without writing anything (not even the schema upgrade), sharing the directory with
    /// no lock: for auditing a node's data directory. Every write then fails.
    pub read_only: bool,
}

pub use crate::store_api::{CommitInfo, Head};

/// The committed tip, as the write path and readers see it. Changed only after a commit's batch
/// is durable.
#[derive(Clone, Copy, Debug, Default)]
struct ChainState {
    genesis_hash: Option<Hash>,
    head: Option<Head>,
    accumulator_size: u64,
    state_root: Hash,
    /// Everything up to the head is checked, so each commit may move the verified-up-to marker
    /// to its block (see `marker`).
    verified_through_head: bool,
    /// Where a synced store starts (`snapshot`); `None` from genesis.
    base: Option<snapshot::Base>,
}

pub struct Store {
    /// What opening found damaged and repaired (see [`Store::recovery_report`]).
    recovery_report: Option<String>,
    db: DB,
    /// Held for the whole of a commit so that the head check and the write cannot interleave
    /// with another commit's.
    commit_lock: Mutex<()>,
    /// Separate from `commit_lock` so readers never wait for a commit's fsync.
    state: RwLock<ChainState>,
    hasher: Blake3Hasher,
    /// State-tree nodes of the last commits, so the next block's tree update reads them from
    /// memory.
    recent_nodes: RwLock<recent_nodes::RecentNodes>,
    /// Checkpoints of the last commits, asked for repeatedly while they are being certified.
    recent_checkpoints: RwLock<certs::RecentCheckpoints>,
    /// Every consensus block below this height was pruned since the store opened (see
    /// `consensus::prune_range`).
    consensus_pruned_below: Mutex<u64>,
}

impl Store {
    /// Opens (creating if needed) the store at `path` and verifies what came after the
    /// verified-up-to marker ([`VerifyMode::SinceVerified`]).
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        Store::open_with(path, OpenOptions::default())
    }

    pub fn open_with(path: &Path, options: OpenOptions) -> Result<Store, StoreError> {
        let mut db_opts = Options::default();
        db_opts.create_if_missing(true);
        db_opts.create_missing_column_families(true);
        // Every write goes through the WAL (fsynced), which makes a batch atomic across column
        // families on recovery: RocksDB keeps a WAL file until every family has flushed what it
        // holds. So no atomic flush: it flushed every family whenever the memtable budget
        // filled, about once a second under load, turning a few large memtables into many tiny
        // files for compaction to merge.
        let families = bounded_memory(&mut db_opts);
        let mut recovery_report = None;
        smooth_background_writes(&mut db_opts);
        let db = if options.read_only {
            // A read-only open must name exactly the column families that exist: an older store
            // lacks the newer ones (their reads then find nothing, see `Store::cf`).
            let existing =
                DB::list_cf(&db_opts, path).map_err(StoreError::db("list column families"))?;
            let cfs = schema::COLUMN_FAMILIES
                .iter()
                .filter(|name| existing.iter().any(|e| e == *name))
                .map(|name| ColumnFamilyDescriptor::new(*name, cf_options(name, &families)));
            DB::open_cf_descriptors_read_only(&db_opts, path, cfs, false)
                .map_err(StoreError::db("open read-only"))?
        } else {
            let open = |opts: &Options| {
                let cfs = schema::COLUMN_FAMILIES
                    .iter()
                    .map(|name| ColumnFamilyDescriptor::new(*name, cf_options(name, &families)));
                DB::open_cf_descriptors(opts, path, cfs)
            };
            // RocksDB's usual recovery (point in time) drops a damaged write-ahead-log tail and
            // opens as if those writes never happened: a validator's safety data can go back
            // in time without a word. So open strictly first; if the log is damaged, say so
            // (the node's rollback guard reads it) and then recover what is intact.
            db_opts.set_wal_recovery_mode(DBRecoveryMode::AbsoluteConsistency);
            match open(&db_opts) {
                Ok(db) => db,
                Err(e) if e.kind() == rocksdb::ErrorKind::Corruption => {
                    let report = format!(
                        "the write-ahead log is damaged ({e}); recovered up to the last intact write before the damage"
                    );
                    recovery_report = Some(report);
                    db_opts.set_wal_recovery_mode(DBRecoveryMode::PointInTime);
                    open(&db_opts).map_err(StoreError::db("open after a damaged log"))?
                }
                Err(e) => return Err(StoreError::db("open")(e)),
            }
        };
        let store = Store {
            recovery_report,
            db,
            commit_lock: Mutex::new(()),
            state: RwLock::new(ChainState::default()),
            hasher: Blake3Hasher,
            recent_nodes: RwLock::default(),
            recent_checkpoints: RwLock::default(),
            consensus_pruned_below: Mutex::new(0),
        };
        store.check_schema(options.read_only)?;
        let summary = store.verify_chain_with(options.verify)?;
        *store.state.write().unwrap_or_else(|e| e.into_inner()) = ChainState {
            genesis_hash: summary.genesis_hash,
            head: summary.head,
            accumulator_size: summary.accumulator_size,
            state_root: summary.state_root,
            verified_through_head: summary.through_head,
            base: store.base()?,
        };
        if let (Some(head), true, false) = (summary.head, summary.through_head, options.read_only) {
            store.write_marker(&VerifiedMarker {
                height: head.height,
                block_hash: head.hash,
                accumulator_root: summary.accumulator_root,
            })?;
        }
        Ok(store)
    }

    /// Damage the open found and recovered from: a write-ahead log whose tail (from the first
    /// damaged record on) was dropped. Writes in that tail were lost, possibly writes that had
    /// returned (acknowledged) before: the node's rollback guard compares with its safety mark.
    /// `None` when the store opened cleanly.
    pub fn recovery_report(&self) -> Option<String> {
        self.recovery_report.clone()
    }

    /// A fresh database gets the current schema version; an existing one must already have it,
    /// or one of [`schema::UPGRADABLE_FROM`], which a writable open upgrades in place.
    fn check_schema(&self, read_only: bool) -> Result<(), StoreError> {
        let meta = self.cf(schema::CF_META)?;
        match self
            .db
            .get_cf(meta, schema::META_SCHEMA_VERSION)
            .map_err(StoreError::db("read schema version"))?
        {
            Some(v) => {
                let found = schema::decode_u32(&v).ok_or_else(|| StoreError::Corrupt {
                    cf: schema::CF_META,
                    key: "schema_version".into(),
                    reason: format!("{} bytes, expected 4", v.len()),
                })?;
                if found == schema::SCHEMA_VERSION {
                    return Ok(());
                }
                if !schema::UPGRADABLE_FROM.contains(&found) {
                    return Err(StoreError::SchemaVersion {
                        found,
                        supported: schema::SCHEMA_VERSION,
                    });
                }
                if read_only {
                    return Err(StoreError::SchemaUpgradeNeeded {
                        found,
                        supported: schema::SCHEMA_VERSION,
                    });
                }
                // Versions 6 and 7 added column families, which the open has just created
                // (empty); version 7's key index is filled from the state, version 8 rekeys the
                // accumulator, then the version is rewritten. Each step is idempotent, so a crash
                // before the version's write repeats them.
                if found < 7 {
                    self.fill_state_keys()?;
                }
                self.rekey_accumulator()?;
                self.db
                    .put_cf_opt(
                        meta,
                        schema::META_SCHEMA_VERSION,
                        schema::SCHEMA_VERSION.to_be_bytes(),
                        &sync_write(),
                    )
                    .map_err(StoreError::db("upgrade schema version"))
            }
            None if read_only => Err(StoreError::MissingSchemaVersion),
            None => {
                // Also reached if a crash hit between creating the database and this write: the
                // store is still empty then, so writing the version is right.
                if !self.is_cf_empty(schema::CF_BLOCKS)? || !self.is_cf_empty(schema::CF_META)? {
                    return Err(StoreError::MissingSchemaVersion);
                }
                self.db
                    .put_cf_opt(
                        meta,
                        schema::META_SCHEMA_VERSION,
                        schema::SCHEMA_VERSION.to_be_bytes(),
                        &sync_write(),
                    )
                    .map_err(StoreError::db("write schema version"))
            }
        }
    }

    /// Moves every accumulator node from its version-7 key ([`schema::legacy_node_key`]) to its
    /// number in freezing order ([`schema::accumulator_key`]); each batch puts the new keys and
    /// deletes the old ones. Keys already moved (8 bytes) are skipped, so a crash between
    /// batches only leaves the rest for the next open.
    fn rekey_accumulator(&self) -> Result<(), StoreError> {
        let cf = self.cf(schema::CF_ACCUMULATOR)?;
        self.upgrade_in_batches(
            schema::CF_ACCUMULATOR,
            "rekey the accumulator",
            |batch, key, value| {
                if schema::decode_accumulator_key(key).is_some() {
                    return Ok(());
                }
                let pos =
                    schema::decode_legacy_node_key(key).ok_or_else(|| StoreError::Corrupt {
                        cf: schema::CF_ACCUMULATOR,
                        key: hex::encode(key),
                        reason: "neither a version-7 nor a version-8 node key".into(),
                    })?;
                batch.put_cf(cf, schema::accumulator_key(pos), value);
                batch.delete_cf(cf, key);
                Ok(())
            },
        )
    }

    /// Writes [`schema::CF_STATE_KEYS`] for every key of the current state.
    fn fill_state_keys(&self) -> Result<(), StoreError> {
        let keys_cf = self.cf(schema::CF_STATE_KEYS)?;
        self.upgrade_in_batches(
            schema::CF_STATE,
            "fill the state key index",
            |batch, key, _| {
                batch.put_cf(keys_cf, crate::smt::key_hash(key).as_bytes(), key);
                Ok(())
            },
        )
    }

    /// A schema upgrade's pass over every record of `source`: `add` puts what each record needs
    /// into the batch, which is written (synced) every [`UPGRADE_BATCH_RECORDS`] records, so
    /// memory stays bounded however large the store.
    fn upgrade_in_batches(
        &self,
        source: &'static str,
        op: &'static str,
        mut add: impl FnMut(&mut rocksdb::WriteBatch, &[u8], &[u8]) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let mut batch = rocksdb::WriteBatch::default();
        let mut in_batch = 0;
        for entry in self
            .db
            .iterator_cf(self.cf(source)?, rocksdb::IteratorMode::Start)
        {
            let (key, value) = entry.map_err(StoreError::db(op))?;
            add(&mut batch, &key, &value)?;
            in_batch += 1;
            if in_batch == UPGRADE_BATCH_RECORDS {
                self.db
                    .write_opt(std::mem::take(&mut batch), &sync_write())
                    .map_err(StoreError::db(op))?;
                in_batch = 0;
            }
        }
        self.db
            .write_opt(batch, &sync_write())
            .map_err(StoreError::db(op))
    }

    fn is_cf_empty(&self, name: &'static str) -> Result<bool, StoreError> {
        let mut it = self
            .db
            .iterator_cf(self.cf(name)?, rocksdb::IteratorMode::Start);
        match it.next() {
            None => Ok(true),
            Some(Ok(_)) => Ok(false),
            Some(Err(e)) => Err(StoreError::Db {
                op: "iterate",
                source: e,
            }),
        }
    }

    /// The store's column families this open has. A read-only open of an older store lacks
    /// the newer families: there is nothing to count there.
    pub(super) fn open_families(&self) -> impl Iterator<Item = &ColumnFamily> {
        schema::COLUMN_FAMILIES
            .iter()
            .filter_map(|name| self.db.cf_handle(name))
    }

    /// RocksDB's integer `property` of `cf`; 0 where RocksDB has none.
    pub(super) fn int_property(
        &self,
        cf: &ColumnFamily,
        property: &'static str,
        op: &'static str,
    ) -> Result<u64, StoreError> {
        self.db
            .property_int_value_cf(cf, property)
            .map(|v| v.unwrap_or(0))
            .map_err(StoreError::db(op))
    }

    fn cf(&self, name: &'static str) -> Result<&ColumnFamily, StoreError> {
        self.db
            .cf_handle(name)
            .ok_or(StoreError::MissingColumnFamily(name))
    }

    fn state(&self) -> ChainState {
        *self.state.read().unwrap_or_else(|e| e.into_inner())
    }
}

/// Records a schema upgrade reads before it writes what it has (see `upgrade_in_batches`).
const UPGRADE_BATCH_RECORDS: usize = 10_000;

/// One block cache for every column family, holding index and filter blocks too.
const BLOCK_CACHE_BYTES: usize = 64 << 20;
/// All column families' memtables together.
const WRITE_BUFFERS_BYTES: usize = 64 << 20;
/// About 1 % false positives.
const BLOOM_BITS_PER_KEY: f64 = 10.0;
/// Size of an index or filter partition.
const METADATA_BLOCK_BYTES: usize = 4 << 10;

/// Bounds RocksDB's memory, and returns the options every column family opens with (see
/// [`cf_options`]). With defaults, each of the store's column families gets its own block cache
/// and keeps index and filter blocks outside any cache, growing with the data: a validator's
/// memory rose without levelling off over a 10-minute load run (28 MiB to 830 MiB).
fn bounded_memory(db_opts: &mut Options) -> FamilyOptions {
    let cache = rocksdb::Cache::new_lru_cache(BLOCK_CACHE_BYTES);
    db_opts.set_db_write_buffer_size(WRITE_BUFFERS_BYTES);
    db_opts.set_block_based_table_factory(&table_options(&cache, false));
    let mut plain = Options::default();
    plain.set_block_based_table_factory(&table_options(&cache, false));
    let mut filtered = Options::default();
    filtered.set_block_based_table_factory(&table_options(&cache, true));
    FamilyOptions { plain, filtered }
}

/// How much a flush or compaction writes before RocksDB asks the kernel to write it back.
const BACKGROUND_BYTES_PER_SYNC: u64 = 1 << 20;

/// At most this many bytes a second of flush and compaction writes. At 10,000 tx/s a validator
/// flushes about 11 MB/s and compacts about 7 MB/s, on average; the limit only spreads the bursts.
const BACKGROUND_WRITE_BYTES_PER_SEC: i64 = 32 << 20;
/// How often the limiter hands out its bytes (RocksDB's default).
const RATE_LIMIT_REFILL_US: i64 = 100_000;
/// A compaction's request goes before a waiting flush's once in this many (RocksDB's default).
const RATE_LIMIT_FAIRNESS: i32 = 10;

/// Flushes and compactions write their files back to disk as they go rather than in one burst
/// when a file is closed, and no faster than [`BACKGROUND_WRITE_BYTES_PER_SEC`]. The state
/// tree's nodes are keyed by hash, so every compaction into the last level rewrites most of it
/// (170 MB per validator a minute into a 10,000 tx/s load), and the validators, which commit the
/// same blocks, compact at the same moment: the commits' WAL fsyncs and the engines' threads
/// queued behind them, and the network committed a sixth to a third of its load for a second or
/// two. Measured (BENCHMARKS.md, twenty-third pass, 60 s at 10,000 tx/s): p99 submit-to-commit
/// 1,315 and 1,479 ms without the limit, 735 and 759 ms with it. (Writing back as they go took
/// an earlier p99 from 3.7 s to 2.8 s; a limit did not help further then, at 6,150 tx/s.)
fn smooth_background_writes(db_opts: &mut Options) {
    db_opts.set_bytes_per_sync(BACKGROUND_BYTES_PER_SYNC);
    db_opts.set_ratelimiter(
        BACKGROUND_WRITE_BYTES_PER_SEC,
        RATE_LIMIT_REFILL_US,
        RATE_LIMIT_FAIRNESS,
    );
}

/// Column family options, without and with bloom filters, over one block cache.
struct FamilyOptions {
    plain: Options,
    filtered: Options,
}

/// How each table file is read. Index and filter blocks live in the shared cache, and they are
/// partitioned: a point read loads one small partition instead of the whole file's index or
/// filter, which grows with the file (megabytes for the larger files). Unpartitioned, they no
/// longer fit the cache once the ledger held a few million transactions, and every read
/// reloaded and checksummed megabytes: after 6 minutes at 4,300 tx/s, reading the transaction
/// index took half of a validator's CPU and the network fell behind its load.
fn table_options(cache: &rocksdb::Cache, bloom_filter: bool) -> rocksdb::BlockBasedOptions {
    let mut table = rocksdb::BlockBasedOptions::default();
    table.set_block_cache(cache);
    table.set_cache_index_and_filter_blocks(true);
    table.set_pin_l0_filter_and_index_blocks_in_cache(true);
    table.set_index_type(rocksdb::BlockBasedIndexType::TwoLevelIndexSearch);
    table.set_pin_top_level_index_and_filter(true);
    table.set_metadata_block_size(METADATA_BLOCK_BYTES);
    if bloom_filter {
        table.set_bloom_filter(BLOOM_BITS_PER_KEY, false);
        table.set_whole_key_filtering(true);
        table.set_partition_filters(true);
    }
    table
}

/// The options of column family `name`. Bloom filters only where reads miss: "is this
/// transaction already committed?" (the transaction index: clients looking up pending
/// transactions, replays, failed inclusions), and accounts and items that do not exist yet (the
/// state). The families read by position or by known hash (blocks, receipts, tree nodes) would
/// only pay for filters in memory and compaction. No family has a memtable filter: adding to
/// one costs a cache miss per write (15 % of a block's memtable inserts when every family had
/// one), and since admission stopped asking the index about every transaction the index's
/// filter no longer paid for itself.
fn cf_options(name: &str, families: &FamilyOptions) -> Options {
    let mut options = match name {
        schema::CF_TX_INDEX | schema::CF_STATE => families.filtered.clone(),
        _ => families.plain.clone(),
    };
    if HASH_KEYED_FAMILIES.contains(&name) {
        options.set_compaction_style(DBCompactionStyle::Universal);
    }
    options
}

/// The families keyed by a hash, which grow with every block and never delete: the transaction
/// index and the state tree's nodes. Each new file's keys fall all over the family's range, so
/// leveled compaction rewrites most of the level below at every step, and more the larger the
/// family grows: over 5 minutes at saturation a validator's compaction CPU grew fivefold and the
/// network's throughput fell by a fifth. Universal compaction merges whole sorted runs of
/// similar size instead, writing each byte a few times rather than once per level. Measured
/// (BENCHMARKS.md, twenty-fifth pass, two pairs of 300 s at saturation, all four validators):
/// these two families' compaction output 14.2 and 14.3 GB leveled, 8.0 and 8.8 GB universal;
/// all compaction CPU 81 and 78 s against 58 and 60 s; throughput 1 and 5 % higher. At 10,000
/// tx/s (three pairs of 60 s) the p99 fell from 527-605 ms to 381-411 ms. The price is disk: a
/// merge of a whole family needs its size again for a moment
/// (`CompactionBacklog::largest_family_bytes`, OPERATIONS.md's "disk headroom" alert). RocksDB
/// opens a store written with leveled compaction as it is (each level is one sorted run); an
/// older binary opens a universal one.
const HASH_KEYED_FAMILIES: &[&str] = &[schema::CF_TX_INDEX, schema::CF_SMT_NODES];

/// The options of every write that must be on disk when it returns. The others (prunes, the
/// verified-up-to marker, ledger certificates, [`Durability::WithNextSync`] commits) are ones
/// whose loss costs only redoing them; the next synced write makes them durable too, since
/// RocksDB's write-ahead log is one sequence for every column family.
fn sync_write() -> WriteOptions {
    let mut w = WriteOptions::default();
    w.set_sync(true);
    w
}
