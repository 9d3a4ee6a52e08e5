//! What RocksDB holds in memory, for the node's metrics: an operator (and the load benchmark)
//! can tell the store's share of a validator's resident memory from the rest.

use super::{schema, Store, StoreError};

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
        let read = |cf: &rocksdb::ColumnFamily, property: &'static str| {
            self.db
                .property_int_value_cf(cf, property)
                .map(|v| v.unwrap_or(0))
                .map_err(StoreError::db("read a memory property"))
        };
        // A read-only open of an older store lacks the newer families: nothing to count there.
        let families: Vec<_> = schema::COLUMN_FAMILIES
            .iter()
            .filter_map(|name| self.db.cf_handle(name))
            .collect();
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
