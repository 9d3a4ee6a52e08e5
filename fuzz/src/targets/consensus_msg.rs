//! Consensus messages as they arrive from a peer: `ConsensusMsg` canonical bytes (proposal,
//! vote, timeout, sync info) with the node's transaction payload, decoded under the consensus
//! message limit, then checked the way the core checks them before any state changes.
//!
//! - decoding is strict: what decodes re-encodes to the same bytes;
//! - every accessor a handler calls first (round, the block's QC, ids, commit rule) answers
//!   without panicking on any values, e.g. rounds at `u64::MAX`;
//! - certificate checks against the four-validator set return a typed `Reject`, and accept
//!   only certificates with a quorum of distinct validators of this chain;
//! - a proposal's transactions decode strictly too.

use consensus::{ConsensusMsg, QuorumCert, Reject, TimeoutCert, ValidatorSet};
use ledger::encoding::{from_canonical, to_canonical};

use crate::fixtures;
use crate::payload::Txs;

/// The network's consensus message limit (`node::driver::wire::MAX_CONSENSUS_BYTES`).
pub const MAX_CONSENSUS_BYTES: usize = 4 << 20;

pub fn run(data: &[u8]) {
    let Ok(msg) =
        from_canonical::<ConsensusMsg<Txs>>("consensus message", data, MAX_CONSENSUS_BYTES)
    else {
        return;
    };
    assert_eq!(to_canonical(&msg), data, "one encoding per message");
    let _ = msg.round();
    let validators = ValidatorSet::from_genesis(fixtures::genesis());
    let genesis_id = consensus::genesis_block::<Txs>(fixtures::genesis()).id();
    match &msg {
        ConsensusMsg::Proposal(p) => {
            let _ = (p.block.id(), p.round(), p.author());
            if let Ok(qc) = p.block.qc() {
                check_qc(&validators, &qc, genesis_id);
            }
            if let Some(tc) = &p.tc {
                check_tc(&validators, tc, genesis_id);
            }
            for t in &p.block.payload.txs {
                let bytes = t.to_bytes();
                if let Ok(back) = ledger::SignedTransaction::from_bytes(&bytes) {
                    assert_eq!(&back, t);
                }
            }
        }
        ConsensusMsg::Vote(v) => {
            let _ = v.author.verify(&v.data, &v.signature);
        }
        ConsensusMsg::Timeout(t) => {
            let _ = t.author.verify(&t.data, &t.signature);
            check_qc(&validators, &t.high_qc, genesis_id);
            if let Some(tc) = &t.last_tc {
                check_tc(&validators, tc, genesis_id);
            }
        }
        ConsensusMsg::SyncInfo(s) => {
            check_qc(&validators, &s.high_qc, genesis_id);
            if let Some(tc) = &s.high_tc {
                check_tc(&validators, tc, genesis_id);
            }
        }
    }
}

/// What a valid QC must be, checked independently of `verify_qc`'s own code.
pub fn check_qc(validators: &ValidatorSet, qc: &QuorumCert, genesis_id: ledger::Hash) {
    let _ = (qc.commits(), qc.hash(), qc.to_bytes());
    match validators.verify_qc(qc, genesis_id) {
        Ok(()) if qc.signatures.is_empty() => {
            assert_eq!(qc, &validators.genesis_qc(genesis_id));
        }
        Ok(()) => {
            assert_eq!(qc.vote_data.chain, validators.chain);
            assert!(qc.vote_data.round > qc.vote_data.parent_round);
            assert_quorum(validators, qc.signatures.iter().map(|s| s.0));
        }
        Err(r) => typed(r),
    }
}

pub fn check_tc(validators: &ValidatorSet, tc: &TimeoutCert, genesis_id: ledger::Hash) {
    let _ = tc.max_high_qc_round();
    match validators.verify_tc(tc, genesis_id) {
        Ok(()) => {
            assert_eq!(tc.chain, validators.chain);
            assert_eq!(tc.high_qc.round(), tc.max_high_qc_round());
            assert!(tc.entries.iter().all(|e| e.1 < tc.round));
            assert_quorum(validators, tc.entries.iter().map(|e| e.0));
        }
        Err(r) => typed(r),
    }
}

fn assert_quorum(validators: &ValidatorSet, signers: impl Iterator<Item = u16>) {
    let signers: Vec<u16> = signers.collect();
    assert!(signers.windows(2).all(|w| w[0] < w[1]), "sorted, distinct");
    assert!(signers.iter().all(|i| (*i as usize) < validators.len()));
    let power: u64 = signers.iter().map(|i| validators.power_of(*i)).sum();
    assert!(power >= validators.quorum());
}

fn typed(r: Reject) {
    let _ = r.to_string();
}
