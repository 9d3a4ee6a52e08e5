//! The supply-chain state machine: a full story, one test per permission rule (the forbidden
//! action fails with its documented code and changes nothing but the sequence number), and a
//! property test that random action sequences never panic and execute deterministically.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use serde_json::json;

use super::codes;
use super::events::{EventKind, EventRecord, ItemRef, ItemRole};
use super::limits::*;
use super::payload::*;
use super::state::*;
use super::{genesis_state, JsonValue};
use crate::crypto::{KeyPair, PublicKey};
use crate::execute::{
    execute_block, next_sequence, sequence_key, BlockExecution, ExecError, StateReader,
};
use crate::genesis::{self, Account, ConsensusParams, Genesis, Organization, Validator};
use crate::hash::Hash;
use crate::receipt::ExecStatus;
use crate::tx::{Payload, SignedTransaction, Transaction, TxError};

const CHAIN: &str = "waybill-test";

/// Test keys, by seed.
const FARM_ADMIN: u8 = 10;
const FARM_OP: u8 = 11;
const FARM_AUDITOR: u8 = 12;
const PROC_ADMIN: u8 = 20;
const PROC_OP: u8 = 21;
const SHIP_ADMIN: u8 = 30;
const SHIP_OP: u8 = 31;
const RETAIL_ADMIN: u8 = 40;
const RETAIL_OP: u8 = 41;
const OUTSIDER: u8 = 99;

fn kp(seed: u8) -> KeyPair {
    KeyPair::from_secret([seed; 32])
}

fn pk(seed: u8) -> PublicKey {
    kp(seed).public()
}

fn test_genesis() -> Genesis {
    let org = |id: &str, admin: u8| Organization {
        id: id.into(),
        name: format!("{id} Ltd"),
        admins: vec![pk(admin)],
    };
    let acct = |key: u8, org: &str, role: &str| Account {
        key: pk(key),
        organization: org.into(),
        roles: vec![role.into()],
    };
    let g = Genesis {
        chain_id: CHAIN.into(),
        genesis_time_ms: 0,
        consensus: ConsensusParams::default(),
        validators: vec![Validator {
            name: "v0".into(),
            consensus_key: pk(1),
            peer_id: genesis::peer_id_of(&pk(2).0),
            power: 1,
        }],
        organizations: vec![
            org("farm", FARM_ADMIN),
            org("processor", PROC_ADMIN),
            org("shipper", SHIP_ADMIN),
            org("retailer", RETAIL_ADMIN),
        ],
        // Genesis admins other than the farm's get their account from `genesis_state`.
        accounts: vec![
            acct(FARM_ADMIN, "farm", "admin"),
            acct(FARM_OP, "farm", "operator"),
            acct(FARM_AUDITOR, "farm", "auditor"),
            acct(PROC_OP, "processor", "operator"),
            acct(SHIP_OP, "shipper", "operator"),
            acct(RETAIL_OP, "retailer", "operator"),
        ],
        governance: None,
        observers: vec![],
    };
    g.validate().unwrap();
    g
}

/// Committed state plus a helper to run one-transaction blocks against it.
#[derive(Clone)]
struct World {
    state: BTreeMap<Vec<u8>, Vec<u8>>,
    /// Every event so far with the ledger index of its transaction (for history checks).
    history: Vec<(u64, EventRecord)>,
    /// Every transaction's hash by ledger index (for the certified history heads).
    tx_hashes: BTreeMap<u64, Hash>,
    ledger_size: u64,
}

impl StateReader for World {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, ExecError> {
        Ok(self.state.get(key).cloned())
    }
}

impl World {
    fn new() -> World {
        let mut w = World {
            state: BTreeMap::new(),
            history: Vec::new(),
            tx_hashes: BTreeMap::new(),
            ledger_size: 0,
        };
        for (k, v) in genesis_state(&test_genesis()) {
            w.state.insert(k, v.unwrap());
        }
        w
    }

    fn tx(&self, signer: u8, payload: Payload) -> SignedTransaction {
        let key = kp(signer);
        Transaction {
            chain_id: CHAIN.into(),
            signer: key.public(),
            sequence: next_sequence(self, &key.public()).unwrap(),
            payload,
        }
        .sign(&key)
    }

    fn apply(&mut self, txs: &[SignedTransaction], ex: &BlockExecution) {
        for (i, tx) in txs.iter().enumerate() {
            self.tx_hashes
                .insert(self.ledger_size + i as u64, tx.hash());
        }
        for (k, v) in &ex.delta {
            match v {
                Some(v) => self.state.insert(k.clone(), v.clone()),
                None => self.state.remove(k),
            };
        }
        for e in &ex.events {
            self.history
                .push((self.ledger_size + u64::from(e.tx_index), e.clone()));
        }
        self.ledger_size += ex.statuses.len() as u64;
    }

    fn run(&mut self, signer: u8, payload: Payload) -> BlockExecution {
        let txs = [self.tx(signer, payload)];
        let ex = execute_block(CHAIN, &txs, self).unwrap();
        self.apply(&txs, &ex);
        ex
    }

    /// Runs an action that must succeed; returns its event.
    #[track_caller]
    fn ok(&mut self, signer: u8, payload: Payload) -> EventRecord {
        let ex = self.run(signer, payload);
        assert_eq!(ex.statuses, vec![ExecStatus::Success]);
        assert_eq!(ex.events.len(), 1);
        ex.events[0].clone()
    }

    /// Runs an action that must fail with `code`, changing nothing but the signer's sequence.
    #[track_caller]
    fn fails(&mut self, signer: u8, payload: Payload, code: &str) -> String {
        let before = self.state.clone();
        let seq = next_sequence(self, &pk(signer)).unwrap();
        let ex = self.run(signer, payload);
        let message = match &ex.statuses[..] {
            [ExecStatus::Failed { code: c, message }] => {
                assert_eq!(c, code, "wrong code; message: {message}");
                message.clone()
            }
            other => panic!("expected failure {code}, got {other:?}"),
        };
        assert!(codes::ALL.contains(&code), "{code} is not documented");
        assert!(ex.events.is_empty());
        let only_bump: crate::execute::StateDelta = [(
            sequence_key(&pk(signer)),
            Some((seq + 1).to_be_bytes().to_vec()),
        )]
        .into();
        assert_eq!(
            ex.delta, only_bump,
            "a failed action must change nothing else"
        );
        let mut expected = before;
        expected.insert(sequence_key(&pk(signer)), (seq + 1).to_be_bytes().to_vec());
        assert_eq!(self.state, expected);
        message
    }

    fn item(&self, id: &str) -> ItemRecord {
        read_item(self, id).unwrap().expect(id)
    }

    /// The history head the item's state value certifies.
    fn head(&self, id: &str) -> HistoryHead {
        read_item_state(self, id).unwrap().expect(id).history
    }

    /// The head of the item's entries in the history index, computed apart from execution: one
    /// per event listing the item (in any role, once per event), in ledger order.
    fn indexed_head(&self, id: &str) -> HistoryHead {
        let hashes: Vec<Hash> = self
            .history
            .iter()
            .filter(|(_, e)| e.items.iter().any(|r| r.item_id == id))
            .map(|(i, _)| self.tx_hashes[i])
            .collect();
        HistoryHead::of(&hashes).unwrap()
    }

    fn pending(&self, id: &str) -> Option<PendingTransfer> {
        read_transfer(self, id).unwrap()
    }

    /// The kinds of the events that touched `id`, in ledger order.
    fn history_of(&self, id: &str) -> Vec<(EventKind, ItemRole)> {
        self.history
            .iter()
            .flat_map(|(_, e)| {
                e.items
                    .iter()
                    .filter(|r| r.item_id == id)
                    .map(|r| (e.kind, r.role))
            })
            .collect()
    }
}

// ---- payload builders ----------------------------------------------------------------------

fn props(v: serde_json::Value) -> Properties {
    v.as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), JsonValue::new(v).unwrap()))
        .collect()
}

fn commission(id: &str, item_type: &str) -> Payload {
    Payload::Commission(Commission {
        item_id: id.into(),
        item_type: item_type.into(),
        properties: Properties::new(),
        location: None,
    })
}

fn observe(id: &str, time_ms: u64) -> Payload {
    Payload::Observe(Observe {
        item_id: id.into(),
        time_ms,
        location: None,
        readings: vec![],
    })
}

fn propose(id: &str, kind: TransferKind, to: &str) -> Payload {
    Payload::ProposeTransfer(ProposeTransfer {
        item_id: id.into(),
        kind,
        to_organization: to.into(),
    })
}

fn response(id: &str, kind: TransferKind) -> TransferResponse {
    TransferResponse {
        item_id: id.into(),
        kind,
    }
}

fn accept(id: &str, kind: TransferKind) -> Payload {
    Payload::AcceptTransfer(response(id, kind))
}

fn reject(id: &str, kind: TransferKind) -> Payload {
    Payload::RejectTransfer(response(id, kind))
}

fn cancel(id: &str, kind: TransferKind) -> Payload {
    Payload::CancelTransfer(response(id, kind))
}

fn packing(container: &str, children: &[&str]) -> Packing {
    Packing {
        container_id: container.into(),
        children: children.iter().map(|c| c.to_string()).collect(),
    }
}

fn aggregate(container: &str, children: &[&str]) -> Payload {
    Payload::Aggregate(packing(container, children))
}

fn disaggregate(container: &str, children: &[&str]) -> Payload {
    Payload::Disaggregate(packing(container, children))
}

fn transform(inputs: &[&str], outputs: &[&str]) -> Payload {
    Payload::Transform(Transform {
        inputs: inputs.iter().map(|c| c.to_string()).collect(),
        outputs: outputs
            .iter()
            .map(|o| NewItem {
                item_id: o.to_string(),
                item_type: "product".into(),
                properties: Properties::new(),
            })
            .collect(),
        location: None,
    })
}

fn attach(id: &str) -> Payload {
    Payload::AttachDocument(AttachDocument {
        item_id: id.into(),
        hash_algorithm: HashAlgorithm::Sha256,
        hash: Hash([7; 32]),
        uri: "https://docs.example/coa.pdf".into(),
        media_type: "application/pdf".into(),
    })
}

fn decommission(id: &str) -> Payload {
    Payload::Decommission(Decommission {
        item_id: id.into(),
        reason: None,
    })
}

fn add_account(org: &str, key: u8, roles: &[&str]) -> Payload {
    Payload::AddAccount(AddAccount {
        organization: org.into(),
        key: pk(key),
        roles: roles.iter().map(|r| r.to_string()).collect(),
    })
}

fn remove_account(org: &str, key: u8) -> Payload {
    Payload::RemoveAccount(RemoveAccount {
        organization: org.into(),
        key: pk(key),
    })
}

use TransferKind::{Custody, Ownership};

fn subject(id: &str) -> ItemRef {
    ItemRef {
        item_id: id.into(),
        role: ItemRole::Subject,
    }
}

fn iref(id: &str, role: ItemRole) -> ItemRef {
    ItemRef {
        item_id: id.into(),
        role,
    }
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// Farm has commissioned `a` and `b`; `box` is an empty farm container.
fn farm_world() -> World {
    let mut w = World::new();
    w.ok(FARM_OP, commission("a", "lot"));
    w.ok(FARM_OP, commission("b", "lot"));
    w.ok(FARM_OP, commission("box", "crate"));
    w
}

// ---- genesis -------------------------------------------------------------------------------

#[test]
fn genesis_state_writes_organizations_and_accounts() {
    let w = World::new();
    let farm = read_org(&w, "farm").unwrap().unwrap();
    assert_eq!(farm.admins, vec![pk(FARM_ADMIN)]);
    assert_eq!(farm.name, "farm Ltd");
    let op = read_account(&w, &pk(PROC_OP)).unwrap().unwrap();
    assert_eq!(op.organization, "processor");
    assert_eq!(op.roles, strings(&["operator"]));
    // A genesis admin with no explicit account gets an admin account in its organization.
    let admin = read_account(&w, &pk(PROC_ADMIN)).unwrap().unwrap();
    assert_eq!(admin.organization, "processor");
    assert_eq!(admin.roles, strings(&["admin"]));
    assert!(read_account(&w, &pk(OUTSIDER)).unwrap().is_none());
    assert_eq!(
        genesis_state(&test_genesis()),
        genesis_state(&test_genesis())
    );
    // 4 organizations, 6 listed accounts, 3 admin accounts added, and governance's validator
    // set and organization list.
    assert_eq!(genesis_state(&test_genesis()).len(), 4 + 6 + 3 + 2);
}

// ---- the full story ------------------------------------------------------------------------

#[test]
fn full_story_farm_to_retailer() {
    let mut w = World::new();

    // The farm commissions two lots at the farm.
    for lot in ["lot-1", "lot-2"] {
        let ev = w.ok(
            FARM_OP,
            Payload::Commission(Commission {
                item_id: lot.into(),
                item_type: "apple-lot".into(),
                properties: props(json!({"variety": "gala", "kg": 500})),
                location: Some("urn:epc:id:sgln:farm.1".into()),
            }),
        );
        assert_eq!(ev.kind, EventKind::Commission);
        assert_eq!(ev.organization, "farm");
        assert_eq!(ev.items, vec![subject(lot)]);
    }

    // Custody and ownership of the lots go to the processor, each with its consent.
    for lot in ["lot-1", "lot-2"] {
        let ev = w.ok(FARM_OP, propose(lot, Custody, "processor"));
        assert_eq!(ev.kind, EventKind::CustodyProposed);
        assert_eq!(ev.organizations, strings(&["farm", "processor"]));
        let p = w.pending(lot).unwrap();
        assert_eq!(
            (p.from_organization.as_str(), p.to_organization.as_str()),
            ("farm", "processor")
        );
        assert_eq!(p.proposer, pk(FARM_OP));
        assert_eq!(
            w.item(lot).custodian,
            "farm",
            "nothing moves before acceptance"
        );
        let ev = w.ok(PROC_OP, accept(lot, Custody));
        assert_eq!(ev.kind, EventKind::CustodyAccepted);
        assert_eq!(ev.organization, "processor");
        assert_eq!(ev.organizations, strings(&["farm", "processor"]));
        w.ok(FARM_ADMIN, propose(lot, Ownership, "processor"));
        w.ok(PROC_ADMIN, accept(lot, Ownership));
        assert!(w.pending(lot).is_none());
        let item = w.item(lot);
        assert_eq!(
            (item.owner.as_str(), item.custodian.as_str()),
            ("processor", "processor")
        );
    }

    // The processor turns the lots into juice.
    let ev = w.ok(
        PROC_OP,
        Payload::Transform(Transform {
            inputs: strings(&["lot-1", "lot-2"]),
            outputs: ["juice-1", "juice-2"]
                .iter()
                .map(|id| NewItem {
                    item_id: id.to_string(),
                    item_type: "juice-case".into(),
                    properties: props(json!({"litres": 12})),
                })
                .collect(),
            location: Some("urn:epc:id:sgln:plant.7".into()),
        }),
    );
    assert_eq!(ev.kind, EventKind::Transform);
    assert_eq!(
        ev.items,
        vec![
            iref("lot-1", ItemRole::Input),
            iref("lot-2", ItemRole::Input),
            iref("juice-1", ItemRole::Output),
            iref("juice-2", ItemRole::Output),
        ]
    );

    // ... packs the juice onto a pallet ...
    w.ok(PROC_OP, commission("pallet-1", "pallet"));
    let ev = w.ok(PROC_OP, aggregate("pallet-1", &["juice-1", "juice-2"]));
    assert_eq!(
        ev.items,
        vec![
            iref("pallet-1", ItemRole::Container),
            iref("juice-1", ItemRole::Child),
            iref("juice-2", ItemRole::Child),
        ]
    );

    // ... and hands it to the shipper, contents included.
    w.ok(PROC_OP, propose("pallet-1", Custody, "shipper"));
    let ev = w.ok(SHIP_OP, accept("pallet-1", Custody));
    assert_eq!(
        ev.items,
        vec![
            subject("pallet-1"),
            iref("juice-1", ItemRole::Contents),
            iref("juice-2", ItemRole::Contents),
        ]
    );
    assert_eq!(w.item("juice-2").custodian, "shipper");

    // The shipper records temperatures and attaches the bill of lading.
    for (t, temp) in [(1_000u64, 4.5), (2_000, 5.0)] {
        let ev = w.ok(
            SHIP_OP,
            Payload::Observe(Observe {
                item_id: "pallet-1".into(),
                time_ms: t,
                location: Some(format!("geo:52.{t},4.3")),
                readings: vec![Reading {
                    kind: "temperature".into(),
                    value: JsonValue::new(&json!(temp)).unwrap(),
                    unit: Some("Cel".into()),
                }],
            }),
        );
        assert_eq!(ev.kind, EventKind::Observe);
        assert_eq!(ev.organization, "shipper");
    }
    // A late, older observation is recorded but does not move the item back.
    w.ok(
        SHIP_OP,
        Payload::Observe(Observe {
            item_id: "pallet-1".into(),
            time_ms: 1_500,
            location: Some("geo:0,0".into()),
            readings: vec![],
        }),
    );
    let bol_hash = Hash([0xb1; 32]);
    w.ok(
        SHIP_OP,
        Payload::AttachDocument(AttachDocument {
            item_id: "pallet-1".into(),
            hash_algorithm: HashAlgorithm::Blake3,
            hash: bol_hash,
            uri: "ipfs://bafy-bol-1".into(),
            media_type: "application/pdf".into(),
        }),
    );

    // Shipper -> retailer (custody), processor -> retailer (ownership).
    w.ok(SHIP_OP, propose("pallet-1", Custody, "retailer"));
    w.ok(RETAIL_OP, accept("pallet-1", Custody));
    w.ok(PROC_OP, propose("pallet-1", Ownership, "retailer"));
    let ev = w.ok(RETAIL_OP, accept("pallet-1", Ownership));
    assert_eq!(ev.kind, EventKind::OwnershipAccepted);
    assert_eq!(ev.organizations, strings(&["processor", "retailer"]));

    // The retailer unpacks and sells one case.
    w.ok(RETAIL_OP, disaggregate("pallet-1", &["juice-1", "juice-2"]));
    w.ok(
        RETAIL_OP,
        Payload::Decommission(Decommission {
            item_id: "juice-1".into(),
            reason: Some("sold".into()),
        }),
    );

    // Final state.
    let lot = w.item("lot-1");
    assert_eq!(lot.status, ItemStatus::Consumed);
    assert_eq!(lot.transformed_into, strings(&["juice-1", "juice-2"]));
    assert_eq!(lot.properties, props(json!({"kg": 500, "variety": "gala"})));
    assert_eq!(lot.location.as_deref(), Some("urn:epc:id:sgln:farm.1"));

    let juice = w.item("juice-1");
    assert_eq!(juice.status, ItemStatus::Decommissioned);
    assert_eq!(juice.decommission_reason.as_deref(), Some("sold"));
    assert_eq!(juice.derived_from, strings(&["lot-1", "lot-2"]));
    assert_eq!(
        (juice.owner.as_str(), juice.custodian.as_str()),
        ("retailer", "retailer")
    );
    assert_eq!(juice.parent, None);
    assert_eq!(juice.location.as_deref(), Some("urn:epc:id:sgln:plant.7"));
    let juice2 = w.item("juice-2");
    assert_eq!(juice2.status, ItemStatus::Active);
    assert_eq!(
        (juice2.owner.as_str(), juice2.custodian.as_str()),
        ("retailer", "retailer")
    );

    let pallet = w.item("pallet-1");
    assert_eq!(
        (pallet.owner.as_str(), pallet.custodian.as_str()),
        ("retailer", "retailer")
    );
    assert!(pallet.children.is_empty());
    assert_eq!(pallet.contents_count, 0);
    assert_eq!(pallet.last_observed_ms, Some(2_000));
    assert_eq!(pallet.location.as_deref(), Some("geo:52.2000,4.3"));
    assert_eq!(pallet.document_count, 1);
    let doc = read_document(&w, "pallet-1", 0).unwrap().unwrap();
    assert_eq!(doc.hash, bol_hash);
    assert_eq!(doc.hash_algorithm, HashAlgorithm::Blake3);
    assert_eq!(doc.attached_by, "shipper");
    assert!(w.pending("pallet-1").is_none());

    // History, in order, as the store would index it.
    use EventKind as K;
    use ItemRole as R;
    assert_eq!(
        w.history_of("juice-1"),
        vec![
            (K::Transform, R::Output),
            (K::Aggregate, R::Child),
            (K::CustodyAccepted, R::Contents),
            (K::CustodyAccepted, R::Contents),
            (K::OwnershipAccepted, R::Contents),
            (K::Disaggregate, R::Child),
            (K::Decommission, R::Subject),
        ]
    );
    assert_eq!(
        w.history_of("lot-2"),
        vec![
            (K::Commission, R::Subject),
            (K::CustodyProposed, R::Subject),
            (K::CustodyAccepted, R::Subject),
            (K::OwnershipProposed, R::Subject),
            (K::OwnershipAccepted, R::Subject),
            (K::Transform, R::Input),
        ]
    );
    // Events by organization: the shipper took part in these.
    let shipper: Vec<EventKind> = w
        .history
        .iter()
        .filter(|(_, e)| e.organizations.iter().any(|o| o == "shipper"))
        .map(|(_, e)| e.kind)
        .collect();
    assert_eq!(
        shipper,
        vec![
            K::CustodyProposed,
            K::CustodyAccepted,
            K::Observe,
            K::Observe,
            K::Observe,
            K::DocumentAttached,
            K::CustodyProposed,
            K::CustodyAccepted,
        ]
    );
    // Ledger indexes strictly increase: one event per successful supply transaction.
    assert!(w.history.windows(2).all(|p| p[0].0 < p[1].0));
    // Each item's certified history head counts and chains exactly those events, the ones it
    // took part in only as contents of a transferred container included.
    assert_eq!(w.head("juice-1").len, 7);
    assert_eq!(w.head("lot-2").len, 6);
    for id in ["juice-1", "juice-2", "lot-1", "lot-2", "pallet-1"] {
        assert_eq!(w.head(id), w.indexed_head(id), "{id}");
    }

    // Provenance from state alone: juice-2 <- lot-1, lot-2 <- commissioned by the farm.
    let mut trace = BTreeSet::new();
    let mut todo = vec!["juice-2".to_string()];
    while let Some(id) = todo.pop() {
        let item = w.item(&id);
        todo.extend(item.derived_from.iter().cloned());
        trace.insert(id);
    }
    assert_eq!(
        trace,
        BTreeSet::from(["juice-2", "lot-1", "lot-2"].map(String::from))
    );
}

// ---- accounts and roles --------------------------------------------------------------------

#[test]
fn signer_without_account_is_not_member() {
    let mut w = World::new();
    w.fails(OUTSIDER, commission("x", "lot"), codes::NOT_MEMBER);
    // Memos stay open to any signer.
    let ex = w.run(OUTSIDER, Payload::Memo { data: vec![1] });
    assert_eq!(ex.statuses, vec![ExecStatus::Success]);
    assert!(ex.events.is_empty());
}

#[test]
fn auditor_cannot_act() {
    let mut w = farm_world();
    w.fails(FARM_AUDITOR, commission("x", "lot"), codes::MISSING_ROLE);
    w.fails(FARM_AUDITOR, observe("a", 1), codes::MISSING_ROLE);
    w.fails(FARM_AUDITOR, decommission("a"), codes::MISSING_ROLE);
}

#[test]
fn only_admins_add_accounts_to_their_own_organization() {
    let mut w = World::new();
    w.fails(
        FARM_OP,
        add_account("farm", 50, &["operator"]),
        codes::NOT_ADMIN,
    );
    w.fails(
        PROC_ADMIN,
        add_account("farm", 50, &["operator"]),
        codes::NOT_ADMIN,
    );
    w.fails(
        FARM_ADMIN,
        add_account("nowhere", 50, &["operator"]),
        codes::UNKNOWN_ORGANIZATION,
    );
    w.fails(
        FARM_ADMIN,
        add_account("farm", PROC_OP, &["operator"]),
        codes::ACCOUNT_EXISTS,
    );
    let ev = w.ok(FARM_ADMIN, add_account("farm", 50, &["operator", "admin"]));
    assert_eq!(ev.kind, EventKind::AccountAdded);
    assert_eq!(ev.account, Some(pk(50)));
    assert_eq!(ev.organizations, strings(&["farm"]));
    let acct = read_account(&w, &pk(50)).unwrap().unwrap();
    assert_eq!(acct.roles, strings(&["admin", "operator"]));
    // An account with role admin administers its organization, and acts for it.
    w.ok(50, add_account("farm", 51, &["operator"]));
    w.ok(51, commission("x", "lot"));
    assert_eq!(w.item("x").owner, "farm");
    w.fails(50, add_account("processor", 52, &[]), codes::NOT_ADMIN);
}

#[test]
fn only_admins_remove_accounts_of_their_own_organization() {
    let mut w = World::new();
    w.fails(
        FARM_OP,
        remove_account("farm", FARM_AUDITOR),
        codes::NOT_ADMIN,
    );
    w.fails(
        FARM_ADMIN,
        remove_account("processor", PROC_OP),
        codes::NOT_ADMIN,
    );
    w.fails(
        FARM_ADMIN,
        remove_account("farm", PROC_OP),
        codes::ACCOUNT_NOT_IN_ORGANIZATION,
    );
    w.fails(
        FARM_ADMIN,
        remove_account("farm", OUTSIDER),
        codes::UNKNOWN_ACCOUNT,
    );
    w.fails(
        FARM_ADMIN,
        remove_account("nowhere", FARM_OP),
        codes::UNKNOWN_ORGANIZATION,
    );
    w.fails(
        FARM_ADMIN,
        remove_account("farm", FARM_ADMIN),
        codes::GENESIS_ADMIN,
    );
    w.fails(
        PROC_ADMIN,
        remove_account("processor", PROC_ADMIN),
        codes::GENESIS_ADMIN,
    );
    // A removed account can no longer act.
    w.ok(FARM_ADMIN, remove_account("farm", FARM_OP));
    w.fails(FARM_OP, commission("x", "lot"), codes::NOT_MEMBER);
}

#[test]
fn only_admins_set_roles() {
    let mut w = World::new();
    let set = |org: &str, key: u8, roles: &[&str]| {
        Payload::SetAccountRoles(SetAccountRoles {
            organization: org.into(),
            key: pk(key),
            roles: strings(roles),
        })
    };
    w.fails(
        FARM_OP,
        set("farm", FARM_AUDITOR, &["operator"]),
        codes::NOT_ADMIN,
    );
    w.fails(
        PROC_ADMIN,
        set("farm", FARM_AUDITOR, &["operator"]),
        codes::NOT_ADMIN,
    );
    w.fails(
        FARM_ADMIN,
        set("farm", PROC_OP, &["auditor"]),
        codes::ACCOUNT_NOT_IN_ORGANIZATION,
    );
    w.fails(
        FARM_ADMIN,
        set("farm", OUTSIDER, &[]),
        codes::UNKNOWN_ACCOUNT,
    );
    // Demoting an operator takes its power away; promoting the auditor gives it.
    w.ok(FARM_ADMIN, set("farm", FARM_OP, &["auditor"]));
    w.fails(FARM_OP, commission("x", "lot"), codes::MISSING_ROLE);
    w.ok(FARM_ADMIN, set("farm", FARM_AUDITOR, &["operator"]));
    w.ok(FARM_AUDITOR, commission("x", "lot"));
}

#[test]
fn genesis_admin_acts_whatever_its_roles() {
    let mut w = World::new();
    w.ok(
        FARM_ADMIN,
        Payload::SetAccountRoles(SetAccountRoles {
            organization: "farm".into(),
            key: pk(FARM_ADMIN),
            roles: vec![],
        }),
    );
    w.ok(FARM_ADMIN, commission("x", "lot"));
    w.ok(FARM_ADMIN, add_account("farm", 50, &[]));
}

// ---- commission and observe ----------------------------------------------------------------

#[test]
fn commission_needs_an_unused_id() {
    let mut w = farm_world();
    w.fails(PROC_OP, commission("a", "lot"), codes::ITEM_EXISTS);
    w.ok(FARM_OP, decommission("b"));
    w.fails(FARM_OP, commission("b", "lot"), codes::ITEM_EXISTS);
}

#[test]
fn only_the_custodian_observes() {
    let mut w = farm_world();
    w.fails(FARM_OP, observe("nope", 1), codes::UNKNOWN_ITEM);
    w.fails(PROC_OP, observe("a", 1), codes::NOT_CUSTODIAN);
    w.ok(FARM_OP, propose("a", Custody, "processor"));
    w.ok(PROC_OP, accept("a", Custody));
    // The farm still owns it but no longer holds it.
    w.fails(FARM_OP, observe("a", 1), codes::NOT_CUSTODIAN);
    w.ok(PROC_OP, observe("a", 1));
}

#[test]
fn inactive_items_reject_actions() {
    let mut w = farm_world();
    w.ok(FARM_OP, decommission("a"));
    w.fails(FARM_OP, observe("a", 1), codes::ITEM_DECOMMISSIONED);
    w.fails(
        FARM_OP,
        propose("a", Custody, "shipper"),
        codes::ITEM_DECOMMISSIONED,
    );
    w.fails(FARM_OP, decommission("a"), codes::ITEM_DECOMMISSIONED);
    w.fails(
        FARM_OP,
        aggregate("box", &["a"]),
        codes::ITEM_DECOMMISSIONED,
    );
    w.ok(FARM_OP, transform(&["b"], &["c"]));
    w.fails(FARM_OP, observe("b", 1), codes::ITEM_CONSUMED);
    w.fails(FARM_OP, transform(&["b"], &["d"]), codes::ITEM_CONSUMED);
    w.fails(
        FARM_OP,
        propose("b", Ownership, "shipper"),
        codes::ITEM_CONSUMED,
    );
    // Documents may still be attached after the fact.
    w.ok(FARM_OP, attach("a"));
    w.ok(FARM_OP, attach("b"));
}

// ---- transfers -----------------------------------------------------------------------------

#[test]
fn only_the_custodian_proposes_custody() {
    let mut w = farm_world();
    w.fails(
        PROC_OP,
        propose("a", Custody, "processor"),
        codes::NOT_CUSTODIAN,
    );
    w.ok(FARM_OP, propose("a", Custody, "processor"));
    w.ok(PROC_OP, accept("a", Custody));
    // The owner that gave custody away cannot send the goods on.
    w.fails(
        FARM_OP,
        propose("a", Custody, "shipper"),
        codes::NOT_CUSTODIAN,
    );
}

#[test]
fn only_the_owner_proposes_ownership() {
    let mut w = farm_world();
    w.ok(FARM_OP, propose("a", Custody, "processor"));
    w.ok(PROC_OP, accept("a", Custody));
    // The custodian cannot sell what it only holds.
    w.fails(
        PROC_OP,
        propose("a", Ownership, "shipper"),
        codes::NOT_OWNER,
    );
    w.fails(
        SHIP_OP,
        propose("a", Ownership, "shipper"),
        codes::NOT_OWNER,
    );
    w.ok(FARM_OP, propose("a", Ownership, "shipper"));
}

#[test]
fn proposal_target_must_exist_and_differ() {
    let mut w = farm_world();
    w.fails(
        FARM_OP,
        propose("a", Custody, "nowhere"),
        codes::UNKNOWN_ORGANIZATION,
    );
    w.fails(FARM_OP, propose("a", Custody, "farm"), codes::SELF_TRANSFER);
    w.fails(
        FARM_OP,
        propose("a", Ownership, "farm"),
        codes::SELF_TRANSFER,
    );
    w.fails(
        FARM_OP,
        propose("nope", Custody, "shipper"),
        codes::UNKNOWN_ITEM,
    );
}

#[test]
fn one_pending_transfer_per_item() {
    let mut w = farm_world();
    w.ok(FARM_OP, propose("a", Custody, "processor"));
    w.fails(
        FARM_OP,
        propose("a", Custody, "shipper"),
        codes::TRANSFER_PENDING,
    );
    w.fails(
        FARM_OP,
        propose("a", Ownership, "shipper"),
        codes::TRANSFER_PENDING,
    );
}

#[test]
fn only_the_recipient_accepts() {
    let mut w = farm_world();
    w.fails(PROC_OP, accept("a", Custody), codes::NO_PENDING_TRANSFER);
    w.fails(PROC_OP, accept("nope", Custody), codes::UNKNOWN_ITEM);
    w.ok(FARM_OP, propose("a", Custody, "processor"));
    w.fails(SHIP_OP, accept("a", Custody), codes::NOT_RECIPIENT);
    w.fails(FARM_OP, accept("a", Custody), codes::NOT_RECIPIENT);
    w.fails(FARM_AUDITOR, accept("a", Custody), codes::MISSING_ROLE);
    w.fails(OUTSIDER, accept("a", Custody), codes::NOT_MEMBER);
    // Consent is to one kind: accepting ownership when custody is offered fails.
    w.fails(
        PROC_OP,
        accept("a", Ownership),
        codes::TRANSFER_KIND_MISMATCH,
    );
    w.ok(PROC_OP, accept("a", Custody));
    w.fails(PROC_OP, accept("a", Custody), codes::NO_PENDING_TRANSFER);
}

#[test]
fn only_the_recipient_rejects() {
    let mut w = farm_world();
    w.fails(PROC_OP, reject("a", Custody), codes::NO_PENDING_TRANSFER);
    w.ok(FARM_OP, propose("a", Ownership, "processor"));
    w.fails(SHIP_OP, reject("a", Ownership), codes::NOT_RECIPIENT);
    w.fails(FARM_OP, reject("a", Ownership), codes::NOT_RECIPIENT);
    w.fails(PROC_OP, reject("a", Custody), codes::TRANSFER_KIND_MISMATCH);
    let ev = w.ok(PROC_OP, reject("a", Ownership));
    assert_eq!(ev.kind, EventKind::OwnershipRejected);
    assert_eq!(w.item("a").owner, "farm");
    assert!(w.pending("a").is_none());
}

#[test]
fn only_the_proposer_cancels() {
    let mut w = farm_world();
    w.fails(FARM_OP, cancel("a", Custody), codes::NO_PENDING_TRANSFER);
    w.ok(FARM_OP, propose("a", Custody, "processor"));
    w.fails(PROC_OP, cancel("a", Custody), codes::NOT_PROPOSER);
    w.fails(SHIP_OP, cancel("a", Custody), codes::NOT_PROPOSER);
    w.fails(
        FARM_OP,
        cancel("a", Ownership),
        codes::TRANSFER_KIND_MISMATCH,
    );
    // Any operator of the proposing organization may cancel, not only the proposing account.
    let ev = w.ok(FARM_ADMIN, cancel("a", Custody));
    assert_eq!(ev.kind, EventKind::CustodyCancelled);
    assert_eq!(w.item("a").custodian, "farm");
    w.fails(PROC_OP, accept("a", Custody), codes::NO_PENDING_TRANSFER);
}

#[test]
fn ownership_of_a_container_moves_only_the_proposers_contents() {
    let mut w = farm_world();
    // The processor commissions "p" and hands custody of it to the farm, which packs it.
    w.ok(PROC_OP, commission("p", "lot"));
    w.ok(PROC_OP, propose("p", Custody, "farm"));
    w.ok(FARM_OP, accept("p", Custody));
    w.ok(FARM_OP, aggregate("box", &["a", "p"]));
    w.ok(FARM_OP, propose("box", Ownership, "retailer"));
    let ev = w.ok(RETAIL_OP, accept("box", Ownership));
    assert_eq!(
        ev.items,
        vec![subject("box"), iref("a", ItemRole::Contents)]
    );
    assert_eq!(w.item("box").owner, "retailer");
    assert_eq!(w.item("a").owner, "retailer");
    assert_eq!(w.item("p").owner, "processor");
    assert_eq!(w.item("p").custodian, "farm");
}

// ---- aggregate and disaggregate ------------------------------------------------------------

#[test]
fn aggregate_needs_custody_of_container_and_children() {
    let mut w = farm_world();
    w.ok(PROC_OP, commission("pbox", "crate"));
    w.ok(PROC_OP, commission("p", "lot"));
    w.fails(PROC_OP, aggregate("box", &["p"]), codes::NOT_CUSTODIAN);
    w.fails(FARM_OP, aggregate("box", &["a", "p"]), codes::NOT_CUSTODIAN);
    w.fails(FARM_OP, aggregate("pbox", &["a"]), codes::NOT_CUSTODIAN);
    w.fails(
        FARM_OP,
        aggregate("box", &["a", "nope"]),
        codes::UNKNOWN_ITEM,
    );
    w.fails(FARM_OP, aggregate("nope", &["a"]), codes::UNKNOWN_ITEM);
}

#[test]
fn aggregate_refuses_packed_items_and_cycles() {
    let mut w = farm_world();
    w.ok(FARM_OP, commission("pallet", "pallet"));
    w.fails(FARM_OP, aggregate("box", &["box"]), codes::CYCLE);
    w.ok(FARM_OP, aggregate("box", &["a"]));
    // `a` is already in a container.
    w.fails(
        FARM_OP,
        aggregate("pallet", &["a"]),
        codes::ITEM_IN_CONTAINER,
    );
    w.ok(FARM_OP, aggregate("pallet", &["box"]));
    // The box is packed now: its contents are frozen, and it cannot take the pallet.
    w.fails(FARM_OP, aggregate("box", &["b"]), codes::ITEM_IN_CONTAINER);
    w.fails(
        FARM_OP,
        disaggregate("box", &["a"]),
        codes::ITEM_IN_CONTAINER,
    );
    w.fails(
        FARM_OP,
        aggregate("box", &["pallet"]),
        codes::ITEM_IN_CONTAINER,
    );
    // A packed item cannot be transferred, transformed or decommissioned on its own.
    w.fails(
        FARM_OP,
        propose("a", Custody, "shipper"),
        codes::ITEM_IN_CONTAINER,
    );
    w.fails(
        FARM_OP,
        propose("box", Ownership, "shipper"),
        codes::ITEM_IN_CONTAINER,
    );
    w.fails(FARM_OP, transform(&["a"], &["x"]), codes::ITEM_IN_CONTAINER);
    w.fails(FARM_OP, decommission("a"), codes::ITEM_IN_CONTAINER);
    // ... but can be observed and documented.
    w.ok(FARM_OP, observe("a", 5));
    w.ok(FARM_OP, attach("a"));
    let pallet = w.item("pallet");
    assert_eq!(pallet.children, strings(&["box"]));
    assert_eq!(pallet.contents_count, 2);
    // Unpacking from the outside in.
    w.fails(
        FARM_OP,
        disaggregate("pallet", &["a"]),
        codes::CONTAINER_MISMATCH,
    );
    w.ok(FARM_OP, disaggregate("pallet", &["box"]));
    assert_eq!(w.item("pallet").contents_count, 0);
    w.ok(FARM_OP, disaggregate("box", &["a"]));
    assert_eq!(w.item("a").parent, None);
}

#[test]
fn aggregate_refuses_items_with_pending_transfers() {
    let mut w = farm_world();
    w.ok(FARM_OP, propose("a", Custody, "processor"));
    w.fails(FARM_OP, aggregate("box", &["a"]), codes::TRANSFER_PENDING);
    w.ok(FARM_OP, propose("box", Custody, "processor"));
    w.fails(FARM_OP, aggregate("box", &["b"]), codes::TRANSFER_PENDING);
    w.fails(
        FARM_OP,
        disaggregate("box", &["b"]),
        codes::TRANSFER_PENDING,
    );
}

#[test]
fn container_capacity_is_bounded() {
    let mut w = farm_world();
    let ids: Vec<String> = (0..=MAX_CONTAINER_CHILDREN)
        .map(|i| format!("c{i}"))
        .collect();
    let txs: Vec<SignedTransaction> = {
        let base = next_sequence(&w, &pk(FARM_OP)).unwrap();
        ids.iter()
            .enumerate()
            .map(|(i, id)| {
                Transaction {
                    chain_id: CHAIN.into(),
                    signer: pk(FARM_OP),
                    sequence: base + i as u64,
                    payload: commission(id, "lot"),
                }
                .sign(&kp(FARM_OP))
            })
            .collect()
    };
    let ex = execute_block(CHAIN, &txs, &w).unwrap();
    assert!(ex.statuses.iter().all(|s| *s == ExecStatus::Success));
    w.apply(&txs, &ex);
    let first: Vec<&str> = ids[..MAX_CONTAINER_CHILDREN]
        .iter()
        .map(String::as_str)
        .collect();
    w.ok(FARM_OP, aggregate("box", &first));
    w.fails(
        FARM_OP,
        aggregate("box", &[ids[MAX_CONTAINER_CHILDREN].as_str()]),
        codes::TOO_MANY_CONTENTS,
    );
}

#[test]
fn disaggregate_needs_custody_and_the_right_container() {
    let mut w = farm_world();
    w.ok(FARM_OP, aggregate("box", &["a"]));
    w.fails(PROC_OP, disaggregate("box", &["a"]), codes::NOT_CUSTODIAN);
    w.fails(
        FARM_OP,
        disaggregate("box", &["b"]),
        codes::CONTAINER_MISMATCH,
    );
    w.fails(
        FARM_OP,
        disaggregate("box", &["a", "b"]),
        codes::CONTAINER_MISMATCH,
    );
    w.fails(FARM_OP, disaggregate("box", &["nope"]), codes::UNKNOWN_ITEM);
    let ev = w.ok(FARM_OP, disaggregate("box", &["a"]));
    assert_eq!(
        ev.items,
        vec![iref("box", ItemRole::Container), iref("a", ItemRole::Child)]
    );
}

// ---- transform -----------------------------------------------------------------------------

#[test]
fn transform_needs_custody_of_every_input() {
    let mut w = farm_world();
    w.ok(PROC_OP, commission("p", "lot"));
    w.fails(
        FARM_OP,
        transform(&["a", "p"], &["x"]),
        codes::NOT_CUSTODIAN,
    );
    w.fails(PROC_OP, transform(&["a"], &["x"]), codes::NOT_CUSTODIAN);
    w.fails(
        FARM_OP,
        transform(&["a", "nope"], &["x"]),
        codes::UNKNOWN_ITEM,
    );
}

#[test]
fn transform_refuses_packed_full_pending_or_existing() {
    let mut w = farm_world();
    w.fails(FARM_OP, transform(&["a"], &["b"]), codes::ITEM_EXISTS);
    w.ok(FARM_OP, aggregate("box", &["a"]));
    w.fails(FARM_OP, transform(&["a"], &["x"]), codes::ITEM_IN_CONTAINER);
    w.fails(
        FARM_OP,
        transform(&["box"], &["x"]),
        codes::CONTAINER_NOT_EMPTY,
    );
    w.ok(FARM_OP, propose("b", Ownership, "processor"));
    w.fails(FARM_OP, transform(&["b"], &["x"]), codes::TRANSFER_PENDING);
}

// ---- documents and decommission ------------------------------------------------------------

#[test]
fn only_owner_or_custodian_attaches_documents() {
    let mut w = farm_world();
    w.fails(PROC_OP, attach("a"), codes::NOT_OWNER_OR_CUSTODIAN);
    w.fails(PROC_OP, attach("nope"), codes::UNKNOWN_ITEM);
    w.ok(FARM_OP, propose("a", Custody, "processor"));
    w.ok(PROC_OP, accept("a", Custody));
    // Custodian and owner both may.
    w.ok(PROC_OP, attach("a"));
    w.ok(FARM_OP, attach("a"));
    w.fails(SHIP_OP, attach("a"), codes::NOT_OWNER_OR_CUSTODIAN);
    assert_eq!(w.item("a").document_count, 2);
    assert_eq!(
        read_document(&w, "a", 1).unwrap().unwrap().attached_by,
        "farm"
    );
}

#[test]
fn only_the_owner_decommissions() {
    let mut w = farm_world();
    w.fails(PROC_OP, decommission("a"), codes::NOT_OWNER);
    w.ok(FARM_OP, propose("a", Custody, "processor"));
    w.ok(PROC_OP, accept("a", Custody));
    w.fails(PROC_OP, decommission("a"), codes::NOT_OWNER);
    w.ok(FARM_OP, decommission("a"));
}

#[test]
fn decommission_refuses_packed_full_or_pending() {
    let mut w = farm_world();
    w.ok(FARM_OP, aggregate("box", &["a"]));
    w.fails(FARM_OP, decommission("a"), codes::ITEM_IN_CONTAINER);
    w.fails(FARM_OP, decommission("box"), codes::CONTAINER_NOT_EMPTY);
    w.ok(FARM_OP, propose("b", Custody, "processor"));
    w.fails(FARM_OP, decommission("b"), codes::TRANSFER_PENDING);
    w.fails(FARM_OP, decommission("nope"), codes::UNKNOWN_ITEM);
}

#[test]
fn documents_per_item_are_bounded() {
    let mut w = farm_world();
    let mut state = read_item_state(&w, "a").unwrap().unwrap();
    state.record.document_count = MAX_DOCUMENTS_PER_ITEM;
    w.state
        .insert(item_key("a"), crate::encoding::to_canonical(&state));
    w.fails(FARM_OP, attach("a"), codes::TOO_MANY_DOCUMENTS);
}

#[test]
fn every_event_and_only_events_advance_the_items_history_head() {
    let mut w = farm_world();
    assert_eq!(w.head("a").len, 1);
    // An observation older than the last one changes no field of the record, yet is an event.
    w.ok(FARM_OP, observe("a", 10));
    w.ok(FARM_OP, observe("a", 5));
    assert_eq!(w.item("a").last_observed_ms, Some(10));
    assert_eq!(w.head("a").len, 3);
    // Failed actions (`fails` checks they write nothing but the sequence), memos and account
    // actions are no item's events.
    w.fails(PROC_OP, observe("a", 20), codes::NOT_CUSTODIAN);
    w.run(FARM_OP, Payload::Memo { data: vec![1] });
    w.ok(
        FARM_ADMIN,
        Payload::SetAccountRoles(SetAccountRoles {
            organization: "farm".into(),
            key: pk(FARM_AUDITOR),
            roles: strings(&["operator"]),
        }),
    );
    assert_eq!(w.head("a").len, 3);
    // `a` packed into `box`, and custody of `box` accepted: `a` moved with it (as contents),
    // which is `a`'s event too; the proposal names only `box`.
    w.ok(FARM_OP, aggregate("box", &["a"]));
    w.ok(FARM_OP, propose("box", Custody, "processor"));
    w.ok(PROC_OP, accept("box", Custody));
    assert_eq!(w.head("a").len, 5);
    assert_eq!(w.head("box").len, 4);
    assert_eq!(w.head("b").len, 1);
    for id in ["a", "b", "box"] {
        assert_eq!(w.head(id), w.indexed_head(id), "{id}");
    }
    // The client's view of the record is unchanged by the head.
    assert_eq!(w.item("a").custodian, "processor");
}

#[test]
fn every_code_is_documented_in_the_rule_table() {
    let doc = include_str!("mod.rs");
    for code in codes::ALL {
        assert!(
            doc.contains(&format!("`{code}`")),
            "{code} missing from the module doc"
        );
    }
}

// ---- envelope and payloads -----------------------------------------------------------------

#[test]
fn failed_action_consumes_the_sequence_number_only() {
    let mut w = farm_world();
    let seq = next_sequence(&w, &pk(PROC_OP)).unwrap();
    w.fails(PROC_OP, observe("a", 1), codes::NOT_CUSTODIAN);
    assert_eq!(next_sequence(&w, &pk(PROC_OP)).unwrap(), seq + 1);
    w.ok(PROC_OP, commission("p", "lot"));
    // A wrong sequence number changes nothing at all, not even the sequence.
    let mut stx = w.tx(PROC_OP, commission("q", "lot"));
    stx.tx.sequence += 5;
    let ex = execute_block(CHAIN, &[stx], &w).unwrap();
    assert!(ex.delta.is_empty() && ex.events.is_empty());
    assert!(matches!(&ex.statuses[0], ExecStatus::Failed { code, .. } if code == "bad_sequence"));
}

#[test]
fn execution_rechecks_payload_limits() {
    let mut w = farm_world();
    let msg = w.fails(
        FARM_OP,
        commission("has space", "lot"),
        codes::INVALID_PAYLOAD,
    );
    assert!(msg.contains("item_id"), "{msg}");
    w.fails(
        FARM_OP,
        aggregate("box", &["a", "a"]),
        codes::INVALID_PAYLOAD,
    );
    w.fails(FARM_OP, transform(&["a"], &["a"]), codes::INVALID_PAYLOAD);
    w.fails(FARM_OP, transform(&[], &["x"]), codes::INVALID_PAYLOAD);
}

#[test]
fn events_within_a_block_carry_their_index_and_see_earlier_writes() {
    let w = World::new();
    let base = next_sequence(&w, &pk(FARM_OP)).unwrap();
    let mk = |i: u64, p| {
        Transaction {
            chain_id: CHAIN.into(),
            signer: pk(FARM_OP),
            sequence: base + i,
            payload: p,
        }
        .sign(&kp(FARM_OP))
    };
    let txs = vec![
        mk(0, commission("a", "lot")),
        mk(1, commission("a", "lot")),
        mk(2, Payload::Memo { data: vec![] }),
        mk(3, observe("a", 9)),
    ];
    let ex = execute_block(CHAIN, &txs, &w).unwrap();
    let idx: Vec<u32> = ex.events.iter().map(|e| e.tx_index).collect();
    assert_eq!(idx, vec![0, 3]);
    assert!(
        matches!(&ex.statuses[1], ExecStatus::Failed { code, .. } if code == codes::ITEM_EXISTS)
    );
    assert_eq!(
        ex.delta.get(&sequence_key(&pk(FARM_OP))),
        Some(&Some((base + 4).to_be_bytes().to_vec()))
    );
}

#[test]
fn payload_json_shapes_and_bcs_indexes_are_stable() {
    let p = Payload::Commission(Commission {
        item_id: "urn:epc:id:sgtin:0614141.107346.2017".into(),
        item_type: "case".into(),
        properties: props(json!({"lot": "L1", "temp": {"max": 8}})),
        location: None,
    });
    assert_eq!(
        serde_json::to_value(&p).unwrap(),
        json!({"commission": {
            "item_id": "urn:epc:id:sgtin:0614141.107346.2017",
            "item_type": "case",
            "properties": {"lot": "L1", "temp": {"max": 8}},
            "location": null
        }})
    );
    let back: Payload = serde_json::from_value(json!({"commission": {
        "item_id": "x", "item_type": "case"
    }}))
    .unwrap();
    assert_eq!(back, commission("x", "case"));
    assert!(serde_json::from_value::<Payload>(json!({"commission": {
        "item_id": "x", "item_type": "case", "colour": 1
    }}))
    .is_err());
    assert_eq!(
        serde_json::to_value(propose("x", Ownership, "farm")).unwrap(),
        json!({"propose_transfer": {"item_id": "x", "kind": "ownership", "to_organization": "farm"}})
    );
    assert_eq!(
        serde_json::to_value(attach("x")).unwrap(),
        json!({"attach_document": {
            "item_id": "x", "hash_algorithm": "sha256", "hash": "07".repeat(32),
            "uri": "https://docs.example/coa.pdf", "media_type": "application/pdf"
        }})
    );
    // BCS: the variant index comes first and never changes.
    let all = [
        Payload::Memo { data: vec![] },
        add_account("farm", 1, &[]),
        remove_account("farm", 1),
        Payload::SetAccountRoles(SetAccountRoles {
            organization: "farm".into(),
            key: pk(1),
            roles: vec![],
        }),
        commission("x", "t"),
        observe("x", 1),
        propose("x", Custody, "farm"),
        accept("x", Custody),
        reject("x", Custody),
        cancel("x", Custody),
        aggregate("x", &["y"]),
        disaggregate("x", &["y"]),
        transform(&["x"], &["y"]),
        attach("x"),
        decommission("x"),
    ];
    for (i, p) in all.iter().enumerate() {
        let bytes = bcs::to_bytes(p).unwrap();
        assert_eq!(bytes[0] as usize, i, "{}", p.kind());
        assert_eq!(&bcs::from_bytes::<Payload>(&bytes).unwrap(), p);
        let json = serde_json::to_string(p).unwrap();
        assert!(json.starts_with(&format!("{{\"{}\":", p.kind())), "{json}");
        assert_eq!(&serde_json::from_str::<Payload>(&json).unwrap(), p);
        p.check_limits().unwrap();
    }
}

#[test]
fn check_limits_names_the_field_and_values() {
    let big = JsonValue::new(&json!("x".repeat(MAX_JSON_VALUE_BYTES))).unwrap();
    let mut c = Commission {
        item_id: "x".into(),
        item_type: "t".into(),
        properties: [("k".to_string(), big)].into(),
        location: None,
    };
    assert!(matches!(
        Payload::Commission(c.clone()).check_limits(),
        Err(TxError::JsonTooLarge { field: "properties", len, max: MAX_JSON_VALUE_BYTES, .. })
            if len == MAX_JSON_VALUE_BYTES + 3
    ));
    let deep = json!([[[[[[[[[1]]]]]]]]]);
    c.properties = [("k".to_string(), JsonValue::new(&deep).unwrap())].into();
    assert!(matches!(
        Payload::Commission(c.clone()).check_limits(),
        Err(TxError::JsonTooDeep {
            depth: 9,
            max: MAX_JSON_DEPTH,
            ..
        })
    ));
    c.properties = (0..=MAX_PROPERTIES)
        .map(|i| (format!("k{i}"), JsonValue::from(1)))
        .collect();
    assert_eq!(
        Payload::Commission(c.clone()).check_limits(),
        Err(TxError::BadCount {
            field: "properties",
            count: MAX_PROPERTIES + 1,
            min: 0,
            max: MAX_PROPERTIES
        })
    );
    c.properties.clear();
    c.location = Some("a\u{0}b".into());
    assert!(matches!(
        Payload::Commission(c.clone()).check_limits(),
        Err(TxError::BadText {
            field: "location",
            ..
        })
    ));
    c.location = Some("x".repeat(MAX_LOCATION_LEN + 1));
    assert_eq!(
        Payload::Commission(c.clone()).check_limits(),
        Err(TxError::FieldTooLong {
            field: "location",
            len: MAX_LOCATION_LEN + 1,
            max: MAX_LOCATION_LEN
        })
    );
    c.location = None;
    c.item_id = "x".repeat(MAX_ITEM_ID_LEN + 1);
    assert!(matches!(
        Payload::Commission(c).check_limits(),
        Err(TxError::BadIdentifier {
            field: "item_id",
            max: MAX_ITEM_ID_LEN,
            ..
        })
    ));
    let many: Vec<String> = (0..=MAX_TRANSFORM_INPUTS)
        .map(|i| format!("i{i}"))
        .collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    assert!(matches!(
        transform(&many, &["o"]).check_limits(),
        Err(TxError::BadCount {
            field: "inputs",
            ..
        })
    ));
    assert!(matches!(
        transform(&["a"], &[]).check_limits(),
        Err(TxError::BadCount {
            field: "outputs",
            count: 0,
            min: 1,
            ..
        })
    ));
    assert!(matches!(
        aggregate("c", &["a", "b", "a"]).check_limits(),
        Err(TxError::Duplicate {
            field: "children",
            ..
        })
    ));
    assert!(matches!(
        add_account("farm", 1, &["op", "op"]).check_limits(),
        Err(TxError::Duplicate { field: "roles", .. })
    ));
    let mut a = AttachDocument {
        item_id: "x".into(),
        hash_algorithm: HashAlgorithm::Sha256,
        hash: Hash::ZERO,
        uri: "has space".into(),
        media_type: "text/plain".into(),
    };
    assert!(matches!(
        Payload::AttachDocument(a.clone()).check_limits(),
        Err(TxError::BadText { field: "uri", .. })
    ));
    a.uri = "https://x".into();
    a.media_type = "pdf".into();
    assert!(matches!(
        Payload::AttachDocument(a).check_limits(),
        Err(TxError::BadText {
            field: "media_type",
            ..
        })
    ));
    // The envelope check applies them too.
    let stx = World::new().tx(FARM_OP, transform(&["a"], &[]));
    assert!(matches!(stx.check_limits(), Err(TxError::BadCount { .. })));
    assert!(SignedTransaction::from_bytes(&stx.to_bytes()).is_err());
}

#[test]
fn largest_item_record_fits_in_a_state_value() {
    let id = |p: &str, i: usize| format!("{p}{i:0>width$}", width = MAX_ITEM_ID_LEN - p.len());
    // Type byte, two length bytes: the largest string value.
    let big = JsonValue::new(&json!("x".repeat(MAX_JSON_VALUE_BYTES - 3))).unwrap();
    let item = ItemRecord {
        id: id("i", 0),
        item_type: "t".repeat(MAX_NAME_LEN),
        owner: "o".repeat(MAX_NAME_LEN),
        custodian: "c".repeat(MAX_NAME_LEN),
        status: ItemStatus::Active,
        properties: (0..MAX_PROPERTIES)
            .map(|i| (format!("{i:0>64}"), big.clone()))
            .collect(),
        location: Some("l".repeat(MAX_LOCATION_LEN)),
        last_observed_ms: Some(u64::MAX),
        parent: Some(id("p", 0)),
        children: (0..MAX_CONTAINER_CHILDREN).map(|i| id("c", i)).collect(),
        contents_count: MAX_CONTAINED_ITEMS,
        derived_from: (0..MAX_TRANSFORM_INPUTS).map(|i| id("d", i)).collect(),
        transformed_into: (0..MAX_TRANSFORM_OUTPUTS).map(|i| id("t", i)).collect(),
        document_count: MAX_DOCUMENTS_PER_ITEM,
        decommission_reason: Some("r".repeat(MAX_REASON_LEN)),
    };
    let len = crate::encoding::to_canonical(&item).len();
    assert!(len <= crate::execute::MAX_STATE_VALUE_BYTES, "{len}");
}

#[test]
fn corrupt_records_stop_execution() {
    let mut w = farm_world();
    w.state.insert(item_key("a"), vec![0xff; 3]);
    let stx = w.tx(FARM_OP, observe("a", 1));
    let err = execute_block(CHAIN, &[stx], &w).unwrap_err();
    assert!(matches!(err, ExecError::Corrupt { .. }), "{err}");
}

// ---- property test -------------------------------------------------------------------------

/// Signers for random actions: admins and operators of every organization, an auditor, an
/// outsider, and two keys that admins may add.
const SIGNERS: [u8; 12] = [
    FARM_ADMIN,
    FARM_OP,
    FARM_AUDITOR,
    PROC_ADMIN,
    PROC_OP,
    SHIP_ADMIN,
    SHIP_OP,
    RETAIL_ADMIN,
    RETAIL_OP,
    OUTSIDER,
    60,
    61,
];
const ORGS: [&str; 5] = ["farm", "processor", "shipper", "retailer", "nowhere"];
const IDS: [&str; 24] = [
    "i0", "i1", "i2", "i3", "i4", "i5", "i6", "i7", "i8", "i9", "i10", "i11", "i12", "i13", "i14",
    "i15", "i16", "i17", "i18", "i19", "c0", "c1", "c2", "c3",
];

/// One random action: (signer, action kind 0..100, three selectors, a list of selectors,
/// whether to use a wrong sequence number). Two times in three (by the third selector) the
/// action is "guided": the signer, transfer kind and children are chosen from the state so that
/// the action has a chance to succeed; otherwise everything is as random as the selectors.
type RawAction = (usize, u8, usize, usize, usize, Vec<usize>, bool);

fn pick<T: Copy>(xs: &[T], i: usize) -> T {
    xs[i % xs.len()]
}

/// An acting account of `org` (operator or admin by `sel`), or any signer for unknown orgs.
fn member_of(org: &str, sel: usize) -> u8 {
    let (op, admin) = match org {
        "farm" => (FARM_OP, FARM_ADMIN),
        "processor" => (PROC_OP, PROC_ADMIN),
        "shipper" => (SHIP_OP, SHIP_ADMIN),
        "retailer" => (RETAIL_OP, RETAIL_ADMIN),
        _ => return pick(&SIGNERS, sel),
    };
    if sel.is_multiple_of(4) {
        admin
    } else {
        op
    }
}

fn build(raw: &RawAction, w: &World) -> (u8, Payload, bool) {
    let (s, kind, a, b, c, list, bad_seq) = raw;
    let (a, b, c) = (*a, *b, *c);
    let guided = c % 3 != 0;
    let mut signer = pick(&SIGNERS, *s);
    // Guided: commission an unused id; act on an active one.
    let ids_where = |f: &dyn Fn(Option<ItemRecord>) -> bool| -> Vec<&'static str> {
        IDS.iter()
            .copied()
            .filter(|i| f(read_item(w, i).unwrap()))
            .collect()
    };
    let unused = ids_where(&|r| r.is_none());
    let active = ids_where(&|r| r.is_some_and(|r| r.status == ItemStatus::Active));
    let id = match (guided, kind % 100) {
        (true, 8..=22) if !unused.is_empty() => pick(&unused, a),
        (true, 23..=97) if !active.is_empty() => pick(&active, a),
        _ => pick(&IDS, a),
    };
    let org = pick(&ORGS, b);
    let mut tk = if c % 2 == 0 { Custody } else { Ownership };
    let mut ids: Vec<&str> = list.iter().map(|i| pick(&IDS, *i)).collect();
    let role = pick(&["operator", "admin", "auditor"], c);
    let item = read_item(w, id).unwrap();
    let pending = w.pending(id);
    if guided {
        if let Some(p) = &pending {
            tk = p.kind;
        }
    }
    let custodian = item.as_ref().map(|i| i.custodian.clone());
    let owner = item.as_ref().map(|i| i.owner.clone());
    let mut guide = |holder: Option<String>| {
        if let (true, Some(h)) = (guided, holder) {
            signer = member_of(&h, *s);
        }
    };
    // Kinds by percentile: accounts 8, commission 15, observe 8, propose 15, accept 12,
    // reject 4, cancel 4, aggregate 10, disaggregate 6, transform 7, attach 5,
    // decommission 3, memo 3.
    let payload = match kind % 100 {
        0..=2 => {
            guide(Some(org.to_string()));
            add_account(org, pick(&SIGNERS, c), &[role])
        }
        3..=5 => {
            guide(Some(org.to_string()));
            remove_account(org, pick(&SIGNERS, c))
        }
        6..=7 => {
            guide(Some(org.to_string()));
            Payload::SetAccountRoles(SetAccountRoles {
                organization: org.into(),
                key: pk(pick(&SIGNERS, c)),
                roles: vec![role.into()],
            })
        }
        8..=22 => {
            guide(Some(org.to_string()));
            commission(id, "thing")
        }
        23..=30 => {
            guide(custodian);
            observe(id, c as u64)
        }
        31..=45 => {
            guide(if tk == Custody { custodian } else { owner });
            propose(id, tk, org)
        }
        46..=57 => {
            guide(pending.map(|p| p.to_organization));
            accept(id, tk)
        }
        58..=61 => {
            guide(pending.map(|p| p.to_organization));
            reject(id, tk)
        }
        62..=65 => {
            guide(pending.map(|p| p.from_organization));
            cancel(id, tk)
        }
        66..=75 => {
            if guided {
                let same = |i: &&str| {
                    read_item(w, i).unwrap().is_some_and(|r| {
                        Some(&r.custodian) == custodian.as_ref() && r.parent.is_none()
                    })
                };
                ids.retain(|i| *i != id && same(i));
                if ids.is_empty() {
                    ids.push(pick(&IDS, a + 1));
                }
            }
            guide(custodian);
            aggregate(id, &ids)
        }
        76..=81 => {
            if guided {
                if let Some(i) = &item {
                    if !i.children.is_empty() {
                        ids = i
                            .children
                            .iter()
                            .take(1 + c % 2)
                            .map(String::as_str)
                            .collect();
                    }
                }
            }
            guide(custodian);
            disaggregate(id, &ids)
        }
        82..=88 => {
            let mut outputs = vec![pick(&IDS, c), pick(&["o0", "o1", "o2"], c)];
            if guided {
                ids.retain(|i| *i != id);
                ids.insert(0, id);
                ids.dedup();
                if !unused.is_empty() {
                    outputs = vec![pick(&unused, c)];
                }
            }
            guide(custodian);
            transform(&ids, &outputs)
        }
        89..=93 => {
            guide(if c % 2 == 0 { custodian } else { owner });
            attach(id)
        }
        94..=96 => {
            guide(owner);
            decommission(id)
        }
        _ => Payload::Memo {
            data: vec![c as u8],
        },
    };
    (signer, payload, *bad_seq)
}

/// Runs `blocks` of random actions from genesis; returns every block's execution.
fn run_random(blocks: &[Vec<RawAction>]) -> (Vec<BlockExecution>, World) {
    let mut w = World::new();
    let mut out = Vec::new();
    for block in blocks {
        let mut seqs: BTreeMap<u8, u64> = BTreeMap::new();
        let txs: Vec<SignedTransaction> = block
            .iter()
            .map(|raw| {
                let (signer, payload, bad_seq) = build(raw, &w);
                let seq = seqs
                    .entry(signer)
                    .or_insert_with(|| next_sequence(&w, &pk(signer)).unwrap());
                let sequence = if bad_seq { *seq + 7 } else { *seq };
                if !bad_seq {
                    *seq += 1;
                }
                Transaction {
                    chain_id: CHAIN.into(),
                    signer: pk(signer),
                    sequence,
                    payload,
                }
                .sign(&kp(signer))
            })
            .collect();
        let ex = execute_block(CHAIN, &txs, &w).unwrap();
        assert_eq!(ex.statuses.len(), txs.len());
        for e in &ex.events {
            assert_eq!(ex.statuses[e.tx_index as usize], ExecStatus::Success);
        }
        w.apply(&txs, &ex);
        check_invariants(&w);
        out.push(ex);
    }
    (out, w)
}

/// What the rules promise about any reachable state.
fn check_invariants(w: &World) {
    let items: BTreeMap<String, ItemRecord> = w
        .state
        .iter()
        .filter(|(k, _)| k.starts_with(ITEM_PREFIX))
        .map(|(k, _)| {
            let id = String::from_utf8(k[ITEM_PREFIX.len()..].to_vec()).unwrap();
            let rec = w.item(&id);
            (id, rec)
        })
        .collect();
    fn count(items: &BTreeMap<String, ItemRecord>, id: &str) -> u32 {
        items[id].children.iter().map(|c| 1 + count(items, c)).sum()
    }
    for (id, item) in &items {
        assert_eq!(&item.id, id);
        assert_eq!(w.head(id), w.indexed_head(id), "history head of {id}");
        if let Some(p) = &item.parent {
            let parent = &items[p];
            assert!(parent.children.contains(id), "{p} does not list {id}");
            assert_eq!(parent.custodian, item.custodian, "{id} in {p}");
            assert_eq!(item.status, ItemStatus::Active);
            assert!(w.pending(id).is_none());
        }
        for c in &item.children {
            assert_eq!(items[c].parent.as_deref(), Some(id.as_str()));
        }
        assert_eq!(item.contents_count, count(&items, id), "{id}");
        for d in &item.derived_from {
            assert!(items[d].transformed_into.contains(id));
            assert_eq!(items[d].status, ItemStatus::Consumed);
        }
    }
    for (k, _) in w.state.range(TRANSFER_PREFIX.to_vec()..) {
        if !k.starts_with(TRANSFER_PREFIX) {
            break;
        }
        let id = String::from_utf8(k[TRANSFER_PREFIX.len()..].to_vec()).unwrap();
        let p = w.pending(&id).unwrap();
        let item = &items[&id];
        assert_eq!(item.status, ItemStatus::Active);
        assert_eq!(item.parent, None);
        let holder = match p.kind {
            Custody => &item.custodian,
            Ownership => &item.owner,
        };
        assert_eq!(holder, &p.from_organization);
    }
}

fn raw_action() -> impl Strategy<Value = RawAction> {
    (
        0..SIGNERS.len(),
        0u8..100,
        0..IDS.len(),
        0..ORGS.len(),
        0usize..6,
        prop::collection::vec(0..IDS.len(), 0..4),
        prop::bool::weighted(0.05),
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn random_actions_never_panic_and_are_deterministic(
        blocks in prop::collection::vec(prop::collection::vec(raw_action(), 1..12), 1..8)
    ) {
        let (a, wa) = run_random(&blocks);
        let (b, wb) = run_random(&blocks);
        prop_assert_eq!(a, b);
        prop_assert_eq!(wa.state, wb.state);
    }

    #[test]
    fn arbitrary_payload_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        // Whatever decodes must pass or fail the limits and then execute without panicking.
        if let Ok(payload) = bcs::from_bytes::<Payload>(&bytes) {
            let mut w = farm_world();
            let _ = payload.check_limits();
            let ex = w.run(FARM_OP, payload);
            prop_assert_eq!(ex.statuses.len(), 1);
        }
    }
}

/// The random generator reaches deep states: a long seeded run produces every kind of event, so
/// the property test above exercises every rule, not just the early failures.
#[test]
fn random_runs_reach_every_event_kind() {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let blocks: Vec<Vec<RawAction>> = (0..300)
        .map(|_| {
            (0..rng.gen_range(1..12))
                .map(|_| {
                    (
                        rng.gen_range(0..SIGNERS.len()),
                        rng.gen_range(0..100),
                        rng.gen_range(0..IDS.len()),
                        rng.gen_range(0..ORGS.len()),
                        rng.gen_range(0..6),
                        (0..rng.gen_range(0..4))
                            .map(|_| rng.gen_range(0..IDS.len()))
                            .collect(),
                        rng.gen_bool(0.05),
                    )
                })
                .collect()
        })
        .collect();
    let (execs, _) = run_random(&blocks);
    let mut kinds: BTreeMap<EventKind, usize> = BTreeMap::new();
    let mut failures: BTreeMap<String, usize> = BTreeMap::new();
    for ex in &execs {
        for e in &ex.events {
            *kinds.entry(e.kind).or_default() += 1;
        }
        for s in &ex.statuses {
            if let ExecStatus::Failed { code, .. } = s {
                *failures.entry(code.clone()).or_default() += 1;
            }
        }
    }
    println!("{kinds:?}\n{failures:?}");
    assert_eq!(kinds.len(), 18, "{kinds:?}");
}

#[path = "epcis_tests.rs"]
mod epcis;
