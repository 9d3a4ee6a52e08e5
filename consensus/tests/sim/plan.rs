//! Scenarios: everything a run does, derived from (kind, n, seed) alone, so a seed replays exactly.

use ledger::genesis::ConsensusParams;
use ledger::{Genesis, KeyPair};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Random network faults, partitions, crash-restarts and up to f Byzantine keys.
    Random,
    /// Twins: n = 4, one validator key run by two instances, a 2-way partition per round.
    Twins,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Random => "random",
            Kind::Twins => "twins",
        }
    }
    pub fn parse(s: &str) -> Option<Kind> {
        match s {
            "random" => Some(Kind::Random),
            "twins" => Some(Kind::Twins),
            _ => None,
        }
    }
}

/// A time-based partition: during [start, end) messages between instances of different groups
/// are dropped.
#[derive(Clone, Debug)]
pub struct Partition {
    pub start: u64,
    pub end: u64,
    pub group: Vec<u8>,
}

#[derive(Clone, Debug)]
pub struct Crash {
    pub instance: usize,
    pub at: u64,
    pub restart: u64,
}

#[derive(Clone, Debug)]
pub struct Plan {
    pub kind: Kind,
    pub n: usize,
    pub seed: u64,
    pub genesis: Genesis,
    pub keys: Vec<KeyPair>,
    /// Validator index run by each instance (a twin appears twice).
    pub instances: Vec<usize>,
    /// Validator indices that are Byzantine (twins or equivocating leaders).
    pub byzantine: Vec<usize>,
    /// Validators whose every proposal is equivocated (a second, different block to half the peers).
    pub equivocators: Vec<usize>,
    pub latency: Vec<Vec<u64>>,
    pub jitter: u64,
    /// Per million.
    pub drop_ppm: u32,
    pub dup_ppm: u32,
    pub partitions: Vec<Partition>,
    /// Twins: for rounds 1..=len, a group per instance; messages of that round crossing groups
    /// are dropped until `heal`.
    pub round_partitions: Vec<Vec<u8>>,
    pub crashes: Vec<Crash>,
    /// When the last fault ends (partitions healed, crashed nodes restarted).
    pub heal: u64,
    /// Every honest node must commit past the highest height committed at `heal` by this time.
    pub liveness_deadline: u64,
}

pub const TWIN_ROUNDS: usize = 6;

fn genesis(n: usize) -> (Genesis, Vec<KeyPair>) {
    let keys: Vec<KeyPair> = (0..n)
        .map(|i| KeyPair::from_secret([i as u8 + 1; 32]))
        .collect();
    let g = Genesis {
        consensus: ConsensusParams {
            round_timeout_ms: 200,
            max_round_timeout_ms: 2_000,
            timeout_backoff_percent: 150,
            max_block_txs: 100,
        },
        ..Genesis::of_validators(
            "waybill-sim",
            &keys
                .iter()
                .enumerate()
                .map(|(i, k)| {
                    (
                        k.public(),
                        KeyPair::from_secret([i as u8 + 100; 32]).public(),
                    )
                })
                .collect::<Vec<_>>(),
        )
    };
    (g, keys)
}

impl Plan {
    pub fn new(kind: Kind, n: usize, seed: u64) -> Plan {
        match kind {
            Kind::Random => Self::random(n, seed),
            Kind::Twins => Self::twins(seed),
        }
    }

    fn rng(kind: Kind, n: usize, seed: u64) -> ChaCha8Rng {
        let mut s = [0u8; 32];
        s[..8].copy_from_slice(&seed.to_le_bytes());
        s[8] = n as u8;
        s[9] = kind as u8;
        ChaCha8Rng::from_seed(s)
    }

    fn random(n: usize, seed: u64) -> Plan {
        let mut rng = Self::rng(Kind::Random, n, seed);
        let (genesis, keys) = genesis(n);
        let f = (n - 1) / 3;
        let mut byzantine = Vec::new();
        let mut equivocators = Vec::new();
        let mut instances: Vec<usize> = (0..n).collect();
        let byz_count = if f == 0 { 0 } else { rng.gen_range(0..=f) };
        while byzantine.len() < byz_count {
            let v = rng.gen_range(0..n);
            if byzantine.contains(&v) {
                continue;
            }
            byzantine.push(v);
            if rng.gen_bool(0.5) {
                instances.push(v); // a twin
            } else {
                equivocators.push(v);
            }
        }
        let m = instances.len();
        let mut latency = vec![vec![0; m]; m];
        for (i, row) in latency.iter_mut().enumerate() {
            for (j, l) in row.iter_mut().enumerate() {
                *l = if i == j { 0 } else { rng.gen_range(1..=40) };
            }
        }
        let jitter = rng.gen_range(0..=20);
        let drop_ppm = rng.gen_range(0..=50_000);
        let dup_ppm = rng.gen_range(0..=50_000);
        let mut partitions = Vec::new();
        for _ in 0..rng.gen_range(0..=3) {
            let start = rng.gen_range(0..1_500);
            let end = start + rng.gen_range(100..1_000);
            let group = (0..m).map(|_| rng.gen_range(0..2u8)).collect();
            partitions.push(Partition { start, end, group });
        }
        let honest: Vec<usize> = (0..m)
            .filter(|i| !byzantine.contains(&instances[*i]))
            .collect();
        let mut crashes: Vec<Crash> = Vec::new();
        for _ in 0..rng.gen_range(0..=2) {
            let instance = honest[rng.gen_range(0..honest.len())];
            if crashes.iter().any(|c| c.instance == instance) {
                continue;
            }
            let at = rng.gen_range(0..1_500);
            crashes.push(Crash {
                instance,
                at,
                restart: at + rng.gen_range(10..800),
            });
        }
        let heal = partitions
            .iter()
            .map(|p| p.end)
            .chain(crashes.iter().map(|c| c.restart))
            .fold(300, u64::max);
        Plan {
            kind: Kind::Random,
            n,
            seed,
            genesis,
            keys,
            instances,
            byzantine,
            equivocators,
            latency,
            jitter,
            drop_ppm,
            dup_ppm,
            partitions,
            round_partitions: vec![],
            crashes,
            heal,
            liveness_deadline: heal + 30_000,
        }
    }

    /// The twins sample space: which validator is twinned (with round-robin leaders this chooses
    /// the rounds the Byzantine key leads, where both twins propose different blocks), and for
    /// each of rounds 1..=TWIN_ROUNDS a 2-way partition of the 5 instances (32 assignments, so
    /// 4 x 32^6 = 4.3e9 scenarios; seeds sample it uniformly).
    fn twins(seed: u64) -> Plan {
        let mut rng = Self::rng(Kind::Twins, 4, seed);
        let n = 4;
        let (genesis, keys) = genesis(n);
        let twin = rng.gen_range(0..n);
        let mut instances: Vec<usize> = (0..n).collect();
        instances.push(twin);
        let m = instances.len();
        let round_partitions = (0..TWIN_ROUNDS)
            .map(|_| (0..m).map(|_| rng.gen_range(0..2u8)).collect())
            .collect();
        let mut latency = vec![vec![0; m]; m];
        for (i, row) in latency.iter_mut().enumerate() {
            for (j, l) in row.iter_mut().enumerate() {
                *l = if i == j { 0 } else { rng.gen_range(2..=20) };
            }
        }
        let heal = 2_000;
        Plan {
            kind: Kind::Twins,
            n,
            seed,
            genesis,
            keys,
            instances,
            byzantine: vec![twin],
            equivocators: vec![],
            latency,
            jitter: 5,
            drop_ppm: 0,
            dup_ppm: 0,
            partitions: vec![],
            round_partitions,
            crashes: vec![],
            heal,
            liveness_deadline: heal + 30_000,
        }
    }

    pub fn is_honest_instance(&self, i: usize) -> bool {
        !self.byzantine.contains(&self.instances[i])
    }

    pub fn replay_command(&self) -> String {
        format!(
            "WAYBILL_SIM_REPLAY={}:{}:{} cargo test -p waybill-consensus --release --test simulation replay -- --ignored --nocapture",
            self.kind.name(),
            self.n,
            self.seed
        )
    }
}
