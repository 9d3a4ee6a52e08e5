//! [`Proof`]: the file format of `waybill audit verify --genesis FILE PROOF.json`, one JSON
//! object tagged by `"kind"`.

use serde::{Deserialize, Serialize};

use crate::genesis::Genesis;

use super::consistency::LedgerConsistencyProof;
use super::history::HistoryProof;
use super::report::VerifyReport;
use super::state::ItemStateProof;
use super::transaction::TransactionProof;

/// Largest proof file accepted, in bytes (a history of many large transactions fits).
pub const MAX_PROOF_JSON_BYTES: usize = 64 * 1024 * 1024;

/// Any proof. JSON: the variant's own object with `"kind"` added: `"transaction"`,
/// `"item_state"`, `"history"` or `"consistency"`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Proof {
    Transaction(TransactionProof),
    ItemState(ItemStateProof),
    History(HistoryProof),
    Consistency(LedgerConsistencyProof),
}

/// Why a proof file could not be read (before any verification).
#[derive(Debug, thiserror::Error)]
pub enum ProofDecodeError {
    #[error("proof of {len} bytes exceeds the limit of {max} bytes")]
    TooLarge { len: usize, max: usize },
    #[error("proof is not valid JSON of a known kind: {0}")]
    Json(#[from] serde_json::Error),
}

impl Proof {
    /// The `"kind"` tag.
    pub fn kind(&self) -> &'static str {
        match self {
            Proof::Transaction(_) => "transaction",
            Proof::ItemState(_) => "item_state",
            Proof::History(_) => "history",
            Proof::Consistency(_) => "consistency",
        }
    }

    /// Parses a proof file, refusing oversized input before parsing.
    pub fn from_json(text: &str) -> Result<Proof, ProofDecodeError> {
        if text.len() > MAX_PROOF_JSON_BYTES {
            return Err(ProofDecodeError::TooLarge {
                len: text.len(),
                max: MAX_PROOF_JSON_BYTES,
            });
        }
        Ok(serde_json::from_str(text)?)
    }

    /// Pretty JSON, as `waybill audit` writes proof files.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("proofs always serialise to JSON")
    }

    /// Verifies against the genesis file alone. The proof holds only if
    /// [`VerifyReport::is_ok`].
    pub fn verify(&self, genesis: &Genesis) -> VerifyReport {
        match self {
            Proof::Transaction(p) => p.verify(genesis),
            Proof::ItemState(p) => p.verify(genesis),
            Proof::History(p) => p.verify(genesis),
            Proof::Consistency(p) => p.verify(genesis),
        }
    }
}
