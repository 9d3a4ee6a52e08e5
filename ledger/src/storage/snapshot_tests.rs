//! State sync between two real stores: a store synced from a certified height of another goes
//! on exactly like it (same checkpoints at every later height), opens and audits from its base,
//! proves what it holds and says plainly what it does not.

use super::audit_tests::{certify_all, genesis, ledger};
use super::*;
use crate::execute::execute_block;
use crate::genesis::Genesis;
use crate::merkle::Blake3Hasher;
use crate::state_sync::{
    BaseError, ChunkFault, StateChunk, StateEntry, StateSync, SyncStep, VerifiedBase,
};

const CHAIN: &str = "audit-test";

/// Walks `root` in `dst`'s staging area, every chunk served by `src`.
fn sync_state(src: &Store, dst: &Store, root: Hash) {
    dst.begin_state_sync().unwrap();
    let mut walk = StateSync::new(root);
    for _ in 0..100_000 {
        let Some(request) = walk.next_request() else {
            break;
        };
        let chunk = src.state_chunk(&request.node).unwrap();
        match walk.on_chunk(&request.node, chunk).unwrap() {
            SyncStep::Entries(entries) => dst.stage_state(&entries).unwrap(),
            SyncStep::Split => {}
            SyncStep::Unavailable => panic!("the source holds its whole tree"),
        }
    }
    assert!(walk.is_complete());
}

fn base_of(src: &Store, g: &Genesis, height: u64) -> VerifiedBase {
    let base = src.snapshot_base(height).unwrap().expect("certified");
    base.certificate.verify(g).unwrap();
    base.verify().unwrap()
}

/// The source's blocks after the base, executed and committed on `dst`.
fn replay(src: &Store, dst: &Store, from: u64, to: u64) {
    for h in from..=to {
        let stored = src.block_by_height(h).unwrap().unwrap();
        let execution = execute_block(CHAIN, &stored.block.txs, dst).unwrap();
        let receipts = execution.receipts(&stored.block, dst.accumulator_size());
        dst.commit_executed(
            &stored.block,
            &stored.certificate,
            &receipts,
            &execution,
            Durability::Synced,
        )
        .unwrap();
        assert_eq!(
            dst.ledger_checkpoint(h).unwrap(),
            src.ledger_checkpoint(h).unwrap(),
            "height {h}"
        );
    }
}

#[test]
fn a_store_synced_from_a_certified_height_goes_on_exactly_like_its_source() {
    let g = genesis();
    let src_dir = tempfile::tempdir().unwrap();
    let src = Store::open(src_dir.path()).unwrap();
    ledger(&src, &g, 12);
    certify_all(&src, &g);

    let dst_dir = tempfile::tempdir().unwrap();
    let base = base_of(&src, &g, 7);
    {
        let dst = Store::open(dst_dir.path()).unwrap();
        sync_state(&src, &dst, base.certificate.checkpoint.state_root);
        let info = dst.install_snapshot(g.hash(), &base, &[]).unwrap();
        assert_eq!(info.height, 7);
        assert_eq!(
            dst.ledger_checkpoint(7).unwrap(),
            src.ledger_checkpoint(7).unwrap()
        );
        assert_eq!(dst.base_height(), Some(7));
        assert!(matches!(
            dst.begin_state_sync(),
            Err(StoreError::NotEmpty { head: 7 })
        ));
        replay(&src, &dst, 8, 12);
    }

    // It opens from its marker, and a full check walks from its base.
    let dst = Store::open(dst_dir.path()).unwrap();
    assert_eq!(dst.head(), src.head());
    let full = dst.verify_chain_with(VerifyMode::Full).unwrap();
    assert_eq!(full.from_height, 8);
    assert_eq!(
        full.accumulator_root,
        src.verify_chain().unwrap().accumulator_root
    );

    // What it holds it proves, against the source's roots.
    let base_size = base.block.accumulator_size_after;
    let size = dst.accumulator_size();
    let root = src.accumulator_root_at(size).unwrap();
    for index in base_size..size {
        let proof = dst.inclusion_proof(index, size).unwrap();
        assert_eq!(proof, src.inclusion_proof(index, size).unwrap());
        proof
            .verify(&Blake3Hasher, &proof_leaf(&src, index), &root)
            .unwrap();
    }
    let consistency = dst.consistency_proof(base_size, size).unwrap();
    assert_eq!(consistency, src.consistency_proof(base_size, size).unwrap());
    assert_eq!(
        dst.state_proof(b"seq/", None).unwrap(),
        src.state_proof(b"seq/", None).unwrap()
    );
    // What it does not hold, it says so.
    assert!(matches!(
        dst.inclusion_proof(0, size),
        Err(StoreError::LedgerIndexBeforeBase {
            ledger_index: 0,
            base: 7,
            ..
        })
    ));
    assert!(matches!(
        dst.consistency_proof(1, size),
        Err(StoreError::LedgerIndexBeforeBase { .. })
    ));
    assert_eq!(dst.block_by_height(3).unwrap(), None);
    assert!(matches!(
        dst.item_history_proof("i3"),
        Err(StoreError::HistoryBeforeBase {
            certified: 2,
            held: 0,
            base: 7,
            ..
        })
    ));
    // And it serves its state to the next node that syncs.
    let third_dir = tempfile::tempdir().unwrap();
    let third = Store::open(third_dir.path()).unwrap();
    let head_root = dst.state_root();
    sync_state(&dst, &third, head_root);
}

fn proof_leaf(store: &Store, index: u64) -> Hash {
    let receipt = store.receipt(index).unwrap().unwrap();
    crate::accumulator::tx_leaf_hash(&crate::receipt::TxLeaf {
        tx_hash: receipt.tx_hash,
        receipt_hash: receipt.hash(),
    })
}

/// Staged state that is not the certified one never becomes the store's: installing refuses
/// it, and starting over forgets it.
#[test]
fn staged_state_that_is_not_certified_is_refused_and_forgotten() {
    let g = genesis();
    let src_dir = tempfile::tempdir().unwrap();
    let src = Store::open(src_dir.path()).unwrap();
    ledger(&src, &g, 5);
    certify_all(&src, &g);
    let base = base_of(&src, &g, 5);

    let dst_dir = tempfile::tempdir().unwrap();
    let dst = Store::open(dst_dir.path()).unwrap();
    sync_state(&src, &dst, base.certificate.checkpoint.state_root);
    dst.stage_state(&[StateEntry {
        key: b"item/forged".to_vec(),
        value: b"{}".to_vec(),
    }])
    .unwrap();
    assert!(matches!(
        dst.install_snapshot(g.hash(), &base, &[]),
        Err(StoreError::SnapshotStateRoot { height: 5, .. })
    ));
    assert_eq!(dst.head(), None);
    sync_state(&src, &dst, base.certificate.checkpoint.state_root);
    dst.install_snapshot(g.hash(), &base, &[]).unwrap();
    assert_eq!(dst.state_root(), base.certificate.checkpoint.state_root);
}

/// A base whose block or frontier is not the certificate's is the sender's fault.
#[test]
fn a_base_that_is_not_the_certified_one_is_refused() {
    let g = genesis();
    let dir = tempfile::tempdir().unwrap();
    let src = Store::open(dir.path()).unwrap();
    ledger(&src, &g, 6);
    certify_all(&src, &g);
    let good = src.snapshot_base(4).unwrap().unwrap();

    let mut other_block = good.clone();
    other_block.block = src.block_by_height(5).unwrap().unwrap();
    assert!(matches!(
        other_block.verify(),
        Err(BaseError::WrongHeight {
            certified: 4,
            found: 5
        })
    ));
    let mut altered = good.clone();
    altered.block.block.header.timestamp_ms += 1;
    assert!(matches!(
        altered.verify(),
        Err(BaseError::WrongBlock { .. })
    ));
    let mut frontier = good.clone();
    frontier.frontier.hashes[0] = Hash::blake3(b"forged");
    assert!(matches!(frontier.verify(), Err(BaseError::Frontier(_))));
    let mut resized = good.clone();
    resized.frontier = crate::accumulator::Frontier::read(&src, 3).unwrap();
    assert!(matches!(
        resized.verify(),
        Err(BaseError::FrontierSize { .. })
    ));
    assert!(good.verify().is_ok());
    assert!(src.snapshot_base(6).unwrap().is_some());
    // An uncertified height has no base to send.
    let head = src.head().unwrap().height;
    assert!(src.snapshot_base(head + 1).unwrap().is_none());
}

/// A version-6 store (before the key index) is upgraded by filling the index from its state,
/// and then serves every leaf of its current root.
#[test]
fn a_version_6_store_gets_its_key_index_and_serves_its_state() {
    let g = genesis();
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path()).unwrap();
        ledger(&store, &g, 4);
    }
    {
        let opts = rocksdb::Options::default();
        let mut db = rocksdb::DB::open_cf(&opts, dir.path(), schema::COLUMN_FAMILIES).unwrap();
        db.drop_cf(schema::CF_STATE_KEYS).unwrap();
        super::tests::version_7_accumulator_keys(&db);
        let meta = db.cf_handle(schema::CF_META).unwrap();
        db.put_cf(meta, schema::META_SCHEMA_VERSION, 6u32.to_be_bytes())
            .unwrap();
    }
    let store = Store::open(dir.path()).unwrap();
    let other = tempfile::tempdir().unwrap();
    let dst = Store::open(other.path()).unwrap();
    sync_state(&store, &dst, store.state_root());
}

/// A tampered chunk from a real store is caught by the walk, not by the store.
#[test]
fn a_chunk_altered_on_the_way_is_the_senders_fault() {
    let g = genesis();
    let dir = tempfile::tempdir().unwrap();
    let src = Store::open(dir.path()).unwrap();
    ledger(&src, &g, 3);
    let mut walk = StateSync::new(src.state_root());
    let node = walk.next_request().unwrap().node;
    let StateChunk::Leaves(mut entries) = src.state_chunk(&node).unwrap() else {
        panic!("a small state fits one answer");
    };
    entries[0].value.push(b' ');
    assert!(matches!(
        walk.on_chunk(&node, StateChunk::Leaves(entries)),
        Err(ChunkFault::WrongLeaves { .. })
    ));
}
