//! [`LedgerConsistencyProof`]: that the ledger certified at an older height is a prefix of the
//! ledger certified at a newer one (history was not rewritten).

use serde::{Deserialize, Serialize};

use crate::accumulator::{verify_consistency, ConsistencyProof};
use crate::genesis::Genesis;
use crate::hash::Hash;
use crate::merkle::Blake3Hasher;

use super::certificate::{LedgerCertificate, LedgerCheckpoint};
use super::checks;
use super::report::{VerifyError, VerifyReport};

/// Two certificates and the RFC 9162 consistency proof from the older one's accumulator size to
/// the newer one's.
///
/// JSON: `{"older": {...}, "newer": {...}, "consistency_proof": {"old_size": 3, "new_size": 9,
/// "path": ["<hex>", ...]}}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LedgerConsistencyProof {
    #[serde(with = "super::attested::certificate")]
    pub older: LedgerCertificate,
    #[serde(with = "super::attested::certificate")]
    pub newer: LedgerCertificate,
    pub consistency_proof: ConsistencyProof,
}

impl LedgerConsistencyProof {
    /// Every check, in order: both certificates, their heights and sizes, the consistency path.
    pub fn verify(&self, genesis: &Genesis) -> VerifyReport {
        self.verify_views(genesis, genesis)
    }

    /// [`LedgerConsistencyProof::verify`] with each certificate checked against its own
    /// epoch's set (`older_set`, `newer_set`: the genesis with that epoch's validators).
    pub fn verify_views(&self, older_set: &Genesis, newer_set: &Genesis) -> VerifyReport {
        let mut report = VerifyReport::new("consistency");
        checks::certificate(&mut report, "older.certificate", &self.older, older_set);
        checks::certificate(&mut report, "newer.certificate", &self.newer, newer_set);
        let (old, new) = (&self.older.checkpoint, &self.newer.checkpoint);
        report.record("heights", heights(old, new));
        let proof = &self.consistency_proof;
        report.record(
            "consistency_proof.old_size",
            size_agrees(proof.old_size, old.accumulator_size),
        );
        report.record(
            "consistency_proof.new_size",
            size_agrees(proof.new_size, new.accumulator_size),
        );
        report.record("consistency_proof.path", path(old, new, &proof.path));
        report
    }
}

/// The older certificate is not after the newer one; at one height both must certify the same
/// ledger (two different certified checkpoints for a height are a fork, not a history).
fn heights(old: &LedgerCheckpoint, new: &LedgerCheckpoint) -> Result<String, VerifyError> {
    if old.height > new.height {
        return Err(VerifyError::HeightsOutOfOrder {
            older: old.height,
            newer: new.height,
        });
    }
    if old.height == new.height && old != new {
        return Err(VerifyError::ConflictingCheckpoints { height: old.height });
    }
    Ok(format!("height {} to height {}", old.height, new.height))
}

fn size_agrees(proof_size: u64, certified_size: u64) -> Result<String, VerifyError> {
    if proof_size == certified_size {
        Ok(format!("the certified size {certified_size}"))
    } else {
        Err(VerifyError::TreeSizeMismatch {
            proof_size,
            certified_size,
        })
    }
}

/// RFC 9162 consistency between the *certified* sizes and roots. From the empty ledger there is
/// nothing to prove (every ledger extends it), so the path must be empty.
fn path(
    old: &LedgerCheckpoint,
    new: &LedgerCheckpoint,
    path: &[Hash],
) -> Result<String, VerifyError> {
    let (old_size, new_size) = (old.accumulator_size, new.accumulator_size);
    if old_size > new_size {
        return Err(VerifyError::AccumulatorShrank {
            older_height: old.height,
            old_size,
            newer_height: new.height,
            new_size,
        });
    }
    if old_size == 0 {
        if !path.is_empty() {
            return Err(VerifyError::NonEmptyProofFromEmptyLedger { len: path.len() });
        }
        return Ok(format!(
            "the empty ledger is a prefix of the ledger of {new_size} leaves"
        ));
    }
    verify_consistency(
        &Blake3Hasher,
        old_size,
        new_size,
        &old.accumulator_root,
        &new.accumulator_root,
        path,
    )?;
    Ok(format!(
        "the {old_size} leaves under root {} are the first {old_size} of the {new_size} under root {}",
        old.accumulator_root, new.accumulator_root
    ))
}
