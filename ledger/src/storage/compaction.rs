//! Whether RocksDB's compactions keep up with the commits, for the node's metrics. The store
//! holds flushes and compactions to a fixed rate (`BACKGROUND_WRITE_BYTES_PER_SEC`), so a load
//! that needs more leaves level-0 files piling up; at RocksDB's slowdown trigger (20 level-0
//! files in a family) every commit is slowed, and at its stop trigger they wait. These figures
//! show it coming, before the node falls behind its peers, and how much disk the largest merge
//! needs.

use super::{Store, StoreError};

/// RocksDB's compaction backlog over all column families.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CompactionBacklog {
    /// The most level-0 files of any family: each flush adds one, a compaction into the next
    /// level removes them. A few is normal; RocksDB slows writes at 20.
    pub level0_files_max: u64,
    /// RocksDB's estimate of the bytes compactions must rewrite to bring every level back
    /// under its target size, summed over the families.
    pub pending_compaction_bytes: u64,
    /// The rate RocksDB holds writes to while it slows them; 0 when it does not.
    pub delayed_write_rate: u64,
    /// Whether RocksDB has stopped writes until compactions catch up.
    pub writes_stopped: bool,
    /// Bytes of the live table files, all families: the store's size on disk, less the
    /// write-ahead log.
    pub table_bytes: u64,
    /// Bytes of the largest family's live table files. The hash-keyed families compact by
    /// merging whole sorted runs, and a merge of all of one writes its new copy before deleting
    /// the old: the disk needs this much free on top of the store.
    pub largest_family_bytes: u64,
}

impl Store {
    /// Reads RocksDB's compaction properties.
    pub fn compaction_backlog(&self) -> Result<CompactionBacklog, StoreError> {
        let read = |cf, property| self.int_property(cf, property, "read a compaction property");
        let mut backlog = CompactionBacklog::default();
        for cf in self.open_families() {
            backlog.level0_files_max = backlog
                .level0_files_max
                .max(read(cf, "rocksdb.num-files-at-level0")?);
            backlog.pending_compaction_bytes = backlog
                .pending_compaction_bytes
                .saturating_add(read(cf, "rocksdb.estimate-pending-compaction-bytes")?);
            let family_bytes = read(cf, "rocksdb.live-sst-files-size")?;
            backlog.table_bytes = backlog.table_bytes.saturating_add(family_bytes);
            backlog.largest_family_bytes = backlog.largest_family_bytes.max(family_bytes);
        }
        // Write stalls are the whole database's, whichever family caused them.
        let db_wide = |property: &'static str| {
            self.db
                .property_int_value(property)
                .map(|v| v.unwrap_or(0))
                .map_err(StoreError::db("read a compaction property"))
        };
        backlog.delayed_write_rate = db_wide("rocksdb.actual-delayed-write-rate")?;
        backlog.writes_stopped = db_wide("rocksdb.is-write-stopped")? != 0;
        Ok(backlog)
    }
}
