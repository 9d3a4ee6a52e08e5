//! Whole engines (`waybill_engine::Node` over `MemStore`) against a hostile validator and a
//! hostile network. Validators 0, 1 and 2 of the fuzz chain run honest engines; validator 3 is
//! the fuzzer's, and so is the network: the input is a program that delivers, reorders, drops
//! and fails the honest nodes' messages and requests, lets time pass, submits transactions,
//! connects and disconnects peers, restarts nodes, and has the hostile validator (or a peer
//! outside the validator set) send raw bytes, replays and mutations of what it saw, sync requests
//! of every kind, and answers of its own (raw, replayed, or an honest node's answer passed on,
//! mutated or not) to the requests made to it.
//!
//! - `handle` never returns an error and `start` on a node's own store never fails: only a
//!   node's own storage may stop it, never a peer's bytes;
//! - every message an honest node sends decodes, within the wire limits; every reply answers a
//!   request it was given, once;
//! - the honest nodes agree on every committed height (hash, state root, accumulator root);
//! - no honest validator is ever charged with an offence about its bytes (undecodable, invalid,
//!   equivocation, bad answers, false claims): only the hostile one and the stranger are (one
//!   whose store lost writes in a crash excepted: it may serve a head none of its certificates
//!   proves, and catch-up rightly refuses that);
//! - every consensus buffer stays within its bound (`Core::over_bound`);
//! - liveness: after the program, with the network delivering everything (the hostile
//!   validator silent), every honest node commits two more blocks within a bounded time (unless
//!   a store lost writes: that node is a second fault).

use std::collections::{BTreeMap, VecDeque};

use consensus::Millis;
use engine::mem_store::MemStore;
use engine::mempool::{LedgerView, Mempool, MempoolLimits, SharedMempool};
use engine::wire::{self, SyncRequest, SyncResponse, WireConsensus};
use engine::{Effect, Event, Node, NodeConfig, NodeStore, ReplyId, RequestFailed, RequestId};
use ledger::proof::{CheckpointVote, LedgerCheckpoint};
use ledger::tx::{Payload as TxPayload, Transaction};
use ledger::{Hash, PublicKey, SignedTransaction};

use crate::bytes::Reader;
use crate::fixtures::{self, CHAIN_ID};

type P = u32;
/// Validators running honest engines.
pub const HONEST: usize = 3;
/// The hostile validator's peer.
const HOSTILE: P = 3;
/// A peer outside the validator set.
const STRANGER: P = 9;
/// Most operations one program runs.
pub const MAX_OPS: usize = 256;
/// Most messages in flight; beyond it the oldest is lost (its request fails).
const MAX_IN_FLIGHT: usize = 256;
/// Messages the hostile validator remembers for replays.
const MAX_SEEN: usize = 64;
/// Offences an honest validator may be charged with: losing a proposal's block to the network
/// looks like a proposer that does not serve it.
const TOLERATED: &[&str] = &["unserved_proposal"];
/// Simulated time the final phase allows for two commits at every honest node.
const LIVENESS_MS: Millis = 120_000;

/// Whether to print what happens (`WAYBILL_FUZZ_TRACE=1`, for a crash's replay).
fn tracing() -> bool {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("WAYBILL_FUZZ_TRACE").is_some())
}

macro_rules! trace {
    ($($arg:tt)*) => {
        if tracing() {
            eprintln!($($arg)*);
        }
    };
}

/// The genesis validators' network ids map to peers 0..N.
fn parse_peer(s: &str) -> Option<P> {
    fixtures::genesis()
        .validators
        .iter()
        .position(|v| v.peer_id == s)
        .map(|i| i as P)
}

struct View<'a>(&'a MemStore);

impl LedgerView for View<'_> {
    fn next_sequence(&self, account: &PublicKey) -> u64 {
        ledger::execute::next_sequence(self.0, account).unwrap_or(0)
    }
    fn is_committed(&self, tx: &Hash) -> bool {
        self.0.is_committed(tx).unwrap_or(false)
    }
}

#[derive(Clone, Debug)]
enum Msg {
    Consensus {
        from: usize,
        to: usize,
        bytes: Vec<u8>,
    },
    Request {
        from: usize,
        to: usize,
        id: Option<RequestId>,
        bytes: Vec<u8>,
    },
    Response {
        to: usize,
        id: RequestId,
        bytes: Vec<u8>,
    },
}

/// Where a node's reply goes.
#[derive(Clone, Copy, Debug)]
enum ReplyTo {
    /// An honest node's request (`None`: one whose answer does not matter).
    Node(usize, Option<RequestId>),
    /// The hostile validator's own request: it only looks.
    Hostile,
    /// The hostile validator passes the answer on to an honest node's request made to it,
    /// flipping a byte at `flip` first if set.
    Proxy(usize, RequestId, Option<(usize, u8)>),
}

/// A committed block as every honest node must see it.
type CommitView = (Hash, Hash, Hash);

struct Honest {
    node: Option<Node<P, MemStore>>,
    store: MemStore,
    mempool: SharedMempool,
}

/// What the world's messages were, by kind, for the wire target's seeds.
#[derive(Default)]
pub struct Transcript {
    pub consensus: Vec<Vec<u8>>,
    pub requests: Vec<Vec<u8>>,
    pub responses: Vec<Vec<u8>>,
}

pub struct World {
    honest: Vec<Honest>,
    now: Millis,
    in_flight: VecDeque<Msg>,
    replies: BTreeMap<(usize, ReplyId), ReplyTo>,
    next_reply: u64,
    /// Requests whose message the network lost, to fail at their askers.
    failures: VecDeque<(usize, RequestId)>,
    /// Requests honest nodes made to the hostile validator, awaiting its answer.
    asked_hostile: Vec<(usize, RequestId, Vec<u8>)>,
    /// What the hostile validator saw (consensus messages, requests and answers to it).
    seen: VecDeque<Vec<u8>>,
    /// Block ids seen in proposals (for the hostile validator's fetches).
    block_ids: Vec<Hash>,
    committed: BTreeMap<u64, CommitView>,
    /// Honest nodes whose store lost writes in a crash: they may serve a head that no
    /// certificate of theirs proves, which their peers rightly refuse.
    lost_writes: [bool; HONEST],
    /// Each honest node's highest commit effect.
    heights: [u64; HONEST],
    /// Next sequence number of each account, as submitted.
    sequences: [u64; 4],
    pub transcript: Option<Transcript>,
}

fn limits() -> MempoolLimits {
    MempoolLimits {
        capacity: 64,
        per_account: 16,
        sequence_window: 16,
    }
}

impl World {
    pub fn new() -> World {
        let genesis = fixtures::genesis();
        let mut world = World {
            honest: Vec::new(),
            now: 0,
            in_flight: VecDeque::new(),
            replies: BTreeMap::new(),
            next_reply: 0,
            failures: VecDeque::new(),
            asked_hostile: Vec::new(),
            seen: VecDeque::new(),
            block_ids: vec![consensus::genesis_block::<engine::payload::TxBatch>(genesis).id()],
            committed: BTreeMap::new(),
            heights: [0; HONEST],
            lost_writes: [false; HONEST],
            sequences: [0; 4],
            transcript: None,
        };
        for i in 0..HONEST {
            world.honest.push(Honest {
                node: None,
                store: MemStore::new(genesis),
                mempool: SharedMempool::new(Mempool::new(CHAIN_ID.into(), limits())),
            });
            world.start(i);
        }
        world
    }

    /// Starts (or restarts) honest node `i` on its store and connects it to every validator.
    fn start(&mut self, i: usize) {
        self.forget_requests_of(i);
        let h = &mut self.honest[i];
        h.node = None;
        let config = NodeConfig {
            genesis: fixtures::genesis().clone(),
            key: fixtures::key(i).clone(),
            mempool: h.mempool.clone(),
        };
        let (node, effects) = Node::start(config, h.store.clone(), parse_peer, self.now)
            .unwrap_or_else(|e| panic!("node {i} does not start on its own store: {e}"));
        trace!(
            "node {i} starts: round {}, head {:?}, status {:?}",
            node.core().round(),
            h.store.head(),
            node.status()
        );
        h.node = Some(node);
        self.carry_out(i, effects);
        for p in 0..fixtures::N as P {
            if p as usize != i {
                self.handle(i, Event::PeerConnected(p));
            }
        }
    }

    /// A restart closes the node's connections: the answers to its requests can no longer
    /// reach it (its new request ids would take them for answers to other requests).
    fn forget_requests_of(&mut self, i: usize) {
        self.in_flight.retain(|m| match m {
            Msg::Response { to, .. } => *to != i,
            Msg::Request { from, .. } => *from != i,
            Msg::Consensus { .. } => true,
        });
        for dest in self.replies.values_mut() {
            match *dest {
                ReplyTo::Node(asker, _) | ReplyTo::Proxy(asker, _, _) if asker == i => {
                    *dest = ReplyTo::Node(i, None)
                }
                _ => {}
            }
        }
        self.asked_hostile.retain(|(asker, _, _)| *asker != i);
        self.failures.retain(|(asker, _)| *asker != i);
    }

    fn node(&self, i: usize) -> &Node<P, MemStore> {
        self.honest[i].node.as_ref().expect("started")
    }

    /// One event to honest node `i`, with every check on what it does.
    fn handle(&mut self, i: usize, event: Event<P>) {
        let now = self.now;
        trace!("t={now} node {i} <- {}", describe(&event));
        let node = self.honest[i].node.as_mut().expect("started");
        let effects = node
            .handle(now, event)
            .unwrap_or_else(|e| panic!("node {i} stopped on peer input: {e}"));
        trace!(
            "   node {i}: round {}, next wake {}",
            node.core().round(),
            node.next_wake()
        );
        self.carry_out(i, effects);
        self.check(i);
    }

    fn check(&self, i: usize) {
        let node = self.node(i);
        if let Some((buffer, len, bound)) = node.core().occupancy().over_bound() {
            panic!("node {i}: {buffer} holds {len}, its bound is {bound}");
        }
        for (peer, kinds) in &node.status().offences {
            let Ok(p) = peer.parse::<usize>() else {
                continue;
            };
            if p < HONEST && !self.lost_writes[p] {
                // Losing a proposal's block to the network looks like a proposer that does not
                // serve it; everything else is about bytes an honest node never sends.
                let about_bytes: Vec<_> = kinds
                    .iter()
                    .filter(|(k, _)| !TOLERATED.contains(k))
                    .collect();
                assert!(
                    about_bytes.is_empty(),
                    "node {i} charged honest validator {p} with {about_bytes:?}"
                );
            }
        }
    }

    fn record(&mut self, kind: u8, bytes: &[u8]) {
        if let Some(t) = &mut self.transcript {
            let list = match kind {
                0 => &mut t.consensus,
                1 => &mut t.requests,
                _ => &mut t.responses,
            };
            if list.len() < 64 && !list.iter().any(|b| b == bytes) {
                list.push(bytes.to_vec());
            }
        }
    }

    fn saw(&mut self, bytes: &[u8]) {
        if self.seen.len() == MAX_SEEN {
            self.seen.pop_front();
        }
        self.seen.push_back(bytes.to_vec());
    }

    fn send(&mut self, msg: Msg) {
        if self.in_flight.len() == MAX_IN_FLIGHT {
            let lost = self.in_flight.pop_front().expect("full");
            self.lose(lost);
        }
        self.in_flight.push_back(msg);
    }

    fn carry_out(&mut self, i: usize, effects: Vec<Effect<P>>) {
        for effect in effects {
            match effect {
                Effect::Send { to, bytes } => {
                    trace!(
                        "node {i} sends to {to}: {}",
                        describe(&Event::Consensus {
                            from: i as P,
                            bytes: bytes.clone()
                        })
                    );
                    self.consensus_out(&bytes);
                    let to = to as usize;
                    if to < HONEST {
                        self.send(Msg::Consensus { from: i, to, bytes });
                    } else {
                        self.saw(&bytes);
                    }
                }
                Effect::Broadcast { bytes } => {
                    trace!(
                        "node {i} broadcasts {}",
                        describe(&Event::Consensus {
                            from: i as P,
                            bytes: bytes.clone()
                        })
                    );
                    self.consensus_out(&bytes);
                    for to in (0..HONEST).filter(|&to| to != i) {
                        self.send(Msg::Consensus {
                            from: i,
                            to,
                            bytes: bytes.clone(),
                        });
                    }
                    self.saw(&bytes);
                }
                Effect::Request { to, id, bytes } => {
                    trace!(
                        "node {i} asks {to} ({id:?}): {:?}",
                        wire::decode_request(&bytes).map(short)
                    );
                    assert!(bytes.len() <= wire::MAX_SYNC_REQUEST_BYTES);
                    wire::decode_request(&bytes)
                        .unwrap_or_else(|e| panic!("node {i} sent a request that fails: {e}"));
                    self.record(1, &bytes);
                    let to = to as usize;
                    if to < HONEST {
                        self.send(Msg::Request {
                            from: i,
                            to,
                            id,
                            bytes,
                        });
                    } else {
                        self.saw(&bytes);
                        if let Some(id) = id {
                            self.asked_hostile.push((i, id, bytes));
                        }
                    }
                }
                Effect::Reply { to, bytes } => {
                    assert!(bytes.len() <= wire::MAX_SYNC_RESPONSE_BYTES);
                    wire::decode_response(&bytes)
                        .unwrap_or_else(|e| panic!("node {i} sent an answer that fails: {e}"));
                    self.record(2, &bytes);
                    let dest = self
                        .replies
                        .remove(&(i, to))
                        .unwrap_or_else(|| panic!("node {i} replied to {to:?}, not asked"));
                    match dest {
                        ReplyTo::Node(asker, Some(id)) => self.send(Msg::Response {
                            to: asker,
                            id,
                            bytes,
                        }),
                        ReplyTo::Node(_, None) => {}
                        ReplyTo::Hostile => self.saw(&bytes),
                        ReplyTo::Proxy(asker, id, flip) => {
                            self.saw(&bytes);
                            let mut bytes = bytes;
                            if let Some((at, x)) = flip {
                                if !bytes.is_empty() {
                                    let at = at % bytes.len();
                                    bytes[at] ^= x.max(1);
                                }
                            }
                            self.send(Msg::Response {
                                to: asker,
                                id,
                                bytes,
                            });
                        }
                    }
                }
                Effect::Committed(c) => {
                    let s = &c.summary;
                    trace!("node {i} committed {} {}", s.height, s.hash);
                    let view = (s.hash, s.state_root, s.accumulator_root);
                    let agreed = *self.committed.entry(s.height).or_insert(view);
                    assert_eq!(
                        agreed, view,
                        "node {i} committed another block at height {}",
                        s.height
                    );
                    self.heights[i] = self.heights[i].max(s.height);
                }
                Effect::Disconnect { .. } | Effect::Gossip { .. } | Effect::Members { .. } => {}
            }
        }
    }

    fn consensus_out(&mut self, bytes: &[u8]) {
        assert!(bytes.len() <= wire::MAX_CONSENSUS_BYTES);
        let msg = wire::decode_consensus(bytes)
            .unwrap_or_else(|e| panic!("an honest consensus message fails: {e}"));
        self.record(0, bytes);
        let id = match &msg {
            WireConsensus::Compact(c) => Some(c.block_id()),
            WireConsensus::Full(consensus::ConsensusMsg::Proposal(p)) => Some(p.block.id()),
            _ => None,
        };
        if let Some(id) = id {
            if !self.block_ids.contains(&id) && self.block_ids.len() < 32 {
                self.block_ids.push(id);
            }
        }
    }

    /// A message the network lost: a request or an answer fails at the asker (reported on the
    /// next step, not from inside the call that sent it).
    fn lose(&mut self, msg: Msg) {
        match msg {
            Msg::Consensus { .. } | Msg::Request { id: None, .. } => {}
            Msg::Request {
                from, id: Some(id), ..
            }
            | Msg::Response { to: from, id, .. } => self.failures.push_back((from, id)),
        }
    }

    fn report_failures(&mut self) {
        while let Some((asker, id)) = self.failures.pop_front() {
            self.fail(asker, id, "lost");
        }
    }

    fn fail(&mut self, asker: usize, id: RequestId, reason: &str) {
        let result = Err(RequestFailed {
            reason: reason.into(),
        });
        self.handle(asker, Event::SyncResponse { id, result });
    }

    fn deliver(&mut self, msg: Msg) {
        match msg {
            Msg::Consensus { from, to, bytes } => self.handle(
                to,
                Event::Consensus {
                    from: from as P,
                    bytes,
                },
            ),
            Msg::Request {
                from,
                to,
                id,
                bytes,
            } => self.ask(to, from as P, bytes, ReplyTo::Node(from, id)),
            Msg::Response { to, id, bytes } => self.handle(
                to,
                Event::SyncResponse {
                    id,
                    result: Ok(bytes),
                },
            ),
        }
    }

    /// A sync request to honest node `to`, its answer going to `reply_to`.
    fn ask(&mut self, to: usize, from: P, bytes: Vec<u8>, reply_to: ReplyTo) {
        let reply = ReplyId(self.next_reply);
        self.next_reply += 1;
        self.replies.insert((to, reply), reply_to);
        self.handle(to, Event::SyncRequest { from, bytes, reply });
    }

    /// Wakes every node that asked to be woken by now.
    fn wake_due(&mut self) {
        for i in 0..HONEST {
            if self.node(i).next_wake() <= self.now {
                self.handle(i, Event::Wake);
            }
        }
    }

    fn hostile_bytes(&mut self, r: &mut Reader) -> Vec<u8> {
        match r.u8() % 5 {
            // A checkpoint vote on the consensus link, as honest validators send them.
            3 => {
                let (checkpoint, vote) = self.hostile_checkpoint_vote(r);
                wire::encode_checkpoint_vote(&checkpoint, &vote)
            }
            0 if !self.seen.is_empty() => self.seen[r.pick(self.seen.len())].clone(),
            1 if !self.seen.is_empty() => {
                let mut b = self.seen[r.pick(self.seen.len())].clone();
                for _ in 0..=r.u8() % 4 {
                    let at = r.u16() as usize;
                    let x = r.u8().max(1);
                    if !b.is_empty() {
                        let len = b.len();
                        b[at % len] ^= x;
                    }
                }
                b
            }
            _ => r.bytes(4096).to_vec(),
        }
    }

    /// A checkpoint vote by the hostile validator (or, now and then, in another's name): on a
    /// height an honest node computed (so it may count) or on one it made up.
    fn hostile_checkpoint_vote(&mut self, r: &mut Reader) -> (LedgerCheckpoint, CheckpointVote) {
        let height = r.u8() as u64 % 8 + 1;
        let store = &self.honest[r.pick(HONEST)].store;
        let mut checkpoint =
            store
                .ledger_checkpoint(height)
                .ok()
                .flatten()
                .unwrap_or(LedgerCheckpoint {
                    chain_id: CHAIN_ID.into(),
                    height,
                    block_hash: Hash([r.u8(); 32]),
                    state_root: Hash::ZERO,
                    accumulator_root: Hash::ZERO,
                    accumulator_size: height,
                });
        if r.u8() & 3 == 0 {
            checkpoint.state_root = Hash([1; 32]);
        }
        let signer = if r.u8() & 7 == 0 {
            r.pick(fixtures::N + 1)
        } else {
            3
        };
        let vote = CheckpointVote::sign(fixtures::key(signer), &checkpoint);
        (checkpoint, vote)
    }

    fn hostile_request(&mut self, r: &mut Reader) -> Vec<u8> {
        let req = match r.u8() % 7 {
            0 => SyncRequest::Fetch {
                id: self.block_ids[r.pick(self.block_ids.len())],
                count: r.u8() as u32,
            },
            1 => SyncRequest::Head,
            2 => SyncRequest::Committed {
                from_height: r.u8() as u64,
                max_blocks: r.u8() as u32,
            },
            3 => SyncRequest::LedgerCertificates {
                from_height: r.u8() as u64,
                max: r.u8() as u32,
            },
            4 => {
                let (checkpoint, vote) = self.hostile_checkpoint_vote(r);
                SyncRequest::CheckpointVote { checkpoint, vote }
            }
            5 => SyncRequest::Transactions {
                block: self.block_ids[r.pick(self.block_ids.len())],
                indices: (0..r.u8() % 8).map(|_| u16::from(r.u8() % 4)).collect(),
            },
            _ => return self.hostile_bytes(r),
        };
        wire::encode_request(&req)
    }

    fn hostile_answer(&mut self, r: &mut Reader) -> Result<Vec<u8>, RequestFailed> {
        let resp = match r.u8() % 6 {
            0 => {
                return Err(RequestFailed {
                    reason: "hostile".into(),
                })
            }
            1 => SyncResponse::Unavailable("no".into()),
            2 => SyncResponse::Head {
                height: r.u8() as u64,
                hash: self.block_ids[r.pick(self.block_ids.len())],
            },
            3 => SyncResponse::VoteReceived,
            // Transactions for a compact proposal's fetch: the hostile validator's own memo, in
            // place of whatever was named.
            4 => SyncResponse::Transactions(
                (0..r.u8() % 3)
                    .map(|s| {
                        let key = fixtures::key(HOSTILE as usize);
                        Transaction {
                            chain_id: CHAIN_ID.into(),
                            signer: key.public(),
                            sequence: u64::from(s),
                            payload: TxPayload::Memo { data: vec![s] },
                        }
                        .sign(key)
                    })
                    .collect(),
            ),
            _ => return Ok(self.hostile_bytes(r)),
        };
        Ok(wire::encode_response(&resp))
    }

    /// A client submits a transaction at node `i`; it is gossiped to the others.
    fn submit(&mut self, i: usize, r: &mut Reader) {
        let a = r.pick(4);
        let key = fixtures::account(a);
        let sequence = self.sequences[a] + r.u8().is_multiple_of(4) as u64;
        self.sequences[a] = sequence + 1;
        let tx = Transaction {
            chain_id: CHAIN_ID.into(),
            signer: key.public(),
            sequence,
            payload: TxPayload::Memo {
                data: vec![r.u8(); (r.u8() % 64) as usize],
            },
        }
        .sign(key);
        let now = self.now;
        for (j, h) in self.honest.iter().enumerate() {
            let view = View(&h.store);
            let mut pool = h.mempool.lock();
            if j == i {
                let _ = pool.submit_batch(vec![tx.clone()], &view, now);
            } else if r.u8() & 3 != 0 {
                let _ = pool.admit_gossiped(tx.clone(), &view, now);
            }
        }
        for j in 0..HONEST {
            self.handle(j, Event::TxAdmitted);
        }
    }

    pub fn step(&mut self, r: &mut Reader) {
        self.report_failures();
        let i = r.pick(HONEST);
        trace!("-- step at node {i}");
        match r.u8() % 12 {
            // The network delivers: the oldest messages, or one of its choice.
            0..=2 => {
                for _ in 0..=r.u8() % 8 {
                    match self.in_flight.pop_front() {
                        Some(m) => self.deliver(m),
                        None => break,
                    }
                }
            }
            3 if !self.in_flight.is_empty() => {
                let k = r.pick(self.in_flight.len());
                let m = self.in_flight.remove(k).expect("in range");
                self.deliver(m);
            }
            4 if !self.in_flight.is_empty() => {
                let k = r.pick(self.in_flight.len());
                let m = self.in_flight.remove(k).expect("in range");
                self.lose(m);
            }
            // Time passes.
            5 => {
                self.now += r.u16() as Millis % 3_000;
                self.wake_due();
            }
            6 => {
                let from = if r.u8() & 7 == 0 { STRANGER } else { HOSTILE };
                let bytes = self.hostile_bytes(r);
                self.handle(i, Event::Consensus { from, bytes });
            }
            7 => {
                let from = if r.u8() & 7 == 0 { STRANGER } else { HOSTILE };
                let bytes = self.hostile_request(r);
                self.ask(i, from, bytes, ReplyTo::Hostile);
            }
            8 if !self.asked_hostile.is_empty() => {
                let (asker, id, request) = self
                    .asked_hostile
                    .swap_remove(r.pick(self.asked_hostile.len()));
                if r.u8() & 1 == 0 {
                    // Pass an honest node's answer on, maybe with one byte changed.
                    let server = (asker + 1 + r.pick(HONEST - 1)) % HONEST;
                    let flip = (r.u8() & 1 == 0).then(|| (r.u16() as usize, r.u8()));
                    self.ask(server, HOSTILE, request, ReplyTo::Proxy(asker, id, flip));
                } else {
                    let result = self.hostile_answer(r);
                    self.handle(asker, Event::SyncResponse { id, result });
                }
            }
            9 => self.submit(i, r),
            10 => {
                let p = r.pick(fixtures::N + 1) as P;
                let event = if r.u8() & 1 == 0 {
                    Event::PeerDisconnected(p)
                } else {
                    Event::PeerConnected(p)
                };
                self.handle(i, event);
            }
            11 => {
                // A crash and restart; with luck the store lost its last writes (a damaged
                // write-ahead log), which the rollback guard must take in its stride.
                let how = r.u8() & 3;
                if how == 0 {
                    let lost = self.honest[i].store.lose_tail(r.u8() as usize % 4);
                    trace!("node {i} crashes and loses {lost} writes");
                    self.lost_writes[i] |= lost > 0;
                } else if how == 1 {
                    // A power loss, perhaps while the store's last consensus write and the
                    // safety mark beside it were both in flight (the mark's write durable, the
                    // store's not): the guard must take neither for a rollback.
                    let store = &self.honest[i].store;
                    let beside = store.lose_write_beside_mark();
                    let lost = store.lose_unsynced();
                    trace!("node {i} loses power: the write beside the mark lost {beside}, {lost} unsynced writes lost");
                    self.start(i);
                    let status = self.honest[i].node.as_ref().expect("started").status();
                    assert_eq!(
                        status.rollbacks_detected, 0,
                        "node {i}: a power loss taken for a rollback (write beside the mark lost: {beside})"
                    );
                    return;
                } else {
                    trace!("node {i} crashes");
                }
                self.start(i);
            }
            _ => {}
        }
    }

    /// The network delivers everything in order, timers fire, the hostile validator is silent,
    /// and a client sends a fresh transaction to every honest node: every honest node commits
    /// it. (An idle network commits nothing, so the transaction is what is owed progress; the
    /// blocks after it may rest uncommitted when the hostile validator would lead next.)
    pub fn check_liveness(&mut self) {
        if self.lost_writes.iter().any(|&l| l) {
            // A node whose store lost writes is a second fault beside the hostile validator
            // (it may not sign again in the rounds it forgot, see `waybill_engine::guard`): no
            // liveness is owed then.
            return;
        }
        trace!("-- liveness");
        for i in 0..HONEST {
            for p in 0..HONEST as P {
                if p as usize != i {
                    self.handle(i, Event::PeerConnected(p));
                }
            }
        }
        let key = ledger::KeyPair::from_secret([0x4C; 32]);
        let fresh = Transaction {
            chain_id: CHAIN_ID.into(),
            signer: key.public(),
            sequence: 0,
            payload: TxPayload::Memo {
                data: b"liveness".to_vec(),
            },
        }
        .sign(&key);
        let now = self.now;
        for h in &self.honest {
            let view = View(&h.store);
            let _ = h
                .mempool
                .lock()
                .submit_batch(vec![fresh.clone()], &view, now);
        }
        for i in 0..HONEST {
            self.handle(i, Event::TxAdmitted);
        }
        let hash = fresh.hash();
        let target: Vec<u64> = self.heights.iter().map(|h| h + 1).collect();
        let deadline = self.now + LIVENESS_MS;
        while (0..HONEST).any(|i| {
            self.heights[i] < target[i]
                || !self.honest[i].store.is_committed(&hash).unwrap_or(false)
        }) {
            if self.now > deadline {
                for i in 0..HONEST {
                    let n = self.node(i);
                    eprintln!(
                        "node {i}: {:?}\n  safety {:?}\n  high qc round {}",
                        n.status(),
                        n.core().safety_data(),
                        n.core().high_qc().round()
                    );
                }
                panic!("stalled: heights {:?}, wanted {target:?}", self.heights);
            }
            // The hostile validator is silent: requests to it fail.
            for (asker, id, _) in std::mem::take(&mut self.asked_hostile) {
                self.fail(asker, id, "silent");
            }
            self.report_failures();
            if let Some(m) = self.in_flight.pop_front() {
                self.deliver(m);
                continue;
            }
            let next = (0..HONEST)
                .map(|i| self.node(i).next_wake())
                .min()
                .expect("nodes");
            self.now = self.now.max(next).max(self.now + 1);
            self.wake_due();
        }
    }

    pub fn heights(&self) -> [u64; HONEST] {
        self.heights
    }
}

fn describe(event: &Event<P>) -> String {
    match event {
        Event::Consensus { from, bytes } => match wire::decode_consensus(bytes) {
            Ok(WireConsensus::Full(m)) => {
                let kind = match &m {
                    consensus::ConsensusMsg::Proposal(_) => "proposal",
                    consensus::ConsensusMsg::Vote(_) => "vote",
                    consensus::ConsensusMsg::Timeout(_) => "timeout",
                    consensus::ConsensusMsg::SyncInfo(_) => "sync info",
                };
                format!("consensus from {from}: {kind} r{}", m.round())
            }
            Ok(WireConsensus::Compact(c)) => {
                format!(
                    "consensus from {from}: compact h{} r{}",
                    c.header.height, c.header.round
                )
            }
            Ok(WireConsensus::CheckpointVote { checkpoint, .. }) => {
                format!("checkpoint vote from {from}: h{}", checkpoint.height)
            }
            Err(e) => format!("consensus from {from}: {e}"),
        },
        Event::SyncRequest { from, bytes, reply } => {
            format!(
                "request {reply:?} from {from}: {:?}",
                wire::decode_request(bytes).map(short)
            )
        }
        Event::SyncResponse { id, result } => format!(
            "answer to {id:?}: {:?}",
            result
                .as_ref()
                .map(|b| wire::decode_response(b).map(|r| match r {
                    SyncResponse::Committed(b) => format!("{} committed blocks", b.len()),
                    SyncResponse::Blocks(b) => format!("{} blocks", b.len()),
                    other => format!("{other:?}"),
                }))
        ),
        other => format!("{other:?}"),
    }
}

fn short(r: SyncRequest) -> String {
    match r {
        SyncRequest::CheckpointVote { checkpoint, .. } => {
            format!("checkpoint vote h{}", checkpoint.height)
        }
        other => format!("{other:?}"),
    }
}

impl Default for World {
    fn default() -> Self {
        World::new()
    }
}

/// Runs the program; returns the world after its liveness check.
pub fn play(data: &[u8], transcript: bool) -> World {
    let mut world = World::new();
    if transcript {
        world.transcript = Some(Transcript::default());
    }
    let mut r = Reader::new(data);
    let mut ops = 0;
    while !r.is_empty() && ops < MAX_OPS {
        world.step(&mut r);
        ops += 1;
    }
    world.check_liveness();
    world
}

pub fn run(data: &[u8]) {
    play(data, false);
}

/// Some signed transactions of the fuzz chain (for the wire target's rebuilds).
pub fn pool_txs() -> Vec<SignedTransaction> {
    crate::seeds::transactions(CHAIN_ID)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The seeds reach deep states: the honest program commits blocks with its transactions at
    /// every node before the liveness phase; the hostile one gets the hostile validator charged
    /// and survives restarts.
    #[test]
    fn seed_programs_commit_and_charge_the_hostile_validator() {
        let seeds = crate::seeds::engine_programs();
        let honest = play(&seeds[0], false);
        assert!(
            honest.heights().iter().all(|&h| h >= 4),
            "{:?}",
            honest.heights()
        );
        assert!(honest.committed.len() >= 4);
        let hostile = play(&seeds[1], false);
        assert!(
            hostile.heights().iter().all(|&h| h >= 2),
            "{:?}",
            hostile.heights()
        );
        let charged = (0..HONEST).any(|i| hostile.node(i).status().offences.contains_key("3"));
        assert!(charged, "the hostile validator got away with everything");
    }
}
