//! The auditor's ratchet (`proof::epochs`): a proof signed by a validator set genesis never
//! named verifies from the genesis file and the chain of epoch changes alone; every way of
//! breaking the chain fails with its own error; a proof that pretends a removed validator still
//! counts fails. Also the `epoch.` vectors of docs/PROOFS.md ("Epochs"): to print them after a
//! deliberate change, `PROOF_VECTORS_PRINT=1 cargo test --workspace --test epoch_proofs -- --nocapture`.

mod proof_support;

use std::collections::BTreeMap;

use proof_support::*;
use waybill_ledger::encoding::to_canonical;
use waybill_ledger::genesis::{peer_id_of, Genesis, Validator};
use waybill_ledger::governance::{EpochSet, VALIDATORS_KEY};
use waybill_ledger::proof::{
    follow, CertificateError, EpochChange, EpochError, ItemStateProof, Proof, ProofFile,
};
use waybill_ledger::receipt::ExecStatus;
use waybill_ledger::smt::{get_with_proof, key_hash, value_hash};
use waybill_ledger::supply::state::item_key;

const DOC: &str = include_str!("../../docs/PROOFS.md");

fn validator(i: u8) -> Validator {
    Validator {
        name: format!("v{i}"),
        consensus_key: validator_key(i).public(),
        peer_id: peer_id_of(&validator_key(i + 10).public().0),
        power: 1,
    }
}

/// Epoch 1: validator 0 removed, validator 4 added.
fn epoch1() -> EpochSet {
    EpochSet {
        epoch: 1,
        validators: (1..5).map(validator).collect(),
    }
}

/// Epoch 2: validator 2's power raised to 3.
fn epoch2() -> EpochSet {
    let mut set = epoch1();
    set.epoch = 2;
    set.validators[1].power = 3;
    set
}

/// A ledger where height 2 ends epoch 0 (epoch 1 from height 3) and height 4 ends epoch 1; an
/// item is commissioned at height 5.
struct World {
    ledger: Ledger,
    genesis: Genesis,
}

impl World {
    fn new() -> World {
        let mut ledger = Ledger::new();
        let set0 = EpochSet::genesis(&genesis());
        ledger.block(
            vec![],
            vec![(VALIDATORS_KEY.to_vec(), Some(to_canonical(&set0)))],
        );
        ledger.block(
            vec![],
            vec![(VALIDATORS_KEY.to_vec(), Some(to_canonical(&epoch1())))],
        );
        ledger.block(vec![], vec![]);
        ledger.block(
            vec![],
            vec![(VALIDATORS_KEY.to_vec(), Some(to_canonical(&epoch2())))],
        );
        let tx = ledger.tx(commission("pallet-1"));
        let value = item_value(&item("pallet-1", "acme"), &[&tx]);
        ledger.block(
            vec![(tx, ExecStatus::Success)],
            vec![(item_key("pallet-1"), Some(value))],
        );
        World {
            ledger,
            genesis: genesis(),
        }
    }

    /// The change ending at `height`, certified by `signers`.
    fn change(&self, height: u64, signers: &[u8]) -> EpochChange {
        let cert = self.ledger.certificate(height, signers);
        let (value, smt_proof) =
            get_with_proof(&self.ledger.smt, cert.checkpoint.state_root, VALIDATORS_KEY).unwrap();
        assert!(value.is_some());
        let next = match height {
            2 => epoch1(),
            4 => epoch2(),
            _ => unreachable!(),
        };
        EpochChange {
            certificate: cert,
            next,
            smt_proof,
        }
    }

    fn chain(&self) -> Vec<EpochChange> {
        // Epoch 0 (validators 0..4) signs height 2; epoch 1 (1..5) signs height 4.
        vec![self.change(2, &[0, 1, 2]), self.change(4, &[1, 2, 4])]
    }

    /// The item's state proof at height 5, signed by `signers`.
    fn item_proof(&self, signers: &[u8]) -> Proof {
        let cert = self.ledger.certificate(5, signers);
        let (_, smt_proof) = get_with_proof(
            &self.ledger.smt,
            cert.checkpoint.state_root,
            &item_key("pallet-1"),
        )
        .unwrap();
        Proof::ItemState(ItemStateProof {
            certificate: cert,
            item_id: "pallet-1".into(),
            value: self.ledger.values.get(&item_key("pallet-1")).cloned(),
            smt_proof,
        })
    }
}

#[test]
fn a_proof_of_a_later_epoch_verifies_from_genesis_and_the_chain() {
    let w = World::new();
    // Epoch 2: validators 1 (1), 2 (3), 3 (1), 4 (1): total 6, quorum 5. Validators 2, 3 and 4.
    let file = ProofFile {
        proof: w.item_proof(&[2, 3, 4]),
        epoch_changes: w.chain(),
    };
    let report = file.verify(&w.genesis);
    assert!(report.is_ok(), "{report:#?}");
    // Through JSON and back, as `waybill audit` writes and reads it.
    let back = ProofFile::from_json(&file.to_json()).unwrap();
    assert_eq!(back, file);
    assert!(back.verify(&w.genesis).is_ok());
    // Without the chain the genesis set does not know validator 4.
    let alone = file.proof.verify(&w.genesis);
    assert!(!alone.is_ok());
    // A file without epoch changes is the plain proof, and reads as before.
    let plain = ProofFile {
        proof: file.proof.clone(),
        epoch_changes: vec![],
    };
    assert_eq!(Proof::from_json(&plain.to_json()).unwrap(), plain.proof);
}

#[test]
fn a_proof_that_counts_a_removed_validator_fails() {
    let w = World::new();
    // Validator 0 left in epoch 1: with it, 1 and 3 the signers hold power 2 of epoch 2's 6.
    let file = ProofFile {
        proof: w.item_proof(&[0, 1, 3]),
        epoch_changes: w.chain(),
    };
    let report = file.verify(&w.genesis);
    let failed: Vec<_> = report.failures().map(|c| c.name.as_str()).collect();
    assert_eq!(failed, vec!["certificate"], "{report:#?}");
    // And the genesis set's quorum alone cannot sign for epoch 2, though it could for epoch 0.
    let file = ProofFile {
        proof: w.item_proof(&[0, 1, 2]),
        epoch_changes: w.chain(),
    };
    assert!(!file.verify(&w.genesis).is_ok());
}

#[test]
fn every_broken_chain_fails_with_its_reason() {
    let w = World::new();
    let g = &w.genesis;
    assert_eq!(follow(g, &w.chain()).unwrap().epochs.len(), 3);

    // Signed by the wrong set: epoch 1's change signed with the removed validator 0.
    let mut chain = w.chain();
    chain[1] = w.change(4, &[0, 1, 3]);
    assert!(matches!(
        follow(g, &chain),
        Err(EpochError::Certificate {
            index: 1,
            epoch: 1,
            source: CertificateError::NotAValidator { .. }
        })
    ));

    // A set the state does not hold.
    let mut chain = w.chain();
    chain[0].next.validators.push(validator(9));
    assert!(matches!(
        follow(g, &chain),
        Err(EpochError::State { index: 0, .. })
    ));

    // Skipping an epoch, or repeating one.
    let chain = vec![w.change(4, &[1, 2, 3])];
    assert!(matches!(
        follow(g, &chain),
        Err(EpochError::WrongEpoch {
            index: 0,
            expected: 1,
            found: 2
        })
    ));
    let mut chain = w.chain();
    chain.swap(0, 1);
    assert!(follow(g, &chain).is_err());

    // Heights that go back.
    let mut chain = w.chain();
    let mut early = w.change(2, &[1, 2, 4]);
    early.next = epoch2();
    chain[1] = early;
    assert!(matches!(
        follow(g, &chain),
        Err(EpochError::HeightsOutOfOrder { index: 1, .. })
    ));

    // A broken chain fails the proof file, under the check `epoch_changes`.
    let mut chain = w.chain();
    chain[1] = w.change(4, &[0, 1, 3]);
    let report = ProofFile {
        proof: w.item_proof(&[2, 3, 4]),
        epoch_changes: chain,
    }
    .verify(g);
    assert!(report.failures().any(|c| c.name == "epoch_changes"));
}

/// `name = value` lines inside the page's code blocks.
fn doc_vectors() -> BTreeMap<String, String> {
    let mut in_code = false;
    let mut out = BTreeMap::new();
    for line in DOC.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
        } else if let (true, Some((name, value))) = (in_code, line.split_once(" = ")) {
            out.insert(name.trim().to_string(), value.trim().to_string());
        }
    }
    out
}

#[test]
fn epoch_vectors() {
    let w = World::new();
    let change = &w.chain()[0];
    let computed = [
        (
            "epoch.validators_key_hash",
            key_hash(VALIDATORS_KEY).to_hex(),
        ),
        ("epoch.set1_bytes", hex::encode(to_canonical(&epoch1()))),
        (
            "epoch.set1_value_hash",
            value_hash(&to_canonical(&epoch1())).to_hex(),
        ),
        (
            "epoch.change0_state_root",
            change.certificate.checkpoint.state_root.to_hex(),
        ),
        (
            "epoch.change0_smt_proof",
            hex::encode(change.smt_proof.to_bytes()),
        ),
    ];
    if std::env::var_os("PROOF_VECTORS_PRINT").is_some() {
        for (name, value) in &computed {
            println!("{name} = {value}");
        }
    }
    let doc = doc_vectors();
    for (name, value) in &computed {
        assert_eq!(
            doc.get(*name),
            Some(value),
            "vector {name} in docs/PROOFS.md"
        );
    }
    let in_doc = doc.keys().filter(|n| n.starts_with("epoch.")).count();
    assert_eq!(
        in_doc,
        computed.len(),
        "PROOFS.md has epoch. vectors this test does not compute"
    );
}
