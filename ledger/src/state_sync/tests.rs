//! The walk against in-memory servers, honest and not: a sync ends with exactly the certified
//! state, and every wrong answer is refused, blamed and asked again.

use std::collections::{BTreeMap, HashMap};

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::verify::root_of;
use super::*;
use crate::hash::Hash;
use crate::smt::{self, key_hash, value_hash, MemoryNodeStore, Node, NodeStore, SmtError, EMPTY};

/// A tree with the keys and values behind its leaves, as a serving peer holds it.
struct Source {
    nodes: MemoryNodeStore,
    keys: HashMap<Hash, Vec<u8>>,
    values: HashMap<Hash, Vec<u8>>,
    root: Hash,
}

impl Source {
    fn new(state: &BTreeMap<Vec<u8>, Vec<u8>>) -> Source {
        let mut nodes = MemoryNodeStore::new();
        let changes = state
            .iter()
            .map(|(k, v)| (k.clone(), Some(v.clone())))
            .collect();
        let (root, created) = smt::apply(&nodes, EMPTY, &changes).unwrap();
        nodes.insert_all(&created).unwrap();
        Source {
            nodes,
            keys: state.keys().map(|k| (key_hash(k), k.clone())).collect(),
            values: state.values().map(|v| (value_hash(v), v.clone())).collect(),
            root,
        }
    }
}

impl NodeStore for Source {
    fn get(&self, hash: &Hash) -> Result<Option<Node>, SmtError> {
        self.nodes.get(hash)
    }
}

impl ChunkSource for Source {
    fn key_of(&self, key_hash: &Hash) -> Result<Option<Vec<u8>>, SmtError> {
        Ok(self.keys.get(key_hash).cloned())
    }
    fn value_of(&self, value_hash: &Hash) -> Result<Option<Vec<u8>>, SmtError> {
        Ok(self.values.get(value_hash).cloned())
    }
}

fn random_state(rng: &mut ChaCha8Rng, n: usize) -> BTreeMap<Vec<u8>, Vec<u8>> {
    (0..n)
        .map(|i| {
            let key = format!("item/{i}-{}", rng.gen::<u32>()).into_bytes();
            let value = (0..rng.gen_range(0..40)).map(|_| rng.gen()).collect();
            (key, value)
        })
        .collect()
}

/// Runs a whole sync against `source`, answering up to [`MAX_IN_FLIGHT`] requests in a random
/// order; returns the state it kept.
fn sync(source: &Source, limits: ChunkLimits, rng: &mut ChaCha8Rng) -> BTreeMap<Vec<u8>, Vec<u8>> {
    let mut walk = StateSync::new(source.root);
    let mut kept = BTreeMap::new();
    let mut asked = Vec::new();
    for _ in 0..1_000_000 {
        while let Some(request) = walk.next_request() {
            asked.push(request.node);
        }
        if asked.is_empty() {
            break;
        }
        asked.shuffle(rng);
        let node = asked.pop().unwrap();
        let chunk = serve_chunk(source, &node, limits).unwrap();
        match walk.on_chunk(&node, chunk).unwrap() {
            SyncStep::Entries(entries) => {
                for e in entries {
                    assert!(kept.insert(e.key, e.value).is_none(), "a leaf twice");
                }
            }
            SyncStep::Split => {}
            SyncStep::Unavailable => panic!("an honest source holds every node"),
        }
    }
    assert!(walk.is_complete());
    kept
}

#[test]
fn the_subtree_hash_of_a_set_of_leaves_is_the_trees() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    for n in [0, 1, 2, 3, 17, 200] {
        let state = random_state(&mut rng, n);
        let entries: Vec<StateEntry> = state
            .iter()
            .map(|(k, v)| StateEntry {
                key: k.clone(),
                value: v.clone(),
            })
            .collect();
        let mut hashed: Vec<(Hash, Hash)> = entries
            .iter()
            .map(|e| (key_hash(&e.key), value_hash(&e.value)))
            .collect();
        hashed.sort();
        assert_eq!(subtree_hash(0, &hashed), root_of(&entries), "{n} leaves");
    }
}

/// Whatever the answer size and the order answers come in, the walk keeps exactly the state.
#[test]
fn a_sync_from_an_honest_peer_keeps_exactly_the_certified_state() {
    for seed in 0..12u64 {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let n = [0, 1, 2, 5, 64, 700][seed as usize % 6];
        let state = random_state(&mut rng, n);
        let source = Source::new(&state);
        for entries in [1, 3, 50, MAX_CHUNK_ENTRIES] {
            let limits = ChunkLimits {
                entries,
                bytes: MAX_CHUNK_BYTES,
            };
            assert_eq!(
                sync(&source, limits, &mut rng),
                state,
                "seed {seed}, {entries} per answer"
            );
        }
        // Limited by bytes rather than entries.
        let limits = ChunkLimits {
            entries: MAX_CHUNK_ENTRIES,
            bytes: 60,
        };
        assert_eq!(
            sync(&source, limits, &mut rng),
            state,
            "seed {seed}, 60 bytes per answer"
        );
    }
}

/// Each way of lying about a subtree is refused with its own fault; the node is then asked
/// for again, and an honest answer still completes the sync.
#[test]
fn every_wrong_answer_is_refused_and_the_node_asked_for_again() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let state = random_state(&mut rng, 40);
    let source = Source::new(&state);
    let limits = ChunkLimits {
        entries: 8,
        bytes: MAX_CHUNK_BYTES,
    };
    let honest = |node: &Hash| serve_chunk(&source, node, limits).unwrap();

    let mut walk = StateSync::new(source.root);
    let root = walk.next_request().unwrap().node;
    let StateChunk::Split { left, right } = honest(&root) else {
        panic!("40 leaves, 8 per answer: the root splits");
    };
    // Children that do not hash to the node.
    let forged = walk.on_chunk(
        &root,
        StateChunk::Split {
            left: right,
            right: left,
        },
    );
    assert!(
        matches!(forged, Err(ChunkFault::WrongChildren { .. })),
        "{forged:?}"
    );
    assert_eq!(walk.next_request().unwrap().node, root, "asked again");
    // The whole state for the root, as leaves: fine by hash, and too many is the only limit.
    let mut all: Vec<StateEntry> = state
        .iter()
        .map(|(k, v)| StateEntry {
            key: k.clone(),
            value: v.clone(),
        })
        .collect();
    all.sort_by_key(|e| key_hash(&e.key));
    let mut altered = all.clone();
    altered[3].value.push(1);
    assert!(matches!(
        walk.on_chunk(&root, StateChunk::Leaves(altered)),
        Err(ChunkFault::WrongLeaves { count: 40, .. })
    ));
    walk.next_request();
    let mut dropped = all.clone();
    dropped.remove(5);
    assert!(matches!(
        walk.on_chunk(&root, StateChunk::Leaves(dropped)),
        Err(ChunkFault::WrongLeaves { count: 39, .. })
    ));
    walk.next_request();
    let mut extra = all.clone();
    extra.push(StateEntry {
        key: b"forged".to_vec(),
        value: vec![],
    });
    extra.sort_by_key(|e| key_hash(&e.key));
    assert!(matches!(
        walk.on_chunk(&root, StateChunk::Leaves(extra)),
        Err(ChunkFault::WrongLeaves { count: 41, .. })
    ));
    walk.next_request();
    let mut swapped = all.clone();
    swapped.swap(0, 1);
    assert!(matches!(
        walk.on_chunk(&root, StateChunk::Leaves(swapped)),
        Err(ChunkFault::OutOfOrder { index: 1, .. })
    ));
    walk.next_request();
    let mut repeated = all.clone();
    repeated.insert(1, repeated[0].clone());
    assert!(matches!(
        walk.on_chunk(&root, StateChunk::Leaves(repeated)),
        Err(ChunkFault::OutOfOrder { index: 1, .. })
    ));
    walk.next_request();
    let long_key = StateEntry {
        key: vec![b'k'; MAX_STATE_KEY_BYTES + 1],
        value: vec![],
    };
    assert!(matches!(
        walk.on_chunk(&root, StateChunk::Leaves(vec![long_key])),
        Err(ChunkFault::KeyTooLong { index: 0, .. })
    ));
    walk.next_request();
    let many = vec![
        StateEntry {
            key: vec![],
            value: vec![],
        };
        MAX_CHUNK_ENTRIES + 1
    ];
    assert!(matches!(
        walk.on_chunk(&root, StateChunk::Leaves(many)),
        Err(ChunkFault::TooManyEntries { .. })
    ));
    // An answer for a node nobody asked for.
    assert_eq!(
        walk.on_chunk(&left, honest(&left)),
        Err(ChunkFault::Unrequested { node: left })
    );
    // A peer without the node: no fault, asked again.
    walk.next_request();
    assert_eq!(
        walk.on_chunk(&root, StateChunk::Unavailable),
        Ok(SyncStep::Unavailable)
    );
    // The whole state as one answer is the truth: accepted whatever the server's own limit.
    assert_eq!(walk.next_request().unwrap().node, root);
    assert!(matches!(
        walk.on_chunk(&root, StateChunk::Leaves(all)),
        Ok(SyncStep::Entries(e)) if e.len() == 40
    ));
    assert!(walk.is_complete());
}

#[test]
fn a_split_at_the_deepest_level_is_refused() {
    let node = smt::internal_hash(&Hash::blake3(b"l"), &Hash::blake3(b"r"));
    assert_eq!(
        verify_chunk(
            &node,
            smt::MAX_DEPTH,
            StateChunk::Split {
                left: Hash::blake3(b"l"),
                right: Hash::blake3(b"r")
            }
        ),
        Err(ChunkFault::SplitTooDeep {
            depth: smt::MAX_DEPTH
        })
    );
}

#[test]
fn the_empty_state_needs_no_request() {
    let mut walk = StateSync::new(EMPTY);
    assert!(walk.is_complete());
    assert_eq!(walk.next_request(), None);
}

#[test]
fn a_chunk_round_trips_and_an_oversized_one_is_refused_before_decoding() {
    let chunk = StateChunk::Leaves(vec![StateEntry {
        key: b"k".to_vec(),
        value: b"v".to_vec(),
    }]);
    assert_eq!(StateChunk::from_bytes(&chunk.to_bytes()).unwrap(), chunk);
    let split = StateChunk::Split {
        left: Hash::blake3(b"a"),
        right: EMPTY,
    };
    assert_eq!(StateChunk::from_bytes(&split.to_bytes()).unwrap(), split);
    assert!(StateChunk::from_bytes(&vec![0u8; MAX_STATE_CHUNK_WIRE_BYTES + 1]).is_err());
    let full = StateChunk::Leaves(vec![
        StateEntry {
            key: vec![7; 1_000],
            value: vec![9; 1_000],
        };
        1_000
    ]);
    assert!(full.to_bytes().len() <= MAX_STATE_CHUNK_WIRE_BYTES);
}
