//! Unit tests: shapes on small trees against the plain recursive root, the error cases, and the
//! storage contract (which nodes exist, reads of missing nodes). RFC vectors and property tests
//! live in `ledger/tests/`.

use super::*;
use crate::merkle::{root_from_leaf_hashes, Sha256Hasher};

fn leaves(n: u64) -> Vec<Hash> {
    (0..n)
        .map(|i| Blake3Hasher.hash_leaf(&i.to_le_bytes()))
        .collect()
}

fn tree(n: u64) -> MemoryAccumulator<Blake3Hasher> {
    let mut acc = MemoryAccumulator::new(Blake3Hasher);
    acc.extend(&leaves(n)).unwrap();
    acc
}

#[test]
fn frozen_nodes_are_exactly_the_perfect_subtrees() {
    for n in 0..70u64 {
        let acc = tree(n);
        // 2n - popcount(n) perfect subtrees in a tree of n leaves.
        assert_eq!(acc.nodes().len() as u64, 2 * n - u64::from(n.count_ones()));
        for (pos, hash) in acc.nodes().as_map() {
            let width = 1u64 << pos.level;
            let lo = pos.index * width;
            assert!(lo + width <= n, "{pos:?} is not complete in {n}");
            let l = leaves(n);
            let want = root_from_leaf_hashes(&Blake3Hasher, &l[lo as usize..(lo + width) as usize]);
            assert_eq!(*hash, want, "{pos:?}");
        }
    }
}

#[test]
fn roots_match_the_recursive_definition_at_every_size() {
    let acc = tree(70);
    let l = leaves(70);
    for n in 0..=70u64 {
        assert_eq!(
            acc.root_at(n).unwrap(),
            root_from_leaf_hashes(&Blake3Hasher, &l[..n as usize]),
            "size {n}"
        );
    }
    assert_eq!(acc.root().unwrap(), acc.root_at(70).unwrap());
    assert_eq!(tree(0).root().unwrap(), Hash::blake3(b""));
}

#[test]
fn all_small_proofs_verify() {
    let acc = tree(40);
    for n in 1..=40u64 {
        let root = acc.root_at(n).unwrap();
        for i in 0..n {
            let p = acc.prove_inclusion(i, n).unwrap();
            assert_eq!(p.path.len(), inclusion_proof_len(i, n));
            p.verify(&Blake3Hasher, &leaves(40)[i as usize], &root)
                .unwrap_or_else(|e| panic!("inclusion {i} in {n}: {e}"));
        }
        for m in 1..=n {
            let p = acc.prove_consistency(m, n).unwrap();
            assert_eq!(p.path.len(), consistency_proof_len(m, n));
            p.verify(&Blake3Hasher, &acc.root_at(m).unwrap(), &root)
                .unwrap_or_else(|e| panic!("consistency {m} -> {n}: {e}"));
        }
    }
}

#[test]
fn append_reads_only_old_left_siblings() {
    // Appending to a store that holds only the frozen frontier of the old tree (the perfect
    // subtrees of its binary decomposition) must work: nothing else is ever read.
    let full = tree(13);
    let mut frontier = MemoryNodes::new();
    let peaks = [NodePos::new(3, 0), NodePos::new(2, 2), NodePos::new(0, 12)];
    let nodes: Vec<_> = peaks
        .iter()
        .map(|p| (*p, *full.nodes().get(*p).unwrap()))
        .collect();
    frontier.insert_all(&nodes).unwrap();
    let more = leaves(30);
    let new = append(&Blake3Hasher, &frontier, 13, &more[13..]).unwrap();
    let mut bigger = full.clone();
    bigger.extend(&more[13..]).unwrap();
    for (pos, hash) in &new {
        assert_eq!(bigger.nodes().get(*pos), Some(hash));
    }
    assert_eq!(new.len() + full.nodes().len(), bigger.nodes().len());
}

#[test]
fn missing_nodes_are_errors_not_panics() {
    let empty = MemoryNodes::new();
    assert_eq!(
        root_at(&Blake3Hasher, &empty, 5),
        Err(AccumulatorError::MissingNode { level: 2, index: 0 })
    );
    assert_eq!(
        append(&Blake3Hasher, &empty, 1, &leaves(1)),
        Err(AccumulatorError::MissingNode { level: 0, index: 0 })
    );
    assert!(matches!(
        inclusion_proof(&Blake3Hasher, &empty, 3, 9),
        Err(AccumulatorError::MissingNode { .. })
    ));
    assert!(matches!(
        consistency_proof(&Blake3Hasher, &empty, 3, 9),
        Err(AccumulatorError::MissingNode { .. })
    ));
}

#[test]
fn bad_sizes_are_typed_errors() {
    let acc = tree(8);
    let nodes = acc.nodes();
    let h = Blake3Hasher;
    assert_eq!(
        inclusion_proof(&h, nodes, 8, 8),
        Err(AccumulatorError::IndexOutOfRange {
            leaf_index: 8,
            tree_size: 8
        })
    );
    assert_eq!(
        consistency_proof(&h, nodes, 5, 4),
        Err(AccumulatorError::OldSizeExceedsNewSize {
            old_size: 5,
            new_size: 4
        })
    );
    assert_eq!(
        consistency_proof(&h, nodes, 0, 4),
        Err(AccumulatorError::EmptyOldTree { new_size: 4 })
    );
    assert_eq!(consistency_proof(&h, nodes, 4, 4).unwrap().path, vec![]);
    assert_eq!(
        acc.prove_inclusion(0, 9),
        Err(AccumulatorError::BeyondTree {
            requested: 9,
            size: 8
        })
    );
    assert_eq!(
        root_at(&h, nodes, u64::MAX),
        Err(AccumulatorError::SizeTooLarge {
            size: u64::MAX,
            max: MAX_TREE_SIZE
        })
    );
    assert_eq!(
        append(&h, nodes, MAX_TREE_SIZE, &leaves(1)),
        Err(AccumulatorError::TreeFull {
            size: MAX_TREE_SIZE,
            adding: 1,
            max: MAX_TREE_SIZE
        })
    );
    assert_eq!(
        append(&h, nodes, MAX_TREE_SIZE + 1, &[]),
        Err(AccumulatorError::SizeTooLarge {
            size: MAX_TREE_SIZE + 1,
            max: MAX_TREE_SIZE
        })
    );
}

/// A store that claims a huge tree whose leaves are all equal, so the node at level l is the
/// same for every index and the store is consistent while holding only 64 hashes. Shows the
/// arithmetic near 2^63 neither overflows nor panics, and proofs there verify.
struct Uniform(Vec<Hash>);
impl Uniform {
    fn new() -> Self {
        let h = Sha256Hasher;
        let mut levels = vec![h.hash_leaf(b"same")];
        for l in 0..63 {
            let below = levels[l];
            levels.push(h.hash_children(&below, &below));
        }
        Uniform(levels)
    }
}
impl NodeReader for Uniform {
    fn frozen_node(&self, pos: NodePos) -> Result<Hash, AccumulatorError> {
        Ok(self.0[pos.level as usize])
    }
}

#[test]
fn sizes_near_the_limit() {
    let h = Sha256Hasher;
    for size in [MAX_TREE_SIZE, MAX_TREE_SIZE - 1, (1 << 62) + 3] {
        let store = Uniform::new();
        let root = root_at(&h, &store, size).unwrap();
        for i in [0, size / 3, size - 1] {
            let p = inclusion_proof(&h, &store, i, size).unwrap();
            assert!(p.path.len() <= 64);
            let leaf = store.frozen_node(NodePos::leaf(i)).unwrap();
            p.verify(&h, &leaf, &root).unwrap();
        }
        for m in [1, size / 2 + 1, size - 1] {
            let p = consistency_proof(&h, &store, m, size).unwrap();
            assert!(p.path.len() <= MAX_PROOF_NODES);
            let old = root_at(&h, &store, m).unwrap();
            p.verify(&h, &old, &root).unwrap();
        }
    }
    // The last possible leaf completes the 2^63 tree: 64 nodes, up to level 63.
    let made = append(&h, &Uniform::new(), MAX_TREE_SIZE - 1, &[Hash::ZERO]).unwrap();
    assert_eq!(made.len(), 64);
    assert_eq!(made.last().unwrap().0, NodePos::new(63, 0));
}

#[test]
fn verifier_bounds_with_any_u64() {
    let h = Sha256Hasher;
    let x = Hash::ZERO;
    // Sizes beyond the accumulator's limit still verify or fail cleanly (pure bit arithmetic).
    assert!(verify_inclusion(&h, &x, u64::MAX - 1, u64::MAX, &[x; 64], &x).is_err());
    assert!(verify_consistency(&h, u64::MAX - 1, u64::MAX, &x, &x, &[x; 65]).is_err());
    assert_eq!(
        verify_consistency(&h, 3, 5, &x, &x, &[]),
        Err(ProofError::WrongConsistencyLength {
            old_size: 3,
            new_size: 5,
            expected: 4, // d2, d3, MTH(d0..d2), d4
            got: 0
        })
    );
    // Leaf 2^64 - 2 of 2^64 - 1: on the right border, one left sibling per set bit of the index.
    assert_eq!(inclusion_proof_len(u64::MAX - 1, u64::MAX), 63);
    assert_eq!(inclusion_proof_len(0, u64::MAX), 64);
    assert_eq!(
        verify_inclusion(&h, &x, 0, 1, &[x], &x),
        Err(ProofError::WrongInclusionLength {
            leaf_index: 0,
            tree_size: 1,
            expected: 0,
            got: 1
        })
    );
}

#[test]
fn tx_leaf_hash_is_blake3_leaf_of_tagged_bytes() {
    let leaf = crate::receipt::TxLeaf {
        tx_hash: Hash::blake3(b"tx"),
        receipt_hash: Hash::blake3(b"receipt"),
    };
    let mut data = vec![0u8];
    data.extend(crate::encoding::signing_bytes(&leaf));
    assert_eq!(tx_leaf_hash(&leaf), Hash::blake3(&data));
}

#[test]
fn rewriting_a_frozen_node_is_refused() {
    let mut nodes = MemoryNodes::new();
    let pos = NodePos::leaf(0);
    nodes.insert_all(&[(pos, Hash::ZERO)]).unwrap();
    nodes.insert_all(&[(pos, Hash::ZERO)]).unwrap();
    let other = Hash::blake3(b"x");
    assert_eq!(
        nodes.insert_all(&[(NodePos::leaf(1), other), (pos, other)]),
        Err(AccumulatorError::NodeRewrite {
            level: 0,
            index: 0,
            existing: Hash::ZERO,
            new: other
        })
    );
    assert_eq!(nodes.len(), 1, "all or nothing");
}
