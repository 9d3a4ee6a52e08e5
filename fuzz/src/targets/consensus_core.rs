//! The consensus core as a peer drives it: one `consensus::Core` of a four-validator chain (which
//! validator is the first input byte) fed a program of inputs. The harness holds every
//! validator's key, so besides raw bytes it can send well-signed proposals, votes, timeouts,
//! certificates and fetched chains built from what it has seen: the fuzzer reaches commits,
//! timeouts, fetches and restarts rather than stopping at signature checks. Any validator may
//! be the sender, so the other three behave arbitrarily (more than f of them: safety across
//! honest nodes cannot be asserted, only this node's own rules).
//!
//! Checked after every input:
//! - no panic; every action is well-formed (writes numbered in order, sends name an issued
//!   write, timers not in the past, fetches not from itself and not over the fetch count);
//! - every buffer stays within its bound (`Core::occupancy`), and one input's actions are
//!   bounded;
//! - its round never goes back within one run of the process, and after a restart it starts at
//!   or above the last round it voted in;
//! - durable before it leaves: when a vote, timeout or proposal is released (its write reported
//!   durable), the durable safety data already covers its round;
//! - it never equivocates, across crashes that lose unsynced writes and the messages held
//!   behind them: one vote, one timeout and one proposal per round;
//! - safety data only grows; commits extend the committed chain by consecutive heights, and the
//!   certificate proves the last block.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use consensus::core::{FETCH_COUNT, MAX_FETCHES, MAX_STASH};
use consensus::{
    genesis_block, Action, Block, ConsensusMsg, Core, Input, Millis, Proposal, QuorumCert,
    Recovery, Round, SafetyData, SyncInfo, Timeout, TimeoutCert, TimeoutData, Vote, VoteData,
    WriteId,
};
use ledger::encoding::{from_canonical, to_canonical};
use ledger::tx::{Payload as TxPayload, Transaction};
use ledger::{BlockHeader, Hash, PublicKey, SignedTransaction};

use crate::bytes::{Reader, Writer};
use crate::fixtures::{self, CHAIN_ID, N};
use crate::payload::{CheckTxs, Txs};

/// Most inputs one fuzz case feeds the core.
pub const MAX_STEPS: usize = 96;
/// Most actions one input may cause: a fetched chain that releases the whole stash, plus a
/// timer's re-fetches, plus a handful of messages.
const MAX_ACTIONS: usize = MAX_STASH + 4 * MAX_FETCHES + 64;
/// Most known blocks, certificates and messages the harness keeps to build inputs from.
const KEEP_BLOCKS: usize = 128;
const KEEP_QCS: usize = 48;
const KEEP_TCS: usize = 16;
const KEEP_MSGS: usize = 16;

/// The operations of a fuzz program, one byte each (then their arguments).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Op {
    Raw = 0,
    Propose,
    Vote,
    Qc,
    Timeout,
    Tc,
    Timer,
    Persist,
    Payload,
    Fetched,
    Mutate,
    Crash,
}

const OPS: u8 = 12;

type C = Core<Txs, CheckTxs>;

fn validator() -> CheckTxs {
    CheckTxs {
        chain_id: CHAIN_ID.into(),
        max_txs: fixtures::MAX_BLOCK_TXS as usize,
    }
}

/// Transactions proposals are made of: valid ones, one for another chain, one with a bad
/// signature.
fn tx_pool() -> &'static [SignedTransaction] {
    static POOL: OnceLock<Vec<SignedTransaction>> = OnceLock::new();
    POOL.get_or_init(|| {
        let tx = |signer: usize, seq: u64, chain: &str| {
            let key = fixtures::account(signer);
            Transaction {
                chain_id: chain.into(),
                signer: key.public(),
                sequence: seq,
                payload: TxPayload::Memo {
                    data: vec![seq as u8; 8],
                },
            }
            .sign(key)
        };
        let mut forged = tx(1, 9, CHAIN_ID);
        forged.signature.0[5] ^= 1;
        let forged = SignedTransaction::new(forged.tx.clone(), forged.signature);
        vec![
            tx(0, 0, CHAIN_ID),
            tx(0, 1, CHAIN_ID),
            tx(1, 0, CHAIN_ID),
            tx(2, 0, CHAIN_ID),
            tx(3, 7, "another-chain"),
            forged,
        ]
    })
}

/// A payload chosen by a byte: bits 0..6 pick pool transactions, bit 7 repeats the first
/// one past the block limit.
fn payload(choice: u8) -> Txs {
    let pool = tx_pool();
    let mut txs: Vec<SignedTransaction> = (0..pool.len())
        .filter(|i| choice & (1 << i) != 0)
        .map(|i| pool[i].clone())
        .collect();
    if choice & 0x80 != 0 {
        txs.extend(std::iter::repeat_n(
            pool[0].clone(),
            fixtures::MAX_BLOCK_TXS as usize,
        ));
    }
    Txs { txs }
}

/// A message that left the node, for the equivocation checks.
#[derive(Clone, Debug)]
struct Outgoing {
    after: Option<WriteId>,
    msg: ConsensusMsg<Txs>,
}

pub struct Harness {
    me: usize,
    core: C,
    now: Millis,
    chain: Hash,
    // What the harness builds inputs from.
    blocks: Vec<Block<Txs>>,
    qcs: Vec<QuorumCert>,
    tcs: Vec<TimeoutCert>,
    msgs: Vec<ConsensusMsg<Txs>>,
    // This incarnation's writes: id -> what.
    issued: u64,
    durable: u64,
    safety_writes: BTreeMap<u64, SafetyData>,
    block_writes: BTreeMap<u64, Block<Txs>>,
    held: Vec<Outgoing>,
    latest_safety: SafetyData,
    round: Round,
    // What survives a crash.
    durable_safety: SafetyData,
    durable_blocks: Vec<Block<Txs>>,
    committed: Block<Txs>,
    // Everything that ever left the node, by round.
    votes: BTreeMap<Round, VoteData>,
    timeouts: BTreeMap<Round, TimeoutData>,
    proposals: BTreeMap<Round, Hash>,
}

impl Harness {
    pub fn new(me: usize) -> Harness {
        let genesis = fixtures::genesis();
        let (core, actions) = C::new(genesis, fixtures::key(me).clone(), validator(), 0);
        let gblock = genesis_block::<Txs>(genesis);
        let gqc = core.high_qc().clone();
        let mut h = Harness {
            me,
            core,
            now: 0,
            chain: genesis.hash(),
            blocks: vec![gblock.clone()],
            qcs: vec![gqc],
            tcs: vec![],
            msgs: vec![],
            issued: 0,
            durable: 0,
            safety_writes: BTreeMap::new(),
            block_writes: BTreeMap::new(),
            held: vec![],
            latest_safety: SafetyData::default(),
            round: 0,
            durable_safety: SafetyData::default(),
            durable_blocks: vec![],
            committed: gblock,
            votes: BTreeMap::new(),
            timeouts: BTreeMap::new(),
            proposals: BTreeMap::new(),
        };
        h.absorb(actions);
        h
    }

    pub fn core(&self) -> &C {
        &self.core
    }

    /// Reads one operation and feeds the core whatever it makes.
    pub fn step(&mut self, r: &mut Reader) {
        let op = r.u8() % OPS;
        let input = match op {
            0 => self.raw(r),
            1 => self.propose(r),
            2 => self.vote(r),
            3 => self.qc(r),
            4 => self.timeout(r),
            5 => self.tc(r),
            6 => {
                self.now = self.now.saturating_add(1_000);
                let round = if r.u8() & 1 == 0 {
                    self.core.round()
                } else {
                    self.round_near(r)
                };
                Some(Input::TimerFired { round })
            }
            7 => {
                let w = (self.durable + 1 + r.u8() as u64 % 4).min(self.issued);
                (w > 0).then_some(Input::Persisted(WriteId(w)))
            }
            8 => {
                let round = if r.u8() & 1 == 0 {
                    self.core.round()
                } else {
                    self.round_near(r)
                };
                Some(Input::PayloadReady {
                    round,
                    payload: payload(r.u8()),
                })
            }
            9 => self.fetched(r),
            10 => self.mutate(r),
            _ => {
                self.crash();
                None
            }
        };
        if let Some(input) = input {
            if let Input::Persisted(w) = &input {
                self.persisted(w.0);
            }
            self.now = self.now.saturating_add(r.u8() as u64);
            let actions = self.core.handle(self.now, input);
            self.absorb(actions);
        }
    }

    // ---- building inputs -------------------------------------------------------------------

    /// A round near the core's: two below to five above, or (rarely) any round at all.
    fn round_near(&self, r: &mut Reader) -> Round {
        match r.u8() % 9 {
            8 => r.u64(),
            d => self.core.round().saturating_add(d as u64).saturating_sub(2),
        }
    }

    fn pick<'a, T>(items: &'a [T], r: &mut Reader) -> Option<&'a T> {
        (!items.is_empty()).then(|| &items[r.pick(items.len())])
    }

    fn sender(&self, r: &mut Reader, author: usize) -> usize {
        // Usually the author; sometimes another validator or the outsider (index N).
        match r.u8() % 8 {
            7 => r.pick(N + 1),
            _ => author,
        }
    }

    /// The network authenticates peers, and the node is not its own peer: a message "from"
    /// this node comes from the next validator instead. (Messages signed with this node's key
    /// stay possible: a stolen key must not crash it either.)
    fn peer(&self, from: usize) -> PublicKey {
        let from = if from == self.me {
            (self.me + 1) % N
        } else {
            from
        };
        fixtures::public(from)
    }

    fn message(&self, from: usize, msg: ConsensusMsg<Txs>) -> Option<Input<Txs>> {
        Some(Input::Message {
            from: self.peer(from),
            msg,
        })
    }

    fn raw(&mut self, r: &mut Reader) -> Option<Input<Txs>> {
        let from = r.pick(N + 1);
        let bytes = r.bytes(4096);
        let msg = from_canonical("consensus message", bytes, 1 << 22).ok()?;
        self.message(from, msg)
    }

    fn block_of(&self, id: &Hash) -> Option<&Block<Txs>> {
        self.blocks.iter().find(|b| b.id() == *id)
    }

    fn propose(&mut self, r: &mut Reader) -> Option<Input<Txs>> {
        let round = self.round_near(r).max(1);
        let qc = Self::pick(&self.qcs, r)?.clone();
        let tc = match r.u8() % 3 {
            0 => Self::pick(&self.tcs, r).cloned(),
            _ => None,
        };
        let payload = payload(r.u8());
        let leader = (round % N as u64) as usize;
        let author = if r.u8() % 8 == 7 { r.pick(N) } else { leader };
        let parent_height = self
            .block_of(&qc.block_id())
            .map_or(qc.round(), |b| b.height());
        let mut header = BlockHeader {
            chain_id: CHAIN_ID.into(),
            height: parent_height.saturating_add(1),
            round,
            parent: qc.block_id(),
            tx_root: consensus::Payload::digest(&payload),
            proposer: fixtures::public(author),
            timestamp_ms: self.now,
            justify: qc.to_bytes(),
        };
        match r.u8() % 16 {
            13 => header.height = r.u64(),
            14 => header.tx_root = Hash([r.u8(); 32]),
            15 => header.chain_id = "another-chain".into(),
            _ => {}
        }
        let block = Block { header, payload };
        let signature = fixtures::sign(author, &Proposal::signed_data(self.chain, 0, &block, &tc));
        let proposal = Proposal {
            block: block.clone(),
            tc,
            signature,
        };
        self.know_block(block);
        let from = self.sender(r, author);
        self.message(from, ConsensusMsg::Proposal(proposal))
    }

    fn vote_data(&self, block: &Block<Txs>) -> VoteData {
        VoteData {
            epoch: 0,
            chain: self.chain,
            block_id: block.id(),
            round: block.round(),
            parent_id: block.header.parent,
            parent_round: block.qc().map_or(0, |qc| qc.round()),
        }
    }

    fn vote(&mut self, r: &mut Reader) -> Option<Input<Txs>> {
        let block = Self::pick(&self.blocks, r)?.clone();
        let voter = r.pick(N);
        let data = self.vote_data(&block);
        let vote = Vote {
            signature: fixtures::sign(voter, &data),
            author: fixtures::public(voter),
            data,
        };
        let from = self.sender(r, voter);
        self.message(from, ConsensusMsg::Vote(vote))
    }

    /// Signers from the low four bits of a byte (at least one), sorted by index.
    fn signers(bits: u8) -> Vec<usize> {
        let bits = if bits & 0xf == 0 { 0xf } else { bits & 0xf };
        (0..N).filter(|i| bits & (1 << i) != 0).collect()
    }

    fn qc(&mut self, r: &mut Reader) -> Option<Input<Txs>> {
        let block = Self::pick(&self.blocks, r)?.clone();
        let data = self.vote_data(&block);
        let signatures = Self::signers(r.u8())
            .into_iter()
            .map(|i| (i as u16, fixtures::sign(i, &data)))
            .collect();
        let qc = QuorumCert {
            vote_data: data,
            signatures,
        };
        self.know_qc(qc.clone());
        let from = r.pick(N);
        self.message(
            from,
            ConsensusMsg::SyncInfo(SyncInfo {
                high_qc: qc,
                high_tc: None,
            }),
        )
    }

    fn timeout(&mut self, r: &mut Reader) -> Option<Input<Txs>> {
        let round = self.round_near(r);
        let high_qc = Self::pick(&self.qcs, r)?.clone();
        let last_tc = match r.u8() % 3 {
            0 => Self::pick(&self.tcs, r).cloned(),
            _ => None,
        };
        let author = r.pick(N);
        let data = TimeoutData {
            epoch: 0,
            chain: self.chain,
            round,
            high_qc_round: high_qc.round(),
        };
        let timeout = Timeout {
            signature: fixtures::sign(author, &data),
            data,
            high_qc,
            last_tc,
            author: fixtures::public(author),
        };
        let from = self.sender(r, author);
        self.message(from, ConsensusMsg::Timeout(timeout))
    }

    fn tc(&mut self, r: &mut Reader) -> Option<Input<Txs>> {
        let round = self.round_near(r);
        let high_qc = Self::pick(&self.qcs, r)?.clone();
        let low = Self::pick(&self.qcs, r)?.round().min(high_qc.round());
        let signers = Self::signers(r.u8());
        let lower = r.u8() as usize % (signers.len() + 1);
        let entries = signers
            .iter()
            .enumerate()
            .map(|(n, &i)| {
                let high_qc_round = if n == lower { low } else { high_qc.round() };
                let data = TimeoutData {
                    epoch: 0,
                    chain: self.chain,
                    round,
                    high_qc_round,
                };
                (i as u16, high_qc_round, fixtures::sign(i, &data))
            })
            .collect();
        let tc = TimeoutCert {
            chain: self.chain,
            epoch: 0,
            round,
            entries,
            high_qc: high_qc.clone(),
        };
        self.know_tc(tc.clone());
        let from = r.pick(N);
        self.message(
            from,
            ConsensusMsg::SyncInfo(SyncInfo {
                high_qc,
                high_tc: Some(tc),
            }),
        )
    }

    fn fetched(&mut self, r: &mut Reader) -> Option<Input<Txs>> {
        let mut block = Self::pick(&self.blocks, r)?.clone();
        let count = 1 + r.u8() as usize % 8;
        let mut chain = vec![block.clone()];
        while chain.len() < count {
            match self.block_of(&block.header.parent) {
                Some(parent) => {
                    block = parent.clone();
                    chain.push(block.clone());
                }
                None => break,
            }
        }
        match r.u8() % 8 {
            6 => chain.reverse(),
            7 if chain.len() > 2 => {
                chain.remove(1);
            }
            _ => {}
        }
        Some(Input::BlocksFetched {
            from: self.peer(r.pick(N)),
            blocks: chain,
        })
    }

    /// A message the node sent, with one byte changed, from any validator.
    fn mutate(&mut self, r: &mut Reader) -> Option<Input<Txs>> {
        let msg = Self::pick(&self.msgs, r)?;
        let mut bytes = to_canonical(msg);
        let at = r.u16() as usize % bytes.len();
        bytes[at] ^= r.u8().max(1);
        let msg = from_canonical("consensus message", &bytes, 1 << 22).ok()?;
        let from = r.pick(N);
        self.message(from, msg)
    }

    fn know_block(&mut self, block: Block<Txs>) {
        if self.blocks.iter().any(|b| b.id() == block.id()) {
            return;
        }
        if self.blocks.len() >= KEEP_BLOCKS {
            self.blocks.remove(1); // keep genesis
        }
        self.blocks.push(block);
    }

    fn know_qc(&mut self, qc: QuorumCert) {
        if self.qcs.len() >= KEEP_QCS {
            self.qcs.remove(1);
        }
        self.qcs.push(qc);
    }

    fn know_tc(&mut self, tc: TimeoutCert) {
        if self.tcs.len() >= KEEP_TCS {
            self.tcs.remove(0);
        }
        self.tcs.push(tc);
    }

    // ---- the node's side -------------------------------------------------------------------

    /// The driver made writes up to `w` durable: release what waited for them.
    fn persisted(&mut self, w: u64) {
        assert!(w <= self.issued, "harness reports only issued writes");
        self.durable = self.durable.max(w);
        if let Some((_, data)) = self.safety_writes.range(..=self.durable).next_back() {
            self.durable_safety = data.clone();
        }
        let durable: Vec<u64> = self
            .block_writes
            .range(..=self.durable)
            .map(|(k, _)| *k)
            .collect();
        for k in durable {
            let block = self.block_writes.remove(&k).expect("listed");
            if self.durable_blocks.len() >= KEEP_BLOCKS {
                self.durable_blocks.remove(0);
            }
            self.durable_blocks.push(block);
        }
        let (ready, waiting): (Vec<_>, Vec<_>) = std::mem::take(&mut self.held)
            .into_iter()
            .partition(|o| o.after.is_none_or(|a| a.0 <= self.durable));
        self.held = waiting;
        for o in ready {
            self.leave(o.msg);
        }
    }

    /// A message leaves the node: it must be covered by durable safety data and must not
    /// contradict anything this key sent before.
    fn leave(&mut self, msg: ConsensusMsg<Txs>) {
        let safety = &self.durable_safety;
        match &msg {
            ConsensusMsg::Vote(v) => {
                assert!(
                    safety.last_voted_round >= v.data.round,
                    "vote of round {} left before safety data covering it was durable ({safety:?})",
                    v.data.round
                );
                if let Some(prev) = self.votes.insert(v.data.round, v.data.clone()) {
                    assert_eq!(
                        prev, v.data,
                        "two different votes in round {}",
                        v.data.round
                    );
                }
            }
            ConsensusMsg::Timeout(t) => {
                assert!(
                    safety.highest_timeout_round >= t.data.round,
                    "timeout of round {} left before its safety data was durable",
                    t.data.round
                );
                if let Some(prev) = self.timeouts.insert(t.data.round, t.data.clone()) {
                    assert_eq!(
                        prev, t.data,
                        "two different timeouts in round {}",
                        t.data.round
                    );
                }
            }
            ConsensusMsg::Proposal(p) => {
                assert!(
                    safety.last_proposed_round >= p.round(),
                    "proposal of round {} left before its safety data was durable",
                    p.round()
                );
                if let Some(prev) = self.proposals.insert(p.round(), p.block.id()) {
                    assert_eq!(prev, p.block.id(), "two proposals in round {}", p.round());
                }
            }
            ConsensusMsg::SyncInfo(_) => {}
        }
        if self.msgs.len() >= KEEP_MSGS {
            self.msgs.remove(0);
        }
        self.msgs.push(msg);
    }

    fn absorb(&mut self, actions: Vec<Action<Txs>>) {
        assert!(
            actions.len() <= MAX_ACTIONS,
            "{} actions for one input",
            actions.len()
        );
        for action in actions {
            match action {
                Action::PersistSafety { data, write } => {
                    self.write(write);
                    let prev = &self.latest_safety;
                    assert!(
                        data.last_voted_round >= prev.last_voted_round,
                        "{prev:?} -> {data:?}"
                    );
                    assert!(
                        data.preferred_round >= prev.preferred_round,
                        "{prev:?} -> {data:?}"
                    );
                    assert!(
                        data.highest_timeout_round >= prev.highest_timeout_round,
                        "{prev:?} -> {data:?}"
                    );
                    assert!(
                        data.last_proposed_round >= prev.last_proposed_round,
                        "{prev:?} -> {data:?}"
                    );
                    self.latest_safety = data.clone();
                    self.safety_writes.insert(write.0, data);
                }
                Action::PersistBlock { block, write } => {
                    self.write(write);
                    self.know_block(block.clone());
                    self.block_writes.insert(write.0, block);
                }
                Action::Send { to, msg, after } => {
                    assert_ne!(to, fixtures::public(self.me), "a send to itself");
                    assert!(
                        fixtures::genesis().validator_index(&to).is_some(),
                        "a send to a non-validator"
                    );
                    self.send(msg, after);
                }
                Action::Broadcast { msg, after } => {
                    if let ConsensusMsg::Proposal(p) = &msg {
                        self.know_block(p.block.clone());
                    }
                    self.send(msg, after);
                }
                Action::Commit {
                    blocks,
                    certificate,
                } => self.commit(blocks, certificate),
                Action::SetTimer { round, deadline } => {
                    assert!(deadline >= self.now, "timer in the past");
                    assert!(round <= self.core.round());
                }
                Action::RequestPayload { round, .. } => {
                    assert_eq!(
                        self.core.validators().leader(round),
                        fixtures::public(self.me),
                        "asked to propose in a round it does not lead"
                    );
                }
                Action::FetchBlocks { count, from, .. } => {
                    assert_ne!(from, fixtures::public(self.me), "a fetch from itself");
                    assert!(count <= FETCH_COUNT);
                }
                Action::Rejected { reason, .. } => {
                    let _ = reason.to_string();
                }
            }
        }
        let round = self.core.round();
        assert!(
            round >= self.round,
            "round went back from {} to {round}",
            self.round
        );
        self.round = round;
        let occupancy = self.core.occupancy();
        if let Some((what, held, most)) = occupancy.over_bound() {
            panic!("{what}: {held} held, the bound is {most}");
        }
        let count = |name: &str| occupancy.0.iter().find(|o| o.0 == name).map(|o| o.1);
        assert_eq!(
            count("stashed blocks"),
            count("stash count"),
            "stash count drifted"
        );
    }

    fn write(&mut self, write: WriteId) {
        assert_eq!(write.0, self.issued + 1, "writes are numbered in order");
        self.issued = write.0;
    }

    fn send(&mut self, msg: ConsensusMsg<Txs>, after: Option<WriteId>) {
        if let Some(w) = after {
            assert!(w.0 <= self.issued, "a send after a write never issued");
        }
        if let ConsensusMsg::Proposal(p) = &msg {
            assert_eq!(p.author(), fixtures::public(self.me));
        }
        match after {
            Some(w) if w.0 > self.durable => self.held.push(Outgoing { after, msg }),
            _ => self.leave(msg),
        }
    }

    fn commit(&mut self, blocks: Vec<Block<Txs>>, certificate: QuorumCert) {
        let mut parent = self.committed.clone();
        assert!(!blocks.is_empty(), "an empty commit");
        for b in &blocks {
            assert_eq!(
                b.header.parent,
                parent.id(),
                "commit does not extend the chain"
            );
            assert_eq!(b.height(), parent.height() + 1, "commit skips a height");
            parent = b.clone();
        }
        assert_eq!(
            certificate.commits(),
            Some(parent.id()),
            "the certificate does not prove the last committed block"
        );
        self.committed = parent;
    }

    /// The process dies: unsynced writes and the messages held behind them are lost; it
    /// restarts from what was durable.
    pub fn crash(&mut self) {
        let committed_height = self.committed.height();
        let recovery = Recovery {
            safety: self.durable_safety.clone(),
            blocks: self
                .durable_blocks
                .iter()
                .filter(|b| b.height() > committed_height)
                .cloned()
                .collect(),
            committed: (committed_height > 0).then(|| self.committed.clone()),
            epoch: None,
        };
        let (core, actions) = C::recover(
            fixtures::genesis(),
            fixtures::key(self.me).clone(),
            validator(),
            recovery,
            self.now,
        );
        self.core = core;
        self.issued = 0;
        self.durable = 0;
        self.safety_writes.clear();
        self.block_writes.clear();
        self.held.clear();
        self.latest_safety = self.durable_safety.clone();
        self.round = 0;
        self.absorb(actions);
        // Not necessarily its last voted round (a TC it no longer holds may have taken it
        // there); the safety data forbids signing again in any round up to that one.
        assert!(
            self.core.round() >= self.durable_safety.highest_timeout_round.max(1),
            "restarted below the round it last timed out in"
        );
    }
}

pub fn run(data: &[u8]) {
    let mut r = Reader::new(data);
    let mut h = Harness::new(r.pick(N));
    let mut steps = 0;
    while !r.is_empty() && steps < MAX_STEPS {
        h.step(&mut r);
        steps += 1;
    }
}

/// A program for [`run`]: which validator, then operations with their argument bytes.
pub struct Program(pub Writer);

impl Program {
    pub fn new(me: u8) -> Program {
        let mut w = Writer::default();
        w.u8(me);
        Program(w)
    }
    pub fn op(&mut self, op: Op, args: &[u8]) -> &mut Self {
        self.0.u8(op as u8);
        self.0 .0.extend_from_slice(args);
        self
    }
    pub fn raw(&mut self, from: u8, bytes: &[u8]) -> &mut Self {
        self.0.u8(Op::Raw as u8).u8(from).bytes(bytes);
        self
    }
    pub fn bytes(&self) -> Vec<u8> {
        self.0 .0.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn play(program: &[u8]) -> Harness {
        let mut r = Reader::new(program);
        let mut h = Harness::new(r.pick(N));
        while !r.is_empty() {
            h.step(&mut r);
        }
        h
    }

    /// The seeds reach deep states, not just signature checks: the honest program commits two
    /// blocks, has the node propose in the round it leads, and survives a restart; the timeout
    /// program forms a TC and moves the node on.
    #[test]
    fn seed_programs_reach_commits_proposals_and_timeout_certificates() {
        let seeds = crate::seeds::all()
            .into_iter()
            .find(|(name, _)| *name == "consensus_core")
            .expect("seeds")
            .1;
        let honest = play(&seeds[0]);
        assert_eq!(honest.committed.height(), 2);
        assert!(honest.proposals.contains_key(&4), "{:?}", honest.proposals);
        assert!(honest.votes.len() >= 3, "{:?}", honest.votes);
        assert!(honest.timeouts.contains_key(&4), "{:?}", honest.timeouts);
        let timeouts = play(&seeds[1]);
        assert!(timeouts.timeouts.contains_key(&1));
        assert!(
            timeouts.core().round() >= 3,
            "round {}",
            timeouts.core().round()
        );
    }
}
