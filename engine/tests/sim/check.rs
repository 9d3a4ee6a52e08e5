//! The simulator's checkers. Safety ones run on every effect; liveness ones at the end.

use std::collections::BTreeMap;

use consensus::{ConsensusMsg, SafetyData};
use ledger::encoding::from_canonical;
use ledger::Hash;
use waybill_engine::guard::MarkState;
use waybill_engine::wire::{decode_consensus, decode_request, SyncRequest, WireConsensus};
use waybill_engine::{Committed, Effect, NodeStore};

use super::{Plan, World};

/// After the heal, every honest node must commit a block above the height reached at the heal
/// within this long, and every client's transaction must commit.
pub const LIVENESS_MS: u64 = 10_000;

pub struct Checks {
    /// First honest commit per height.
    agreed: BTreeMap<u64, Hash>,
    /// Per instance: the next height it may commit.
    next_height: BTreeMap<usize, u64>,
    /// Honest votes by (key, epoch, round).
    votes: BTreeMap<(usize, u64, u64), Hash>,
    /// Highest height any honest node committed when the faults healed.
    heal_height: Option<u64>,
    /// Per instance: the highest height it committed after the heal.
    after_heal: BTreeMap<usize, u64>,
    submitted: BTreeMap<Hash, u64>,
    /// (instance, peer) pairs already reported as an honest peer marked (reported once).
    marked: std::collections::BTreeSet<(usize, String)>,
}

impl Checks {
    pub fn new(_plan: &Plan) -> Checks {
        Checks {
            agreed: BTreeMap::new(),
            next_height: BTreeMap::new(),
            votes: BTreeMap::new(),
            heal_height: None,
            marked: std::collections::BTreeSet::new(),
            after_heal: BTreeMap::new(),
            submitted: BTreeMap::new(),
        }
    }

    /// `head` is the store's height before the start: recovery may commit blocks during
    /// `Node::start` (certified ones whose commit the crash lost), and their `Committed` effects
    /// come after it returns.
    pub fn started(&mut self, inst: usize, head: u64) {
        self.next_height.insert(inst, head + 1);
    }

    pub fn crashed(&mut self, inst: usize) {
        self.next_height.remove(&inst);
    }

    pub fn submitted(&mut self, tx: Hash, at: u64) {
        self.submitted.entry(tx).or_insert(at);
    }

    /// When a client first submitted `tx`.
    pub fn first_submitted(&self, tx: &Hash) -> Option<u64> {
        self.submitted.get(tx).copied()
    }

    /// The healed network has done what the liveness check asks: stop early.
    pub fn healed_work_done(&self, world: &World) -> bool {
        let Some(heal) = self.heal_height else {
            return false;
        };
        world.clients_idle()
            && super::honest(world)
                .iter()
                .all(|i| self.after_heal.get(i).is_some_and(|h| *h > heal))
    }
}

/// Every effect of an instance, before a Byzantine one twists them: honest ones must keep the
/// durability and no-equivocation rules.
pub fn effects(world: &mut World, inst: usize, effects: &[Effect<u32>]) {
    if !world.is_honest(inst) {
        return;
    }
    let key = world.insts[inst].key;
    if world.plan.is_observer(key) {
        observer_effects(world, inst, effects);
    }
    for e in effects {
        let bytes = match e {
            Effect::Send { bytes, .. } | Effect::Broadcast { bytes } => bytes,
            _ => continue,
        };
        let Ok(WireConsensus::Full(msg)) = decode_consensus(bytes) else {
            continue;
        };
        let (epoch, round, what) = match &msg {
            ConsensusMsg::Vote(v) if v.author == world.keys[key].public() => {
                let id = ledger::encoding::digest(&v.data);
                match world
                    .checks
                    .votes
                    .insert((key, v.data.epoch, v.data.round), id)
                {
                    Some(before) if before != id => world.out.violations.push(format!(
                        "t={} inst {inst}: honest key {key} signed two votes in round {}",
                        world.now, v.data.round
                    )),
                    _ => {}
                }
                (v.data.epoch, v.data.round, "vote")
            }
            ConsensusMsg::Timeout(t) if t.author == world.keys[key].public() => {
                (t.data.epoch, t.data.round, "timeout")
            }
            _ => continue,
        };
        // Durable before it leaves: the store's safety data and the mark both cover it.
        let store = &world.insts[inst].store;
        let safety: SafetyData = store
            .load_consensus()
            .ok()
            .and_then(|r| r.safety)
            .and_then(|b| from_canonical("safety", &b, 1 << 20).ok())
            .unwrap_or_default();
        let marked = match store.load_safety_mark() {
            Ok(MarkState::Present(m)) => m.safety,
            _ => SafetyData::default(),
        };
        // Data of a later epoch cover it too: the message's epoch ended after it was durable
        // (the old core's last messages leave with the actions that ended its epoch).
        let covers =
            |d: &SafetyData| d.epoch > epoch || (d.epoch == epoch && d.last_voted_round >= round);
        let marked_round = marked.last_voted_round;
        if !covers(&safety) || !covers(&marked) {
            let marked = marked_round;
            world.out.violations.push(format!(
                "t={} inst {inst}: {what} for round {round} left before it was durable (store {}, mark {marked})",
                world.now, safety.last_voted_round
            ));
        }
    }
    // No honest peer is ever marked as an offender.
    if let Some(node) = &world.insts[inst].node {
        for (peer, kinds) in &node.status().offences {
            let p: usize = peer.parse().unwrap_or(usize::MAX);
            if p < world.plan.n + world.plan.spares
                && !world.plan.is_byzantine(p)
                && world.checks.marked.insert((inst, peer.clone()))
            {
                world.out.violations.push(format!(
                    "t={} inst {inst}: honest peer {peer} marked for {kinds:?}",
                    world.now
                ));
            }
        }
    }
}

/// An observer sends no consensus message at all (no vote, timeout or proposal) and no
/// checkpoint vote: it signs nothing.
fn observer_effects(world: &mut World, inst: usize, effects: &[Effect<u32>]) {
    for e in effects {
        let what = match e {
            Effect::Send { .. } => "sent a consensus message",
            Effect::Broadcast { .. } => "broadcast a consensus message",
            Effect::Request { bytes, .. } => match decode_request(bytes) {
                Ok(SyncRequest::CheckpointVote { .. }) => "sent a checkpoint vote",
                _ => continue,
            },
            _ => continue,
        };
        world
            .out
            .violations
            .push(format!("t={} inst {inst}: observer {what}", world.now));
    }
}

/// An instance committed a block.
pub fn committed(world: &mut World, inst: usize, c: &Committed) {
    let (height, hash) = (c.summary.height, c.summary.hash);
    for r in &c.receipts {
        world.client_committed(&r.tx_hash);
    }
    if !world.is_honest(inst) {
        return;
    }
    for r in &c.receipts {
        world.governor_receipt(r);
    }
    world.maybe_rotate(inst);
    let expected = world
        .checks
        .next_height
        .get(&inst)
        .copied()
        .unwrap_or(height);
    if height != expected {
        world.out.violations.push(format!(
            "t={} inst {inst}: committed height {height}, expected {expected} (commits must move forward one height at a time)",
            world.now
        ));
    }
    world.checks.next_height.insert(inst, height + 1);
    match world.checks.agreed.get(&height) {
        Some(first) if *first != hash => world.out.violations.push(format!(
            "t={} inst {inst}: FORK at height {height}: {hash}, another honest node committed {first}",
            world.now
        )),
        Some(_) => {}
        None => {
            world.checks.agreed.insert(height, hash);
        }
    }
    world.out.max_height = world.out.max_height.max(height);
    if world.plan.should_rest(world.now) {
        world.out.idle_commits += 1;
    }
    if world.plan.is_observer(world.insts[inst].key) {
        world.out.observer_commits += 1;
    }
    world.record_trace(inst, height, &hash);
    if world.now >= world.plan.heal_ms {
        if world.checks.heal_height.is_none() {
            let before = world.checks.agreed.range(..height).next_back();
            world.checks.heal_height = Some(before.map_or(0, |(h, _)| *h));
        }
        let best = world.checks.after_heal.entry(inst).or_insert(0);
        *best = (*best).max(height);
    }
}

/// The liveness checks, and the run's statistics.
pub fn finish(world: &mut World) {
    let heal = world
        .checks
        .heal_height
        .unwrap_or_else(|| world.checks.agreed.keys().next_back().copied().unwrap_or(0));
    for inst in super::honest(world) {
        let after = world.checks.after_heal.get(&inst).copied();
        if after.is_none_or(|h| h <= heal) {
            let state = world.insts[inst].node.as_ref().map(|node| {
                let s = node.status();
                let safety = &node.core().safety_data();
                format!(
                    "round {}, last voted {}, highest timeout {}, preferred {}, timeouts {}, qcs {}, tcs {}, fence {:?}, rejected {}, syncing {}",
                    s.round,
                    safety.last_voted_round,
                    safety.highest_timeout_round,
                    safety.preferred_round,
                    s.timeouts,
                    s.qcs,
                    s.tcs,
                    s.rollback_fence,
                    s.rejected_inputs,
                    s.syncing
                )
            });
            world.out.liveness.push(format!(
                "inst {inst} committed nothing above height {heal} after the heal at t={} (run ended at t={}): {state:?}",
                world.plan.heal_ms, world.now
            ));
        }
    }
    if !world.clients_idle() {
        let stories = world.pending_stories();
        let nodes: Vec<String> = (0..world.insts.len())
            .filter_map(|i| {
                let s = world.insts[i].node.as_ref()?.status();
                Some(format!(
                    "inst {i}: epoch {} round {} height {}",
                    s.epoch, s.round, s.committed_height
                ))
            })
            .collect();
        world.out.liveness.push(format!(
            "client transactions still uncommitted at t={}: {stories:?}; nodes: {}",
            world.now,
            nodes.join(", ")
        ));
    }
    for inst in 0..world.insts.len() {
        if !world.is_honest(inst) {
            continue;
        }
        let Some(node) = &world.insts[inst].node else {
            continue;
        };
        let status = node.status();
        for kinds in status.offences.values() {
            for (kind, count) in kinds {
                *world.out.offences.entry(kind).or_insert(0) += count;
            }
        }
        world.out.refusals += status.peers_refused;
        world.out.rollbacks_detected += status.rollbacks_detected;
        if !world.plan.is_observer(world.insts[inst].key) {
            world.out.validator_certificates += status.ledger_certificates;
        } else {
            world.out.observer_certificates += status.ledger_certificates;
            if !status.observer {
                world.out.violations.push(format!(
                    "inst {inst}: an observer's key, yet its engine does not say it observes"
                ));
            }
        }
    }
}
