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
}

impl LedgerCertificate {
    /// Checks, in order: the chain id, every signer is a distinct genesis validator, every
    /// signature is valid, and the signers' power reaches the quorum. Returns the signers' power.
    pub fn verify(&self, genesis: &Genesis) -> Result<u64, CertificateError> {
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
            vote.verify(&self.checkpoint)?;
            power = power.saturating_add(genesis.validators[index].power);
        }
        let quorum = genesis.quorum_power();
        if power < quorum {
            return Err(CertificateError::BelowQuorum { power, quorum });
        }
        Ok(power)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::genesis::{peer_id_of, ConsensusParams, Validator};

    fn key(i: u8) -> KeyPair {
        KeyPair::from_secret([i + 1; 32])
    }

    fn four_validators() -> Genesis {
        Genesis {
            chain_id: "cert-test".into(),
            genesis_time_ms: 0,
            consensus: ConsensusParams::default(),
            validators: (0..4)
                .map(|i| Validator {
                    name: format!("v{i}"),
                    consensus_key: key(i).public(),
                    peer_id: peer_id_of(&key(i + 10).public().0),
                    power: 1,
                })
                .collect(),
            organizations: vec![],
            accounts: vec![],
            governance: None,
            observers: vec![],
        }
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
