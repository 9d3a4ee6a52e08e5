//! Proof files: what `waybill audit verify --genesis FILE PROOF.json` reads (`Proof::from_json`)
//! and checks against the genesis of `docs/proofs/` (`Proof::verify`).
//!
//! - parse errors and failed checks are typed (every failed check carries its `VerifyError`,
//!   a passed one none), never panics;
//! - verification is deterministic, and a proof's pretty JSON parses back to the same proof
//!   with the same report;
//! - no proof verifies on two chains (the fuzz chain's genesis is the second).

use ledger::proof::{Proof, VerifyReport};

use super::text;
use crate::fixtures;

pub fn run(data: &[u8]) {
    let Some(text) = text(data) else { return };
    let proof = match Proof::from_json(text) {
        Ok(p) => p,
        Err(e) => {
            let _ = e.to_string();
            return;
        }
    };
    let report = proof.verify(fixtures::proof_genesis());
    check_report(&proof, &report);
    let again = Proof::from_json(&proof.to_json()).expect("a proof's own JSON parses");
    assert_eq!(again, proof);
    assert_eq!(
        again.verify(fixtures::proof_genesis()),
        report,
        "deterministic"
    );
    let elsewhere = proof.verify(fixtures::genesis());
    check_report(&proof, &elsewhere);
    assert!(
        !(report.is_ok() && elsewhere.is_ok()),
        "one proof verifies on two chains"
    );
}

fn check_report(proof: &Proof, report: &VerifyReport) {
    assert_eq!(report.kind, proof.kind());
    for c in &report.checks {
        assert_eq!(c.passed, c.error.is_none(), "check {}", c.name);
    }
    let _ = report.to_string();
}
