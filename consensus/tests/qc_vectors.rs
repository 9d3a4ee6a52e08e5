//! The quorum-certificate vectors (`qc.` lines) of `docs/PROOFS.md`, "Blocks and quorum
//! certificates", computed from the consensus types themselves: a verifier written from the page
//! decodes a block header's `justify` exactly as the nodes do.

use std::collections::BTreeMap;

use ledger::encoding::signing_bytes;
use ledger::{Hash, KeyPair};
use waybill_consensus::{QuorumCert, VoteData};

const DOC: &str = include_str!("../../docs/PROOFS.md");

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
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
fn quorum_certificate_vectors() {
    let doc = doc_vectors();
    let block_hash = Hash::from_hex(doc.get("block.hash").expect("PROOFS.md has block.hash"))
        .expect("block.hash is a hash");
    let validator0 = KeyPair::from_secret([1; 32]);
    let vote_data = VoteData {
        epoch: 0,
        chain: Hash([0x77; 32]),
        block_id: block_hash,
        round: 9,
        parent_id: Hash([0x11; 32]),
        parent_round: 8,
    };
    let signature = validator0.sign(&vote_data);
    let qc = QuorumCert {
        vote_data: vote_data.clone(),
        signatures: vec![(0, signature)],
    };
    let computed = [
        ("qc.vote_signing_bytes", hex(&signing_bytes(&vote_data))),
        ("qc.vote_signature_by_validator0", hex(&signature.0)),
        ("qc.bytes", hex(&qc.to_bytes())),
    ];
    if std::env::var_os("PROOF_VECTORS_PRINT").is_some() {
        for (name, value) in &computed {
            println!("{name} = {value}");
        }
    }
    for (name, value) in &computed {
        assert_eq!(
            doc.get(*name),
            Some(value),
            "vector {name} in docs/PROOFS.md"
        );
    }
    let in_doc = doc.keys().filter(|n| n.starts_with("qc.")).count();
    assert_eq!(
        in_doc,
        computed.len(),
        "PROOFS.md has qc. vectors this test does not compute"
    );
}
