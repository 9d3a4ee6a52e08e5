//! The engine's wire formats (`waybill_engine::wire`), every byte a validator's peers send it
//! beyond the network's framing: consensus messages (whole, or compact proposals that name
//! transactions by hash), sync requests and sync answers, and catch-up's check of committed
//! blocks. The first byte picks the decoder.
//!
//! - decoding is strict: what decodes re-encodes to the very bytes;
//! - a compact proposal rebuilds from a pool exactly when the pool holds every transaction it
//!   names, into a proposal with its header (so its block id); a proposal made compact, whichever
//!   transactions go by hash, rebuilds to itself; the places a replica would fetch are exactly
//!   those of the named transactions the pool lacks, and the proposer's transactions at named
//!   places are accepted, the same rotated by one are not (unless all are equal);
//! - catch-up's check (`catchup::verify_committed`) of committed blocks from genesis returns a
//!   prefix of them, by consecutive heights from 1, the last committed by a valid certificate of
//!   the fuzz chain's validators; ledger certificates in an answer verify or fail, typed.

use std::sync::OnceLock;

use consensus::{ConsensusMsg, ValidatorSet};
use engine::catchup::verify_committed;
use engine::payload::TxBatch;
use engine::wire::{self, CompactProposal, SignaturePin, SyncResponse, TxRef, WireConsensus};
use ledger::store_api::Head;
use ledger::{Hash, SignedTransaction};

use crate::fixtures::{self, CHAIN_ID};

fn pool() -> &'static [SignedTransaction] {
    static POOL: OnceLock<Vec<SignedTransaction>> = OnceLock::new();
    POOL.get_or_init(|| crate::seeds::transactions(CHAIN_ID))
}

fn lookup(txs: &[SignedTransaction]) -> impl Fn(&Hash) -> Option<SignedTransaction> + '_ {
    |h| txs.iter().find(|t| t.hash() == *h).cloned()
}

fn validators() -> &'static ValidatorSet {
    static SET: OnceLock<ValidatorSet> = OnceLock::new();
    SET.get_or_init(|| ValidatorSet::from_genesis(fixtures::genesis()))
}

fn genesis_block_id() -> Hash {
    consensus::genesis_block::<TxBatch>(fixtures::genesis()).id()
}

fn compact(c: &CompactProposal) {
    // The pool is found by hash, as the engine's mempool is: a named transaction is held when
    // the pool's copy carries the pinned signature.
    let held = |r: &TxRef| match r {
        TxRef::Hash { tx, signature } => {
            lookup(pool())(tx).is_some_and(|t| SignaturePin::of(&t.signature) == *signature)
        }
        TxRef::Body(_) => true,
    };
    let rebuilt = c.rebuild(lookup(pool()));
    assert_eq!(rebuilt.is_some(), c.txs.iter().all(held));
    // What a replica asks the proposer for: the places of exactly the named transactions not
    // held (up to the last place an index can name).
    let missing = c.missing(|h, pin| {
        lookup(pool())(h).is_some_and(|t| SignaturePin::of(&t.signature) == *pin)
    });
    let not_held: Vec<u16> = c
        .txs
        .iter()
        .enumerate()
        .filter(|(_, r)| !held(r))
        .filter_map(|(i, _)| u16::try_from(i).ok())
        .collect();
    assert_eq!(missing, not_held);
    if let Some(p) = rebuilt {
        // The transactions the proposer serves for the named places are named there; the
        // same ones one place off are not, unless they are the same.
        let named: Vec<u16> = c
            .txs
            .iter()
            .enumerate()
            .filter(|(_, r)| matches!(r, TxRef::Hash { .. }))
            .filter_map(|(i, _)| u16::try_from(i).ok())
            .collect();
        let served: Vec<SignedTransaction> = named
            .iter()
            .map(|&i| p.block.payload.txs[usize::from(i)].clone())
            .collect();
        assert!(c.names_at(&named, &served));
        if !served.is_empty() {
            let mut shifted = served.clone();
            shifted.rotate_left(1);
            assert_eq!(c.names_at(&named, &shifted), shifted == served);
        }
        assert_eq!(p.block.header, c.header);
        assert_eq!(p.block.id(), c.block_id());
        assert_eq!(p.block.payload.txs.len(), c.txs.len());
        assert_eq!(
            CompactProposal::of(&p, |_| false).rebuild(|_| None),
            Some(p)
        );
    }
    let empty = c.with_payload(TxBatch::default());
    assert_eq!(empty.block.id(), c.block_id());
}

fn consensus(bytes: &[u8]) {
    let Ok(msg) = wire::decode_consensus(bytes) else {
        return;
    };
    match &msg {
        WireConsensus::Full(m) => {
            assert_eq!(wire::encode_consensus(m), bytes, "not canonical");
            if let ConsensusMsg::Proposal(p) = m {
                let txs = &p.block.payload.txs;
                // Every other transaction by hash: the receiver rebuilds the very proposal.
                let c = CompactProposal::of(p, |t| {
                    txs.iter().position(|x| x == t).unwrap_or(0) % 2 == 0
                });
                let back = wire::decode_consensus(&wire::encode_compact(&c));
                assert_eq!(back, Ok(WireConsensus::Compact(c.clone())));
                // Rebuilt from a pool found by hash: the very proposal, or nothing when the
                // pool's copy of a named transaction carries another signature (two signatures
                // of one transaction, as this target once found: the pin makes the replica
                // fetch the leader's block instead of storing other bytes).
                match c.rebuild(lookup(txs)) {
                    Some(q) => assert_eq!(&q, p),
                    None => assert!(txs.iter().any(|t| lookup(txs)(&t.hash())
                        .is_some_and(|first| first.signature != t.signature))),
                }
                compact(&c);
            }
        }
        WireConsensus::Compact(c) => {
            assert_eq!(wire::encode_compact(c), bytes, "not canonical");
            compact(c);
        }
        WireConsensus::CheckpointVote { checkpoint, vote } => {
            assert_eq!(
                wire::encode_checkpoint_vote(checkpoint, vote),
                bytes,
                "not canonical"
            );
        }
    }
}

fn request(bytes: &[u8]) {
    if let Ok(req) = wire::decode_request(bytes) {
        assert_eq!(wire::encode_request(&req), bytes, "not canonical");
    }
}

fn response(bytes: &[u8]) {
    let Ok(resp) = wire::decode_response(bytes) else {
        return;
    };
    assert_eq!(wire::encode_response(&resp), bytes, "not canonical");
    let _ = resp.kind();
    match &resp {
        SyncResponse::Committed(records) => {
            let head = Head {
                height: 0,
                hash: genesis_block_id(),
            };
            if let Ok(blocks) =
                verify_committed(CHAIN_ID, validators(), genesis_block_id(), head, records)
            {
                assert!(blocks.len() <= records.len());
                for (b, height) in blocks.iter().zip(1..) {
                    assert_eq!(b.block.header.height, height);
                }
            }
        }
        SyncResponse::LedgerCertificates(certs) => {
            for c in certs {
                let _ = c.verify(fixtures::genesis());
            }
        }
        _ => {}
    }
}

pub fn run(data: &[u8]) {
    let Some((which, bytes)) = data.split_first() else {
        return;
    };
    match which % 3 {
        0 => consensus(bytes),
        1 => request(bytes),
        _ => response(bytes),
    }
}
