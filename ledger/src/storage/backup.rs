//! A consistent copy of a store while it runs: a RocksDB checkpoint (`waybill backup`).

use std::path::Path;

use super::{Head, Store, StoreError};

impl Store {
    /// Writes a checkpoint of the whole store into `dest`, which must not exist yet, and
    /// returns the head it holds. Table files are hard-linked when `dest` is on the same
    /// filesystem (copied otherwise), so a backup of a large store is quick and small.
    ///
    /// The checkpoint is a point-in-time copy of every column family. It is taken under the
    /// commit lock, so no commit lands half-way through and the head returned is exactly the one
    /// in the copy; commits wait for it (the memtable flush and the links, milliseconds).
    pub fn checkpoint(&self, dest: &Path) -> Result<Option<Head>, StoreError> {
        let _guard = self.commit_lock.lock().unwrap_or_else(|e| e.into_inner());
        let db_err = |op| move |source| StoreError::Db { op, source };
        let checkpoint =
            rocksdb::checkpoint::Checkpoint::new(&self.db).map_err(db_err("checkpoint"))?;
        checkpoint
            .create_checkpoint(dest)
            .map_err(db_err("create checkpoint"))?;
        Ok(self.head())
    }
}

#[cfg(test)]
mod tests {
    use crate::storage::tests::{block, chain, receipts};
    use crate::storage::Store;

    /// A checkpoint opens as a store with the same genesis and head, and later commits to the
    /// original do not reach it.
    #[test]
    fn a_checkpoint_is_a_store_frozen_at_its_head() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("live")).unwrap();
        let blocks = chain(&store, 3);
        let head = store.head().unwrap();
        let copy = dir.path().join("copy");
        assert_eq!(store.checkpoint(&copy).unwrap(), Some(head));
        // A second checkpoint into the same place is refused, never merged into it.
        assert!(store.checkpoint(&copy).is_err());
        let next = block(4, blocks.last().unwrap().hash(), vec![]);
        let first = store.accumulator_size();
        store
            .commit_block(&next, &[4; 5], &receipts(&next, first))
            .unwrap();
        assert_eq!(store.head().unwrap().height, 4);
        drop(store);
        let restored = Store::open(&copy).unwrap();
        assert_eq!(restored.head(), Some(head));
        assert_eq!(
            restored.genesis_hash(),
            Some(crate::storage::tests::GENESIS)
        );
    }
}
