//! What RocksDB holds in memory, for the node's metrics: an operator (and the load benchmark)
//! can tell the store's share of a validator's resident memory from the rest.

use super::{Store, StoreError};

/// RocksDB's memory, in bytes, over all column families.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StoreMemory {
    /// The shared block cache's contents (data, index and filter blocks); at most
    /// `BLOCK_CACHE_BYTES` unless pinned blocks push it over.
    pub block_cache: u64,
    /// The part of `block_cache` that is pinned (top-level index and filter partitions, level-0
    /// files' index and filter blocks).
    pub block_cache_pinned: u64,
    /// Active and immutable memtables; bounded by `WRITE_BUFFERS_BYTES`.
    pub memtables: u64,
    /// Open table files' readers outside the block cache.
    pub table_readers: u64,
}

impl Store {
    /// Reads RocksDB's memory properties. The block cache is shared by the store's column
    /// families, so it is read from one of them (not from `default`, which the store does not
    /// use and RocksDB opens with a cache of its own).
    pub fn memory(&self) -> Result<StoreMemory, StoreError> {
        let read = |cf, property| self.int_property(cf, property, "read a memory property");
        let families: Vec<_> = self.open_families().collect();
        let mut memory = StoreMemory::default();
        if let Some(first) = families.first() {
            memory.block_cache = read(first, "rocksdb.block-cache-usage")?;
            memory.block_cache_pinned = read(first, "rocksdb.block-cache-pinned-usage")?;
        }
        for cf in families {
            memory.memtables += read(cf, "rocksdb.cur-size-all-mem-tables")?;
            memory.table_readers += read(cf, "rocksdb.estimate-table-readers-mem")?;
        }
        Ok(memory)
    }
}
