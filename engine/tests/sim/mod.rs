//! The whole-node simulator: validators running the real engine (`waybill_engine::Node`) with
//! real transactions, payload validation, execution, ledger certificates and an in-memory store
//! (`MemStore`, the same derivations as RocksDB's), on a seeded network with latency, reordering,
//! drops, duplicates and partitions; crashes whose disks lose the tail of their log; twins; and
//! a catalogue of Byzantine behaviours (`byzantine.rs`). Everything comes from the seed: a run
//! replays exactly.
//!
//! Checked after every step (`check.rs`): no honest node stops or panics, no two honest nodes
//! commit different blocks at a height, commits only move forward, no honest key signs two
//! votes in a round, every vote and timeout is durable (store and safety mark) before it
//! leaves, no honest peer is ever marked as an offender; and after the faults heal, every
//! honest node commits again and every client's transaction commits.

#![allow(dead_code, clippy::large_enum_variant)]

pub mod byzantine;
pub mod check;
pub mod log;
pub mod plan;

use std::collections::{BTreeMap, BTreeSet};

use ledger::genesis::{ConsensusParams, Validator};
use ledger::governance::{ApproveChange, Change, ProposeChange};
use ledger::tx::{Payload as TxPayload, Transaction};
use ledger::{Genesis, Hash, KeyPair, SignedTransaction};
use rand::Rng;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use waybill_engine::mem_store::MemStore;
use waybill_engine::mempool::{LedgerView, Mempool, MempoolLimits, SharedMempool};
use waybill_engine::{
    Effect, Event, Node, NodeConfig, NodeStore, ReplyId, RequestFailed, RequestId,
};

pub use plan::{Behaviour, Plan};

pub type SimNode = Node<u32, MemStore>;

/// Clients stop starting transactions this long before the run's end (two seconds after the
/// heal), so theirs can commit; the run ends as soon as they have, and every honest node
/// committed again after the heal. The rest of the run is the liveness bound.
const CLIENT_QUIET_MS: u64 = 10_000;
/// A request with no answer fails after this long (the network layer's timeout).
const REQUEST_TIMEOUT_MS: u64 = 2_000;
/// A client resubmits a transaction not committed after this long, to another node.
const RESUBMIT_MS: u64 = 3_000;
const CLIENTS: usize = 6;

#[derive(Clone, Debug)]
enum Ev {
    /// An engine event for an instance (if still the same incarnation).
    Deliver {
        inst: usize,
        incarnation: u64,
        event: Event<u32>,
    },
    Wake {
        inst: usize,
        incarnation: u64,
    },
    /// A gossiped transaction reaching an instance.
    Gossip {
        inst: usize,
        incarnation: u64,
        tx: SignedTransaction,
    },
    ClientTick,
    ByzantineTick {
        inst: usize,
    },
    Crash {
        inst: usize,
        power_loss: bool,
        mark_only: bool,
        lose_tail: usize,
        down_ms: u64,
    },
    Restart {
        inst: usize,
    },
}

/// A peer's pending request at an instance: who asked, and what to answer.
#[derive(Clone, Copy, Debug)]
struct Pending {
    requester: usize,
    incarnation: u64,
    id: Option<RequestId>,
}

pub struct Inst {
    /// The validator whose key this instance runs (twins share one).
    pub key: usize,
    pub peer: u32,
    pub node: Option<SimNode>,
    pub store: MemStore,
    pub mempool: SharedMempool,
    pub incarnation: u64,
    next_reply: u64,
    replies: BTreeMap<ReplyId, Pending>,
    /// Peers this instance refused (their offences), until when.
    refused: BTreeMap<u32, u64>,
    woken_at: Option<u64>,
    pub byzantine: Vec<Behaviour>,
    pub byz: byzantine::State,
    /// Its store lost synced writes (a damaged log tail) at some crash: its rollback guard may
    /// report that. A power loss alone must not make it report anything.
    pub tail_lost: bool,
}

struct Client {
    key: KeyPair,
    sequence: u64,
    pending: Option<(SignedTransaction, u64)>,
    committed: u64,
    /// Payloads to send next (an admin's governance transactions).
    queue: std::collections::VecDeque<TxPayload>,
    /// An organization's admin: sends only what is queued, never memos.
    admin: bool,
}

/// How a run ended.
#[derive(Clone, Debug, Default)]
pub struct Outcome {
    pub violations: Vec<String>,
    pub liveness: Vec<String>,
    pub max_height: u64,
    pub committed_txs: u64,
    /// Offences honest nodes recorded against Byzantine peers, by kind.
    pub offences: BTreeMap<&'static str, u64>,
    pub refusals: u64,
    pub rollbacks_detected: u64,
    /// Writes that power losses took from stores before they were synced.
    pub unsynced_lost: u64,
    /// Of those, commits (heights the stores' heads went back).
    pub commits_lost: u64,
    /// Power losses that kept the safety mark's last write and lost the store's beside it.
    pub lost_beside_mark: u64,
    /// Blocks observers committed (each observer counts its own).
    pub observer_commits: u64,
    /// Ledger certificates observers stored (fetched from validators).
    pub observer_certificates: u64,
    /// Ledger certificates honest validators stored (formed from checkpoint votes, or fetched).
    pub validator_certificates: u64,
    pub events: u64,
    /// Digest of every honest commit in order: equal for equal seeds.
    pub trace: Hash,
    /// Honest commits, and honest round timeouts, while the network should rest (an idle
    /// window, settled: see `plan::IDLE_SETTLE_MS`). Faults may cause some; a fault-free run
    /// must have none.
    pub idle_commits: u64,
    pub idle_timeouts: u64,
    /// For each idle window, how long the first transaction started after it took to commit
    /// (at the first node), in simulated milliseconds.
    pub wake_latency_ms: Vec<u64>,
    /// Each client transaction's first submission to its first commit at any node, in
    /// simulated milliseconds, in commit order.
    pub client_latency_ms: Vec<u64>,
}

impl Outcome {
    pub fn ok(&self) -> bool {
        self.violations.is_empty() && self.liveness.is_empty()
    }
}

pub struct World {
    pub plan: Plan,
    rng: ChaCha8Rng,
    pub now: u64,
    seq: u64,
    queue: BTreeMap<(u64, u64), Ev>,
    pub genesis: Genesis,
    pub keys: Vec<KeyPair>,
    pub insts: Vec<Inst>,
    clients: Vec<Client>,
    pub checks: check::Checks,
    pub out: Outcome,
    trace: Vec<u8>,
    /// `WAYBILL_WHOLE_LOG` set: print the run's story (see `log`).
    log: bool,
    governor: Governor,
    /// The first transaction started after each idle window ends: (window, hash, started).
    wakers: Vec<(usize, Hash, u64)>,
}

/// Drives the plan's validator-set changes through governance: organization 0's admin proposes
/// each change once its time has come; once the proposal is committed, every other admin
/// approves it (the genesis rule, two thirds of the organizations, applies it; approvals after
/// that fail harmlessly with `unknown_proposal`). A change that is refused when proposed is
/// skipped.
#[derive(Default)]
struct Governor {
    todo: std::collections::VecDeque<plan::Reconfig>,
    /// The proposal committed or in flight: its transaction hash.
    proposing: Option<Hash>,
    /// Rotations proposed: each new key (by its public key) and the validator it is for.
    rotations: BTreeMap<ledger::PublicKey, (usize, KeyPair)>,
    rotated: BTreeMap<usize, usize>,
    /// Changes applied (proposals that committed).
    pub proposed: u64,
}

fn key(i: usize) -> KeyPair {
    let mut secret = [0u8; 32];
    secret[..8].copy_from_slice(&(i as u64 + 1).to_le_bytes());
    secret[31] = 0xA5;
    KeyPair::from_secret(secret)
}

/// The genesis of a simulated chain of `n` validators named by peer number.
pub fn genesis(n: usize) -> Genesis {
    Genesis {
        chain_id: "sim".into(),
        genesis_time_ms: 0,
        consensus: ConsensusParams {
            round_timeout_ms: 400,
            max_round_timeout_ms: 3_000,
            timeout_backoff_percent: 150,
            max_block_txs: 4_000,
        },
        validators: (0..n)
            .map(|i| Validator {
                name: format!("v{i}"),
                consensus_key: key(i).public(),
                peer_id: sim_peer_id(i as u32),
                power: 1,
            })
            .collect(),
        // One organization per genesis validator, whose admin governs (see the governor).
        organizations: (0..n)
            .map(|i| ledger::genesis::Organization {
                id: format!("o{i}"),
                name: format!("Organization {i}"),
                admins: vec![admin_key(i).public()],
            })
            .collect(),
        accounts: vec![],
        governance: None,
        // Admission is the network's (the shell's allow-list); the engine never reads this.
        observers: vec![],
    }
}

/// The admin key of organization `o{i}`.
pub fn admin_key(i: usize) -> KeyPair {
    key(3_000 + i)
}

/// The consensus key validator `k` rotates to (its `r`-th rotation).
fn rotated_key(k: usize, r: usize) -> KeyPair {
    key(20_000 + 16 * k + r)
}

/// Peer `i`'s network identity as a genesis names it: a well-formed PeerId (governance checks
/// them) whose key bytes are `i` (little-endian) and then `0xEE`.
pub fn sim_peer_id(i: u32) -> String {
    let mut network_key = [0xEE; 32];
    network_key[..4].copy_from_slice(&i.to_le_bytes());
    ledger::genesis::peer_id_of(&network_key)
}

pub fn parse_peer(s: &str) -> Option<u32> {
    let bytes = ledger::genesis::peer_id_public_key(s).ok()?;
    bytes[4..]
        .iter()
        .all(|b| *b == 0xEE)
        .then(|| u32::from_le_bytes(bytes[..4].try_into().expect("four bytes")))
}

/// A fresh mempool with the simulator's bounds.
pub fn mempool(genesis: &Genesis) -> SharedMempool {
    SharedMempool::new(Mempool::new(genesis.chain_id.clone(), limits()))
}

fn limits() -> MempoolLimits {
    MempoolLimits {
        capacity: 20_000,
        per_account: 100,
        sequence_window: 100,
    }
}

/// The mempool's view of an instance's store.
pub struct View<'a>(pub &'a MemStore);

impl LedgerView for View<'_> {
    fn next_sequence(&self, account: &ledger::PublicKey) -> u64 {
        ledger::execute::next_sequence(self.0, account).unwrap_or(0)
    }
    fn is_committed(&self, tx: &Hash) -> bool {
        self.0.is_committed(tx).unwrap_or(false)
    }
}

impl World {
    pub fn new(plan: Plan) -> World {
        let mut seed = [3u8; 32];
        seed[..8].copy_from_slice(&plan.seed.to_le_bytes());
        seed[8] = plan.n as u8;
        let rng = ChaCha8Rng::from_seed(seed);
        let genesis = genesis(plan.n);
        let all = plan.n + plan.spares + plan.observers;
        let keys: Vec<KeyPair> = (0..all).map(key).collect();
        let mut keys_of_insts: Vec<usize> = (0..all).collect();
        keys_of_insts.extend(plan.twin);
        let insts = keys_of_insts
            .iter()
            .map(|&k| Inst {
                key: k,
                peer: k as u32,
                node: None,
                store: MemStore::new(&genesis),
                mempool: mempool(&genesis),
                incarnation: 0,
                next_reply: 0,
                replies: BTreeMap::new(),
                refused: BTreeMap::new(),
                woken_at: None,
                byzantine: plan.byzantine.get(k).cloned().unwrap_or_default(),
                byz: byzantine::State::default(),
                tail_lost: false,
            })
            .collect();
        let mut clients: Vec<Client> = (0..CLIENTS)
            .map(|c| Client {
                key: key(1_000 + c),
                sequence: 0,
                pending: None,
                committed: 0,
                queue: Default::default(),
                admin: false,
            })
            .collect();
        clients.extend((0..plan.n).map(|i| Client {
            key: admin_key(i),
            sequence: 0,
            pending: None,
            committed: 0,
            queue: Default::default(),
            admin: true,
        }));
        let governor = Governor {
            todo: plan.reconfig.iter().copied().collect(),
            ..Governor::default()
        };
        let checks = check::Checks::new(&plan);
        World {
            plan,
            rng,
            now: 0,
            seq: 0,
            queue: BTreeMap::new(),
            genesis,
            keys,
            insts,
            clients,
            checks,
            out: Outcome::default(),
            trace: Vec::new(),
            log: log::enabled(),
            governor,
            wakers: Vec::new(),
        }
    }

    fn push(&mut self, at: u64, ev: Ev) {
        self.seq += 1;
        self.queue.insert((at, self.seq), ev);
    }

    pub fn is_honest(&self, inst: usize) -> bool {
        !self.plan.is_byzantine(self.insts[inst].key)
    }

    /// Runs the plan to its end (or until the checks say the healed network has done its job).
    pub fn run(mut self) -> Outcome {
        for i in 0..self.insts.len() {
            self.start(i);
        }
        self.push(0, Ev::ClientTick);
        for i in 0..self.insts.len() {
            if !self.insts[i].byzantine.is_empty() {
                self.push(50, Ev::ByzantineTick { inst: i });
            }
        }
        for c in self.plan.crashes.clone() {
            self.push(
                c.at_ms,
                Ev::Crash {
                    inst: c.node,
                    power_loss: c.power_loss,
                    mark_only: c.power_loss && c.mark_only,
                    lose_tail: c.lose_tail,
                    down_ms: c.down_ms,
                },
            );
        }
        while let Some(((at, _), ev)) = self.queue.pop_first() {
            if at > self.plan.end_ms {
                break;
            }
            self.now = at;
            self.out.events += 1;
            self.step(ev);
            if self.now >= self.plan.heal_ms + 2_000 && self.checks.healed_work_done(&self) {
                break;
            }
        }
        self.finish()
    }

    fn step(&mut self, ev: Ev) {
        match ev {
            Ev::Deliver {
                inst,
                incarnation,
                event,
            } => {
                if self.insts[inst].incarnation == incarnation {
                    self.deliver(inst, event);
                }
            }
            Ev::Wake { inst, incarnation } => {
                if self.insts[inst].incarnation == incarnation {
                    self.insts[inst].woken_at = None;
                    self.handle(inst, Event::Wake);
                }
            }
            Ev::Gossip {
                inst,
                incarnation,
                tx,
            } => {
                if self.insts[inst].incarnation == incarnation && self.insts[inst].node.is_some() {
                    self.gossip_arrives(inst, tx);
                }
            }
            Ev::ClientTick => self.client_tick(),
            Ev::ByzantineTick { inst } => {
                byzantine::tick(self, inst);
                if self.now < self.plan.end_ms {
                    let next = self.now + self.rng.gen_range(20..200);
                    self.push(next, Ev::ByzantineTick { inst });
                }
            }
            Ev::Crash {
                inst,
                power_loss,
                mark_only,
                lose_tail,
                down_ms,
            } => {
                let i = &mut self.insts[inst];
                i.node = None;
                i.incarnation += 1;
                i.replies.clear();
                i.woken_at = None;
                // The store's half of the last write beside the mark lost, the mark's kept (the
                // message that waited for both had left, so this is more than a crash in flight
                // can do: the node must keep its promises from the mark, and report nothing).
                if mark_only && i.store.lose_write_beside_mark() {
                    self.out.lost_beside_mark += 1;
                }
                if power_loss {
                    let head = |s: &MemStore| s.head().map_or(0, |h| h.height);
                    let before = head(&i.store);
                    self.out.unsynced_lost += i.store.lose_unsynced() as u64;
                    self.out.commits_lost += before - head(&i.store);
                }
                if lose_tail > 0 && i.store.lose_tail(lose_tail) > 0 {
                    i.tail_lost = true;
                }
                self.checks.crashed(inst);
                self.push(self.now + down_ms, Ev::Restart { inst });
            }
            Ev::Restart { inst } => self.start(inst),
        }
    }

    /// (Re)starts an instance from its store, with an empty mempool.
    fn start(&mut self, inst: usize) {
        let now = self.now;
        let i = &mut self.insts[inst];
        i.mempool = mempool(&self.genesis);
        let config = NodeConfig {
            genesis: self.genesis.clone(),
            key: KeyPair::from_secret(self.keys[i.key].secret_bytes()),
            mempool: i.mempool.clone(),
        };
        let head = i.store.head().map_or(0, |h| h.height);
        let started = Node::start(config, i.store.clone(), parse_peer, now);
        match started {
            Ok((node, effects)) => {
                // The safety data and mark are synced before anything depends on them, and the
                // mark's height never passes a synced commit: a power loss is no rollback.
                let found = node.status().rollbacks_detected;
                if found > 0 && !self.insts[inst].tail_lost && self.is_honest(inst) {
                    self.out.violations.push(format!(
                        "t={now} inst {inst}: the rollback guard reported {found} finding(s) after a crash that lost only unsynced writes"
                    ));
                }
                let i = &mut self.insts[inst];
                i.node = Some(node);
                self.checks.started(inst, head);
                self.after(inst, effects);
                let me = self.insts[inst].peer;
                let all = (self.plan.n + self.plan.spares) as u32;
                let peers: Vec<u32> = (0..all).filter(|p| *p != me).collect();
                for p in peers {
                    self.handle(inst, Event::PeerConnected(p));
                }
            }
            Err(e) => self.fail(inst, format!("start failed: {e}")),
        }
    }

    fn fail(&mut self, inst: usize, what: String) {
        if self.is_honest(inst) {
            self.out
                .violations
                .push(format!("t={} inst {inst}: {what}", self.now));
        }
        self.insts[inst].node = None;
        self.insts[inst].incarnation += 1;
    }

    /// Hands an event to an instance (a Byzantine one may answer requests itself).
    fn deliver(&mut self, inst: usize, event: Event<u32>) {
        if self.insts[inst].node.is_none() {
            return;
        }
        if let Event::SyncRequest { from, bytes, reply } = &event {
            if let Some(answer) = byzantine::answer(self, inst, *from, bytes) {
                self.reply(inst, *reply, answer);
                return;
            }
        }
        self.handle(inst, event);
    }

    pub fn handle(&mut self, inst: usize, event: Event<u32>) {
        let Some(node) = self.insts[inst].node.as_mut() else {
            return;
        };
        if self.log {
            log::event(self.now, inst, &event);
        }
        let timeouts = node.status().timeouts;
        match node.handle(self.now, event) {
            Ok(effects) => {
                let fired = self.insts[inst]
                    .node
                    .as_ref()
                    .map_or(0, |n| n.status().timeouts.saturating_sub(timeouts));
                if self.plan.should_rest(self.now) && self.is_honest(inst) {
                    self.out.idle_timeouts += fired;
                }
                self.after(inst, effects)
            }
            Err(e) => self.fail(inst, format!("engine stopped: {e}")),
        }
    }

    /// Checks an instance's effects, lets a Byzantine one twist them, and carries them out.
    fn after(&mut self, inst: usize, effects: Vec<Effect<u32>>) {
        if self.log {
            let round = self.insts[inst]
                .node
                .as_ref()
                .map_or(0, |n| n.status().round);
            log::effects(self.now, inst, round, &effects);
        }
        check::effects(self, inst, &effects);
        let effects = if self.insts[inst].byzantine.is_empty() {
            effects
        } else {
            byzantine::twist(self, inst, effects)
        };
        for effect in effects {
            self.carry_out(inst, effect);
        }
        self.schedule_wake(inst);
    }

    fn schedule_wake(&mut self, inst: usize) {
        let Some(node) = &self.insts[inst].node else {
            return;
        };
        let at = node.next_wake().max(self.now);
        let i = &mut self.insts[inst];
        if i.woken_at.is_some_and(|w| w <= at) {
            return;
        }
        i.woken_at = Some(at);
        let incarnation = i.incarnation;
        self.push(at, Ev::Wake { inst, incarnation });
    }

    /// Instances running peer `peer`'s key (twins: two).
    fn instances_of(&self, peer: u32) -> Vec<usize> {
        (0..self.insts.len())
            .filter(|&i| self.insts[i].peer == peer)
            .collect()
    }

    /// Whether a message from `a` to `b` gets through now (partitions, refusals, drops).
    fn link(&mut self, a: usize, b: usize) -> Option<u64> {
        let (pa, pb) = (self.insts[a].peer, self.insts[b].peer);
        if self.insts[b]
            .refused
            .get(&pa)
            .is_some_and(|u| *u > self.now)
            || self.insts[a]
                .refused
                .get(&pb)
                .is_some_and(|u| *u > self.now)
        {
            return None;
        }
        for (from, until, side) in &self.plan.partitions {
            if self.now >= *from
                && self.now < *until
                && side.contains(&self.insts[a].key) != side.contains(&self.insts[b].key)
            {
                return None;
            }
        }
        // Losses end with the heal, like partitions: liveness is owed only once the network
        // delivers (after GST, in the protocol's terms); before it, anything may be lost.
        if self.now < self.plan.heal_ms && self.rng.gen_range(0..1000) < self.plan.drop_per_mille {
            return None;
        }
        let (lo, hi) = self.plan.latency_ms;
        Some(self.now + self.rng.gen_range(lo..=hi))
    }

    fn send_to(&mut self, from: usize, to: usize, event: Event<u32>) {
        let Some(at) = self.link(from, to) else {
            return;
        };
        let incarnation = self.insts[to].incarnation;
        if matches!(event, Event::Consensus { .. })
            && self.rng.gen_range(0..1000) < self.plan.dup_per_mille
        {
            let later = at + self.rng.gen_range(1..50);
            self.push(
                later,
                Ev::Deliver {
                    inst: to,
                    incarnation,
                    event: event.clone(),
                },
            );
        }
        self.push(
            at,
            Ev::Deliver {
                inst: to,
                incarnation,
                event,
            },
        );
    }

    pub fn carry_out(&mut self, inst: usize, effect: Effect<u32>) {
        let me = self.insts[inst].peer;
        match effect {
            Effect::Send { to, bytes } => {
                for t in self.instances_of(to) {
                    self.send_to(
                        inst,
                        t,
                        Event::Consensus {
                            from: me,
                            bytes: bytes.clone(),
                        },
                    );
                }
            }
            Effect::Broadcast { bytes } => {
                // To the validators, as the network does: observers are not among them.
                for t in 0..self.insts.len() {
                    if self.insts[t].peer != me && !self.plan.is_observer(self.insts[t].key) {
                        self.send_to(
                            inst,
                            t,
                            Event::Consensus {
                                from: me,
                                bytes: bytes.clone(),
                            },
                        );
                    }
                }
            }
            Effect::Request { to, id, bytes } => self.request(inst, to, id, bytes),
            Effect::Reply { to, bytes } => self.reply(inst, to, bytes),
            Effect::Committed(c) => check::committed(self, inst, &c),
            Effect::Gossip { txs } => self.gossip(inst, &txs),
            // The simulated network admits every instance (spares follow before they join).
            Effect::Members { .. } => {}
            Effect::Disconnect { peer, until } => {
                self.insts[inst].refused.insert(peer, until);
                let incarnation = self.insts[inst].incarnation;
                self.push(
                    until,
                    Ev::Deliver {
                        inst,
                        incarnation,
                        event: Event::PeerConnected(peer),
                    },
                );
            }
        }
    }

    fn request(&mut self, inst: usize, to: u32, id: Option<RequestId>, bytes: Vec<u8>) {
        let me = self.insts[inst].peer;
        let incarnation = self.insts[inst].incarnation;
        if let Some(id) = id {
            // Whatever happens to the request, the requester hears of it by this time.
            self.push(
                self.now + REQUEST_TIMEOUT_MS,
                Ev::Deliver {
                    inst,
                    incarnation,
                    event: Event::SyncResponse {
                        id,
                        result: Err(RequestFailed {
                            reason: "timed out".into(),
                        }),
                    },
                },
            );
        }
        let targets = self.instances_of(to);
        if targets.is_empty() {
            return;
        }
        let target = targets[self.rng.gen_range(0..targets.len())];
        if self.insts[target].node.is_none() {
            return;
        }
        let t = &mut self.insts[target];
        let reply = ReplyId(t.next_reply);
        t.next_reply += 1;
        t.replies.insert(
            reply,
            Pending {
                requester: inst,
                incarnation,
                id,
            },
        );
        self.send_to(
            inst,
            target,
            Event::SyncRequest {
                from: me,
                bytes,
                reply,
            },
        );
    }

    pub fn reply(&mut self, inst: usize, to: ReplyId, bytes: Vec<u8>) {
        let Some(p) = self.insts[inst].replies.remove(&to) else {
            return;
        };
        let Some(id) = p.id else { return };
        let Some(at) = self.link(inst, p.requester) else {
            return;
        };
        self.push(
            at,
            Ev::Deliver {
                inst: p.requester,
                incarnation: p.incarnation,
                event: Event::SyncResponse {
                    id,
                    result: Ok(bytes),
                },
            },
        );
    }

    fn client_tick(&mut self) {
        self.governor_tick();
        let quiet = self.now + CLIENT_QUIET_MS >= self.plan.end_ms || self.plan.is_idle(self.now);
        for c in 0..self.clients.len() {
            let due = match &self.clients[c].pending {
                None if self.clients[c].admin => !self.clients[c].queue.is_empty(),
                None => !quiet && self.rng.gen_bool(0.3),
                Some((_, at)) => self.now >= at + RESUBMIT_MS,
            };
            if !due {
                continue;
            }
            let tx = match &self.clients[c].pending {
                Some((tx, _)) => tx.clone(),
                None => {
                    let cl = &mut self.clients[c];
                    let payload = cl.queue.pop_front().unwrap_or_else(|| TxPayload::Memo {
                        data: format!("client {c} tx {}", cl.sequence).into_bytes(),
                    });
                    let is_proposal = matches!(payload, TxPayload::ProposeChange(_));
                    let tx = Transaction {
                        chain_id: self.genesis.chain_id.clone(),
                        signer: cl.key.public(),
                        sequence: cl.sequence,
                        payload,
                    }
                    .sign(&cl.key);
                    if is_proposal {
                        self.governor.proposing = Some(tx.hash());
                    }
                    self.note_waker(&tx);
                    tx
                }
            };
            // Clients submit to validators of the epoch the node is in. A node outside the set
            // names what it gossips as gossip, and a leader that got it that way sends it by
            // hash; replicas that lost it in a crash then wait on a body fetch (see the
            // report of the epochs branch: left to the compact-proposal work).
            let live: Vec<usize> = (0..self.insts.len())
                .filter(|&i| self.insts[i].node.is_some() && self.is_honest(i) && self.in_set(i))
                .collect();
            if live.is_empty() {
                continue;
            }
            let target = live[self.rng.gen_range(0..live.len())];
            self.clients[c].pending = Some((tx.clone(), self.now));
            self.checks.submitted(tx.hash(), self.now);
            self.submit(target, tx);
        }
        if self.now < self.plan.end_ms {
            self.push(self.now + 100, Ev::ClientTick);
        }
    }

    /// A client's submission at an instance: admitted (signature checked), announced, gossiped.
    fn submit(&mut self, inst: usize, tx: SignedTransaction) {
        let admitted = {
            let i = &self.insts[inst];
            let mut pool = i.mempool.lock();
            pool.submit_batch(vec![tx.clone()], &View(&i.store), self.now)
                .pop()
                .expect("one result per transaction")
        };
        if self.log {
            log::admission(self.now, inst, "client", &tx, &admitted);
        }
        if admitted.is_err() {
            return;
        }
        self.handle(inst, Event::TxAdmitted);
        self.gossip(inst, std::slice::from_ref(&tx));
    }

    /// `txs` gossiped from `inst` to every other instance its links reach, one message.
    fn gossip(&mut self, inst: usize, txs: &[SignedTransaction]) {
        for t in 0..self.insts.len() {
            if t == inst {
                continue;
            }
            if let Some(at) = self.link(inst, t) {
                let incarnation = self.insts[t].incarnation;
                for tx in txs {
                    self.push(
                        at,
                        Ev::Gossip {
                            inst: t,
                            incarnation,
                            tx: tx.clone(),
                        },
                    );
                }
            }
        }
    }

    fn gossip_arrives(&mut self, inst: usize, tx: SignedTransaction) {
        let admitted = {
            let i = &self.insts[inst];
            if tx.verify(&self.genesis.chain_id).is_err() {
                return;
            }
            let mut pool = i.mempool.lock();
            pool.admit_gossiped(tx.clone(), &View(&i.store), self.now)
        };
        if self.log {
            log::admission(self.now, inst, "gossip", &tx, &admitted);
        }
        if admitted.is_ok() {
            self.handle(inst, Event::TxAdmitted);
        }
    }

    /// Whether the instance's key is in the validator set its own committed state names.
    fn in_set(&self, inst: usize) -> bool {
        let me = self.keys[self.insts[inst].key].public();
        match ledger::governance::read_validators(&self.insts[inst].store) {
            Ok(Some(set)) => set.validators.iter().any(|v| v.consensus_key == me),
            _ => self.insts[inst].key < self.plan.n,
        }
    }

    /// Starts proposing the next change when its time has come and none is in flight.
    fn governor_tick(&mut self) {
        if self.governor.proposing.is_some() {
            return;
        }
        let Some(next) = self.governor.todo.front().copied() else {
            return;
        };
        if self.now < next.at_ms || !self.clients[CLIENTS].queue.is_empty() {
            return;
        }
        self.governor.todo.pop_front();
        let validator = |k: usize| ledger::genesis::Validator {
            name: format!("v{k}"),
            consensus_key: key(k).public(),
            peer_id: sim_peer_id(k as u32),
            power: 1,
        };
        let change = match next.change {
            plan::Change::Join(k) => Change::AddValidator(validator(k)),
            plan::Change::Leave(k) => Change::RemoveValidator {
                name: format!("v{k}"),
            },
            plan::Change::Power(k, power) => Change::SetValidatorPower {
                name: format!("v{k}"),
                power,
            },
            plan::Change::Rotate(k) => {
                let r = self.governor.rotated.entry(k).or_insert(0);
                *r += 1;
                let new = rotated_key(k, *r);
                let change = Change::RotateConsensusKey {
                    name: format!("v{k}"),
                    consensus_key: new.public(),
                };
                self.governor.rotations.insert(new.public(), (k, new));
                change
            }
        };
        self.clients[CLIENTS]
            .queue
            .push_back(TxPayload::ProposeChange(ProposeChange {
                organization: "o0".into(),
                change,
            }));
        // Marks a proposal as on its way until its transaction is signed.
        self.governor.proposing = Some(Hash::ZERO);
    }

    /// A receipt seen at an honest node: a committed proposal is approved by the others.
    pub(crate) fn governor_receipt(&mut self, r: &ledger::receipt::Receipt) {
        if self.governor.proposing != Some(r.tx_hash) {
            return;
        }
        self.governor.proposing = None;
        if r.status != ledger::receipt::ExecStatus::Success {
            return;
        }
        self.governor.proposed += 1;
        for i in 1..self.plan.n {
            self.clients[CLIENTS + i]
                .queue
                .push_back(TxPayload::ApproveChange(ApproveChange {
                    organization: format!("o{i}"),
                    proposal: r.tx_hash,
                }));
        }
    }

    /// After an instance committed: if the committed set gave its validator a new consensus
    /// key, the operator restarts it with that key.
    pub(crate) fn maybe_rotate(&mut self, inst: usize) {
        let k = self.insts[inst].key;
        let Ok(Some(set)) = ledger::governance::read_validators(&self.insts[inst].store) else {
            return;
        };
        let name = format!("v{k}");
        let Some(current) = set.validators.iter().find(|v| v.name == name) else {
            return;
        };
        if current.consensus_key == self.keys[k].public() {
            return;
        }
        let Some((_, new)) = self.governor.rotations.remove(&current.consensus_key) else {
            return;
        };
        self.keys[k] = new;
        for i in self.instances_of(k as u32) {
            self.push(
                self.now + 1,
                Ev::Crash {
                    inst: i,
                    power_loss: false,
                    mark_only: false,
                    lose_tail: 0,
                    down_ms: 50,
                },
            );
        }
    }

    /// A client's transaction committed (seen at an honest node).
    /// Remembers `tx` if it is the first transaction started after an idle window.
    fn note_waker(&mut self, tx: &SignedTransaction) {
        let now = self.now;
        let ended = self.plan.idle.iter().rposition(|(_, until)| *until <= now);
        if let Some(window) = ended {
            if !self.wakers.iter().any(|(w, _, _)| *w == window) {
                self.wakers.push((window, tx.hash(), now));
            }
        }
    }

    pub(crate) fn client_committed(&mut self, tx: &Hash) {
        if let Some(i) = self.wakers.iter().position(|(_, h, _)| h == tx) {
            let (_, _, started) = self.wakers[i];
            self.out
                .wake_latency_ms
                .push(self.now.saturating_sub(started));
            // Recorded once: later commits of it at other nodes do not count.
            self.wakers[i].1 = Hash::ZERO;
        }
        let first_sent = self.checks.first_submitted(tx);
        for c in &mut self.clients {
            if c.pending.as_ref().is_some_and(|(t, _)| t.hash() == *tx) {
                if let Some(sent) = first_sent {
                    self.out
                        .client_latency_ms
                        .push(self.now.saturating_sub(sent));
                }
                c.pending = None;
                c.sequence += 1;
                c.committed += 1;
            }
        }
    }

    /// Each uncommitted client transaction: its sequence, when it was last submitted, which
    /// honest mempools hold it, and the next sequence each honest store expects of its signer.
    pub(crate) fn pending_stories(&self) -> Vec<String> {
        self.clients
            .iter()
            .enumerate()
            .filter_map(|(c, cl)| {
                let (tx, at) = cl.pending.as_ref()?;
                let held: Vec<usize> = (0..self.insts.len())
                    .filter(|&i| self.is_honest(i) && self.insts[i].mempool.lock().contains(&tx.hash()))
                    .collect();
                let expected: Vec<u64> = (0..self.insts.len())
                    .filter(|&i| self.is_honest(i))
                    .map(|i| View(&self.insts[i].store).next_sequence(&cl.key.public()))
                    .collect();
                Some(format!(
                    "client {c} sequence {} (submitted at t={at}): in the mempools of {held:?}; stores expect sequences {expected:?}",
                    tx.tx.sequence
                ))
            })
            .collect()
    }

    pub(crate) fn clients_idle(&self) -> bool {
        self.clients.iter().all(|c| c.pending.is_none())
    }

    pub(crate) fn record_trace(&mut self, inst: usize, height: u64, hash: &Hash) {
        self.trace.extend_from_slice(&(inst as u32).to_le_bytes());
        self.trace.extend_from_slice(&height.to_le_bytes());
        self.trace.extend_from_slice(hash.as_bytes());
    }

    pub fn rng(&mut self) -> &mut ChaCha8Rng {
        &mut self.rng
    }

    fn finish(mut self) -> Outcome {
        check::finish(&mut self);
        self.out.committed_txs = self.clients.iter().map(|c| c.committed).sum();
        self.out.trace = Hash::blake3(&self.trace);
        self.out
    }
}

/// The instances that run observers.
pub fn observers(world: &World) -> Vec<usize> {
    (0..world.insts.len())
        .filter(|&i| world.plan.is_observer(world.insts[i].key))
        .collect()
}

/// The instances that run honestly, for the checks.
pub fn honest(world: &World) -> BTreeSet<usize> {
    (0..world.insts.len())
        .filter(|&i| world.is_honest(i))
        .collect()
}
