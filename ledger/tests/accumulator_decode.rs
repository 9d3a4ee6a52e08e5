//! Proofs arrive from untrusted parties: decoding any bytes or any JSON must return a value or
//! an error, never panic, and whatever decodes must then verify or fail cleanly.

use proptest::prelude::*;
use serde_json::{json, Value};
use waybill_ledger::accumulator::{ConsistencyProof, InclusionProof, MAX_PROOF_BYTES};
use waybill_ledger::encoding::DecodeError;
use waybill_ledger::merkle::Blake3Hasher;
use waybill_ledger::Hash;

fn sample_proofs() -> (InclusionProof, ConsistencyProof) {
    let path: Vec<Hash> = (0..5u8).map(|i| Hash::blake3(&[i])).collect();
    (
        InclusionProof {
            leaf_index: 5,
            tree_size: 21,
            path: path.clone(),
        },
        ConsistencyProof {
            old_size: 7,
            new_size: 21,
            path,
        },
    )
}

/// Verifying whatever decoded must not panic either (the result does not matter here).
fn use_inclusion(p: &InclusionProof) {
    let x = Hash::blake3(b"x");
    let _ = p.verify(&Blake3Hasher, &x, &x);
}

fn use_consistency(p: &ConsistencyProof) {
    let x = Hash::blake3(b"x");
    let _ = p.verify(&Blake3Hasher, &x, &x);
}

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        ".{0,80}".prop_map(Value::from),
        "[0-9a-f]{0,70}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..8).prop_map(Value::from),
            proptest::collection::btree_map(
                prop_oneof![
                    Just("leaf_index".to_string()),
                    Just("tree_size".to_string()),
                    Just("old_size".to_string()),
                    Just("new_size".to_string()),
                    Just("path".to_string()),
                    "[a-z_]{0,12}",
                ],
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Objects that have the right field names with values that are nearly right.
fn near_miss() -> impl Strategy<Value = Value> {
    let size = prop_oneof![
        any::<u64>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        Just(json!(1.5)),
        Just(json!("7")),
        Just(json!(18446744073709551616u128.to_string())),
        Just(Value::Null),
    ];
    let hash = prop_oneof![
        "[0-9a-f]{64}".prop_map(Value::from),
        "[0-9a-fA-FxX ]{0,70}".prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        Just(Value::Null),
    ];
    let path = proptest::collection::vec(hash, 0..70).prop_map(Value::from);
    (size.clone(), size, path, any::<bool>(), any::<bool>()).prop_map(
        |(a, b, path, incl, extra)| {
            let mut v = if incl {
                json!({ "leaf_index": a, "tree_size": b, "path": path })
            } else {
                json!({ "old_size": a, "new_size": b, "path": path })
            };
            if extra {
                v["unexpected"] = json!(1);
            }
            v
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn any_bytes_decode_or_fail(bytes in proptest::collection::vec(any::<u8>(), 0..2200)) {
        if let Ok(p) = InclusionProof::from_bytes(&bytes) {
            // BCS is canonical: whatever decodes re-encodes to the same bytes.
            prop_assert_eq!(p.to_bytes(), bytes.clone());
            use_inclusion(&p);
        }
        if let Ok(p) = ConsistencyProof::from_bytes(&bytes) {
            prop_assert_eq!(p.to_bytes(), bytes.clone());
            use_consistency(&p);
        }
        // Also without the size limit, straight through bcs.
        let _ = bcs::from_bytes::<InclusionProof>(&bytes);
        let _ = bcs::from_bytes::<ConsistencyProof>(&bytes);
    }

    #[test]
    fn mutated_encodings_decode_or_fail(
        which in 0usize..2,
        edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..6),
        cut in any::<usize>(),
    ) {
        let (i, c) = sample_proofs();
        let mut bytes = if which == 0 { i.to_bytes() } else { c.to_bytes() };
        for (at, b) in edits {
            let n = bytes.len();
            bytes[at % n] = b;
        }
        bytes.truncate(cut % (bytes.len() + 1));
        if let Ok(p) = InclusionProof::from_bytes(&bytes) {
            use_inclusion(&p);
        }
        if let Ok(p) = ConsistencyProof::from_bytes(&bytes) {
            use_consistency(&p);
        }
    }

    #[test]
    fn any_json_decodes_or_fails(v in prop_oneof![any_json(), near_miss()], s in ".{0,200}") {
        let text = v.to_string();
        if let Ok(p) = serde_json::from_str::<InclusionProof>(&text) {
            use_inclusion(&p);
        }
        if let Ok(p) = serde_json::from_str::<ConsistencyProof>(&text) {
            use_consistency(&p);
        }
        let _ = serde_json::from_value::<InclusionProof>(v.clone());
        let _ = serde_json::from_value::<ConsistencyProof>(v);
        let _ = serde_json::from_str::<InclusionProof>(&s);
        let _ = serde_json::from_str::<ConsistencyProof>(&s);
    }
}

#[test]
fn json_and_bcs_round_trip() {
    let (i, c) = sample_proofs();
    let text = serde_json::to_string(&i).unwrap();
    assert!(
        text.contains(&format!("\"{}\"", i.path[0].to_hex())),
        "hashes are hex: {text}"
    );
    assert_eq!(serde_json::from_str::<InclusionProof>(&text).unwrap(), i);
    assert_eq!(InclusionProof::from_bytes(&i.to_bytes()).unwrap(), i);
    let text = serde_json::to_string(&c).unwrap();
    assert_eq!(serde_json::from_str::<ConsistencyProof>(&text).unwrap(), c);
    assert_eq!(ConsistencyProof::from_bytes(&c.to_bytes()).unwrap(), c);
}

#[test]
fn strict_decoding() {
    let (i, _) = sample_proofs();
    // Unknown fields, short hashes, negative sizes and trailing bytes are errors.
    let mut v = serde_json::to_value(&i).unwrap();
    v["extra"] = json!(0);
    assert!(serde_json::from_value::<InclusionProof>(v).is_err());
    let short = json!({ "leaf_index": 0, "tree_size": 1, "path": ["abcd"] });
    assert!(serde_json::from_value::<InclusionProof>(short).is_err());
    let negative = json!({ "leaf_index": -1, "tree_size": 1, "path": [] });
    assert!(serde_json::from_value::<InclusionProof>(negative).is_err());
    let mut bytes = i.to_bytes();
    bytes.push(0);
    assert!(matches!(
        InclusionProof::from_bytes(&bytes),
        Err(DecodeError::Malformed { .. })
    ));
    // A path length claiming 2^31 - 1 hashes fails on the missing bytes without allocating them.
    let mut huge = vec![0u8; 16];
    huge.extend([0xff, 0xff, 0xff, 0xff, 0x07]);
    assert!(InclusionProof::from_bytes(&huge).is_err());
    let too_long = vec![0u8; MAX_PROOF_BYTES + 1];
    assert!(matches!(
        ConsistencyProof::from_bytes(&too_long),
        Err(DecodeError::TooLarge { .. })
    ));
}
