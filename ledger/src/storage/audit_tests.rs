//! Ledger certificates in the store and the auditor's rescan, on a store built the way a node
//! builds it: genesis state, executed supply-chain blocks, certificates from a quorum of four.

use super::*;
use crate::block::{Block, BlockHeader};
use crate::crypto::KeyPair;
use crate::execute::execute_block;
use crate::genesis::{peer_id_of, Account, ConsensusParams, Genesis, Organization, Validator};
use crate::merkle::tx_root;
use crate::proof::{
    CertificateError, CheckpointVote, LedgerCertificate, LedgerCheckpoint, VerifiedCertificate,
};
use crate::supply::payload::Properties;
use crate::supply::state::item_key;
use crate::supply::{self, Commission, Observe};
use crate::tx::{Payload, SignedTransaction, Transaction};

const CHAIN: &str = "audit-test";

fn validator_key(i: u8) -> KeyPair {
    KeyPair::from_secret([i + 1; 32])
}

fn operator() -> KeyPair {
    KeyPair::from_secret([50; 32])
}

pub(super) fn genesis() -> Genesis {
    let g = Genesis {
        chain_id: CHAIN.into(),
        genesis_time_ms: 0,
        consensus: ConsensusParams::default(),
        validators: (0..4)
            .map(|i| Validator {
                name: format!("v{i}"),
                consensus_key: validator_key(i).public(),
                peer_id: peer_id_of(&validator_key(i + 10).public().0),
                power: 1,
            })
            .collect(),
        organizations: vec![Organization {
            id: "farm".into(),
            name: "Farm".into(),
            admins: vec![operator().public()],
        }],
        accounts: vec![Account {
            key: operator().public(),
            organization: "farm".into(),
            roles: vec!["operator".into()],
        }],
        governance: None,
        observers: vec![],
    };
    g.validate().unwrap();
    g
}

fn tx(seq: u64, payload: Payload) -> SignedTransaction {
    Transaction {
        chain_id: CHAIN.into(),
        signer: operator().public(),
        sequence: seq,
        payload,
    }
    .sign(&operator())
}

fn block(height: u64, parent: Hash, txs: Vec<SignedTransaction>) -> Block {
    Block {
        header: BlockHeader {
            chain_id: CHAIN.into(),
            height,
            round: height,
            parent,
            tx_root: tx_root(&txs.iter().map(|t| t.hash()).collect::<Vec<_>>()),
            proposer: validator_key(0).public(),
            timestamp_ms: 1_000 + height,
            justify: vec![],
        },
        txs,
    }
}

/// Genesis plus `n` executed blocks: block h commissions item `i<h>` and observes it; returns
/// the store's blocks.
pub(super) fn ledger(store: &Store, g: &Genesis, n: u64) -> Vec<Block> {
    let genesis_block = block(0, Hash::ZERO, vec![]);
    store
        .init_genesis_with_state(g.hash(), &genesis_block, &supply::genesis_state(g))
        .unwrap();
    let mut blocks = vec![genesis_block];
    let mut seq = 0;
    for h in 1..=n {
        let id = format!("i{h}");
        let txs = vec![
            tx(
                seq,
                Payload::Commission(Commission {
                    item_id: id.clone(),
                    item_type: "lot".into(),
                    properties: Properties::new(),
                    location: None,
                }),
            ),
            tx(
                seq + 1,
                Payload::Observe(Observe {
                    item_id: id,
                    time_ms: h,
                    location: Some("barn".into()),
                    readings: vec![],
                }),
            ),
        ];
        seq += 2;
        let b = block(h, blocks.last().unwrap().hash(), txs);
        let execution = execute_block(CHAIN, &b.txs, store).unwrap();
        let receipts = execution.receipts(&b, store.accumulator_size());
        store
            .commit_executed(&b, &[], &receipts, &execution, Durability::Synced)
            .unwrap();
        blocks.push(b);
    }
    blocks
}

pub(super) fn certificate(checkpoint: LedgerCheckpoint, signers: &[u8]) -> LedgerCertificate {
    LedgerCertificate {
        signatures: signers
            .iter()
            .map(|&i| CheckpointVote::sign(&validator_key(i), &checkpoint))
            .collect(),
        checkpoint,
    }
}

pub(super) fn verified(
    checkpoint: LedgerCheckpoint,
    signers: &[u8],
    set: &Genesis,
) -> VerifiedCertificate {
    certificate(checkpoint, signers).verified(set).unwrap()
}

pub(super) fn certify_all(store: &Store, g: &Genesis) {
    for h in 1..=store.head().unwrap().height {
        let cp = store.ledger_checkpoint(h).unwrap().unwrap();
        assert_eq!(
            store
                .put_ledger_certificate(&verified(cp, &[0, 1, 2], g))
                .unwrap(),
            CertificateStored::New
        );
    }
}

pub(super) fn raw_update(
    dir: &std::path::Path,
    cf: &'static str,
    key: &[u8],
    f: impl FnOnce(&mut Vec<u8>),
) {
    let store = Store::open_with(
        dir,
        OpenOptions {
            verify: VerifyMode::Skip,
            ..Default::default()
        },
    )
    .unwrap();
    let handle = store.cf(cf).unwrap();
    let mut v = store.db.get_cf(handle, key).unwrap().expect("record");
    f(&mut v);
    store.db.put_cf(handle, key, v).unwrap();
}

pub(super) fn audit(dir: &std::path::Path, g: &Genesis) -> Result<AuditSummary, AuditError> {
    let store = Store::open_with(
        dir,
        OpenOptions {
            verify: VerifyMode::Skip,
            read_only: true,
        },
    )
    .unwrap();
    store.audit(g)
}

#[test]
fn certificates_are_stored_only_when_valid_and_ours() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let g = genesis();
    ledger(&store, &g, 4);
    let cp = store.ledger_checkpoint(2).unwrap().unwrap();
    assert_eq!(cp.accumulator_size, 4);
    assert_eq!(cp.state_root, store.state_root_at(2).unwrap().unwrap());

    // Below quorum no certificate is made; another ledger's checkpoint, a height not committed:
    // nothing is written.
    assert!(matches!(
        certificate(cp.clone(), &[0, 1]).verified(&g),
        Err(CertificateError::BelowQuorum { .. })
    ));
    let mut other = cp.clone();
    other.state_root.0[0] ^= 1;
    assert!(matches!(
        store.put_ledger_certificate(&verified(other, &[0, 1, 2], &g)),
        Err(StoreError::CertificateMismatch { height: 2, .. })
    ));
    let mut future = cp.clone();
    future.height = 9;
    assert!(matches!(
        store.put_ledger_certificate(&verified(future, &[0, 1, 2], &g)),
        Err(StoreError::CertificateBeyondHead { height: 9, head: 4 })
    ));
    assert_eq!(store.ledger_certificate(2).unwrap(), None);

    let cert = certificate(cp.clone(), &[3, 1, 2]);
    assert_eq!(
        store
            .put_ledger_certificate(&cert.clone().verified(&g).unwrap())
            .unwrap(),
        CertificateStored::New
    );
    assert_eq!(
        store
            .put_ledger_certificate(&verified(cp, &[0, 1, 2, 3], &g))
            .unwrap(),
        CertificateStored::AlreadyCertified
    );
    assert_eq!(store.ledger_certificate(2).unwrap(), Some(cert.clone()));
    assert_eq!(
        store.latest_certificate_at_or_below(4).unwrap(),
        Some(cert.clone())
    );
    assert_eq!(store.latest_certificate_at_or_below(1).unwrap(), None);
    assert_eq!(store.first_uncertified(1, 4, 10).unwrap(), Some(1));
    assert_eq!(store.first_uncertified(2, 4, 10).unwrap(), Some(3));
    assert_eq!(store.first_uncertified(2, 2, 10).unwrap(), None);
    drop(store);
    // Survives reopening (which checks the certificate against the records).
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.ledger_certificate(2).unwrap(), Some(cert));
}

#[test]
fn stores_of_older_schemas_are_refused_with_their_version() {
    let dir = tempfile::tempdir().unwrap();
    let g = genesis();
    {
        let store = Store::open(dir.path()).unwrap();
        ledger(&store, &g, 2);
    }
    // Version 3 items had no history head: their values no longer decode as item states.
    {
        let opts = rocksdb::Options::default();
        let db = rocksdb::DB::open_cf(&opts, dir.path(), schema::COLUMN_FAMILIES).unwrap();
        let meta = db.cf_handle(schema::CF_META).unwrap();
        db.put_cf(meta, schema::META_SCHEMA_VERSION, 3u32.to_be_bytes())
            .unwrap();
    }
    for read_only in [false, true] {
        let err = Store::open_with(
            dir.path(),
            OpenOptions {
                read_only,
                ..Default::default()
            },
        )
        .err()
        .expect("an older schema is refused");
        assert!(
            matches!(
                err,
                StoreError::SchemaVersion {
                    found: 3,
                    supported: schema::SCHEMA_VERSION
                }
            ),
            "read_only {read_only}: {err}"
        );
    }
}

#[test]
fn a_clean_ledger_audits_clean() {
    let dir = tempfile::tempdir().unwrap();
    let g = genesis();
    {
        let store = Store::open(dir.path()).unwrap();
        ledger(&store, &g, 6);
        certify_all(&store, &g);
    }
    let summary = audit(dir.path(), &g).unwrap();
    assert_eq!(summary.blocks, 6);
    assert_eq!(summary.transactions, 12);
    assert_eq!(summary.certificates, 6);
    assert_eq!(summary.uncertified_heights, 0);
    assert_eq!(summary.last_certified, Some(6));
    // Organization, account and its sequence number, six items, and governance's validator set
    // and organization list.
    assert_eq!(summary.state_keys, 2 + 1 + 6 + 2);

    let mut other = g.clone();
    other.chain_id = "another".into();
    assert!(matches!(
        audit(dir.path(), &other),
        Err(AuditError::GenesisMismatch { .. })
    ));
}

/// Must show: one byte of a committed transaction or of a state value, changed in a stopped
/// node's store, is found and located.
#[test]
fn one_changed_byte_is_found_and_located() {
    let dir = tempfile::tempdir().unwrap();
    let g = genesis();
    let blocks = {
        let store = Store::open(dir.path()).unwrap();
        let blocks = ledger(&store, &g, 6);
        certify_all(&store, &g);
        blocks
    };
    let block_key = schema::u64_key(4);

    // A byte of block 4's second transaction's payload: the "barn" location string.
    let original = {
        let ro = Store::open_with(
            dir.path(),
            OpenOptions {
                verify: VerifyMode::Skip,
                read_only: true,
            },
        )
        .unwrap();
        ro.block_bytes(4).unwrap().unwrap()
    };
    let at = original
        .windows(4)
        .position(|w| w == b"barn")
        .expect("location in the record");
    raw_update(dir.path(), schema::CF_BLOCKS, &block_key, |v| v[at] = b'B');
    let err = audit(dir.path(), &g).unwrap_err();
    assert_eq!(err.height(), Some(4), "{err}");
    match &err {
        AuditError::TxAltered {
            height: 4,
            index_in_block: 1,
            ledger_index: 7,
            recorded,
            ..
        } => assert_eq!(*recorded, blocks[4].txs[1].hash()),
        other => panic!("{other}"),
    }
    // A full open finds it too, naming the height (a plain open checks only the blocks after
    // the verified-up-to marker, here the head: see `marker_tests`).
    let full = OpenOptions {
        verify: VerifyMode::Full,
        ..Default::default()
    };
    assert_eq!(
        Store::open_with(dir.path(), full).err().unwrap().height(),
        Some(4)
    );
    raw_update(dir.path(), schema::CF_BLOCKS, &block_key, |v| v[at] = b'b');

    // A byte of a transaction's signature (covered by no hash: only the signature check).
    let sig = blocks[3].txs[0].signature.0;
    let bytes3 = {
        let ro = Store::open_with(
            dir.path(),
            OpenOptions {
                verify: VerifyMode::Skip,
                read_only: true,
            },
        )
        .unwrap();
        ro.block_bytes(3).unwrap().unwrap()
    };
    let at = bytes3.windows(64).position(|w| w == sig).unwrap();
    raw_update(dir.path(), schema::CF_BLOCKS, &schema::u64_key(3), |v| {
        v[at + 10] ^= 1
    });
    match audit(dir.path(), &g).unwrap_err() {
        AuditError::TxSignature {
            height: 3,
            index_in_block: 0,
            ..
        } => {}
        other => panic!("{other}"),
    }
    raw_update(dir.path(), schema::CF_BLOCKS, &schema::u64_key(3), |v| {
        v[at + 10] ^= 1
    });
    audit(dir.path(), &g).unwrap();

    // A byte of an item's current state value.
    let item = item_key("i2");
    raw_update(dir.path(), schema::CF_STATE, &item, |v| {
        let last = v.len() - 1;
        v[last] ^= 1
    });
    match audit(dir.path(), &g).unwrap_err() {
        AuditError::StateValueDiffers {
            key,
            last_written: Some(2),
            head: 6,
            ..
        } => assert_eq!(key, "item/i2"),
        other => panic!("{other}"),
    }
    raw_update(dir.path(), schema::CF_STATE, &item, |v| {
        let last = v.len() - 1;
        v[last] ^= 1
    });

    // A byte of a stored old value (the one behind a past root), and of a receipt.
    let values = {
        let ro = Store::open(dir.path()).unwrap();
        let (vh, _) =
            crate::smt::get_with_proof(&ro, ro.state_root_at(3).unwrap().unwrap(), &item).unwrap();
        vh.unwrap()
    };
    raw_update(
        dir.path(),
        schema::CF_STATE_VALUES,
        values.as_bytes(),
        |v| v[0] ^= 1,
    );
    let err = audit(dir.path(), &g).unwrap_err();
    assert!(
        matches!(
            err,
            AuditError::Execution { .. } | AuditError::StateValueCorrupt { .. }
        ),
        "{err}"
    );
    raw_update(
        dir.path(),
        schema::CF_STATE_VALUES,
        values.as_bytes(),
        |v| v[0] ^= 1,
    );

    // A receipt's status (its ledger index 9 is block 5's second transaction).
    raw_update(dir.path(), schema::CF_RECEIPTS, &schema::u64_key(9), |v| {
        let last = v.len() - 1;
        v[last] ^= 1
    });
    let err = audit(dir.path(), &g).unwrap_err();
    assert_eq!(err.height(), Some(5), "{err}");
    raw_update(dir.path(), schema::CF_RECEIPTS, &schema::u64_key(9), |v| {
        let last = v.len() - 1;
        v[last] ^= 1
    });

    // A certificate's signature.
    raw_update(
        dir.path(),
        schema::CF_LEDGER_CERTS,
        &schema::u64_key(5),
        |v| {
            let last = v.len() - 1;
            v[last] ^= 1
        },
    );
    match audit(dir.path(), &g).unwrap_err() {
        AuditError::CertificateInvalid { height: 5, .. } => {}
        other => panic!("{other}"),
    }
    raw_update(
        dir.path(),
        schema::CF_LEDGER_CERTS,
        &schema::u64_key(5),
        |v| {
            let last = v.len() - 1;
            v[last] ^= 1
        },
    );
    audit(dir.path(), &g).unwrap();
}

/// Proofs built from the store verify, piece by piece, against their certificate.
#[test]
fn proofs_are_built_against_certified_heights() {
    use crate::accumulator::tx_leaf_hash;
    use crate::merkle::Blake3Hasher;
    use crate::receipt::TxLeaf;

    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let g = genesis();
    let blocks = ledger(&store, &g, 5);
    // Nothing certified yet: every proof is refused with the reason.
    assert!(matches!(
        store.transaction_proof(&blocks[1].txs[0].hash()),
        Err(StoreError::NotCertified { .. })
    ));
    // Heights 1..=3 certified, 4 and 5 not.
    for h in 1..=3 {
        let cp = store.ledger_checkpoint(h).unwrap().unwrap();
        store
            .put_ledger_certificate(&verified(cp, &[0, 1, 2], &g))
            .unwrap();
    }
    let hasher = Blake3Hasher;

    let p = store
        .transaction_proof(&blocks[2].txs[1].hash())
        .unwrap()
        .unwrap();
    assert_eq!(p.certificate.checkpoint.height, 3);
    assert_eq!(p.ledger_index, 3);
    let leaf = tx_leaf_hash(&TxLeaf {
        tx_hash: p.transaction.hash(),
        receipt_hash: p.receipt.hash(),
    });
    assert_eq!(
        p.inclusion_proof.tree_size,
        p.certificate.checkpoint.accumulator_size
    );
    p.inclusion_proof
        .verify(&hasher, &leaf, &p.certificate.checkpoint.accumulator_root)
        .unwrap();
    // Committed after the latest certificate: refused, not anchored at an uncertified root.
    assert!(matches!(
        store.transaction_proof(&blocks[5].txs[0].hash()),
        Err(StoreError::NotCertified {
            height: 5,
            latest_certified: Some(3),
            ..
        })
    ));
    assert_eq!(store.transaction_proof(&Hash([9; 32])).unwrap(), None);

    let s = store.item_state_proof("i2", Some(2)).unwrap();
    let value = s.value.clone().unwrap();
    s.smt_proof
        .verify_presence(
            &s.certificate.checkpoint.state_root,
            &item_key("i2"),
            &value,
        )
        .unwrap();
    let absent = store.item_state_proof("i3", Some(2)).unwrap();
    assert_eq!(absent.value, None);
    absent
        .smt_proof
        .verify_absence(&absent.certificate.checkpoint.state_root, &item_key("i3"))
        .unwrap();
    assert_eq!(
        store
            .item_state_proof("i3", None)
            .unwrap()
            .certificate
            .checkpoint
            .height,
        3
    );
    assert!(matches!(
        store.item_state_proof("i3", Some(4)),
        Err(StoreError::NotCertified { height: 4, .. })
    ));

    let h = store.item_history_proof("i1").unwrap();
    assert_eq!(h.entries.len(), 2);
    for e in &h.entries {
        let leaf = tx_leaf_hash(&TxLeaf {
            tx_hash: e.transaction.hash(),
            receipt_hash: e.receipt.hash(),
        });
        e.inclusion_proof
            .verify(&hasher, &leaf, &h.certificate.checkpoint.accumulator_root)
            .unwrap();
    }

    let c = store.ledger_consistency_proof(1, None).unwrap();
    assert_eq!(
        (c.older.checkpoint.height, c.newer.checkpoint.height),
        (1, 3)
    );
    c.consistency_proof
        .verify(
            &hasher,
            &c.older.checkpoint.accumulator_root,
            &c.newer.checkpoint.accumulator_root,
        )
        .unwrap();
    assert!(matches!(
        store.ledger_consistency_proof(3, Some(1)),
        Err(StoreError::HeightsOutOfOrder { .. })
    ));
}

/// From a certified height whose ledger is still empty (here genesis), a consistency proof is
/// the empty path (every ledger extends the empty one), not an internal error; and it verifies.
#[test]
fn a_consistency_proof_from_an_empty_ledger_has_an_empty_path() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let g = genesis();
    ledger(&store, &g, 2);
    for h in 0..=2 {
        let cp = store.ledger_checkpoint(h).unwrap().unwrap();
        store
            .put_ledger_certificate(&verified(cp, &[0, 1, 2], &g))
            .unwrap();
    }
    let c = store.ledger_consistency_proof(0, None).unwrap();
    assert_eq!(c.older.checkpoint.accumulator_size, 0);
    assert_eq!(c.newer.checkpoint.accumulator_size, 4);
    assert!(c.consistency_proof.path.is_empty());
    let report = crate::proof::Proof::Consistency(c).verify(&g);
    assert!(report.is_ok(), "{report}");
}

/// The chain of epoch changes the store serves: found by searching the state roots, each the
/// certificate of an epoch's last height with the state proof of the next set, and followed
/// from genesis by the auditor's check; a change not yet certified ends the list.
#[test]
fn epoch_changes_are_found_and_proven() {
    use crate::governance::{Change, ProposeChange};
    let dir = tempfile::tempdir().unwrap();
    let g = genesis();
    let store = Store::open(dir.path()).unwrap();
    let mut blocks = ledger(&store, &g, 2);
    // One organization: its admin's proposal applies at once. Height 3 removes v3 (epoch 1),
    // height 4 is a memo, height 5 raises v0's power (epoch 2).
    let payloads = [
        Some(Change::RemoveValidator { name: "v3".into() }),
        None,
        Some(Change::SetValidatorPower {
            name: "v0".into(),
            power: 2,
        }),
    ];
    for (i, change) in payloads.into_iter().enumerate() {
        let h = 3 + i as u64;
        let payload = match change {
            Some(change) => Payload::ProposeChange(ProposeChange {
                organization: "farm".into(),
                change,
            }),
            None => Payload::Memo { data: vec![1] },
        };
        let b = block(
            h,
            blocks.last().unwrap().hash(),
            vec![tx(4 + i as u64, payload)],
        );
        let execution = execute_block(CHAIN, &b.txs, &store).unwrap();
        assert_eq!(execution.next_epoch.is_some(), h != 4, "height {h}");
        let receipts = execution.receipts(&b, store.accumulator_size());
        store
            .commit_executed(&b, &[], &receipts, &execution, Durability::Synced)
            .unwrap();
        blocks.push(b);
    }
    // Heights 1..=3 are epoch 0's (signers 0, 1, 2 of four), 4 and 5 epoch 1's (0, 1, 2 of
    // three); height 5 is left uncertified for now.
    let mut epoch1 = g.clone();
    epoch1.validators.truncate(3);
    for h in 1..=4 {
        let set = if h <= 3 { &g } else { &epoch1 };
        let cp = store.ledger_checkpoint(h).unwrap().unwrap();
        store
            .put_ledger_certificate(&verified(cp, &[0, 1, 2], set))
            .unwrap();
    }
    let changes = store.epoch_changes(0).unwrap();
    assert_eq!(changes.len(), 1, "the second change is not certified yet");
    assert_eq!(changes[0].certificate.checkpoint.height, 3);
    assert_eq!(changes[0].next.validators, epoch1.validators);

    let cp = store.ledger_checkpoint(5).unwrap().unwrap();
    store
        .put_ledger_certificate(&verified(cp, &[0, 1, 2], &epoch1))
        .unwrap();
    let changes = store.epoch_changes(0).unwrap();
    let heights: Vec<u64> = changes
        .iter()
        .map(|c| c.certificate.checkpoint.height)
        .collect();
    assert_eq!(heights, vec![3, 5]);
    let trust = crate::proof::follow(&g, &changes).unwrap();
    assert_eq!(trust.last().set.epoch, 2);
    assert_eq!(trust.last().first_height, 6);
    assert_eq!(trust.last().set.validators[0].power, 2);
    assert_eq!(store.epoch_changes(1).unwrap().len(), 1);
    // Where each later set starts, certified or not: what a node reads when it starts.
    let starts = store.epoch_starts(10).unwrap();
    let firsts: Vec<(u64, u64)> = starts.iter().map(|(h, s)| (*h, s.epoch)).collect();
    assert_eq!(firsts, vec![(4, 1), (6, 2)]);
    assert_eq!(starts[0].1.validators, epoch1.validators);
    assert_eq!(starts[1].1, trust.last().set);
    let firsts: Vec<u64> = store
        .epoch_starts(1)
        .unwrap()
        .iter()
        .map(|(h, _)| *h)
        .collect();
    assert_eq!(firsts, vec![6], "only the last one");
}
