//! The auditor's ratchet: the chain of epoch changes from genesis, which lets an auditor who
//! trusts only the genesis file check a certificate signed by a validator set genesis never
//! named.
//!
//! Epoch 0's set is the genesis `validators`. A governance change to the validators ends the
//! epoch at the block that applies it ([`crate::governance`]): after that block the state holds
//! the next epoch's set at [`VALIDATORS_KEY`]. An [`EpochChange`] proves it: the ledger
//! certificate of that last height, signed by a quorum of the epoch's own set, and a state proof
//! that the key holds the next [`EpochSet`] under the certified state root. Following the changes
//! in order, each checked with the set the one before proved, gives the set of every epoch and
//! the heights it certifies ([`EpochTrust`]); a proof's certificate at height `h` must then be
//! signed by a quorum of the set whose epoch contains `h`.
//!
//! A chain proves what it contains and nothing after its last change: an auditor must get it
//! from a source it trusts to be current (any honest node serves it, `waybill_getEpochChanges`),
//! and a certificate above the last change is checked with the last set. A validator removed in
//! a change the chain leaves out could otherwise still count (the long-range problem every
//! proof-of-authority chain shares).

use serde::{Deserialize, Serialize};

use crate::encoding::to_canonical;
use crate::genesis::Genesis;
use crate::governance::{EpochSet, VALIDATORS_KEY};
use crate::smt::{SmtProof, SmtVerifyError};

use super::certificate::{CertificateError, LedgerCertificate};

/// Most epoch changes one chain may carry.
pub const MAX_EPOCH_CHANGES: usize = 4_096;

/// That the epoch containing `certificate`'s height ended there, and which set is next.
///
/// JSON: `{"certificate": {"bytes", "view"}, "next": {"bytes": "<hex>", "view": {...}},
/// "smt_proof": {...}}`; `next.bytes` is the state value itself (plain BCS of the
/// [`EpochSet`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EpochChange {
    #[serde(with = "super::attested::certificate")]
    pub certificate: LedgerCertificate,
    #[serde(with = "super::attested")]
    pub next: EpochSet,
    pub smt_proof: SmtProof,
}

/// Why a chain of epoch changes does not hold; `index` is the change's position in the chain.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EpochError {
    #[error("the chain has {count} epoch changes, at most {max} are accepted")]
    TooMany { count: usize, max: usize },
    #[error("epoch change {index}: its certificate is not the epoch {epoch} set's: {source}")]
    Certificate {
        index: usize,
        epoch: u64,
        source: CertificateError,
    },
    #[error("epoch change {index}: height {height} is not above the previous change's {previous}")]
    HeightsOutOfOrder {
        index: usize,
        height: u64,
        previous: u64,
    },
    #[error("epoch change {index}: names epoch {found}, expected {expected}")]
    WrongEpoch {
        index: usize,
        expected: u64,
        found: u64,
    },
    #[error(
        "epoch change {index}: the next set is empty or its voting power is zero or overflows"
    )]
    BadSet { index: usize },
    #[error("epoch change {index}: the state does not hold this set: {source}")]
    State {
        index: usize,
        source: SmtVerifyError,
    },
}

/// One epoch as a chain proves it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrustedEpoch {
    pub set: EpochSet,
    /// The first height the set certifies (1 for epoch 0).
    pub first_height: u64,
    /// The genesis with its `validators` replaced by the set: what certificates of this epoch
    /// are checked against.
    pub view: Genesis,
}

/// Every epoch a chain proved, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EpochTrust {
    pub epochs: Vec<TrustedEpoch>,
}

impl EpochTrust {
    /// Epoch 0 alone: what the genesis file says.
    pub fn genesis(genesis: &Genesis) -> EpochTrust {
        EpochTrust {
            epochs: vec![TrustedEpoch {
                set: EpochSet::genesis(genesis),
                first_height: 1,
                view: genesis.clone(),
            }],
        }
    }

    /// The epoch whose set certifies `height` (the last one for heights above the last change).
    pub fn for_height(&self, height: u64) -> &TrustedEpoch {
        self.epochs
            .iter()
            .rev()
            .find(|e| height >= e.first_height)
            .unwrap_or(&self.epochs[0])
    }

    pub fn last(&self) -> &TrustedEpoch {
        self.epochs.last().expect("epoch 0 is always there")
    }
}

/// Follows `changes` from genesis: each certificate verified with the set before it, each next
/// set proven under its certified state root and numbered one more. Stops at the first change
/// that fails, with its error.
pub fn follow(genesis: &Genesis, changes: &[EpochChange]) -> Result<EpochTrust, EpochError> {
    if changes.len() > MAX_EPOCH_CHANGES {
        return Err(EpochError::TooMany {
            count: changes.len(),
            max: MAX_EPOCH_CHANGES,
        });
    }
    let mut trust = EpochTrust::genesis(genesis);
    for (index, change) in changes.iter().enumerate() {
        let current = trust.last();
        let height = change.certificate.checkpoint.height;
        if height < current.first_height {
            return Err(EpochError::HeightsOutOfOrder {
                index,
                height,
                previous: current.first_height.saturating_sub(1),
            });
        }
        change
            .certificate
            .verify(&current.view)
            .map_err(|source| EpochError::Certificate {
                index,
                epoch: current.set.epoch,
                source,
            })?;
        let expected = current.set.epoch + 1;
        if change.next.epoch != expected {
            return Err(EpochError::WrongEpoch {
                index,
                expected,
                found: change.next.epoch,
            });
        }
        let total = change
            .next
            .validators
            .iter()
            .try_fold(0u64, |t, v| t.checked_add(v.power));
        if change.next.validators.is_empty() || total.is_none_or(|t| t == 0 || t > u64::MAX / 4) {
            return Err(EpochError::BadSet { index });
        }
        change
            .smt_proof
            .verify_presence(
                &change.certificate.checkpoint.state_root,
                VALIDATORS_KEY,
                &to_canonical(&change.next),
            )
            .map_err(|source| EpochError::State { index, source })?;
        let mut view = genesis.clone();
        view.validators = change.next.validators.clone();
        trust.epochs.push(TrustedEpoch {
            set: change.next.clone(),
            first_height: height + 1,
            view,
        });
    }
    Ok(trust)
}
