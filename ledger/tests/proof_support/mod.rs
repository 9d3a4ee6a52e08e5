//! A small ledger built in memory (no RocksDB): fixed keys, a 4-validator genesis, blocks of real
//! signed transactions with receipts appended to an in-memory accumulator, item records in an
//! in-memory sparse Merkle tree, and certificates signed by chosen validators. Shared by
//! `proof_props.rs` and `proof_vectors.rs` (`mod proof_support;`).
#![allow(dead_code)]

use std::collections::BTreeMap;

use waybill_ledger::accumulator::{tx_leaf_hash, MemoryAccumulator};
use waybill_ledger::encoding::to_canonical;
use waybill_ledger::genesis::{ConsensusParams, Genesis};
use waybill_ledger::hash::Hash;
use waybill_ledger::merkle::Blake3Hasher;
use waybill_ledger::proof::{
    CheckpointVote, HistoryProof, HistoryProofEntry, ItemStateProof, LedgerCertificate,
    LedgerCheckpoint, LedgerConsistencyProof, TransactionProof,
};
use waybill_ledger::receipt::{ExecStatus, Receipt, TxLeaf};
use waybill_ledger::smt::{MemoryNodeStore, EMPTY};
use waybill_ledger::supply::state::item_key;
use waybill_ledger::supply::{
    Commission, HistoryHead, ItemRecord, ItemState, ItemStatus, JsonValue, Observe, Packing,
    Reading,
};
use waybill_ledger::tx::{Payload, SignedTransaction, Transaction};
use waybill_ledger::KeyPair;

pub const CHAIN: &str = "waybill-proof-test";

/// Validator `i`'s consensus key: secret = 32 bytes of `i + 1`.
pub fn validator_key(i: u8) -> KeyPair {
    KeyPair::from_secret([i + 1; 32])
}

/// The client account's key: secret = 32 bytes of 0x42.
pub fn client_key() -> KeyPair {
    KeyPair::from_secret([0x42; 32])
}

pub fn genesis() -> Genesis {
    let keys: Vec<_> = (0..4)
        .map(|i| (validator_key(i).public(), validator_key(i + 10).public()))
        .collect();
    Genesis {
        // Pinned, not the default: docs/proofs/genesis.toml (and every example proof's genesis
        // hash) was written when the default block limit was 2,000.
        consensus: ConsensusParams {
            max_block_txs: 2_000,
            ..ConsensusParams::default()
        },
        ..Genesis::of_validators(CHAIN, &keys)
    }
}

/// The properties every example item is commissioned with: a decimal that JSON tools rewrite
/// (`412.50` becomes `412.5`) and a string.
pub fn properties() -> BTreeMap<String, JsonValue> {
    [
        ("weight_kg".to_string(), JsonValue::parse("412.50").unwrap()),
        ("grade".to_string(), JsonValue::from("A")),
    ]
    .into()
}

pub fn item(id: &str, owner: &str) -> ItemRecord {
    ItemRecord {
        id: id.into(),
        item_type: "pallet".into(),
        owner: owner.into(),
        custodian: owner.into(),
        status: ItemStatus::Active,
        properties: properties(),
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

/// The state value of `record` after the events `events` (its certified history head chains
/// their transaction hashes), as execution writes it.
pub fn item_value(record: &ItemRecord, events: &[&SignedTransaction]) -> Vec<u8> {
    let hashes: Vec<Hash> = events.iter().map(|t| t.hash()).collect();
    to_canonical(&ItemState {
        record: record.clone(),
        history: HistoryHead::of(&hashes).unwrap(),
    })
}

/// A ledger in memory: what a node's store holds, minus RocksDB.
pub struct Ledger {
    pub accumulator: MemoryAccumulator<Blake3Hasher>,
    pub smt: MemoryNodeStore,
    /// The latest value written under each state key (the tree holds value hashes only).
    pub values: BTreeMap<Vec<u8>, Vec<u8>>,
    pub state_root: Hash,
    pub committed: Vec<(SignedTransaction, Receipt)>,
    pub height: u64,
    pub sequence: u64,
    pub checkpoints: Vec<LedgerCheckpoint>,
}

impl Default for Ledger {
    fn default() -> Self {
        Self::new()
    }
}

impl Ledger {
    pub fn new() -> Self {
        Ledger {
            accumulator: MemoryAccumulator::new(Blake3Hasher),
            smt: MemoryNodeStore::new(),
            values: BTreeMap::new(),
            state_root: EMPTY,
            committed: vec![],
            height: 0,
            sequence: 0,
            checkpoints: vec![],
        }
    }

    /// A transaction from the client account with the next sequence number.
    pub fn tx(&mut self, payload: Payload) -> SignedTransaction {
        let key = client_key();
        let tx = Transaction {
            chain_id: CHAIN.into(),
            signer: key.public(),
            sequence: self.sequence,
            payload,
        }
        .sign(&key);
        self.sequence += 1;
        tx
    }

    /// Commits one block: each transaction with its status, then the state writes; records the
    /// checkpoint after it.
    pub fn block(
        &mut self,
        txs: Vec<(SignedTransaction, ExecStatus)>,
        writes: Vec<(Vec<u8>, Option<Vec<u8>>)>,
    ) -> LedgerCheckpoint {
        self.height += 1;
        for (i, (tx, status)) in txs.into_iter().enumerate() {
            let receipt = Receipt {
                tx_hash: tx.hash(),
                height: self.height,
                index_in_block: i as u32,
                ledger_index: self.accumulator.size(),
                status,
            };
            let leaf = tx_leaf_hash(&TxLeaf {
                tx_hash: receipt.tx_hash,
                receipt_hash: receipt.hash(),
            });
            self.accumulator.push(leaf).unwrap();
            self.committed.push((tx, receipt));
        }
        let changes: BTreeMap<_, _> = writes.into_iter().collect();
        for (k, v) in &changes {
            match v {
                Some(v) => self.values.insert(k.clone(), v.clone()),
                None => self.values.remove(k),
            };
        }
        self.state_root = self.smt.apply(self.state_root, &changes).unwrap();
        let checkpoint = LedgerCheckpoint {
            chain_id: CHAIN.into(),
            height: self.height,
            block_hash: Hash::blake3(&self.height.to_be_bytes()),
            state_root: self.state_root,
            accumulator_root: self.accumulator.root().unwrap(),
            accumulator_size: self.accumulator.size(),
        };
        self.checkpoints.push(checkpoint.clone());
        checkpoint
    }

    /// The certificate of the checkpoint at `height` signed by `signers`.
    pub fn certificate(&self, height: u64, signers: &[u8]) -> LedgerCertificate {
        let checkpoint = self.checkpoints[height as usize - 1].clone();
        certify(checkpoint, signers)
    }
}

pub fn certify(checkpoint: LedgerCheckpoint, signers: &[u8]) -> LedgerCertificate {
    LedgerCertificate {
        signatures: signers
            .iter()
            .map(|&i| CheckpointVote::sign(&validator_key(i), &checkpoint))
            .collect(),
        checkpoint,
    }
}

pub fn commission(id: &str) -> Payload {
    Payload::Commission(Commission {
        item_id: id.into(),
        item_type: "pallet".into(),
        properties: properties(),
        location: Some("dock-3".into()),
    })
}

pub fn observe(id: &str, time_ms: u64) -> Payload {
    Payload::Observe(Observe {
        item_id: id.into(),
        time_ms,
        location: Some("truck-7".into()),
        readings: vec![Reading {
            kind: "temperature".into(),
            value: JsonValue::parse("4.50").unwrap(),
            unit: Some("Cel".into()),
        }],
    })
}

/// The example ledger of the tests, the vectors and PROOFS.md: 4 heights, 7 transactions.
///
/// 1. commission `pallet-1`; memo
/// 2. commission `crate-9`; observe `pallet-1` (fails: `not_custodian`, made up for the test)
/// 3. aggregate `crate-9` into `pallet-1`
/// 4. observe `pallet-1`; memo
pub struct Example {
    pub ledger: Ledger,
}

pub fn example() -> Example {
    let mut l = Ledger::new();
    let ok = || ExecStatus::Success;
    let t1 = l.tx(commission("pallet-1"));
    let t2 = l.tx(Payload::Memo {
        data: b"hello".to_vec(),
    });
    let pallet = item("pallet-1", "acme");
    let v = item_value(&pallet, &[&t1]);
    l.block(
        vec![(t1.clone(), ok()), (t2, ok())],
        vec![(item_key("pallet-1"), Some(v))],
    );
    let t3 = l.tx(commission("crate-9"));
    let t4 = l.tx(observe("pallet-1", 1_000));
    let crate9 = item("crate-9", "acme");
    let v = item_value(&crate9, &[&t3]);
    l.block(
        vec![
            (t3.clone(), ok()),
            (
                t4,
                ExecStatus::Failed {
                    code: "not_custodian".into(),
                    message: "made up".into(),
                },
            ),
        ],
        vec![(item_key("crate-9"), Some(v))],
    );
    let t5 = l.tx(Payload::Aggregate(Packing {
        container_id: "pallet-1".into(),
        children: vec!["crate-9".into()],
    }));
    let mut pallet_packed = pallet.clone();
    pallet_packed.children = vec!["crate-9".into()];
    pallet_packed.contents_count = 1;
    let mut crate_packed = crate9.clone();
    crate_packed.parent = Some("pallet-1".into());
    let (vp, vc) = (
        item_value(&pallet_packed, &[&t1, &t5]),
        item_value(&crate_packed, &[&t3, &t5]),
    );
    l.block(
        vec![(t5.clone(), ok())],
        vec![
            (item_key("pallet-1"), Some(vp)),
            (item_key("crate-9"), Some(vc)),
        ],
    );
    let t6 = l.tx(observe("pallet-1", 2_000));
    let t7 = l.tx(Payload::Memo {
        data: b"bye".to_vec(),
    });
    let mut observed = pallet_packed;
    observed.last_observed_ms = Some(2_000);
    observed.location = Some("truck-7".into());
    let v = item_value(&observed, &[&t1, &t5, &t6]);
    l.block(
        vec![(t6, ok()), (t7, ok())],
        vec![(item_key("pallet-1"), Some(v))],
    );
    Example { ledger: l }
}

impl Example {
    pub fn head_certificate(&self) -> LedgerCertificate {
        self.ledger.certificate(self.ledger.height, &[0, 1, 2])
    }

    pub fn transaction_proof(&self, ledger_index: usize) -> TransactionProof {
        let (tx, receipt) = self.ledger.committed[ledger_index].clone();
        TransactionProof::build(
            self.head_certificate(),
            tx,
            receipt,
            self.ledger.accumulator.nodes(),
        )
        .unwrap()
    }

    /// `pallet-1` as of the head (present) or `missing-7` (absent).
    pub fn state_proof(&self, item_id: &str) -> ItemStateProof {
        let cert = self.head_certificate();
        let value = self.value_at_head(item_id);
        ItemStateProof::build(cert, item_id, value, &self.ledger.smt).unwrap()
    }

    pub fn value_at_head(&self, item_id: &str) -> Option<Vec<u8>> {
        self.ledger.values.get(&item_key(item_id)).cloned()
    }

    /// The events of each item: `pallet-1` commission (0), aggregate (4), observe (5);
    /// `crate-9` commission (2), aggregate (4); any other item none.
    pub fn events_of(item_id: &str) -> &'static [usize] {
        match item_id {
            "pallet-1" => &[0, 4, 5],
            "crate-9" => &[2, 4],
            _ => &[],
        }
    }

    /// `item_id`'s whole history, against the head certificate.
    pub fn history_proof_of(&self, item_id: &str) -> HistoryProof {
        self.history_proof_with(item_id, Self::events_of(item_id))
    }

    /// A history proof of `item_id` listing the transactions at `ledger_indexes` (built as an
    /// honest node would, except for the choice of events: the builder refuses a list that does
    /// not chain to the certified head, so the proof is assembled around its checks).
    pub fn history_proof_with(&self, item_id: &str, ledger_indexes: &[usize]) -> HistoryProof {
        let honest = HistoryProof::build(
            self.head_certificate(),
            item_id,
            self.value_at_head(item_id),
            Self::events_of(item_id)
                .iter()
                .map(|&i| self.ledger.committed[i].clone())
                .collect(),
            self.ledger.accumulator.nodes(),
            &self.ledger.smt,
        )
        .unwrap();
        let entries = ledger_indexes
            .iter()
            .map(|&i| {
                let (transaction, receipt) = self.ledger.committed[i].clone();
                HistoryProofEntry {
                    inclusion_proof: self
                        .ledger
                        .accumulator
                        .prove_inclusion(i as u64, self.ledger.accumulator.size())
                        .unwrap(),
                    ledger_index: i as u64,
                    transaction,
                    receipt,
                }
            })
            .collect();
        HistoryProof { entries, ..honest }
    }

    /// `pallet-1`'s history: commission (0), aggregate (4), observe (5).
    pub fn history_proof(&self) -> HistoryProof {
        self.history_proof_of("pallet-1")
    }

    /// From height 2 (4 leaves... see `sizes`) to the head.
    pub fn consistency_proof(&self, older: u64) -> LedgerConsistencyProof {
        LedgerConsistencyProof::build(
            self.ledger.certificate(older, &[1, 2, 3]),
            self.head_certificate(),
            self.ledger.accumulator.nodes(),
        )
        .unwrap()
    }
}
