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
    /// Reads RocksDB's memory properties. The block cache is shared by every column family
    /// (the default one included), so it is read once.
    pub fn memory(&self) -> Result<StoreMemory, StoreError> {
        let read = |cf: Option<&rocksdb::ColumnFamily>, property: &'static str| {
            let value = match cf {
                Some(cf) => self.db.property_int_value_cf(cf, property),
                None => self.db.property_int_value(property),
            };
            value
                .map(|v| v.unwrap_or(0))
                .map_err(StoreError::db("read a memory property"))
        };
        let mut memory = StoreMemory {
            block_cache: read(None, "rocksdb.block-cache-usage")?,
            block_cache_pinned: read(None, "rocksdb.block-cache-pinned-usage")?,
            ..StoreMemory::default()
        };
        // A read-only open of an older store lacks the newer families: nothing to count there.
        for cf in schema::COLUMN_FAMILIES
            .iter()
            .filter_map(|name| self.db.cf_handle(name))
        {
            memory.memtables += read(Some(cf), "rocksdb.cur-size-all-mem-tables")?;
            memory.table_readers += read(Some(cf), "rocksdb.estimate-table-readers-mem")?;
        }
        Ok(memory)
    }
}
