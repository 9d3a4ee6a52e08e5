//! The test vectors of `docs/PROOFS.md`, asserted byte for byte, and the example proof files in
//! `docs/proofs/` kept equal to what the code builds.
//!
//! Every vector in the document is a line `name = <hex or number>` inside a code block; this test
//! computes every one of them and fails if the document lacks one, has one the code does not
//! compute, or disagrees on a single byte. To print the lines after a deliberate change of
//! format: `PROOF_VECTORS_PRINT=1 cargo test --workspace --test proof_vectors -- --nocapture`.

mod proof_support;

use std::collections::BTreeMap;

use proof_support::*;
use waybill_ledger::accumulator::{tx_leaf_hash, MemoryAccumulator};
use waybill_ledger::block::BlockHeader;
use waybill_ledger::encoding::{signing_bytes, to_canonical};
use waybill_ledger::hash::Hash;
use waybill_ledger::merkle::{tx_root, Blake3Hasher, TreeHasher};
use waybill_ledger::proof::{CheckpointVote, LedgerCheckpoint, Proof};
use waybill_ledger::receipt::{ExecStatus, Receipt, TxLeaf};
use waybill_ledger::smt::{
    get_with_proof, internal_hash, key_hash, leaf_hash, value_hash, MemoryNodeStore, EMPTY,
};
use waybill_ledger::supply::state::item_key;
use waybill_ledger::supply::{HistoryHead, HistoryLink};

fn h(b: u8) -> Hash {
    Hash([b; 32])
}

fn vectors() -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = vec![];
    let mut put = |name: &str, value: String| v.push((name.to_string(), value));

    // Keys.
    let k0 = validator_key(0);
    put("validator0.secret", hex::encode(k0.secret_bytes()));
    put("validator0.public", k0.public().to_hex());

    // Checkpoint and its signature.
    let cp = LedgerCheckpoint {
        chain_id: "example-chain".into(),
        height: 7,
        block_hash: h(0x11),
        state_root: h(0x22),
        accumulator_root: h(0x33),
        accumulator_size: 42,
    };
    put("checkpoint.signing_bytes", hex::encode(signing_bytes(&cp)));
    put("checkpoint.hash", cp.hash().to_hex());
    let vote = CheckpointVote::sign(&k0, &cp);
    put(
        "checkpoint.signature_by_validator0",
        hex::encode(vote.signature.0),
    );

    // Receipts.
    let ok = Receipt {
        tx_hash: h(0x44),
        height: 7,
        index_in_block: 2,
        ledger_index: 41,
        status: ExecStatus::Success,
    };
    put(
        "receipt_success.signing_bytes",
        hex::encode(signing_bytes(&ok)),
    );
    put("receipt_success.hash", ok.hash().to_hex());
    let failed = Receipt {
        status: ExecStatus::Failed {
            code: "not_custodian".into(),
            message: "no".into(),
        },
        ..ok.clone()
    };
    put(
        "receipt_failed.signing_bytes",
        hex::encode(signing_bytes(&failed)),
    );
    put("receipt_failed.hash", failed.hash().to_hex());

    // A block header, its transaction root and its hash.
    let block_txs = [h(0x44), h(0x55), h(0x66)];
    put("block.tx_root_empty", tx_root(&[]).to_hex());
    put("block.tx_root_one", tx_root(&block_txs[..1]).to_hex());
    put("block.tx_root_three", tx_root(&block_txs).to_hex());
    let header = BlockHeader {
        chain_id: "example-chain".into(),
        height: 7,
        round: 9,
        parent: h(0x11),
        tx_root: tx_root(&block_txs),
        proposer: k0.public(),
        timestamp_ms: 1_700_000_000_000,
        justify: vec![0xab, 0xcd],
    };
    put("block.header_bytes", hex::encode(to_canonical(&header)));
    put("block.signing_bytes", hex::encode(signing_bytes(&header)));
    put("block.hash", header.hash().to_hex());

    // Transaction leaf.
    let leaf = TxLeaf {
        tx_hash: h(0x44),
        receipt_hash: ok.hash(),
    };
    put("tx_leaf.data", hex::encode(leaf.leaf_data()));
    put("tx_leaf.hash", tx_leaf_hash(&leaf).to_hex());

    // Accumulator of three leaves with data 00, 01, 02.
    let leaves: Vec<Hash> = (0u8..3).map(|i| Blake3Hasher.hash_leaf(&[i])).collect();
    for (i, l) in leaves.iter().enumerate() {
        put(&format!("acc.leaf{i}"), l.to_hex());
    }
    let mut acc = MemoryAccumulator::new(Blake3Hasher);
    acc.extend(&leaves).unwrap();
    put(
        "acc.node01",
        Blake3Hasher.hash_children(&leaves[0], &leaves[1]).to_hex(),
    );
    put("acc.root2", acc.root_at(2).unwrap().to_hex());
    put("acc.root3", acc.root_at(3).unwrap().to_hex());
    put("acc.empty_root", Blake3Hasher.empty_root().to_hex());
    let incl = acc.prove_inclusion(0, 3).unwrap();
    put("acc.inclusion_0_of_3", join(&incl.path));
    let incl = acc.prove_inclusion(2, 3).unwrap();
    put("acc.inclusion_2_of_3", join(&incl.path));
    let cons = acc.prove_consistency(2, 3).unwrap();
    put("acc.consistency_2_to_3", join(&cons.path));
    let cons = acc.prove_consistency(1, 3).unwrap();
    put("acc.consistency_1_to_3", join(&cons.path));

    // Sparse Merkle tree.
    let key_a = item_key("pallet-1");
    put("smt.key_a", hex::encode(&key_a));
    put("smt.key_hash_a", key_hash(&key_a).to_hex());
    put("smt.value_hash_a", value_hash(b"A").to_hex());
    put(
        "smt.leaf_hash_a",
        leaf_hash(&key_hash(&key_a), &value_hash(b"A")).to_hex(),
    );
    put(
        "smt.internal_empty_empty",
        internal_hash(&EMPTY, &EMPTY).to_hex(),
    );
    let mut smt = MemoryNodeStore::new();
    let changes: BTreeMap<Vec<u8>, Option<Vec<u8>>> = [
        (item_key("pallet-1"), Some(b"A".to_vec())),
        (item_key("crate-9"), Some(b"B".to_vec())),
        (item_key("box-3"), Some(b"C".to_vec())),
    ]
    .into_iter()
    .collect();
    let root = smt.apply(EMPTY, &changes).unwrap();
    put("smt.key_hash_b", key_hash(&item_key("crate-9")).to_hex());
    put("smt.key_hash_c", key_hash(&item_key("box-3")).to_hex());
    put("smt.root_abc", root.to_hex());
    let (_, proof) = get_with_proof(&smt, root, &key_a).unwrap();
    put("smt.presence_a.siblings", join(&proof.siblings));
    let absent = item_key("missing-7");
    put("smt.key_hash_missing", key_hash(&absent).to_hex());
    let (_, proof) = get_with_proof(&smt, root, &absent).unwrap();
    put("smt.absence_missing.siblings", join(&proof.siblings));
    put(
        "smt.absence_missing.leaf_key_hash",
        proof
            .leaf
            .map(|l| l.key_hash.to_hex())
            .unwrap_or_else(|| "none".into()),
    );

    // An item's history chain: two events, transactions 44…44 then 55…55.
    let link = HistoryLink {
        previous: HistoryHead::EMPTY.digest,
        tx_hash: h(0x44),
    };
    put(
        "history.link1.signing_bytes",
        hex::encode(signing_bytes(&link)),
    );
    let one = HistoryHead::EMPTY.then(&h(0x44)).unwrap();
    put("history.digest1", one.digest.to_hex());
    let two = one.then(&h(0x55)).unwrap();
    put("history.digest2", two.digest.to_hex());

    // The example ledger's certified head, and pallet-1's state value there.
    let ex = example();
    put(
        "example.pallet_1_value",
        hex::encode(ex.value_at_head("pallet-1").unwrap()),
    );
    let head = ex.head_certificate().checkpoint;
    put("example.accumulator_root", head.accumulator_root.to_hex());
    put("example.state_root", head.state_root.to_hex());
    v
}

fn join(hashes: &[Hash]) -> String {
    if hashes.is_empty() {
        return "none".into();
    }
    hashes
        .iter()
        .map(Hash::to_hex)
        .collect::<Vec<_>>()
        .join(" ")
}

/// `name = value` lines of the document's code blocks whose name has a dot (the vectors).
fn doc_vectors(doc: &str) -> BTreeMap<String, String> {
    let mut in_code = false;
    let mut out = BTreeMap::new();
    for line in doc.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if !in_code {
            continue;
        }
        if let Some((name, value)) = line.split_once(" = ") {
            let name = name.trim();
            if name.contains('.') && !name.contains(' ') && !name.contains('(') {
                out.insert(name.to_string(), value.trim().to_string());
            }
        }
    }
    out
}

const DOC: &str = include_str!("../../docs/PROOFS.md");

#[test]
fn every_vector_in_the_document_is_what_the_code_computes() {
    let computed = vectors();
    if std::env::var_os("PROOF_VECTORS_PRINT").is_some() {
        for (n, v) in &computed {
            println!("{n} = {v}");
        }
    }
    let doc = doc_vectors(DOC);
    for (name, value) in &computed {
        assert_eq!(
            doc.get(name),
            Some(value),
            "vector {name} in docs/PROOFS.md"
        );
    }
    let names: Vec<&String> = computed.iter().map(|(n, _)| n).collect();
    // `qc.` vectors are consensus's: consensus/tests/qc_vectors.rs computes them; `epoch.`
    // vectors are tests/epoch_proofs.rs's.
    for name in doc
        .keys()
        .filter(|n| !n.starts_with("qc.") && !n.starts_with("epoch."))
    {
        assert!(
            names.contains(&name),
            "docs/PROOFS.md has vector {name} the test does not compute"
        );
    }
}

/// The example proof files an independent verifier can be run against.
fn example_files() -> Vec<(&'static str, Proof)> {
    let ex = example();
    vec![
        (
            "docs/proofs/transaction.json",
            Proof::Transaction(ex.transaction_proof(4)),
        ),
        (
            "docs/proofs/item-state.json",
            Proof::ItemState(ex.state_proof("pallet-1")),
        ),
        (
            "docs/proofs/item-absent.json",
            Proof::ItemState(ex.state_proof("missing-7")),
        ),
        (
            "docs/proofs/history.json",
            Proof::History(ex.history_proof()),
        ),
        (
            "docs/proofs/history-absent.json",
            Proof::History(ex.history_proof_of("missing-7")),
        ),
        (
            "docs/proofs/consistency.json",
            Proof::Consistency(ex.consistency_proof(3)),
        ),
    ]
}

#[test]
fn example_proof_files_are_what_the_code_builds_and_verify() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../");
    let g = genesis();
    let genesis_file = std::fs::read_to_string(format!("{root}docs/proofs/genesis.toml"));
    let write = std::env::var_os("PROOF_EXAMPLES_WRITE").is_some();
    if write {
        std::fs::create_dir_all(format!("{root}docs/proofs")).unwrap();
        std::fs::write(format!("{root}docs/proofs/genesis.toml"), g.to_toml()).unwrap();
    } else {
        assert_eq!(
            waybill_ledger::Genesis::from_toml(&genesis_file.expect("docs/proofs/genesis.toml"))
                .unwrap(),
            g
        );
    }
    for (path, proof) in example_files() {
        assert!(proof.verify(&g).is_ok(), "{path}");
        let json = proof.to_json() + "\n";
        let file = format!("{root}{path}");
        if write {
            std::fs::write(&file, &json).unwrap();
        } else {
            let on_disk = std::fs::read_to_string(&file).unwrap_or_default();
            assert_eq!(on_disk, json, "{path} differs from what the code builds");
        }
    }
    let _ = to_canonical(&0u8);
}

/// PROOFS.md's limits table states the limits the code enforces, row by row.
#[test]
fn limits_table() {
    let table: BTreeMap<String, u64> = DOC
        .split_once("### Limits")
        .expect("PROOFS.md has ### Limits")
        .1
        .lines()
        .skip_while(|l| !l.starts_with("| "))
        .take_while(|l| l.starts_with('|'))
        .filter_map(|l| {
            let (name, value) = l.trim_matches('|').rsplit_once(" | ")?;
            Some((name.trim().to_string(), value.trim().parse().ok()?))
        })
        .collect();
    let expected: &[(&str, usize)] = &[
        (
            "proof file, bytes",
            waybill_ledger::proof::MAX_PROOF_JSON_BYTES,
        ),
        (
            "nesting of arrays and objects",
            waybill_ledger::strict_json::MAX_DEPTH,
        ),
        (
            "signatures in a certificate",
            waybill_ledger::proof::MAX_CERTIFICATE_SIGNERS,
        ),
        (
            "object in a `{bytes, view}`",
            waybill_ledger::proof::attested::MAX_ATTESTED_BYTES,
        ),
        (
            "hashes in an inclusion or consistency path",
            waybill_ledger::accumulator::MAX_PROOF_NODES,
        ),
        ("siblings in a state proof", waybill_ledger::smt::MAX_DEPTH),
        (
            "entries in a history proof",
            waybill_ledger::proof::MAX_HISTORY_ENTRIES,
        ),
        (
            "transactions in a block",
            waybill_ledger::block::MAX_BLOCK_TXS,
        ),
        (
            "block, canonical bytes",
            waybill_ledger::block::MAX_BLOCK_BYTES,
        ),
        (
            "`justify` of a block header",
            waybill_ledger::block::MAX_JUSTIFY_BYTES,
        ),
    ];
    assert_eq!(table.len(), expected.len(), "rows: {table:?}");
    for (start, limit) in expected {
        let rows: Vec<_> = table.iter().filter(|(k, _)| k.starts_with(start)).collect();
        assert_eq!(rows.len(), 1, "one row starting {start}: {table:?}");
        assert_eq!(*rows[0].1, *limit as u64, "row {start}");
    }
}
