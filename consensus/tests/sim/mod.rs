//! A deterministic simulator for the consensus core: seeded network (latency, jitter, drop,
//! duplication, reordering, partitions), a disk per node whose writes become durable only when
//! the simulated fsync completes (a crash loses the rest), crash-restart through
//! `Core::recover`, Byzantine twins and equivocating leaders, and the safety/liveness checkers.

#![allow(dead_code, clippy::large_enum_variant)]

pub mod plan;

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use ledger::encoding::{digest, Canonical};
use ledger::{Hash, PublicKey};
use rand::Rng;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use waybill_consensus::{
    AcceptAll, Action, Block, ConsensusMsg, Core, Input, Payload, Proposal, Recovery, SafetyData,
    WriteId,
};

pub use plan::{Kind, Plan};

/// The simulator's payload: a few numbers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimPayload(pub Vec<u64>);

impl Canonical for SimPayload {
    const DOMAIN: &'static str = "waybill/consensus/sim-payload/v1";
}

impl Payload for SimPayload {
    fn digest(&self) -> Hash {
        digest(self)
    }
    fn empty() -> Self {
        SimPayload(vec![])
    }
}

type B = Block<SimPayload>;

/// After the last fault, every honest node must commit within this many rounds (of the most
/// advanced node) and within the plan's liveness deadline.
pub const MAX_ROUNDS_TO_RECOVER: u64 = 50;
type Msg = ConsensusMsg<SimPayload>;

#[derive(Clone, Debug)]
enum NetMsg {
    Consensus(Msg),
    FetchReq { id: Hash, count: u32 },
    FetchResp(Vec<B>),
}

#[derive(Clone, Debug)]
enum Event {
    Deliver {
        to: usize,
        from_key: usize,
        msg: NetMsg,
    },
    Timer {
        inst: usize,
        round: u64,
        incarnation: u64,
    },
    Flush {
        inst: usize,
        incarnation: u64,
    },
    Payload {
        inst: usize,
        round: u64,
        incarnation: u64,
    },
    Crash {
        inst: usize,
    },
    Restart {
        inst: usize,
    },
}

enum Write {
    Safety(SafetyData),
    Block(B),
}

enum Out {
    Send(usize, Msg),
    Broadcast(Msg),
}

#[derive(Default)]
struct Disk {
    safety: SafetyData,
    blocks: BTreeMap<Hash, B>,
}

struct Inst {
    key: usize,
    core: Option<Core<SimPayload, AcceptAll>>,
    incarnation: u64,
    disk: Disk,
    pending: VecDeque<(WriteId, Write)>,
    last_flush: u64,
    held: Vec<(WriteId, Out)>,
    durable: Option<WriteId>,
    timer: Option<(u64, u64)>,
    /// The ledger: committed blocks, survives crashes.
    ledger: Vec<B>,
    ledger_ids: BTreeMap<Hash, usize>,
}

/// Faults injected, by type.
#[derive(Clone, Debug, Default)]
pub struct Faults {
    pub dropped: u64,
    pub duplicated: u64,
    pub partitioned: u64,
    pub crashes: u64,
    pub twins: u64,
    pub equivocations: u64,
}

impl Faults {
    pub fn add(&mut self, o: &Faults) {
        self.dropped += o.dropped;
        self.duplicated += o.duplicated;
        self.partitioned += o.partitioned;
        self.crashes += o.crashes;
        self.twins += o.twins;
        self.equivocations += o.equivocations;
    }
}

#[derive(Clone, Debug, Default)]
pub struct Outcome {
    /// Agreement, commits-move-forward and committed-was-proposed violations.
    pub safety: Vec<String>,
    /// Honest validators that signed two different votes in one round.
    pub equivocations: Vec<String>,
    pub liveness: Vec<String>,
    pub faults: Faults,
    pub max_height: u64,
    pub max_round: u64,
    /// Rounds the fastest node went through between the heal and the last honest node's new commit.
    pub rounds_to_recover: u64,
    pub events: u64,
    /// Digest of every commit in order: equal for equal seeds.
    pub trace: Hash,
}

impl Outcome {
    pub fn ok(&self) -> bool {
        self.safety.is_empty() && self.equivocations.is_empty() && self.liveness.is_empty()
    }
}

pub struct Sim {
    plan: Plan,
    rng: ChaCha8Rng,
    now: u64,
    seq: u64,
    events: BTreeMap<(u64, u64), Event>,
    insts: Vec<Inst>,
    out: Outcome,
    /// First honest commit per height.
    agreed: BTreeMap<u64, Hash>,
    proposed: BTreeSet<Hash>,
    honest_votes: BTreeMap<(usize, u64), Hash>,
    trace: Vec<u8>,
    heal_heights: Option<(u64, u64)>,
    next_payload: u64,
}

impl Sim {
    pub fn new(plan: Plan) -> Sim {
        let mut seed = [7u8; 32];
        seed[..8].copy_from_slice(&plan.seed.to_le_bytes());
        seed[8] = plan.n as u8;
        seed[9] = plan.kind as u8 + 100;
        let insts = plan
            .instances
            .iter()
            .map(|&key| Inst {
                key,
                core: None,
                incarnation: 0,
                disk: Disk::default(),
                pending: VecDeque::new(),
                last_flush: 0,
                held: vec![],
                durable: None,
                timer: None,
                ledger: vec![],
                ledger_ids: BTreeMap::new(),
            })
            .collect();
        let mut sim = Sim {
            rng: ChaCha8Rng::from_seed(seed),
            now: 0,
            seq: 0,
            events: BTreeMap::new(),
            insts,
            out: Outcome::default(),
            agreed: BTreeMap::new(),
            proposed: BTreeSet::new(),
            honest_votes: BTreeMap::new(),
            trace: vec![],
            heal_heights: None,
            next_payload: 1,
            plan,
        };
        sim.out.faults.twins = (sim.plan.instances.len() - sim.plan.n) as u64;
        sim.out.faults.crashes = sim.plan.crashes.len() as u64;
        for c in sim.plan.crashes.clone() {
            sim.schedule(c.at, Event::Crash { inst: c.instance });
            sim.schedule(c.restart, Event::Restart { inst: c.instance });
        }
        sim
    }

    fn schedule(&mut self, at: u64, e: Event) {
        self.seq += 1;
        self.events.insert((at, self.seq), e);
    }

    pub fn run(mut self) -> Outcome {
        for i in 0..self.insts.len() {
            let key = self.plan.keys[self.insts[i].key].clone();
            let (core, actions) = Core::new(&self.plan.genesis, key, AcceptAll, 0);
            self.insts[i].core = Some(core);
            self.apply(i, actions);
        }
        while let Some(((t, _), e)) = self.events.pop_first() {
            self.now = t;
            if t >= self.plan.heal && self.heal_heights.is_none() {
                let h = self
                    .honest()
                    .map(|i| self.insts[i].ledger.len() as u64)
                    .max()
                    .unwrap_or(0);
                self.heal_heights = Some((h, self.max_round()));
            }
            if t > self.plan.liveness_deadline {
                break;
            }
            self.out.events += 1;
            self.step(e);
            if !self.out.safety.is_empty() {
                break;
            }
            if self.live() {
                break;
            }
        }
        if self.out.safety.is_empty() && self.out.equivocations.is_empty() && !self.live() {
            let (h, _) = self.heal_heights.unwrap_or((0, 0));
            let behind: Vec<String> = self
                .honest()
                .filter(|i| (self.insts[*i].ledger.len() as u64) <= h)
                .map(|i| format!("instance {i} at height {}", self.insts[i].ledger.len()))
                .collect();
            self.out.liveness.push(format!(
                "liveness: by {} ms (heal at {} ms, height {h} then) not every honest node committed past it: {}",
                self.plan.liveness_deadline,
                self.plan.heal,
                behind.join(", ")
            ));
        }
        self.out.max_height = self
            .insts
            .iter()
            .map(|i| i.ledger.len() as u64)
            .max()
            .unwrap_or(0);
        self.out.max_round = self.max_round();
        if let Some((_, r)) = self.heal_heights {
            self.out.rounds_to_recover = self.out.max_round.saturating_sub(r);
            if self.out.liveness.is_empty() && self.out.rounds_to_recover > MAX_ROUNDS_TO_RECOVER {
                self.out.liveness.push(format!(
                    "liveness: {} rounds from the heal to every honest node committing (bound {MAX_ROUNDS_TO_RECOVER})",
                    self.out.rounds_to_recover
                ));
            }
        }
        self.out.trace = Hash::blake3(&self.trace);
        self.out
    }

    fn honest(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.insts.len()).filter(|i| self.plan.is_honest_instance(*i))
    }

    fn max_round(&self) -> u64 {
        self.insts
            .iter()
            .filter_map(|i| i.core.as_ref().map(|c| c.round()))
            .max()
            .unwrap_or(0)
    }

    fn live(&self) -> bool {
        let Some((h, _)) = self.heal_heights else {
            return false;
        };
        self.honest().all(|i| self.insts[i].ledger.len() as u64 > h)
    }

    fn step(&mut self, e: Event) {
        match e {
            Event::Deliver { to, from_key, msg } => {
                if self.insts[to].core.is_none() {
                    return;
                }
                match msg {
                    NetMsg::Consensus(msg) => {
                        let from = self.plan.keys[from_key].public();
                        self.input(to, Input::Message { from, msg });
                    }
                    NetMsg::FetchReq { id, count } => {
                        let blocks = self.serve_fetch(to, id, count);
                        if !blocks.is_empty() {
                            let key = self.insts[to].key;
                            let targets: Vec<usize> = (0..self.insts.len())
                                .filter(|j| self.insts[*j].key == from_key)
                                .collect();
                            for j in targets {
                                self.transmit(to, j, key, NetMsg::FetchResp(blocks.clone()));
                            }
                        }
                    }
                    NetMsg::FetchResp(blocks) => {
                        let from = self.plan.keys[from_key].public();
                        self.input(to, Input::BlocksFetched { from, blocks });
                    }
                }
            }
            Event::Timer {
                inst,
                round,
                incarnation,
            } => {
                let i = &self.insts[inst];
                if i.incarnation == incarnation
                    && i.core.is_some()
                    && i.timer.map(|t| t.0) == Some(round)
                {
                    self.input(inst, Input::TimerFired { round });
                }
            }
            Event::Flush { inst, incarnation } => {
                if self.insts[inst].incarnation != incarnation {
                    return;
                }
                let Some((w, write)) = self.insts[inst].pending.pop_front() else {
                    return;
                };
                match write {
                    Write::Safety(s) => self.insts[inst].disk.safety = s,
                    Write::Block(b) => {
                        self.insts[inst].disk.blocks.insert(b.id(), b);
                    }
                }
                self.insts[inst].durable = Some(w);
                let held = std::mem::take(&mut self.insts[inst].held);
                let (ready, keep): (Vec<_>, Vec<_>) = held.into_iter().partition(|(a, _)| *a <= w);
                self.insts[inst].held = keep;
                for (_, o) in ready {
                    self.send_out(inst, o);
                }
                self.input(inst, Input::Persisted(w));
            }
            Event::Payload {
                inst,
                round,
                incarnation,
            } => {
                if self.insts[inst].incarnation == incarnation && self.insts[inst].core.is_some() {
                    let p = self.next_payload;
                    self.next_payload += 1;
                    self.input(
                        inst,
                        Input::PayloadReady {
                            round,
                            payload: SimPayload(vec![p]),
                        },
                    );
                }
            }
            Event::Crash { inst } => {
                let i = &mut self.insts[inst];
                i.core = None;
                i.incarnation += 1;
                i.pending.clear();
                i.held.clear();
                i.timer = None;
            }
            Event::Restart { inst } => {
                let i = &mut self.insts[inst];
                i.durable = None;
                i.last_flush = self.now;
                let recovery = Recovery {
                    safety: i.disk.safety.clone(),
                    blocks: i.disk.blocks.values().cloned().collect(),
                    committed: i.ledger.last().cloned(),
                    epoch: None,
                };
                let key = self.plan.keys[i.key].clone();
                let (core, actions) =
                    Core::recover(&self.plan.genesis, key, AcceptAll, recovery, self.now);
                self.insts[inst].core = Some(core);
                self.apply(inst, actions);
            }
        }
    }

    fn input(&mut self, inst: usize, input: Input<SimPayload>) {
        let now = self.now;
        let Some(core) = self.insts[inst].core.as_mut() else {
            return;
        };
        let actions = core.handle(now, input);
        self.apply(inst, actions);
    }

    fn serve_fetch(&self, inst: usize, id: Hash, count: u32) -> Vec<B> {
        let i = &self.insts[inst];
        let find = |h: &Hash| -> Option<B> {
            if let Some(k) = i.ledger_ids.get(h) {
                return Some(i.ledger[*k].clone());
            }
            if let Some(b) = i.disk.blocks.get(h) {
                return Some(b.clone());
            }
            i.core.as_ref().and_then(|c| c.block(h).cloned())
        };
        let mut out = Vec::new();
        let mut cur = id;
        while out.len() < count as usize {
            match find(&cur) {
                Some(b) if b.height() > 0 => {
                    cur = b.header.parent;
                    out.push(b);
                }
                _ => break,
            }
        }
        out
    }

    fn apply(&mut self, inst: usize, actions: Vec<Action<SimPayload>>) {
        let inc = self.insts[inst].incarnation;
        for a in actions {
            match a {
                Action::PersistSafety { data, write } => {
                    self.write(inst, write, Write::Safety(data))
                }
                Action::PersistBlock { block, write } => {
                    self.write(inst, write, Write::Block(block))
                }
                Action::Send { to, msg, after } => {
                    let to = self.plan.genesis.validator_index(&to).expect("a validator");
                    self.send_after(inst, after, Out::Send(to, msg));
                }
                Action::Broadcast { msg, after } => {
                    self.send_after(inst, after, Out::Broadcast(msg))
                }
                Action::Commit {
                    blocks,
                    certificate,
                } => self.commit(inst, blocks, certificate),
                Action::SetTimer { round, deadline } => {
                    self.insts[inst].timer = Some((round, deadline));
                    self.schedule(
                        deadline.max(self.now),
                        Event::Timer {
                            inst,
                            round,
                            incarnation: inc,
                        },
                    );
                }
                Action::RequestPayload { round, .. } => {
                    self.schedule(
                        self.now + 1,
                        Event::Payload {
                            inst,
                            round,
                            incarnation: inc,
                        },
                    );
                }
                Action::FetchBlocks { id, count, from } => {
                    let key = self
                        .plan
                        .genesis
                        .validator_index(&from)
                        .expect("a validator");
                    let targets: Vec<usize> = (0..self.insts.len())
                        .filter(|j| self.insts[*j].key == key && *j != inst)
                        .collect();
                    let my_key = self.insts[inst].key;
                    for j in targets {
                        self.transmit(inst, j, my_key, NetMsg::FetchReq { id, count });
                    }
                }
                Action::Rejected { .. } => {}
            }
        }
    }

    fn write(&mut self, inst: usize, w: WriteId, write: Write) {
        let d = self.rng.gen_range(1..=8);
        let i = &mut self.insts[inst];
        i.pending.push_back((w, write));
        let at = i.last_flush.max(self.now) + d;
        i.last_flush = at;
        let incarnation = i.incarnation;
        self.schedule(at, Event::Flush { inst, incarnation });
    }

    fn send_after(&mut self, inst: usize, after: Option<WriteId>, o: Out) {
        match after {
            Some(w) if self.insts[inst].durable < Some(w) => self.insts[inst].held.push((w, o)),
            _ => self.send_out(inst, o),
        }
    }

    /// A message leaves `inst`: record what the checkers need, then put it on the wire.
    fn send_out(&mut self, inst: usize, o: Out) {
        let key = self.insts[inst].key;
        let (targets, msg): (Vec<usize>, Msg) = match o {
            Out::Send(to, msg) => (
                (0..self.insts.len())
                    .filter(|j| self.insts[*j].key == to)
                    .collect(),
                msg,
            ),
            Out::Broadcast(msg) => (
                (0..self.insts.len())
                    .filter(|j| self.insts[*j].key != key)
                    .collect(),
                msg,
            ),
        };
        match &msg {
            ConsensusMsg::Vote(v) if self.plan.is_honest_instance(inst) => {
                let prev = self
                    .honest_votes
                    .insert((key, v.data.round), v.data.block_id);
                if prev.is_some_and(|p| p != v.data.block_id) {
                    self.out.equivocations.push(format!(
                        "equivocation: honest validator {key} sent two different votes in round {}",
                        v.data.round
                    ));
                }
            }
            ConsensusMsg::Proposal(p) => {
                self.proposed.insert(p.block.id());
                if self.plan.equivocators.contains(&key) {
                    // Equivocate: a different block for the same round to a random half. When
                    // the round was entered through a TC, the other block forks one level back:
                    // it extends the QC inside its parent (below the TC's high QC, which only the
                    // two-chain voting rule refuses).
                    let mut block = p.block.clone();
                    if p.tc.is_some() {
                        let parent = self.insts[inst]
                            .core
                            .as_ref()
                            .and_then(|c| c.block(&p.block.header.parent));
                        if let Some(parent) = parent.filter(|b| b.height() > 0) {
                            block.header.parent = parent.header.parent;
                            block.header.justify = parent.header.justify.clone();
                            block.header.height = parent.height();
                        }
                    }
                    block.payload.0.push(u64::MAX);
                    block.header.tx_root = block.payload.digest();
                    let other = Proposal::sign(
                        self.plan.genesis.hash(),
                        0,
                        block,
                        p.tc.clone(),
                        &self.plan.keys[key],
                    );
                    self.proposed.insert(other.block.id());
                    self.out.faults.equivocations += 1;
                    let other = ConsensusMsg::Proposal(other);
                    for j in targets {
                        let m = if self.rng.gen_bool(0.5) {
                            msg.clone()
                        } else {
                            other.clone()
                        };
                        self.transmit(inst, j, key, NetMsg::Consensus(m));
                    }
                    return;
                }
            }
            _ => {}
        }
        for j in targets {
            self.transmit(inst, j, key, NetMsg::Consensus(msg.clone()));
        }
    }

    fn transmit(&mut self, from: usize, to: usize, from_key: usize, msg: NetMsg) {
        if from == to {
            return;
        }
        let now = self.now;
        if self
            .plan
            .partitions
            .iter()
            .any(|p| p.start <= now && now < p.end && p.group[from] != p.group[to])
        {
            self.out.faults.partitioned += 1;
            return;
        }
        if let NetMsg::Consensus(m) = &msg {
            let r = m.round() as usize;
            if now < self.plan.heal && r >= 1 && r <= self.plan.round_partitions.len() {
                let g = &self.plan.round_partitions[r - 1];
                if g[from] != g[to] {
                    self.out.faults.partitioned += 1;
                    return;
                }
            }
        }
        if self.plan.drop_ppm > 0 && self.rng.gen_range(0..1_000_000) < self.plan.drop_ppm {
            self.out.faults.dropped += 1;
            return;
        }
        let base = self.plan.latency[from][to];
        let copies =
            if self.plan.dup_ppm > 0 && self.rng.gen_range(0..1_000_000) < self.plan.dup_ppm {
                self.out.faults.duplicated += 1;
                2
            } else {
                1
            };
        for _ in 0..copies {
            let at = now + base + self.rng.gen_range(0..=self.plan.jitter);
            self.schedule(
                at,
                Event::Deliver {
                    to,
                    from_key,
                    msg: msg.clone(),
                },
            );
        }
    }

    fn commit(&mut self, inst: usize, blocks: Vec<B>, certificate: waybill_consensus::QuorumCert) {
        let honest = self.plan.is_honest_instance(inst);
        let genesis_id = waybill_consensus::genesis_block::<SimPayload>(&self.plan.genesis).id();
        if certificate.commits() != blocks.last().map(|b| b.id()) {
            self.out.safety.push(format!(
                "instance {inst}: commit certificate does not prove the last block"
            ));
        }
        for b in blocks {
            let id = b.id();
            let i = &mut self.insts[inst];
            let expect_parent = i.ledger.last().map_or(genesis_id, |l| l.id());
            let expect_height = i.ledger.len() as u64 + 1;
            if honest && (b.header.parent != expect_parent || b.height() != expect_height) {
                self.out.safety.push(format!(
                    "instance {inst}: commit of height {} does not extend its committed chain (at height {})",
                    b.height(),
                    expect_height - 1
                ));
                return;
            }
            if honest && !self.proposed.contains(&id) {
                self.out.safety.push(format!(
                    "instance {inst}: committed block {id} was never proposed"
                ));
            }
            if honest {
                match self.agreed.get(&b.height()) {
                    Some(other) if *other != id => {
                        self.out.safety.push(format!(
                            "agreement: height {} committed as {other} and as {id} (instance {inst})",
                            b.height()
                        ));
                    }
                    Some(_) => {}
                    None => {
                        self.agreed.insert(b.height(), id);
                        self.trace.extend_from_slice(&id.0);
                        self.trace.extend_from_slice(&self.now.to_le_bytes());
                    }
                }
            }
            let i = &mut self.insts[inst];
            i.ledger_ids.insert(id, i.ledger.len());
            i.ledger.push(b);
        }
    }
}

pub fn run(kind: Kind, n: usize, seed: u64) -> (Plan, Outcome) {
    let plan = Plan::new(kind, n, seed);
    let out = Sim::new(plan.clone()).run();
    (plan, out)
}

/// Totals over many seeds.
#[derive(Debug, Default)]
pub struct Summary {
    pub seeds: u64,
    pub faults: Faults,
    pub safety_violations: u64,
    pub liveness_failures: u64,
    pub failures: Vec<String>,
    pub max_rounds_to_recover: u64,
    pub events: u64,
}

impl Summary {
    pub fn add(&mut self, plan: &Plan, out: &Outcome) {
        self.seeds += 1;
        self.faults.add(&out.faults);
        self.events += out.events;
        self.max_rounds_to_recover = self.max_rounds_to_recover.max(out.rounds_to_recover);
        if !out.safety.is_empty() || !out.equivocations.is_empty() {
            self.safety_violations += 1;
        }
        if !out.liveness.is_empty() {
            self.liveness_failures += 1;
        }
        if !out.ok() {
            let msg = format!(
                "FAILED seed: kind={} n={} seed={}\n  {}\n  replay: {}",
                plan.kind.name(),
                plan.n,
                plan.seed,
                out.safety
                    .iter()
                    .chain(&out.equivocations)
                    .chain(&out.liveness)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join("\n  "),
                plan.replay_command()
            );
            eprintln!("{msg}");
            self.failures.push(msg);
        }
    }

    pub fn merge(&mut self, o: Summary) {
        self.seeds += o.seeds;
        self.faults.add(&o.faults);
        self.safety_violations += o.safety_violations;
        self.liveness_failures += o.liveness_failures;
        self.failures.extend(o.failures);
        self.max_rounds_to_recover = self.max_rounds_to_recover.max(o.max_rounds_to_recover);
        self.events += o.events;
    }

    pub fn report(&self, label: &str) -> String {
        format!(
            "{label}: seeds run {}, faults injected: dropped {} duplicated {} partitioned {} crash-restarts {} twins {} equivocating proposals {}; safety violations {}, liveness failures {}; max rounds from heal to all-honest commit {}; events {}",
            self.seeds,
            self.faults.dropped,
            self.faults.duplicated,
            self.faults.partitioned,
            self.faults.crashes,
            self.faults.twins,
            self.faults.equivocations,
            self.safety_violations,
            self.liveness_failures,
            self.max_rounds_to_recover,
            self.events
        )
    }
}

/// Runs seeds `start..start+count` of (kind, n) on `threads` threads.
pub fn run_many(kind: Kind, n: usize, start: u64, count: u64, threads: usize) -> Summary {
    let threads = threads.max(1) as u64;
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            std::thread::spawn(move || {
                let mut s = Summary::default();
                let mut seed = start + t;
                while seed < start + count {
                    let (plan, out) = run(kind, n, seed);
                    s.add(&plan, &out);
                    seed += threads;
                }
                s
            })
        })
        .collect();
    let mut total = Summary::default();
    for h in handles {
        total.merge(h.join().expect("simulation thread"));
    }
    total
}

/// Feeds the commit checker forged, conflicting commits (never produced by the protocol) to show
/// that it fails: instance 0 and 1 commit different blocks at height 1, then instance 0 commits a
/// block that does not extend its chain.
pub fn forged_fork_outcome() -> Outcome {
    let plan = Plan::new(Kind::Random, 4, 0);
    let genesis = waybill_consensus::genesis_block::<SimPayload>(&plan.genesis);
    let mut sim = Sim::new(plan.clone());
    let qc = sim.plan.genesis.hash();
    let block = |payload: u64, parent: Hash, height: u64| {
        let payload = SimPayload(vec![payload]);
        let mut header = genesis.header.clone();
        header.height = height;
        header.round = height;
        header.parent = parent;
        header.tx_root = payload.digest();
        Block { header, payload }
    };
    let a = block(1, genesis.id(), 1);
    let b = block(2, genesis.id(), 1);
    let c = block(3, b.id(), 2);
    let cert = |b: &B| waybill_consensus::QuorumCert {
        vote_data: waybill_consensus::VoteData {
            epoch: 0,
            chain: qc,
            block_id: Hash::ZERO,
            round: b.round() + 1,
            parent_id: b.id(),
            parent_round: b.round(),
        },
        signatures: vec![(0, ledger::Signature([0; 64]))],
    };
    sim.proposed.insert(a.id());
    sim.proposed.insert(b.id());
    let honest: Vec<usize> = (0..plan.instances.len())
        .filter(|i| plan.is_honest_instance(*i))
        .collect();
    let (i0, i1) = (honest[0], honest[1]);
    sim.commit(i0, vec![a.clone()], cert(&a));
    sim.commit(i1, vec![b.clone()], cert(&b));
    sim.commit(i0, vec![c.clone()], cert(&c));
    sim.commit(i1, vec![c.clone()], cert(&c));
    sim.out
}

pub fn key_of(plan: &Plan, i: usize) -> PublicKey {
    plan.keys[plan.instances[i]].public()
}
