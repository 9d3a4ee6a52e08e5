//! Ledger certificates. After executing height `h`, each validator signs a [`LedgerCheckpoint`]:
//! what the ledger is after `h` (block hash, state root, accumulator root and size). A quorum of
//! matching signatures is a [`LedgerCertificate`], which anchors every proof an auditor checks.
//! Validators that sign different checkpoints for one height reveal non-determinism.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::crypto::{KeyPair, PublicKey, Signature};
use crate::encoding::{digest, Canonical};
use crate::genesis::{Genesis, MAX_VALIDATORS};
use crate::hash::Hash;

/// A certificate never carries more signatures than there are validators.
pub const MAX_CERTIFICATE_SIGNERS: usize = MAX_VALIDATORS;

/// The ledger after executing one height, as every validator must compute it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LedgerCheckpoint {
    pub chain_id: String,
    pub height: u64,
    /// Hash of the block header at `height`.
    pub block_hash: Hash,
    /// Root of the state map after executing `height`.
    pub state_root: Hash,
    /// Root of the transaction accumulator after executing `height`...
    pub accumulator_root: Hash,
    /// ...and its number of leaves (transactions in the ledger).
    pub accumulator_size: u64,
}

impl Canonical for LedgerCheckpoint {
    const DOMAIN: &'static str = "waybill/ledger-checkpoint/v1";
}

/// For messages: every field, named, in plain words (no Rust debug text).
impl std::fmt::Display for LedgerCheckpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "chain {} height {} block {} state root {} accumulator root {} of {} leaves",
            self.chain_id,
            self.height,
            self.block_hash,
            self.state_root,
            self.accumulator_root,
            self.accumulator_size
        )
    }
}

impl LedgerCheckpoint {
    pub fn hash(&self) -> Hash {
        digest(self)
    }
}

/// One validator's signature over a checkpoint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckpointVote {
    pub validator: PublicKey,
    pub signature: Signature,
}

impl CheckpointVote {
    pub fn sign(key: &KeyPair, checkpoint: &LedgerCheckpoint) -> CheckpointVote {
        CheckpointVote {
            validator: key.public(),
            signature: key.sign(checkpoint),
        }
    }

    /// Checks the signature only (not membership in the validator set).
    pub fn verify(&self, checkpoint: &LedgerCheckpoint) -> Result<(), CertificateError> {
        self.validator
            .verify(checkpoint, &self.signature)
            .map_err(|_| CertificateError::BadSignature {
                validator: self.validator.to_hex(),
                height: checkpoint.height,
            })
    }
}

/// A checkpoint with signatures from a quorum of the genesis validators' voting power.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LedgerCertificate {
    pub checkpoint: LedgerCheckpoint,
    pub signatures: Vec<CheckpointVote>,
}

impl Canonical for LedgerCertificate {
    const DOMAIN: &'static str = "waybill/ledger-certificate/v1";
}

/// Why a ledger certificate does not certify its checkpoint.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CertificateError {
    #[error("certificate is for chain {found:?}, the genesis file is for chain {expected:?}")]
    WrongChain { expected: String, found: String },
    #[error("certificate carries {count} signatures, more than the {max} validators possible")]
    TooManySignatures { count: usize, max: usize },
    #[error("signer {validator} is not a validator in the genesis file")]
    NotAValidator { validator: String },
    #[error("validator {validator} signed the certificate more than once")]
    DuplicateSigner { validator: String },
    #[error(
        "signature of validator {validator} over the checkpoint at height {height} is invalid"
    )]
    BadSignature { validator: String, height: u64 },
    #[error("signers hold voting power {power}, below the quorum {quorum}")]
    BelowQuorum { power: u64, quorum: u64 },
    #[error("vote of {validator} is for another checkpoint than the one at height {height}")]
    OtherCheckpoint { validator: String, height: u64 },
}

impl LedgerCertificate {
    /// Checks, in order: the chain id, every signer is a distinct genesis validator, every
    /// signature is valid, and the signers' power reaches the quorum. Returns the signers' power.
    pub fn verify(&self, genesis: &Genesis) -> Result<u64, CertificateError> {
        self.check_signers(genesis, |vote| vote.verify(&self.checkpoint))
    }

    /// [`Self::verify`], keeping the proof of it in the type.
    pub fn verified(self, genesis: &Genesis) -> Result<VerifiedCertificate, CertificateError> {
        let power = self.verify(genesis)?;
        Ok(VerifiedCertificate { cert: self, power })
    }

    /// The one rule of what a certificate needs: `verify` and [`VerifiedCertificate::from_checked_votes`]
    /// differ only in whether the signatures are checked here (`signature`) or were before.
    fn check_signers(
        &self,
        genesis: &Genesis,
        signature: impl Fn(&CheckpointVote) -> Result<(), CertificateError>,
    ) -> Result<u64, CertificateError> {
        if self.checkpoint.chain_id != genesis.chain_id {
            return Err(CertificateError::WrongChain {
                expected: genesis.chain_id.clone(),
                found: self.checkpoint.chain_id.clone(),
            });
        }
        if self.signatures.len() > MAX_CERTIFICATE_SIGNERS {
            return Err(CertificateError::TooManySignatures {
                count: self.signatures.len(),
                max: MAX_CERTIFICATE_SIGNERS,
            });
        }
        let mut seen = BTreeSet::new();
        let mut power = 0u64;
        for vote in &self.signatures {
            let index = genesis.validator_index(&vote.validator).ok_or_else(|| {
                CertificateError::NotAValidator {
                    validator: vote.validator.to_hex(),
                }
            })?;
            if !seen.insert(index) {
                return Err(CertificateError::DuplicateSigner {
                    validator: vote.validator.to_hex(),
                });
            }
            signature(vote)?;
            power = power.saturating_add(genesis.validators[index].power);
        }
        let quorum = genesis.quorum_power();
        if power < quorum {
            return Err(CertificateError::BelowQuorum { power, quorum });
        }
        Ok(power)
    }
}

/// A checkpoint vote whose signature was checked over its checkpoint when it arrived, so that a
/// certificate formed from such votes need not check them again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckedVote {
    checkpoint: LedgerCheckpoint,
    vote: CheckpointVote,
}

impl CheckedVote {
    pub fn check(
        checkpoint: LedgerCheckpoint,
        vote: CheckpointVote,
    ) -> Result<Self, CertificateError> {
        vote.verify(&checkpoint)?;
        Ok(CheckedVote { checkpoint, vote })
    }

    pub fn checkpoint(&self) -> &LedgerCheckpoint {
        &self.checkpoint
    }

    pub fn vote(&self) -> &CheckpointVote {
        &self.vote
    }
}

/// A certificate that met [`LedgerCertificate::verify`]'s rules against a validator set: the only
/// kind a store keeps. Each signature is checked once, either here or as a [`CheckedVote`]; a
/// validator used to check a formed certificate's signatures three times (as votes, before
/// storing, and in the store), a tenth of its CPU at a hundred blocks a second.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedCertificate {
    cert: LedgerCertificate,
    power: u64,
}

impl VerifiedCertificate {
    /// A certificate of `checkpoint` from votes checked one by one: the set's rules (chain,
    /// distinct members, quorum) are checked here, the signatures are not checked again.
    pub fn from_checked_votes<'a>(
        checkpoint: &LedgerCheckpoint,
        votes: impl IntoIterator<Item = &'a CheckedVote>,
        genesis: &Genesis,
    ) -> Result<Self, CertificateError> {
        let mut signatures = Vec::new();
        for checked in votes {
            if checked.checkpoint != *checkpoint {
                return Err(CertificateError::OtherCheckpoint {
                    validator: checked.vote.validator.to_hex(),
                    height: checkpoint.height,
                });
            }
            signatures.push(checked.vote.clone());
        }
        let cert = LedgerCertificate {
            checkpoint: checkpoint.clone(),
            signatures,
        };
        let power = cert.check_signers(genesis, |_| Ok(()))?;
        Ok(VerifiedCertificate { cert, power })
    }

    pub fn certificate(&self) -> &LedgerCertificate {
        &self.cert
    }

    pub fn into_certificate(self) -> LedgerCertificate {
        self.cert
    }

    /// The signers' voting power.
    pub fn power(&self) -> u64 {
        self.power
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(i: u8) -> KeyPair {
        KeyPair::from_secret([i + 1; 32])
    }

    fn four_validators() -> Genesis {
        let keys: Vec<_> = (0..4)
            .map(|i| (key(i).public(), key(i + 10).public()))
            .collect();
        Genesis::of_validators("cert-test", &keys)
    }

    fn checkpoint() -> LedgerCheckpoint {
        LedgerCheckpoint {
            chain_id: "cert-test".into(),
            height: 7,
            block_hash: Hash([1; 32]),
            state_root: Hash([2; 32]),
            accumulator_root: Hash([3; 32]),
            accumulator_size: 42,
        }
    }

    fn signed_by(signers: &[u8]) -> LedgerCertificate {
        let checkpoint = checkpoint();
        LedgerCertificate {
            signatures: signers
                .iter()
                .map(|&i| CheckpointVote::sign(&key(i), &checkpoint))
                .collect(),
            checkpoint,
        }
    }

    #[test]
    fn a_quorum_of_distinct_validators_certifies() {
        assert_eq!(signed_by(&[0, 1, 2]).verify(&four_validators()), Ok(3));
        assert_eq!(signed_by(&[3, 1, 0, 2]).verify(&four_validators()), Ok(4));
    }

    #[test]
    fn below_quorum_duplicates_outsiders_and_other_chains_fail() {
        let g = four_validators();
        assert_eq!(
            signed_by(&[0, 1]).verify(&g),
            Err(CertificateError::BelowQuorum {
                power: 2,
                quorum: 3
            })
        );
        assert!(matches!(
            signed_by(&[0, 1, 1]).verify(&g),
            Err(CertificateError::DuplicateSigner { .. })
        ));
        assert!(matches!(
            signed_by(&[0, 1, 9]).verify(&g),
            Err(CertificateError::NotAValidator { .. })
        ));
        let mut other_chain = g.clone();
        other_chain.chain_id = "another".into();
        assert!(matches!(
            signed_by(&[0, 1, 2]).verify(&other_chain),
            Err(CertificateError::WrongChain { .. })
        ));
    }

    fn checked(signers: &[u8], over: &LedgerCheckpoint) -> Vec<CheckedVote> {
        signers
            .iter()
            .map(|&i| {
                CheckedVote::check(over.clone(), CheckpointVote::sign(&key(i), over)).unwrap()
            })
            .collect()
    }

    #[test]
    fn a_certificate_from_checked_votes_obeys_the_same_rules_as_one_verified_whole() {
        let g = four_validators();
        let cp = checkpoint();
        let formed =
            VerifiedCertificate::from_checked_votes(&cp, &checked(&[2, 0, 1], &cp), &g).unwrap();
        assert_eq!(formed.power(), 3);
        // What it certifies verifies whole, signatures and all.
        assert_eq!(formed.certificate().verify(&g), Ok(3));
        assert_eq!(signed_by(&[2, 0, 1]).verified(&g).unwrap().power(), 3);

        assert!(matches!(
            VerifiedCertificate::from_checked_votes(&cp, &checked(&[0, 1], &cp), &g),
            Err(CertificateError::BelowQuorum {
                power: 2,
                quorum: 3
            })
        ));
        assert!(matches!(
            VerifiedCertificate::from_checked_votes(&cp, &checked(&[0, 1, 9], &cp), &g),
            Err(CertificateError::NotAValidator { .. })
        ));
        // A vote checked over another checkpoint does not certify this one.
        let mut other = cp.clone();
        other.state_root.0[0] ^= 1;
        let mut votes = checked(&[0, 1], &cp);
        votes.extend(checked(&[2], &other));
        assert!(matches!(
            VerifiedCertificate::from_checked_votes(&cp, &votes, &g),
            Err(CertificateError::OtherCheckpoint { height: 7, .. })
        ));
        // And a vote whose signature is not over its checkpoint is never checked.
        assert!(matches!(
            CheckedVote::check(other, CheckpointVote::sign(&key(0), &cp)),
            Err(CertificateError::BadSignature { .. })
        ));
    }

    #[test]
    fn every_checkpoint_field_is_signed() {
        let g = four_validators();
        let mutations: Vec<fn(&mut LedgerCheckpoint)> = vec![
            |c| c.chain_id.push('x'),
            |c| c.height += 1,
            |c| c.block_hash.0[0] ^= 1,
            |c| c.state_root.0[31] ^= 1,
            |c| c.accumulator_root.0[5] ^= 1,
            |c| c.accumulator_size += 1,
        ];
        for mutate in mutations {
            let mut cert = signed_by(&[0, 1, 2]);
            mutate(&mut cert.checkpoint);
            assert!(cert.verify(&g).is_err(), "{:?}", cert.checkpoint);
        }
        let mut cert = signed_by(&[0, 1, 2]);
        cert.signatures[1].signature.0[0] ^= 1;
        assert!(matches!(
            cert.verify(&g),
            Err(CertificateError::BadSignature { .. })
        ));
    }
}
