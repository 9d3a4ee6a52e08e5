//! The verified-up-to marker: the height, block hash and accumulator root up to which every record
//! of the store has been checked, so that an open checks only the blocks after it and restarting
//! costs the same at a million blocks as at a thousand. `waybill audit ledger` still checks
//! everything.
//!
//! A record below the marker was checked either by the commit that wrote it (every check
//! [`Store::commit_block`] makes before writing: the block's place in the chain, its receipts,
//! the accumulator nodes and root computed from them), or by an open's chain check. The marker
//! moves to the head after each commit, in a write of its own, not in the commit's batch: after a
//! crash, the blocks committed since the last marker write, the ones nearest the crash, are
//! checked again on the next open. The marker moves only while everything up to the head is
//! known to be checked (after a full or a since-the-marker open, not after a tail or skipped
//! one).
//!
//! The marker is in the same database as the blocks and is written after them, so a lost tail of
//! the write-ahead log takes the marker back with the head: a marker beyond the head, or one whose
//! block or accumulator root differs from the store's, is reported, never trusted.

use rocksdb::WriteOptions;

use super::schema;
use super::{Store, StoreError};
use crate::accumulator as acc;
use crate::hash::Hash;

/// Everything up to and including `height` was checked; the store then held these records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VerifiedMarker {
    pub height: u64,
    pub block_hash: Hash,
    /// The accumulator root after block `height` (the block records it too).
    pub accumulator_root: Hash,
}

/// Where a since-the-marker check starts: the marker's block, as the store holds it now.
pub(super) struct MarkerAnchor {
    pub block_hash: Hash,
    pub accumulator_size: u64,
    pub accumulator_root: Hash,
}

impl Store {
    /// The stored marker, if this store has one (stores from before it existed do not).
    pub fn verified_marker(&self) -> Result<Option<VerifiedMarker>, StoreError> {
        let Some(v) = self
            .db
            .get_cf(self.cf(schema::CF_META)?, schema::META_VERIFIED)
            .map_err(StoreError::db("read verified marker"))?
        else {
            return Ok(None);
        };
        let (height, block_hash, accumulator_root) =
            schema::decode_marker(&v).ok_or_else(|| StoreError::Corrupt {
                cf: schema::CF_META,
                key: String::from_utf8_lossy(schema::META_VERIFIED).into_owned(),
                reason: format!(
                    "value of {} bytes, expected {}",
                    v.len(),
                    schema::MARKER_LEN
                ),
            })?;
        Ok(Some(VerifiedMarker {
            height,
            block_hash,
            accumulator_root,
        }))
    }

    /// Records that everything up to `marker` is checked. Not fsynced: losing it only means the
    /// next open checks a few more blocks; the next fsynced commit makes it durable anyway (it
    /// is in the same write-ahead log, after the commit it follows).
    pub(super) fn write_marker(&self, marker: &VerifiedMarker) -> Result<(), StoreError> {
        self.db
            .put_cf_opt(
                self.cf(schema::CF_META)?,
                schema::META_VERIFIED,
                schema::marker_value(marker.height, &marker.block_hash, &marker.accumulator_root),
                &WriteOptions::default(),
            )
            .map_err(StoreError::db("write verified marker"))
    }

    /// The cheap consistency check of `marker` against a store whose head is `head_height`: the
    /// marker is not beyond the head, its block is the one stored at its height, and the block's
    /// recorded accumulator root and the one the stored nodes give are the marker's. A few reads,
    /// whatever the height.
    pub(super) fn check_marker(
        &self,
        marker: &VerifiedMarker,
        head_height: Option<u64>,
    ) -> Result<MarkerAnchor, StoreError> {
        let head = match head_height {
            Some(h) if marker.height <= h => h,
            _ => {
                return Err(StoreError::MarkerAheadOfHead {
                    marker: marker.height,
                    head: head_height,
                })
            }
        };
        let stored = self
            .block_by_height(marker.height)?
            .ok_or(StoreError::MissingBlock {
                height: marker.height,
                head,
            })?;
        let block_hash = stored.block.hash();
        if block_hash != marker.block_hash {
            return Err(StoreError::MarkerMismatch {
                height: marker.height,
                what: "block hash",
                marker: marker.block_hash,
                found: block_hash,
            });
        }
        if stored.accumulator_root_after != marker.accumulator_root {
            return Err(StoreError::MarkerMismatch {
                height: marker.height,
                what: "accumulator root",
                marker: marker.accumulator_root,
                found: stored.accumulator_root_after,
            });
        }
        let size = stored.accumulator_size_after;
        let computed = acc::root_at(&self.hasher, self, size)?;
        if computed != marker.accumulator_root {
            return Err(StoreError::AccumulatorRootMismatch {
                height: marker.height,
                size,
                recorded: marker.accumulator_root,
                computed,
            });
        }
        Ok(MarkerAnchor {
            block_hash,
            accumulator_size: size,
            accumulator_root: computed,
        })
    }
}
