//! Must-show properties of the audit proofs: honest proofs verify; every field of every proof
//! type, changed, makes verification fail (exhaustively over the JSON form, and by proptest);
//! certificates below quorum, with a duplicate signer, from a non-validator or for another chain
//! fail; and the swaps an attacker would try (another transaction's receipt, another key's state
//! proof, another chain's certificate, a proof against another size, another item's event, an
//! event left out of a history) fail with the check that names them.

mod proof_support;

use proptest::prelude::*;
use serde_json::Value;

use proof_support::*;
use waybill_ledger::accumulator::ConsistencyProof;
use waybill_ledger::proof::{
    CertificateError, LedgerCertificate, Proof, TransactionProof, VerifyError, VerifyReport,
};
use waybill_ledger::receipt::ExecStatus;
use waybill_ledger::supply::state::item_key;

/// One proof of each shape the example ledger offers.
fn proofs() -> Vec<(&'static str, Proof)> {
    let ex = example();
    vec![
        (
            "tx 0 (first leaf)",
            Proof::Transaction(ex.transaction_proof(0)),
        ),
        ("tx 3 (failed)", Proof::Transaction(ex.transaction_proof(3))),
        (
            "tx 6 (last leaf)",
            Proof::Transaction(ex.transaction_proof(6)),
        ),
        (
            "pallet-1 present",
            Proof::ItemState(ex.state_proof("pallet-1")),
        ),
        (
            "crate-9 present",
            Proof::ItemState(ex.state_proof("crate-9")),
        ),
        (
            "missing-7 absent",
            Proof::ItemState(ex.state_proof("missing-7")),
        ),
        ("pallet-1 history", Proof::History(ex.history_proof())),
        (
            "crate-9 history",
            Proof::History(ex.history_proof_of("crate-9")),
        ),
        (
            "missing-7 history (absent, no events)",
            Proof::History(ex.history_proof_of("missing-7")),
        ),
        (
            "consistency 1 -> 4",
            Proof::Consistency(ex.consistency_proof(1)),
        ),
        (
            "consistency 2 -> 4",
            Proof::Consistency(ex.consistency_proof(2)),
        ),
        (
            "consistency 3 -> 4",
            Proof::Consistency(ex.consistency_proof(3)),
        ),
        (
            "consistency 4 -> 4",
            Proof::Consistency(ex.consistency_proof(4)),
        ),
    ]
}

fn assert_ok(what: &str, report: &VerifyReport) {
    assert!(report.is_ok(), "{what} should verify:\n{report}");
}

/// The typed error of the failed check `name`.
fn failed<'a>(report: &'a VerifyReport, name: &str) -> &'a VerifyError {
    let check = report
        .check(name)
        .unwrap_or_else(|| panic!("no check {name}:\n{report}"));
    assert!(!check.passed, "check {name} passed:\n{report}");
    assert!(!report.is_ok());
    check
        .error
        .as_ref()
        .expect("a failed check carries its error")
}

#[test]
fn honest_proofs_verify_and_round_trip_through_json() {
    let g = genesis();
    for (what, proof) in proofs() {
        assert_ok(what, &proof.verify(&g));
        let json = proof.to_json();
        let back = Proof::from_json(&json).unwrap();
        assert_eq!(back, proof, "{what}");
        assert_ok(what, &back.verify(&g));
    }
}

#[test]
fn checks_run_in_the_designed_order() {
    // Certificate first, then Merkle paths, then the transaction's own signature.
    let g = genesis();
    let report = Proof::Transaction(example().transaction_proof(2)).verify(&g);
    let names: Vec<&str> = report.checks.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "certificate",
            "receipt.tx_hash",
            "receipt.ledger_index",
            "inclusion_proof.leaf_index",
            "inclusion_proof.tree_size",
            "inclusion_proof.path",
            "transaction.signature"
        ]
    );
    let history = Proof::History(example().history_proof()).verify(&g);
    let first_sig = history
        .checks
        .iter()
        .position(|c| c.name.ends_with(".signature"))
        .unwrap();
    let last_path = history
        .checks
        .iter()
        .rposition(|c| c.name.ends_with("inclusion_proof.path"))
        .unwrap();
    assert_eq!(history.checks[0].name, "certificate");
    assert!(last_path < first_sig, "{history}");
}

// ---- every field, changed ------------------------------------------------------------------

#[derive(Clone, Debug)]
enum Seg {
    Key(String),
    Index(usize),
}

/// Every leaf of the JSON tree (numbers, strings, booleans, nulls, empty arrays and objects):
/// the fields and array elements a proof is made of.
fn leaves(v: &Value, path: &mut Vec<Seg>, out: &mut Vec<Vec<Seg>>) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            for (k, child) in m {
                path.push(Seg::Key(k.clone()));
                leaves(child, path, out);
                path.pop();
            }
        }
        Value::Array(a) if !a.is_empty() => {
            for (i, child) in a.iter().enumerate() {
                path.push(Seg::Index(i));
                leaves(child, path, out);
                path.pop();
            }
        }
        _ => out.push(path.clone()),
    }
}

/// Arrays in the tree (whose length or order is itself a field).
fn arrays(v: &Value, path: &mut Vec<Seg>, out: &mut Vec<Vec<Seg>>) {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                path.push(Seg::Key(k.clone()));
                arrays(child, path, out);
                path.pop();
            }
        }
        Value::Array(a) => {
            out.push(path.clone());
            for (i, child) in a.iter().enumerate() {
                path.push(Seg::Index(i));
                arrays(child, path, out);
                path.pop();
            }
        }
        _ => {}
    }
}

fn at<'a>(v: &'a mut Value, path: &[Seg]) -> &'a mut Value {
    path.iter().fold(v, |v, seg| match seg {
        Seg::Key(k) => &mut v[k.as_str()],
        Seg::Index(i) => &mut v[*i],
    })
}

/// A different value of the same JSON type where possible: numbers +1 (or -1 at the top),
/// hex strings with one digit changed at `pos`, other strings with a character appended,
/// booleans flipped, null replaced, an empty array given one (zero) hash.
fn change(v: &mut Value, pos: usize) {
    *v = match v.take() {
        // Proof numbers are unsigned, except in the views of property and reading values.
        Value::Number(n) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
            (Some(x), _, _) => Value::from(if x == u64::MAX { x - 1 } else { x + 1 }),
            (None, Some(x), _) => Value::from(x + 1),
            (None, None, Some(x)) => Value::from(x + 1.0),
            (None, None, None) => unreachable!("a JSON number is one of the three"),
        },
        Value::String(s)
            if !s.is_empty() && s.len() % 2 == 0 && s.bytes().all(|b| b.is_ascii_hexdigit()) =>
        {
            let mut b = s.into_bytes();
            let i = pos % b.len();
            b[i] = if b[i] == b'0' { b'1' } else { b'0' };
            Value::String(String::from_utf8(b).unwrap())
        }
        Value::String(s) => Value::String(format!("{s}x")),
        Value::Bool(b) => Value::Bool(!b),
        Value::Null => Value::String("00".repeat(32)),
        Value::Array(_) => Value::Array(vec![Value::String("00".repeat(32))]),
        Value::Object(_) => Value::String("x".into()),
    }
}

enum ArrayEdit {
    Remove(usize),
    Duplicate(usize),
    Swap(usize),
}

/// Applies `e` to the array at `path`; false when the edit does not apply or is left out:
///
/// - a certificate's signatures are a set: their order carries nothing (the checkpoint is what
///   is signed), so reordering them is not a change;
///
/// Every edit of a history's entries (dropping one included) must fail: the item's certified
/// state commits to its whole list of events (see `a_history_proof_shows_completeness`).
fn edit(json: &mut Value, path: &[Seg], e: &ArrayEdit) -> bool {
    let last = match path.last() {
        Some(Seg::Key(k)) => k.as_str(),
        _ => "",
    };
    if let ("signatures", ArrayEdit::Swap(_)) = (last, e) {
        return false;
    }
    let a = at(json, path).as_array_mut().unwrap();
    let n = a.len();
    match *e {
        ArrayEdit::Remove(i) if n > 0 => {
            a.remove(i % n);
        }
        ArrayEdit::Duplicate(i) if n > 0 => {
            let x = a[i % n].clone();
            a.insert(i % n, x);
        }
        ArrayEdit::Swap(i) if n > 1 && a[i % n] != a[(i + 1) % n] => a.swap(i % n, (i + 1) % n),
        _ => return false,
    }
    true
}

/// A changed proof must not verify: either it no longer parses (the file is refused) or its
/// report fails.
fn assert_rejected(what: &str, mutated: &Value) {
    let text = mutated.to_string();
    if let Ok(proof) = Proof::from_json(&text) {
        let report = proof.verify(&genesis());
        if report.is_ok() && is_true_absence(&proof) {
            return;
        }
        assert!(
            !report.is_ok(),
            "{what}: changed proof verified:\n{text}\n{report}"
        );
    }
}

/// One change can leave a proof verifying and still be no forgery: an absence proof (a path to
/// an empty subtree, or to another key's leaf) shows the absence of *every* key whose hash
/// shares that path, so renaming the absent item to another absent item on the same path is a
/// true claim. Accepted only if the renamed item really is absent from the example ledger.
/// The same holds of the history proof of an absent item (no events, absence of its state).
fn is_true_absence(proof: &Proof) -> bool {
    let (certificate, item_id, absent) = match proof {
        Proof::ItemState(p) => (&p.certificate, &p.item_id, p.value.is_none()),
        Proof::History(p) => (
            &p.certificate,
            &p.item_id,
            p.item_state.value.is_none() && p.entries.is_empty(),
        ),
        _ => return false,
    };
    let ex = example();
    absent
        && certificate.checkpoint.state_root == ex.ledger.state_root
        && waybill_ledger::smt::get(&ex.ledger.smt, ex.ledger.state_root, &item_key(item_id))
            .unwrap()
            .is_none()
}

fn describe(path: &[Seg]) -> String {
    path.iter()
        .map(|s| match s {
            Seg::Key(k) => format!(".{k}"),
            Seg::Index(i) => format!("[{i}]"),
        })
        .collect()
}

#[test]
fn every_field_of_every_proof_changed_fails() {
    let mut count = 0;
    for (what, proof) in proofs() {
        let json = serde_json::to_value(&proof).unwrap();
        let mut paths = vec![];
        leaves(&json, &mut vec![], &mut paths);
        for path in &paths {
            for pos in [0, 17, 63] {
                let mut m = json.clone();
                change(at(&mut m, path), pos);
                assert_rejected(&format!("{what} {}", describe(path)), &m);
                count += 1;
            }
        }
        let mut arrs = vec![];
        arrays(&json, &mut vec![], &mut arrs);
        for path in &arrs {
            for e in [
                ArrayEdit::Remove(0),
                ArrayEdit::Remove(usize::MAX),
                ArrayEdit::Duplicate(0),
                ArrayEdit::Swap(0),
            ] {
                let mut m = json.clone();
                if edit(&mut m, path, &e) {
                    assert_rejected(&format!("{what} {} (array edit)", describe(path)), &m);
                    count += 1;
                }
            }
        }
    }
    assert!(count > 1000, "only {count} mutations tried");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// The same, with random choices of proof, field, digit and edit.
    #[test]
    fn a_random_field_changed_fails(which in 0usize..11, field in any::<usize>(), pos in any::<usize>(), edit_kind in 0u8..4) {
        let all = proofs();
        let (what, proof) = &all[which % all.len()];
        let json = serde_json::to_value(proof).unwrap();
        let mut m = json.clone();
        if edit_kind == 0 {
            let mut arrs = vec![];
            arrays(&json, &mut vec![], &mut arrs);
            let path = &arrs[field % arrs.len()];
            let e = match pos % 3 { 0 => ArrayEdit::Remove(field), 1 => ArrayEdit::Duplicate(field), _ => ArrayEdit::Swap(field) };
            if !edit(&mut m, path, &e) {
                return Ok(());
            }
        } else {
            let mut paths = vec![];
            leaves(&json, &mut vec![], &mut paths);
            change(at(&mut m, &paths[field % paths.len()]), pos);
        }
        assert_rejected(what, &m);
    }
}

// ---- certificates ---------------------------------------------------------------------------

/// Replaces the certificate(s) of a proof.
fn with_certificate(proof: &Proof, f: &dyn Fn(&LedgerCertificate) -> LedgerCertificate) -> Proof {
    let mut p = proof.clone();
    match &mut p {
        Proof::Transaction(x) => x.certificate = f(&x.certificate),
        Proof::ItemState(x) => x.certificate = f(&x.certificate),
        Proof::History(x) => x.certificate = f(&x.certificate),
        Proof::Consistency(x) => x.newer = f(&x.newer),
    }
    p
}

fn cert_check(p: &Proof) -> &'static str {
    match p {
        Proof::Consistency(_) => "newer.certificate",
        _ => "certificate",
    }
}

#[test]
fn bad_certificates_fail_every_proof() {
    let g = genesis();
    for (what, proof) in proofs() {
        let name = cert_check(&proof);
        let resign = |signers: &'static [u8]| {
            move |c: &LedgerCertificate| certify(c.checkpoint.clone(), signers)
        };
        let cases: Vec<(&str, Proof)> = vec![
            ("below quorum", with_certificate(&proof, &resign(&[0, 1]))),
            (
                "duplicate signer",
                with_certificate(&proof, &resign(&[0, 1, 1])),
            ),
            (
                "non-validator",
                with_certificate(&proof, &resign(&[0, 1, 7])),
            ),
            ("no signatures", with_certificate(&proof, &resign(&[]))),
            (
                "another chain",
                with_certificate(&proof, &|c| {
                    let mut cp = c.checkpoint.clone();
                    cp.chain_id = "another-chain".into();
                    certify(cp, &[0, 1, 2, 3])
                }),
            ),
        ];
        for (case, bad) in cases {
            let report = bad.verify(&g);
            let err = failed(&report, name);
            let expected = match case {
                "below quorum" | "no signatures" => matches!(
                    err,
                    VerifyError::Certificate(CertificateError::BelowQuorum { .. })
                ),
                "duplicate signer" => matches!(
                    err,
                    VerifyError::Certificate(CertificateError::DuplicateSigner { .. })
                ),
                "non-validator" => matches!(
                    err,
                    VerifyError::Certificate(CertificateError::NotAValidator { .. })
                ),
                _ => matches!(
                    err,
                    VerifyError::Certificate(CertificateError::WrongChain { .. })
                ),
            };
            assert!(expected, "{what} / {case}: {err}");
        }
        // The same proofs verify against a genesis of another chain with the same validators
        // only if the certificate says that chain: it does not.
        let mut other = g.clone();
        other.chain_id = "another-chain".into();
        assert!(
            !proof.verify(&other).is_ok(),
            "{what} verified for another chain"
        );
    }
}

// ---- what an attacker would swap -------------------------------------------------------------

#[test]
fn a_receipt_of_another_transaction_fails() {
    let ex = example();
    let mut p = ex.transaction_proof(2);
    p.receipt = ex.ledger.committed[3].1.clone();
    let report = p.verify(&genesis());
    assert!(matches!(
        failed(&report, "receipt.tx_hash"),
        VerifyError::ReceiptForOtherTransaction { .. }
    ));
    // Even a receipt rewritten to name this transaction is not the committed one.
    p.receipt.tx_hash = p.transaction.hash();
    p.receipt.ledger_index = 2;
    p.receipt.status = ExecStatus::Success;
    let report = p.verify(&genesis());
    assert!(report.check("receipt.tx_hash").unwrap().passed);
    failed(&report, "inclusion_proof.path");
}

#[test]
fn another_transaction_under_a_valid_proof_fails() {
    let ex = example();
    let mut p = ex.transaction_proof(2);
    let (tx, receipt) = ex.ledger.committed[4].clone();
    p.transaction = tx;
    p.receipt = receipt;
    failed(&p.verify(&genesis()), "inclusion_proof.path");
}

#[test]
fn a_proof_against_another_size_fails() {
    let ex = example();
    // Built for the ledger of 5 leaves (height 3), shown with the head's certificate (7).
    let (tx, receipt) = ex.ledger.committed[4].clone();
    let old = TransactionProof::build(
        ex.ledger.certificate(3, &[0, 1, 2]),
        tx,
        receipt,
        ex.ledger.accumulator.nodes(),
    )
    .unwrap();
    assert_ok("old proof", &old.verify(&genesis()));
    let mut p = old.clone();
    p.certificate = ex.head_certificate();
    let report = p.verify(&genesis());
    assert!(matches!(
        failed(&report, "inclusion_proof.tree_size"),
        VerifyError::TreeSizeMismatch {
            proof_size: 5,
            certified_size: 7
        }
    ));
    failed(&report, "inclusion_proof.path");
    // And a leaf beyond the certified size is out of range.
    let mut p = ex.transaction_proof(6);
    p.certificate = ex.ledger.certificate(3, &[0, 1, 2]);
    failed(&p.verify(&genesis()), "inclusion_proof.path");
}

#[test]
fn a_state_proof_for_another_key_fails() {
    let ex = example();
    let pallet = ex.state_proof("pallet-1");
    let crate9 = ex.state_proof("crate-9");
    // crate-9's value and proof, claimed for pallet-1.
    let mut p = crate9.clone();
    p.item_id = "pallet-1".into();
    let report = p.verify(&genesis());
    assert!(matches!(
        failed(&report, "value"),
        VerifyError::ItemIdMismatch { .. }
    ));
    failed(&report, "smt_proof");
    // pallet-1's proof with crate-9's value.
    let mut p = pallet.clone();
    p.value = crate9.value.clone();
    failed(&p.verify(&genesis()), "smt_proof");
    // Absence claimed for a present item, with its own proof or an absent key's.
    let mut p = pallet.clone();
    p.value = None;
    failed(&p.verify(&genesis()), "smt_proof");
    let mut p = ex.state_proof("missing-7");
    p.item_id = "pallet-1".into();
    failed(&p.verify(&genesis()), "smt_proof");
    // Presence claimed for an absent item.
    let mut p = ex.state_proof("missing-7");
    p.value = pallet.value.clone();
    failed(&p.verify(&genesis()), "smt_proof");
    // Undecodable value.
    let mut p = pallet;
    p.value = Some(vec![1, 2, 3]);
    assert!(matches!(
        failed(&p.verify(&genesis()), "value"),
        VerifyError::UndecodableValue { .. }
    ));
}

#[test]
fn a_state_proof_from_an_older_root_fails_under_a_newer_certificate() {
    let ex = example();
    let mut p = ex.state_proof("pallet-1");
    p.certificate = ex.ledger.certificate(2, &[0, 1, 2]);
    failed(&p.verify(&genesis()), "smt_proof");
}

#[test]
fn another_items_event_or_a_failed_one_in_a_history_fails() {
    let ex = example();
    let h = ex.history_proof();
    let build = |indexes: &[usize], item: &str| ex.history_proof_with(item, indexes);
    // crate-9's commission in pallet-1's history.
    let report = build(&[0, 2, 4], "pallet-1").verify(&genesis());
    assert!(matches!(
        failed(&report, "entry[1].item"),
        VerifyError::ItemNotNamed {
            ledger_index: 2,
            ..
        }
    ));
    failed(&report, "history_digest");
    // A memo (names no item).
    failed(
        &build(&[0, 1], "pallet-1").verify(&genesis()),
        "entry[1].item",
    );
    // The failed observe of pallet-1 (names it, but is no event).
    let report = build(&[0, 3], "pallet-1").verify(&genesis());
    assert!(report.check("entry[1].item").unwrap().passed);
    assert!(matches!(
        failed(&report, "entry[1].receipt.status"),
        VerifyError::FailedTransaction { .. }
    ));
    // The whole history relabelled as crate-9's (with crate-9's certified state, too).
    let mut p = h.clone();
    p.item_id = "crate-9".into();
    let report = p.verify(&genesis());
    failed(&report, "entry[0].item");
    assert!(matches!(
        failed(&report, "item_state.value"),
        VerifyError::ItemIdMismatch { .. }
    ));
    failed(&report, "item_state.smt_proof");
    p.item_state = ex.history_proof_of("crate-9").item_state;
    let report = p.verify(&genesis());
    failed(&report, "entry[0].item");
    failed(&report, "history_len");
    // Repeated or reordered entries.
    let mut p = h.clone();
    p.entries.insert(1, p.entries[0].clone());
    let report = p.verify(&genesis());
    assert!(matches!(
        failed(&report, "entries.order"),
        VerifyError::EntriesOutOfOrder { .. }
    ));
    failed(&report, "history_len");
    let mut p = h.clone();
    p.entries.swap(0, 2);
    let report = p.verify(&genesis());
    failed(&report, "entries.order");
    failed(&report, "history_digest");
    // No entries at all, for an item that has events.
    let mut p = h;
    p.entries.clear();
    let report = p.verify(&genesis());
    assert!(matches!(
        failed(&report, "history_len"),
        VerifyError::HistoryLengthMismatch {
            entries: 0,
            certified: 3,
            ..
        }
    ));
}

#[test]
fn consistency_needs_the_certified_sizes_and_order() {
    let ex = example();
    let g = genesis();
    // Swapped older and newer.
    let p = ex.consistency_proof(3);
    let mut swapped = p.clone();
    std::mem::swap(&mut swapped.older, &mut swapped.newer);
    failed(&swapped.verify(&g), "heights");
    // A proof between other sizes, with these certificates.
    let mut q = p.clone();
    q.consistency_proof = ex.ledger.accumulator.prove_consistency(4, 7).unwrap();
    let report = q.verify(&g);
    failed(&report, "consistency_proof.old_size");
    failed(&report, "consistency_proof.path");
    // Two different certified checkpoints for one height: a fork, not a history.
    let mut fork = ex.consistency_proof(4);
    let mut cp = fork.newer.checkpoint.clone();
    cp.block_hash.0[0] ^= 1;
    fork.older = certify(cp, &[0, 1, 2]);
    fork.consistency_proof = ConsistencyProof {
        old_size: 7,
        new_size: 7,
        path: vec![],
    };
    assert!(matches!(
        failed(&fork.verify(&g), "heights"),
        VerifyError::ConflictingCheckpoints { height: 4 }
    ));
    // A rewritten history: an older certificate over a different accumulator of the same size.
    let mut other = Ledger::new();
    for _ in 0..5 {
        let t = other.tx(commission("x"));
        other.block(vec![(t, ExecStatus::Success)], vec![]);
    }
    let mut rewritten = p.clone();
    let mut cp = other.checkpoints[4].clone();
    cp.height = 3;
    rewritten.older = certify(cp, &[0, 1, 2]);
    assert_eq!(rewritten.older.checkpoint.accumulator_size, 5);
    failed(&rewritten.verify(&g), "consistency_proof.path");
}

#[test]
fn malformed_files_are_refused_not_panicked_on() {
    for text in [
        "",
        "{}",
        "[]",
        "null",
        r#"{"kind":"nope"}"#,
        r#"{"kind":"transaction"}"#,
    ] {
        assert!(Proof::from_json(text).is_err(), "{text}");
    }
    let mut json =
        serde_json::to_value(Proof::Transaction(example().transaction_proof(0))).unwrap();
    json["unexpected"] = Value::Bool(true);
    assert!(
        Proof::from_json(&json.to_string()).is_err(),
        "unknown field accepted"
    );
}

/// The names of the checks that failed.
fn failures(report: &VerifyReport) -> Vec<&str> {
    report.failures().map(|c| c.name.as_str()).collect()
}

#[test]
fn a_history_proof_shows_completeness() {
    // The item's certified state commits to its number of events and their hash chain: an
    // event left out fails, and it fails only there (every remaining entry is still true).
    let ex = example();
    let g = genesis();
    for item in ["pallet-1", "crate-9"] {
        let events = proof_support::Example::events_of(item);
        for drop in 0..events.len() {
            let mut kept = events.to_vec();
            kept.remove(drop);
            let report = ex.history_proof_with(item, &kept).verify(&g);
            assert_eq!(
                failures(&report),
                ["history_len", "history_digest"],
                "{item} without entry {drop}:\n{report}"
            );
            assert!(matches!(
                failed(&report, "history_digest"),
                VerifyError::HistoryDigestMismatch { .. }
            ));
        }
    }
    // Only the prefix certified at an older height, shown under the head's certificate.
    let report = ex.history_proof_with("pallet-1", &[0, 4]).verify(&g);
    assert_eq!(failures(&report), ["history_len", "history_digest"]);
    // One event replaced by another transaction naming the item, as many entries as certified:
    // the count agrees, the chain does not.
    let report = ex.history_proof_with("pallet-1", &[0, 3, 5]).verify(&g);
    assert!(report.check("history_len").unwrap().passed, "{report}");
    failed(&report, "history_digest");
    // The item's state from an older certified height (two events then), under the head.
    let mut p = ex.history_proof_with("pallet-1", &[0, 4]);
    p.item_state.value = Some(item_value_at_height_3(&ex));
    let report = p.verify(&g);
    assert!(report.check("history_len").unwrap().passed, "{report}");
    assert!(report.check("history_digest").unwrap().passed, "{report}");
    failed(&report, "item_state.smt_proof");
    // The verdict says what was shown.
    let report = ex.history_proof().verify(&g);
    assert_ok("pallet-1 history", &report);
    assert!(report
        .check("history_digest")
        .unwrap()
        .detail
        .contains("certified history digest"));
}

/// `pallet-1`'s state value as of height 3 (packed, two events), rebuilt from the fixture.
fn item_value_at_height_3(ex: &proof_support::Example) -> Vec<u8> {
    let mut r = item("pallet-1", "acme");
    r.children = vec!["crate-9".into()];
    r.contents_count = 1;
    let t = |i: usize| &ex.ledger.committed[i].0;
    item_value(&r, &[t(0), t(4)])
}
