//! The consensus core's durable records and the application state's reads. The consensus bytes
//! are opaque here (the node encodes them); what the store guarantees is that a
//! [`Store::persist_consensus`] call is one fsynced batch, so a vote that depends on it can be sent
//! once it returns.

use rocksdb::{Direction, IteratorMode, WriteBatch};

use super::schema::{self, CONSENSUS_BLOCK_PREFIX, CONSENSUS_SAFETY};
use super::{sync_write, Store, StoreError};
use crate::hash::Hash;

use crate::store_api::{ConsensusRecords, ConsensusWrite, MAX_CONSENSUS_RECORD_BYTES};

impl Store {
    /// Writes `writes` in one batch with fsync. Returns once they are durable.
    pub fn persist_consensus(&self, writes: &[ConsensusWrite]) -> Result<(), StoreError> {
        if writes.is_empty() {
            return Ok(());
        }
        let cf = self.cf(schema::CF_CONSENSUS)?;
        // Room for every record up front: a proposal's block is megabytes, and RocksDB's buffer
        // grown by doubling from empty copied it several times (and faulted in fresh pages each
        // time, visible in the profile under load). 64 bytes per record cover key and framing.
        let bytes: usize = writes
            .iter()
            .map(|w| match w {
                ConsensusWrite::Safety(b) | ConsensusWrite::Block { bytes: b, .. } => b.len() + 64,
            })
            .sum();
        let mut batch = WriteBatch::with_capacity_bytes(bytes);
        for w in writes {
            match w {
                ConsensusWrite::Safety(bytes) => {
                    check_len(bytes.len())?;
                    batch.put_cf(cf, CONSENSUS_SAFETY, bytes);
                }
                ConsensusWrite::Block { height, id, bytes } => {
                    check_len(bytes.len())?;
                    batch.put_cf(cf, schema::consensus_block_key(*height, id), bytes);
                }
            }
        }
        self.db
            .write_opt(batch, &sync_write())
            .map_err(StoreError::db("persist consensus"))
    }

    /// Everything [`Store::persist_consensus`] made durable and pruning left.
    pub fn load_consensus(&self) -> Result<ConsensusRecords, StoreError> {
        let cf = self.cf(schema::CF_CONSENSUS)?;
        let safety = self
            .db
            .get_cf(cf, CONSENSUS_SAFETY)
            .map_err(StoreError::db("read safety data"))?;
        let mut blocks = Vec::new();
        let iter = self.db.iterator_cf(
            cf,
            IteratorMode::From(&[CONSENSUS_BLOCK_PREFIX], Direction::Forward),
        );
        for item in iter {
            let (key, value) = item.map_err(StoreError::db("read consensus blocks"))?;
            if key.first() != Some(&CONSENSUS_BLOCK_PREFIX) {
                break;
            }
            blocks.push(value.to_vec());
        }
        Ok(ConsensusRecords { safety, blocks })
    }

    /// Forgets consensus blocks below `height` (they are committed, or on a fork that can no
    /// longer commit). The safety data is never pruned.
    pub fn prune_consensus_blocks(&self, height: u64) -> Result<(), StoreError> {
        let mut pruned_below = self
            .consensus_pruned_below
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let Some((from, to)) = prune_range(*pruned_below, height) else {
            return Ok(());
        };
        *pruned_below = to;
        let cf = self.cf(schema::CF_CONSENSUS)?;
        let from = schema::consensus_block_key(from, &Hash::ZERO);
        let to = schema::consensus_block_key(to, &Hash::ZERO);
        let mut batch = WriteBatch::default();
        batch.delete_range_cf(cf, from, to);
        // Not synced: losing a prune only leaves extra blocks that recovery ignores.
        self.db
            .write(batch)
            .map_err(StoreError::db("prune consensus blocks"))
    }

    /// Deletes every consensus record except the safety data: what `waybill reset` does to a
    /// validator that must never sign against its own past votes.
    pub fn clear_consensus_blocks(&self) -> Result<(), StoreError> {
        let cf = self.cf(schema::CF_CONSENSUS)?;
        let mut batch = WriteBatch::default();
        batch.delete_range_cf(cf, [CONSENSUS_BLOCK_PREFIX], [CONSENSUS_BLOCK_PREFIX + 1]);
        self.db
            .write_opt(batch, &sync_write())
            .map_err(StoreError::db("clear consensus blocks"))
    }

    /// The committed application state's value at `key` (as of the head).
    pub fn state_get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.db
            .get_cf(self.cf(schema::CF_STATE)?, key)
            .map_err(StoreError::db("read state"))
    }
}

/// Every this many heights a prune starts from height 0 again (see [`prune_range`]).
pub const PRUNE_SWEEP_EVERY: u64 = 4_096;

/// The heights `[from, to)` a prune up to `height` deletes, where every height below
/// `pruned_below` went in earlier prunes since the store opened; `None`: nothing to delete.
///
/// Why not `[0, height)` each time, as before: a node prunes after every commit, and range
/// tombstones that all start at 0 nest. RocksDB fragments the tombstones of a memtable when it
/// flushes it, and nested ones fragment quadratically: at 1,000 tx/s (about 200 blocks a
/// second) the consensus family's memtable gathered over 4,000 of them in 20 s, and its flush
/// took 10 s and 5 s of CPU at each validator at once, with gigabytes of memory; the network's
/// latency went from tens of milliseconds to seconds (BENCHMARKS.md, fifteenth pass). Ranges
/// that continue one another fragment in linear time.
///
/// A block written below an earlier prune's end after that prune (one on a fork that can no
/// longer commit) would then outlive every later prune; the first prune after an open, and one
/// in every [`PRUNE_SWEEP_EVERY`] heights, starts from 0 again and takes such strays too.
pub(super) fn prune_range(pruned_below: u64, height: u64) -> Option<(u64, u64)> {
    if height <= pruned_below {
        return None;
    }
    let sweep = pruned_below == 0 || height / PRUNE_SWEEP_EVERY != pruned_below / PRUNE_SWEEP_EVERY;
    Some((if sweep { 0 } else { pruned_below }, height))
}

fn check_len(len: usize) -> Result<(), StoreError> {
    if len > MAX_CONSENSUS_RECORD_BYTES {
        return Err(StoreError::ConsensusRecordTooLarge {
            len,
            max: MAX_CONSENSUS_RECORD_BYTES,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consensus_records_round_trip_and_prune_by_height() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.load_consensus().unwrap(), ConsensusRecords::default());
        let block = |h: u64, b: u8| ConsensusWrite::Block {
            height: h,
            id: Hash([b; 32]),
            bytes: vec![b; 3],
        };
        store
            .persist_consensus(&[
                ConsensusWrite::Safety(vec![1]),
                block(5, 5),
                block(3, 3),
                block(7, 7),
            ])
            .unwrap();
        store
            .persist_consensus(&[ConsensusWrite::Safety(vec![2])])
            .unwrap();
        let got = store.load_consensus().unwrap();
        assert_eq!(got.safety, Some(vec![2]));
        assert_eq!(got.blocks, vec![vec![3; 3], vec![5; 3], vec![7; 3]]);

        store.prune_consensus_blocks(5).unwrap();
        assert_eq!(
            store.load_consensus().unwrap().blocks,
            vec![vec![5; 3], vec![7; 3]]
        );
        store.clear_consensus_blocks().unwrap();
        let got = store.load_consensus().unwrap();
        assert_eq!(got.safety, Some(vec![2]), "reset keeps the safety data");
        assert!(got.blocks.is_empty());
        drop(store);
        let reopened = Store::open(dir.path()).unwrap();
        assert_eq!(reopened.load_consensus().unwrap().safety, Some(vec![2]));
    }

    #[test]
    fn prunes_after_every_commit_continue_one_another_with_a_sweep_from_zero_now_and_then() {
        let mut pruned_below = 0;
        let mut ranges = Vec::new();
        // A prune after each commit, sometimes of several blocks, sometimes asked again.
        for height in (1..20_000u64).filter(|h| h % 7 != 3) {
            for _ in 0..(1 + height % 2) {
                if let Some((from, to)) = prune_range(pruned_below, height) {
                    assert_eq!(to, height, "a prune always reaches the height asked");
                    assert!(from < to);
                    pruned_below = to;
                    ranges.push((from, to));
                }
            }
        }
        let sweeps = ranges.iter().filter(|(from, _)| *from == 0).count() as u64;
        assert_eq!(ranges[0].0, 0, "the first prune after an open starts at 0");
        assert_eq!(sweeps, 1 + 20_000 / PRUNE_SWEEP_EVERY, "{ranges:?}");
        for pair in ranges.windows(2) {
            let ((_, end), (from, _)) = (pair[0], pair[1]);
            assert!(
                from == end || from == 0,
                "a prune neither continues the last one nor sweeps: {pair:?}"
            );
        }
    }

    #[test]
    fn a_block_written_below_an_earlier_prune_goes_in_the_next_sweep() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let block = |h: u64| ConsensusWrite::Block {
            height: h,
            id: Hash([h as u8; 32]),
            bytes: h.to_le_bytes().to_vec(),
        };
        store.persist_consensus(&[block(10), block(20)]).unwrap();
        store.prune_consensus_blocks(15).unwrap();
        assert_eq!(store.load_consensus().unwrap().blocks.len(), 1);
        // A stray below the last prune's end, then prunes up to the next sweep.
        store.persist_consensus(&[block(12)]).unwrap();
        for h in 16..PRUNE_SWEEP_EVERY {
            store.prune_consensus_blocks(h).unwrap();
        }
        assert_eq!(
            store.load_consensus().unwrap().blocks,
            vec![12u64.to_le_bytes().to_vec()],
            "20 is pruned, the stray is not yet"
        );
        store.prune_consensus_blocks(PRUNE_SWEEP_EVERY).unwrap();
        assert!(store.load_consensus().unwrap().blocks.is_empty());
    }

    #[test]
    fn oversized_consensus_record_is_refused_and_nothing_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let err = store
            .persist_consensus(&[
                ConsensusWrite::Safety(vec![1]),
                ConsensusWrite::Safety(vec![0; MAX_CONSENSUS_RECORD_BYTES + 1]),
            ])
            .unwrap_err();
        assert!(matches!(err, StoreError::ConsensusRecordTooLarge { .. }));
        assert_eq!(store.load_consensus().unwrap().safety, None);
    }
}
