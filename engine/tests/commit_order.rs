//! A round's answer leaves before the commit the round decided is applied.
//!
//! A replica learns that a block committed from the proposal it votes for; a leader from the
//! certificate it extends. Executing and storing the committed block (an fsync on a real disk)
//! in the same call put that work between the message that arrived and the vote or proposal
//! that answers it, in every round at every validator. Here four nodes exchange their messages
//! directly (no delays, no faults), and every call of `handle` is looked at: none may both send
//! a vote or proposal and report a committed block. The shell carries out a call's effects only
//! once the call returns, so a commit applied in the call that sends delays the send.

mod sim;

use std::collections::VecDeque;

use consensus::ConsensusMsg;
use ledger::tx::{Payload as TxPayload, Transaction};
use ledger::KeyPair;
use waybill_engine::mem_store::MemStore;
use waybill_engine::mempool::SharedMempool;
use waybill_engine::wire::{self, WireConsensus};
use waybill_engine::{Effect, Event, Node, NodeConfig};

const N: usize = 4;
/// Deliveries in the run: enough for dozens of rounds.
const MAX_DELIVERIES: usize = 4_000;

fn validator_key(i: usize) -> KeyPair {
    let mut secret = [0u8; 32];
    secret[..8].copy_from_slice(&(i as u64 + 1).to_le_bytes());
    secret[31] = 0xA5;
    KeyPair::from_secret(secret)
}

/// Whether `bytes` is a vote or a proposal: a round's answer.
fn answers_a_round(bytes: &[u8]) -> bool {
    match wire::decode_consensus(bytes) {
        Ok(WireConsensus::Compact(_)) => true,
        Ok(WireConsensus::Full(m)) => {
            matches!(m, ConsensusMsg::Proposal(_) | ConsensusMsg::Vote(_))
        }
        Ok(WireConsensus::CheckpointVote { .. }) | Err(_) => false,
    }
}

struct Net {
    nodes: Vec<Node<u32, MemStore>>,
    pools: Vec<SharedMempool>,
    queue: VecDeque<(usize, Event<u32>)>,
    now: u64,
    /// Committed heights reported, per node.
    committed: Vec<Vec<u64>>,
    /// Calls that sent a vote or proposal and also reported a commit: (node, heights).
    mixed: Vec<(usize, Vec<u64>)>,
}

impl Net {
    fn new() -> Net {
        let genesis = sim::genesis(N);
        let mut net = Net {
            nodes: Vec::new(),
            pools: Vec::new(),
            queue: VecDeque::new(),
            now: 1,
            committed: vec![Vec::new(); N],
            mixed: Vec::new(),
        };
        for i in 0..N {
            let pool = sim::mempool(&genesis);
            let config = NodeConfig {
                genesis: genesis.clone(),
                key: validator_key(i),
                mempool: pool.clone(),
            };
            let (node, effects) =
                Node::start(config, MemStore::new(&genesis), sim::parse_peer, 0).expect("starts");
            net.nodes.push(node);
            net.pools.push(pool);
            net.route(i, effects);
        }
        for i in 0..N {
            for p in 0..N as u32 {
                if p != i as u32 {
                    net.call(i, Event::PeerConnected(p));
                }
            }
        }
        net
    }

    fn call(&mut self, i: usize, event: Event<u32>) {
        let effects = self.nodes[i]
            .handle(self.now, event)
            .expect("no engine error");
        self.route(i, effects);
    }

    fn route(&mut self, i: usize, effects: Vec<Effect<u32>>) {
        let mut answers = false;
        let mut heights = Vec::new();
        for effect in effects {
            match effect {
                Effect::Send { to, bytes } => {
                    answers |= answers_a_round(&bytes);
                    let from = i as u32;
                    self.queue
                        .push_back((to as usize, Event::Consensus { from, bytes }));
                }
                Effect::Broadcast { bytes } => {
                    answers |= answers_a_round(&bytes);
                    for to in (0..N).filter(|&to| to != i) {
                        let (from, bytes) = (i as u32, bytes.clone());
                        self.queue.push_back((to, Event::Consensus { from, bytes }));
                    }
                }
                Effect::Committed(c) => heights.push(c.summary.height),
                // Checkpoint votes, fetches, gossip: not needed by a fault-free run whose
                // transactions every node holds.
                _ => {}
            }
        }
        if answers && !heights.is_empty() {
            self.mixed.push((i, heights.clone()));
        }
        self.committed[i].extend(heights);
    }

    /// Every node a memo of its own client, admitted to every mempool (as gossip would).
    fn submit_round_of_memos(&mut self, sequence: u64) {
        for k in 0..N {
            let key = KeyPair::from_secret([0x40 + k as u8; 32]);
            let tx = Transaction {
                chain_id: "sim".into(),
                signer: key.public(),
                sequence,
                payload: TxPayload::Memo {
                    data: b"commit order".to_vec(),
                },
            }
            .sign(&key);
            for i in 0..N {
                let store = self.nodes[i].store();
                let admitted = self.pools[i].lock().submit_batch(
                    vec![tx.clone()],
                    &sim::View(store),
                    self.now,
                );
                assert!(admitted[0].is_ok(), "admitted: {admitted:?}");
            }
        }
        for i in 0..N {
            self.call(i, Event::TxAdmitted);
        }
    }

    /// Wakes every node that asked to be woken by now, then delivers one message; a node's
    /// wake comes before the next message, as a shell with nothing else to do would make it.
    fn step(&mut self) -> bool {
        for i in 0..N {
            if self.nodes[i].next_wake() <= self.now {
                self.call(i, Event::Wake);
            }
        }
        let Some((to, event)) = self.queue.pop_front() else {
            return false;
        };
        self.now += 1;
        self.call(to, event);
        true
    }
}

#[test]
fn no_call_both_answers_a_round_and_applies_a_commit() {
    let mut net = Net::new();
    for sequence in 0..10 {
        net.submit_round_of_memos(sequence);
        for _ in 0..MAX_DELIVERIES / 10 {
            if !net.step() {
                break;
            }
        }
    }
    let least = net.committed.iter().map(Vec::len).min().unwrap_or(0);
    assert!(
        least >= 10,
        "every node commits the memos' blocks (commits per node: {:?})",
        net.committed.iter().map(Vec::len).collect::<Vec<_>>()
    );
    assert!(
        net.mixed.is_empty(),
        "{} calls sent a vote or proposal and applied a commit in the same call; the first: \
         node {} applied heights {:?}",
        net.mixed.len(),
        net.mixed[0].0,
        net.mixed[0].1
    );
}
