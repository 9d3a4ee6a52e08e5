//! `rpc.discover`: the OpenRPC 1.2.6 document of every method, with JSON Schemas of parameters
//! and results (`schemas`). Subscriptions name their notification in `x-notification`, since
//! OpenRPC has no field for it.

use serde_json::{json, Value};

use crate::methods::METHODS;
use crate::schemas::{components, nullable, r, u64_};

/// Parameter schemas (in `METHODS` order) and the result schema of `method`.
fn signature(method: &str) -> Option<(Vec<Value>, Value)> {
    let item_id = || json!({ "type": "string" });
    let wait_ms = || json!({ "type": "integer", "minimum": 0, "description": "Wait this long (at most 60000) for the commit" });
    let from = || json!({ "type": "integer", "minimum": 0, "description": "First ledger index (default 0)" });
    let limit = || json!({ "type": "integer", "minimum": 1, "description": "Page size (default 100, at most 1000)" });
    let sig = match method {
        "waybill_submitTransaction" => {
            (vec![r("SignedTransaction"), wait_ms()], r("SubmitOutcome"))
        }
        "waybill_submitRawTransaction" => (
            vec![
                json!({ "type": "string", "pattern": "^([0-9a-f]{2})*$", "description": "Canonical bytes of a SignedTransaction" }),
                wait_ms(),
            ],
            r("SubmitOutcome"),
        ),
        "waybill_submitRawTransactions" => (
            vec![json!({
                "type": "array",
                "maxItems": 1000,
                "items": { "type": "string", "pattern": "^([0-9a-f]{2})*$" },
                "description": "Hex of each signed transaction's canonical bytes"
            })],
            json!({ "type": "array", "items": r("SubmitAnswer") }),
        ),
        "waybill_head" => (vec![], r("HeadInfo")),
        "waybill_getBlockByHeight" => (vec![u64_()], nullable(r("StoredBlock"))),
        "waybill_getBlockByHash" => (vec![r("Hash")], nullable(r("StoredBlock"))),
        "waybill_getBlockTxHashes" => (vec![u64_()], nullable(r("BlockTxHashes"))),
        "waybill_getTransaction" => (vec![r("Hash")], nullable(r("TxInfo"))),
        "waybill_status" => (vec![], r("NodeStatus")),
        "waybill_validators" => (
            vec![],
            json!({ "type": "array", "items": r("ValidatorInfo") }),
        ),
        "waybill_nextSequence" => (vec![r("PublicKey")], u64_()),
        "waybill_getStateRoot" => (vec![u64_()], nullable(r("Hash"))),
        "waybill_getItem" => (vec![item_id()], nullable(r("ItemView"))),
        "waybill_getItemHistory" => (vec![item_id(), from(), limit()], r("HistoryPage")),
        "waybill_getProvenance" => (
            vec![
                item_id(),
                json!({ "type": "integer", "minimum": 1, "description": "At most this many nodes (default and cap 1000)" }),
            ],
            nullable(r("Provenance")),
        ),
        "waybill_getOrganization" => (vec![json!({ "type": "string" })], nullable(r("OrgRecord"))),
        "waybill_organizations" => (vec![], json!({ "type": "array", "items": r("OrgRecord") })),
        "waybill_getOrganizationEvents" => (
            vec![json!({ "type": "string" }), from(), limit()],
            r("HistoryPage"),
        ),
        "waybill_getAccount" => (vec![r("PublicKey")], nullable(r("AccountView"))),
        "waybill_subscribeBlocks" => (vec![], r("SubscriptionId")),
        "waybill_subscribeItem" => (vec![item_id()], r("SubscriptionId")),
        "waybill_unsubscribeBlocks" | "waybill_unsubscribeItem" => {
            (vec![r("SubscriptionId")], json!({ "type": "boolean" }))
        }
        // Audit proofs: their bytes and checks are specified in docs/PROOFS.md.
        "waybill_getTransactionProof" => (vec![r("Hash")], nullable(proof())),
        "waybill_getItemProof" => (vec![item_id(), u64_()], proof()),
        "waybill_getItemHistoryProof" => (vec![item_id()], proof()),
        "waybill_getConsistencyProof" => (vec![u64_(), u64_()], proof()),
        "waybill_getEpochChanges" => (
            vec![u64_()],
            json!({ "type": "array", "items": { "type": "object", "description": "An epoch change: certificate, next set, state proof (docs/PROOFS.md, Epochs)" } }),
        ),
        "waybill_getSnapshotBase" => (
            vec![u64_()],
            nullable(
                json!({ "type": "object", "required": ["certificate", "block", "frontier"], "description": "A certified height's ledger certificate, stored block and accumulator frontier (docs/OPERATIONS.md, State sync)" }),
            ),
        ),
        "waybill_getStateChunk" => (
            vec![r("Hash")],
            json!({ "description": "{\"leaves\": [{\"key\", \"value\"} as hex]}, {\"split\": {\"left\", \"right\"}} or \"unavailable\" (docs/OPERATIONS.md, State sync)" }),
        ),
        "waybill_captureEpcis" => (
            vec![
                json!({
                    "type": "array",
                    "minItems": 1,
                    "maxItems": 1000,
                    "items": { "type": "string", "pattern": "^([0-9a-f]{2})*$" },
                    "description": "Hex of each event's signed capture_epcis transaction, in document order"
                }),
                wait_ms(),
            ],
            r("CaptureOutcome"),
        ),
        "waybill_getEpcisEvent" => (vec![r("EventHashId")], nullable(r("EpcisEventView"))),
        "waybill_queryEpcis" => (
            vec![r("EpcisQueryFilter"), from(), limit()],
            r("EpcisQueryDocument"),
        ),
        "rpc.discover" => (
            vec![],
            json!({ "type": "object", "required": ["openrpc", "info", "methods"], "description": "This OpenRPC document" }),
        ),
        _ => return None,
    };
    Some(sig)
}

/// A proof file, as `waybill audit verify` reads it.
fn proof() -> Value {
    json!({ "type": "object", "description": "An audit proof file, tagged by kind; every field and check is specified in docs/PROOFS.md" })
}

/// The notification a subscription method sends, and its `result` schema.
fn notification(method: &str) -> Option<(&'static str, Value)> {
    match method {
        "waybill_subscribeBlocks" => Some(("waybill_block", r("BlockSummary"))),
        "waybill_subscribeItem" => Some(("waybill_itemEvent", r("ItemEvent"))),
        _ => None,
    }
}

pub fn openrpc() -> Value {
    let methods: Vec<Value> = METHODS
        .iter()
        .map(|(name, params, summary)| {
            // A method without a written schema still appears, with schemas that claim nothing.
            let (param_schemas, result) = signature(name).unwrap_or_default();
            let params: Vec<Value> = params
                .iter()
                .enumerate()
                .map(|(i, p)| {
                    json!({
                        "name": p.trim_end_matches('?'),
                        "required": !p.ends_with('?'),
                        "schema": param_schemas.get(i).cloned().unwrap_or(json!({}))
                    })
                })
                .collect();
            let mut method = json!({
                "name": name,
                "summary": summary,
                "paramStructure": "by-position",
                "params": params,
                "result": { "name": "result", "schema": if result.is_null() { json!({}) } else { result } }
            });
            if let Some((notification, schema)) = notification(name) {
                method["x-notification"] = json!({ "method": notification, "result": schema });
            }
            method
        })
        .collect();
    json!({
        "openrpc": "1.2.6",
        "info": { "title": "Waybill JSON-RPC", "version": env!("CARGO_PKG_VERSION") },
        "methods": methods,
        "components": { "schemas": components() }
    })
}

#[cfg(test)]
#[path = "openrpc_tests.rs"]
mod tests;
