//! What a node syncing state receives from the nodes it asks (`waybill state-sync`): answers to
//! state-chunk requests, as canonical bytes or as the JSON the RPC carries, and snapshot bases
//! as JSON. The first byte chooses which.
//!
//! Each chunk is checked as the answer for the root of a fixed tree (five leaves, so its root
//! is internal) through the sans-IO walk (`StateSync`), which must:
//!
//! - never panic, and answer with a typed fault or a step;
//! - accept leaves only if they are exactly the tree's five entries, and children only if they
//!   are exactly the root's (so no forged answer is ever kept);
//! - ask for the node again after a fault or an "unavailable".
//!
//! A base that `SnapshotBase::verify` accepts must hold what it promises: the block at the
//! certified height with the certified hash and accumulator, and a frontier of the certified
//! size folding to the certified root.

use std::collections::BTreeMap;

use ledger::accumulator::Frontier;
use ledger::merkle::Blake3Hasher;
use ledger::smt::{self, MemoryNodeStore, Node, NodeStore, EMPTY};
use ledger::state_sync::{
    SnapshotBase, StateChunk, StateEntry, StateSync, SyncStep, MAX_STATE_CHUNK_WIRE_BYTES,
};
use ledger::Hash;

/// The fixed tree's entries, in key order.
pub fn fixture_entries() -> Vec<StateEntry> {
    (0..5u8)
        .map(|i| StateEntry {
            key: format!("item/fuzz-{i}").into_bytes(),
            value: vec![i; i as usize * 3],
        })
        .collect()
}

/// The fixed tree: its nodes and root.
pub fn fixture_tree() -> (MemoryNodeStore, Hash) {
    let changes: BTreeMap<Vec<u8>, Option<Vec<u8>>> = fixture_entries()
        .into_iter()
        .map(|e| (e.key, Some(e.value)))
        .collect();
    let mut nodes = MemoryNodeStore::new();
    let (root, created) = smt::apply(&nodes, EMPTY, &changes).expect("an in-memory tree");
    nodes.insert_all(&created).expect("fresh nodes");
    (nodes, root)
}

pub fn run(data: &[u8]) {
    let Some((&which, bytes)) = data.split_first() else {
        return;
    };
    match which % 3 {
        0 => {
            let Ok(chunk) = StateChunk::from_bytes(bytes) else {
                return;
            };
            assert_eq!(chunk.to_bytes(), bytes, "one encoding per chunk");
            check_chunk(chunk);
        }
        1 => {
            let Some(text) = super::text(bytes) else {
                return;
            };
            if text.len() > 2 * MAX_STATE_CHUNK_WIRE_BYTES {
                return;
            }
            let Ok(chunk) = serde_json::from_str::<StateChunk>(text) else {
                return;
            };
            let json = serde_json::to_string(&chunk).expect("serialises");
            assert_eq!(
                serde_json::from_str::<StateChunk>(&json).expect("own JSON parses"),
                chunk
            );
            check_chunk(chunk);
        }
        _ => {
            let Some(text) = super::text(bytes) else {
                return;
            };
            let Ok(base) = serde_json::from_str::<SnapshotBase>(text) else {
                return;
            };
            check_base(base);
        }
    }
}

fn check_chunk(chunk: StateChunk) {
    let (nodes, root) = fixture_tree();
    let mut walk = StateSync::new(root);
    let asked = walk.next_request().expect("a non-empty tree is asked for");
    assert_eq!(asked.node, root);
    match walk.on_chunk(&root, chunk) {
        Ok(SyncStep::Entries(entries)) => {
            let mut expected = fixture_entries();
            expected.sort_by_key(|e| smt::key_hash(&e.key));
            assert_eq!(entries, expected, "only the tree's own leaves are accepted");
            assert!(walk.is_complete());
        }
        Ok(SyncStep::Split) => {
            let Ok(Some(Node::Internal { left, right })) = nodes.get(&root) else {
                panic!("the fixture's root is internal");
            };
            let mut next: Vec<_> = std::iter::from_fn(|| walk.next_request())
                .map(|r| r.node)
                .collect();
            next.sort();
            let mut children: Vec<_> = [left, right].into_iter().filter(|c| *c != EMPTY).collect();
            children.sort();
            assert_eq!(
                next, children,
                "only the root's own children are asked for next"
            );
        }
        Ok(SyncStep::Unavailable) | Err(_) => {
            assert_eq!(
                walk.next_request().map(|r| r.node),
                Some(root),
                "asked for again"
            );
        }
    }
}

fn check_base(base: SnapshotBase) {
    let checkpoint = base.certificate.checkpoint.clone();
    let Ok(verified) = base.verify() else {
        return;
    };
    assert_eq!(verified.block.block.header.height, checkpoint.height);
    assert_eq!(verified.block.block.hash(), checkpoint.block_hash);
    assert_eq!(
        verified.block.accumulator_size_after,
        checkpoint.accumulator_size
    );
    let frontier = Frontier {
        size: checkpoint.accumulator_size,
        hashes: verified.frontier_nodes.iter().map(|(_, h)| *h).collect(),
    };
    assert_eq!(
        frontier.root(&Blake3Hasher),
        Ok(checkpoint.accumulator_root)
    );
}
