//! The query indexes execution's events feed: an item's history and events by organization.
//! Derived data, written in the block's own commit batch so they never disagree with the head;
//! they can be rebuilt by re-executing the ledger.

use rocksdb::{Direction, IteratorMode, WriteBatch};

use super::schema;
use super::{Store, StoreError};
use crate::block::Block;
use crate::encoding::{from_canonical, to_canonical};
use crate::epcis::EventHashId;
use crate::supply::events::EventRecord;
use crate::supply::history::HistoryEntry;

/// Most entries one history query returns.
pub const MAX_HISTORY_PAGE: usize = 1_000;
/// Largest encoded entry the read path accepts (items and roles are bounded by the payload limits).
const MAX_ENTRY_BYTES: usize = 64 * 1024;

impl Store {
    /// Adds the index entries of `block`'s events to its commit batch.
    pub(super) fn index_events(
        &self,
        batch: &mut WriteBatch,
        block: &Block,
        first_ledger_index: u64,
        events: &[EventRecord],
    ) -> Result<(), StoreError> {
        for entry in index_entries(block, first_ledger_index, events)? {
            batch.put_cf(self.cf(entry.cf)?, entry.key, entry.value);
        }
        Ok(())
    }

    /// Events that touched `item_id`, oldest first, starting at ledger index `from`, at most
    /// `limit` (capped at [`MAX_HISTORY_PAGE`]). Page on with `from = last.ledger_index + 1`.
    pub fn item_history(
        &self,
        item_id: &str,
        from: u64,
        limit: usize,
    ) -> Result<Vec<HistoryEntry>, StoreError> {
        self.index_range(schema::CF_ITEM_HISTORY, item_id, from, limit)
    }

    /// Events that concerned organization `org`, oldest first; paged like [`Store::item_history`].
    pub fn organization_events(
        &self,
        org: &str,
        from: u64,
        limit: usize,
    ) -> Result<Vec<HistoryEntry>, StoreError> {
        self.index_range(schema::CF_ORG_EVENTS, org, from, limit)
    }

    /// Captured EPCIS events from ledger index `from` on, oldest first, at most `limit` (capped
    /// at [`MAX_HISTORY_PAGE`]): (ledger index, hash ID).
    pub fn epcis_events(
        &self,
        from: u64,
        limit: usize,
    ) -> Result<Vec<(u64, EventHashId)>, StoreError> {
        let start = schema::u64_key(from);
        let iter = self.db.iterator_cf(
            self.cf(schema::CF_EPCIS_EVENTS)?,
            IteratorMode::From(&start, Direction::Forward),
        );
        let mut out = Vec::new();
        for item in iter {
            if out.len() >= limit.min(MAX_HISTORY_PAGE) {
                break;
            }
            let (key, value) = item.map_err(StoreError::db("iterate epcis events"))?;
            let corrupt = |reason: &str| StoreError::Corrupt {
                cf: schema::CF_EPCIS_EVENTS,
                key: hex::encode(&key),
                reason: reason.to_string(),
            };
            let index = schema::decode_u64(&key).ok_or_else(|| corrupt("key is not 8 bytes"))?;
            let id: [u8; 32] = value
                .as_ref()
                .try_into()
                .map_err(|_| corrupt("value is not 32 bytes"))?;
            out.push((index, EventHashId(id)));
        }
        Ok(out)
    }

    fn index_range(
        &self,
        cf: &'static str,
        id: &str,
        from: u64,
        limit: usize,
    ) -> Result<Vec<HistoryEntry>, StoreError> {
        // No id that long can have been indexed (ids are bounded far below this).
        if id.len() > u8::MAX as usize {
            return Ok(Vec::new());
        }
        let prefix = schema::index_prefix(id);
        let start = schema::index_key(id, from);
        let mut out = Vec::new();
        let iter = self
            .db
            .iterator_cf(self.cf(cf)?, IteratorMode::From(&start, Direction::Forward));
        for item in iter {
            if out.len() >= limit.min(MAX_HISTORY_PAGE) {
                break;
            }
            let (key, value) = item.map_err(StoreError::db("iterate index"))?;
            if !key.starts_with(&prefix) || key.len() != prefix.len() + 8 {
                break;
            }
            let entry: HistoryEntry = from_canonical("history entry", &value, MAX_ENTRY_BYTES)
                .map_err(|e| StoreError::Corrupt {
                    cf,
                    key: hex::encode(&key),
                    reason: e.to_string(),
                })?;
            out.push(entry);
        }
        Ok(out)
    }
}

/// One record of an index column family, as a block's commit writes it.
pub(super) struct IndexEntry {
    pub cf: &'static str,
    pub key: Vec<u8>,
    pub value: Vec<u8>,
}

/// The index records `block`'s events produce: what its commit writes, and what the audit
/// expects to find after re-executing it.
pub(super) fn index_entries(
    block: &Block,
    first_ledger_index: u64,
    events: &[EventRecord],
) -> Result<Vec<IndexEntry>, StoreError> {
    let height = block.header.height;
    let mut out = Vec::new();
    for event in events {
        let tx = block
            .txs
            .get(event.tx_index as usize)
            .ok_or(StoreError::EventOutOfRange {
                height,
                tx_index: event.tx_index,
                txs: block.txs.len(),
            })?;
        let ledger_index = first_ledger_index + u64::from(event.tx_index);
        let tx_hash = tx.hash();
        // One entry per item, carrying every role it played; the same list execution advances
        // each item's certified history head from (`EventRecord::item_ids`).
        for id in event.item_ids() {
            let entry = HistoryEntry::of(event, height, ledger_index, tx_hash, Some(id));
            out.push(IndexEntry {
                cf: schema::CF_ITEM_HISTORY,
                key: schema::index_key(id, ledger_index),
                value: to_canonical(&entry),
            });
        }
        let whole = to_canonical(&HistoryEntry::of(
            event,
            height,
            ledger_index,
            tx_hash,
            None,
        ));
        for org in &event.organizations {
            out.push(IndexEntry {
                cf: schema::CF_ORG_EVENTS,
                key: schema::index_key(org, ledger_index),
                value: whole.clone(),
            });
        }
        if let Some(id) = &event.epcis {
            out.push(IndexEntry {
                cf: schema::CF_EPCIS_EVENTS,
                key: schema::u64_key(ledger_index).to_vec(),
                value: id.0.to_vec(),
            });
        }
    }
    Ok(out)
}
