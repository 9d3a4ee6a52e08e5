//! Unit and property tests: the hash layout byte for byte, the tree against a from-scratch
//! recomputation over a `BTreeMap` model, proofs (every single-bit change must be rejected),
//! old roots, the decoders, store errors, and the test vector quoted in `docs/PROOFS.md`.

use std::collections::{BTreeMap, HashMap, HashSet};

use proptest::prelude::*;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde_json::json;

use super::*;
use crate::encoding::DecodeError;

type Delta = BTreeMap<Vec<u8>, Option<Vec<u8>>>;
type Model = BTreeMap<Vec<u8>, Vec<u8>>;

// ---------------------------------------------------------------------------------------------
// Reference model: the tree's definition, written independently of `update.rs`.

fn ref_bit(k: &Hash, d: usize) -> bool {
    k.0[d / 8] & (0x80 >> (d % 8)) != 0
}

fn ref_root_of(leaves: &[(Hash, Hash)], depth: usize) -> Hash {
    match leaves {
        [] => Hash::ZERO,
        [(k, v)] => leaf_hash(k, v),
        _ => {
            let (l, r): (Vec<_>, Vec<_>) = leaves.iter().partition(|(k, _)| !ref_bit(k, depth));
            internal_hash(&ref_root_of(&l, depth + 1), &ref_root_of(&r, depth + 1))
        }
    }
}

fn ref_root(model: &Model) -> Hash {
    let leaves: Vec<(Hash, Hash)> = model
        .iter()
        .map(|(k, v)| (key_hash(k), value_hash(v)))
        .collect();
    ref_root_of(&leaves, 0)
}

fn apply_to_model(model: &mut Model, delta: &Delta) {
    for (k, v) in delta {
        match v {
            Some(v) => model.insert(k.clone(), v.clone()),
            None => model.remove(k),
        };
    }
}

fn sets(pairs: &[(&str, &str)]) -> Delta {
    pairs
        .iter()
        .map(|(k, v)| (k.as_bytes().to_vec(), Some(v.as_bytes().to_vec())))
        .collect()
}

fn deletes(keys: &[&str]) -> Delta {
    keys.iter().map(|k| (k.as_bytes().to_vec(), None)).collect()
}

fn model_of(n: usize) -> Model {
    (0..n)
        .map(|i| {
            (
                format!("item/{i}").into_bytes(),
                format!("state {i}").into_bytes(),
            )
        })
        .collect()
}

fn delta_of(model: &Model) -> Delta {
    model
        .iter()
        .map(|(k, v)| (k.clone(), Some(v.clone())))
        .collect()
}

/// Checks, for one root, that every key of `model` proves present with its value and that each
/// of `absent` proves absent; and that the claims cannot be swapped.
fn check_proofs(store: &MemoryNodeStore, root: Hash, model: &Model, absent: &[Vec<u8>]) {
    for (k, v) in model {
        let (vh, proof) = get_with_proof(store, root, k).unwrap();
        assert_eq!(vh, Some(value_hash(v)), "key {k:?}");
        assert_eq!(get(store, root, k).unwrap(), vh);
        proof
            .verify_presence(&root, k, v)
            .unwrap_or_else(|e| panic!("presence of {k:?}: {e}"));
        assert!(proof.verify_absence(&root, k).is_err());
        assert!(proof.siblings.len() <= MAX_DEPTH);
    }
    for k in absent {
        if model.contains_key(k) {
            continue;
        }
        let (vh, proof) = get_with_proof(store, root, k).unwrap();
        assert_eq!(vh, None, "key {k:?}");
        assert_eq!(get(store, root, k).unwrap(), None);
        proof
            .verify_absence(&root, k)
            .unwrap_or_else(|e| panic!("absence of {k:?}: {e}"));
        assert!(proof.verify_presence(&root, k, b"").is_err());
    }
}

/// A tree built in one batch from `model`.
fn tree_of(model: &Model) -> (MemoryNodeStore, Hash) {
    let mut store = MemoryNodeStore::new();
    let root = store.apply(EMPTY, &delta_of(model)).unwrap();
    (store, root)
}

// ---------------------------------------------------------------------------------------------
// Byte layout.

#[test]
fn hash_inputs_are_as_documented() {
    let b3 = Hash::blake3;
    let cat = |parts: &[&[u8]]| parts.concat();
    assert_eq!(
        key_hash(b"abc"),
        b3(&cat(&[b"\x12waybill/smt-key/v1", b"\x03", b"abc"]))
    );
    // A 200-byte key: ULEB128(200) = 0xc8 0x01.
    let long = vec![7u8; 200];
    assert_eq!(
        key_hash(&long),
        b3(&cat(&[b"\x12waybill/smt-key/v1", &[0xc8, 0x01], &long]))
    );
    assert_eq!(
        value_hash(b""),
        b3(&cat(&[b"\x14waybill/smt-value/v1", b"\x00"]))
    );
    assert_eq!(
        value_hash(b"in-transit"),
        b3(&cat(&[b"\x14waybill/smt-value/v1", b"\x0a", b"in-transit"]))
    );
    let (a, b) = (Hash::blake3(b"a"), Hash::blake3(b"b"));
    assert_eq!(
        leaf_hash(&a, &b),
        b3(&cat(&[b"\x13waybill/smt-leaf/v1", &a.0, &b.0]))
    );
    assert_eq!(
        internal_hash(&a, &b),
        b3(&cat(&[b"\x13waybill/smt-node/v1", &a.0, &b.0]))
    );
    assert_ne!(leaf_hash(&a, &b), internal_hash(&a, &b));
    assert_eq!(EMPTY.0, [0u8; 32]);

    let leaf = Node::Leaf(SmtLeaf::new(a, b));
    assert_eq!(leaf.to_bytes(), cat(&[&[0x00], &a.0, &b.0]));
    assert_eq!(leaf.hash(), leaf_hash(&a, &b));
    let internal = Node::Internal { left: a, right: b };
    assert_eq!(internal.to_bytes(), cat(&[&[0x01], &a.0, &b.0]));
    assert_eq!(internal.hash(), internal_hash(&a, &b));
}

#[test]
fn bits_are_msb_first_from_byte_zero() {
    let mut k = [0u8; 32];
    k[0] = 0b1000_0000;
    k[1] = 0b0000_0001;
    k[31] = 0b0000_0001;
    let k = Hash(k);
    let ones: Vec<usize> = (0..MAX_DEPTH).filter(|&i| bit(&k, i)).collect();
    assert_eq!(ones, vec![0, 15, 255]);
    assert_eq!(common_prefix_len(&k, &k), 256);
    assert_eq!(common_prefix_len(&k, &Hash::ZERO), 0);
    let mut j = k;
    j.0[31] = 0;
    assert_eq!(common_prefix_len(&k, &j), 255);
}

// ---------------------------------------------------------------------------------------------
// Shapes and updates.

#[test]
fn empty_and_single_leaf_trees() {
    let store = MemoryNodeStore::new();
    let (vh, proof) = get_with_proof(&store, EMPTY, b"k").unwrap();
    assert_eq!(vh, None);
    assert_eq!(
        proof,
        SmtProof {
            siblings: vec![],
            leaf: None
        }
    );
    proof.verify_absence(&EMPTY, b"k").unwrap();
    assert_eq!(
        proof.verify_presence(&EMPTY, b"k", b"v"),
        Err(SmtVerifyError::MissingLeaf {
            key_hash: key_hash(b"k")
        })
    );

    let mut store = MemoryNodeStore::new();
    let root = store.apply(EMPTY, &sets(&[("k", "v")])).unwrap();
    assert_eq!(root, leaf_hash(&key_hash(b"k"), &value_hash(b"v")));
    assert_eq!(store.len(), 1);
    let (vh, proof) = get_with_proof(&store, root, b"k").unwrap();
    assert_eq!(vh, Some(value_hash(b"v")));
    assert!(proof.siblings.is_empty());
    proof.verify_presence(&root, b"k", b"v").unwrap();
    // Another key ends at the same leaf, which proves its absence.
    let (vh, proof) = get_with_proof(&store, root, b"other").unwrap();
    assert_eq!(vh, None);
    proof.verify_absence(&root, b"other").unwrap();

    // Deleting the only key gives the empty root back.
    let (r, nodes) = apply(&store, root, &deletes(&["k"])).unwrap();
    assert_eq!((r, nodes), (EMPTY, vec![]));
}

#[test]
fn no_op_batches_return_the_old_root_and_no_nodes() {
    let model = model_of(40);
    let (store, root) = tree_of(&model);
    assert_eq!(apply(&store, root, &Delta::new()).unwrap(), (root, vec![]));
    assert_eq!(
        apply(&store, root, &deletes(&["nope", "item/zzz"])).unwrap(),
        (root, vec![])
    );
    assert_eq!(
        apply(
            &store,
            root,
            &sets(&[("item/3", "state 3"), ("item/17", "state 17")])
        )
        .unwrap(),
        (root, vec![])
    );
    // A mix: one real change produces exactly the nodes on one path.
    let (r, nodes) = apply(
        &store,
        root,
        &sets(&[("item/3", "state 3"), ("item/17", "new")]),
    )
    .unwrap();
    let mut m2 = model.clone();
    m2.insert(b"item/17".to_vec(), b"new".to_vec());
    assert_eq!(r, ref_root(&m2));
    let (_, proof) = get_with_proof(&store, root, b"item/17").unwrap();
    assert_eq!(nodes.len(), proof.siblings.len() + 1);
}

#[test]
fn insert_then_delete_restores_the_root() {
    let base = model_of(25);
    let (mut store, root) = tree_of(&base);
    let extra = sets(&[
        ("x/1", "a"),
        ("x/2", "b"),
        ("x/3", "c"),
        ("item/4", "changed"),
    ]);
    let bigger = store.apply(root, &extra).unwrap();
    assert_ne!(bigger, root);
    let mut undo = deletes(&["x/1", "x/2", "x/3"]);
    undo.insert(b"item/4".to_vec(), Some(b"state 4".to_vec()));
    let (back, nodes) = apply(&store, bigger, &undo).unwrap();
    assert_eq!(back, root);
    // Every node of the restored tree already exists.
    assert!(nodes.iter().all(|(h, _)| store.contains(h)), "{nodes:?}");
}

#[test]
fn order_and_batching_do_not_matter() {
    let model = model_of(300);
    let (_, one_batch) = tree_of(&model);
    assert_eq!(one_batch, ref_root(&model));
    let mut entries: Vec<_> = model.iter().collect();
    for seed in 0..3u64 {
        entries.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
        let mut store = MemoryNodeStore::new();
        let mut root = EMPTY;
        for chunk in entries.chunks(1 + seed as usize * 13) {
            let delta: Delta = chunk
                .iter()
                .map(|(k, v)| ((*k).clone(), Some((*v).clone())))
                .collect();
            root = store.apply(root, &delta).unwrap();
        }
        assert_eq!(root, one_batch, "seed {seed}");
    }
}

/// Tree keys chosen directly, to reach the deepest shapes (no preimages needed).
fn kh(bytes: &[(usize, u8)]) -> Hash {
    let mut h = [0u8; 32];
    for (i, b) in bytes {
        h[*i] = *b;
    }
    Hash(h)
}

#[test]
fn leaves_at_depth_256_and_collapse_back() {
    let a = kh(&[]); // 000...0
    let b = kh(&[(31, 1)]); // 000...1: shares 255 bits with a
    let c = kh(&[(0, 0x80)]); // 100...0
    let d = kh(&[(31, 2)]); // 000...10: leaves the a/b chain at depth 254
    let (va, vb, vc) = (
        Hash::blake3(b"va"),
        Hash::blake3(b"vb"),
        Hash::blake3(b"vc"),
    );
    let mut store = MemoryNodeStore::new();
    let write = |store: &mut MemoryNodeStore, root, ch: &[(Hash, Option<Hash>)]| {
        let (r, nodes) = apply_hashed(store, root, ch).unwrap();
        store.insert_all(&nodes).unwrap();
        (r, nodes)
    };

    let (ab, nodes) = write(&mut store, EMPTY, &[(a, Some(va)), (b, Some(vb))]);
    assert_eq!(
        nodes.len(),
        2 + 256,
        "two leaves and a chain of 256 internal nodes"
    );
    let (vh, proof) = get_with_proof_hashed(&store, ab, &a).unwrap();
    assert_eq!(vh, Some(va));
    assert_eq!(proof.siblings.len(), 256);
    assert!(proof.siblings[..255].iter().all(|s| *s == EMPTY));
    assert_eq!(proof.siblings[255], leaf_hash(&b, &vb));
    proof.verify_presence_hashed(&ab, &a, &va).unwrap();
    assert_eq!(proof.to_bytes().len(), MAX_SMT_PROOF_BYTES);
    assert_eq!(SmtProof::from_bytes(&proof.to_bytes()).unwrap(), proof);
    let (_, pb) = get_with_proof_hashed(&store, ab, &b).unwrap();
    pb.verify_presence_hashed(&ab, &b, &vb).unwrap();
    let (vh, pd) = get_with_proof_hashed(&store, ab, &d).unwrap();
    assert_eq!((vh, pd.siblings.len(), pd.leaf), (None, 255, None));
    pd.verify_absence_hashed(&ab, &d).unwrap();

    let (abc, _) = write(&mut store, ab, &[(c, Some(vc))]);
    assert_eq!(
        abc,
        internal_hash(&proof_root_at_depth_1(&store, ab), &leaf_hash(&c, &vc))
    );
    let (ac, _) = write(&mut store, abc, &[(b, None)]);
    assert_eq!(ac, internal_hash(&leaf_hash(&a, &va), &leaf_hash(&c, &vc)));
    let (only_a, nodes) = write(&mut store, ac, &[(c, None)]);
    assert_eq!((only_a, nodes), (leaf_hash(&a, &va), vec![]));
    // Deleting b from {a, b} directly collapses the 256-deep chain too.
    let (r, nodes) = apply_hashed(&store, ab, &[(b, None)]).unwrap();
    assert_eq!((r, nodes), (leaf_hash(&a, &va), vec![]));
    // And every root on the way is still provable.
    for (root, present) in [(ab, vec![a, b]), (abc, vec![a, b, c]), (ac, vec![a, c])] {
        for k in [a, b, c, d] {
            let (vh, p) = get_with_proof_hashed(&store, root, &k).unwrap();
            match vh {
                Some(v) => {
                    assert!(present.contains(&k));
                    p.verify_presence_hashed(&root, &k, &v).unwrap();
                }
                None => {
                    assert!(!present.contains(&k));
                    p.verify_absence_hashed(&root, &k).unwrap();
                }
            }
        }
    }
}

/// The hash of the subtree {a, b} seen from depth 1 is the same chain minus its top node.
fn proof_root_at_depth_1(store: &MemoryNodeStore, root: Hash) -> Hash {
    match store.as_map()[&root] {
        Node::Internal { left, right } => {
            assert_eq!(right, EMPTY);
            left
        }
        n => panic!("{n:?}"),
    }
}

#[test]
fn old_roots_stay_provable() {
    let mut store = MemoryNodeStore::new();
    let mut model = Model::new();
    let mut root = EMPTY;
    let mut history = vec![(root, model.clone())];
    let all_keys: Vec<Vec<u8>> = (0..120).map(|i| format!("item/{i}").into_bytes()).collect();
    for round in 0..6u32 {
        let delta: Delta = all_keys
            .iter()
            .enumerate()
            .filter(|(i, _)| !(*i as u32 + round).is_multiple_of(3))
            .map(|(i, k)| {
                let v = (i as u32 * 7 + round) % 5;
                (
                    k.clone(),
                    (v != 0).then(|| format!("v{round}.{v}").into_bytes()),
                )
            })
            .collect();
        root = store.apply(root, &delta).unwrap();
        apply_to_model(&mut model, &delta);
        assert_eq!(root, ref_root(&model));
        history.push((root, model.clone()));
    }
    for (root, model) in &history {
        check_proofs(&store, *root, model, &all_keys);
    }
}

// ---------------------------------------------------------------------------------------------
// Proofs: every single-bit change is rejected.

/// Flips every bit of the proof's canonical bytes: each result must fail to decode or fail
/// `accepts`.
fn every_bit_flip_rejected(proof: &SmtProof, accepts: impl Fn(&SmtProof) -> bool) {
    let bytes = proof.to_bytes();
    for i in 0..bytes.len() * 8 {
        let mut b = bytes.clone();
        b[i / 8] ^= 0x80 >> (i % 8);
        if let Ok(p) = SmtProof::from_bytes(&b) {
            assert!(!accepts(&p), "bit {i} flipped still verifies: {p:?}");
        }
    }
}

/// Structural edits: one sibling fewer (either end), one more (either end), the leaf removed or
/// added.
fn structural_edits_rejected(proof: &SmtProof, accepts: impl Fn(&SmtProof) -> bool) {
    let mut edits = Vec::new();
    if !proof.siblings.is_empty() {
        let mut p = proof.clone();
        p.siblings.pop();
        edits.push(p);
        let mut p = proof.clone();
        p.siblings.remove(0);
        edits.push(p);
    }
    for sib in [EMPTY, Hash::blake3(b"x")] {
        let mut p = proof.clone();
        p.siblings.push(sib);
        edits.push(p);
        let mut p = proof.clone();
        p.siblings.insert(0, sib);
        edits.push(p);
    }
    let mut p = proof.clone();
    p.leaf = match p.leaf {
        Some(_) => None,
        None => Some(SmtLeaf::new(Hash::blake3(b"k"), Hash::blake3(b"v"))),
    };
    edits.push(p);
    for p in edits {
        assert!(!accepts(&p), "edited proof still verifies: {p:?}");
    }
}

fn flip_bits_of(bytes: &[u8]) -> impl Iterator<Item = Vec<u8>> + '_ {
    (0..bytes.len() * 8).map(move |i| {
        let mut b = bytes.to_vec();
        b[i / 8] ^= 0x80 >> (i % 8);
        b
    })
}

fn flip_hash_bits(h: Hash) -> impl Iterator<Item = Hash> {
    (0..MAX_DEPTH).map(move |i| {
        let mut x = h;
        x.0[i / 8] ^= 0x80 >> (i % 8);
        x
    })
}

#[test]
fn every_bit_of_a_presence_proof_matters() {
    let model = model_of(60);
    let (store, root) = tree_of(&model);
    for (k, v) in model.iter().step_by(7) {
        let (_, proof) = get_with_proof(&store, root, k).unwrap();
        assert!(!proof.siblings.is_empty());
        proof.verify_presence(&root, k, v).unwrap();
        let accepts = |p: &SmtProof| p.verify_presence(&root, k, v).is_ok();
        every_bit_flip_rejected(&proof, accepts);
        structural_edits_rejected(&proof, accepts);
        for r in flip_hash_bits(root) {
            assert!(proof.verify_presence(&r, k, v).is_err());
        }
        for k2 in flip_bits_of(k) {
            assert!(proof.verify_presence(&root, &k2, v).is_err());
        }
        for v2 in flip_bits_of(v) {
            assert!(matches!(
                proof.verify_presence(&root, k, &v2),
                Err(SmtVerifyError::ValueMismatch { .. })
            ));
        }
        // Lengthening the key or value changes it too.
        assert!(proof
            .verify_presence(&root, &[k.as_slice(), b"\0"].concat(), v)
            .is_err());
        assert!(proof
            .verify_presence(&root, k, &[v.as_slice(), b"\0"].concat())
            .is_err());
    }
}

#[test]
fn every_bit_of_an_absence_proof_matters() {
    let model = model_of(60);
    let (store, root) = tree_of(&model);
    let mut saw = (false, false);
    for i in 0..40 {
        let k = format!("absent/{i}").into_bytes();
        let (vh, proof) = get_with_proof(&store, root, &k).unwrap();
        assert_eq!(vh, None);
        match proof.leaf {
            Some(_) => saw.0 = true,
            None => saw.1 = true,
        }
        proof.verify_absence(&root, &k).unwrap();
        let accepts = |p: &SmtProof| p.verify_absence(&root, &k).is_ok();
        every_bit_flip_rejected(&proof, accepts);
        structural_edits_rejected(&proof, accepts);
        for r in flip_hash_bits(root) {
            assert!(proof.verify_absence(&r, &k).is_err());
        }
        // Another key is legitimately proved absent by the same proof exactly when it takes the
        // same path (shares the first `siblings.len()` bits) and is not the leaf's own key; such a
        // key must then really be absent.
        let kh = key_hash(&k);
        for k2 in flip_bits_of(&k) {
            let kh2 = key_hash(&k2);
            let same_path = common_prefix_len(&kh, &kh2) >= proof.siblings.len()
                && proof.leaf.is_none_or(|l| l.key_hash != kh2);
            let ok = proof.verify_absence(&root, &k2).is_ok();
            assert_eq!(ok, same_path, "{k2:?}");
            if ok {
                assert!(!model.contains_key(&k2));
            }
        }
    }
    assert_eq!(saw, (true, true), "both kinds of absence proof exercised");
}

#[test]
fn verification_errors_carry_the_values() {
    let a = kh(&[]);
    let c = kh(&[(0, 0x80)]);
    let (va, vc) = (Hash::blake3(b"va"), Hash::blake3(b"vc"));
    let root = internal_hash(&leaf_hash(&a, &va), &leaf_hash(&c, &vc));
    let proof_a = SmtProof {
        siblings: vec![leaf_hash(&c, &vc)],
        leaf: Some(SmtLeaf::new(a, va)),
    };
    proof_a.verify_presence_hashed(&root, &a, &va).unwrap();
    assert_eq!(
        proof_a.verify_presence_hashed(&root, &c, &va),
        Err(SmtVerifyError::KeyMismatch {
            expected: c,
            found: a
        })
    );
    assert_eq!(
        proof_a.verify_presence_hashed(&root, &a, &vc),
        Err(SmtVerifyError::ValueMismatch {
            key_hash: a,
            expected: vc,
            found: va
        })
    );
    assert_eq!(
        proof_a.verify_absence_hashed(&root, &a),
        Err(SmtVerifyError::KeyPresent {
            key_hash: a,
            value_hash: va
        })
    );
    // c's path goes right at depth 0: a's leaf at depth 1 is not on it.
    assert_eq!(
        proof_a.verify_absence_hashed(&root, &c),
        Err(SmtVerifyError::LeafOffPath {
            key_hash: c,
            leaf_key_hash: a,
            depth: 1,
            shared: 0
        })
    );
    // A key under a's leaf (same first bit) is proved absent by it.
    let a2 = kh(&[(0, 0x40)]);
    proof_a.verify_absence_hashed(&root, &a2).unwrap();
    assert_eq!(
        proof_a.verify_presence_hashed(&Hash::blake3(b"r"), &a, &va),
        Err(SmtVerifyError::RootMismatch {
            expected: Hash::blake3(b"r"),
            computed: root
        })
    );
    let long = SmtProof {
        siblings: vec![EMPTY; MAX_DEPTH + 1],
        leaf: None,
    };
    let too_many = Err(SmtVerifyError::TooManySiblings { got: 257, max: 256 });
    assert_eq!(long.verify_absence_hashed(&root, &a), too_many);
    assert_eq!(long.verify_presence_hashed(&root, &a, &va), too_many);
    assert!(matches!(
        SmtProof::from_bytes(&long.to_bytes()),
        Err(DecodeError::Malformed { .. })
    ));
    // Messages name the values.
    let msg = proof_a
        .verify_presence_hashed(&root, &a, &vc)
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains(&vc.to_hex()) && msg.contains(&va.to_hex()),
        "{msg}"
    );
}

// ---------------------------------------------------------------------------------------------
// Decoding and serde.

#[test]
fn node_decoding_is_strict() {
    let (a, b) = (Hash::blake3(b"a"), Hash::blake3(b"b"));
    for node in [
        Node::Leaf(SmtLeaf::new(a, b)),
        Node::Internal { left: a, right: b },
    ] {
        let bytes = node.to_bytes();
        assert_eq!(bytes.len(), NODE_BYTES);
        assert_eq!(Node::from_bytes(&bytes).unwrap(), node);
        for cut in 0..bytes.len() {
            assert!(matches!(
                Node::from_bytes(&bytes[..cut]),
                Err(DecodeError::Malformed { .. })
            ));
        }
        let mut long = bytes.clone();
        long.push(0);
        assert!(matches!(
            Node::from_bytes(&long),
            Err(DecodeError::TooLarge {
                len: 66,
                max: 65,
                ..
            })
        ));
        assert!(Node::from_bytes(&vec![0u8; 10_000]).is_err());
        let mut bad = bytes.clone();
        bad[0] = 2;
        assert!(matches!(
            Node::from_bytes(&bad),
            Err(DecodeError::Malformed { .. })
        ));
    }
}

#[test]
fn proof_decoding_is_strict() {
    let model = model_of(30);
    let (store, root) = tree_of(&model);
    let (_, with_leaf) = get_with_proof(&store, root, b"item/7").unwrap();
    let empty_end = SmtProof {
        siblings: vec![Hash::blake3(b"s"); 3],
        leaf: None,
    };
    for proof in [with_leaf, empty_end] {
        let bytes = proof.to_bytes();
        assert_eq!(SmtProof::from_bytes(&bytes).unwrap(), proof);
        for cut in 0..bytes.len() {
            assert!(
                SmtProof::from_bytes(&bytes[..cut]).is_err(),
                "truncated at {cut}"
            );
        }
        let mut long = bytes.clone();
        long.push(0);
        assert!(SmtProof::from_bytes(&long).is_err());
        // Option byte 2.
        let opt_at = 1 + 32 * proof.siblings.len();
        let mut bad = bytes.clone();
        bad[opt_at] = 2;
        assert!(SmtProof::from_bytes(&bad).is_err());
    }
    // Non-minimal ULEB128 for a count of 0, and oversized input.
    assert!(SmtProof::from_bytes(&[0x80, 0x00, 0x00]).is_err());
    assert_eq!(
        SmtProof::from_bytes(&[0x00, 0x00]).unwrap(),
        SmtProof {
            siblings: vec![],
            leaf: None
        }
    );
    assert!(matches!(
        SmtProof::from_bytes(&vec![0u8; MAX_SMT_PROOF_BYTES + 1]),
        Err(DecodeError::TooLarge { .. })
    ));
    // A count far beyond the bytes present is an error, not an allocation.
    assert!(SmtProof::from_bytes(&[0xff, 0xff, 0xff, 0xff, 0x07, 0x00]).is_err());
}

#[test]
fn proof_json_shape() {
    let (s, k, v) = (Hash::blake3(b"s"), Hash::blake3(b"k"), Hash::blake3(b"v"));
    let p = SmtProof {
        siblings: vec![s, EMPTY],
        leaf: Some(SmtLeaf::new(k, v)),
    };
    let j = serde_json::to_value(&p).unwrap();
    assert_eq!(
        j,
        json!({
            "siblings": [s.to_hex(), EMPTY.to_hex()],
            "leaf": {"key_hash": k.to_hex(), "value_hash": v.to_hex()}
        })
    );
    assert_eq!(serde_json::from_value::<SmtProof>(j).unwrap(), p);
    let none = SmtProof {
        siblings: vec![],
        leaf: None,
    };
    assert_eq!(
        serde_json::to_value(&none).unwrap(),
        json!({"siblings": [], "leaf": null})
    );
    for bad in [
        json!({"siblings": [], "leaf": null, "extra": 1}),
        json!({"siblings": ["00"], "leaf": null}),
        json!({"siblings": [], "leaf": {"key_hash": k.to_hex()}}),
        json!({"siblings": [], "leaf": {"key_hash": k.to_hex(), "value_hash": v.to_hex(), "x": 0}}),
        json!({"leaf": null}),
    ] {
        assert!(
            serde_json::from_value::<SmtProof>(bad.clone()).is_err(),
            "{bad}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Store errors.

/// A store with no checks at all, for building broken trees.
#[derive(Default)]
struct RawStore(HashMap<Hash, Node>);

impl RawStore {
    fn put(&mut self, node: Node) -> Hash {
        let h = node.hash();
        self.0.insert(h, node);
        h
    }
}

impl NodeStore for RawStore {
    fn get(&self, hash: &Hash) -> Result<Option<Node>, SmtError> {
        Ok(self.0.get(hash).copied())
    }
}

struct FailingStore;

impl NodeStore for FailingStore {
    fn get(&self, _: &Hash) -> Result<Option<Node>, SmtError> {
        Err(SmtError::Store("disk on fire".into()))
    }
}

#[test]
fn store_problems_are_typed_errors() {
    let model = model_of(10);
    let (store, root) = tree_of(&model);
    let missing = Hash::blake3(b"nowhere");
    let empty = MemoryNodeStore::new();
    assert_eq!(
        get_with_proof(&empty, root, b"item/1").unwrap_err(),
        SmtError::MissingNode { hash: root }
    );
    assert_eq!(
        apply(&empty, root, &sets(&[("a", "b")])).unwrap_err(),
        SmtError::MissingNode { hash: root }
    );
    assert_eq!(
        get(&store, missing, b"k").unwrap_err(),
        SmtError::MissingNode { hash: missing }
    );
    assert_eq!(
        get(&FailingStore, root, b"k").unwrap_err(),
        SmtError::Store("disk on fire".into())
    );

    // A node stored under the wrong hash.
    let (a, b) = (Hash::blake3(b"a"), Hash::blake3(b"b"));
    let mut raw = RawStore::default();
    raw.0.insert(missing, Node::Internal { left: a, right: b });
    assert_eq!(
        get(&raw, missing, b"k").unwrap_err(),
        SmtError::NodeHashMismatch {
            expected: missing,
            computed: internal_hash(&a, &b)
        }
    );
    let mut mem = MemoryNodeStore::new();
    assert!(mem
        .insert_all(&[(missing, Node::Internal { left: a, right: b })])
        .is_err());
    assert!(mem.is_empty());

    // A leaf placed off its path: key hash starting with bit 1 under the left child.
    let right_key = kh(&[(0, 0x80)]);
    let mut raw = RawStore::default();
    let leaf = raw.put(Node::Leaf(SmtLeaf::new(right_key, a)));
    let other = raw.put(Node::Leaf(SmtLeaf::new(kh(&[(0, 0xc0)]), b)));
    let bad_root = raw.put(Node::Internal {
        left: leaf,
        right: other,
    });
    let left_key = kh(&[(0, 0x01)]);
    let off = SmtError::LeafOffPath {
        leaf_key_hash: right_key,
        path_key_hash: left_key,
        depth: 1,
    };
    assert_eq!(
        get_with_proof_hashed(&raw, bad_root, &left_key).unwrap_err(),
        off
    );
    assert_eq!(
        apply_hashed(&raw, bad_root, &[(left_key, Some(b))]).unwrap_err(),
        off
    );

    // A chain of internal nodes deeper than 256.
    let mut raw = RawStore::default();
    let mut h = raw.put(Node::Leaf(SmtLeaf::new(Hash::ZERO, a)));
    for _ in 0..=MAX_DEPTH {
        h = raw.put(Node::Internal {
            left: h,
            right: EMPTY,
        });
    }
    assert!(matches!(
        get_with_proof_hashed(&raw, h, &Hash::ZERO).unwrap_err(),
        SmtError::NodeTooDeep { depth: 256, .. }
    ));
    assert!(matches!(
        apply_hashed(&raw, h, &[(Hash::ZERO, None)]).unwrap_err(),
        SmtError::NodeTooDeep { depth: 256, .. }
    ));

    // One tree key twice in a batch.
    assert_eq!(
        apply_hashed(&store, root, &[(a, Some(b)), (a, None)]).unwrap_err(),
        SmtError::DuplicateKeyHash { key_hash: a }
    );
}

// ---------------------------------------------------------------------------------------------
// Test vector (quoted in docs/PROOFS.md). Run with `--nocapture` to print it.

/// The state of the test vector: five keys whose tree has leaves at depths 2 and 3 and one empty
/// subtree (at depth 2, under `item/0001` and `item/0005`).
const VECTOR_STATE: [(&str, &str); 5] = [
    ("item/0001", "created"),
    ("item/0002", "in-transit"),
    ("item/0003", "delivered"),
    ("item/0005", "lost"),
    ("seq/alice", "1"),
];

#[test]
fn test_vector() {
    let mut store = MemoryNodeStore::new();
    let root = store.apply(EMPTY, &sets(&VECTOR_STATE)).unwrap();
    for (k, v) in VECTOR_STATE {
        println!(
            "{k:>10} key_hash {}  value {v:?} value_hash {}",
            key_hash(k.as_bytes()),
            value_hash(v.as_bytes())
        );
    }
    println!("root = {root}");
    let mut got = Vec::new();
    for (what, key) in [
        ("presence", "item/0002"),
        ("absence (leaf of another key)", "item/0004"),
        ("absence (empty subtree)", "item/0007"),
    ] {
        let (_, proof) = get_with_proof(&store, root, key.as_bytes()).unwrap();
        println!("{what} {key}: key_hash {}", key_hash(key.as_bytes()));
        println!("  json  {}", serde_json::to_string(&proof).unwrap());
        println!("  bytes {}", hex::encode(proof.to_bytes()));
        got.push(proof);
    }
    got[0]
        .verify_presence(&root, b"item/0002", b"in-transit")
        .unwrap();
    got[1].verify_absence(&root, b"item/0004").unwrap();
    got[2].verify_absence(&root, b"item/0007").unwrap();
    assert!(got[1].leaf.is_some() && got[2].leaf.is_none());

    assert_eq!(
        key_hash(b"item/0002").to_hex(),
        "b269c97d2600633ba7ce15f8f5c35dfeebcc44eed93bb7cad1b8730784f1d0d4"
    );
    assert_eq!(
        value_hash(b"in-transit").to_hex(),
        "0c2cf2f15970672eb3c5e95ee9635ec0ea7307afc709b663005a28b6c359a8aa"
    );
    assert_eq!(root.to_hex(), VECTOR_ROOT);
    let hexes: Vec<String> = got.iter().map(|p| hex::encode(p.to_bytes())).collect();
    assert_eq!(hexes, VECTOR_PROOFS);
}

const VECTOR_ROOT: &str = "65b95a752a2007f87e461f583700220acda4384c190097b5c0e769ed17a0b27a";
/// Canonical bytes of the proofs for `item/0002` (presence; the same bytes prove `item/0004`
/// absent, its path ending at `item/0002`'s leaf) and `item/0007` (absence, empty subtree).
const VECTOR_PROOFS: [&str; 3] = [
    "027895135cadfa6e65abcf3b653101507c38caf36f52bd8b7c8867cd77178a6c931c14a3b8ace0c41eadc90b72d27328c09603c2200c37c794fffdbd2bdd22de6e01b269c97d2600633ba7ce15f8f5c35dfeebcc44eed93bb7cad1b8730784f1d0d40c2cf2f15970672eb3c5e95ee9635ec0ea7307afc709b663005a28b6c359a8aa",
    "027895135cadfa6e65abcf3b653101507c38caf36f52bd8b7c8867cd77178a6c931c14a3b8ace0c41eadc90b72d27328c09603c2200c37c794fffdbd2bdd22de6e01b269c97d2600633ba7ce15f8f5c35dfeebcc44eed93bb7cad1b8730784f1d0d40c2cf2f15970672eb3c5e95ee9635ec0ea7307afc709b663005a28b6c359a8aa",
    "023a426e4f805f3267ce4b15d8cdb2cfe0e987b35ba5ededc55c09f9abcd1af386bac279b682b8b65faaeacd15910fc1e8950ec46067cb1d5e189a70f7358fec3f00",
];

// ---------------------------------------------------------------------------------------------
// Properties against the model.

fn arb_batch(universe: u16, max_len: usize) -> impl Strategy<Value = Delta> {
    prop::collection::btree_map(
        (0..universe).prop_map(|n| format!("key/{n}").into_bytes()),
        prop::option::weighted(0.7, prop::collection::vec(any::<u8>(), 0..6)),
        0..max_len,
    )
}

/// Applies `batches` one after another, checking each root against the model and each batch's
/// nodes; returns the store and the history of (root, model).
fn run_batches(batches: &[Delta]) -> (MemoryNodeStore, Vec<(Hash, Model)>) {
    let mut store = MemoryNodeStore::new();
    let mut model = Model::new();
    let mut root = EMPTY;
    let mut history = vec![(root, model.clone())];
    for delta in batches {
        let (new_root, nodes) = apply(&store, root, delta).unwrap();
        let fresh: HashSet<Hash> = nodes.iter().map(|(h, _)| *h).collect();
        assert_eq!(fresh.len(), nodes.len(), "a node twice in one batch");
        store.insert_all(&nodes).unwrap();
        apply_to_model(&mut model, delta);
        assert_eq!(new_root, ref_root(&model));
        root = new_root;
        history.push((root, model.clone()));
    }
    (store, history)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    /// Thousands of keys in a few large batches.
    #[test]
    fn large_batches_match_the_model(
        batches in prop::collection::vec(arb_batch(3000, 1500), 1..5),
        seed in any::<u64>(),
    ) {
        let (store, history) = run_batches(&batches);
        let (root, model) = history.last().unwrap().clone();
        let absent: Vec<Vec<u8>> = (0..300u32)
            .map(|i| format!("key/{}", i * 11 % 3000).into_bytes())
            .chain((0..30u64).map(|i| seed.wrapping_add(i).to_le_bytes().to_vec()))
            .collect();
        check_proofs(&store, root, &model, &absent);
        // Old roots: a sample of keys each.
        for (old_root, old_model) in &history {
            let sample: Model = old_model.iter().step_by(37).map(|(k, v)| (k.clone(), v.clone())).collect();
            for (k, v) in &sample {
                let (_, p) = get_with_proof(&store, *old_root, k).unwrap();
                p.verify_presence(old_root, k, v).unwrap();
            }
            let old_absent: Vec<Vec<u8>> =
                absent.iter().filter(|k| !old_model.contains_key(*k)).take(40).cloned().collect();
            check_proofs(&store, *old_root, &Model::new(), &old_absent);
        }
        // Order independence: the final contents in one batch, and in shuffled chunks.
        let (_, one) = tree_of(&model);
        prop_assert_eq!(one, root);
        let mut entries: Vec<_> = delta_of(&model).into_iter().collect();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        entries.shuffle(&mut rng);
        let mut s2 = MemoryNodeStore::new();
        let mut r2 = EMPTY;
        for chunk in entries.chunks(1 + (seed % 97) as usize) {
            r2 = s2.apply(r2, &chunk.iter().cloned().collect()).unwrap();
        }
        prop_assert_eq!(r2, root);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// A small key space and many small batches: deletes keep collapsing and regrowing paths.
    #[test]
    fn small_batches_match_the_model(batches in prop::collection::vec(arb_batch(40, 12), 1..30)) {
        let (store, history) = run_batches(&batches);
        let universe: Vec<Vec<u8>> = (0..40).map(|n| format!("key/{n}").into_bytes()).collect();
        for (root, model) in &history {
            check_proofs(&store, *root, model, &universe);
        }
    }

    /// Insert-then-delete gives the old root back, and needs no new nodes.
    #[test]
    fn insert_then_delete_is_identity(
        base in arb_batch(200, 60),
        extra in prop::collection::btree_set((200u16..400).prop_map(|n| format!("key/{n}").into_bytes()), 1..40),
    ) {
        let (mut store, history) = run_batches(&[base]);
        let root = history.last().unwrap().0;
        let ins: Delta = extra.iter().map(|k| (k.clone(), Some(k.clone()))).collect();
        let bigger = store.apply(root, &ins).unwrap();
        prop_assert_ne!(bigger, root);
        let del: Delta = extra.iter().map(|k| (k.clone(), None)).collect();
        let (back, nodes) = apply(&store, bigger, &del).unwrap();
        prop_assert_eq!(back, root);
        prop_assert!(nodes.iter().all(|(h, _)| store.contains(h)));
    }

    /// Whatever bytes decode as a proof re-encode to the same bytes, and verifying it is safe.
    #[test]
    fn any_bytes_decode_canonically_or_fail(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        if let Ok(p) = SmtProof::from_bytes(&bytes) {
            prop_assert_eq!(&p.to_bytes(), &bytes);
            let _ = p.verify_absence(&EMPTY, b"k");
            let _ = p.verify_presence(&EMPTY, b"k", b"v");
        }
        if let Ok(n) = Node::from_bytes(&bytes) {
            prop_assert_eq!(&n.to_bytes(), &bytes);
        }
    }
}
