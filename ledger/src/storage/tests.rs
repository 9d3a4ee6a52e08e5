use super::*;
use crate::accumulator as acc;
use crate::block::{Block, BlockHeader};
use crate::crypto::KeyPair;
use crate::merkle::{root_from_leaf_hashes, tx_root};
use crate::receipt::{ExecStatus, Receipt, TxLeaf};
use crate::stored::StoredBlock;
use crate::tx::{Payload, SignedTransaction, Transaction};

fn key() -> KeyPair {
    KeyPair::from_secret([7; 32])
}

pub(super) fn tx(seq: u64) -> SignedTransaction {
    Transaction {
        chain_id: "test".into(),
        signer: key().public(),
        sequence: seq,
        payload: Payload::Memo {
            data: seq.to_le_bytes().to_vec(),
        },
    }
    .sign(&key())
}

pub(super) fn block(height: u64, parent: Hash, txs: Vec<SignedTransaction>) -> Block {
    Block {
        header: BlockHeader {
            chain_id: "test".into(),
            height,
            round: height,
            parent,
            tx_root: tx_root(&txs.iter().map(|t| t.hash()).collect::<Vec<_>>()),
            proposer: key().public(),
            timestamp_ms: 1_000 + height,
            justify: vec![height as u8; 3],
        },
        txs,
    }
}

pub(super) fn receipts(b: &Block, first: u64) -> Vec<Receipt> {
    b.txs
        .iter()
        .enumerate()
        .map(|(i, t)| Receipt {
            tx_hash: t.hash(),
            height: b.header.height,
            index_in_block: i as u32,
            ledger_index: first + i as u64,
            status: if i % 2 == 0 {
                ExecStatus::Success
            } else {
                ExecStatus::Failed {
                    code: "odd".into(),
                    message: format!("tx {i}"),
                }
            },
        })
        .collect()
}

pub(super) const GENESIS: Hash = Hash([0x6e; 32]);

/// A store with genesis and `n` more blocks of 0..=3 transactions each; returns their blocks.
pub(super) fn chain(store: &Store, n: u64) -> Vec<Block> {
    let genesis = block(0, Hash::ZERO, vec![]);
    store.init_genesis(GENESIS, &genesis).unwrap();
    let mut blocks = vec![genesis];
    let mut seq = 0;
    for h in 1..=n {
        let txs: Vec<_> = (0..h % 4)
            .map(|_| {
                seq += 1;
                tx(seq)
            })
            .collect();
        let b = block(h, blocks.last().unwrap().hash(), txs);
        let first = store.accumulator_size();
        store
            .commit_block(&b, &[h as u8; 5], &receipts(&b, first))
            .unwrap();
        blocks.push(b);
    }
    blocks
}

fn all_leaves(blocks: &[Block]) -> Vec<Hash> {
    let mut out = Vec::new();
    let mut first = 0;
    for b in blocks {
        for r in receipts(b, first) {
            out.push(acc::tx_leaf_hash(&TxLeaf {
                tx_hash: r.tx_hash,
                receipt_hash: r.hash(),
            }));
        }
        first += b.txs.len() as u64;
    }
    out
}

#[test]
fn commit_and_read_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.head(), None);
    let blocks = chain(&store, 9);
    let leaves = all_leaves(&blocks);
    let head = store.head().unwrap();
    assert_eq!((head.height, head.hash), (9, blocks[9].hash()));
    assert_eq!(store.accumulator_size(), leaves.len() as u64);
    assert_eq!(store.genesis_hash(), Some(GENESIS));
    for b in &blocks {
        let h = b.header.height;
        let stored = store.block_by_height(h).unwrap().unwrap();
        assert_eq!(stored.block, *b);
        assert_eq!(store.block_by_hash(&b.hash()).unwrap().unwrap(), stored);
        assert_eq!(
            StoredBlock::from_bytes(&store.block_bytes(h).unwrap().unwrap()).unwrap(),
            stored
        );
        let size = stored.accumulator_size_after;
        assert_eq!(
            stored.accumulator_root_after,
            root_from_leaf_hashes(&Blake3Hasher, &leaves[..size as usize])
        );
        assert_eq!(
            store.accumulator_root_at(size).unwrap(),
            stored.accumulator_root_after
        );
        for (i, t) in b.txs.iter().enumerate() {
            let found = store.transaction(&t.hash()).unwrap().unwrap();
            assert_eq!(found.tx, *t);
            assert_eq!(found.location.height, h);
            assert_eq!(found.location.index_in_block, i as u32);
            assert_eq!(
                store.receipt(found.location.ledger_index).unwrap().unwrap(),
                found.receipt
            );
        }
    }
    // Every intermediate size, not only block boundaries.
    for size in 0..=leaves.len() {
        assert_eq!(
            store.accumulator_root_at(size as u64).unwrap(),
            root_from_leaf_hashes(&Blake3Hasher, &leaves[..size])
        );
    }
    assert!(store.block_by_height(10).unwrap().is_none());
    assert!(store.block_by_hash(&Hash([1; 32])).unwrap().is_none());
    assert!(store.transaction(&Hash([1; 32])).unwrap().is_none());
    assert!(matches!(
        store.accumulator_root_at(leaves.len() as u64 + 1),
        Err(StoreError::SizeOutOfRange { .. })
    ));

    drop(store);
    let store = Store::open(dir.path()).unwrap();
    let summary = store.verify_chain().unwrap();
    assert_eq!(summary.head, Some(head));
    assert_eq!(summary.blocks_checked, 10);
    assert_eq!(summary.accumulator_size, leaves.len() as u64);
    assert_eq!(
        summary.accumulator_root,
        root_from_leaf_hashes(&Blake3Hasher, &leaves)
    );
    let tail = store.verify_chain_with(VerifyMode::Tail(3)).unwrap();
    assert_eq!((tail.from_height, tail.blocks_checked), (7, 3));
    assert_eq!(tail.accumulator_root, summary.accumulator_root);
}

#[test]
fn checkpoints_kept_from_commits_equal_those_read_from_the_records() {
    let dir = tempfile::tempdir().unwrap();
    let kept: Vec<_> = {
        let store = Store::open(dir.path()).unwrap();
        chain(&store, 70);
        (0..=71)
            .map(|h| store.ledger_checkpoint(h).unwrap())
            .collect()
    };
    // A fresh open remembers no commit: every checkpoint comes from the stored records.
    let store = Store::open(dir.path()).unwrap();
    for (h, kept) in kept.into_iter().enumerate() {
        assert_eq!(
            store.ledger_checkpoint(h as u64).unwrap(),
            kept,
            "height {h}"
        );
    }
    assert_eq!(store.ledger_checkpoint(71).unwrap(), None);
}

#[test]
fn genesis_rules() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let b1 = block(1, Hash::ZERO, vec![]);
    assert!(matches!(
        store.commit_block(&b1, &[], &[]),
        Err(StoreError::NotInitialized)
    ));
    assert!(matches!(
        store.init_genesis(GENESIS, &b1),
        Err(StoreError::BadGenesisBlock { height: 1, .. })
    ));
    let g = block(0, Hash::ZERO, vec![]);
    store.init_genesis(GENESIS, &g).unwrap();
    // Idempotent with the same genesis; refused with another.
    assert_eq!(store.init_genesis(GENESIS, &g).unwrap().hash, g.hash());
    assert!(matches!(
        store.init_genesis(Hash([1; 32]), &g),
        Err(StoreError::AlreadyInitialized { .. })
    ));
}

#[test]
fn wrong_height_or_parent_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let blocks = chain(&store, 3);
    let before = store.verify_chain().unwrap();
    let parent = blocks[3].hash();
    let t = vec![tx(100)];
    for (b, want_height) in [
        (block(5, parent, t.clone()), true),
        (block(3, parent, t.clone()), true),
        (block(4, blocks[2].hash(), t.clone()), false),
        (block(4, Hash::ZERO, t.clone()), false),
    ] {
        let r = receipts(&b, store.accumulator_size());
        let err = store.commit_block(&b, &[], &r).unwrap_err();
        if want_height {
            assert!(
                matches!(err, StoreError::WrongHeight { expected: 4, .. }),
                "{err}"
            );
        } else {
            assert!(
                matches!(err, StoreError::WrongParent { height: 4, .. }),
                "{err}"
            );
        }
        assert!(store.transaction(&t[0].hash()).unwrap().is_none());
    }
    // The full check also counts records in every column family: nothing stray was written.
    assert_eq!(store.verify_chain().unwrap(), before);
    drop(store);
    assert_eq!(
        Store::open(dir.path()).unwrap().verify_chain().unwrap(),
        before
    );
}

#[test]
fn receipts_must_match_transactions() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let blocks = chain(&store, 2);
    let before = store.verify_chain().unwrap();
    let b = block(3, blocks[2].hash(), vec![tx(200), tx(201)]);
    let good = receipts(&b, store.accumulator_size());

    let err = store.commit_block(&b, &[], &good[..1]).unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::ReceiptCount {
                height: 3,
                txs: 2,
                receipts: 1
            }
        ),
        "{err}"
    );

    type Mutation = fn(&mut Receipt);
    let cases: [(&str, Mutation); 4] = [
        ("tx_hash", |r| r.tx_hash = Hash([9; 32])),
        ("height", |r| r.height += 1),
        ("index_in_block", |r| r.index_in_block = 0),
        ("ledger_index", |r| r.ledger_index += 5),
    ];
    for (field, break_it) in cases {
        let mut bad = good.clone();
        break_it(&mut bad[1]);
        match store.commit_block(&b, &[], &bad).unwrap_err() {
            StoreError::ReceiptMismatch {
                height: 3,
                index_in_block: 1,
                field: f,
                ..
            } => {
                assert_eq!(f, field)
            }
            other => panic!("{field}: {other}"),
        }
    }
    assert_eq!(store.verify_chain().unwrap(), before);
    store.commit_block(&b, &[], &good).unwrap();
}

#[test]
fn a_repeated_tx_hash_is_indexed_where_it_succeeded_else_where_first_seen() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let blocks = chain(&store, 1);
    let t = tx(300);
    let failed = || ExecStatus::Failed {
        code: "bad_sequence".into(),
        message: "replay".into(),
    };
    let mut parent = blocks[1].hash();
    let mut commit = |height: u64, statuses: Vec<ExecStatus>| {
        let b = block(height, parent, vec![t.clone(); statuses.len()]);
        let mut rs = receipts(&b, store.accumulator_size());
        for (r, status) in rs.iter_mut().zip(statuses) {
            r.status = status;
        }
        store.commit_block(&b, &[], &rs).unwrap();
        parent = b.hash();
        let loc = store.tx_location(&t.hash()).unwrap().unwrap();
        (loc.height, loc.index_in_block)
    };
    // Failed twice: the first inclusion.
    assert_eq!(commit(2, vec![failed(), failed()]), (2, 0));
    // Then it succeeded (a transaction succeeds at most once): that inclusion.
    assert_eq!(commit(3, vec![failed(), ExecStatus::Success]), (3, 1));
    // A later failed replay does not move it.
    assert_eq!(commit(4, vec![failed()]), (3, 1));
    drop(store);
    Store::open(dir.path()).unwrap();
}

/// An open that checks the whole chain, as the audit does: a plain open checks only what came
/// after the verified-up-to marker, which these tests' damage lies below (see `marker_tests`).
fn open_full(dir: &std::path::Path) -> Result<Store, StoreError> {
    Store::open_with(
        dir,
        OpenOptions {
            verify: VerifyMode::Full,
            ..Default::default()
        },
    )
}

/// Rewrites one record with raw RocksDB access, as disk corruption or a bad tool would.
fn tamper(dir: &std::path::Path, cf: &'static str, key: &[u8], f: impl FnOnce(&mut Vec<u8>)) {
    let store = Store::open_with(
        dir,
        OpenOptions {
            verify: VerifyMode::Tail(1),
            ..Default::default()
        },
    )
    .unwrap();
    let handle = store.cf(cf).unwrap();
    let mut v = store
        .db
        .get_cf(handle, key)
        .unwrap()
        .expect("record to tamper with");
    f(&mut v);
    store.db.put_cf(handle, key, v).unwrap();
}

#[test]
fn corrupt_block_byte_reports_its_height() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let blocks = chain(&store, 6);
    let original = blocks[3].to_bytes();
    let key = schema::u64_key(3);
    let cf = store.cf(schema::CF_BLOCKS).unwrap();
    let stored_bytes = store.db.get_cf(cf, key).unwrap().unwrap();
    // Every byte of block 3's header and transactions but their signatures: like the opaque
    // certificate, a signature is covered by no hash (the tx hash is over the signed part), so
    // signature checks in consensus and audit catch it, not the store.
    let signature_bytes: Vec<usize> = blocks[3]
        .txs
        .iter()
        .flat_map(|t| {
            let at = original
                .windows(64)
                .position(|w| w == t.signature.0)
                .unwrap();
            at..at + 64
        })
        .collect();
    assert_eq!(signature_bytes.len(), 3 * 64);
    // The stored record starts with the block's own encoding.
    assert_eq!(&stored_bytes[..original.len()], &original[..]);
    for pos in (0..original.len()).filter(|p| !signature_bytes.contains(p)) {
        let mut bad = stored_bytes.clone();
        bad[pos] ^= 0x55;
        store.db.put_cf(cf, key, &bad).unwrap();
        match store.verify_chain() {
            Err(e) if e.height() == Some(3) => {}
            Err(e) => panic!("byte {pos}: reported {e}"),
            Ok(_) => panic!("byte {pos}: corruption undetected"),
        }
    }
    // And through a real reopen: a byte of the parent hash (after chain id "test", height, round).
    let mut bad = stored_bytes.clone();
    bad[5 + 8 + 8 + 3] ^= 1;
    store.db.put_cf(cf, key, &bad).unwrap();
    drop(store);
    let err = open_full(dir.path())
        .err()
        .expect("corruption undetected on open");
    assert_eq!(err.height(), Some(3), "{err}");
    tamper(dir.path(), schema::CF_BLOCKS, &key, |v| {
        *v = stored_bytes.clone()
    });
    Store::open(dir.path()).unwrap();
}

#[test]
fn tail_mode_skips_old_records_full_mode_finds_them() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    chain(&store, 8);
    drop(store);
    tamper(dir.path(), schema::CF_BLOCKS, &schema::u64_key(2), |v| {
        v[20] ^= 1
    });
    let tail = OpenOptions {
        verify: VerifyMode::Tail(4),
        ..Default::default()
    };
    assert_eq!(
        Store::open_with(dir.path(), tail)
            .unwrap()
            .head()
            .unwrap()
            .height,
        8
    );
    assert_eq!(open_full(dir.path()).err().unwrap().height(), Some(2));
}

#[test]
fn corrupt_receipt_and_accumulator_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    chain(&store, 7);
    // Ledger index 4 is block 3's first transaction (blocks 1, 2, 3 hold 1, 2, 3 txs).
    assert_eq!(store.receipt(4).unwrap().unwrap().height, 3);
    drop(store);

    tamper(dir.path(), schema::CF_RECEIPTS, &schema::u64_key(4), |v| {
        v.push(0)
    });
    match open_full(dir.path()).err().unwrap() {
        StoreError::ReceiptDecode {
            ledger_index: 4, ..
        } => {}
        other => panic!("{other}"),
    }
    tamper(dir.path(), schema::CF_RECEIPTS, &schema::u64_key(4), |v| {
        v.pop();
    });

    tamper(
        dir.path(),
        schema::CF_ACCUMULATOR,
        &schema::accumulator_key(acc::NodePos::leaf(4)),
        |v| v[0] ^= 1,
    );
    match open_full(dir.path()).err().unwrap() {
        StoreError::AccumulatorLeafMismatch {
            ledger_index: 4,
            height: 3,
            ..
        } => {}
        other => panic!("{other}"),
    }
    tamper(
        dir.path(),
        schema::CF_ACCUMULATOR,
        &schema::accumulator_key(acc::NodePos::leaf(4)),
        |v| v[0] ^= 1,
    );

    // An inner node that no block-boundary root uses: only the full node scan sees it.
    tamper(
        dir.path(),
        schema::CF_ACCUMULATOR,
        &schema::accumulator_key(acc::NodePos::new(1, 0)),
        |v| v[5] ^= 1,
    );
    match open_full(dir.path()).err().unwrap() {
        StoreError::AccumulatorNodeMismatch {
            level: 1, index: 0, ..
        }
        | StoreError::AccumulatorRootMismatch { .. } => {}
        other => panic!("{other}"),
    }
    tamper(
        dir.path(),
        schema::CF_ACCUMULATOR,
        &schema::accumulator_key(acc::NodePos::new(1, 0)),
        |v| v[5] ^= 1,
    );
    Store::open(dir.path()).unwrap();
}

#[test]
fn unknown_schema_version_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    drop(Store::open(dir.path()).unwrap());
    tamper(
        dir.path(),
        schema::CF_META,
        schema::META_SCHEMA_VERSION,
        |v| v[3] = 9,
    );
    assert!(matches!(
        Store::open(dir.path()),
        Err(StoreError::SchemaVersion {
            found: 9,
            supported: schema::SCHEMA_VERSION
        })
    ));
}

/// The full check reads the accumulator as one range of keys in freezing order: a node taken
/// out is named, and a node past the tree's size (what a head gone back would leave) too.
#[test]
fn a_missing_or_extra_accumulator_node_is_named_by_the_full_check() {
    let dir = tempfile::tempdir().unwrap();
    let size = {
        let store = Store::open(dir.path()).unwrap();
        chain(&store, 10);
        store.accumulator_size()
    };
    let raw = || {
        rocksdb::DB::open_cf(
            &rocksdb::Options::default(),
            dir.path(),
            schema::COLUMN_FAMILIES,
        )
        .unwrap()
    };
    let inner = schema::accumulator_key(acc::NodePos::new(2, 1));
    let value = {
        let db = raw();
        let cf = db.cf_handle(schema::CF_ACCUMULATOR).unwrap();
        let value = db.get_cf(cf, inner).unwrap().unwrap();
        db.delete_cf(cf, inner).unwrap();
        value
    };
    match open_full(dir.path()).err().unwrap() {
        StoreError::Accumulator(acc::AccumulatorError::MissingNode { level: 2, index: 1 }) => {}
        other => panic!("{other}"),
    }
    let beyond = acc::NodePos::leaf(size);
    {
        let db = raw();
        let cf = db.cf_handle(schema::CF_ACCUMULATOR).unwrap();
        db.put_cf(cf, inner, &value).unwrap();
        db.put_cf(cf, schema::accumulator_key(beyond), [7u8; 32])
            .unwrap();
    }
    match open_full(dir.path()).err().unwrap() {
        StoreError::AccumulatorNodeBeyondSize {
            level: 0,
            index,
            size: found_size,
        } if index == size && found_size == size => {}
        other => panic!("{other}"),
    }
}

/// Rewrites every accumulator key as versions 2 to 7 wrote it (level, index).
pub(super) fn version_7_accumulator_keys(db: &rocksdb::DB) {
    let cf = db.cf_handle(schema::CF_ACCUMULATOR).unwrap();
    let nodes: Vec<_> = db
        .iterator_cf(cf, rocksdb::IteratorMode::Start)
        .map(|entry| entry.unwrap())
        .collect();
    assert!(!nodes.is_empty());
    for (key, value) in nodes {
        let pos = schema::decode_accumulator_key(&key).unwrap();
        db.delete_cf(cf, &key).unwrap();
        db.put_cf(cf, schema::legacy_node_key(pos), &value).unwrap();
    }
}

/// A version-7 store (accumulator nodes keyed by level and index) opens as the current version
/// with every node under its number in freezing order: the same roots and proofs, a full check
/// passes, and the next commit appends. A read-only open cannot upgrade it and says so.
#[test]
fn a_version_7_store_has_its_accumulator_rekeyed_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let (blocks, size, root, proof) = {
        let store = Store::open(dir.path()).unwrap();
        let blocks = chain(&store, 40);
        let size = store.accumulator_size();
        let root = store.accumulator_root_at(size).unwrap();
        (blocks, size, root, store.inclusion_proof(5, size).unwrap())
    };
    assert!(size > 50, "a tree with inner nodes at several levels");
    {
        let db = rocksdb::DB::open_cf(
            &rocksdb::Options::default(),
            dir.path(),
            schema::COLUMN_FAMILIES,
        )
        .unwrap();
        version_7_accumulator_keys(&db);
        let meta = db.cf_handle(schema::CF_META).unwrap();
        db.put_cf(meta, schema::META_SCHEMA_VERSION, 7u32.to_be_bytes())
            .unwrap();
    }
    match Store::open_with(
        dir.path(),
        OpenOptions {
            read_only: true,
            ..Default::default()
        },
    ) {
        Err(StoreError::SchemaUpgradeNeeded {
            found: 7,
            supported: 8,
        }) => {}
        Err(other) => panic!("{other}"),
        Ok(_) => panic!("a read-only open read a version-7 accumulator"),
    }
    let store = open_full(dir.path()).unwrap();
    let acc_cf = store.cf(schema::CF_ACCUMULATOR).unwrap();
    let numbers: Vec<u64> = store
        .db
        .iterator_cf(acc_cf, rocksdb::IteratorMode::Start)
        .map(|entry| schema::decode_u64(&entry.unwrap().0).expect("a version-8 key"))
        .collect();
    assert_eq!(numbers, (0..acc::frozen_count(size)).collect::<Vec<_>>());
    assert_eq!(store.accumulator_root_at(size).unwrap(), root);
    assert_eq!(store.inclusion_proof(5, size).unwrap(), proof);

    let next = block(
        41,
        blocks.last().unwrap().hash(),
        vec![tx(1_000), tx(1_001)],
    );
    store
        .commit_block(&next, &[41; 5], &receipts(&next, size))
        .unwrap();
    drop(store);
    let store = open_full(dir.path()).unwrap();
    assert_eq!(store.accumulator_size(), size + 2);
    assert_eq!(
        schema::decode_u32(
            &store
                .db
                .get_cf(
                    store.cf(schema::CF_META).unwrap(),
                    schema::META_SCHEMA_VERSION
                )
                .unwrap()
                .unwrap()
        ),
        Some(8)
    );
}

/// A version-7 store whose accumulator holds a key of neither layout (a damaged or foreign
/// record) is refused with the key named, not a panic, and nothing is half-upgraded for good:
/// the version stays 7.
#[test]
fn an_accumulator_key_of_neither_layout_stops_the_upgrade_with_the_key_named() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path()).unwrap();
        chain(&store, 5);
    }
    {
        let db = rocksdb::DB::open_cf(
            &rocksdb::Options::default(),
            dir.path(),
            schema::COLUMN_FAMILIES,
        )
        .unwrap();
        version_7_accumulator_keys(&db);
        let cf = db.cf_handle(schema::CF_ACCUMULATOR).unwrap();
        db.put_cf(cf, [0xab; 5], [0u8; 32]).unwrap();
        let meta = db.cf_handle(schema::CF_META).unwrap();
        db.put_cf(meta, schema::META_SCHEMA_VERSION, 7u32.to_be_bytes())
            .unwrap();
    }
    match Store::open(dir.path()).err().unwrap() {
        StoreError::Corrupt { cf, key, .. } => {
            assert_eq!(cf, schema::CF_ACCUMULATOR);
            assert_eq!(key, "ababababab");
        }
        other => panic!("{other}"),
    }
    let db = rocksdb::DB::open_cf(
        &rocksdb::Options::default(),
        dir.path(),
        schema::COLUMN_FAMILIES,
    )
    .unwrap();
    let version = db
        .get_cf(
            db.cf_handle(schema::CF_META).unwrap(),
            schema::META_SCHEMA_VERSION,
        )
        .unwrap()
        .unwrap();
    assert_eq!(schema::decode_u32(&version), Some(7));
}

/// A version-5 store (before `epcis_events`) opens as the current version, with its blocks,
/// and with the new column family, empty: a version-5 ledger holds no EPCIS event.
#[test]
fn a_version_5_store_is_upgraded_in_place() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path()).unwrap();
        chain(&store, 3);
    }
    {
        let opts = rocksdb::Options::default();
        let mut db = rocksdb::DB::open_cf(&opts, dir.path(), schema::COLUMN_FAMILIES).unwrap();
        db.drop_cf(schema::CF_EPCIS_EVENTS).unwrap();
        db.drop_cf(schema::CF_STATE_KEYS).unwrap();
        version_7_accumulator_keys(&db);
        let meta = db.cf_handle(schema::CF_META).unwrap();
        db.put_cf(meta, schema::META_SCHEMA_VERSION, 5u32.to_be_bytes())
            .unwrap();
    }
    assert_eq!(schema::SCHEMA_VERSION, 8);
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.head().unwrap().height, 3);
    assert!(store.epcis_events(0, 10).unwrap().is_empty());
    let version = store
        .db
        .get_cf(
            store.cf(schema::CF_META).unwrap(),
            schema::META_SCHEMA_VERSION,
        )
        .unwrap()
        .unwrap();
    assert_eq!(schema::decode_u32(&version), Some(schema::SCHEMA_VERSION));
}

#[test]
fn proofs_verify_against_stored_roots() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let blocks = chain(&store, 8);
    let leaves = all_leaves(&blocks);
    let size = store.accumulator_size();
    let root = store.accumulator_root_at(size).unwrap();
    for (i, leaf) in leaves.iter().enumerate() {
        let proof = store.inclusion_proof(i as u64, size).unwrap();
        proof.verify(&Blake3Hasher, leaf, &root).unwrap();
    }
    for old in 1..=size {
        let proof = store.consistency_proof(old, size).unwrap();
        let old_root = store.accumulator_root_at(old).unwrap();
        proof.verify(&Blake3Hasher, &old_root, &root).unwrap();
    }
    assert!(matches!(
        store.inclusion_proof(size, size),
        Err(StoreError::LedgerIndexOutOfRange { .. })
    ));
    assert!(matches!(
        store.consistency_proof(1, size + 1),
        Err(StoreError::SizeOutOfRange { .. })
    ));
}

#[test]
fn oversized_receipt_rejected_before_writing() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let blocks = chain(&store, 1);
    let b = block(2, blocks[1].hash(), vec![tx(400)]);
    let mut r = receipts(&b, store.accumulator_size());
    r[0].status = ExecStatus::Failed {
        code: "x".into(),
        message: "m".repeat(crate::stored::MAX_RECEIPT_BYTES),
    };
    let err = store.commit_block(&b, &[], &r).unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::ReceiptTooLarge {
                height: 2,
                index_in_block: 0,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(store.head().unwrap().height, 1);
    store.verify_chain().unwrap();
}

#[test]
fn state_roots_and_proofs_at_every_height_survive_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let kv = |k: &str, v: Option<&str>| (k.as_bytes().to_vec(), v.map(|v| v.as_bytes().to_vec()));
    let mut genesis_state = crate::execute::StateDelta::new();
    genesis_state.extend([kv("org/farm", Some("farm")), kv("org/shop", Some("shop"))]);
    let deltas: Vec<crate::execute::StateDelta> = vec![
        [kv("item/1", Some("created"))].into_iter().collect(),
        [kv("item/1", Some("moved")), kv("item/2", Some("created"))]
            .into_iter()
            .collect(),
        // Deleting restores the shape an absent key had: the root equals height 1's but for item/2.
        [kv("item/1", None)].into_iter().collect(),
    ];
    {
        let store = Store::open(dir.path()).unwrap();
        let genesis = block(0, Hash::ZERO, vec![]);
        let info = store
            .init_genesis_with_state(GENESIS, &genesis, &genesis_state)
            .unwrap();
        assert_ne!(info.state_root, crate::smt::EMPTY);
        let mut parent = genesis.hash();
        for (i, delta) in deltas.iter().enumerate() {
            let b = block(i as u64 + 1, parent, vec![]);
            let info = store.commit_block_with_state(&b, &[], &[], delta).unwrap();
            assert_eq!(store.state_root(), info.state_root);
            parent = b.hash();
        }
    }
    let store = Store::open(dir.path()).unwrap();
    let expect: [(u64, &str, Option<&str>); 7] = [
        (0, "org/farm", Some("farm")),
        (0, "item/1", None),
        (1, "item/1", Some("created")),
        (2, "item/1", Some("moved")),
        (2, "item/2", Some("created")),
        (3, "item/1", None),
        (3, "item/2", Some("created")),
    ];
    for (height, key, value) in expect {
        let p = store.state_proof(key.as_bytes(), Some(height)).unwrap();
        assert_eq!(p.state_root, store.state_root_at(height).unwrap().unwrap());
        assert_eq!(
            p.value.as_deref(),
            value.map(str::as_bytes),
            "{key} at {height}"
        );
        match &p.value {
            Some(v) => p
                .proof
                .verify_presence(&p.state_root, key.as_bytes(), v)
                .unwrap(),
            None => p
                .proof
                .verify_absence(&p.state_root, key.as_bytes())
                .unwrap(),
        }
    }
    // The head proof is the latest height's; a height beyond the head is an error.
    assert_eq!(store.state_proof(b"item/2", None).unwrap().height, 3);
    assert!(matches!(
        store.state_proof(b"item/2", Some(9)),
        Err(StoreError::MissingBlock { height: 9, head: 3 })
    ));
    // Roots differ wherever the state did.
    let roots: Vec<Hash> = (0..=3)
        .map(|h| store.state_root_at(h).unwrap().unwrap())
        .collect();
    assert!(roots.windows(2).all(|w| w[0] != w[1]), "{roots:?}");
}

/// A tree node read back from RocksDB is kept in memory for the next update (under a light load
/// most of a path was written many commits ago), unless it is not the node its key names.
#[test]
fn tree_nodes_read_back_are_kept_in_memory_unless_damaged() {
    use crate::smt::{Node, NodeStore};
    let dir = tempfile::tempdir().unwrap();
    let kv = |k: &str| (k.as_bytes().to_vec(), Some(b"v".to_vec()));
    let root = {
        let store = Store::open(dir.path()).unwrap();
        let genesis = block(0, Hash::ZERO, vec![]);
        let state: crate::execute::StateDelta = ["org/farm", "org/shop", "item/1", "item/2"]
            .into_iter()
            .map(kv)
            .collect();
        store
            .init_genesis_with_state(GENESIS, &genesis, &state)
            .unwrap()
            .state_root
    };
    let children = {
        // A reopened store remembers nothing.
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.get_known(&root), None);
        let node = NodeStore::get(&store, &root).unwrap().unwrap();
        assert_eq!(store.get_known(&root), Some(node), "read back, then kept");
        match node {
            Node::Internal { left, right } => [left, right],
            Node::Leaf(_) => panic!("four keys under a leaf root"),
        }
    };
    // One of the root's children, damaged on disk: it still decodes, to another node.
    let child = children
        .into_iter()
        .find(|h| *h != crate::smt::EMPTY)
        .unwrap();
    tamper(dir.path(), schema::CF_SMT_NODES, child.as_bytes(), |v| {
        let last = v.len() - 1;
        v[last] ^= 1;
    });
    let store = Store::open(dir.path()).unwrap();
    let damaged = NodeStore::get(&store, &child).unwrap().unwrap();
    assert_ne!(damaged.hash(), child);
    assert_eq!(store.get_known(&child), None, "a damaged node was cached");
}

/// Every node under `root`, each read from RocksDB by its hash (not from the memory cache).
fn walk_stored_tree(store: &Store, root: Hash) -> usize {
    use crate::smt::{Node, NodeStore};
    let mut pending = vec![root];
    let mut found = 0;
    while let Some(hash) = pending.pop() {
        if hash == crate::smt::EMPTY {
            continue;
        }
        let node = NodeStore::get(store, &hash)
            .unwrap()
            .unwrap_or_else(|| panic!("node {hash} missing"));
        assert_eq!(node.hash(), hash);
        found += 1;
        if let Node::Internal { left, right } = node {
            pending.extend([left, right]);
        }
    }
    found
}

/// Every tree node stays readable by its key from the memtable, from the file a flush writes out
/// of it, and after a reopen: the guard for any change to how the family is keyed or kept.
#[test]
fn tree_nodes_read_by_key_from_the_memtable_after_a_flush_and_after_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let keys: Vec<String> = (0..300).map(|i| format!("item/{i}")).collect();
    let (root, nodes) = {
        let store = Store::open(dir.path()).unwrap();
        let genesis = block(0, Hash::ZERO, vec![]);
        let state: crate::execute::StateDelta = keys
            .iter()
            .map(|k| (k.as_bytes().to_vec(), Some(b"v".to_vec())))
            .collect();
        let root = store
            .init_genesis_with_state(GENESIS, &genesis, &state)
            .unwrap()
            .state_root;
        let in_memtable = walk_stored_tree(&store, root);
        assert!(in_memtable >= keys.len(), "{in_memtable} nodes");
        let cf = store.cf(schema::CF_SMT_NODES).unwrap();
        store.db.flush_cf(cf).unwrap();
        assert_eq!(walk_stored_tree(&store, root), in_memtable, "after a flush");
        (root, in_memtable)
    };
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(walk_stored_tree(&store, root), nodes, "after a reopen");
    for key in &keys {
        let p = store.state_proof(key.as_bytes(), None).unwrap();
        p.proof
            .verify_presence(&p.state_root, key.as_bytes(), b"v")
            .unwrap();
    }
}

#[test]
fn a_missing_state_root_is_reported_by_a_full_open() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path()).unwrap();
        chain(&store, 3);
        store
            .db
            .delete_cf(
                store.cf(schema::CF_STATE_ROOTS).unwrap(),
                schema::u64_key(2),
            )
            .unwrap();
    }
    match open_full(dir.path()) {
        Err(StoreError::MissingStateRoot { height: 2 }) => {}
        Err(e) => panic!("wrong error: {e}"),
        Ok(_) => panic!("opened a store missing a state root"),
    }
}

#[test]
fn events_feed_item_history_and_organization_indexes_in_pages() {
    use crate::execute::BlockExecution;
    use crate::supply::events::{EventKind, EventRecord, ItemRef, ItemRole};
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let genesis = block(0, Hash::ZERO, vec![]);
    store.init_genesis(GENESIS, &genesis).unwrap();
    let event = |tx_index: u32, kind, org: &str, items: &[(&str, ItemRole)]| EventRecord {
        tx_index,
        kind,
        signer: key().public(),
        organization: org.into(),
        organizations: vec![org.into()],
        items: items
            .iter()
            .map(|(id, role)| ItemRef {
                item_id: id.to_string(),
                role: *role,
            })
            .collect(),
        account: None,
        epcis: None,
    };
    let mut parent = genesis.hash();
    let mut seq = 0;
    for h in 1..=3u64 {
        let txs: Vec<_> = (0..3)
            .map(|_| {
                seq += 1;
                tx(seq)
            })
            .collect();
        let b = block(h, parent, txs);
        let first = store.accumulator_size();
        let execution = BlockExecution {
            next_epoch: None,
            statuses: vec![crate::receipt::ExecStatus::Success; 3],
            delta: Default::default(),
            events: vec![
                event(
                    0,
                    EventKind::Observe,
                    "farm",
                    &[("lot-1", ItemRole::Subject)],
                ),
                // lot-10 shares a prefix with lot-1: its entries must not leak into lot-1's.
                event(
                    2,
                    EventKind::Commission,
                    "shop",
                    &[("lot-10", ItemRole::Subject)],
                ),
            ],
        };
        let r = execution.receipts(&b, first);
        store
            .commit_executed(&b, &[], &r, &execution, Durability::Synced)
            .unwrap();
        parent = b.hash();
    }
    let all = store.item_history("lot-1", 0, 100).unwrap();
    assert_eq!(
        all.iter()
            .map(|e| (e.ledger_index, e.height))
            .collect::<Vec<_>>(),
        vec![(0, 1), (3, 2), (6, 3)]
    );
    assert!(all
        .iter()
        .all(|e| e.kind == EventKind::Observe && e.roles == [ItemRole::Subject]));
    assert_eq!(
        all[1].tx_hash,
        store.block_by_height(2).unwrap().unwrap().block.txs[0].hash()
    );
    // Paging: from the entry after the last one seen.
    let page = store.item_history("lot-1", 1, 1).unwrap();
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].ledger_index, 3);
    assert_eq!(store.item_history("lot-10", 0, 100).unwrap().len(), 3);
    assert!(store.item_history("lot", 0, 100).unwrap().is_empty());
    assert!(store
        .item_history(&"x".repeat(300), 0, 10)
        .unwrap()
        .is_empty());
    let shop = store.organization_events("shop", 0, 100).unwrap();
    assert_eq!(
        shop.iter().map(|e| e.ledger_index).collect::<Vec<_>>(),
        vec![2, 5, 8]
    );
    // The indexes survive a reopen (they were in the commit batch).
    drop(store);
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.item_history("lot-1", 0, 100).unwrap(), all);
}

#[test]
fn memory_figures_count_unflushed_commits_and_cached_reads() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let empty = store.memory().unwrap();
    let blocks = chain(&store, 20);
    let written = store.memory().unwrap();
    assert!(
        written.memtables > empty.memtables,
        "commits sit in the memtables: {empty:?} then {written:?}"
    );
    for name in schema::COLUMN_FAMILIES {
        store.db.flush_cf(store.cf(name).unwrap()).unwrap();
    }
    drop(store);
    // Reopened, the commits are in table files, and the full chain check reads every block
    // through the shared block cache (the `default` family's own cache would show nothing).
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.head().unwrap().height, blocks.len() as u64 - 1);
    let reopened = store.memory().unwrap();
    assert!(reopened.block_cache > 4096, "{reopened:?}");
    assert!(
        reopened.block_cache_pinned <= reopened.block_cache,
        "{reopened:?}"
    );
}

/// Each flush of a family adds a level-0 file, and below RocksDB's compaction trigger (four
/// files) none is compacted away, so the figure is exact: the most files of any one family, not
/// their sum. A store this small is never slowed.
#[test]
fn compaction_backlog_counts_the_most_level0_files_of_any_family() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(
        store.compaction_backlog().unwrap(),
        CompactionBacklog::default()
    );
    let mut blocks = chain(&store, 0);
    let flush = |name: &'static str| store.db.flush_cf(store.cf(name).unwrap()).unwrap();
    for h in 1..=3 {
        let b = block(h, blocks.last().unwrap().hash(), vec![tx(h)]);
        let first = store.accumulator_size();
        store
            .commit_block(&b, &[h as u8; 5], &receipts(&b, first))
            .unwrap();
        blocks.push(b);
        flush(schema::CF_BLOCKS);
        assert_eq!(store.compaction_backlog().unwrap().level0_files_max, h);
    }
    let before = store.compaction_backlog().unwrap();
    assert!(before.table_bytes > 0, "{before:?}");
    assert_eq!(
        before.largest_family_bytes, before.table_bytes,
        "only blocks"
    );
    flush(schema::CF_RECEIPTS);
    let backlog = store.compaction_backlog().unwrap();
    assert_eq!(backlog.level0_files_max, 3, "{backlog:?}");
    assert!(backlog.table_bytes > before.table_bytes, "{backlog:?}");
    assert_eq!(
        backlog.largest_family_bytes, before.largest_family_bytes,
        "the blocks' three files outweigh one file of receipts: {backlog:?}"
    );
    assert_eq!(backlog.delayed_write_rate, 0, "{backlog:?}");
    assert!(!backlog.writes_stopped, "{backlog:?}");
}
