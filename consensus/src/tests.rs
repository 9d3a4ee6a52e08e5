//! Unit tests: the exact actions the core returns for the key cases.

use ledger::encoding::{digest, Canonical};
use ledger::genesis::ConsensusParams;
use ledger::{Genesis, Hash, KeyPair, PublicKey};
use serde::{Deserialize, Serialize};

use crate::*;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct TP(Vec<u64>);

impl Canonical for TP {
    const DOMAIN: &'static str = "waybill/consensus/test-payload/v1";
}

impl Payload for TP {
    fn digest(&self) -> Hash {
        digest(self)
    }
    fn empty() -> Self {
        TP(vec![])
    }
}

type C = Core<TP, AcceptAll>;
type A = Action<TP>;

struct Net {
    genesis: Genesis,
    keys: Vec<KeyPair>,
}

impl Net {
    fn new(n: u8) -> Net {
        let keys: Vec<KeyPair> = (0..n).map(|i| KeyPair::from_secret([i + 1; 32])).collect();
        let genesis = Genesis {
            consensus: ConsensusParams {
                round_timeout_ms: 1_000,
                max_round_timeout_ms: 10_000,
                timeout_backoff_percent: 150,
                max_block_txs: 10,
            },
            ..Genesis::of_validators(
                "waybill-unit",
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
        Net { genesis, keys }
    }
    fn pk(&self, i: usize) -> PublicKey {
        self.keys[i].public()
    }
    fn core(&self, i: usize) -> (C, Vec<A>) {
        C::new(&self.genesis, self.keys[i].clone(), AcceptAll, 0)
    }
    fn genesis_id(&self) -> Hash {
        genesis_block::<TP>(&self.genesis).id()
    }
    fn msg(&self, from: usize, msg: ConsensusMsg<TP>) -> Input<TP> {
        Input::Message {
            from: self.pk(from),
            msg,
        }
    }
}

fn proposal_of(actions: &[A]) -> Proposal<TP> {
    actions
        .iter()
        .find_map(|a| match a {
            Action::Broadcast {
                msg: ConsensusMsg::Proposal(p),
                ..
            } => Some(p.clone()),
            _ => None,
        })
        .expect("a proposal broadcast")
}

fn vote_of(actions: &[A]) -> Vote {
    actions
        .iter()
        .find_map(|a| match a {
            Action::Send {
                msg: ConsensusMsg::Vote(v),
                ..
            } => Some(v.clone()),
            _ => None,
        })
        .expect("a vote")
}

fn timeout_of(actions: &[A]) -> Timeout {
    actions
        .iter()
        .find_map(|a| match a {
            Action::Broadcast {
                msg: ConsensusMsg::Timeout(t),
                ..
            } => Some(t.clone()),
            _ => None,
        })
        .expect("a timeout")
}

fn safety_of(actions: &[A], i: usize) -> SafetyData {
    match &actions[i] {
        Action::PersistSafety { data, .. } => data.clone(),
        a => panic!("expected PersistSafety, got {a:?}"),
    }
}

/// Validator `i` restarting from `safety` and `blocks` (nothing committed, epoch 0).
fn restart(
    net: &Net,
    i: usize,
    safety: SafetyData,
    blocks: Vec<Block<TP>>,
    now: Millis,
) -> (C, Vec<A>) {
    C::recover(
        &net.genesis,
        net.keys[i].clone(),
        AcceptAll,
        Recovery {
            safety,
            blocks,
            committed: None,
            epoch: None,
        },
        now,
    )
}

/// Leader 1 proposes round 1 with payload [7]; returns its core, the actions and the proposal.
fn propose_round1(net: &Net) -> (C, Vec<A>, Proposal<TP>) {
    let (mut l1, _) = net.core(1);
    let acts = l1.handle(
        5,
        Input::PayloadReady {
            round: 1,
            payload: TP(vec![7]),
        },
    );
    let p = proposal_of(&acts);
    (l1, acts, p)
}

#[test]
fn start_sets_timer_and_leader_asks_for_payload() {
    let net = Net::new(4);
    let (_, a0) = net.core(0);
    assert_eq!(
        a0,
        vec![Action::SetTimer {
            round: 1,
            deadline: 1_000
        }]
    );
    let (_, a1) = net.core(1);
    assert_eq!(
        a1,
        vec![
            Action::SetTimer {
                round: 1,
                deadline: 1_000
            },
            Action::RequestPayload {
                round: 1,
                parent: net.genesis_id(),
                uncommitted: vec![]
            },
        ]
    );
}

#[test]
fn leader_proposes_persists_then_votes_to_next_leader() {
    let net = Net::new(4);
    let (l1, acts, p) = propose_round1(&net);
    let h = &p.block.header;
    assert_eq!((h.height, h.round, h.parent), (1, 1, net.genesis_id()));
    assert_eq!(h.proposer, net.pk(1));
    assert_eq!(h.timestamp_ms, 5);
    assert_eq!(h.tx_root, TP(vec![7]).digest());
    assert_eq!(p.block.qc().unwrap().block_id(), net.genesis_id());
    assert_eq!(p.tc, None);
    let vote = vote_of(&acts);
    assert_eq!(vote.data.block_id, p.block.id());
    assert_eq!(
        (vote.data.round, vote.data.parent_round, vote.data.parent_id),
        (1, 0, net.genesis_id())
    );
    let s1 = safety_of(&acts, 0);
    assert_eq!(s1.last_proposed_round, 1);
    let s3 = safety_of(&acts, 3);
    assert_eq!(
        (s3.last_voted_round, s3.last_vote.clone()),
        (1, Some(vote.clone()))
    );
    assert_eq!(
        acts,
        vec![
            Action::PersistSafety {
                data: s1,
                write: WriteId(1)
            },
            Action::Broadcast {
                msg: ConsensusMsg::Proposal(p.clone()),
                after: Some(WriteId(1))
            },
            Action::PersistBlock {
                block: p.block.clone(),
                write: WriteId(2)
            },
            Action::PersistSafety {
                data: s3,
                write: WriteId(3)
            },
            Action::Send {
                to: net.pk(2),
                msg: ConsensusMsg::Vote(vote),
                after: Some(WriteId(3))
            },
        ]
    );
    assert_eq!(l1.round(), 1);
}

#[test]
fn replica_votes_and_resends_the_same_vote_for_a_duplicate() {
    let net = Net::new(4);
    let (_, _, p) = propose_round1(&net);
    let (mut r0, _) = net.core(0);
    let acts = r0.handle(10, net.msg(1, ConsensusMsg::Proposal(p.clone())));
    let vote = vote_of(&acts);
    assert_eq!(vote.author, net.pk(0));
    let s = safety_of(&acts, 1);
    assert_eq!(
        acts,
        vec![
            Action::PersistBlock {
                block: p.block.clone(),
                write: WriteId(1)
            },
            Action::PersistSafety {
                data: s,
                write: WriteId(2)
            },
            Action::Send {
                to: net.pk(2),
                msg: ConsensusMsg::Vote(vote.clone()),
                after: Some(WriteId(2))
            },
        ]
    );
    // The same proposal again: the stored vote again, no new write.
    let again = r0.handle(11, net.msg(1, ConsensusMsg::Proposal(p)));
    assert_eq!(
        again,
        vec![Action::Send {
            to: net.pk(2),
            msg: ConsensusMsg::Vote(vote),
            after: Some(WriteId(2))
        }]
    );
}

#[test]
fn quorum_of_votes_forms_qc_and_next_leader_proposes_on_it() {
    let net = Net::new(4);
    let (_, a1, p) = propose_round1(&net);
    let (mut l2, _) = net.core(2);
    // Leader 2 votes for itself (no send), then collects votes from 1 and 0.
    let acts = l2.handle(10, net.msg(1, ConsensusMsg::Proposal(p.clone())));
    assert!(
        matches!(
            acts[..],
            [Action::PersistBlock { .. }, Action::PersistSafety { .. }]
        ),
        "{acts:?}"
    );
    let v1 = vote_of(&a1);
    assert_eq!(
        l2.handle(11, net.msg(1, ConsensusMsg::Vote(v1.clone()))),
        vec![]
    );
    // A duplicate vote changes nothing.
    assert_eq!(l2.handle(12, net.msg(1, ConsensusMsg::Vote(v1))), vec![]);
    let (mut r0, _) = net.core(0);
    let v0 = vote_of(&r0.handle(10, net.msg(1, ConsensusMsg::Proposal(p.clone()))));
    let acts = l2.handle(20, net.msg(0, ConsensusMsg::Vote(v0)));
    assert_eq!(
        acts,
        vec![
            Action::SetTimer {
                round: 2,
                deadline: 1_020
            },
            Action::RequestPayload {
                round: 2,
                parent: p.block.id(),
                uncommitted: vec![p.block.id()]
            },
        ]
    );
    let qc = l2.high_qc().clone();
    assert_eq!(
        (qc.round(), qc.block_id(), qc.signatures.len()),
        (1, p.block.id(), 3)
    );
    assert_eq!(
        qc.signatures.iter().map(|s| s.0).collect::<Vec<_>>(),
        vec![0, 1, 2]
    );
    let acts = l2.handle(
        21,
        Input::PayloadReady {
            round: 2,
            payload: TP(vec![8]),
        },
    );
    let p2 = proposal_of(&acts);
    assert_eq!(p2.block.qc().unwrap(), qc);
    assert_eq!(
        (p2.block.height(), p2.block.header.parent),
        (2, p.block.id())
    );
}

/// Drives 4 honest cores in lockstep (every message delivered at once) for `rounds` rounds.
fn run_happy(net: &Net, rounds: u64) -> (Vec<C>, Vec<Vec<A>>) {
    let mut cores: Vec<C> = (0..4).map(|i| net.core(i).0).collect();
    let mut log: Vec<Vec<A>> = vec![vec![]; 4];
    let mut queue: Vec<(usize, Input<TP>)> = vec![(
        1,
        Input::PayloadReady {
            round: 1,
            payload: TP(vec![1]),
        },
    )];
    let mut now = 1;
    while let Some((i, input)) = queue.pop() {
        now += 1;
        let acts = cores[i].handle(now, input);
        for a in &acts {
            match a {
                Action::Broadcast { msg, .. } => {
                    for j in (0..4).filter(|j| *j != i) {
                        queue.insert(0, (j, net.msg(i, msg.clone())));
                    }
                }
                Action::Send { to, msg, .. } => {
                    let j = net.keys.iter().position(|k| k.public() == *to).unwrap();
                    queue.insert(0, (j, net.msg(i, msg.clone())));
                }
                Action::RequestPayload { round, .. } if *round <= rounds => {
                    queue.insert(
                        0,
                        (
                            i,
                            Input::PayloadReady {
                                round: *round,
                                payload: TP(vec![*round]),
                            },
                        ),
                    );
                }
                _ => {}
            }
        }
        log[i].extend(acts);
    }
    (cores, log)
}

fn commits(acts: &[A]) -> Vec<(Vec<u64>, QuorumCert)> {
    acts.iter()
        .filter_map(|a| match a {
            Action::Commit {
                blocks,
                certificate,
            } => Some((
                blocks.iter().map(|b| b.height()).collect(),
                certificate.clone(),
            )),
            _ => None,
        })
        .collect()
}

#[test]
fn two_chain_rule_commits_in_order_with_certificate() {
    let net = Net::new(4);
    let (cores, log) = run_happy(&net, 5);
    for (i, c) in cores.iter().enumerate() {
        // Rounds 1..=5 proposed; QC of round 5 formed by leader 6 only; commits up to height 3
        // everywhere (the round-5 block carries the QC of round 4, which commits height 3).
        let cs = commits(&log[i]);
        let heights: Vec<u64> = cs.iter().flat_map(|c| c.0.clone()).collect();
        assert!(heights.starts_with(&[1, 2, 3]), "node {i}: {heights:?}");
        for (_, cert) in &cs {
            assert_eq!(cert.vote_data.parent_round + 1, cert.vote_data.round);
        }
        assert!(c.committed_root().height() >= 3);
    }
}

#[test]
#[cfg(not(feature = "broken-safety"))]
fn timeout_is_persisted_before_broadcast_and_resent_unchanged() {
    let net = Net::new(4);
    let (mut r0, _) = net.core(0);
    let acts = r0.handle(1_000, Input::TimerFired { round: 1 });
    let t = timeout_of(&acts);
    assert_eq!(
        (t.round(), t.data.high_qc_round, t.author),
        (1, 0, net.pk(0))
    );
    let s = safety_of(&acts, 0);
    assert_eq!((s.highest_timeout_round, s.last_voted_round), (1, 1));
    assert_eq!(
        acts,
        vec![
            Action::PersistSafety {
                data: s,
                write: WriteId(1)
            },
            Action::Broadcast {
                msg: ConsensusMsg::Timeout(t.clone()),
                after: Some(WriteId(1))
            },
            Action::SetTimer {
                round: 1,
                deadline: 2_000
            },
        ]
    );
    // Stale timer: nothing. Same round again: the same timeout, no new write.
    assert_eq!(r0.handle(1_500, Input::TimerFired { round: 7 }), vec![]);
    assert_eq!(
        r0.handle(2_000, Input::TimerFired { round: 1 }),
        vec![
            Action::Broadcast {
                msg: ConsensusMsg::Timeout(t),
                after: Some(WriteId(1))
            },
            Action::SetTimer {
                round: 1,
                deadline: 3_000
            },
        ]
    );
    // After timing out round 1 it will not vote in round 1.
    let (_, _, p) = propose_round1(&net);
    let acts = r0.handle(2_100, net.msg(1, ConsensusMsg::Proposal(p.clone())));
    assert!(
        matches!(
            &acts[..],
            [
                Action::PersistBlock { .. },
                Action::Rejected {
                    reason: Reject::Unsafe { .. },
                    ..
                }
            ]
        ),
        "{acts:?}"
    );
}

#[test]
fn timeout_quorum_forms_tc_and_leader_proposes_with_it() {
    let net = Net::new(4);
    let mut cores: Vec<C> = (0..4).map(|i| net.core(i).0).collect();
    let t0 = timeout_of(&cores[0].handle(1_000, Input::TimerFired { round: 1 }));
    let t1 = timeout_of(&cores[1].handle(1_000, Input::TimerFired { round: 1 }));
    // Leader of round 2 (validator 2) has not timed out yet: f+1 = 2 timeouts make it join.
    let l2 = &mut cores[2];
    assert_eq!(
        l2.handle(1_001, net.msg(0, ConsensusMsg::Timeout(t0))),
        vec![]
    );
    let acts = l2.handle(1_002, net.msg(1, ConsensusMsg::Timeout(t1)));
    let t2 = timeout_of(&acts);
    let s = safety_of(&acts, 0);
    assert_eq!(
        acts,
        vec![
            Action::PersistSafety {
                data: s,
                write: WriteId(1)
            },
            Action::Broadcast {
                msg: ConsensusMsg::Timeout(t2),
                after: Some(WriteId(1))
            },
            // Its own timeout completes the quorum: TC of round 1, round 2 (one failed round: x1.5).
            Action::SetTimer {
                round: 2,
                deadline: 2_502
            },
            Action::RequestPayload {
                round: 2,
                parent: net.genesis_id(),
                uncommitted: vec![]
            },
        ]
    );
    let acts = l2.handle(
        1_003,
        Input::PayloadReady {
            round: 2,
            payload: TP(vec![2]),
        },
    );
    let p = proposal_of(&acts);
    let tc = p.tc.clone().expect("proposal after a TC carries it");
    assert_eq!((tc.round, tc.entries.len(), tc.high_qc.round()), (1, 3, 0));
    assert_eq!((p.block.round(), p.block.height()), (2, 1));
    // Validator 0 (still in round 1) accepts it: enters round 2 via the TC, votes to leader 3.
    let acts = cores[0].handle(1_004, net.msg(2, ConsensusMsg::Proposal(p.clone())));
    let v = vote_of(&acts);
    assert_eq!((v.data.round, v.data.parent_round), (2, 0));
    assert!(
        matches!(&acts[0], Action::SetTimer { round: 2, .. }),
        "{acts:?}"
    );
    assert!(
        matches!(&acts[3], Action::Send { to, .. } if *to == net.pk(3)),
        "{acts:?}"
    );
    assert_eq!(cores[0].round(), 2);
}

/// A validator that restarts after timing out a round counts its re-sent timeout towards that
/// round's TC, as it counted the first one. It did not: when every honest validator restarted
/// in the same round (the fourth one silent), each held only the others' timeouts, two of the
/// three a TC needs, and the chain stopped for good (found by the `engine_node` fuzz target).
/// And when the re-sent timeout completes the TC, the timer it leaves is the new round's.
#[test]
fn a_restarted_validator_counts_its_own_resent_timeout() {
    let net = Net::new(4);
    let (mut r0, _) = net.core(0);
    let acts = r0.handle(1_000, Input::TimerFired { round: 1 });
    let first = timeout_of(&acts);
    let safety = safety_of(&acts, 0);
    let others: Vec<Timeout> = [1, 2]
        .iter()
        .map(|&i| timeout_of(&net.core(i).0.handle(1_000, Input::TimerFired { round: 1 })))
        .collect();
    let restarted = || restart(&net, 0, safety.clone(), vec![], 1_100).0;
    // Its timer fires again in round 1 (the same timeout, re-sent), then the others' arrive.
    let mut back = restarted();
    let acts = back.handle(2_100, Input::TimerFired { round: 1 });
    assert_eq!(timeout_of(&acts), first);
    for (t, i) in others.iter().zip([1, 2]) {
        back.handle(2_200, net.msg(i, ConsensusMsg::Timeout(t.clone())));
    }
    assert_eq!(back.round(), 2);
    // The others' arrive first (it has timed out already, so it does not join again), then its
    // timer fires: the re-sent timeout completes the TC, and the timer is round 2's.
    let mut back = restarted();
    for (t, i) in others.iter().zip([1, 2]) {
        back.handle(1_200, net.msg(i, ConsensusMsg::Timeout(t.clone())));
    }
    assert_eq!(back.round(), 1);
    let acts = back.handle(2_100, Input::TimerFired { round: 1 });
    assert_eq!(back.round(), 2);
    let timers: Vec<Round> = acts
        .iter()
        .filter_map(|a| match a {
            Action::SetTimer { round, .. } => Some(*round),
            _ => None,
        })
        .collect();
    assert_eq!(timers, [2], "{acts:?}");
}

/// A validator that entered a round through a proposal carrying a TC, voted and restarted must
/// not come back in that round without the TC: its timeouts there would carry no certificate
/// for the round, so validators still in the previous one could never follow, and with the
/// fourth validator silent the chain stopped (found by the `engine_node` fuzz target). It comes
/// back in the round it can prove, re-sends its timeout there, and learns the TC again.
#[test]
fn a_restarted_validator_never_times_out_a_round_it_cannot_prove() {
    let net = Net::new(4);
    let mut cores: Vec<C> = (0..4).map(|i| net.core(i).0).collect();
    let t: Vec<Timeout> = (0..3)
        .map(|i| timeout_of(&cores[i].handle(1_000, Input::TimerFired { round: 1 })))
        .collect();
    // Validator 2 leads round 2: the timeouts make a TC, it proposes with it.
    for i in [0, 1] {
        cores[2].handle(1_010, net.msg(i, ConsensusMsg::Timeout(t[i].clone())));
    }
    assert_eq!(cores[2].round(), 2);
    let acts = cores[2].handle(
        1_020,
        Input::PayloadReady {
            round: 2,
            payload: TP(vec![2]),
        },
    );
    let p = proposal_of(&acts);
    assert!(p.tc.is_some());
    // Validator 0 enters round 2 through the proposal and votes; then it restarts.
    let acts = cores[0].handle(1_030, net.msg(2, ConsensusMsg::Proposal(p.clone())));
    vote_of(&acts);
    let safety = acts
        .iter()
        .rev()
        .find_map(|a| match a {
            Action::PersistSafety { data, .. } => Some(data.clone()),
            _ => None,
        })
        .expect("the vote's safety data");
    assert_eq!(safety.last_voted_round, 2);
    let (mut back, _) = restart(&net, 0, safety.clone(), vec![p.block.clone()], 2_000);
    let round = back.round();
    let acts = back.handle(9_000, Input::TimerFired { round });
    let timeout = timeout_of(&acts);
    let proven = timeout.high_qc.round() + 1 == timeout.round()
        || timeout
            .last_tc
            .as_ref()
            .is_some_and(|tc| tc.round + 1 == timeout.round());
    assert!(
        proven,
        "a timeout for round {} with a QC of round {} and no TC of the round before",
        timeout.round(),
        timeout.high_qc.round()
    );
    // Its store lost the block as well: the safety data still carry the TC that entered round 2.
    let (mut back, _) = restart(&net, 0, safety, vec![], 2_000);
    assert_eq!(back.round(), 2);
    let timeout = timeout_of(&back.handle(9_000, Input::TimerFired { round: 2 }));
    assert_eq!(timeout.last_tc.as_ref().map(|t| t.round), Some(1));
}

/// A validator whose store lost its tail (the voted block and the certificates before it) but
/// whose safety data survived must come back in the round it voted in, with the certificate
/// that entered it. It came back in the round after its highest surviving QC, below its vote:
/// there it may not time out (it voted above), nor anywhere with a high QC below its preferred
/// round, and with f+1 such validators the network stopped for good (whole-node seed 8478).
#[test]
fn a_validator_that_lost_its_tail_comes_back_in_the_round_it_voted_in() {
    let net = Net::new(4);
    let (_, log) = run_happy(&net, 2);
    let safety = log[0]
        .iter()
        .rev()
        .find_map(|a| match a {
            Action::PersistSafety { data, .. } => Some(data.clone()),
            _ => None,
        })
        .expect("validator 0 voted");
    assert_eq!((safety.last_voted_round, safety.preferred_round), (2, 1));
    let (mut back, _) = restart(&net, 0, safety, vec![], 5_000);
    assert_eq!(back.round(), 2);
    let acts = back.handle(20_000, Input::TimerFired { round: 2 });
    let timeout = timeout_of(&acts);
    assert_eq!((timeout.round(), timeout.high_qc.round()), (2, 1));
}

#[test]
#[cfg(not(feature = "broken-safety"))]
fn restarted_node_resends_its_vote_and_never_equivocates() {
    let net = Net::new(4);
    let (_, _, p) = propose_round1(&net);
    let (mut r0, _) = net.core(0);
    let acts = r0.handle(10, net.msg(1, ConsensusMsg::Proposal(p.clone())));
    let vote = vote_of(&acts);
    let safety = safety_of(&acts, 1);
    // Crash: everything durable comes back.
    let (mut back, acts) = restart(&net, 0, safety, vec![p.block.clone()], 50);
    assert_eq!(
        acts,
        vec![Action::SetTimer {
            round: 1,
            deadline: 1_050
        }]
    );
    // The same proposal: the stored vote, not a new signature, no write.
    assert_eq!(
        back.handle(60, net.msg(1, ConsensusMsg::Proposal(p.clone()))),
        vec![Action::Send {
            to: net.pk(2),
            msg: ConsensusMsg::Vote(vote),
            after: None
        }]
    );
    // A different block for round 1 from the same leader (equivocation): refused as such,
    // before it is stored, and never voted for.
    let mut other = p.block.clone();
    other.payload = TP(vec![99]);
    other.header.tx_root = other.payload.digest();
    let p2 = Proposal::sign(net.genesis.hash(), 0, other.clone(), None, &net.keys[1]);
    let acts = back.handle(61, net.msg(1, ConsensusMsg::Proposal(p2)));
    assert!(
        matches!(
            &acts[..],
            [Action::Rejected {
                reason: Reject::Equivocation {
                    what: "proposal",
                    round: 1
                },
                ..
            }]
        ),
        "{acts:?}"
    );
}

#[test]
fn recovery_replays_blocks_and_commits_what_they_prove() {
    let net = Net::new(4);
    let (cores, log) = run_happy(&net, 5);
    let blocks: Vec<Block<TP>> = log[0]
        .iter()
        .filter_map(|a| match a {
            Action::PersistBlock { block, .. } => Some(block.clone()),
            _ => None,
        })
        .collect();
    let safety = cores[0].safety_data().clone();
    let (back, acts) = C::recover(
        &net.genesis,
        net.keys[0].clone(),
        AcceptAll,
        Recovery {
            safety: safety.clone(),
            blocks,
            committed: None,
            epoch: None,
        },
        100,
    );
    let cs = commits(&acts);
    let heights: Vec<u64> = cs.iter().flat_map(|c| c.0.clone()).collect();
    assert_eq!(
        heights,
        (1..=cores[0].committed_root().height()).collect::<Vec<_>>()
    );
    assert_eq!(back.committed_root().id(), cores[0].committed_root().id());
    assert!(back.round() >= safety.last_voted_round);
}

#[test]
fn invalid_and_stale_messages_are_rejected_with_reasons() {
    let net = Net::new(4);
    let (_, a1, p) = propose_round1(&net);
    let (mut r0, _) = net.core(0);
    let stranger_key = KeyPair::from_secret([77; 32]);
    let stranger = stranger_key.public();
    let rej = |acts: Vec<A>| -> Reject {
        match &acts[..] {
            [Action::Rejected { reason, .. }] => reason.clone(),
            other => panic!("expected one rejection, got {other:?}"),
        }
    };
    let msg = ConsensusMsg::Proposal(p.clone());
    let mut strangers_block = p.block.clone();
    strangers_block.header.proposer = stranger;
    let strangers = Proposal::sign(net.genesis.hash(), 0, strangers_block, None, &stranger_key);
    assert_eq!(
        rej(r0.handle(
            1,
            Input::Message {
                from: stranger,
                msg: ConsensusMsg::Proposal(strangers)
            }
        )),
        Reject::NotAValidator
    );
    // Passing a validator's message off as one's own is the sender's fault, and comes first.
    assert_eq!(
        rej(r0.handle(
            1,
            Input::Message {
                from: stranger,
                msg: msg.clone()
            }
        )),
        Reject::AuthorMismatch
    );
    assert_eq!(
        rej(r0.handle(1, net.msg(2, msg.clone()))),
        Reject::AuthorMismatch
    );
    let mut forged = p.clone();
    forged.signature = net.keys[0].sign(&Proposal::<TP>::signed_data(
        net.genesis.hash(),
        0,
        &p.block,
        &None,
    ));
    assert_eq!(
        rej(r0.handle(1, net.msg(1, ConsensusMsg::Proposal(forged)))),
        Reject::BadSignature { what: "proposal" }
    );
    // A proposal for round 2 by the round-1 leader.
    let mut wrong = p.block.clone();
    wrong.header.round = 2;
    let wp = Proposal::sign(net.genesis.hash(), 0, wrong, None, &net.keys[1]);
    assert_eq!(
        rej(r0.handle(1, net.msg(1, ConsensusMsg::Proposal(wp)))),
        Reject::WrongLeader { round: 2 }
    );
    // Payload that does not match tx_root.
    let mut bad = p.block.clone();
    bad.payload = TP(vec![1, 2, 3]);
    let bp = Proposal::sign(net.genesis.hash(), 0, bad, None, &net.keys[1]);
    assert!(matches!(
        rej(r0.handle(1, net.msg(1, ConsensusMsg::Proposal(bp)))),
        Reject::BadBlock { .. }
    ));
    // A vote sent to a node that does not lead the next round.
    let v1 = vote_of(&a1);
    assert_eq!(
        rej(r0.handle(1, net.msg(1, ConsensusMsg::Vote(v1.clone())))),
        Reject::WrongLeader { round: 2 }
    );
    // A QC with too few signatures in a proposal's justify.
    let mut qc = QuorumCert {
        vote_data: VoteData {
            epoch: 0,
            chain: net.genesis.hash(),
            block_id: net.genesis_id(),
            round: 1,
            parent_id: Hash::ZERO,
            parent_round: 0,
        },
        signatures: vec![],
    };
    let sig = net.keys[0].sign(&qc.vote_data);
    qc.signatures = vec![(0, sig), (0, sig), (0, sig)];
    let mut b = p.block.clone();
    b.header.round = 2;
    b.header.justify = qc.to_bytes();
    b.header.proposer = net.pk(2);
    let qp = Proposal::sign(net.genesis.hash(), 0, b, None, &net.keys[2]);
    let r = rej(r0.handle(1, net.msg(2, ConsensusMsg::Proposal(qp))));
    assert!(matches!(r, Reject::BadCertificate { .. }), "{r:?}");
}

#[test]
fn stale_vote_and_future_vote_are_rejected() {
    let net = Net::new(4);
    let (mut cores, _) = run_happy(&net, 6);
    // Validator 2 is in round 6 or later; feed it a vote of round 1 (addressed to it).
    let (_, a1, _) = propose_round1(&net);
    let v1 = vote_of(&a1); // round 1, addressed to validator 2
    let c2 = &mut cores[2];
    assert!(c2.round() >= 6, "{}", c2.round());
    let acts = c2.handle(99_999, net.msg(1, ConsensusMsg::Vote(v1.clone())));
    assert!(
        matches!(
            &acts[..],
            [Action::Rejected {
                reason: Reject::StaleRound { round: 1, .. },
                ..
            }]
        ),
        "{acts:?}"
    );
    let mut far = v1.data.clone();
    far.round = 1 + 4 * 10;
    let fv = Vote::new(far, &net.keys[1]);
    let acts = c2.handle(99_999, net.msg(1, ConsensusMsg::Vote(fv)));
    assert!(
        matches!(
            &acts[..],
            [Action::Rejected {
                reason: Reject::FutureRound { .. },
                ..
            }]
        ),
        "{acts:?}"
    );
}

#[test]
fn missing_parent_is_fetched_then_voted() {
    let net = Net::new(4);
    let (cores, log) = run_happy(&net, 3);
    let _ = cores;
    // Proposal of round 2 (by validator 2) to a fresh node that never saw round 1's block.
    let p2 = log[2]
        .iter()
        .find_map(|a| match a {
            Action::Broadcast {
                msg: ConsensusMsg::Proposal(p),
                ..
            } if p.round() == 2 => Some(p.clone()),
            _ => None,
        })
        .unwrap();
    let b1_id = p2.block.header.parent;
    let (mut fresh, _) = net.core(0);
    let acts = fresh.handle(10, net.msg(2, ConsensusMsg::Proposal(p2.clone())));
    // The fresh core holds validator 0's key with empty safety data, while round 1's QC carries
    // validator 0's vote: it is a rolled-back copy, and it must notice and remember that first.
    let (noticed, acts) = acts.split_at(2);
    assert!(
        matches!(
            noticed,
            [
                Action::PersistSafety { data, .. },
                Action::Rejected {
                    reason: Reject::ForgottenSignature {
                        round: 1,
                        remembered: 0
                    },
                    ..
                },
            ] if data.last_voted_round == 1
        ),
        "{noticed:?}"
    );
    assert_eq!(
        acts,
        vec![
            // One block lies between its root (genesis) and the parent: one is asked for.
            Action::FetchBlocks {
                id: b1_id,
                count: 1,
                from: net.pk(2)
            },
            Action::SetTimer {
                round: 2,
                deadline: 1_010
            },
        ]
    );
    let b1 = log[1]
        .iter()
        .find_map(|a| match a {
            Action::PersistBlock { block, .. } if block.id() == b1_id => Some(block.clone()),
            _ => None,
        })
        .unwrap();
    // Unsolicited or wrong blocks are refused.
    let acts = fresh.handle(
        11,
        Input::BlocksFetched {
            from: net.pk(2),
            blocks: vec![p2.block.clone()],
        },
    );
    assert!(
        matches!(
            &acts[..],
            [Action::Rejected {
                reason: Reject::NotFetching { .. },
                ..
            }]
        ),
        "{acts:?}"
    );
    let acts = fresh.handle(
        12,
        Input::BlocksFetched {
            from: net.pk(2),
            blocks: vec![b1.clone()],
        },
    );
    let v = vote_of(&acts);
    assert_eq!((v.data.round, v.data.block_id), (2, p2.block.id()));
    assert!(matches!(
        &acts[..3],
        [
            Action::PersistBlock { .. },
            Action::PersistBlock { .. },
            Action::PersistSafety { .. }
        ]
    ));
}

#[test]
fn a_single_validator_commits_alone() {
    let net = Net::new(1);
    let (mut c, acts) = net.core(0);
    assert!(acts.contains(&Action::RequestPayload {
        round: 1,
        parent: net.genesis_id(),
        uncommitted: vec![]
    }));
    let mut committed = 0;
    for r in 1..=4 {
        let acts = c.handle(
            r,
            Input::PayloadReady {
                round: r,
                payload: TP(vec![r]),
            },
        );
        committed += commits(&acts).iter().map(|c| c.0.len()).sum::<usize>();
    }
    assert_eq!(committed, 3);
}

mod fuzz {
    use super::*;
    use ledger::encoding::{from_canonical, to_canonical};
    use proptest::prelude::*;

    /// Real messages of every kind, to mutate.
    fn corpus() -> (Net, Vec<ConsensusMsg<TP>>) {
        let net = Net::new(4);
        let (_, log) = run_happy(&net, 3);
        let mut msgs: Vec<ConsensusMsg<TP>> = log
            .iter()
            .flatten()
            .filter_map(|a| match a {
                Action::Broadcast { msg, .. } | Action::Send { msg, .. } => Some(msg.clone()),
                _ => None,
            })
            .collect();
        let mut cores: Vec<C> = (0..4).map(|i| net.core(i).0).collect();
        for (i, c) in cores.iter_mut().enumerate() {
            let t = timeout_of(&c.handle(1_000, Input::TimerFired { round: 1 }));
            msgs.push(ConsensusMsg::Timeout(t.clone()));
            if i == 0 {
                msgs.push(ConsensusMsg::SyncInfo(SyncInfo {
                    high_qc: t.high_qc,
                    high_tc: None,
                }));
            }
        }
        (net, msgs)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        /// Mutated bytes of valid messages, from any validator: never a panic, and nothing that
        /// fails to decode reaches the core.
        #[test]
        fn mutated_messages_never_panic(
            pick in 0usize..1_000,
            flips in proptest::collection::vec((0usize..100_000, any::<u8>()), 1..6),
            from in 0usize..4,
            target in 0usize..4,
        ) {
            let (net, msgs) = corpus();
            let msg = &msgs[pick % msgs.len()];
            let mut bytes = to_canonical(msg);
            for (at, b) in flips {
                let n = bytes.len();
                bytes[at % n] ^= b | 1;
            }
            if let Ok(m) = from_canonical::<ConsensusMsg<TP>>("msg", &bytes, 1 << 20) {
                let (mut core, _) = net.core(target);
                let _ = core.handle(5, net.msg(from, m.clone()));
                let _ = core.handle(6, net.msg(from, m));
                let _ = core.handle(7, Input::TimerFired { round: core.round() });
            }
        }
    }

    #[test]
    fn extreme_rounds_never_panic() {
        let (net, msgs) = corpus();
        for m in msgs {
            let mut m = m;
            match &mut m {
                ConsensusMsg::Proposal(p) => p.block.header.round = u64::MAX,
                ConsensusMsg::Vote(v) => v.data.round = u64::MAX,
                ConsensusMsg::Timeout(t) => {
                    t.data.round = u64::MAX;
                    t.data.high_qc_round = u64::MAX - 1;
                    if let Some(tc) = &mut t.last_tc {
                        tc.round = u64::MAX;
                    }
                }
                ConsensusMsg::SyncInfo(s) => s.high_qc.vote_data.round = u64::MAX,
            }
            for from in 0..4 {
                let (mut core, _) = net.core((from + 1) % 4);
                let acts = core.handle(1, net.msg(from, m.clone()));
                assert!(acts.iter().all(|a| !matches!(a, Action::Commit { .. })));
            }
        }
    }
}

/// Round `round`'s proposal as its leader broadcast it in `log`.
fn broadcast_proposal(log: &[Vec<A>], round: u64) -> Proposal<TP> {
    log.iter()
        .flatten()
        .find_map(|a| match a {
            Action::Broadcast {
                msg: ConsensusMsg::Proposal(p),
                ..
            } if p.round() == round => Some(p.clone()),
            _ => None,
        })
        .unwrap()
}

/// Validator 2 restarted with nothing, shown round 3's proposal after three happy rounds: it
/// holds only the genesis block, so it asks round 3's proposer for the parent and the one block
/// below it (two lie above its root), and no more. Returns it and the proposals of rounds 1 to 3.
fn fresh_validator_shown_round_3(net: &Net) -> (C, [Proposal<TP>; 3]) {
    let (_cores, log) = run_happy(net, 4);
    let proposals = [1, 2, 3].map(|round| broadcast_proposal(&log, round));
    let (mut fresh, _) = net.core(2);
    let acts = fresh.handle(10, net.msg(3, ConsensusMsg::Proposal(proposals[2].clone())));
    assert!(
        acts.contains(&Action::FetchBlocks {
            id: proposals[1].block.id(),
            count: 2,
            from: net.pk(3)
        }),
        "{acts:?}"
    );
    (fresh, proposals)
}

/// The heights of the blocks `acts` persist, in order.
fn persisted_heights(acts: &[A]) -> Vec<u64> {
    acts.iter()
        .filter_map(|a| match a {
            Action::PersistBlock { block, .. } => Some(block.height()),
            _ => None,
        })
        .collect()
}

/// A fetch asks for no more blocks than lie above the committed root; an answer that still
/// falls short (a peer that sends less, or an estimate made low by rounds) is kept, and the
/// fetch goes on from its oldest block's parent until the chain reaches the tree.
#[test]
fn a_short_fetch_answer_is_kept_and_the_fetch_goes_on_further_back() {
    let net = Net::new(4);
    let (mut fresh, [p1, p2, p3]) = fresh_validator_shown_round_3(&net);
    let acts = fresh.handle(
        11,
        Input::BlocksFetched {
            from: net.pk(3),
            blocks: vec![p2.block.clone()],
        },
    );
    assert_eq!(
        acts,
        vec![Action::FetchBlocks {
            id: p1.block.id(),
            count: 1,
            from: net.pk(3)
        }],
        "the short answer is stashed, and only the one block still missing is asked for"
    );
    let acts = fresh.handle(
        12,
        Input::BlocksFetched {
            from: net.pk(3),
            blocks: vec![p1.block.clone()],
        },
    );
    assert_eq!(persisted_heights(&acts), vec![1, 2, 3]);
    let v = vote_of(&acts);
    assert_eq!((v.data.round, v.data.block_id), (3, p3.block.id()));
}

/// Peers answer a fetch with ancestors down to wherever their store ends, which can be the
/// genesis block (never a valid proposal). Before this was handled, a restarted validator
/// rejected every such answer and never voted again.
#[test]
fn a_fetched_chain_reaching_genesis_is_accepted_and_voted_on() {
    let net = Net::new(4);
    let (mut fresh, [p1, p2, p3]) = fresh_validator_shown_round_3(&net);
    // Newest first, down to and including the genesis block.
    let answer = vec![
        p2.block.clone(),
        p1.block.clone(),
        genesis_block::<TP>(&net.genesis),
    ];
    let acts = fresh.handle(
        11,
        Input::BlocksFetched {
            from: net.pk(3),
            blocks: answer,
        },
    );
    assert!(
        !acts.iter().any(|a| matches!(a, Action::Rejected { .. })),
        "{acts:?}"
    );
    assert_eq!(persisted_heights(&acts), vec![1, 2, 3]);
    // It votes for round 3 (sent once the vote's safety data is durable).
    let v = vote_of(&acts);
    assert_eq!((v.data.round, v.data.block_id), (3, p3.block.id()));

    // A chain whose blocks are not each other's parents is still refused.
    let (mut fresh, _) = net.core(2);
    fresh.handle(10, net.msg(3, ConsensusMsg::Proposal(p3)));
    let acts = fresh.handle(
        11,
        Input::BlocksFetched {
            from: net.pk(3),
            blocks: vec![p2.block.clone(), p2.block],
        },
    );
    assert!(
        matches!(
            &acts[..],
            [Action::Rejected {
                reason: Reject::BadFetch { .. },
                ..
            }]
        ),
        "{acts:?}"
    );
}

/// Every buffer is reported with its bound; votes for every round in the window fill the vote
/// rounds exactly to theirs, and a vote beyond the window is refused rather than held.
#[test]
fn occupancy_reports_each_buffer_within_its_bound() {
    let net = Net::new(4);
    let (mut core, _) = net.core(0);
    assert_eq!(core.occupancy().over_bound(), None);
    let held = |core: &C, name: &str| {
        core.occupancy()
            .0
            .iter()
            .find(|(n, _, _)| *n == name)
            .map(|(_, held, most)| (*held, *most))
            .unwrap()
    };
    assert_eq!(held(&core, "block tree").0, 1);
    // Validator 0 collects votes for the rounds before the ones it leads: 3, 7, 11, ...
    let gid = net.genesis_id();
    for round in (3..=40u64).step_by(4) {
        let data = VoteData {
            epoch: 0,
            chain: net.genesis.hash(),
            block_id: Hash([round as u8; 32]),
            round,
            parent_id: gid,
            parent_round: 0,
        };
        let vote = Vote::new(data, &net.keys[1]);
        core.handle(0, net.msg(1, ConsensusMsg::Vote(vote)));
    }
    let (rounds, most) = held(&core, "vote rounds");
    assert_eq!(rounds, 2, "rounds 3 and 7 are inside the window of round 1");
    assert!(rounds <= most);
    assert_eq!(core.occupancy().over_bound(), None);
}

/// The deadline of the timer `acts` set for `round`.
fn timer_for(acts: &[A], round: u64) -> Option<u64> {
    acts.iter().rev().find_map(|a| match a {
        Action::SetTimer { round: r, deadline } if *r == round => Some(*deadline),
        _ => None,
    })
}

/// Validators `who` time `round` out together at `now`, each taking in the others' timeouts;
/// returns the timeouts, and each one's actions of the deliveries (where the TC moved it on).
fn time_out_together(
    net: &Net,
    cores: &mut [C],
    who: &[usize],
    round: u64,
    now: u64,
) -> (Vec<(usize, Timeout)>, Vec<Vec<A>>) {
    let timeouts: Vec<(usize, Timeout)> = who
        .iter()
        .map(|&i| {
            (
                i,
                timeout_of(&cores[i].handle(now, Input::TimerFired { round })),
            )
        })
        .collect();
    let acts = who
        .iter()
        .map(|&i| {
            let mut acts = vec![];
            for (from, t) in &timeouts {
                if *from != i {
                    acts.extend(
                        cores[i].handle(now + 1, net.msg(*from, ConsensusMsg::Timeout(t.clone()))),
                    );
                }
            }
            acts
        })
        .collect();
    (timeouts, acts)
}

/// A validator that is down still leads every fourth round of four. Each of its rounds waited
/// the full, growing timeout; now a leader whose round ended in a TC with no proposal seen is a
/// suspect, its rounds time out after a tenth of that, and its next proposal clears it.
#[test]
fn a_leader_that_failed_its_round_gets_a_short_timeout_until_it_proposes() {
    let net = Net::new(4);
    let mut cores: Vec<C> = (0..4).map(|i| net.core(i).0).collect();
    let live = [0usize, 2, 3];
    // Round 1: leader 1 is down. The TC moves 0 into round 2, whose leader is no suspect: the
    // full timeout (one failed round: x1.5).
    let (_, acts) = time_out_together(&net, &mut cores, &live, 1, 1_000);
    assert_eq!(timer_for(&acts[0], 2), Some(1_001 + 1_500), "{:?}", acts[0]);
    assert_eq!(cores[0].suspect_leaders(), 1);
    // Rounds 2 to 4 fail too (their leaders' payloads never come here): 0 suspects 2 and 3 as
    // well, never itself.
    let mut now = 3_000;
    let mut last = (vec![], vec![]);
    for round in 2..=4 {
        last = time_out_together(&net, &mut cores, &live, round, now);
        if round == 3 {
            // Round 4 is 0's own, but its votes would go to round 5's leader, suspect 1, which
            // forms the QC: a tenth of the pacemaker's 3,375 ms.
            assert_eq!(
                timer_for(&last.1[0], 4),
                Some(now + 1 + 337),
                "{:?}",
                last.1[0]
            );
        }
        now += 10_000;
    }
    assert_eq!(cores[0].suspect_leaders(), 3);
    // Round 5 is leader 1's again: a tenth of the pacemaker's 5,062 ms.
    let entered = now - 10_000 + 1;
    assert_eq!(cores[0].round(), 5);
    assert_eq!(
        timer_for(&last.1[0], 5),
        Some(entered + 506),
        "{:?}",
        last.1[0]
    );
    // Leader 1 is back: the round-4 timeouts (each carrying round 3's TC) take it to round 5,
    // and it proposes. Its proposal clears it.
    let back = &mut cores[1];
    for (from, t) in &last.0 {
        back.handle(now, net.msg(*from, ConsensusMsg::Timeout(t.clone())));
    }
    assert_eq!(back.round(), 5);
    let acts = back.handle(
        now + 2,
        Input::PayloadReady {
            round: 5,
            payload: TP(vec![5]),
        },
    );
    let p = proposal_of(&acts);
    cores[0].handle(now + 3, net.msg(1, ConsensusMsg::Proposal(p)));
    assert_eq!(
        cores[0].suspect_leaders(),
        2,
        "leader 1 is no longer a suspect"
    );
}
