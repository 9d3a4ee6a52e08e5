//! Execution of committed transactions (`ledger::execute::execute_block` over the supply-chain
//! state machine), which every validator runs on every committed block: a panic here would stop
//! the whole network at once, on the same block, after every restart. Any client can put any
//! structurally valid transaction into a block, so the input is a program of transactions from
//! four accounts of two organizations (and a stranger), on a small vocabulary of item ids so that
//! actions meet each other (commission, observe, transfers, packing, transforms, documents,
//! decommission, account management), plus payloads decoded from raw bytes; a zero byte ends a
//! block. Signatures are not involved: consensus checked them before execution.
//!
//! Layout: a byte `op`; 0 ends a block, anything else is a transaction: a signer byte (of five),
//! then, if `op % 16 == 15`, its sequence number (eight bytes; `op % 16 == 14` skips one
//! instead, otherwise it is the next one), then the payload (a kind byte and its fields); an
//! `op` of 0xf0 or more signs it for another chain.
//!
//! - execution never fails with our in-memory state (it reads back only what it wrote) and is
//!   deterministic (twice the same result);
//! - block boundaries do not matter: executing a block at once reaches the same statuses and
//!   state as executing its transactions one block each;
//! - a transaction with the wrong chain or sequence changes nothing; one that fails a rule
//!   changes nothing but its signer's sequence number, which a success also advances by one;
//! - a payload over the structural limits never succeeds (`invalid_payload`);
//! - no state value exceeds `MAX_STATE_VALUE_BYTES`.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use ledger::encoding::from_canonical;
use ledger::execute::{
    execute_block, next_sequence, sequence_key, BlockExecution, ExecError, StateDelta, StateReader,
    MAX_STATE_VALUE_BYTES,
};
use ledger::genesis::{Account, Organization};
use ledger::receipt::ExecStatus;
use ledger::supply::{self, JsonValue};
use ledger::tx::{Payload, Transaction};
use ledger::{Genesis, Hash, KeyPair, PublicKey, Signature, SignedTransaction};

use crate::bytes::Reader;
use crate::fixtures::{self, CHAIN_ID};

/// Most transactions one program executes.
pub const MAX_TXS: usize = 64;

const ITEMS: [&str; 8] = ["i0", "i1", "i2", "i3", "p0", "p1", "j0", "j1"];
const ORGS: [&str; 3] = ["acme", "haulers", "nobody"];
const ROLES: [&str; 4] = ["operator", "admin", "auditor", "clerk"];

/// Signers: the four accounts, and a key nobody registered.
fn signer(i: usize) -> &'static KeyPair {
    static STRANGER: OnceLock<KeyPair> = OnceLock::new();
    if i < 4 {
        fixtures::account(i)
    } else {
        STRANGER.get_or_init(|| KeyPair::from_secret([0x77; 32]))
    }
}

/// The fuzz chain with two organizations: acme (genesis admin account 0, operator account 1)
/// and haulers (genesis admin account 2, auditor account 3).
pub fn genesis() -> &'static Genesis {
    static GENESIS: OnceLock<Genesis> = OnceLock::new();
    GENESIS.get_or_init(|| {
        let mut g = fixtures::genesis().clone();
        let key = |i: usize| fixtures::account(i).public();
        g.organizations = vec![
            Organization {
                id: "acme".into(),
                name: "Acme Farms".into(),
                admins: vec![key(0)],
            },
            Organization {
                id: "haulers".into(),
                name: "Haulers Ltd".into(),
                admins: vec![key(2)],
            },
        ];
        g.accounts = vec![
            Account {
                key: key(1),
                organization: "acme".into(),
                roles: vec!["operator".into()],
            },
            Account {
                key: key(3),
                organization: "haulers".into(),
                roles: vec!["auditor".into()],
            },
        ];
        g.validate().expect("the execution genesis is valid");
        g
    })
}

#[derive(Clone, Default, PartialEq, Eq, Debug)]
struct State(BTreeMap<Vec<u8>, Vec<u8>>);

impl StateReader for State {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, ExecError> {
        Ok(self.0.get(key).cloned())
    }
}

impl State {
    fn apply(&mut self, delta: &StateDelta) {
        for (k, v) in delta {
            match v {
                Some(v) => self.0.insert(k.clone(), v.clone()),
                None => self.0.remove(k),
            };
        }
    }
}

fn pick<'a>(r: &mut Reader, from: &[&'a str]) -> &'a str {
    from[r.pick(from.len())]
}

fn items(r: &mut Reader) -> Vec<String> {
    let n = r.u8() % 4;
    (0..n).map(|_| pick(r, &ITEMS).to_string()).collect()
}

fn json(r: &mut Reader) -> JsonValue {
    match r.u8() % 4 {
        0 => JsonValue::from(i32::from(r.u8()) - 100),
        1 => JsonValue::from(pick(r, &ITEMS)),
        2 => JsonValue::parse(r#"{"max":4.50,"unit":"Cel"}"#).expect("valid JSON"),
        _ => {
            let text = String::from_utf8_lossy(r.bytes(64)).into_owned();
            JsonValue::parse(&text).unwrap_or_else(|_| JsonValue::from(text.as_str()))
        }
    }
}

fn properties(r: &mut Reader) -> BTreeMap<String, JsonValue> {
    let n = r.u8() % 3;
    (0..n)
        .map(|_| (pick(r, &["origin", "temp", "grade"]).to_string(), json(r)))
        .collect()
}

fn location(r: &mut Reader) -> Option<String> {
    (r.u8() & 1 == 1).then(|| pick(r, &["dock-1", "plant", ""]).to_string())
}

fn kind(r: &mut Reader) -> supply::TransferKind {
    if r.u8() & 1 == 0 {
        supply::TransferKind::Custody
    } else {
        supply::TransferKind::Ownership
    }
}

fn account_key(r: &mut Reader) -> PublicKey {
    signer(r.pick(5)).public()
}

fn roles(r: &mut Reader) -> Vec<String> {
    let n = r.u8() % 3;
    (0..n).map(|_| pick(r, &ROLES).to_string()).collect()
}

/// An EPCIS event of each type on the vocabulary's items (plain ids, taken as written), at one of
/// 256 times, sometimes an error declaration: capture maps it onto the same actions.
fn epcis(r: &mut Reader, a: String, b: String, org: String) -> Payload {
    let time = format!("2026-01-01T00:{:02}:{:02}Z", r.u8() % 60, r.u8() % 60);
    let mut event = match r.u8() % 6 {
        0 => serde_json::json!({"type": "ObjectEvent", "action": "ADD", "epcList": [a]}),
        1 => serde_json::json!({"type": "ObjectEvent", "action": "OBSERVE", "bizStep": "shipping",
            "epcList": [a], "destinationList": [{"type": "possessing_party", "destination": "urn:epc:id:pgln:4012345.00000"}]}),
        2 => {
            serde_json::json!({"type": "ObjectEvent", "action": "OBSERVE", "bizStep": "receiving", "epcList": [a]})
        }
        3 => {
            serde_json::json!({"type": "AggregationEvent", "action": pick(r, &["ADD", "DELETE"]), "parentID": a, "childEPCs": [b]})
        }
        4 => {
            serde_json::json!({"type": "TransformationEvent", "inputEPCList": [a], "outputEPCList": [b]})
        }
        _ => serde_json::json!({"type": "TransactionEvent", "action": "ADD", "epcList": [a],
            "bizTransactionList": [{"type": "inv", "bizTransaction": "urn:x:1"}],
            "destinationList": [{"type": "owning_party", "destination": "urn:epc:id:pgln:4012345.00000"}]}),
    };
    event["eventTime"] = serde_json::json!(time);
    event["eventTimeZoneOffset"] = serde_json::json!("+00:00");
    if r.u8().is_multiple_of(8) {
        event["errorDeclaration"] = serde_json::json!({"declarationTime": "2026-01-02T00:00:00Z"});
    }
    Payload::CaptureEpcis(ledger::epcis::capture::EpcisCapture {
        context: JsonValue::new(&serde_json::Value::Null).expect("null"),
        event: JsonValue::new(&event).expect("a typed value"),
        parties: [("urn:epc:id:pgln:4012345.00000".to_string(), org)].into(),
    })
}

/// A payload of every kind, its fields from a small vocabulary; or any payload from raw bytes.
fn payload(r: &mut Reader) -> Option<Payload> {
    use supply::*;
    let item = |r: &mut Reader| pick(r, &ITEMS).to_string();
    let org = |r: &mut Reader| pick(r, &ORGS).to_string();
    Some(match r.u8() % 17 {
        0 => Payload::Memo {
            data: r.bytes(32).to_vec(),
        },
        1 => Payload::AddAccount(AddAccount {
            organization: org(r),
            key: account_key(r),
            roles: roles(r),
        }),
        2 => Payload::RemoveAccount(RemoveAccount {
            organization: org(r),
            key: account_key(r),
        }),
        3 => Payload::SetAccountRoles(SetAccountRoles {
            organization: org(r),
            key: account_key(r),
            roles: roles(r),
        }),
        4 => Payload::Commission(Commission {
            item_id: item(r),
            item_type: pick(r, &["crate", "pallet", "juice"]).to_string(),
            properties: properties(r),
            location: location(r),
        }),
        5 => Payload::Observe(Observe {
            item_id: item(r),
            time_ms: r.u64() % 4,
            location: location(r),
            readings: (0..r.u8() % 3)
                .map(|_| Reading {
                    kind: "temperature".into(),
                    value: json(r),
                    unit: location(r),
                })
                .collect(),
        }),
        6 => Payload::ProposeTransfer(ProposeTransfer {
            item_id: item(r),
            kind: kind(r),
            to_organization: org(r),
        }),
        7 => Payload::AcceptTransfer(TransferResponse {
            item_id: item(r),
            kind: kind(r),
        }),
        8 => Payload::RejectTransfer(TransferResponse {
            item_id: item(r),
            kind: kind(r),
        }),
        9 => Payload::CancelTransfer(TransferResponse {
            item_id: item(r),
            kind: kind(r),
        }),
        10 => Payload::Aggregate(Packing {
            container_id: item(r),
            children: items(r),
        }),
        11 => Payload::Disaggregate(Packing {
            container_id: item(r),
            children: items(r),
        }),
        12 => Payload::Transform(Transform {
            inputs: items(r),
            outputs: (0..r.u8() % 3)
                .map(|_| NewItem {
                    item_id: item(r),
                    item_type: "juice".into(),
                    properties: properties(r),
                })
                .collect(),
            location: location(r),
        }),
        13 => Payload::AttachDocument(AttachDocument {
            item_id: item(r),
            hash_algorithm: if r.u8() & 1 == 0 {
                HashAlgorithm::Sha256
            } else {
                HashAlgorithm::Blake3
            },
            hash: Hash([r.u8(); 32]),
            uri: "https://example.com/d".into(),
            media_type: "application/pdf".into(),
        }),
        14 => Payload::Decommission(Decommission {
            item_id: item(r),
            reason: location(r),
        }),
        15 => {
            let (a, b, o) = (item(r), item(r), org(r));
            epcis(r, a, b, o)
        }
        _ => return from_canonical("payload", r.bytes(1024), 1 << 16).ok(),
    })
}

fn executed(txs: &[SignedTransaction], state: &State) -> BlockExecution {
    let run = || {
        execute_block(CHAIN_ID, txs, state)
            .unwrap_or_else(|e| panic!("execution failed on an in-memory state: {e}"))
    };
    let first = run();
    assert_eq!(first, run(), "execution is deterministic");
    assert_eq!(first.statuses.len(), txs.len());
    for v in first.delta.values().flatten() {
        assert!(v.len() <= MAX_STATE_VALUE_BYTES, "a {} byte value", v.len());
    }
    first
}

fn code(status: &ExecStatus) -> Option<&str> {
    match status {
        ExecStatus::Success => None,
        ExecStatus::Failed { code, .. } => Some(code),
    }
}

/// Runs one block both ways, checks each transaction's effect, and returns the statuses.
fn block(txs: &[SignedTransaction], state: &mut State) -> Vec<ExecStatus> {
    if txs.is_empty() {
        return Vec::new();
    }
    let whole = executed(txs, state);
    let mut one_by_one = state.clone();
    for (tx, status) in txs.iter().zip(&whole.statuses) {
        let seq_before = next_sequence(&one_by_one, &tx.tx.signer).expect("readable");
        let alone = executed(std::slice::from_ref(tx), &one_by_one);
        assert_eq!(
            &alone.statuses[0], status,
            "block boundaries changed a result"
        );
        let seq_key = sequence_key(&tx.tx.signer);
        match code(status) {
            Some("wrong_chain" | "bad_sequence") => {
                assert!(
                    alone.delta.is_empty(),
                    "a rejected transaction changed state"
                );
            }
            Some(code) => {
                assert!(
                    alone.delta.keys().all(|k| *k == seq_key),
                    "failed ({code}) yet wrote more than its sequence number"
                );
            }
            None => {
                assert!(
                    tx.check_limits().is_ok(),
                    "a payload over the limits succeeded"
                );
            }
        }
        if !matches!(code(status), Some("wrong_chain" | "bad_sequence")) {
            let after = Some(Some((seq_before + 1).to_be_bytes().to_vec()));
            assert_eq!(
                alone.delta.get(&seq_key).cloned(),
                after,
                "sequence not advanced by one"
            );
        }
        if tx.check_limits().is_err() {
            assert!(code(status).is_some(), "over the limits yet succeeded");
        }
        one_by_one.apply(&alone.delta);
    }
    state.apply(&whole.delta);
    assert_eq!(&one_by_one, state, "block boundaries changed the state");
    whole.statuses
}

pub fn run(data: &[u8]) {
    play(data);
}

/// Executes the program and returns every transaction's status, in order.
pub fn play(data: &[u8]) -> Vec<ExecStatus> {
    let mut statuses = Vec::new();
    let mut r = Reader::new(data);
    let mut state = State::default();
    state.apply(&supply::genesis_state(genesis()));
    let mut pending = Vec::new();
    let mut count = 0;
    while !r.is_empty() && count < MAX_TXS {
        let op = r.u8();
        if op == 0 {
            statuses.extend(block(&std::mem::take(&mut pending), &mut state));
            continue;
        }
        let who = r.pick(5);
        let signer = signer(who).public();
        let mut sequence = next_sequence(&state, &signer).expect("readable")
            + pending
                .iter()
                .filter(|t: &&SignedTransaction| t.tx.signer == signer)
                .count() as u64;
        match op % 16 {
            14 => sequence = sequence.wrapping_add(1),
            15 => sequence = r.u64(),
            _ => {}
        }
        let Some(payload) = payload(&mut r) else {
            continue;
        };
        let chain_id = if op >= 0xf0 { "elsewhere" } else { CHAIN_ID };
        let tx = Transaction {
            chain_id: chain_id.into(),
            signer,
            sequence,
            payload,
        };
        pending.push(SignedTransaction::new(tx, Signature([0; 64])));
        count += 1;
    }
    statuses.extend(block(&pending, &mut state));
    statuses
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The seed story succeeds where it should, so the fuzzer starts from items that exist,
    /// move, pack and transform, not from a wall of permission failures; the same actions by the
    /// auditor and by the stranger fail (apart from the memos, which anyone may send).
    #[test]
    fn seed_programs_reach_every_action() {
        let seeds = crate::seeds::execute_programs();
        let codes = |data: &[u8]| -> Vec<Option<String>> {
            play(data)
                .iter()
                .map(|s| code(s).map(String::from))
                .collect()
        };
        let story = codes(&seeds[0]);
        let failed: Vec<(usize, &str)> = story
            .iter()
            .enumerate()
            .filter_map(|(i, c)| c.as_deref().map(|c| (i, c)))
            .collect();
        assert_eq!(
            failed,
            [(15, "not_admin"), (17, "bad_sequence"), (18, "wrong_chain")],
            "{story:?}"
        );
        for wrong in &seeds[1..] {
            let codes = codes(wrong);
            let successes = codes.iter().filter(|c| c.is_none()).count();
            assert!(successes <= 1, "{codes:?}");
        }
    }
}
