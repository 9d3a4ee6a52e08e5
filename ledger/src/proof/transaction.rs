//! [`TransactionProof`]: that a signed transaction was committed at a ledger index with a
//! receipt, as of a certified ledger.

use serde::{Deserialize, Serialize};

use crate::accumulator::InclusionProof;
use crate::genesis::Genesis;
use crate::receipt::Receipt;
use crate::tx::SignedTransaction;

use super::certificate::LedgerCertificate;
use super::checks;
use super::report::{VerifyError, VerifyReport};

/// A committed transaction with its receipt, and the accumulator inclusion proof of their
/// [`crate::receipt::TxLeaf`] at `ledger_index` in the accumulator the certificate signs
/// (`checkpoint.accumulator_root` over `checkpoint.accumulator_size` leaves).
///
/// JSON: `{"certificate": {...}, "transaction": {...}, "receipt": {...}, "ledger_index": 5,
/// "inclusion_proof": {"leaf_index": 5, "tree_size": 9, "path": ["<hex>", ...]}}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransactionProof {
    #[serde(with = "super::attested::certificate")]
    pub certificate: LedgerCertificate,
    #[serde(with = "super::attested")]
    pub transaction: SignedTransaction,
    #[serde(with = "super::attested")]
    pub receipt: Receipt,
    pub ledger_index: u64,
    pub inclusion_proof: InclusionProof,
}

impl TransactionProof {
    /// Every check, in order: the certificate, the binding of transaction, receipt and index,
    /// the Merkle path, then the transaction's own signature.
    pub fn verify(&self, genesis: &Genesis) -> VerifyReport {
        let mut report = VerifyReport::new("transaction");
        checks::certificate(&mut report, "certificate", &self.certificate, genesis);
        checks::inclusion(
            &mut report,
            "",
            &self.transaction,
            &self.receipt,
            self.ledger_index,
            &self.inclusion_proof,
            &self.certificate.checkpoint,
        );
        checks::signature(&mut report, "transaction.", &self.transaction, genesis);
        if let crate::tx::Payload::CaptureEpcis(c) = &self.transaction.tx.payload {
            // What the proven transaction captured, named as GS1 names it.
            report.record(
                "epcis_event",
                c.plan()
                    .map(|p| {
                        format!(
                            "{} {} (CBV 2.0 event hash ID, computed from the proven event)",
                            p.event_type.as_str(),
                            p.hash_id
                        )
                    })
                    .map_err(|e| VerifyError::EpcisEvent {
                        reason: e.to_string(),
                    }),
            );
        }
        report
    }
}
