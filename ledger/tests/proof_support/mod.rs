//! A small ledger built in memory (no RocksDB): fixed keys, a 4-validator genesis, blocks of real
//! signed transactions with receipts appended to an in-memory accumulator, item records in an
//! in-memory sparse Merkle tree, and certificates signed by chosen validators. Shared by
//! `proof_props.rs` and `proof_vectors.rs` (`mod proof_support;`).
#![allow(dead_code)]

use std::collections::BTreeMap;

use waybill_ledger::accumulator::{tx_leaf_hash, MemoryAccumulator};
use waybill_ledger::encoding::to_canonical;
use waybill_ledger::genesis::{peer_id_of, ConsensusParams, Genesis, Validator};
use waybill_ledger::hash::Hash;
use waybill_ledger::merkle::Blake3Hasher;
use waybill_ledger::proof::{
    CheckpointVote, HistoryProof, ItemStateProof, LedgerCertificate, LedgerCheckpoint,
    LedgerConsistencyProof, TransactionProof,
};
use waybill_ledger::receipt::{ExecStatus, Receipt, TxLeaf};
use waybill_ledger::smt::{MemoryNodeStore, EMPTY};
use waybill_ledger::supply::state::item_key;
use waybill_ledger::supply::{Commission, ItemRecord, ItemStatus, Observe, Packing};
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
    Genesis {
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
        organizations: vec![],
        accounts: vec![],
    }
}

pub fn item(id: &str, owner: &str) -> ItemRecord {
    ItemRecord {
        id: id.into(),
        item_type: "pallet".into(),
        owner: owner.into(),
        custodian: owner.into(),
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

/// A ledger in memory: what a node's store holds, minus RocksDB.
pub struct Ledger {
    pub accumulator: MemoryAccumulator<Blake3Hasher>,
    pub smt: MemoryNodeStore,
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
        properties: BTreeMap::new(),
        location: Some("dock-3".into()),
    })
}

pub fn observe(id: &str, time_ms: u64) -> Payload {
    Payload::Observe(Observe {
        item_id: id.into(),
        time_ms,
        location: Some("truck-7".into()),
        readings: vec![],
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
    l.block(
        vec![(t1, ok()), (t2, ok())],
        vec![(item_key("pallet-1"), Some(to_canonical(&pallet)))],
    );
    let t3 = l.tx(commission("crate-9"));
    let t4 = l.tx(observe("pallet-1", 1_000));
    let crate9 = item("crate-9", "acme");
    l.block(
        vec![
            (t3, ok()),
            (
                t4,
                ExecStatus::Failed {
                    code: "not_custodian".into(),
                    message: "made up".into(),
                },
            ),
        ],
        vec![(item_key("crate-9"), Some(to_canonical(&crate9)))],
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
    l.block(
        vec![(t5, ok())],
        vec![
            (item_key("pallet-1"), Some(to_canonical(&pallet_packed))),
            (item_key("crate-9"), Some(to_canonical(&crate_packed))),
        ],
    );
    let t6 = l.tx(observe("pallet-1", 2_000));
    let t7 = l.tx(Payload::Memo {
        data: b"bye".to_vec(),
    });
    let mut observed = pallet_packed;
    observed.last_observed_ms = Some(2_000);
    observed.location = Some("truck-7".into());
    l.block(
        vec![(t6, ok()), (t7, ok())],
        vec![(item_key("pallet-1"), Some(to_canonical(&observed)))],
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
        // The tree holds value hashes only; the fixture knows the values it wrote last.
        match item_id {
            "pallet-1" => {
                let mut r = item("pallet-1", "acme");
                r.children = vec!["crate-9".into()];
                r.contents_count = 1;
                r.last_observed_ms = Some(2_000);
                r.location = Some("truck-7".into());
                Some(to_canonical(&r))
            }
            "crate-9" => {
                let mut r = item("crate-9", "acme");
                r.parent = Some("pallet-1".into());
                Some(to_canonical(&r))
            }
            _ => None,
        }
    }

    /// `pallet-1`'s history: commission (0), aggregate (4), observe (5).
    pub fn history_proof(&self) -> HistoryProof {
        let events = [0usize, 4, 5]
            .iter()
            .map(|&i| self.ledger.committed[i].clone())
            .collect();
        HistoryProof::build(
            self.head_certificate(),
            "pallet-1",
            events,
            self.ledger.accumulator.nodes(),
        )
        .unwrap()
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
