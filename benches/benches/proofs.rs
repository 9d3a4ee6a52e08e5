//! Audit proofs at ledgers of 10^3, 10^4 and 10^5 transactions: verifying one transaction
//! proof, one item state proof and one consistency proof (certificate of 3 of 4 validators, the
//! Merkle path, and for a transaction its own signature), and each proof's size, which grows
//! with log n. The trees are in memory (the same builders the store runs), so this is the
//! verifier's CPU cost, the one an auditor pays; sizes are printed once per ledger size.
//!
//! Leaves other than the proven one are synthetic leaf hashes and the other state entries
//! synthetic values: verification cost depends on the path length, not on what the other
//! leaves hold.

use std::collections::BTreeMap;
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use ledger::accumulator::{tx_leaf_hash, MemoryAccumulator};
use ledger::encoding::to_canonical;
use ledger::merkle::{Blake3Hasher, TreeHasher};
use ledger::proof::{
    CheckpointVote, ItemStateProof, LedgerCertificate, LedgerCheckpoint, LedgerConsistencyProof,
    Proof, TransactionProof,
};
use ledger::receipt::{ExecStatus, Receipt, TxLeaf};
use ledger::smt::{MemoryNodeStore, EMPTY};
use ledger::supply::state::item_key;
use ledger::supply::{HistoryHead, ItemRecord, ItemState, ItemStatus};
use ledger::{Genesis, Hash};
use waybill_benches::{key, memo, CHAIN_ID, MEASUREMENT, SAMPLES, WARM_UP};

const SIZES: [u64; 3] = [1_000, 10_000, 100_000];

fn genesis() -> Genesis {
    let keys: Vec<_> = (0..4)
        .map(|i| (key(0xB0, i).public(), key(0xB1, i).public()))
        .collect();
    Genesis::of_validators(CHAIN_ID, &keys)
}

fn certify(checkpoint: LedgerCheckpoint) -> LedgerCertificate {
    LedgerCertificate {
        signatures: (0..3)
            .map(|i| CheckpointVote::sign(&key(0xB0, i), &checkpoint))
            .collect(),
        checkpoint,
    }
}

/// An item's state-tree value: its record and the head of its (here empty) history chain.
fn item_state(id: &str) -> ItemState {
    ItemState {
        record: record(id),
        history: HistoryHead::EMPTY,
    }
}

fn record(id: &str) -> ItemRecord {
    ItemRecord {
        id: id.into(),
        item_type: "pallet".into(),
        owner: "acme".into(),
        custodian: "acme".into(),
        status: ItemStatus::Active,
        properties: BTreeMap::new(),
        location: Some("dock-3".into()),
        last_observed_ms: None,
        parent: None,
        children: vec![],
        contents_count: 0,
        derived_from: vec![],
        transformed_into: vec![],
        document_count: 0,
        decommission_reason: None,
    }
}

/// A ledger of `n` transactions and `n` items; proofs of the middle transaction, of one item
/// and of consistency from n/2 to n.
fn proofs(n: u64) -> (TransactionProof, ItemStateProof, LedgerConsistencyProof) {
    let client = key(0xA0, 0);
    let proven = n / 2;
    let tx = memo(&client, proven, proven).sign(&client);
    let receipt = Receipt {
        tx_hash: tx.hash(),
        height: proven / 100 + 1,
        index_in_block: (proven % 100) as u32,
        ledger_index: proven,
        status: ExecStatus::Success,
    };
    let leaves: Vec<Hash> = (0..n)
        .map(|i| {
            if i == proven {
                tx_leaf_hash(&TxLeaf {
                    tx_hash: receipt.tx_hash,
                    receipt_hash: receipt.hash(),
                })
            } else {
                Blake3Hasher.hash_leaf(&i.to_le_bytes())
            }
        })
        .collect();
    let mut acc = MemoryAccumulator::new(Blake3Hasher);
    acc.extend(&leaves).unwrap();

    let mut smt = MemoryNodeStore::new();
    let changes: BTreeMap<Vec<u8>, Option<Vec<u8>>> = (0..n)
        .map(|i| {
            let id = format!("item-{i}");
            (item_key(&id), Some(to_canonical(&item_state(&id))))
        })
        .collect();
    let state_root = smt.apply(EMPTY, &changes).unwrap();

    let checkpoint = |height: u64, size: u64| LedgerCheckpoint {
        chain_id: CHAIN_ID.into(),
        height,
        block_hash: Hash::blake3(&height.to_le_bytes()),
        state_root,
        accumulator_root: acc.root_at(size).unwrap(),
        accumulator_size: size,
    };
    let head = certify(checkpoint(n / 100 + 1, n));
    let tx_proof = TransactionProof::build(head.clone(), tx, receipt, acc.nodes()).unwrap();
    let id = format!("item-{}", n / 3);
    let value = Some(to_canonical(&item_state(&id)));
    let state_proof = ItemStateProof::build(head.clone(), &id, value, &smt).unwrap();
    let older = certify(checkpoint(n / 200 + 1, n / 2 + 1));
    let consistency = LedgerConsistencyProof::build(older, head, acc.nodes()).unwrap();
    (tx_proof, state_proof, consistency)
}

fn json_len(p: Proof) -> usize {
    p.to_json().len()
}

fn bench(c: &mut Criterion) {
    let g = genesis();
    let mut group = c.benchmark_group("proofs");
    for n in SIZES {
        let (tx, state, cons) = proofs(n);
        for (name, ok) in [
            ("transaction", tx.verify(&g).is_ok()),
            ("item_state", state.verify(&g).is_ok()),
            ("consistency", cons.verify(&g).is_ok()),
        ] {
            assert!(ok, "{name} proof at {n} does not verify");
        }
        // Sizes: hashes on the path, and the whole proof file (certificate and transaction
        // included), in bytes of compact JSON.
        println!(
            "proof sizes at n={n}: transaction {} path hashes, {} JSON bytes; item_state {} siblings, {} JSON bytes; consistency {} hashes, {} JSON bytes",
            tx.inclusion_proof.path.len(),
            json_len(Proof::Transaction(tx.clone())),
            state.smt_proof.siblings.len(),
            json_len(Proof::ItemState(state.clone())),
            cons.consistency_proof.path.len(),
            json_len(Proof::Consistency(cons.clone())),
        );
        group.bench_with_input(BenchmarkId::new("verify_transaction", n), &tx, |b, p| {
            b.iter(|| black_box(p).verify(&g))
        });
        group.bench_with_input(BenchmarkId::new("verify_item_state", n), &state, |b, p| {
            b.iter(|| black_box(p).verify(&g))
        });
        group.bench_with_input(BenchmarkId::new("verify_consistency", n), &cons, |b, p| {
            b.iter(|| black_box(p).verify(&g))
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .measurement_time(MEASUREMENT)
        .warm_up_time(WARM_UP)
        .sample_size(SAMPLES);
    targets = bench
}
criterion_main!(benches);
