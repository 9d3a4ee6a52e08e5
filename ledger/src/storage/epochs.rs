//! The chain of epoch changes since genesis, built from the store for auditors (see
//! [`crate::proof::epochs`]): for each epoch that ended, the ledger certificate of its last
//! height and the state proof of the next set under it.
//!
//! The epoch-ending heights are found by searching the state roots: the epoch the state names
//! (`gov/validators`) only grows with the height, so the last height of epoch `e` is found by a
//! binary search over the committed heights, `O(epochs × log(height))` state reads.

use super::{Store, StoreError};
use crate::encoding::from_canonical;
use crate::execute::MAX_STATE_VALUE_BYTES;
use crate::governance::{EpochSet, VALIDATORS_KEY};
use crate::proof::{EpochChange, MAX_EPOCH_CHANGES};

impl Store {
    /// The epoch the state names after `height` (0 where the record is missing: a store
    /// written before governance, whose chain never changed its set).
    fn epoch_at(&self, height: u64) -> Result<(u64, Option<EpochSet>), StoreError> {
        let proof = self.state_proof(VALIDATORS_KEY, Some(height))?;
        match proof.value {
            None => Ok((0, None)),
            Some(bytes) => {
                let set: EpochSet = from_canonical("validator set", &bytes, MAX_STATE_VALUE_BYTES)
                    .map_err(|e| StoreError::Corrupt {
                        cf: super::schema::CF_STATE_VALUES,
                        key: "gov/validators".into(),
                        reason: e.to_string(),
                    })?;
                Ok((set.epoch, Some(set)))
            }
        }
    }

    /// The last height of `epoch` (the block that applied the change to `epoch + 1`), searched
    /// in `low..=head`, with the set the state names after it.
    fn epoch_end(&self, epoch: u64, low: u64, head: u64) -> Result<(u64, EpochSet), StoreError> {
        // The first height whose state names a later epoch is the block that applied the
        // change, which is the last block of `epoch`.
        let (mut lo, mut hi) = (low, head);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.epoch_at(mid)?.0 > epoch {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        let end = lo;
        let (found, set) = self.epoch_at(end)?;
        match set.filter(|_| found == epoch + 1) {
            Some(next) => Ok((end, next)),
            None => Err(StoreError::Corrupt {
                cf: super::schema::CF_STATE_VALUES,
                key: "gov/validators".into(),
                reason: format!(
                    "the state after height {end} names epoch {found}, expected {}",
                    epoch + 1
                ),
            }),
        }
    }

    /// The epoch changes a synced store was installed with, and the lowest height to search
    /// for later ones (its base; 0 and none for a store that starts at genesis): it holds no
    /// state roots below its base.
    fn epochs_before_base(&self) -> Result<(Vec<EpochChange>, u64), StoreError> {
        match self.base_height() {
            None => Ok((Vec::new(), 0)),
            Some(base) => Ok((self.base_epoch_changes()?, base)),
        }
    }

    /// Every epoch change from `from_epoch` on (0: since genesis), oldest first, up to the
    /// head. A change whose height has no stored ledger certificate yet ends the list there
    /// (its certificate is still being gathered).
    pub fn epoch_changes(&self, from_epoch: u64) -> Result<Vec<EpochChange>, StoreError> {
        let head = self.head().ok_or(StoreError::NotInitialized)?.height;
        let (last_epoch, _) = self.epoch_at(head)?;
        let mut changes = Vec::new();
        let (synced, mut low) = self.epochs_before_base()?;
        for epoch in from_epoch..last_epoch {
            if changes.len() >= MAX_EPOCH_CHANGES {
                break;
            }
            if let Some(change) = synced.get(epoch as usize) {
                changes.push(change.clone());
                continue;
            }
            let (end, next) = self.epoch_end(epoch, low, head)?;
            let Some(certificate) = self.ledger_certificate(end)? else {
                break;
            };
            let proof = self.state_proof(VALIDATORS_KEY, Some(end))?;
            changes.push(EpochChange {
                certificate,
                next,
                smt_proof: proof.proof,
            });
            low = end;
        }
        Ok(changes)
    }

    /// The sets that followed genesis's, oldest first, each with the first height it certifies:
    /// the last `max` of them. A node reads them when it starts, so it can still check a
    /// certificate of an epoch it has left (the last certificate of an epoch it passed through
    /// quickly, or before a restart).
    pub fn epoch_starts(&self, max: usize) -> Result<Vec<(u64, EpochSet)>, StoreError> {
        let head = self.head().ok_or(StoreError::NotInitialized)?.height;
        let (last_epoch, _) = self.epoch_at(head)?;
        let first = last_epoch.saturating_sub(max as u64);
        let mut starts = Vec::new();
        let (synced, mut low) = self.epochs_before_base()?;
        for epoch in first..last_epoch {
            if let Some(change) = synced.get(epoch as usize) {
                starts.push((
                    change.certificate.checkpoint.height + 1,
                    change.next.clone(),
                ));
                continue;
            }
            let (end, next) = self.epoch_end(epoch, low, head)?;
            starts.push((end + 1, next));
            low = end;
        }
        Ok(starts)
    }
}
