//! Building proofs from any accumulator ([`NodeReader`]) and state tree ([`NodeStore`]): the
//! RocksDB store implements both, so does the in-memory pair used by tests and benches. Pure: the
//! caller reads the certificate, transactions, receipts and values from its own storage and
//! hands them in. A builder refuses (typed error) rather than emit a proof that cannot verify
//! because its inputs disagree with the certified roots; it does not check signatures.

use crate::accumulator::{
    consistency_proof, inclusion_proof, AccumulatorError, ConsistencyProof, NodeReader,
};
use crate::hash::Hash;
use crate::merkle::Blake3Hasher;
use crate::receipt::Receipt;
use crate::smt::{get_with_proof, value_hash, NodeStore, SmtError};
use crate::supply::state::item_key;
use crate::tx::SignedTransaction;

use super::certificate::LedgerCertificate;
use super::consistency::LedgerConsistencyProof;
use super::history::{HistoryItemState, HistoryProof, HistoryProofEntry, MAX_HISTORY_ENTRIES};
use super::state::ItemStateProof;
use super::transaction::TransactionProof;

/// Why a proof could not be built.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum BuildError {
    #[error(transparent)]
    Accumulator(#[from] AccumulatorError),
    #[error(transparent)]
    State(#[from] SmtError),
    #[error("receipt is for transaction {receipt_tx_hash}, not {tx_hash}")]
    ReceiptForOtherTransaction {
        receipt_tx_hash: Hash,
        tx_hash: Hash,
    },
    #[error("transaction at ledger index {ledger_index} is not in the certified accumulator of {size} leaves")]
    NotCertified { ledger_index: u64, size: u64 },
    #[error("state tree under root {root} holds value hash {tree:?} for item {item_id:?}, the value given hashes to {given:?}")]
    ValueDisagrees {
        item_id: String,
        root: Hash,
        tree: Option<Hash>,
        given: Option<Hash>,
    },
    /// The events given are not the history the item's certified state commits to (or the
    /// value does not decode as this item's state): the proof would not verify.
    #[error("history of item {item_id:?} does not match its certified state: {reason}")]
    HistoryDisagrees { item_id: String, reason: String },
    #[error("{count} history entries exceed the {max} one proof may carry")]
    TooManyEntries { count: usize, max: usize },
    #[error("older certificate at height {older} is after the newer one at {newer}")]
    HeightsOutOfOrder { older: u64, newer: u64 },
}

impl TransactionProof {
    /// The proof of `transaction` with its `receipt` (leaf `receipt.ledger_index`) in the
    /// accumulator `certificate` signs.
    pub fn build<R: NodeReader + ?Sized>(
        certificate: LedgerCertificate,
        transaction: SignedTransaction,
        receipt: Receipt,
        accumulator: &R,
    ) -> Result<Self, BuildError> {
        let inclusion_proof = inclusion(&certificate, &transaction, &receipt, accumulator)?;
        Ok(TransactionProof {
            certificate,
            ledger_index: receipt.ledger_index,
            transaction,
            receipt,
            inclusion_proof,
        })
    }
}

fn inclusion<R: NodeReader + ?Sized>(
    certificate: &LedgerCertificate,
    transaction: &SignedTransaction,
    receipt: &Receipt,
    accumulator: &R,
) -> Result<crate::accumulator::InclusionProof, BuildError> {
    let tx_hash = transaction.hash();
    if receipt.tx_hash != tx_hash {
        return Err(BuildError::ReceiptForOtherTransaction {
            receipt_tx_hash: receipt.tx_hash,
            tx_hash,
        });
    }
    let size = certificate.checkpoint.accumulator_size;
    if receipt.ledger_index >= size {
        return Err(BuildError::NotCertified {
            ledger_index: receipt.ledger_index,
            size,
        });
    }
    Ok(inclusion_proof(
        &Blake3Hasher,
        accumulator,
        receipt.ledger_index,
        size,
    )?)
}

impl ItemStateProof {
    /// The proof that item `item_id` holds `value` (its canonical record bytes, as read from the
    /// store's state at the certificate's height), or is absent when `value` is `None`, under
    /// the certificate's state root.
    pub fn build(
        certificate: LedgerCertificate,
        item_id: &str,
        value: Option<Vec<u8>>,
        state: &dyn NodeStore,
    ) -> Result<Self, BuildError> {
        let root = certificate.checkpoint.state_root;
        let (tree, smt_proof) = get_with_proof(state, root, &item_key(item_id))?;
        let given = value.as_deref().map(value_hash);
        if tree != given {
            return Err(BuildError::ValueDisagrees {
                item_id: item_id.to_string(),
                root,
                tree,
                given,
            });
        }
        Ok(ItemStateProof {
            certificate,
            item_id: item_id.to_string(),
            value,
            smt_proof,
        })
    }
}

impl HistoryProof {
    /// The proof of item `item_id`'s whole history: `value` is its state value as read from the
    /// store's state at the certificate's height (`None` if absent), `events` every event of
    /// the item up to that height (each a committed transaction with its receipt, in ledger
    /// order). Refuses events that do not chain to the value's certified history head.
    pub fn build<R: NodeReader + ?Sized>(
        certificate: LedgerCertificate,
        item_id: &str,
        value: Option<Vec<u8>>,
        events: Vec<(SignedTransaction, Receipt)>,
        accumulator: &R,
        state: &dyn NodeStore,
    ) -> Result<Self, BuildError> {
        if events.len() > MAX_HISTORY_ENTRIES {
            return Err(BuildError::TooManyEntries {
                count: events.len(),
                max: MAX_HISTORY_ENTRIES,
            });
        }
        let entries = events
            .into_iter()
            .map(|(transaction, receipt)| {
                let inclusion_proof = inclusion(&certificate, &transaction, &receipt, accumulator)?;
                Ok(HistoryProofEntry {
                    ledger_index: receipt.ledger_index,
                    transaction,
                    receipt,
                    inclusion_proof,
                })
            })
            .collect::<Result<Vec<_>, BuildError>>()?;
        let state_proof = ItemStateProof::build(certificate, item_id, value, state)?;
        let proof = HistoryProof {
            certificate: state_proof.certificate,
            item_id: item_id.to_string(),
            item_state: HistoryItemState {
                value: state_proof.value,
                smt_proof: state_proof.smt_proof,
            },
            entries,
        };
        proof
            .history_matches()
            .map_err(|reason| BuildError::HistoryDisagrees {
                item_id: item_id.to_string(),
                reason,
            })?;
        Ok(proof)
    }
}

impl LedgerConsistencyProof {
    /// The proof that the ledger `older` certifies is a prefix of the one `newer` certifies.
    pub fn build<R: NodeReader + ?Sized>(
        older: LedgerCertificate,
        newer: LedgerCertificate,
        accumulator: &R,
    ) -> Result<Self, BuildError> {
        let (old, new) = (&older.checkpoint, &newer.checkpoint);
        if old.height > new.height {
            return Err(BuildError::HeightsOutOfOrder {
                older: old.height,
                newer: new.height,
            });
        }
        let (old_size, new_size) = (old.accumulator_size, new.accumulator_size);
        // Nothing to prove from the empty ledger: the verifier expects an empty path.
        let consistency_proof = if old_size == 0 {
            ConsistencyProof {
                old_size,
                new_size,
                path: vec![],
            }
        } else {
            consistency_proof(&Blake3Hasher, accumulator, old_size, new_size)?
        };
        Ok(LedgerConsistencyProof {
            older,
            newer,
            consistency_proof,
        })
    }
}
