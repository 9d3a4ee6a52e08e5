//! The Byzantine validator's lies: messages and answers built from real ones, signed with its
//! real key where a signature must pass.

use consensus::{Block, ConsensusMsg, Proposal, Vote, VoteData};
use engine::mem_store::MemStore;
use engine::payload::TxBatch;
use engine::wire::{self, SyncRequest, WireConsensus};
use engine::NodeStore;
use ledger::proof::{CheckpointVote, LedgerCertificate, LedgerCheckpoint};
use ledger::stored::StoredBlock;
use ledger::tx::{Payload, Transaction, MAX_MEMO_BYTES};
use ledger::{Hash, KeyPair, SignedTransaction};

/// Memos of the largest size in an oversized block: about 3.6 MiB in all, more than a block's
/// transactions may take (`ledger::block::MAX_BLOCK_TX_BYTES`, 3 MiB) and less than a consensus
/// message may (4 MiB), so the replicas' payload check is what must refuse it.
const BIG_MEMOS: u64 = 900;

/// `len` bytes that decode as no message of any protocol: the first byte is an enum tag that
/// no wire format has (the rest is noise, different each turn).
pub fn junk(turn: u64, len: usize) -> Vec<u8> {
    let mut bytes = vec![0u8; len.max(1)];
    blake3::Hasher::new()
        .update(b"byzantine junk")
        .update(&turn.to_le_bytes())
        .finalize_xof()
        .fill(&mut bytes);
    bytes[0] = 0xFF;
    bytes
}

fn noise_hash(turn: u64) -> Hash {
    Hash(*blake3::hash(&turn.to_le_bytes()).as_bytes())
}

fn memo_tx(key: &KeyPair, chain_id: &str, sequence: u64, data: Vec<u8>) -> SignedTransaction {
    Transaction {
        chain_id: chain_id.into(),
        signer: key.public(),
        sequence,
        payload: Payload::Memo { data },
    }
    .sign(key)
}

/// A valid transaction nobody submitted, to make a second proposal differ from the first.
pub fn stray_memo(chain_id: &str, turn: u64) -> SignedTransaction {
    memo_tx(
        &KeyPair::from_secret([0xB2; 32]),
        chain_id,
        turn,
        b"equivocation".to_vec(),
    )
}

/// Valid transactions whose sum is over a block's byte limit.
pub fn big_transactions(chain_id: &str) -> Vec<SignedTransaction> {
    let key = KeyPair::from_secret([0xB3; 32]);
    (0..BIG_MEMOS)
        .map(|seq| memo_tx(&key, chain_id, seq, vec![b'x'; MAX_MEMO_BYTES]))
        .collect()
}

/// `p` with `txs` as its transactions, signed again by the leader's key: a proposal whose
/// signature, certificates and tx root are all valid.
pub fn resign(
    chain: Hash,
    p: &Proposal<TxBatch>,
    txs: Vec<SignedTransaction>,
    key: &KeyPair,
) -> Proposal<TxBatch> {
    let payload = TxBatch::new(txs);
    let mut header = p.block.header.clone();
    header.tx_root = consensus::Payload::digest(&payload);
    // The epoch of the block's own certificate: this network never changes its set.
    let epoch = p.block.qc().map_or(0, |qc| qc.epoch());
    Proposal::sign(chain, epoch, Block { header, payload }, p.tc.clone(), key)
}

/// A second vote for the round of `vote`, for a block that does not exist.
pub fn other_vote(vote: &Vote, key: &KeyPair, turn: u64) -> Vote {
    let mut data = vote.data.clone();
    data.block_id = noise_hash(turn);
    Vote::new(data, key)
}

/// A vote for `round` signed for another chain (as a validator that also serves on another
/// network would have sent there).
pub fn another_chains_vote(round: u64, key: &KeyPair) -> Vote {
    Vote::new(
        VoteData {
            chain: Hash([0xCC; 32]),
            epoch: 0,
            block_id: Hash([1; 32]),
            round,
            parent_id: Hash([2; 32]),
            parent_round: round.saturating_sub(1),
        },
        key,
    )
}

/// Whether `bytes` is a consensus message with an author (a proposal, vote or timeout): passed
/// off as another's, it is the sender's lie.
pub fn is_signed(bytes: &[u8]) -> bool {
    matches!(
        wire::decode_consensus(bytes),
        Ok(WireConsensus::Compact(_))
            | Ok(WireConsensus::Full(
                ConsensusMsg::Proposal(_) | ConsensusMsg::Vote(_) | ConsensusMsg::Timeout(_)
            ))
    )
}

/// The committed blocks `from..=to` (at most a sync answer's worth).
pub fn committed_blocks(store: &MemStore, from: u64, to: u64) -> Vec<StoredBlock> {
    (from..=to)
        .take(wire::MAX_BLOCKS_PER_SYNC as usize)
        .map_while(|h| store.block_by_height(h).ok().flatten())
        .collect()
}

/// Changes every record in one of the ways a lying peer would (the receiver already holds some
/// of them, so all are changed); returns the lie's description.
pub fn lie_about(records: &mut [StoredBlock], turn: u64) -> &'static str {
    match turn % 3 {
        0 => {
            for r in records.iter_mut() {
                r.accumulator_root_after = Hash([0xEE; 32]);
            }
            "lie: wrong accumulator root"
        }
        1 => {
            for r in records.iter_mut() {
                // A byte of the last signature.
                let at = r.certificate.len().saturating_sub(10);
                if let Some(b) = r.certificate.get_mut(at) {
                    *b ^= 1;
                }
            }
            "lie: forged certificate"
        }
        _ => {
            for r in records.iter_mut() {
                r.block.header.timestamp_ms ^= 1;
            }
            "lie: another fork's blocks"
        }
    }
}

/// The ledger certificates it holds from `from` on, each with one signature spoiled.
pub fn forged_certificates(store: &MemStore, from: u64, max: u32) -> Vec<LedgerCertificate> {
    (from..from.saturating_add(u64::from(max.min(8))))
        .filter_map(|h| store.ledger_certificate(h).ok().flatten())
        .map(|mut c| {
            if let Some(s) = c.signatures.first_mut() {
                s.signature.0[9] ^= 1;
            }
            c
        })
        .collect()
}

/// A checkpoint vote request for a checkpoint nobody computed at `height`, signed by `key`
/// (spoiled with `bad_signature`).
pub fn checkpoint_vote(chain_id: &str, height: u64, key: &KeyPair, bad_signature: bool) -> Vec<u8> {
    let checkpoint = LedgerCheckpoint {
        chain_id: chain_id.into(),
        height,
        block_hash: noise_hash(height),
        state_root: Hash([5; 32]),
        accumulator_root: Hash([6; 32]),
        accumulator_size: 1,
    };
    let mut vote = CheckpointVote::sign(key, &checkpoint);
    if bad_signature {
        vote.signature.0[3] ^= 1;
    }
    wire::encode_request(&SyncRequest::CheckpointVote { checkpoint, vote })
}
