//! Ledger certificates and checkpoint votes, as peers send them (sync answers, checkpoint votes)
//! and proofs carry them. The first byte chooses: a certificate's canonical bytes, its JSON, or
//! a checkpoint with one validator's vote (the body of a checkpoint-vote request).
//!
//! - decoding is strict and the JSON form round-trips;
//! - `LedgerCertificate::verify` accepts only what an independent count also accepts: this
//!   chain's id, distinct genesis validators, no more signers than validators, power at least
//!   the quorum, and returns exactly that power;
//! - no certificate verifies on two chains;
//! - errors are typed.

use std::collections::BTreeSet;

use ledger::encoding::{from_canonical, to_canonical};
use ledger::proof::{CheckpointVote, LedgerCertificate, LedgerCheckpoint, MAX_CERTIFICATE_SIGNERS};
use ledger::Genesis;

use crate::fixtures;

/// Largest sync response (`node::driver::wire::MAX_SYNC_RESPONSE_BYTES`).
const MAX_SYNC_RESPONSE_BYTES: usize = 32 << 20;
/// Largest sync request (`node::driver::wire::MAX_SYNC_REQUEST_BYTES`).
const MAX_SYNC_REQUEST_BYTES: usize = 1024;

pub fn run(data: &[u8]) {
    let Some((&which, bytes)) = data.split_first() else {
        return;
    };
    match which % 3 {
        0 => {
            let Ok(cert) = from_canonical::<LedgerCertificate>(
                "ledger certificate",
                bytes,
                MAX_SYNC_RESPONSE_BYTES,
            ) else {
                return;
            };
            assert_eq!(to_canonical(&cert), bytes, "one encoding per certificate");
            check(&cert);
        }
        1 => {
            let Ok(text) = std::str::from_utf8(bytes) else {
                return;
            };
            let Ok(cert) = serde_json::from_str::<LedgerCertificate>(text) else {
                return;
            };
            let json = serde_json::to_string(&cert).expect("serialises");
            assert_eq!(
                serde_json::from_str::<LedgerCertificate>(&json).expect("own JSON parses"),
                cert
            );
            check(&cert);
        }
        _ => {
            let Ok((checkpoint, vote)) = from_canonical::<(LedgerCheckpoint, CheckpointVote)>(
                "checkpoint vote",
                bytes,
                MAX_SYNC_REQUEST_BYTES,
            ) else {
                return;
            };
            assert_eq!(to_canonical(&(&checkpoint, &vote)), bytes);
            let _ = checkpoint.hash();
            if let Err(e) = vote.verify(&checkpoint) {
                let _ = e.to_string();
            }
        }
    }
}

fn check(cert: &LedgerCertificate) {
    let on_proof_chain = verify(cert, fixtures::proof_genesis());
    let on_fuzz_chain = verify(cert, fixtures::genesis());
    assert!(
        !(on_proof_chain && on_fuzz_chain),
        "one certificate verifies on two chains"
    );
}

/// Verifies and cross-checks the verdict; returns whether it certified.
fn verify(cert: &LedgerCertificate, genesis: &Genesis) -> bool {
    match cert.verify(genesis) {
        Ok(power) => {
            assert_eq!(cert.checkpoint.chain_id, genesis.chain_id);
            assert!(cert.signatures.len() <= MAX_CERTIFICATE_SIGNERS);
            let mut seen = BTreeSet::new();
            let mut counted = 0u64;
            for v in &cert.signatures {
                let i = genesis
                    .validator_index(&v.validator)
                    .expect("only validators sign");
                assert!(seen.insert(i), "a validator counted twice");
                v.verify(&cert.checkpoint).expect("every signature checked");
                counted += genesis.validators[i].power;
            }
            assert_eq!(power, counted);
            assert!(power >= genesis.quorum_power());
            true
        }
        Err(e) => {
            let _ = e.to_string();
            false
        }
    }
}
