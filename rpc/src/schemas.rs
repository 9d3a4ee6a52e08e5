//! JSON Schemas (draft 2020-12 subset, as OpenRPC uses) of every shape the RPC reads or writes,
//! written by hand from the serde shapes in `ledger` and `types`. `openrpc`'s tests check real
//! serialized values against them, so a field added or renamed there fails a test here.

use serde_json::{json, Map, Value};

/// `{"$ref": "#/components/schemas/<name>"}`.
pub fn r(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

/// The schema or JSON `null`.
pub fn nullable(schema: Value) -> Value {
    json!({ "oneOf": [schema, { "type": "null" }] })
}

pub fn u64_() -> Value {
    json!({ "type": "integer", "minimum": 0 })
}

fn string() -> Value {
    json!({ "type": "string" })
}

fn array(items: Value) -> Value {
    json!({ "type": "array", "items": items })
}

fn strings() -> Value {
    array(string())
}

fn enumeration(values: &[&str]) -> Value {
    json!({ "type": "string", "enum": values })
}

/// An object with exactly these fields: `required` always present, `optional` may be left out.
fn object(required: &[(&str, Value)], optional: &[(&str, Value)]) -> Value {
    let mut properties = Map::new();
    for (name, schema) in required.iter().chain(optional) {
        properties.insert(name.to_string(), schema.clone());
    }
    let names: Vec<&str> = required.iter().map(|(n, _)| *n).collect();
    json!({
        "type": "object",
        "properties": properties,
        "required": names,
        "additionalProperties": false
    })
}

/// The payload kinds, each `{"<kind>": {fields}}` (serde's external tagging).
fn payload() -> Value {
    let item = || string();
    let props = || json!({ "type": "object", "additionalProperties": r("JsonValue") });
    let kinds: Vec<(&str, Value)> = vec![
        ("memo", object(&[("data", r("HexBytes"))], &[])),
        (
            "add_account",
            object(
                &[("organization", string()), ("key", r("PublicKey"))],
                &[("roles", strings())],
            ),
        ),
        (
            "remove_account",
            object(&[("organization", string()), ("key", r("PublicKey"))], &[]),
        ),
        (
            "set_account_roles",
            object(
                &[
                    ("organization", string()),
                    ("key", r("PublicKey")),
                    ("roles", strings()),
                ],
                &[],
            ),
        ),
        (
            "commission",
            object(
                &[("item_id", item()), ("item_type", string())],
                &[("properties", props()), ("location", nullable(string()))],
            ),
        ),
        (
            "observe",
            object(
                &[("item_id", item()), ("time_ms", u64_())],
                &[
                    ("location", nullable(string())),
                    (
                        "readings",
                        array(object(
                            &[("kind", string()), ("value", r("JsonValue"))],
                            &[("unit", nullable(string()))],
                        )),
                    ),
                ],
            ),
        ),
        (
            "propose_transfer",
            object(
                &[
                    ("item_id", item()),
                    ("kind", r("TransferKind")),
                    ("to_organization", string()),
                ],
                &[],
            ),
        ),
        ("accept_transfer", r("TransferResponse")),
        ("reject_transfer", r("TransferResponse")),
        ("cancel_transfer", r("TransferResponse")),
        ("aggregate", r("Packing")),
        ("disaggregate", r("Packing")),
        (
            "transform",
            object(
                &[
                    ("inputs", strings()),
                    (
                        "outputs",
                        array(object(
                            &[("item_id", item()), ("item_type", string())],
                            &[("properties", props())],
                        )),
                    ),
                ],
                &[("location", nullable(string()))],
            ),
        ),
        (
            "attach_document",
            object(
                &[
                    ("item_id", item()),
                    ("hash_algorithm", enumeration(&["sha256", "blake3"])),
                    ("hash", r("Hash")),
                    ("uri", string()),
                    ("media_type", string()),
                ],
                &[],
            ),
        ),
        (
            "decommission",
            object(&[("item_id", item())], &[("reason", nullable(string()))]),
        ),
        (
            "capture_epcis",
            object(
                &[("context", r("JsonValue")), ("event", r("JsonValue"))],
                &[(
                    "parties",
                    json!({ "type": "object", "additionalProperties": string(), "description": "GS1 party id (as the event writes it) -> Waybill organization id" }),
                )],
            ),
        ),
    ];
    let variants: Vec<Value> = kinds
        .into_iter()
        .map(|(kind, body)| object(&[(kind, body)], &[]))
        .collect();
    json!({
        "description": "One supply-chain action, externally tagged: {\"<kind>\": {...}}. Limits (identifier syntax, sizes) are checked by the node; see SIGNING.md.",
        "oneOf": variants
    })
}

fn hex(digits: usize, description: &str) -> Value {
    json!({
        "type": "string",
        "pattern": format!("^[0-9a-f]{{{digits}}}$"),
        "description": description
    })
}

/// `components.schemas` of the OpenRPC document.
pub fn components() -> Value {
    let history_entry = object(
        &[
            ("ledger_index", u64_()),
            ("height", u64_()),
            ("tx_hash", r("Hash")),
            ("kind", r("EventKind")),
            ("organization", string()),
            ("roles", array(r("ItemRole"))),
            ("items", strings()),
        ],
        &[],
    );
    let schemas: Vec<(&str, Value)> = vec![
        (
            "Hash",
            hex(64, "32 bytes (blake3 unless stated), lowercase hex"),
        ),
        ("PublicKey", hex(64, "Ed25519 public key, lowercase hex")),
        ("Signature", hex(128, "Ed25519 signature, lowercase hex")),
        (
            "HexBytes",
            json!({ "type": "string", "pattern": "^([0-9a-f]{2})*$" }),
        ),
        (
            "JsonValue",
            json!({ "description": "A JSON value whose numbers are integers of magnitude at most 2^53 - 1 or have at most 15 significant digits between 1e-300 and 1e300; signed as a typed value, so 4.50 and 4.5 are the same value (SIGNING.md)" }),
        ),
        ("TransferKind", enumeration(&["custody", "ownership"])),
        (
            "TransferResponse",
            object(&[("item_id", string()), ("kind", r("TransferKind"))], &[]),
        ),
        (
            "Packing",
            object(&[("container_id", string()), ("children", strings())], &[]),
        ),
        ("Payload", payload()),
        (
            "Transaction",
            object(
                &[
                    ("chain_id", string()),
                    ("signer", r("PublicKey")),
                    ("sequence", u64_()),
                    ("payload", r("Payload")),
                ],
                &[],
            ),
        ),
        (
            "SignedTransaction",
            object(
                &[("tx", r("Transaction")), ("signature", r("Signature"))],
                &[],
            ),
        ),
        (
            "ExecStatus",
            json!({ "oneOf": [
                { "const": "success" },
                object(&[("failed", object(&[("code", string()), ("message", string())], &[]))], &[])
            ]}),
        ),
        (
            "Receipt",
            object(
                &[
                    ("tx_hash", r("Hash")),
                    ("height", u64_()),
                    ("index_in_block", u64_()),
                    ("ledger_index", u64_()),
                    ("status", r("ExecStatus")),
                ],
                &[],
            ),
        ),
        (
            "SubmitAnswer",
            json!({ "oneOf": [
                r("SubmitOutcome"),
                object(
                    &[(
                        "error",
                        object(
                            &[("code", json!({ "type": "integer" })), ("message", json!({ "type": "string" }))],
                            &[("data", json!({}))],
                        ),
                    )],
                    &[],
                ),
            ] }),
        ),
        (
            "SubmitOutcome",
            object(
                &[
                    ("tx_hash", r("Hash")),
                    ("status", enumeration(&["pending", "committed"])),
                ],
                &[("receipt", r("Receipt"))],
            ),
        ),
        (
            "HeadInfo",
            object(
                &[
                    ("chain_id", string()),
                    ("genesis_hash", r("Hash")),
                    ("height", u64_()),
                    ("hash", r("Hash")),
                    ("accumulator_size", u64_()),
                    ("accumulator_root", r("Hash")),
                    ("state_root", r("Hash")),
                ],
                &[],
            ),
        ),
        (
            "BlockTxHashes",
            object(
                &[
                    ("height", u64_()),
                    ("hash", r("Hash")),
                    ("tx_hashes", json!({ "type": "array", "items": r("Hash") })),
                ],
                &[],
            ),
        ),
        (
            "BlockHeader",
            object(
                &[
                    ("chain_id", string()),
                    ("height", u64_()),
                    ("round", u64_()),
                    ("parent", r("Hash")),
                    ("tx_root", r("Hash")),
                    ("proposer", r("PublicKey")),
                    ("timestamp_ms", u64_()),
                    ("justify", r("HexBytes")),
                ],
                &[],
            ),
        ),
        (
            "Block",
            object(
                &[
                    ("header", r("BlockHeader")),
                    ("txs", array(r("SignedTransaction"))),
                ],
                &[],
            ),
        ),
        (
            "StoredBlock",
            object(
                &[
                    ("block", r("Block")),
                    ("certificate", r("HexBytes")),
                    ("accumulator_size_after", u64_()),
                    ("accumulator_root_after", r("Hash")),
                ],
                &[],
            ),
        ),
        (
            "TxInfo",
            object(
                &[
                    ("tx", r("SignedTransaction")),
                    ("receipt", nullable(r("Receipt"))),
                    ("height", nullable(u64_())),
                    ("index_in_block", nullable(u64_())),
                    ("ledger_index", nullable(u64_())),
                    ("pending", json!({ "type": "boolean" })),
                ],
                &[],
            ),
        ),
        (
            "NodeStatus",
            object(
                &[
                    ("name", string()),
                    ("validator_key", r("PublicKey")),
                    ("peer_id", string()),
                    ("round", u64_()),
                    ("committed_height", u64_()),
                    ("mempool_size", u64_()),
                    ("peers", strings()),
                    ("syncing", json!({ "type": "boolean" })),
                ],
                &[
                    ("certified_height", u64_()),
                    ("checkpoint_divergences", u64_()),
                    ("version", string()),
                    ("peer_names", strings()),
                    ("observer", json!({ "type": "boolean" })),
                    ("idle", json!({ "type": "boolean" })),
                ],
            ),
        ),
        (
            "ValidatorInfo",
            object(
                &[
                    ("name", string()),
                    ("consensus_key", r("PublicKey")),
                    ("peer_id", string()),
                    ("power", u64_()),
                    ("organization", nullable(string())),
                ],
                &[],
            ),
        ),
        (
            "BlockSummary",
            object(
                &[
                    ("height", u64_()),
                    ("hash", r("Hash")),
                    ("tx_count", u64_()),
                    ("timestamp_ms", u64_()),
                    ("accumulator_size", u64_()),
                    ("accumulator_root", r("Hash")),
                    ("state_root", r("Hash")),
                ],
                &[],
            ),
        ),
        (
            "ItemStatus",
            enumeration(&["active", "consumed", "decommissioned"]),
        ),
        (
            "ItemRecord",
            object(
                &[
                    ("id", string()),
                    ("item_type", string()),
                    ("owner", string()),
                    ("custodian", string()),
                    ("status", r("ItemStatus")),
                    (
                        "properties",
                        json!({ "type": "object", "additionalProperties": r("JsonValue") }),
                    ),
                    ("location", nullable(string())),
                    ("last_observed_ms", nullable(u64_())),
                    ("parent", nullable(string())),
                    ("children", strings()),
                    ("contents_count", u64_()),
                    ("derived_from", strings()),
                    ("transformed_into", strings()),
                    ("document_count", u64_()),
                    ("decommission_reason", nullable(string())),
                ],
                &[],
            ),
        ),
        (
            "PendingTransfer",
            object(
                &[
                    ("item_id", string()),
                    ("kind", r("TransferKind")),
                    ("from_organization", string()),
                    ("to_organization", string()),
                    ("proposer", r("PublicKey")),
                    ("proposal_tx", r("Hash")),
                ],
                &[],
            ),
        ),
        (
            "DocumentRecord",
            object(
                &[
                    ("item_id", string()),
                    ("index", u64_()),
                    ("hash_algorithm", enumeration(&["sha256", "blake3"])),
                    ("hash", r("Hash")),
                    ("uri", string()),
                    ("media_type", string()),
                    ("attached_by", string()),
                    ("attach_tx", r("Hash")),
                ],
                &[],
            ),
        ),
        (
            "ItemView",
            object(
                &[
                    ("height", u64_()),
                    ("item", r("ItemRecord")),
                    ("pending_transfer", nullable(r("PendingTransfer"))),
                    ("documents", array(r("DocumentRecord"))),
                ],
                &[],
            ),
        ),
        (
            "EventKind",
            enumeration(&[
                "account_added",
                "account_removed",
                "account_roles_set",
                "commission",
                "observe",
                "custody_proposed",
                "custody_accepted",
                "custody_rejected",
                "custody_cancelled",
                "ownership_proposed",
                "ownership_accepted",
                "ownership_rejected",
                "ownership_cancelled",
                "aggregate",
                "disaggregate",
                "transform",
                "document_attached",
                "decommission",
                "sensor_report",
                "associate",
                "business_transaction",
                "error_declaration",
            ]),
        ),
        (
            "EventHashId",
            json!({
                "type": "string",
                "pattern": "^ni:///sha-256;[0-9a-f]{64}\\?ver=CBV2\\.0$",
                "description": "A CBV 2.0 EPCIS event hash ID (RFC 6920 ni URI of SHA-256)"
            }),
        ),
        (
            "EpcisVerdict",
            object(
                &[
                    ("index", u64_()),
                    ("hash_id", nullable(r("EventHashId"))),
                    ("tx_hash", r("Hash")),
                    (
                        "status",
                        enumeration(&[
                            "refused",
                            "not_submitted",
                            "rejected",
                            "pending",
                            "committed",
                            "failed",
                        ]),
                    ),
                ],
                &[
                    ("code", string()),
                    ("message", string()),
                    ("ledger_index", u64_()),
                ],
            ),
        ),
        (
            "CaptureOutcome",
            object(
                &[
                    ("complete", json!({ "type": "boolean" })),
                    ("captured", u64_()),
                    ("events", array(r("EpcisVerdict"))),
                ],
                &[],
            ),
        ),
        (
            "EpcisRecord",
            object(
                &[
                    ("tx_hash", r("Hash")),
                    ("organization", string()),
                    ("declared_erroneous", nullable(r("Hash"))),
                ],
                &[],
            ),
        ),
        (
            "EpcisQueryDocument",
            json!({
                "type": "object",
                "required": ["@context", "type", "epcisBody"],
                "description": "An EPCIS 2.0 query document (JSON-LD, type EPCISQueryDocument); resultsBody also has waybill:records (one per event: hashId, ledgerIndex, height, txHash, capturedBy, errorDeclaration, declaredErroneousBy) and, when more events follow, waybill:nextFrom"
            }),
        ),
        (
            "EpcisEventView",
            object(
                &[
                    ("hash_id", r("EventHashId")),
                    ("record", r("EpcisRecord")),
                    ("ledger_index", u64_()),
                    ("height", u64_()),
                    ("document", r("EpcisQueryDocument")),
                ],
                &[],
            ),
        ),
        (
            "EpcisQueryFilter",
            object(
                &[],
                &[
                    ("item", nullable(string())),
                    ("GE_eventTime", nullable(string())),
                    ("LT_eventTime", nullable(string())),
                    ("EQ_bizStep", nullable(string())),
                    ("EQ_location", nullable(string())),
                    ("EQ_organization", nullable(string())),
                    ("eventType", nullable(string())),
                ],
            ),
        ),
        (
            "ItemRole",
            enumeration(&[
                "subject",
                "container",
                "child",
                "contents",
                "input",
                "output",
            ]),
        ),
        ("HistoryEntry", history_entry),
        (
            "HistoryPage",
            object(
                &[
                    ("entries", array(r("HistoryEntry"))),
                    ("next_from", nullable(u64_())),
                ],
                &[],
            ),
        ),
        (
            "Relation",
            enumeration(&[
                "root",
                "made_from",
                "packed_in",
                "became_output",
                "contains",
            ]),
        ),
        (
            "ProvenanceNode",
            object(
                &[
                    ("item_id", string()),
                    ("item_type", string()),
                    ("status", r("ItemStatus")),
                    ("owner", string()),
                    ("custodian", string()),
                    ("relation", r("Relation")),
                    ("via", nullable(string())),
                    ("depth", u64_()),
                ],
                &[],
            ),
        ),
        (
            "Provenance",
            object(
                &[
                    ("nodes", array(r("ProvenanceNode"))),
                    ("truncated", json!({ "type": "boolean" })),
                ],
                &[],
            ),
        ),
        (
            "OrgRecord",
            object(
                &[
                    ("id", string()),
                    ("name", string()),
                    ("admins", array(r("PublicKey"))),
                ],
                &[],
            ),
        ),
        (
            "AccountRecord",
            object(
                &[
                    ("key", r("PublicKey")),
                    ("organization", string()),
                    ("roles", strings()),
                ],
                &[],
            ),
        ),
        (
            "AccountView",
            object(
                &[
                    ("key", r("PublicKey")),
                    ("account", r("AccountRecord")),
                    ("next_sequence", u64_()),
                ],
                &[],
            ),
        ),
        (
            "ItemEvent",
            object(&[("item_id", string()), ("entry", r("HistoryEntry"))], &[]),
        ),
        (
            "SubscriptionId",
            json!({ "type": ["integer", "string"], "description": "Names the subscription in its notifications and in unsubscribe" }),
        ),
    ];
    let mut map = Map::new();
    for (name, schema) in schemas {
        map.insert(name.to_string(), schema);
    }
    Value::Object(map)
}
