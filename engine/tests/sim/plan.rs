//! What one simulated run is: validators, who is Byzantine and how, the network's faults, the
//! crashes and disk faults, all drawn from the seed.

use rand::seq::SliceRandom;
use rand::Rng;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Mixed into the seed for the observers' count (see `Plan::random`).
const OBSERVER_SEED: u64 = 0x6f62_7365_7276_6572;
/// Mixed into the seed for the idle windows (see `Plan::random`).
const IDLE_SEED: u64 = 0x6964_6c65_6964_6c65;
/// How long an idle window runs before the network must rest: the last transactions commit,
/// and a validator one empty block behind (only the next leader saw the last certificate)
/// catches up after its 3 s without progress.
pub const IDLE_SETTLE_MS: u64 = 5_000;

/// One Byzantine behaviour: a switch on a Byzantine validator (see `byzantine.rs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Behaviour {
    /// Its proposals carry more transaction bytes than a block may hold.
    OversizeBlocks,
    /// Its proposals carry a transaction with a bad signature, or one of another chain.
    BadTransactions,
    /// Its compact proposals name transactions nobody holds, and it never serves them or the
    /// block (asked for the missing transactions, it answers none, or others).
    GhostProposals,
    /// Different proposals (re-signed, different payloads) to different peers.
    Equivocate,
    /// Its sync answers lie: wrong accumulator roots, forged or foreign certificates, another
    /// fork's blocks, chains that stop short, other transactions than a proposal named, junk.
    LyingSync,
    /// Checkpoint votes far in the future, for wrong checkpoints, with bad signatures, in bulk.
    CheckpointSpam,
    /// Never sends its votes.
    WithholdVotes,
    /// Never proposes (a silent leader).
    SilentLeader,
    /// Random bytes on every protocol, and floods of them.
    Garbage,
    /// Replays old messages, and messages re-signed for another chain.
    Replay,
    /// Its proposals are dated before the chain began or far ahead of every clock (re-signed).
    FalseTime,
}

pub const ALL_BEHAVIOURS: [Behaviour; 11] = [
    Behaviour::OversizeBlocks,
    Behaviour::BadTransactions,
    Behaviour::GhostProposals,
    Behaviour::Equivocate,
    Behaviour::LyingSync,
    Behaviour::CheckpointSpam,
    Behaviour::WithholdVotes,
    Behaviour::SilentLeader,
    Behaviour::Garbage,
    Behaviour::Replay,
    Behaviour::FalseTime,
];

/// A crash of an honest validator, and what its disk loses.
#[derive(Clone, Copy, Debug)]
pub struct Crash {
    pub node: usize,
    pub at_ms: u64,
    pub down_ms: u64,
    /// The disk loses every write not yet synced (a power loss, not just the process).
    pub power_loss: bool,
    /// With a power loss: it came while the store's last consensus write and the safety mark
    /// beside it were both in flight, and only the mark's reached the disk.
    pub mark_only: bool,
    /// Writes the store's log loses after that (a damaged tail); the safety mark keeps what it
    /// had.
    pub lose_tail: usize,
}

/// A change to the validator set, made by governance transactions (see `mod.rs`'s governor).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    /// Validator `k` (a spare key, running as a non-validator since the start) joins.
    Join(usize),
    /// Validator `k` leaves the set (its node keeps following the chain).
    Leave(usize),
    /// Validator `k`'s voting power becomes this.
    Power(usize, u64),
    /// Validator `k` rotates its consensus key; its node restarts with the new one once the
    /// change is committed.
    Rotate(usize),
}

/// A change and when the governor starts proposing it.
#[derive(Clone, Copy, Debug)]
pub struct Reconfig {
    pub at_ms: u64,
    pub change: Change,
}

#[derive(Clone, Debug)]
pub struct Plan {
    pub seed: u64,
    pub n: usize,
    /// Behaviours of each validator (empty: honest).
    pub byzantine: Vec<Vec<Behaviour>>,
    /// A Byzantine validator that also runs a twin (a second instance with the same key).
    pub twin: Option<usize>,
    /// Observers: nodes whose keys are no validator's (keys and peers `n + spares..`). They
    /// follow the chain and must never vote.
    pub observers: usize,
    pub crashes: Vec<Crash>,
    /// Per-link latency bounds and the drop and duplication rates (per mille).
    pub latency_ms: (u64, u64),
    pub drop_per_mille: u32,
    pub dup_per_mille: u32,
    /// Two-way partitions: (from, until, the set on one side).
    pub partitions: Vec<(u64, u64, Vec<usize>)>,
    /// When every fault has ended (partitions healed, crashed nodes back).
    pub heal_ms: u64,
    /// The run lasts this long at most.
    pub end_ms: u64,
    /// Keys `n..n + spares` run nodes that are no validators at genesis (they may join).
    pub spares: usize,
    /// Validator-set changes, in order.
    pub reconfig: Vec<Reconfig>,
    /// Windows (from, until) in which clients start no new transaction: the network has
    /// nothing to order and should rest, then wake for the next transaction.
    pub idle: Vec<(u64, u64)>,
}

impl Plan {
    /// Faulty validators at most: f = (n - 1) / 3.
    pub fn f(&self) -> usize {
        (self.n - 1) / 3
    }

    /// Whether validator `node` is Byzantine (an observer, `node >= n`, never is).
    pub fn is_byzantine(&self, node: usize) -> bool {
        self.byzantine.get(node).is_some_and(|b| !b.is_empty()) || self.twin == Some(node)
    }

    /// Whether clients rest at `t`.
    pub fn is_idle(&self, t: u64) -> bool {
        self.idle
            .iter()
            .any(|(from, until)| (*from..*until).contains(&t))
    }

    /// Whether the network should be resting at `t`: in an idle window, settled.
    pub fn should_rest(&self, t: u64) -> bool {
        self.idle
            .iter()
            .any(|(from, until)| (from.saturating_add(IDLE_SETTLE_MS)..*until).contains(&t))
    }

    /// A plan with no fault at all: `n` honest validators on a clean network, and clients that
    /// rest from `idle.0` to `idle.1`.
    pub fn quiet(seed: u64, n: usize, idle: (u64, u64)) -> Plan {
        Plan {
            seed,
            n,
            byzantine: vec![Vec::new(); n],
            twin: None,
            observers: 0,
            crashes: Vec::new(),
            latency_ms: (1, 10),
            drop_per_mille: 0,
            dup_per_mille: 0,
            partitions: Vec::new(),
            // Liveness is owed from the window's end: a run ends early once the healed network
            // has done its work, and must not end in the window.
            heal_ms: idle.1,
            end_ms: idle.1 + 12_000,
            spares: 0,
            reconfig: Vec::new(),
            idle: vec![idle],
        }
    }

    /// Whether key `node` is a permanent observer's: keys `n + spares..` (a spare is an
    /// observer too until it joins, but it may join, and then it votes).
    pub fn is_observer(&self, node: usize) -> bool {
        node >= self.n + self.spares
    }

    /// A random plan as [`Plan::random`], plus one to four validator-set changes (joins of
    /// spare nodes, leaves, power changes, key rotations) at random times during and after the
    /// faults. The set stays between 4 and 7 validators, and the Byzantine ones hold less than
    /// a third of the power throughout; only honest validators rotate keys.
    pub fn random_reconfig(seed: u64, n: usize, rng: &mut ChaCha8Rng) -> Plan {
        let mut plan = Plan::random(seed, n, rng, None);
        let spares = rng.gen_range(1..=2);
        plan.spares = spares;
        // Current set: (key, power).
        let mut set: Vec<(usize, u64)> = (0..n).map(|k| (k, 1)).collect();
        let mut joined = vec![false; spares];
        let mut at = rng.gen_range(200..plan.heal_ms);
        for _ in 0..rng.gen_range(1..=4) {
            let candidate = match rng.gen_range(0..4) {
                0 => (0..spares)
                    .filter(|s| !joined[*s])
                    .map(|s| Change::Join(n + s))
                    .next(),
                1 => set.choose(rng).map(|(k, _)| Change::Leave(*k)),
                2 => set
                    .choose(rng)
                    .map(|(k, _)| Change::Power(*k, rng.gen_range(1..=3))),
                _ => set
                    .iter()
                    .filter(|(k, _)| !plan.is_byzantine(*k))
                    .map(|(k, _)| *k)
                    .collect::<Vec<_>>()
                    .choose(rng)
                    .map(|k| Change::Rotate(*k)),
            };
            let Some(change) = candidate else { continue };
            let mut next = set.clone();
            match change {
                Change::Join(k) => next.push((k, 1)),
                Change::Leave(k) => next.retain(|(v, _)| *v != k),
                Change::Power(k, p) => {
                    for v in next.iter_mut().filter(|(v, _)| *v == k) {
                        v.1 = p;
                    }
                }
                Change::Rotate(_) => {}
            }
            let total: u64 = next.iter().map(|(_, p)| p).sum();
            let byz: u64 = next
                .iter()
                .filter(|(k, _)| plan.is_byzantine(*k))
                .map(|(_, p)| p)
                .sum();
            if !(4..=7).contains(&next.len()) || 3 * byz >= total {
                continue;
            }
            if let Change::Join(k) = change {
                joined[k - n] = true;
            }
            set = next;
            plan.reconfig.push(Reconfig { at_ms: at, change });
            at += rng.gen_range(200..2_000);
        }
        plan.end_ms = plan.end_ms.max(at + 12_000);
        plan
    }

    /// A random plan: up to f Byzantine validators with one to three behaviours each (or all
    /// of `only` when given), network faults, up to two honest crashes with lossy disks.
    pub fn random(seed: u64, n: usize, rng: &mut ChaCha8Rng, only: Option<Behaviour>) -> Plan {
        let f = (n - 1) / 3;
        let mut byzantine = vec![Vec::new(); n];
        let mut nodes: Vec<usize> = (0..n).collect();
        nodes.shuffle(rng);
        let faulty = if only.is_some() {
            f
        } else {
            rng.gen_range(0..=f)
        };
        for &b in nodes.iter().take(faulty) {
            byzantine[b] = match only {
                Some(behaviour) => vec![behaviour],
                None => {
                    let k = rng.gen_range(1..=3);
                    let mut chosen: Vec<Behaviour> =
                        ALL_BEHAVIOURS.choose_multiple(rng, k).copied().collect();
                    chosen.sort();
                    chosen
                }
            };
        }
        let twin = (faulty > 0 && only.is_none() && rng.gen_bool(0.2)).then(|| nodes[0]);
        let heal_ms = rng.gen_range(2_000..4_000);
        let honest: Vec<usize> = nodes[faulty..].to_vec();
        let mut crashes = Vec::new();
        for _ in 0..rng.gen_range(0..=2usize) {
            let node = *honest.choose(rng).expect("n > f");
            if crashes.iter().any(|c: &Crash| c.node == node) {
                continue;
            }
            let at_ms = rng.gen_range(300..heal_ms - 1_000);
            let down_ms = rng.gen_range(100..(heal_ms - at_ms).max(101));
            let lose_tail = if rng.gen_bool(0.5) {
                rng.gen_range(1..6)
            } else {
                0
            };
            crashes.push(Crash {
                node,
                at_ms,
                down_ms,
                // From a draw already made, so that a seed's plan is otherwise what it was
                // before power losses were modelled.
                power_loss: at_ms % 2 == 0,
                mark_only: at_ms % 4 == 0,
                lose_tail,
            });
        }
        let mut partitions = Vec::new();
        for _ in 0..rng.gen_range(0..=2) {
            let from = rng.gen_range(0..heal_ms - 500);
            let until = rng.gen_range(from + 100..heal_ms);
            let side: Vec<usize> = (0..n).filter(|_| rng.gen_bool(0.5)).collect();
            partitions.push((from, until, side));
        }
        let low = rng.gen_range(1..10);
        let latency_ms = (low, low + rng.gen_range(0..30));
        let drop_per_mille = rng.gen_range(0..30);
        let dup_per_mille = rng.gen_range(0..30);
        // From a generator of their own, so every other draw (this plan's and the reconfiguration
        // drawn after it) is what the seed drew before observers existed.
        let observers = ChaCha8Rng::seed_from_u64(seed ^ OBSERVER_SEED).gen_range(0..=2);
        // Idle windows amid the faults (half the seeds; likewise from their own generator): the
        // network rests, then the next transaction must wake it.
        let mut idle_rng = ChaCha8Rng::seed_from_u64(seed ^ IDLE_SEED);
        let mut idle = Vec::new();
        if idle_rng.gen_bool(0.5) {
            let from = idle_rng.gen_range(300..heal_ms / 2);
            let until = (from + idle_rng.gen_range(800..2_500)).min(heal_ms);
            idle.push((from, until));
        }
        Plan {
            seed,
            n,
            byzantine,
            twin,
            observers,
            crashes,
            latency_ms,
            drop_per_mille,
            dup_per_mille,
            partitions,
            heal_ms,
            end_ms: heal_ms + 12_000,
            spares: 0,
            reconfig: Vec::new(),
            idle,
        }
    }
}
