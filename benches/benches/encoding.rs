//! Canonical (BCS) encoding of a signed transaction: every transaction is encoded, decoded and
//! hashed several times on its way through a validator (RPC, gossip, proposal, storage), so these
//! are per-transaction costs paid next to its signature check.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ledger::SignedTransaction;
use waybill_benches::{accounts, memo, MEASUREMENT, SAMPLES, WARM_UP};

fn encoding(c: &mut Criterion) {
    let mut g = c.benchmark_group("encoding");
    g.throughput(Throughput::Elements(1));
    let key = &accounts()[0];
    let stx = memo(key, 0, 0).sign(key);
    let bytes = stx.to_bytes();

    g.bench_function("tx_encode", |b| b.iter(|| black_box(&stx).to_bytes()));
    // Decoding from bytes, as gossip and RPC intake do (limits checked, hash not yet asked).
    g.bench_function("tx_decode", |b| {
        b.iter(|| SignedTransaction::from_bytes(black_box(&bytes)).unwrap())
    });
    // Decoding and then asking its hash, which every intake does at once (mempool key).
    g.bench_function("tx_decode_and_hash", |b| {
        b.iter(|| {
            SignedTransaction::from_bytes(black_box(&bytes))
                .unwrap()
                .hash()
        })
    });
    // The hash of a transaction not decoded from bytes (a proposal's, decoded by serde).
    g.bench_function("tx_hash_unmemoized", |b| {
        b.iter(|| black_box(&stx.tx).hash())
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .measurement_time(MEASUREMENT)
        .warm_up_time(WARM_UP)
        .sample_size(SAMPLES);
    targets = encoding
}
criterion_main!(benches);
