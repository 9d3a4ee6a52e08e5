//! The validator set from genesis: membership, voting power, leaders, and certificate checks.

use std::collections::BTreeMap;

use ledger::crypto::verify_batch;
use ledger::genesis::quorum_of;
use ledger::{Genesis, Hash, PublicKey};

use crate::reject::Reject;
use crate::types::{QuorumCert, Round, TimeoutCert, TimeoutData, VoteData};

#[derive(Clone, Debug)]
pub struct ValidatorSet {
    /// Genesis hash: the chain every signed object names.
    pub chain: Hash,
    pub chain_id: String,
    keys: Vec<PublicKey>,
    powers: Vec<u64>,
    index: BTreeMap<PublicKey, u16>,
    total: u64,
    quorum: u64,
}

impl ValidatorSet {
    pub fn from_genesis(genesis: &Genesis) -> ValidatorSet {
        let keys: Vec<PublicKey> = genesis.validators.iter().map(|v| v.consensus_key).collect();
        let powers: Vec<u64> = genesis.validators.iter().map(|v| v.power).collect();
        let total = powers.iter().sum();
        ValidatorSet {
            chain: genesis.hash(),
            chain_id: genesis.chain_id.clone(),
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
    /// Round-robin leader in genesis order.
    pub fn leader(&self, round: Round) -> PublicKey {
        self.keys[(round % self.keys.len() as u64) as usize]
    }

    /// The well-known certificate of the genesis block, accepted by every node for round 0.
    pub fn genesis_qc(&self, genesis_block_id: Hash) -> QuorumCert {
        QuorumCert {
            vote_data: VoteData {
                chain: self.chain,
                block_id: genesis_block_id,
                round: 0,
                parent_id: Hash::ZERO,
                parent_round: 0,
            },
            signatures: vec![],
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

    /// Checks a QC: right chain, a quorum of distinct validators, every signature valid.
    /// The genesis QC (no signatures) is valid only if it is exactly the well-known one.
    pub fn verify_qc(&self, qc: &QuorumCert, genesis_block_id: Hash) -> Result<(), Reject> {
        if qc.vote_data.chain != self.chain {
            return Err(Reject::WrongChain {
                what: "quorum certificate",
            });
        }
        if qc.signatures.is_empty() {
            return if *qc == self.genesis_qc(genesis_block_id) {
                Ok(())
            } else {
                Err(bad("unsigned certificate is not the genesis certificate"))
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
    pub fn verify_tc(&self, tc: &TimeoutCert, genesis_block_id: Hash) -> Result<(), Reject> {
        if tc.chain != self.chain || tc.high_qc.vote_data.chain != self.chain {
            return Err(Reject::WrongChain {
                what: "timeout certificate",
            });
        }
        self.check_signers(tc.entries.iter().map(|e| e.0))?;
        if tc.high_qc.round() != tc.max_high_qc_round() {
            return Err(bad("TC high QC is not the highest reported"));
        }
        if tc.entries.iter().any(|e| e.1 >= tc.round) {
            return Err(bad("TC entry reports a QC round not below the TC round"));
        }
        self.verify_qc(&tc.high_qc, genesis_block_id)?;
        let datas: Vec<TimeoutData> = tc
            .entries
            .iter()
            .map(|e| TimeoutData {
                chain: self.chain,
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
