//! Observers, input by input and in the whole-node simulator: a node whose key is no validator's
//! follows the chain by certified catch-up, ends with the validators' chain, and never signs.
//! (`whole_node.rs` runs observers in every random plan; these pin the rules down one by one.)

mod sim;

use consensus::{QuorumCert, ValidatorSet};
use ledger::encoding::{from_canonical, to_canonical};
use ledger::store_api::Head;
use ledger::stored::{StoredBlock, MAX_CERTIFICATE_BYTES};
use ledger::KeyPair;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use waybill_engine::catchup::{verify_committed, CatchupError};
use waybill_engine::mem_store::MemStore;
use waybill_engine::observer::FOLLOW_EVERY;
use waybill_engine::wire::{self, SyncRequest, SyncResponse};
use waybill_engine::{Effect, Event, Node, NodeConfig, NodeStore, RequestId};

/// The observer's key: not in `sim::genesis`.
fn observer_key() -> KeyPair {
    KeyPair::from_secret([0x0B; 32])
}

fn observer(genesis: &ledger::Genesis) -> (Node<u32, MemStore>, Vec<Effect<u32>>) {
    let config = NodeConfig {
        genesis: genesis.clone(),
        key: observer_key(),
        mempool: sim::mempool(genesis),
    };
    Node::start(config, MemStore::new(genesis), sim::parse_peer, 0).expect("starts")
}

/// A chain committed by four honest validators (validator 0's store), and the run's outcome.
fn honest_chain(observers: usize) -> (MemStore, sim::Outcome) {
    let world = sim::World::new(sim::Plan {
        seed: 7,
        n: 4,
        byzantine: vec![vec![]; 4],
        twin: None,
        observers,
        crashes: vec![],
        latency_ms: (2, 5),
        drop_per_mille: 0,
        dup_per_mille: 0,
        partitions: vec![],
        heal_ms: 3_000,
        // Clients send for the run's first part (they rest its last 10 s): an idle network
        // commits no blocks.
        end_ms: 15_000,
        spares: 0,
        reconfig: vec![],
        idle: vec![],
    });
    let source = world.insts[0].store.clone();
    (source, world.run())
}

fn follow_request(effects: &[Effect<u32>]) -> Option<(u32, RequestId, u64)> {
    effects.iter().find_map(|e| match e {
        Effect::Request {
            to,
            id: Some(id),
            bytes,
        } => match wire::decode_request(bytes) {
            Ok(SyncRequest::Committed { from_height, .. }) => Some((*to, *id, from_height)),
            _ => None,
        },
        _ => None,
    })
}

/// Drives `obs` (connected to validators `0..validators`) until it holds `source`'s chain,
/// answering each follow request with at most `per_answer` of `source`'s blocks: it must keep
/// asking, send nothing else, and apply something from each answer. Returns whom it asked.
fn follow_to(
    obs: &mut Node<u32, MemStore>,
    source: &MemStore,
    validators: u32,
    per_answer: u64,
) -> Vec<u32> {
    let top = source.head().unwrap().height;
    for p in 0..validators {
        obs.handle(0, Event::PeerConnected(p)).unwrap();
    }
    let mut now = 0;
    let mut asked = Vec::new();
    while obs.store().head().map_or(0, |h| h.height) < top {
        now += FOLLOW_EVERY;
        let effects = obs.handle(now, Event::Wake).unwrap();
        assert!(
            !effects
                .iter()
                .any(|e| matches!(e, Effect::Send { .. } | Effect::Broadcast { .. })),
            "{effects:?}"
        );
        let Some((to, id, from)) = follow_request(&effects) else {
            continue;
        };
        asked.push(to);
        assert_eq!(from, obs.store().head().map_or(0, |h| h.height) + 1);
        let answer =
            SyncResponse::Committed(records(source, from..=(from + per_answer - 1).min(top)));
        let effects = obs
            .handle(
                now,
                Event::SyncResponse {
                    id,
                    result: Ok(wire::encode_response(&answer)),
                },
            )
            .unwrap();
        let committed = effects
            .iter()
            .filter(|e| matches!(e, Effect::Committed(_)))
            .count();
        assert!(committed > 0, "each certified run is applied: {effects:?}");
        assert!(asked.len() <= top as usize, "no progress");
    }
    asked
}

fn records(store: &MemStore, heights: std::ops::RangeInclusive<u64>) -> Vec<Vec<u8>> {
    heights
        .map(|h| store.block_bytes(h).unwrap().expect("a stored block"))
        .collect()
}

#[test]
fn observers_in_the_simulator_end_with_the_validators_chain_and_never_sign() {
    let (_, outcome) = honest_chain(2);
    // The checks: agreement and forward-only commits for every honest instance (observers
    // included), no consensus message or checkpoint vote from an observer, and every instance
    // (observers included) commits after the heal; clients submit to observers too.
    assert!(outcome.ok(), "{outcome:#?}");
    assert!(outcome.max_height >= 5, "{outcome:#?}");
    assert!(
        // The run stops once the last client transaction commits, while blocks still come
        // fast; an observer follows a poll behind.
        outcome.observer_commits >= 2 * outcome.max_height.saturating_sub(8),
        "the observers followed to within a few blocks of the top: {outcome:#?}"
    );
    assert!(
        outcome.observer_certificates > 0,
        "the observers fetched ledger certificates: {outcome:#?}"
    );
}

/// Checkpoint votes reach every validator (on the consensus link since `/waybill/consensus/5`):
/// with no loss, every validator certifies every height it executed, the last few aside.
#[test]
fn validators_certify_every_height_with_their_checkpoint_votes() {
    let (_, outcome) = honest_chain(0);
    assert!(outcome.ok(), "{outcome:#?}");
    assert!(outcome.max_height >= 5, "{outcome:#?}");
    assert!(
        outcome.validator_certificates >= 4 * outcome.max_height.saturating_sub(2),
        "{} certificates for 4 validators at height {}: {outcome:#?}",
        outcome.validator_certificates,
        outcome.max_height
    );
}

/// The epoch a store's chain is in, read by a node started on it (with `key`).
fn epoch_of(genesis: &ledger::Genesis, key: &KeyPair, store: &MemStore) -> u64 {
    let config = NodeConfig {
        genesis: genesis.clone(),
        key: KeyPair::from_secret(key.secret_bytes()),
        mempool: sim::mempool(genesis),
    };
    let (node, _) = Node::start(config, store.clone(), sim::parse_peer, 0).expect("restarts");
    node.status().epoch
}

/// Validator-set changes by governance (joins, leaves, power changes, key rotations, amid the
/// random plans' faults): an observer checks each epoch's certificates against that epoch's set
/// (its catch-up stops at a block that ends an epoch and goes on with the next set), so it
/// enters every epoch the validators enter and ends with their chain, signing nothing (the
/// simulator's checks hold it to agreement, and to no consensus message or checkpoint vote).
#[test]
fn observers_follow_the_chain_across_epoch_changes() {
    let mut crossed = 0;
    let mut observer_epochs = 0;
    for seed in 0..40u64 {
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x0b5e);
        let mut plan = sim::Plan::random_reconfig(seed, 4, &mut rng);
        plan.observers = 2;
        let world = sim::World::new(plan);
        let genesis = world.genesis.clone();
        let honest: Vec<(usize, MemStore)> = sim::honest(&world)
            .into_iter()
            .map(|i| (world.insts[i].key, world.insts[i].store.clone()))
            .collect();
        let observers: Vec<(usize, MemStore)> = sim::observers(&world)
            .into_iter()
            .map(|i| (world.insts[i].key, world.insts[i].store.clone()))
            .collect();
        let keys: Vec<KeyPair> = world
            .keys
            .iter()
            .map(|k| KeyPair::from_secret(k.secret_bytes()))
            .collect();
        let outcome = world.run();
        assert!(outcome.ok(), "seed {seed}: {outcome:#?}");
        // The honest node furthest ahead, and the epoch its chain is in.
        let (top_key, top) = honest
            .iter()
            .max_by_key(|(_, s)| s.head().map_or(0, |h| h.height))
            .expect("honest nodes");
        let top_height = top.head().unwrap().height;
        let top_epoch = epoch_of(&genesis, &keys[*top_key], top);
        if top_epoch == 0 {
            continue; // no change was committed in this run
        }
        crossed += 1;
        // The observers that ran along: on the validators' chain, and (unless the last change
        // came in the final blocks) in its epochs.
        for (key, store) in &observers {
            let head = store.head().expect("the observer committed");
            assert_eq!(
                Some(head.hash),
                top.block_by_height(head.height)
                    .unwrap()
                    .map(|b| b.block.hash()),
                "seed {seed}: observer {key}'s head is on the validators' chain"
            );
            observer_epochs += epoch_of(&genesis, &keys[*key], store);
        }
        // An observer joining afterwards follows the whole chain across its epoch changes, in
        // runs of at most 5 blocks, to the same blocks, roots, checkpoints and epoch.
        let late = KeyPair::from_secret([0x0C; 32]);
        let config = NodeConfig {
            genesis: genesis.clone(),
            key: KeyPair::from_secret(late.secret_bytes()),
            mempool: sim::mempool(&genesis),
        };
        let (mut obs, _) =
            Node::start(config, MemStore::new(&genesis), sim::parse_peer, 0).expect("starts");
        follow_to(&mut obs, top, keys.len() as u32, 5);
        for h in 1..=top_height {
            let ours = obs.store().block_by_height(h).unwrap().unwrap();
            let theirs = top.block_by_height(h).unwrap().unwrap();
            assert_eq!(
                ours.block.hash(),
                theirs.block.hash(),
                "seed {seed} height {h}"
            );
            assert_eq!(ours.accumulator_root_after, theirs.accumulator_root_after);
            assert_eq!(
                obs.store().ledger_checkpoint(h).unwrap(),
                top.ledger_checkpoint(h).unwrap()
            );
        }
        assert_eq!(obs.status().epoch, top_epoch, "seed {seed}");
        assert!(obs.is_observer() && obs.status().observer);
        assert!(obs.status().offences.is_empty(), "seed {seed}");
        if crossed >= 4 {
            break;
        }
    }
    assert!(
        crossed >= 4,
        "only {crossed} of 40 plans committed a change"
    );
    assert!(
        observer_epochs > 0,
        "no observer that ran along entered a new epoch"
    );
}

#[test]
fn an_observer_starts_without_a_timer_and_ignores_consensus() {
    let genesis = sim::genesis(4);
    let (mut obs, effects) = observer(&genesis);
    assert!(obs.is_observer());
    assert!(obs.status().observer);
    assert_eq!(obs.status().round, 0);
    // It only tells the network whom to admit: the genesis set (it is none of them).
    match effects.as_slice() {
        [Effect::Members {
            validators,
            admitted,
        }] => {
            assert_eq!(validators, &[0, 1, 2, 3]);
            assert_eq!(admitted, validators);
        }
        other => panic!("{other:?}"),
    }
    // Its round timer would have fired long ago: nothing is signed, nothing is sent but a
    // request for committed blocks (none connected yet: nothing at all).
    let effects = obs.handle(60_000, Event::Wake).unwrap();
    assert!(effects.is_empty(), "{effects:?}");
    // And it does not ask to be woken for that timer again and again.
    assert!(obs.next_wake() > 60_000, "{}", obs.next_wake());
    // A proposal-shaped message from a validator is dropped unread, and is no offence.
    let effects = obs
        .handle(
            60_001,
            Event::Consensus {
                from: 0,
                bytes: vec![1, 2, 3],
            },
        )
        .unwrap();
    assert!(effects.is_empty(), "{effects:?}");
    assert!(obs.status().offences.is_empty());
}

#[test]
fn an_observer_joining_a_long_chain_applies_it_in_certified_runs() {
    let (source, outcome) = honest_chain(0);
    assert!(outcome.ok(), "{outcome:#?}");
    let top = source.head().unwrap().height;
    assert!(top >= 8, "the honest run committed {top} blocks");

    let genesis = sim::genesis(4);
    let (mut obs, _) = observer(&genesis);
    // Each answer carries at most 3 blocks, as a validator short of bytes would send.
    let asked = follow_to(&mut obs, &source, 4, 3);
    // The same chain, the same roots (it executed every block).
    for h in 1..=top {
        let ours = obs.store().block_by_height(h).unwrap().unwrap();
        let theirs = source.block_by_height(h).unwrap().unwrap();
        assert_eq!(ours.block.hash(), theirs.block.hash());
        assert_eq!(ours.accumulator_root_after, theirs.accumulator_root_after);
        assert_eq!(
            obs.store().ledger_checkpoint(h).unwrap(),
            source.ledger_checkpoint(h).unwrap()
        );
    }
    // Round-robin over the validators.
    let mut distinct = asked.clone();
    distinct.sort();
    distinct.dedup();
    assert!(distinct.len() > 1, "asked {asked:?}");
    assert!(
        obs.status().offences.is_empty(),
        "{:?}",
        obs.status().offences
    );
}

/// A valid commit certificate, taken from another block, with one signature byte flipped.
fn forged(cert: &[u8]) -> Vec<u8> {
    let mut qc: QuorumCert = from_canonical("qc", cert, MAX_CERTIFICATE_BYTES).unwrap();
    qc.signatures[0].1 .0[5] ^= 1;
    to_canonical(&qc)
}

#[test]
fn every_certificate_of_a_run_is_verified_not_only_the_last() {
    let (source, outcome) = honest_chain(0);
    assert!(outcome.ok(), "{outcome:#?}");
    let genesis = sim::genesis(4);
    let validators = ValidatorSet::from_genesis(&genesis);
    let genesis_id = consensus::genesis_block::<waybill_engine::payload::TxBatch>(&genesis).id();
    let head = Head {
        height: 0,
        hash: genesis_id,
    };
    let honest = records(&source, 1..=4);
    let check = |records: &[Vec<u8>]| {
        verify_committed(&genesis.chain_id, &validators, genesis_id, head, records)
    };
    assert_eq!(check(&honest).unwrap().len(), 4);

    let block = |bytes: &[u8]| StoredBlock::from_bytes(bytes).unwrap();
    // Block 2 carries block 3's certificate (it commits a later block of the run, as a batch's
    // blocks share one), forged: before, only the certificate committing its own block was
    // verified, so this one would have been stored and served on.
    let mut run = honest.clone();
    let mut b2 = block(&run[1]);
    b2.certificate = forged(&block(&run[2]).certificate);
    run[1] = to_canonical(&b2);
    assert!(
        matches!(
            check(&run),
            Err(CatchupError::InvalidCertificate { height: 2, .. })
        ),
        "{:?}",
        check(&run).map(|b| b.len())
    );

    // Block 3 carries block 1's genuine certificate: it commits an earlier block, so it proves
    // nothing about block 3.
    let mut run = honest.clone();
    let mut b3 = block(&run[2]);
    b3.certificate = block(&run[0]).certificate;
    run[2] = to_canonical(&b3);
    assert!(
        matches!(
            check(&run),
            Err(CatchupError::CertificateElsewhere { height: 3, .. })
        ),
        "{:?}",
        check(&run).map(|b| b.len())
    );

    // Block 2 carrying block 3's genuine certificate is fine: it commits a later block of the
    // run (what a batch commit stores).
    let mut run = honest;
    let mut b2 = block(&run[1]);
    b2.certificate = block(&run[2]).certificate;
    run[1] = to_canonical(&b2);
    assert_eq!(check(&run).unwrap().len(), 4);
}
