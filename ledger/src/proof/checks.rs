//! The checks the proof types share, each recorded in a [`VerifyReport`] under a stable name.
//! Each takes the *certified* values (root, size) from the checkpoint, never the proof's own
//! copy of them, so a proof cannot pick what it is checked against.

use crate::accumulator::{tx_leaf_hash, verify_inclusion, InclusionProof};
use crate::genesis::Genesis;
use crate::merkle::Blake3Hasher;
use crate::receipt::{Receipt, TxLeaf};
use crate::tx::SignedTransaction;

use super::certificate::{LedgerCertificate, LedgerCheckpoint};
use super::report::{VerifyError, VerifyReport};

/// `name`: the certificate is for the genesis chain and signed by a quorum of distinct genesis
/// validators, every signature valid.
pub(crate) fn certificate(
    report: &mut VerifyReport,
    name: &str,
    cert: &LedgerCertificate,
    genesis: &Genesis,
) {
    let outcome = cert.verify(genesis).map_err(VerifyError::from).map(|power| {
        let c = &cert.checkpoint;
        format!(
            "chain {:?} height {}: {} signatures, power {power} of {} (quorum {}); accumulator {} leaves root {}, state root {}",
            c.chain_id,
            c.height,
            cert.signatures.len(),
            genesis.total_power(),
            genesis.quorum_power(),
            c.accumulator_size,
            c.accumulator_root,
            c.state_root,
        )
    });
    report.record(name, outcome);
}

/// The Merkle half of "this transaction with this receipt is leaf `ledger_index` of the
/// certified accumulator", as checks named `{prefix}receipt.tx_hash`,
/// `{prefix}receipt.ledger_index`, `{prefix}inclusion_proof.leaf_index`,
/// `{prefix}inclusion_proof.tree_size` and `{prefix}inclusion_proof.path`.
///
/// The receipt is bound to the transaction by its `tx_hash` (else a receipt of another
/// transaction could be shown), the three copies of the index must agree, and the path is
/// verified at the *certified* size and root with the leaf computed here from the transaction
/// and receipt themselves.
pub(crate) fn inclusion(
    report: &mut VerifyReport,
    prefix: &str,
    transaction: &SignedTransaction,
    receipt: &Receipt,
    ledger_index: u64,
    proof: &InclusionProof,
    checkpoint: &LedgerCheckpoint,
) {
    let tx_hash = transaction.hash();
    report.record(
        format!("{prefix}receipt.tx_hash"),
        if receipt.tx_hash == tx_hash {
            Ok(format!("receipt is for transaction {tx_hash}"))
        } else {
            Err(VerifyError::ReceiptForOtherTransaction {
                receipt_tx_hash: receipt.tx_hash,
                tx_hash,
            })
        },
    );
    report.record(
        format!("{prefix}receipt.ledger_index"),
        index_agrees("receipt.ledger_index", receipt.ledger_index, ledger_index),
    );
    report.record(
        format!("{prefix}inclusion_proof.leaf_index"),
        index_agrees("inclusion_proof.leaf_index", proof.leaf_index, ledger_index),
    );
    report.record(
        format!("{prefix}inclusion_proof.tree_size"),
        if proof.tree_size == checkpoint.accumulator_size {
            Ok(format!(
                "proof is against the certified size {}",
                checkpoint.accumulator_size
            ))
        } else {
            Err(VerifyError::TreeSizeMismatch {
                proof_size: proof.tree_size,
                certified_size: checkpoint.accumulator_size,
            })
        },
    );
    let leaf = tx_leaf_hash(&TxLeaf {
        tx_hash,
        receipt_hash: receipt.hash(),
    });
    report.record(
        format!("{prefix}inclusion_proof.path"),
        verify_inclusion(
            &Blake3Hasher,
            &leaf,
            ledger_index,
            checkpoint.accumulator_size,
            &proof.path,
            &checkpoint.accumulator_root,
        )
        .map(|()| {
            format!(
                "leaf {leaf} is leaf {ledger_index} of {} under root {} (height {}, index {} in block)",
                checkpoint.accumulator_size,
                checkpoint.accumulator_root,
                receipt.height,
                receipt.index_in_block
            )
        })
        .map_err(VerifyError::from),
    );
}

fn index_agrees(field: &'static str, found: u64, claimed: u64) -> Result<String, VerifyError> {
    if found == claimed {
        Ok(format!("{found}"))
    } else {
        Err(VerifyError::LedgerIndexMismatch {
            field,
            claimed,
            found,
        })
    }
}

/// `{prefix}signature`: the transaction is for the genesis chain, within limits, and signed by
/// its signer (strict ed25519 over its canonical signing bytes).
pub(crate) fn signature(
    report: &mut VerifyReport,
    prefix: &str,
    transaction: &SignedTransaction,
    genesis: &Genesis,
) {
    report.record(
        format!("{prefix}signature"),
        transaction
            .verify(&genesis.chain_id)
            .map(|()| {
                format!(
                    "{} signed by {} (sequence {}) for chain {:?}",
                    transaction.tx.payload.kind(),
                    transaction.tx.signer,
                    transaction.tx.sequence,
                    transaction.tx.chain_id
                )
            })
            .map_err(VerifyError::from),
    );
}
