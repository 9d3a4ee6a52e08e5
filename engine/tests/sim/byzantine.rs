//! The Byzantine catalogue. A Byzantine validator runs the honest engine (so it can sign valid
//! messages and follow the chain) and then lies: [`twist`] rewrites what its engine sends,
//! [`answer`] answers peers' sync requests itself, and [`tick`] injects what no honest engine
//! would send. Each behaviour is a switch of the plan (`plan::Behaviour`).

use std::collections::{BTreeMap, VecDeque};

use consensus::{Block, ConsensusMsg, Payload, Proposal, Vote, VoteData};
use ledger::encoding::to_canonical;
use ledger::proof::{CheckpointVote, LedgerCheckpoint};
use ledger::stored::StoredBlock;
use ledger::supply::json::JsonValue;
use ledger::supply::payload::Commission;
use ledger::tx::{Payload as TxPayload, Transaction};
use ledger::{Hash, KeyPair, SignedTransaction};
use rand::seq::SliceRandom;
use rand::Rng;
use waybill_engine::payload::TxBatch;
use waybill_engine::wire::{
    self, decode_consensus, encode_compact, encode_consensus, CompactProposal, SyncRequest,
    SyncResponse, WireConsensus,
};
use waybill_engine::{Effect, NodeStore};

use super::plan::Behaviour;
use super::World;

/// Most old messages a replaying validator keeps.
const MAX_SEEN: usize = 64;

#[derive(Default)]
pub struct State {
    /// Blocks it proposed under false pretences, by id, to serve when asked.
    forged: BTreeMap<Hash, Block<TxBatch>>,
    /// Ids of proposals whose block it will never serve.
    ghosts: Vec<Hash>,
    /// Messages it sent, for replays.
    seen: VecDeque<Vec<u8>>,
    /// Valid transactions of about 17 KiB each, made once.
    big: Vec<SignedTransaction>,
}

fn has(world: &World, inst: usize, b: Behaviour) -> bool {
    world.insts[inst].byzantine.contains(&b)
}

fn key_of(world: &World, inst: usize) -> KeyPair {
    KeyPair::from_secret(world.keys[world.insts[inst].key].secret_bytes())
}

fn chain(world: &World) -> Hash {
    world.genesis.hash()
}

/// Rewrites a Byzantine instance's effects.
pub fn twist(world: &mut World, inst: usize, effects: Vec<Effect<u32>>) -> Vec<Effect<u32>> {
    let mut out = Vec::new();
    for effect in effects {
        let bytes = match &effect {
            Effect::Send { bytes, .. } | Effect::Broadcast { bytes } => bytes.clone(),
            _ => {
                out.push(effect);
                continue;
            }
        };
        if has(world, inst, Behaviour::Replay) {
            let seen = &mut world.insts[inst].byz.seen;
            if seen.len() >= MAX_SEEN {
                seen.pop_front();
            }
            seen.push_back(bytes.clone());
        }
        match decode_consensus(&bytes) {
            Ok(WireConsensus::Compact(compact)) => {
                out.extend(twist_proposal(world, inst, compact, effect));
            }
            Ok(WireConsensus::Full(ConsensusMsg::Vote(_)))
                if has(world, inst, Behaviour::WithholdVotes) => {}
            _ => out.push(effect),
        }
    }
    out
}

fn twist_proposal(
    world: &mut World,
    inst: usize,
    compact: CompactProposal,
    original: Effect<u32>,
) -> Vec<Effect<u32>> {
    if has(world, inst, Behaviour::SilentLeader) {
        return vec![];
    }
    // The whole proposal, from this node's own mempool (it proposed those transactions).
    let Some(proposal) = ({
        let pool = world.insts[inst].mempool.lock();
        compact.rebuild(|h| pool.get(h).cloned())
    }) else {
        return vec![original];
    };
    let mut choices = Vec::new();
    for b in [
        Behaviour::OversizeBlocks,
        Behaviour::BadTransactions,
        Behaviour::GhostProposals,
        Behaviour::Equivocate,
        Behaviour::FalseTime,
    ] {
        if has(world, inst, b) {
            choices.push(b);
        }
    }
    let Some(&behaviour) = choices.choose(world.rng()) else {
        return vec![original];
    };
    let key = key_of(world, inst);
    match behaviour {
        Behaviour::OversizeBlocks => {
            if world.insts[inst].byz.big.is_empty() {
                world.insts[inst].byz.big = big_transactions(world, 300);
            }
            let txs = world.insts[inst].byz.big.clone();
            if world.rng().gen_bool(0.5) {
                // About 4.8 MiB: beyond a block's limit, inside a sync answer. Named by hash, so
                // the replicas fetch the block from this node (and must not vote for it: a
                // block this large once stopped every replica that voted, when persisting it
                // failed).
                let forged = resign(world, &proposal, txs, &key);
                let id = forged.block.id();
                world.insts[inst]
                    .byz
                    .forged
                    .insert(id, forged.block.clone());
                let c = CompactProposal::of(&forged, |_| true);
                vec![Effect::Broadcast {
                    bytes: encode_compact(&c),
                }]
            } else {
                // About 3.6 MiB whole: inside the consensus message limit, beyond a block's.
                let forged = resign(world, &proposal, txs[..210].to_vec(), &key);
                vec![Effect::Broadcast {
                    bytes: encode_consensus(&ConsensusMsg::Proposal(forged)),
                }]
            }
        }
        Behaviour::BadTransactions => {
            let mut txs = proposal.block.payload.txs.as_ref().clone();
            let byz_client = KeyPair::from_secret([0xB0; 32]);
            let bad = if world.rng().gen_bool(0.5) {
                let mut t = memo(&byz_client, "sim", 7);
                t.signature.0[5] ^= 1;
                t
            } else {
                memo(&byz_client, "another-chain", 7)
            };
            txs.push(SignedTransaction::new(bad.tx.clone(), bad.signature));
            let forged = resign(world, &proposal, txs, &key);
            vec![Effect::Broadcast {
                bytes: encode_consensus(&ConsensusMsg::Proposal(forged)),
            }]
        }
        Behaviour::GhostProposals => {
            let mut txs = proposal.block.payload.txs.as_ref().clone();
            txs.push(memo(&KeyPair::from_secret([0xB1; 32]), "sim", world.now));
            let forged = resign(world, &proposal, txs, &key);
            world.insts[inst].byz.ghosts.push(forged.block.id());
            let c = CompactProposal::of(&forged, |_| true);
            vec![Effect::Broadcast {
                bytes: encode_compact(&c),
            }]
        }
        Behaviour::Equivocate => {
            let mut txs = proposal.block.payload.txs.as_ref().clone();
            txs.push(memo(&KeyPair::from_secret([0xB2; 32]), "sim", world.now));
            let other = resign(world, &proposal, txs, &key);
            let me = world.insts[inst].peer;
            let mut out = Vec::new();
            for p in 0..world.plan.n as u32 {
                if p == me {
                    continue;
                }
                let p_msg = if world.rng().gen_bool(0.5) {
                    &proposal
                } else {
                    &other
                };
                out.push(Effect::Send {
                    to: p,
                    bytes: encode_consensus(&ConsensusMsg::Proposal(p_msg.clone())),
                });
            }
            out
        }
        Behaviour::FalseTime => {
            // Before the parent (where the parent has a time above zero) or far ahead of every
            // clock: refused before the vote, counted against it.
            let mut header = proposal.block.header.clone();
            header.timestamp_ms = if world.rng().gen_bool(0.5) {
                0
            } else {
                world.now + consensus::MAX_CLOCK_AHEAD_MS + world.rng().gen_range(1..1_000_000)
            };
            let epoch = proposal.block.qc().map_or(0, |qc| qc.epoch());
            let forged = Proposal::sign(
                chain(world),
                epoch,
                Block {
                    header,
                    payload: proposal.block.payload.clone(),
                },
                proposal.tc.clone(),
                &key,
            );
            vec![Effect::Broadcast {
                bytes: encode_consensus(&ConsensusMsg::Proposal(forged)),
            }]
        }
        _ => vec![original],
    }
}

/// The proposal with `txs` as its payload, signed again by `key`.
fn resign(
    world: &World,
    p: &Proposal<TxBatch>,
    txs: Vec<SignedTransaction>,
    key: &KeyPair,
) -> Proposal<TxBatch> {
    let payload = TxBatch::new(txs);
    let mut header = p.block.header.clone();
    header.tx_root = payload.digest();
    let epoch = p.block.qc().map_or(0, |qc| qc.epoch());
    Proposal::sign(
        chain(world),
        epoch,
        Block { header, payload },
        p.tc.clone(),
        key,
    )
}

fn memo(key: &KeyPair, chain_id: &str, sequence: u64) -> SignedTransaction {
    Transaction {
        chain_id: chain_id.into(),
        signer: key.public(),
        sequence,
        payload: TxPayload::Memo {
            data: b"byzantine".to_vec(),
        },
    }
    .sign(key)
}

/// `n` valid transactions of about 17 KiB each (commissions with sixteen 1 KiB properties).
fn big_transactions(world: &World, n: usize) -> Vec<SignedTransaction> {
    let key = KeyPair::from_secret([0xB3; 32]);
    let value = JsonValue::parse(&format!("\"{}\"", "x".repeat(1_000))).expect("a JSON string");
    (0..n as u64)
        .map(|seq| {
            Transaction {
                chain_id: world.genesis.chain_id.clone(),
                signer: key.public(),
                sequence: seq,
                payload: TxPayload::Commission(Commission {
                    item_id: format!("big-{seq}"),
                    item_type: "pallet".into(),
                    properties: (0..16)
                        .map(|i| (format!("p{i:02}"), value.clone()))
                        .collect(),
                    location: None,
                }),
            }
            .sign(&key)
        })
        .collect()
}

/// A Byzantine instance answering a peer's sync request itself (`None`: let its engine answer).
pub fn answer(world: &mut World, inst: usize, _from: u32, bytes: &[u8]) -> Option<Vec<u8>> {
    if world.insts[inst].byzantine.is_empty() {
        return None;
    }
    let request = wire::decode_request(bytes).ok()?;
    if has(world, inst, Behaviour::Garbage) && world.rng().gen_bool(0.2) {
        let len = world.rng().gen_range(0..200);
        return Some((0..len).map(|_| world.rng().gen()).collect());
    }
    let response = match request {
        SyncRequest::Fetch { id, .. } => {
            if let Some(block) = world.insts[inst].byz.forged.get(&id) {
                SyncResponse::Blocks(vec![block.clone()])
            } else if world.insts[inst].byz.ghosts.contains(&id) {
                SyncResponse::Blocks(vec![])
            } else {
                return None;
            }
        }
        SyncRequest::Transactions { block, indices } => {
            if let Some(forged) = world.insts[inst].byz.forged.get(&block) {
                let txs = &forged.payload.txs;
                let served = indices.iter().filter_map(|&i| txs.get(i as usize).cloned());
                SyncResponse::Transactions(served.collect())
            } else if world.insts[inst].byz.ghosts.contains(&block)
                || has(world, inst, Behaviour::LyingSync)
            {
                // Nothing, or as many transactions as asked for, none of them the ones named.
                let key = KeyPair::from_secret([0xB4; 32]);
                let count = if world.rng().gen_bool(0.5) {
                    0
                } else {
                    indices.len()
                };
                let chain_id = world.genesis.chain_id.clone();
                SyncResponse::Transactions(
                    (0..count as u64)
                        .map(|s| memo(&key, &chain_id, s))
                        .collect(),
                )
            } else {
                return None;
            }
        }
        _ if !has(world, inst, Behaviour::LyingSync) => return None,
        SyncRequest::Head => {
            let head = world.insts[inst].store.head()?;
            let lie = world.rng().gen_range(0..1_000);
            SyncResponse::Head {
                height: head.height + lie,
                hash: Hash([7; 32]),
            }
        }
        SyncRequest::Committed { from_height, .. } => {
            let store = world.insts[inst].store.clone();
            let mut records = Vec::new();
            for h in from_height..from_height + 8 {
                match store.block_by_height(h) {
                    Ok(Some(b)) => records.push(b),
                    _ => break,
                }
            }
            if records.is_empty() {
                return None;
            }
            lie_about(world, &mut records);
            SyncResponse::Committed(records.iter().map(to_canonical).collect())
        }
        SyncRequest::LedgerCertificates { from_height, .. } => {
            let store = world.insts[inst].store.clone();
            let mut certs = Vec::new();
            for h in from_height..from_height + 4 {
                if let Ok(Some(mut c)) = store.ledger_certificate(h) {
                    if let Some(s) = c.signatures.first_mut() {
                        s.signature.0[9] ^= 1;
                    }
                    certs.push(c);
                }
            }
            SyncResponse::LedgerCertificates(certs)
        }
        SyncRequest::CheckpointVote { .. } => return None,
    };
    Some(wire::encode_response(&response))
}

/// One of the ways to lie about committed blocks.
fn lie_about(world: &mut World, records: &mut Vec<StoredBlock>) {
    let i = world.rng().gen_range(0..records.len());
    match world.rng().gen_range(0..5) {
        // A root no quorum signed.
        0 => records[i].accumulator_root_after = Hash([0xEE; 32]),
        // A forged certificate.
        1 => {
            if let Some(b) = records[i].certificate.get_mut(40) {
                *b ^= 1;
            }
        }
        // Another fork's block: the chain breaks there.
        2 => records[i].block.header.timestamp_ms ^= 1,
        // A chain that stops short of any proof.
        3 => records.truncate(i),
        // A certificate from elsewhere: the next block's.
        _ => {
            if i + 1 < records.len() {
                records[i].certificate = records[i + 1].certificate.clone();
            }
        }
    }
}

/// What a Byzantine validator injects on its own, every few dozen milliseconds.
pub fn tick(world: &mut World, inst: usize) {
    if world.insts[inst].node.is_none() {
        return;
    }
    let me = world.insts[inst].peer;
    let peers: Vec<u32> = (0..world.plan.n as u32).filter(|p| *p != me).collect();
    let Some(&to) = peers.choose(world.rng()) else {
        return;
    };
    if has(world, inst, Behaviour::Garbage) {
        let len = world.rng().gen_range(0..300);
        let junk: Vec<u8> = (0..len).map(|_| world.rng().gen()).collect();
        let effect = if world.rng().gen_bool(0.5) {
            Effect::Send { to, bytes: junk }
        } else {
            Effect::Request {
                to,
                id: None,
                bytes: junk,
            }
        };
        world.carry_out(inst, effect);
    }
    if has(world, inst, Behaviour::Replay) {
        let seen = world.insts[inst].byz.seen.len();
        if seen > 0 {
            let i = world.rng().gen_range(0..seen);
            let bytes = world.insts[inst].byz.seen[i].clone();
            world.carry_out(inst, Effect::Send { to, bytes });
        }
        // A vote signed for another chain.
        let key = key_of(world, inst);
        let vote = Vote::new(
            VoteData {
                chain: Hash([0xCC; 32]),
                epoch: 0,
                block_id: Hash([1; 32]),
                round: world.now / 100,
                parent_id: Hash([2; 32]),
                parent_round: 0,
            },
            &key,
        );
        world.carry_out(
            inst,
            Effect::Send {
                to,
                bytes: encode_consensus(&ConsensusMsg::Vote(vote)),
            },
        );
    }
    if has(world, inst, Behaviour::CheckpointSpam) {
        let head = world.insts[inst].store.head().map_or(0, |h| h.height);
        let key = key_of(world, inst);
        let checkpoint = LedgerCheckpoint {
            chain_id: world.genesis.chain_id.clone(),
            height: match world.rng().gen_range(0..3) {
                0 => head + 1_000_000,
                1 => head,
                _ => head.saturating_sub(1),
            },
            block_hash: Hash([world.rng().gen(); 32]),
            state_root: Hash([5; 32]),
            accumulator_root: Hash([6; 32]),
            accumulator_size: 1,
        };
        let mut vote = CheckpointVote::sign(&key, &checkpoint);
        if world.rng().gen_bool(0.3) {
            vote.signature.0[0] ^= 1;
        }
        // On the consensus link, as honest validators send them, or as a sync request, as
        // older builds did (still taken).
        let on_link = world.rng().gen_bool(0.5);
        let bytes = if on_link {
            wire::encode_checkpoint_vote(&checkpoint, &vote)
        } else {
            wire::encode_request(&SyncRequest::CheckpointVote { checkpoint, vote })
        };
        for _ in 0..world.rng().gen_range(1..8) {
            let bytes = bytes.clone();
            let effect = if on_link {
                Effect::Send { to, bytes }
            } else {
                Effect::Request {
                    to,
                    id: None,
                    bytes,
                }
            };
            world.carry_out(inst, effect);
        }
    }
}
