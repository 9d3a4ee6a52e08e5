//! Signatures: signing a transaction, verifying one, and verifying a block's worth in a batch
//! (the node verifies every transaction once, in batches of up to 512 at its gossip intake).

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use ledger::crypto::verify_batch;
use ledger::tx::verify_transactions;
use ledger::{PublicKey, Signature, Transaction};
use waybill_benches::{accounts, memo, sample_txs, CHAIN_ID, MEASUREMENT, SAMPLES, WARM_UP};

fn sign_and_verify(c: &mut Criterion) {
    let mut g = c.benchmark_group("crypto");
    g.throughput(Throughput::Elements(1));
    let key = &accounts()[0];
    let tx = memo(key, 0, 0);
    g.bench_function("sign", |b| b.iter(|| key.sign(black_box(&tx))));

    let stx = tx.clone().sign(key);
    // The signature alone (strict ed25519 over the canonical signing bytes)...
    g.bench_function("verify", |b| {
        b.iter(|| {
            black_box(&stx.tx.signer)
                .verify(black_box(&stx.tx), &stx.signature)
                .unwrap()
        })
    });
    // ...and everything a node checks on a submitted envelope (limits, chain id, signature).
    g.bench_function("verify_tx", |b| {
        b.iter(|| black_box(&stx).verify(CHAIN_ID).unwrap())
    });
    g.finish();
}

fn batch_verify(c: &mut Criterion) {
    let mut g = c.benchmark_group("crypto_batch");
    // 1 to 8: a client call or a gossip message at a low rate (where a batch's fixed cost could
    // exceed checking one by one); 64 and 512: loaded blocks.
    for n in [1usize, 2, 3, 4, 6, 8, 64, 512] {
        let txs = sample_txs(n);
        assert!(verify_transactions(CHAIN_ID, &txs)
            .iter()
            .all(Result::is_ok));
        g.throughput(Throughput::Elements(n as u64));
        // The raw ed25519 batch over n transactions (64 distinct signers).
        let items: Vec<(&PublicKey, &Transaction, &Signature)> = txs
            .iter()
            .map(|t| (&t.tx.signer, &t.tx, &t.signature))
            .collect();
        g.bench_with_input(BenchmarkId::new("verify_batch", n), &items, |b, items| {
            b.iter(|| verify_batch(black_box(items)).unwrap())
        });
        // What the node calls: envelope checks, then one batch (falls back to one by one only
        // when the batch fails, which it does not here).
        g.bench_with_input(
            BenchmarkId::new("verify_transactions", n),
            &txs,
            |b, txs| b.iter(|| verify_transactions(CHAIN_ID, black_box(txs))),
        );
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .measurement_time(MEASUREMENT)
        .warm_up_time(WARM_UP)
        .sample_size(SAMPLES);
    targets = sign_and_verify, batch_verify
}
criterion_main!(benches);
