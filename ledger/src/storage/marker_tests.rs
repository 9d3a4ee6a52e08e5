//! The verified-up-to marker: an open checks only what came after it, never trusts a marker the
//! chain disagrees with, and leaves damage below it to the audit.

use super::audit_tests::{audit, genesis, ledger, raw_update};
use super::tests::{block, chain, receipts, tx};
use super::*;

/// The marker as the store's records give it for `height`.
fn marker_at(store: &Store, height: u64) -> VerifiedMarker {
    let stored = store.block_by_height(height).unwrap().unwrap();
    VerifiedMarker {
        height,
        block_hash: stored.block.hash(),
        accumulator_root: stored.accumulator_root_after,
    }
}

fn read_marker(dir: &std::path::Path) -> Option<VerifiedMarker> {
    read_only(dir).verified_marker().unwrap()
}

/// Opened without any check and without writing, to look at the store as it is on disk.
fn read_only(dir: &std::path::Path) -> Store {
    Store::open_with(
        dir,
        OpenOptions {
            verify: VerifyMode::Skip,
            read_only: true,
        },
    )
    .unwrap()
}

/// What the next plain open checks: blocks from `from_height`, `blocks_checked` of them.
fn since_marker(dir: &std::path::Path) -> Result<ChainSummary, StoreError> {
    read_only(dir).verify_chain_with(VerifyMode::SinceVerified)
}

/// Rewrites the marker record with raw RocksDB access: what a crash, a bad tool or another
/// store's files would leave.
fn put_marker(dir: &std::path::Path, value: &[u8]) {
    let store = Store::open_with(
        dir,
        OpenOptions {
            verify: VerifyMode::Skip,
            ..Default::default()
        },
    )
    .unwrap();
    let meta = store.cf(schema::CF_META).unwrap();
    store.db.put_cf(meta, schema::META_VERIFIED, value).unwrap();
}

fn marker_bytes(m: &VerifiedMarker) -> Vec<u8> {
    schema::marker_value(m.height, &m.block_hash, &m.accumulator_root).to_vec()
}

fn full() -> OpenOptions {
    OpenOptions {
        verify: VerifyMode::Full,
        ..Default::default()
    }
}

#[test]
fn every_commit_moves_the_marker_and_a_clean_reopen_checks_no_block() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.verified_marker().unwrap(), None, "an empty store");
    chain(&store, 5);
    let head = store.head().unwrap();
    let m = store.verified_marker().unwrap().unwrap();
    assert_eq!(m, marker_at(&store, 5));
    assert_eq!(
        (m.height, m.block_hash, m.accumulator_root),
        (
            5,
            head.hash,
            store.accumulator_root_at(store.accumulator_size()).unwrap()
        )
    );
    drop(store);

    let next = since_marker(dir.path()).unwrap();
    assert_eq!((next.from_height, next.blocks_checked), (6, 0));
    assert!(next.through_head && !next.full);
    assert_eq!(next.head, Some(head));
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.head(), Some(head));
    assert_eq!(store.verified_marker().unwrap(), Some(m));
}

/// A crash after a commit's fsync and before its marker write leaves the marker one block
/// behind; a marker further behind is what a node left after a tail-only open (or an older
/// build) looks like. Either way the open checks exactly the blocks after it, then moves it.
#[test]
fn a_marker_left_behind_by_a_crash_makes_the_open_check_the_blocks_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let (m4, m5, m6) = {
        let store = Store::open(dir.path()).unwrap();
        chain(&store, 6);
        (
            marker_at(&store, 4),
            marker_at(&store, 5),
            marker_at(&store, 6),
        )
    };
    for (behind, from) in [(&m5, 6), (&m4, 5)] {
        put_marker(dir.path(), &marker_bytes(behind));
        let next = since_marker(dir.path()).unwrap();
        assert_eq!((next.from_height, next.blocks_checked), (from, 7 - from));
        assert!(next.through_head);
        drop(Store::open(dir.path()).unwrap());
        assert_eq!(read_marker(dir.path()), Some(m6), "the open moved it");
    }

    // A store written before markers existed is checked whole on its first open.
    {
        let store = Store::open_with(
            dir.path(),
            OpenOptions {
                verify: VerifyMode::Skip,
                ..Default::default()
            },
        )
        .unwrap();
        let meta = store.cf(schema::CF_META).unwrap();
        store.db.delete_cf(meta, schema::META_VERIFIED).unwrap();
    }
    let next = since_marker(dir.path()).unwrap();
    assert_eq!((next.from_height, next.blocks_checked), (0, 7));
    assert!(next.full && next.through_head);
    drop(Store::open(dir.path()).unwrap());
    assert_eq!(read_marker(dir.path()), Some(m6));
}

/// After an open that did not check up to the head (a tail check), commits must not move the
/// marker past the blocks nobody checked.
#[test]
fn after_a_tail_open_commits_leave_the_marker_where_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let m2 = {
        let store = Store::open(dir.path()).unwrap();
        chain(&store, 5);
        marker_at(&store, 2)
    };
    put_marker(dir.path(), &marker_bytes(&m2));
    {
        let store = Store::open_with(
            dir.path(),
            OpenOptions {
                verify: VerifyMode::Tail(1),
                ..Default::default()
            },
        )
        .unwrap();
        let head = store.head().unwrap();
        let b = block(6, head.hash, vec![tx(1000)]);
        let r = receipts(&b, store.accumulator_size());
        store.commit_block(&b, &[], &r).unwrap();
        assert_eq!(store.verified_marker().unwrap(), Some(m2));
    }
    let next = since_marker(dir.path()).unwrap();
    assert_eq!((next.from_height, next.blocks_checked), (3, 4));
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.verified_marker().unwrap(), Some(marker_at(&store, 6)));
}

#[test]
fn a_marker_that_disagrees_with_the_chain_is_reported_not_trusted() {
    let dir = tempfile::tempdir().unwrap();
    let (m4, m6) = {
        let store = Store::open(dir.path()).unwrap();
        chain(&store, 6);
        (marker_at(&store, 4), marker_at(&store, 6))
    };

    // Beyond the head: the store lost blocks it once held and checked (a lost log tail).
    let mut ahead = m6;
    ahead.height = 9;
    put_marker(dir.path(), &marker_bytes(&ahead));
    match Store::open(dir.path()).err().unwrap() {
        StoreError::MarkerAheadOfHead {
            marker: 9,
            head: Some(6),
        } => {}
        other => panic!("{other}"),
    }

    // Its block is not the one stored at its height (another chain's files, or damage).
    let mut other_block = m4;
    other_block.block_hash.0[0] ^= 1;
    put_marker(dir.path(), &marker_bytes(&other_block));
    match Store::open(dir.path()).err().unwrap() {
        e @ StoreError::MarkerMismatch {
            height: 4,
            what: "block hash",
            ..
        } => assert_eq!(e.height(), Some(4)),
        other => panic!("{other}"),
    }

    // Its accumulator root is not the one the block records.
    let mut other_root = m4;
    other_root.accumulator_root.0[31] ^= 1;
    put_marker(dir.path(), &marker_bytes(&other_root));
    match Store::open(dir.path()).err().unwrap() {
        StoreError::MarkerMismatch {
            height: 4,
            what: "accumulator root",
            ..
        } => {}
        other => panic!("{other}"),
    }

    // Not a marker at all.
    put_marker(dir.path(), &[0; 5]);
    assert!(matches!(
        Store::open(dir.path()),
        Err(StoreError::Corrupt {
            cf: schema::CF_META,
            ..
        })
    ));

    // Restored, the store opens and checks from it.
    put_marker(dir.path(), &marker_bytes(&m4));
    assert_eq!(since_marker(dir.path()).unwrap().from_height, 5);
    Store::open(dir.path()).unwrap();

    // A marker in a store without blocks: everything it covered is gone.
    let empty = tempfile::tempdir().unwrap();
    drop(Store::open(empty.path()).unwrap());
    put_marker(empty.path(), &marker_bytes(&m4));
    assert!(matches!(
        Store::open(empty.path()),
        Err(StoreError::MarkerAheadOfHead {
            marker: 4,
            head: None
        })
    ));
}

/// The marker's own block carries the chain below it: changed, the open finds it.
#[test]
fn damage_at_or_above_the_marker_is_found_by_the_open() {
    let dir = tempfile::tempdir().unwrap();
    let m3 = {
        let store = Store::open(dir.path()).unwrap();
        chain(&store, 7);
        marker_at(&store, 3)
    };
    put_marker(dir.path(), &marker_bytes(&m3));
    let parent_byte = |v: &mut Vec<u8>| v[5 + 8 + 8 + 3] ^= 1;

    for height in [5u64, 3] {
        raw_update(
            dir.path(),
            schema::CF_BLOCKS,
            &schema::u64_key(height),
            parent_byte,
        );
        let err = Store::open(dir.path()).err().expect("damage undetected");
        assert_eq!(err.height(), Some(height), "{err}");
        raw_update(
            dir.path(),
            schema::CF_BLOCKS,
            &schema::u64_key(height),
            parent_byte,
        );
    }

    // An inner accumulator node made after the marker that no block's root reads (blocks 1..7
    // hold 1, 2, 3, 0, 1, 2, 3 transactions: the marker is at size 6, block 7 ends at 12, and
    // node level 1 index 4 is only read through its parent at level 2 index 2): only the check of
    // the nodes made since the marker sees it.
    raw_update(
        dir.path(),
        schema::CF_ACCUMULATOR,
        &schema::accumulator_key(crate::accumulator::NodePos::new(1, 4)),
        |v| v[0] ^= 1,
    );
    match Store::open(dir.path()).err().unwrap() {
        StoreError::AccumulatorNodeMismatch {
            level: 1, index: 4, ..
        } => {}
        other => panic!("{other}"),
    }
    raw_update(
        dir.path(),
        schema::CF_ACCUMULATOR,
        &schema::accumulator_key(crate::accumulator::NodePos::new(1, 4)),
        |v| v[0] ^= 1,
    );

    // A receipt past the head: what a head gone back would leave.
    {
        let store = Store::open_with(
            dir.path(),
            OpenOptions {
                verify: VerifyMode::Skip,
                ..Default::default()
            },
        )
        .unwrap();
        let receipts_cf = store.cf(schema::CF_RECEIPTS).unwrap();
        let last = store.db.get_cf(receipts_cf, schema::u64_key(11)).unwrap();
        store
            .db
            .put_cf(receipts_cf, schema::u64_key(12), last.unwrap())
            .unwrap();
    }
    match Store::open(dir.path()).err().unwrap() {
        StoreError::RecordBeyondHead {
            cf: schema::CF_RECEIPTS,
            head: 7,
            accumulator_size: 12,
            ..
        } => {}
        other => panic!("{other}"),
    }
}

/// Damage below the marker is not the open's to find (that is what makes it cheap): the audit,
/// which checks everything, finds it, and so does a full open.
#[test]
fn damage_below_the_marker_passes_the_open_and_fails_the_audit() {
    let dir = tempfile::tempdir().unwrap();
    let g = genesis();
    {
        let store = Store::open(dir.path()).unwrap();
        ledger(&store, &g, 6);
    }
    assert_eq!(read_marker(dir.path()).unwrap().height, 6);
    // A byte of block 2's observation: its location, "barn".
    let bytes = read_only(dir.path()).block_bytes(2).unwrap().unwrap();
    let at = bytes.windows(4).position(|w| w == b"barn").unwrap();
    raw_update(dir.path(), schema::CF_BLOCKS, &schema::u64_key(2), |v| {
        v[at] = b'B'
    });

    let store = Store::open(dir.path()).expect("below the marker: not checked on open");
    assert_eq!(store.head().unwrap().height, 6);
    drop(store);
    let err = audit(dir.path(), &g).unwrap_err();
    assert!(
        matches!(err, AuditError::TxAltered { height: 2, .. }),
        "{err}"
    );
    let err = Store::open_with(dir.path(), full()).err().unwrap();
    assert_eq!(err.height(), Some(2), "{err}");

    // An audit from above the damage trusts what is below it (from 4, it starts on block 3's
    // records); from 3 (whose parent it reads) or 2, it finds it again.
    let ro = read_only(dir.path());
    let s = ro.audit_with(&g, 4, &mut |_| {}).unwrap();
    assert_eq!((s.from_height, s.blocks, s.whole), (4, 3, false));
    for from in [3, 2] {
        let err = ro.audit_with(&g, from, &mut |_| {}).unwrap_err();
        assert_eq!(err.height(), Some(2), "from {from}: {err}");
    }
}

#[test]
fn an_audit_reports_its_progress_and_refuses_a_start_beyond_the_head() {
    let dir = tempfile::tempdir().unwrap();
    let g = genesis();
    {
        let store = Store::open(dir.path()).unwrap();
        ledger(&store, &g, 5);
    }
    let ro = read_only(dir.path());
    for (from, chain_first, exec_first) in [(0, 0, 1), (3, 3, 3)] {
        let mut seen = Vec::new();
        let s = ro.audit_with(&g, from, &mut |p| seen.push(p)).unwrap();
        assert_eq!(s.from_height, exec_first);
        assert_eq!(s.whole, from <= 1);
        let heights = |stage| -> Vec<u64> {
            seen.iter()
                .filter(|p| p.stage == stage)
                .map(|p| p.height)
                .collect()
        };
        assert_eq!(
            heights(AuditStage::ChainCheck),
            (chain_first..=5).collect::<Vec<_>>()
        );
        assert_eq!(
            heights(AuditStage::ReExecution),
            (exec_first..=5).collect::<Vec<_>>()
        );
        assert!(seen.iter().all(|p| p.last == 5 && p.first <= p.height));
    }
    assert!(matches!(
        ro.audit_with(&g, 6, &mut |_| {}),
        Err(AuditError::FromBeyondHead {
            from: 6,
            head: Some(5)
        })
    ));
}
