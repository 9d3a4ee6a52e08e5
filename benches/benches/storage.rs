//! Committing a block to RocksDB exactly as the node does after consensus commits it: the block,
//! its certificate, indexes, receipts, new accumulator nodes and state changes in one `WriteBatch`
//! written with fsync. The store lives in a temporary directory on the machine's disk (not a
//! tmpfs), so every commit pays a real fsync. Blocks are built, signed and executed beforehand;
//! only `commit_block_with_state` is timed.

use std::cell::RefCell;

use criterion::{
    criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, SamplingMode, Throughput,
};
use waybill_benches::{StoreChain, MEASUREMENT, SAMPLES, WARM_UP};

fn commit(c: &mut Criterion) {
    let mut g = c.benchmark_group("storage");
    // Each commit takes milliseconds: flat sampling keeps the iteration count near the minimum.
    g.sampling_mode(SamplingMode::Flat);
    for n in [1usize, 500] {
        let dir = tempfile::Builder::new()
            .prefix("waybill-bench-store")
            .tempdir()
            .expect("temporary directory");
        let mut chain = StoreChain::open(dir.path()).expect("open the bench store");
        // Start from a ledger that already holds some history.
        for _ in 0..20 {
            let p = chain.prepare(500).expect("execute");
            chain.commit(&p).expect("commit");
        }
        let chain = RefCell::new(chain);
        g.throughput(Throughput::Elements(n as u64));
        g.bench_function(BenchmarkId::new("commit_block", n), |b| {
            // One block per iteration, built on the head the previous iteration committed.
            b.iter_batched(
                || chain.borrow_mut().prepare(n).expect("execute"),
                |p| chain.borrow().commit(&p).expect("commit"),
                BatchSize::PerIteration,
            )
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .measurement_time(MEASUREMENT)
        .warm_up_time(WARM_UP)
        .sample_size(SAMPLES);
    targets = commit
}
criterion_main!(benches);
