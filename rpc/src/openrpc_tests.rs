//! The OpenRPC document tells the truth: every method has schemas, every `$ref` resolves, and
//! real serialized values of every shape validate against their schema (a small validator for
//! the subset of JSON Schema that `schemas` uses).

use std::collections::BTreeMap;

use ledger::receipt::{ExecStatus, Receipt};
use ledger::stored::StoredBlock;
use ledger::supply::events::{EventKind, ItemRole};
use ledger::supply::history::{HistoryEntry, Provenance, ProvenanceNode, Relation};
use ledger::supply::state::{
    AccountRecord, DocumentRecord, ItemRecord, ItemStatus, OrgRecord, PendingTransfer,
};
use ledger::supply::{HashAlgorithm, JsonValue, TransferKind};
use ledger::{Block, BlockHeader, Hash, KeyPair, Payload, SignedTransaction, Transaction};
use serde::Serialize;
use serde_json::{json, Value};

use super::*;
use crate::methods::METHODS;
use crate::types::*;

/// Checks `value` against `schema`; `Err` names the path that fails.
fn validate(schema: &Value, value: &Value, root: &Value, path: &str) -> Result<(), String> {
    let fail = |why: String| Err(format!("{path}: {why} (value {value})"));
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        let name = reference
            .strip_prefix("#/components/schemas/")
            .ok_or_else(|| format!("{path}: unsupported $ref {reference}"))?;
        let target = &root["components"]["schemas"][name];
        if target.is_null() {
            return fail(format!("dangling $ref {reference}"));
        }
        return validate(target, value, root, path);
    }
    if let Some(options) = schema.get("oneOf").and_then(Value::as_array) {
        let matching = options
            .iter()
            .filter(|s| validate(s, value, root, path).is_ok())
            .count();
        if matching != 1 {
            return fail(format!("matches {matching} of oneOf, not exactly one"));
        }
    }
    if let Some(c) = schema.get("const") {
        if c != value {
            return fail(format!("is not {c}"));
        }
    }
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        if !values.contains(value) {
            return fail("not in enum".into());
        }
    }
    if let Some(t) = schema.get("type") {
        let types: Vec<&str> = match t {
            Value::String(s) => vec![s.as_str()],
            Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
            _ => return fail("bad type keyword".into()),
        };
        let ok = types.iter().any(|t| match *t {
            "object" => value.is_object(),
            "array" => value.is_array(),
            "string" => value.is_string(),
            "integer" => value.is_u64() || value.is_i64(),
            "boolean" => value.is_boolean(),
            "null" => value.is_null(),
            _ => false,
        });
        if !ok {
            return fail(format!("is not of type {t}"));
        }
    }
    if let (Some(min), Some(n)) = (
        schema.get("minimum").and_then(Value::as_i64),
        value.as_i64(),
    ) {
        if n < min {
            return fail(format!("below minimum {min}"));
        }
    }
    if let (Some(pattern), Some(s)) = (
        schema.get("pattern").and_then(Value::as_str),
        value.as_str(),
    ) {
        if !matches_pattern(pattern, s) {
            return fail(format!("does not match {pattern}"));
        }
    }
    if let Some(obj) = value.as_object() {
        let props = schema.get("properties").and_then(Value::as_object);
        for name in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let name = name.as_str().unwrap();
            if !obj.contains_key(name) {
                return fail(format!("missing required field {name}"));
            }
        }
        for (k, v) in obj {
            let sub = format!("{path}.{k}");
            match (
                props.and_then(|p| p.get(k)),
                schema.get("additionalProperties"),
            ) {
                (Some(s), _) => validate(s, v, root, &sub)?,
                (None, Some(Value::Bool(false))) => return fail(format!("unexpected field {k}")),
                (None, Some(s)) if s.is_object() => validate(s, v, root, &sub)?,
                _ => {}
            }
        }
    }
    if let (Some(items), Some(arr)) = (schema.get("items"), value.as_array()) {
        for (i, v) in arr.iter().enumerate() {
            validate(items, v, root, &format!("{path}[{i}]"))?;
        }
    }
    Ok(())
}

/// The patterns `schemas` uses, matched without a regex engine. An unknown pattern fails the
/// test, so a new one gets a matcher here.
fn matches_pattern(pattern: &str, s: &str) -> bool {
    let lower_hex = |s: &str| {
        s.chars()
            .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
    };
    match pattern {
        "^[0-9a-f]{64}$" => s.len() == 64 && lower_hex(s),
        "^[0-9a-f]{128}$" => s.len() == 128 && lower_hex(s),
        "^([0-9a-f]{2})*$" => s.len().is_multiple_of(2) && lower_hex(s),
        other => panic!("no matcher for pattern {other}"),
    }
}

fn check<T: Serialize>(doc: &Value, schema: &Value, value: &T) {
    let value = serde_json::to_value(value).unwrap();
    if let Err(e) = validate(schema, &value, doc, "$") {
        panic!("schema {schema} does not describe a real value: {e}");
    }
}

fn hash(byte: u8) -> Hash {
    serde_json::from_value(json!(hex::encode([byte; 32]))).unwrap()
}

fn signed(payload: Value) -> SignedTransaction {
    let key = KeyPair::from_secret([3; 32]);
    Transaction {
        chain_id: "c".into(),
        signer: key.public(),
        sequence: 4,
        payload: serde_json::from_str::<Payload>(&payload.to_string()).unwrap(),
    }
    .sign(&key)
}

fn receipt(status: ExecStatus) -> Receipt {
    Receipt {
        tx_hash: hash(1),
        height: 2,
        index_in_block: 0,
        ledger_index: 9,
        status,
    }
}

fn entry() -> HistoryEntry {
    HistoryEntry {
        ledger_index: 3,
        height: 4,
        tx_hash: hash(5),
        kind: EventKind::Aggregate,
        organization: "farm".into(),
        roles: vec![ItemRole::Container, ItemRole::Child],
        items: vec!["p".into(), "c".into()],
    }
}

#[test]
fn every_method_has_schemas_for_each_parameter_and_its_result() {
    for (name, params, _) in METHODS {
        let Some((schemas, _)) = signature(name) else {
            panic!("rpc.discover: add the parameter and result schemas of {name} to rpc/src/openrpc.rs");
        };
        assert_eq!(schemas.len(), params.len(), "{name}");
    }
}

#[test]
fn every_ref_resolves() {
    let doc = openrpc();
    let text = doc.to_string();
    for piece in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
        let name = piece.split('"').next().unwrap();
        assert!(
            !doc["components"]["schemas"][name].is_null(),
            "dangling $ref {name}"
        );
    }
}

#[test]
fn real_values_validate_against_their_schemas() {
    let doc = openrpc();
    let s = |name: &str| r(name);

    let txs = [
        signed(json!({"memo": {"data": "00ff"}})),
        signed(
            json!({"commission": {"item_id": "lot-1", "item_type": "apple", "properties": {"w": 4.50, "tags": ["a"]}, "location": "orchard"}}),
        ),
        signed(json!({"commission": {"item_id": "lot-2", "item_type": "apple"}})),
        signed(
            json!({"observe": {"item_id": "lot-1", "time_ms": 5, "readings": [{"kind": "t", "value": 4.5, "unit": "Cel"}, {"kind": "door", "value": false}]}}),
        ),
        signed(
            json!({"transform": {"inputs": ["a"], "outputs": [{"item_id": "b", "item_type": "juice"}]}}),
        ),
        signed(
            json!({"attach_document": {"item_id": "a", "hash_algorithm": "sha256", "hash": hash(7), "uri": "s3://x", "media_type": "application/pdf"}}),
        ),
        signed(json!({"add_account": {"organization": "o", "key": hash(8)}})),
        signed(
            json!({"set_account_roles": {"organization": "o", "key": hash(8), "roles": ["admin"]}}),
        ),
        signed(json!({"remove_account": {"organization": "o", "key": hash(8)}})),
        signed(
            json!({"propose_transfer": {"item_id": "a", "kind": "custody", "to_organization": "o"}}),
        ),
        signed(json!({"accept_transfer": {"item_id": "a", "kind": "ownership"}})),
        signed(json!({"reject_transfer": {"item_id": "a", "kind": "custody"}})),
        signed(json!({"cancel_transfer": {"item_id": "a", "kind": "custody"}})),
        signed(json!({"aggregate": {"container_id": "p", "children": ["a"]}})),
        signed(json!({"disaggregate": {"container_id": "p", "children": ["a"]}})),
        signed(json!({"decommission": {"item_id": "a", "reason": "spoiled"}})),
        signed(json!({"decommission": {"item_id": "a"}})),
    ];
    for tx in &txs {
        check(&doc, &s("SignedTransaction"), tx);
    }
    let committed = receipt(ExecStatus::Success);
    let failed = receipt(ExecStatus::Failed {
        code: "not_owner".into(),
        message: "m".into(),
    });
    check(&doc, &s("Receipt"), &committed);
    check(&doc, &s("Receipt"), &failed);
    check(
        &doc,
        &s("SubmitOutcome"),
        &SubmitOutcome::new(hash(1), None),
    );
    check(
        &doc,
        &s("SubmitOutcome"),
        &SubmitOutcome::new(hash(1), Some(failed.clone())),
    );
    // Each answer of waybill_submitRawTransactions: an outcome, or a refusal with and
    // without data; and a round trip through JSON gives back the same answer.
    let answers: Vec<SubmitAnswer> = vec![
        Ok(SubmitOutcome::new(hash(1), None)).into(),
        Err(crate::ApiError::Rejected {
            reason: "duplicate".into(),
            message: "m".into(),
        })
        .into(),
        Err(crate::ApiError::InvalidParams("hex".into())).into(),
    ];
    for answer in &answers {
        check(&doc, &s("SubmitAnswer"), answer);
        let back: SubmitAnswer =
            serde_json::from_value(serde_json::to_value(answer).unwrap()).unwrap();
        assert_eq!(&back, answer);
    }
    let refused = serde_json::to_value(&answers[1]).unwrap();
    assert_eq!(refused["error"]["code"], crate::codes::REJECTED);
    assert_eq!(refused["error"]["data"]["reason"], "duplicate");
    assert!(serde_json::to_value(&answers[2]).unwrap()["error"]
        .get("data")
        .is_none());
    check(
        &doc,
        &s("HeadInfo"),
        &HeadInfo {
            chain_id: "c".into(),
            genesis_hash: hash(1),
            height: 1,
            hash: hash(2),
            accumulator_size: 0,
            accumulator_root: hash(3),
            state_root: hash(4),
        },
    );
    let block = StoredBlock {
        block: Block {
            header: BlockHeader {
                chain_id: "c".into(),
                height: 1,
                round: 2,
                parent: hash(0),
                tx_root: hash(1),
                proposer: txs[0].tx.signer,
                timestamp_ms: 7,
                justify: vec![1, 2, 3],
            },
            txs: txs[..2].to_vec(),
        },
        certificate: vec![9, 9],
        accumulator_size_after: 2,
        accumulator_root_after: hash(5),
    };
    check(
        &doc,
        &signature("waybill_getBlockByHeight").unwrap().1,
        &block,
    );
    check(
        &doc,
        &signature("waybill_getBlockByHash").unwrap().1,
        &None::<StoredBlock>,
    );
    let hashes = crate::BlockTxHashes::of(&block);
    assert_eq!(hashes.height, 1);
    assert_eq!(hashes.hash, block.block.hash());
    assert_eq!(hashes.tx_hashes, vec![txs[0].hash(), txs[1].hash()]);
    check(
        &doc,
        &signature("waybill_getBlockTxHashes").unwrap().1,
        &hashes,
    );
    check(
        &doc,
        &signature("waybill_getBlockTxHashes").unwrap().1,
        &None::<crate::BlockTxHashes>,
    );
    let pending = TxInfo {
        tx: txs[1].clone(),
        receipt: None,
        height: None,
        index_in_block: None,
        ledger_index: None,
        pending: true,
    };
    let done = TxInfo {
        receipt: Some(committed),
        height: Some(2),
        index_in_block: Some(0),
        ledger_index: Some(9),
        pending: false,
        ..pending.clone()
    };
    for info in [&pending, &done] {
        check(&doc, &signature("waybill_getTransaction").unwrap().1, info);
    }
    // From JSON: fields added later with a serde default still build the value.
    let status: NodeStatus = serde_json::from_value(json!({
        "name": "v", "validator_key": txs[0].tx.signer, "peer_id": "12D3", "round": 1,
        "committed_height": 1, "mempool_size": 0, "peers": ["p"], "syncing": false
    }))
    .unwrap();
    check(&doc, &s("NodeStatus"), &status);
    check(
        &doc,
        &signature("waybill_validators").unwrap().1,
        &vec![
            ValidatorInfo {
                name: "v".into(),
                consensus_key: txs[0].tx.signer,
                peer_id: "12D3".into(),
                power: 1,
                organization: Some("farm".into()),
            },
            ValidatorInfo {
                name: "w".into(),
                consensus_key: txs[0].tx.signer,
                peer_id: "12D3".into(),
                power: 1,
                organization: None,
            },
        ],
    );
    check(
        &doc,
        &s("BlockSummary"),
        &BlockSummary {
            height: 1,
            hash: hash(1),
            tx_count: 2,
            timestamp_ms: 3,
            accumulator_size: 4,
            accumulator_root: hash(5),
            state_root: hash(6),
        },
    );
    let mut properties = BTreeMap::new();
    properties.insert("w".to_string(), JsonValue::parse("4.50").unwrap());
    let item = ItemRecord {
        id: "a".into(),
        item_type: "t".into(),
        owner: "o".into(),
        custodian: "c".into(),
        status: ItemStatus::Active,
        properties,
        location: None,
        last_observed_ms: Some(3),
        parent: Some("p".into()),
        children: vec![],
        contents_count: 0,
        derived_from: vec!["x".into()],
        transformed_into: vec![],
        document_count: 1,
        decommission_reason: None,
    };
    check(
        &doc,
        &s("ItemView"),
        &ItemView {
            height: 3,
            item,
            pending_transfer: Some(PendingTransfer {
                item_id: "a".into(),
                kind: TransferKind::Custody,
                from_organization: "o".into(),
                to_organization: "q".into(),
                proposer: txs[0].tx.signer,
                proposal_tx: hash(2),
            }),
            documents: vec![DocumentRecord {
                item_id: "a".into(),
                index: 0,
                hash_algorithm: HashAlgorithm::Blake3,
                hash: hash(3),
                uri: "u".into(),
                media_type: "m".into(),
                attached_by: "o".into(),
                attach_tx: hash(4),
            }],
        },
    );
    for next_from in [None, Some(4)] {
        check(
            &doc,
            &s("HistoryPage"),
            &HistoryPage {
                entries: vec![entry()],
                next_from,
            },
        );
    }
    check(
        &doc,
        &s("Provenance"),
        &Provenance {
            nodes: vec![ProvenanceNode {
                item_id: "a".into(),
                item_type: "t".into(),
                status: ItemStatus::Consumed,
                owner: "o".into(),
                custodian: "c".into(),
                relation: Relation::MadeFrom,
                via: Some("b".into()),
                depth: 1,
            }],
            truncated: false,
        },
    );
    check(
        &doc,
        &s("OrgRecord"),
        &OrgRecord {
            id: "o".into(),
            name: "O".into(),
            admins: vec![txs[0].tx.signer],
        },
    );
    check(
        &doc,
        &signature("waybill_organizations").unwrap().1,
        &vec![OrgRecord {
            id: "o".into(),
            name: "O".into(),
            admins: vec![txs[0].tx.signer],
        }],
    );
    check(
        &doc,
        &s("AccountView"),
        &AccountView {
            key: txs[0].tx.signer,
            account: AccountRecord {
                key: txs[0].tx.signer,
                organization: "o".into(),
                roles: vec!["operator".into()],
            },
            next_sequence: 5,
        },
    );
    check(
        &doc,
        &s("ItemEvent"),
        &ItemEvent {
            item_id: "a".into(),
            entry: entry(),
        },
    );
    check(&doc, &signature("rpc.discover").unwrap().1, &doc);
}

#[test]
fn the_validator_rejects_what_the_schemas_exclude() {
    let doc = openrpc();
    let mut tx = serde_json::to_value(signed(json!({"memo": {"data": "00"}}))).unwrap();
    tx["tx"]["extra"] = json!(1);
    assert!(validate(&r("SignedTransaction"), &tx, &doc, "$").is_err());
    let bad_kind = json!({"nope": {}});
    assert!(validate(&r("Payload"), &bad_kind, &doc, "$").is_err());
    assert!(validate(&r("Hash"), &json!("ABCD"), &doc, "$").is_err());
    assert!(validate(&u64_(), &json!(-1), &doc, "$").is_err());
}
