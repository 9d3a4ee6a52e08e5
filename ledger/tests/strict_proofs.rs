//! Every leniency issue 21 found in reading proofs is refused, with the JSON path of the
//! offending member: a member twice (a proof could show one `item_id` and verify another),
//! upper-case or `0x` hex, and unknown members in certificate, checkpoint, signature,
//! transaction and receipt objects. The example proofs of docs/proofs/ are the starting point.

use serde_json::Value;
use waybill_ledger::proof::{Proof, ProofDecodeError};

fn example(name: &str) -> String {
    let path = format!("{}/../docs/proofs/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The refusal's JSON path, or a panic if the text is accepted.
fn refused_at(text: &str) -> String {
    match Proof::from_json(text) {
        Ok(_) => panic!("accepted: {}", &text[..text.len().min(400)]),
        Err(ProofDecodeError::Invalid(e)) => e.path,
        Err(other) => panic!("refused for another reason: {other}"),
    }
}

/// The object at `path` (member names and array indexes) inside `v`.
fn at<'a>(v: &'a mut Value, path: &[&str]) -> &'a mut Value {
    path.iter().fold(v, |v, step| match step.parse::<usize>() {
        Ok(i) => &mut v[i],
        Err(_) => &mut v[*step],
    })
}

#[test]
fn the_examples_parse() {
    for name in [
        "transaction.json",
        "item-state.json",
        "item-absent.json",
        "history.json",
        "history-absent.json",
        "consistency.json",
    ] {
        Proof::from_json(&example(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

#[test]
fn a_member_twice_is_refused_wherever_it_is() {
    let text = example("item-state.json");
    let twice = text.replacen(
        r#""item_id": "pallet-1""#,
        r#""item_id": "crate-9", "item_id": "pallet-1""#,
        1,
    );
    assert_ne!(text, twice);
    assert_eq!(refused_at(&twice), "$.item_id");
    let text = example("transaction.json");
    let twice = text.replacen(r#""height": 4,"#, r#""height": 4, "height": 3,"#, 1);
    assert_ne!(text, twice);
    assert!(
        refused_at(&twice).ends_with(".height"),
        "{}",
        refused_at(&twice)
    );
    let twice = text.replacen(
        r#""kind": "transaction","#,
        r#""kind": "transaction", "kind": "history","#,
        1,
    );
    assert_eq!(refused_at(&twice), "$.kind");
}

/// Upper-case and `0x`-prefixed hex in every kind of hex member: a hash, a key, a signature and
/// a value.
#[test]
fn hex_other_than_lower_case_without_prefix_is_refused() {
    let cases: &[(&str, &[&str])] = &[
        (
            "transaction.json",
            &["certificate", "checkpoint", "view", "block_hash"],
        ),
        ("transaction.json", &["certificate", "checkpoint", "bytes"]),
        (
            "transaction.json",
            &["certificate", "signatures", "0", "validator"],
        ),
        (
            "transaction.json",
            &["certificate", "signatures", "1", "signature"],
        ),
        ("transaction.json", &["receipt", "view", "tx_hash"]),
        ("transaction.json", &["transaction", "bytes"]),
        ("transaction.json", &["transaction", "view", "signature"]),
        ("transaction.json", &["inclusion_proof", "path", "0"]),
        ("item-state.json", &["value"]),
        ("item-state.json", &["smt_proof", "siblings", "0"]),
    ];
    for (file, path) in cases {
        let mut v: Value = serde_json::from_str(&example(file)).unwrap();
        let original = at(&mut v, path).as_str().expect("a hex string").to_string();
        for changed in [original.to_uppercase(), format!("0x{original}")] {
            let mut w = v.clone();
            *at(&mut w, path) = Value::from(changed.clone());
            let where_ = refused_at(&w.to_string());
            assert!(
                where_.starts_with(&format!("$.{}", path[0])),
                "{file} {path:?} {changed}: refused at {where_}"
            );
        }
    }
}

#[test]
fn unknown_members_are_refused_in_every_object() {
    let cases: &[(&str, &[&str])] = &[
        ("transaction.json", &[]),
        ("transaction.json", &["certificate"]),
        ("transaction.json", &["certificate", "checkpoint"]),
        ("transaction.json", &["certificate", "checkpoint", "view"]),
        ("transaction.json", &["certificate", "signatures", "0"]),
        ("transaction.json", &["transaction"]),
        ("transaction.json", &["transaction", "view"]),
        ("transaction.json", &["transaction", "view", "tx"]),
        (
            "transaction.json",
            &["transaction", "view", "tx", "payload", "aggregate"],
        ),
        ("transaction.json", &["receipt"]),
        ("transaction.json", &["receipt", "view"]),
        ("transaction.json", &["inclusion_proof"]),
        ("history.json", &["entries", "0"]),
        ("history.json", &["entries", "0", "receipt", "view"]),
        ("history.json", &["item_state"]),
        ("item-state.json", &["smt_proof"]),
        ("consistency.json", &["older", "checkpoint", "view"]),
        ("consistency.json", &["consistency_proof"]),
    ];
    for (file, path) in cases {
        let mut v: Value = serde_json::from_str(&example(file)).unwrap();
        at(&mut v, path)
            .as_object_mut()
            .unwrap_or_else(|| panic!("{file} {path:?} is not an object"))
            .insert("note".into(), Value::from("added"));
        let where_ = refused_at(&v.to_string());
        let expected: String = path
            .iter()
            .map(|p| match p.parse::<usize>() {
                Ok(i) => format!("[{i}]"),
                Err(_) => format!(".{p}"),
            })
            .collect();
        assert!(
            where_.starts_with(&format!("${expected}")),
            "{file} {path:?}: refused at {where_}"
        );
    }
}

/// The view is derived from the bytes: a view that says something else is refused, even when
/// the bytes (which signatures and hashes cover) are untouched.
#[test]
fn a_view_that_differs_from_its_bytes_is_refused() {
    let cases: &[(&str, &[&str], Value)] = &[
        (
            "transaction.json",
            &["certificate", "checkpoint", "view", "height"],
            Value::from(3),
        ),
        (
            "transaction.json",
            &["receipt", "view", "ledger_index"],
            Value::from(3),
        ),
        (
            "transaction.json",
            &["transaction", "view", "tx", "sequence"],
            Value::from(99),
        ),
        (
            "history.json",
            &["entries", "1", "receipt", "view", "height"],
            Value::from(1),
        ),
    ];
    for (file, path, changed) in cases {
        let mut v: Value = serde_json::from_str(&example(file)).unwrap();
        assert_ne!(at(&mut v, path), changed, "{file} {path:?}");
        *at(&mut v, path) = changed.clone();
        let where_ = refused_at(&v.to_string());
        let owner: String = path[..path.iter().position(|p| *p == "view").unwrap()]
            .iter()
            .map(|p| match p.parse::<usize>() {
                Ok(i) => format!("[{i}]"),
                Err(_) => format!(".{p}"),
            })
            .collect();
        assert_eq!(where_, format!("${owner}"), "{file} {path:?}");
    }
}
