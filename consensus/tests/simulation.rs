//! Deterministic simulation of the consensus core. See docs/TESTING.md for the release-mode
//! commands that run any number of seeds.

mod sim;

use std::time::Instant;

use sim::{run, run_many, Kind, Summary};

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn check(label: &str, s: &Summary, started: Instant) {
    println!(
        "{} in {:.1}s",
        s.report(label),
        started.elapsed().as_secs_f64()
    );
    assert_eq!(
        s.safety_violations + s.liveness_failures,
        0,
        "{}",
        s.failures.join("\n")
    );
}

#[test]
#[cfg(not(feature = "broken-safety"))]
fn random_faults_n4() {
    let t = Instant::now();
    let s = run_many(
        Kind::Random,
        4,
        0,
        env_u64("WAYBILL_SIM_CI_SEEDS_N4", 1_400),
        1,
    );
    check("random n=4", &s, t);
}

#[test]
#[cfg(not(feature = "broken-safety"))]
fn random_faults_n7() {
    let t = Instant::now();
    let s = run_many(
        Kind::Random,
        7,
        0,
        env_u64("WAYBILL_SIM_CI_SEEDS_N7", 600),
        1,
    );
    check("random n=7", &s, t);
}

#[test]
#[cfg(not(feature = "broken-safety"))]
fn twins_sample() {
    let t = Instant::now();
    let s = run_many(Kind::Twins, 4, 0, env_u64("WAYBILL_SIM_CI_TWINS", 300), 1);
    check("twins n=4", &s, t);
}

#[test]
#[cfg(not(feature = "broken-safety"))]
fn a_seed_replays_exactly() {
    for seed in [3, 11] {
        let (_, a) = run(Kind::Random, 4, seed);
        let (_, b) = run(Kind::Random, 4, seed);
        assert_eq!(a.trace, b.trace);
        assert_eq!(a.events, b.events);
        assert!(a.max_height > 0);
    }
}

/// Teeth: with a safety rule broken (SafetyRules votes again in a round it already voted in, and
/// skips the two-chain voting rule), the simulator must report a safety violation within 1,000
/// seeds: here the honest-equivocation checker (an honest key signed two votes in one round).
#[test]
#[cfg(feature = "broken-safety")]
fn broken_safety_is_caught() {
    let mut found = None;
    for seed in 0..1_000 {
        let (plan, out) = run(Kind::Random, 4, seed);
        if !out.safety.is_empty() || !out.equivocations.is_empty() {
            found = Some((plan, out));
            break;
        }
    }
    let (plan, out) =
        found.expect("the simulator found no violation in 1,000 seeds with a broken safety rule");
    println!(
        "caught at seed {}: {:?} {:?}\nreplay: {}",
        plan.seed,
        out.safety,
        out.equivocations,
        plan.replay_command()
    );
}

/// How often the broken rule yields a fork (not just equivocation); informational.
#[test]
#[ignore]
#[cfg(feature = "broken-safety")]
fn broken_safety_forks() {
    let kind = std::env::var("WAYBILL_SIM_KIND")
        .ok()
        .and_then(|k| Kind::parse(&k))
        .unwrap_or(Kind::Random);
    let n = env_u64("WAYBILL_SIM_N", 4) as usize;
    let mut forks = 0;
    for seed in 0..env_u64("WAYBILL_SIM_SEEDS", 1_000) {
        let (plan, out) = run(kind, n, seed);
        if !out.safety.is_empty() {
            forks += 1;
            if forks <= 3 {
                println!("fork at seed {}: {:?}", plan.seed, out.safety);
            }
        }
    }
    println!("forks: {forks}");
}

/// The agreement and commit-order checkers fail on a fork: two honest nodes committing different
/// blocks at one height, and a node committing a block that does not extend its chain.
#[test]
fn checkers_detect_a_fork() {
    let out = sim::forged_fork_outcome();
    assert!(
        out.safety.iter().any(|v| v.starts_with("agreement")),
        "{:?}",
        out.safety
    );
    assert!(
        out.safety.iter().any(|v| v.contains("does not extend")),
        "{:?}",
        out.safety
    );
    assert!(
        out.safety.iter().any(|v| v.contains("never proposed")),
        "{:?}",
        out.safety
    );
}

/// Release-mode runner: `WAYBILL_SIM_KIND=random|twins WAYBILL_SIM_N=4 WAYBILL_SIM_SEEDS=100000
/// WAYBILL_SIM_START=0 cargo test -p waybill-consensus --release --test simulation sim_release
/// -- --ignored --nocapture`.
#[test]
#[ignore]
fn sim_release() {
    let kind = std::env::var("WAYBILL_SIM_KIND")
        .ok()
        .and_then(|k| Kind::parse(&k))
        .unwrap_or(Kind::Random);
    let n = env_u64("WAYBILL_SIM_N", 4) as usize;
    let start = env_u64("WAYBILL_SIM_START", 0);
    let seeds = env_u64("WAYBILL_SIM_SEEDS", 10_000);
    let t = Instant::now();
    let s = run_many(kind, n, start, seeds, threads());
    check(
        &format!("{} n={n} seeds {start}..{}", kind.name(), start + seeds),
        &s,
        t,
    );
}

/// Replays one seed: `WAYBILL_SIM_REPLAY=random:4:123`.
#[test]
#[ignore]
fn replay() {
    let spec = std::env::var("WAYBILL_SIM_REPLAY").expect("set WAYBILL_SIM_REPLAY=kind:n:seed");
    let parts: Vec<&str> = spec.split(':').collect();
    let kind = Kind::parse(parts[0]).expect("kind is random or twins");
    let n: usize = parts[1].parse().expect("n");
    let seed: u64 = parts[2].parse().expect("seed");
    let (plan, out) = run(kind, n, seed);
    println!("plan: {plan:#?}");
    println!("outcome: {out:#?}");
    assert!(out.ok());
}
