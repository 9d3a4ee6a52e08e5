//! The validator set of one epoch: membership, voting power, leaders, and certificate checks.
//! Epoch 0's set is the genesis validators; each later epoch's is what the committed state named
//! after the block that ended the epoch before (see `ledger::governance`). A certificate or
//! message counts only in its own epoch: one of another epoch is [`Reject::WrongEpoch`].

use std::collections::BTreeMap;

use ledger::crypto::verify_batch;
use ledger::genesis::quorum_of;
use ledger::governance::EpochSet;
use ledger::{Genesis, Hash, PublicKey};

use crate::reject::Reject;
use crate::types::{QuorumCert, Round, TimeoutCert, TimeoutData, VoteData};

#[derive(Clone, Debug)]
pub struct ValidatorSet {
    /// Genesis hash: the chain every signed object names.
    pub chain: Hash,
    pub chain_id: String,
    /// The epoch this set signs in.
    pub epoch: u64,
    /// Round of the epoch's root block (the genesis block, or the block that ended the epoch
    /// before): the epoch's first round follows it.
    pub root_round: Round,
    keys: Vec<PublicKey>,
    powers: Vec<u64>,
    index: BTreeMap<PublicKey, u16>,
    total: u64,
    quorum: u64,
}

impl ValidatorSet {
    /// Epoch 0: the genesis validators, rooted at the genesis block (round 0).
    pub fn from_genesis(genesis: &Genesis) -> ValidatorSet {
        Self::for_epoch(genesis, &EpochSet::genesis(genesis), 0)
    }

    /// The set of `set.epoch`, whose root block has round `root_round`.
    pub fn for_epoch(genesis: &Genesis, set: &EpochSet, root_round: Round) -> ValidatorSet {
        let keys: Vec<PublicKey> = set.validators.iter().map(|v| v.consensus_key).collect();
        let powers: Vec<u64> = set.validators.iter().map(|v| v.power).collect();
        let total = powers.iter().sum();
        ValidatorSet {
            chain: genesis.hash(),
            chain_id: genesis.chain_id.clone(),
            epoch: set.epoch,
            root_round,
            index: keys
                .iter()
                .enumerate()
                .map(|(i, k)| (*k, i as u16))
                .collect(),
            keys,
            powers,
            total,
            quorum: quorum_of(total),
        }
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
    pub fn keys(&self) -> &[PublicKey] {
        &self.keys
    }
    pub fn index_of(&self, key: &PublicKey) -> Option<u16> {
        self.index.get(key).copied()
    }
    pub fn power_of(&self, index: u16) -> u64 {
        self.powers.get(index as usize).copied().unwrap_or(0)
    }
    /// Voting power for a certificate: floor(2 * total / 3) + 1.
    pub fn quorum(&self) -> u64 {
        self.quorum
    }
    /// Power that guarantees at least one honest member: total - quorum + 1 (f + 1).
    pub fn validity(&self) -> u64 {
        self.total - self.quorum + 1
    }
    /// Whether messages and certificates of `epoch` count with this set.
    pub fn check_message_epoch(&self, what: &'static str, epoch: u64) -> Result<(), Reject> {
        self.check_epoch(what, epoch)
    }
    /// Round-robin leader in the set's order (rounds keep counting across epochs).
    pub fn leader(&self, round: Round) -> PublicKey {
        self.keys[(round % self.keys.len() as u64) as usize]
    }

    /// The well-known certificate of the epoch's root block (for epoch 0, the genesis block),
    /// accepted by every node of the epoch: the first block of the epoch extends it. It has no
    /// signatures, so it commits nothing.
    pub fn root_qc(&self, root_id: Hash) -> QuorumCert {
        QuorumCert {
            vote_data: VoteData {
                chain: self.chain,
                epoch: self.epoch,
                block_id: root_id,
                round: self.root_round,
                parent_id: Hash::ZERO,
                parent_round: 0,
            },
            signatures: vec![],
        }
    }

    /// [`ValidatorSet::root_qc`] under its epoch-0 name.
    pub fn genesis_qc(&self, genesis_block_id: Hash) -> QuorumCert {
        self.root_qc(genesis_block_id)
    }

    fn check_epoch(&self, what: &'static str, epoch: u64) -> Result<(), Reject> {
        if epoch == self.epoch {
            Ok(())
        } else {
            Err(Reject::WrongEpoch {
                what,
                epoch,
                current: self.epoch,
            })
        }
    }

    fn check_signers<I: Iterator<Item = u16>>(&self, indices: I) -> Result<(), Reject> {
        let mut power = 0u64;
        let mut last: Option<u16> = None;
        for i in indices {
            if last.is_some_and(|l| l >= i) {
                return Err(bad("signers not sorted or repeated"));
            }
            if i as usize >= self.keys.len() {
                return Err(bad("signer index out of range"));
            }
            power += self.powers[i as usize];
            last = Some(i);
        }
        if power < self.quorum {
            return Err(bad("signers below quorum power"));
        }
        Ok(())
    }

    /// Checks a QC: right chain, this epoch, a quorum of distinct validators, every signature
    /// valid. The root QC (no signatures) is valid only if it is exactly the well-known one of
    /// the epoch's root block `root_id`.
    pub fn verify_qc(&self, qc: &QuorumCert, root_id: Hash) -> Result<(), Reject> {
        if qc.vote_data.chain != self.chain {
            return Err(Reject::WrongChain {
                what: "quorum certificate",
            });
        }
        self.check_epoch("quorum certificate", qc.vote_data.epoch)?;
        if qc.signatures.is_empty() {
            return if *qc == self.root_qc(root_id) {
                Ok(())
            } else {
                Err(bad(
                    "unsigned certificate is not the epoch's root certificate",
                ))
            };
        }
        if qc.vote_data.round == 0 || qc.vote_data.parent_round >= qc.vote_data.round {
            return Err(bad(
                "certified round must be above its parent's and above 0",
            ));
        }
        self.check_signers(qc.signatures.iter().map(|s| s.0))?;
        let items: Vec<_> = qc
            .signatures
            .iter()
            .map(|(i, sig)| (&self.keys[*i as usize], &qc.vote_data, sig))
            .collect();
        verify_batch(&items).map_err(|_| Reject::BadSignature {
            what: "quorum certificate",
        })
    }

    /// Checks a TC: right chain, a quorum of distinct validators each signing the round and its
    /// own high QC round, and a valid high QC whose round is the highest reported.
    pub fn verify_tc(&self, tc: &TimeoutCert, root_id: Hash) -> Result<(), Reject> {
        if tc.chain != self.chain || tc.high_qc.vote_data.chain != self.chain {
            return Err(Reject::WrongChain {
                what: "timeout certificate",
            });
        }
        self.check_epoch("timeout certificate", tc.epoch)?;
        self.check_signers(tc.entries.iter().map(|e| e.0))?;
        if tc.high_qc.round() != tc.max_high_qc_round() {
            return Err(bad("TC high QC is not the highest reported"));
        }
        if tc.entries.iter().any(|e| e.1 >= tc.round) {
            return Err(bad("TC entry reports a QC round not below the TC round"));
        }
        self.verify_qc(&tc.high_qc, root_id)?;
        let datas: Vec<TimeoutData> = tc
            .entries
            .iter()
            .map(|e| TimeoutData {
                chain: self.chain,
                epoch: self.epoch,
                round: tc.round,
                high_qc_round: e.1,
            })
            .collect();
        let items: Vec<_> = tc
            .entries
            .iter()
            .zip(&datas)
            .map(|(e, d)| (&self.keys[e.0 as usize], d, &e.2))
            .collect();
        verify_batch(&items).map_err(|_| Reject::BadSignature {
            what: "timeout certificate",
        })
    }
}

fn bad(reason: &str) -> Reject {
    Reject::BadCertificate {
        reason: reason.into(),
    }
}
