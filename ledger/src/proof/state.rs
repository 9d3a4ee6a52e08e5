//! [`ItemStateProof`]: an item's state record (or its absence) under a certified state root.

use serde::{Deserialize, Serialize};

use crate::encoding::from_canonical;
use crate::execute::MAX_STATE_VALUE_BYTES;
use crate::genesis::Genesis;
use crate::smt::SmtProof;
use crate::supply::state::item_key;
use crate::supply::{ItemRecord, ItemState};

use super::certificate::LedgerCertificate;
use super::checks;
use super::report::{VerifyError, VerifyReport};

/// The value stored under the item's state key (`item/` + item id, see
/// [`crate::supply::state::item_key`]) after executing the certificate's height, or `None` for
/// absence, with the sparse Merkle tree proof to `checkpoint.state_root`. The value is the
/// canonical BCS of a [`crate::supply::ItemRecord`]; the verifier derives the key from
/// `item_id` itself and checks that the value decodes to the record of that item.
///
/// JSON: `{"certificate": {...}, "item_id": "pallet-1", "value": "<hex>" | null,
/// "smt_proof": {"siblings": ["<hex>", ...], "leaf": {...} | null}}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemStateProof {
    #[serde(with = "super::attested::certificate")]
    pub certificate: LedgerCertificate,
    pub item_id: String,
    #[serde(with = "crate::encoding_helpers::opt_hex_bytes")]
    pub value: Option<Vec<u8>>,
    pub smt_proof: SmtProof,
}

impl ItemStateProof {
    /// Every check, in order: the certificate, the value decodes to this item's record
    /// (`value`), the Merkle path for presence or absence of the item's key (`smt_proof`).
    pub fn verify(&self, genesis: &Genesis) -> VerifyReport {
        let mut report = VerifyReport::new("item_state");
        checks::certificate(&mut report, "certificate", &self.certificate, genesis);
        report.record(
            "value",
            self.state()
                .map(|state| describe(&self.item_id, state.as_ref())),
        );
        let root = &self.certificate.checkpoint.state_root;
        let key = item_key(&self.item_id);
        let merkle = match &self.value {
            Some(value) => self.smt_proof.verify_presence(root, &key, value).map(|()| {
                format!(
                    "item {:?} holds this value under state root {root}",
                    self.item_id
                )
            }),
            None => self
                .smt_proof
                .verify_absence(root, &key)
                .map(|()| format!("item {:?} is absent under state root {root}", self.item_id)),
        };
        report.record("smt_proof", merkle.map_err(VerifyError::from));
        report
    }

    /// The item record the value encodes (`None` for a claim of absence).
    pub fn record(&self) -> Result<Option<ItemRecord>, VerifyError> {
        Ok(self.state()?.map(|s| s.record))
    }

    /// The whole state value: the record and its history head (`None` for a claim of absence).
    /// The record's own id must be the proof's `item_id`: the key is derived from `item_id`, so
    /// a record of another item stored under it would mean the state itself is corrupt.
    pub fn state(&self) -> Result<Option<ItemState>, VerifyError> {
        self.value
            .as_deref()
            .map(|bytes| decode_item_state(&self.item_id, bytes))
            .transpose()
    }
}

fn describe(item_id: &str, state: Option<&ItemState>) -> String {
    match state {
        None => format!("claims item {item_id:?} is absent"),
        Some(ItemState { record: r, history }) => format!(
            "item {:?} ({}) owned by {:?}, held by {:?}, {}; {} events, history digest {}",
            r.id,
            r.item_type,
            r.owner,
            r.custodian,
            r.status.as_str(),
            history.len,
            history.digest
        ),
    }
}

/// Decodes an item's state-tree value and checks it is the record of `item_id` (the key is
/// derived from `item_id`, so a record of another item under it means corrupt state). Shared
/// by the item-state and history proofs, which both carry such a value.
pub(super) fn decode_item_state(item_id: &str, bytes: &[u8]) -> Result<ItemState, VerifyError> {
    let state: ItemState =
        from_canonical("item state", bytes, MAX_STATE_VALUE_BYTES).map_err(|e| {
            VerifyError::UndecodableValue {
                item_id: item_id.to_string(),
                reason: e.to_string(),
            }
        })?;
    if state.record.id != item_id {
        return Err(VerifyError::ItemIdMismatch {
            expected: item_id.to_string(),
            found: state.record.id,
        });
    }
    Ok(state)
}
