//! The transaction accumulator (RFC 9162 Merkle tree over every committed transaction) at a
//! ledger of one million transactions: appending a block's leaves, the root, and building and
//! verifying inclusion and consistency proofs. Frozen nodes are in memory here (the same functions
//! the RocksDB store runs over its column family), so this is the hashing and tree-walking cost
//! without disk reads.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use ledger::accumulator::{append, MemoryAccumulator};
use ledger::merkle::{Blake3Hasher, TreeHasher};
use ledger::Hash;
use waybill_benches::{MEASUREMENT, SAMPLES, WARM_UP};

/// Leaves in the benchmark tree.
const SIZE: u64 = 1_000_000;
/// The leaf whose inclusion is proven, and the old size of the consistency proof.
const LEAF: u64 = 123_456;
const OLD_SIZE: u64 = 654_321;

fn leaf(i: u64) -> Hash {
    Blake3Hasher.hash_leaf(&i.to_le_bytes())
}

fn tree() -> MemoryAccumulator<Blake3Hasher> {
    let mut acc = MemoryAccumulator::new(Blake3Hasher);
    let leaves: Vec<Hash> = (0..SIZE).map(leaf).collect();
    acc.extend(&leaves).expect("a million leaves fit");
    acc
}

fn accumulator(c: &mut Criterion) {
    let acc = tree();
    let mut g = c.benchmark_group("accumulator");

    // Appending computes every new frozen node (the store then writes them in the block's batch).
    for n in [1u64, 500] {
        let leaves: Vec<Hash> = (SIZE..SIZE + n).map(leaf).collect();
        g.throughput(Throughput::Elements(n));
        g.bench_with_input(BenchmarkId::new("append", n), &leaves, |b, leaves| {
            b.iter(|| append(&Blake3Hasher, acc.nodes(), SIZE, black_box(leaves)).unwrap())
        });
    }

    g.throughput(Throughput::Elements(1));
    g.bench_function("root", |b| b.iter(|| acc.root_at(black_box(SIZE)).unwrap()));

    let root = acc.root().unwrap();
    g.bench_function("inclusion_build", |b| {
        b.iter(|| acc.prove_inclusion(black_box(LEAF), SIZE).unwrap())
    });
    let proof = acc.prove_inclusion(LEAF, SIZE).unwrap();
    let leaf_hash = leaf(LEAF);
    proof.verify(&Blake3Hasher, &leaf_hash, &root).unwrap();
    g.bench_function("inclusion_verify", |b| {
        b.iter(|| {
            black_box(&proof)
                .verify(&Blake3Hasher, &leaf_hash, &root)
                .unwrap()
        })
    });

    let old_root = acc.root_at(OLD_SIZE).unwrap();
    g.bench_function("consistency_build", |b| {
        b.iter(|| acc.prove_consistency(black_box(OLD_SIZE), SIZE).unwrap())
    });
    let proof = acc.prove_consistency(OLD_SIZE, SIZE).unwrap();
    proof.verify(&Blake3Hasher, &old_root, &root).unwrap();
    g.bench_function("consistency_verify", |b| {
        b.iter(|| {
            black_box(&proof)
                .verify(&Blake3Hasher, &old_root, &root)
                .unwrap()
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .measurement_time(MEASUREMENT)
        .warm_up_time(WARM_UP)
        .sample_size(SAMPLES);
    targets = accumulator
}
criterion_main!(benches);
