//! The sans-IO consensus core handling one round of a 4-validator network, with real signatures
//! and blocks of 0 and 500 transactions (the payload validator accepts them: their signatures were
//! verified when they arrived by gossip, see `crypto_batch`). The core is built fresh for every
//! iteration outside the timing; only `Core::handle` calls are timed.
//!
//! - `replica_vote`: a replica receives the round-2 proposal, which carries the round-1 QC (three
//!   signatures, batch-verified): it checks the proposal's signature, the QC and the block, then
//!   persists the block and its safety data and signs its vote.
//! - `leader_round`: the next leader receives the round-1 proposal (votes for it itself), then two
//!   votes: the third forms the QC, enters round 2 and asks for a payload; given the payload it
//!   signs and broadcasts the round-2 proposal and votes for it.

use consensus::{ConsensusMsg, Input};
use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion};
use waybill_benches::{proposal_of, vote_of, ConsensusScenario, MEASUREMENT, SAMPLES, WARM_UP};

fn round(c: &mut Criterion) {
    let mut g = c.benchmark_group("consensus");
    for n in [0usize, 500] {
        let s = ConsensusScenario::new(n);

        // Validator 0 has seen round 1 (and voted) before the timing starts.
        let replica = || {
            let (mut core, _) = s.core(0);
            core.handle(3, s.message(1, ConsensusMsg::Proposal(s.proposal1.clone())));
            core
        };
        let p2 = || s.message(2, ConsensusMsg::Proposal(s.proposal2.clone()));
        let mut check = replica();
        let vote = vote_of(&check.handle(5, p2())).expect("the replica votes in round 2");
        assert_eq!(vote.data.round, 2);
        g.bench_function(BenchmarkId::new("replica_vote", n), |b| {
            b.iter_batched(
                || (replica(), p2()),
                |(mut core, input)| {
                    let actions = core.handle(5, input);
                    (core, actions) // dropped after the timing
                },
                BatchSize::SmallInput,
            )
        });

        let (mut check, _) = s.leader_round(3);
        let proposed = check.handle(
            4,
            Input::PayloadReady {
                round: 2,
                payload: s.payload2.clone(),
            },
        );
        assert!(
            proposal_of(&proposed).is_some(),
            "the leader proposes round 2"
        );
        let inputs = || {
            let mut inputs = vec![s.message(1, ConsensusMsg::Proposal(s.proposal1.clone()))];
            for (from, vote) in &s.votes1 {
                inputs.push(s.message(*from, ConsensusMsg::Vote(vote.clone())));
            }
            inputs.push(Input::PayloadReady {
                round: 2,
                payload: s.payload2.clone(),
            });
            inputs
        };
        g.bench_function(BenchmarkId::new("leader_round", n), |b| {
            b.iter_batched(
                || (s.core(2).0, inputs()),
                |(mut core, inputs)| {
                    let actions: Vec<_> = inputs.into_iter().map(|i| core.handle(4, i)).collect();
                    (core, actions) // dropped after the timing
                },
                BatchSize::SmallInput,
            )
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .measurement_time(MEASUREMENT)
        .warm_up_time(WARM_UP)
        .sample_size(SAMPLES);
    targets = round
}
criterion_main!(benches);
