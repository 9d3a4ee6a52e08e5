//! A member whose validator is down (a crash, an upgrade, a machine in maintenance) costs the
//! others little.
//!
//! Leaders rotate round-robin, so a down validator still leads every n-th round, and every
//! such round waits for its timeout before the others can go on. The timeout is the chain's
//! `round_timeout_ms` (1 s here, as in the shipped genesis), while a round otherwise takes a
//! few milliseconds: one down member of four made each round of four cost a second. A
//! validator now keeps a suspect list, from what it saw itself: a leader whose round ended
//! without its proposal, until its proposal is seen again. A suspect's round is timed out after
//! a short wait, so the others lose little to it, and a leader that comes back clears itself with
//! its first proposal.
//!
//! The run compares the latency clients see, in simulated time, with all four validators up and
//! with one down for the whole run (same seed).

mod sim;

fn plan(down: Option<usize>) -> sim::Plan {
    sim::Plan {
        seed: 7,
        n: 4,
        byzantine: vec![vec![]; 4],
        twin: None,
        observers: 0,
        // Down from the start to past the run's end: it never leads a round.
        crashes: down
            .map(|node| sim::plan::Crash {
                node,
                at_ms: 0,
                down_ms: 1_000_000,
                power_loss: false,
                mark_only: false,
                lose_tail: 0,
            })
            .into_iter()
            .collect(),
        latency_ms: (2, 5),
        drop_per_mille: 0,
        dup_per_mille: 0,
        partitions: vec![],
        heal_ms: 0,
        end_ms: 30_000,
        spares: 0,
        reconfig: vec![],
        idle: vec![],
    }
}

/// The `p`-th percentile of `v`.
fn percentile(v: &[u64], p: usize) -> u64 {
    let mut v = v.to_vec();
    v.sort_unstable();
    v[(v.len() * p / 100).min(v.len() - 1)]
}

#[test]
fn one_down_validator_of_four_costs_the_clients_less_than_half_a_round_timeout() {
    let all_up = sim::World::new(plan(None)).run();
    assert!(all_up.ok(), "{all_up:?}");
    let one_down = sim::World::new(plan(Some(3))).run();
    // The down validator itself commits nothing, which the checker reports; nothing else may.
    assert!(one_down.violations.is_empty(), "{one_down:?}");
    assert!(
        one_down
            .liveness
            .iter()
            .all(|l| l.starts_with("inst 3 committed nothing")),
        "{one_down:?}"
    );
    let (up, down) = (&all_up.client_latency_ms, &one_down.client_latency_ms);
    assert!(
        up.len() >= 20 && down.len() >= 20,
        "{} and {} commits",
        up.len(),
        down.len()
    );
    eprintln!(
        "client latency p50 / p90: {} / {} ms with all up, {} / {} ms with one down ({} and {} transactions)",
        percentile(up, 50),
        percentile(up, 90),
        percentile(down, 50),
        percentile(down, 90),
        up.len(),
        down.len()
    );
    // Before suspects, the median client waited about two round timeouts (852 ms here): the
    // down leader's round, and the round before it, whose votes went to the down leader.
    let round_timeout = sim::genesis(4).consensus.round_timeout_ms;
    assert!(
        percentile(down, 50) <= percentile(up, 50) + round_timeout / 2,
        "with one validator of four down the median client waited {} ms, with all up {} ms \
         (round timeout {round_timeout} ms)",
        percentile(down, 50),
        percentile(up, 50)
    );
}
