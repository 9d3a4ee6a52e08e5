//! Building audit proofs from the store, each anchored at a stored ledger certificate: a
//! transaction with its receipt and inclusion proof, an item's state (or absence) at a height, an
//! item's history with an inclusion proof per event, and a consistency proof between two
//! certified heights. `crate::proof` verifies them with no storage.
//!
//! Every proof is built against the certificate's own accumulator size and state root (never the
//! head's, which no certificate may sign yet), so it verifies as built.

use super::{Store, StoreError};
use crate::hash::Hash;
use crate::proof::{
    HistoryItemState, HistoryProof, HistoryProofEntry, ItemStateProof, LedgerCertificate,
    LedgerConsistencyProof, TransactionProof, MAX_HISTORY_ENTRIES,
};
use crate::supply::state::item_key;

impl Store {
    /// The certificate at `height`, or (for `None`) the latest one at or below the head.
    pub fn certificate_for(&self, height: Option<u64>) -> Result<LedgerCertificate, StoreError> {
        let head = self.head().ok_or(StoreError::NotInitialized)?.height;
        match height {
            Some(h) => self.ledger_certificate(h)?.ok_or_else(|| {
                let latest = self
                    .latest_certificate_at_or_below(h)
                    .ok()
                    .flatten()
                    .map(|c| c.checkpoint.height);
                StoreError::NotCertified {
                    height: h,
                    head,
                    latest_certified: latest,
                }
            }),
            None => self
                .latest_certificate_at_or_below(head)?
                .ok_or(StoreError::NotCertified {
                    height: head,
                    head,
                    latest_certified: None,
                }),
        }
    }

    /// The transaction `tx_hash` (where it succeeded, else its first inclusion) with its
    /// receipt, proven against the latest certificate. `None` if it is not committed.
    pub fn transaction_proof(
        &self,
        tx_hash: &Hash,
    ) -> Result<Option<TransactionProof>, StoreError> {
        let Some(committed) = self.transaction(tx_hash)? else {
            return Ok(None);
        };
        let certificate = self.certificate_for(None)?;
        let size = certificate.checkpoint.accumulator_size;
        let ledger_index = committed.location.ledger_index;
        if ledger_index >= size {
            // Committed, but the latest certified ledger does not hold it yet.
            return Err(StoreError::NotCertified {
                height: committed.location.height,
                head: self.head().map_or(0, |h| h.height),
                latest_certified: Some(certificate.checkpoint.height),
            });
        }
        let inclusion_proof = self.inclusion_proof(ledger_index, size)?;
        Ok(Some(TransactionProof {
            certificate,
            transaction: committed.tx,
            receipt: committed.receipt,
            ledger_index,
            inclusion_proof,
        }))
    }

    /// `item_id`'s state record (or its absence) after `height` (a certified height), or after
    /// the latest certified height when `None`.
    pub fn item_state_proof(
        &self,
        item_id: &str,
        height: Option<u64>,
    ) -> Result<ItemStateProof, StoreError> {
        let certificate = self.certificate_for(height)?;
        let proof = self.state_proof(&item_key(item_id), Some(certificate.checkpoint.height))?;
        // The store's own root for the height is what the certificate signs (checked when it
        // was stored); a mismatch here means the store changed under us.
        if proof.state_root != certificate.checkpoint.state_root {
            return Err(StoreError::CertificateMismatch {
                height: certificate.checkpoint.height,
                ours: Box::new(crate::proof::LedgerCheckpoint {
                    state_root: proof.state_root,
                    ..certificate.checkpoint.clone()
                }),
                certified: Box::new(certificate.checkpoint),
            });
        }
        Ok(ItemStateProof {
            certificate,
            item_id: item_id.to_string(),
            value: proof.value,
            smt_proof: proof.proof,
        })
    }

    /// `item_id`'s whole history as of the latest certified height: its state value with its
    /// state proof (whose history head counts and chains the events) and every event of the
    /// item, contents-only ones included (every entry of the item-history index), each with
    /// its inclusion proof. An absent item gets a proof of absence and no entries. Refused if
    /// the index and the certified head disagree (the proof would not verify).
    pub fn item_history_proof(&self, item_id: &str) -> Result<HistoryProof, StoreError> {
        let certificate = self.certificate_for(None)?;
        let height = certificate.checkpoint.height;
        let size = certificate.checkpoint.accumulator_size;
        let state = self.item_state_proof(item_id, Some(height))?;
        // The certified head says how many events there are: refuse a history too long for one
        // proof before reading any of it.
        let certified_len = match state.state() {
            Ok(head) => head.map_or(0, |s| s.history.len),
            Err(e) => {
                return Err(StoreError::Corrupt {
                    cf: super::schema::CF_STATE,
                    key: hex::encode(item_key(item_id)),
                    reason: e.to_string(),
                })
            }
        };
        if certified_len > MAX_HISTORY_ENTRIES as u64 {
            return Err(StoreError::HistoryTooLong {
                item_id: item_id.to_string(),
                max: MAX_HISTORY_ENTRIES,
            });
        }
        let mut entries = Vec::new();
        let mut from = 0u64;
        'pages: loop {
            let page = self.item_history(item_id, from, super::MAX_HISTORY_PAGE)?;
            let Some(last) = page.last() else { break };
            from = last.ledger_index + 1;
            let full = page.len() >= super::MAX_HISTORY_PAGE;
            for entry in page {
                if entry.ledger_index >= size {
                    break 'pages;
                }
                // More entries than the certified head counts: the check below names it; this
                // only bounds the work.
                if entries.len() >= MAX_HISTORY_ENTRIES {
                    return Err(StoreError::HistoryTooLong {
                        item_id: item_id.to_string(),
                        max: MAX_HISTORY_ENTRIES,
                    });
                }
                let committed = self.transaction(&entry.tx_hash)?.ok_or_else(|| {
                    StoreError::TxIndexMismatch {
                        height: entry.height,
                        index_in_block: 0,
                        tx_hash: entry.tx_hash,
                        reason: format!(
                            "history of item {item_id:?} names it, the index does not hold it"
                        ),
                    }
                })?;
                entries.push(HistoryProofEntry {
                    inclusion_proof: self.inclusion_proof(entry.ledger_index, size)?,
                    ledger_index: entry.ledger_index,
                    transaction: committed.tx,
                    receipt: committed.receipt,
                });
            }
            if !full {
                break;
            }
        }
        if let Some(base) = self.base_height() {
            if (entries.len() as u64) < certified_len {
                return Err(StoreError::HistoryBeforeBase {
                    item_id: item_id.to_string(),
                    certified: certified_len,
                    held: entries.len(),
                    base,
                });
            }
        }
        let proof = HistoryProof {
            certificate: state.certificate,
            item_id: item_id.to_string(),
            item_state: HistoryItemState {
                value: state.value,
                smt_proof: state.smt_proof,
            },
            entries,
        };
        // The index is derived data; the certified head is what validators agreed on.
        proof
            .history_matches()
            .map_err(|reason| StoreError::Corrupt {
                cf: super::schema::CF_ITEM_HISTORY,
                key: item_id.to_string(),
                reason: format!(
                    "the history index disagrees with the certified state at height {height}: {reason}"
                ),
            })?;
        Ok(proof)
    }

    /// That the ledger certified at `older` is a prefix of the one certified at `newer` (the
    /// latest certified height when `None`).
    pub fn ledger_consistency_proof(
        &self,
        older: u64,
        newer: Option<u64>,
    ) -> Result<LedgerConsistencyProof, StoreError> {
        let older = self.certificate_for(Some(older))?;
        let newer = self.certificate_for(newer)?;
        let (old_size, new_size) = (
            older.checkpoint.accumulator_size,
            newer.checkpoint.accumulator_size,
        );
        if older.checkpoint.height > newer.checkpoint.height || old_size > new_size {
            return Err(StoreError::HeightsOutOfOrder {
                older: older.checkpoint.height,
                newer: newer.checkpoint.height,
            });
        }
        // Every ledger extends the empty one: from size 0 the proof is the empty path (RFC 9162
        // defines no proof from the empty tree, and PROOFS.md's verifier expects none).
        let consistency_proof = if old_size == 0 {
            crate::accumulator::ConsistencyProof {
                old_size,
                new_size,
                path: vec![],
            }
        } else {
            self.consistency_proof(old_size, new_size)?
        };
        Ok(LedgerConsistencyProof {
            older,
            newer,
            consistency_proof,
        })
    }
}
