//! Every method registered against a [`NodeApi`], with its positional parameters.
//! Params are positional (a JSON array); lookups of something absent return `null`.

use std::sync::Arc;

use jsonrpsee::types::{ErrorObjectOwned, Params};
use jsonrpsee::{RpcModule, SubscriptionMessage};
use ledger::{Hash, PublicKey, SignedTransaction};
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

use crate::api::NodeApi;
use crate::error::ApiError;
use crate::server::ServeError;
use crate::types::{SubmitAnswer, MAX_SUBMIT_BATCH};

/// Every method served, with its positional parameters (for `rpc.discover`).
pub const METHODS: &[(&str, &[&str], &str)] = &[
    (
        "waybill_submitTransaction",
        &["tx", "wait_ms?"],
        "Submit a signed transaction (JSON); optionally wait for its commit.",
    ),
    (
        "waybill_submitRawTransaction",
        &["hex", "wait_ms?"],
        "Submit a signed transaction as hex of its canonical bytes.",
    ),
    (
        "waybill_submitRawTransactions",
        &["hexes"],
        "Submit up to 1000 signed transactions, each as hex of its canonical bytes; one answer per transaction, in order.",
    ),
    (
        "waybill_head",
        &[],
        "The committed head and the accumulator at it.",
    ),
    (
        "waybill_getBlockByHeight",
        &["height"],
        "A committed block with its certificate, or null.",
    ),
    (
        "waybill_getBlockByHash",
        &["hash"],
        "A committed block with its certificate, or null.",
    ),
    (
        "waybill_getBlockTxHashes",
        &["height"],
        "The hashes of a committed block's transactions, in order, or null.",
    ),
    (
        "waybill_getTransaction",
        &["hash"],
        "A committed transaction with its receipt and position, a pending one from the mempool, or null.",
    ),
    (
        "waybill_status",
        &[],
        "This node: name, keys, round, height, mempool, peers.",
    ),
    ("waybill_validators", &[], "The current validator set: the genesis set until a governance change ends an epoch (waybill_getEpochChanges proves each change)."),
    (
        "waybill_nextSequence",
        &["account"],
        "The sequence number the ledger expects next from an account.",
    ),
    (
        "waybill_subscribeBlocks",
        &[],
        "WebSocket: a waybill_block notification per committed block.",
    ),
    (
        "waybill_unsubscribeBlocks",
        &["subscription"],
        "WebSocket: end a block subscription.",
    ),
    (
        "waybill_getStateRoot",
        &["height?"],
        "The state root after executing a committed block (the head by default), or null.",
    ),
    (
        "waybill_getItem",
        &["item_id"],
        "An item's current state, pending transfer and documents, or null.",
    ),
    (
        "waybill_getItemHistory",
        &["item_id", "from?", "limit?"],
        "Events that touched an item, oldest first, from ledger index `from` (paged).",
    ),
    (
        "waybill_getProvenance",
        &["item_id", "max_nodes?"],
        "What an item was made of or packed in, recursively, and what it became; or null.",
    ),
    (
        "waybill_getOrganization",
        &["id"],
        "An organization from genesis, or null.",
    ),
    (
        "waybill_organizations",
        &[],
        "Every organization, by id.",
    ),
    (
        "waybill_getOrganizationEvents",
        &["id", "from?", "limit?"],
        "Events that concerned an organization, oldest first (paged).",
    ),
    (
        "waybill_getAccount",
        &["key"],
        "An account (organization, roles) and its next sequence number, or null.",
    ),
    (
        "waybill_subscribeItem",
        &["item_id"],
        "WebSocket: a waybill_itemEvent notification per committed event of the item.",
    ),
    (
        "waybill_unsubscribeItem",
        &["subscription"],
        "WebSocket: end an item subscription.",
    ),
    (
        "waybill_getTransactionProof",
        &["hash"],
        "Audit proof (JSON for `waybill audit verify`): a committed transaction, its receipt and inclusion proof under the latest ledger certificate; or null.",
    ),
    (
        "waybill_getItemProof",
        &["item_id", "height?"],
        "Audit proof: an item's state record or its absence under the ledger certificate of a height (the latest certified by default).",
    ),
    (
        "waybill_getItemHistoryProof",
        &["item_id"],
        "Audit proof: every event naming an item, each with its inclusion proof, under the latest ledger certificate.",
    ),
    (
        "waybill_getConsistencyProof",
        &["from_height", "to_height?"],
        "Audit proof: the ledger certified at one height is a prefix of the one certified at a later height (the latest by default).",
    ),
    (
        "waybill_getEpochChanges",
        &["from_epoch?"],
        "The auditor's ratchet: every validator-set change since genesis (or since epoch from_epoch), oldest first, each the ledger certificate of an epoch's last height with the state proof of the next set (the `epoch_changes` of a proof file).",
    ),
    (
        "waybill_getSnapshotBase",
        &["height?"],
        "State sync: the ledger certificate, block and accumulator frontier of a certified height (the latest certified by default), which a node syncing state starts from; or null.",
    ),
    (
        "waybill_getStateChunk",
        &["node"],
        "State sync: every key and value under one node of the state tree, in key-hash order, or the node's two children when they do not fit one answer; each checked against the node's hash by the syncing node.",
    ),
    (
        "waybill_captureEpcis",
        &["hexes", "wait_ms?"],
        "Capture a GS1 EPCIS 2.0 document: one signed capture_epcis transaction per event, in document order, as hex. All are checked (and a dry run made) before any is submitted; one verdict per event.",
    ),
    (
        "waybill_getEpcisEvent",
        &["hash_id"],
        "A captured EPCIS event by its CBV 2.0 event hash ID (ni:///sha-256;...?ver=CBV2.0): its record, transaction and the event as a query document; or null.",
    ),
    (
        "waybill_queryEpcis",
        &["filter", "from?", "limit?"],
        "Captured EPCIS events by item, eventTime window, bizStep, location, organization or type, oldest first, as an EPCIS 2.0 query document (JSON-LD, paged).",
    ),
    ("rpc.discover", &[], "This list as an OpenRPC document."),
];

/// Subscribe and unsubscribe methods: WebSocket only.
pub const SUBSCRIPTION_METHODS: &[&str] = &[
    "waybill_subscribeBlocks",
    "waybill_unsubscribeBlocks",
    "waybill_subscribeItem",
    "waybill_unsubscribeItem",
];

type Ctx = Arc<dyn NodeApi>;

/// The positional parameters as raw JSON texts. Kept raw, not parsed into `serde_json::Value`,
/// so that a transaction's JSON values reach the signature check exactly as the client signed
/// them (`Value` would rewrite `4.50` as `4.5`).
fn raw_params<'a>(params: &'a Params<'_>) -> Result<Vec<&'a RawValue>, ApiError> {
    match params.as_str() {
        None => Ok(Vec::new()),
        Some(text) => serde_json::from_str(text)
            .map_err(|_| ApiError::InvalidParams("params must be a positional array".into())),
    }
}

/// A signed transaction from the hex of its canonical bytes (lower case, no prefix).
fn decode_raw(text: &str) -> Result<SignedTransaction, ApiError> {
    let bytes =
        ledger::decode_hex(text).map_err(|e| ApiError::InvalidParams(format!("hex: {e}")))?;
    SignedTransaction::from_bytes(&bytes)
        .map_err(|e| ApiError::InvalidParams(format!("transaction bytes: {e}")))
}

fn param<T: DeserializeOwned>(
    params: &Params<'_>,
    index: usize,
    name: &str,
) -> Result<T, ApiError> {
    let all = raw_params(params)?;
    let v = all
        .get(index)
        .ok_or_else(|| ApiError::InvalidParams(format!("missing parameter {index} ({name})")))?;
    ledger::strict_json::from_str(v.get())
        .map_err(|e| ApiError::InvalidParams(format!("parameter {name}: {e}")))
}

fn optional<T: DeserializeOwned>(
    params: &Params<'_>,
    index: usize,
    name: &str,
) -> Result<Option<T>, ApiError> {
    let all = raw_params(params)?;
    match all.get(index) {
        None => Ok(None),
        Some(v) if v.get() == "null" => Ok(None),
        Some(v) => ledger::strict_json::from_str(v.get())
            .map(Some)
            .map_err(|e| ApiError::InvalidParams(format!("parameter {name}: {e}"))),
    }
}

/// Default and largest page of a history query.
const DEFAULT_PAGE: usize = 100;
/// Default and largest provenance trace.
const MAX_PROVENANCE_NODES: usize = 1_000;

type RpcResult<T> = Result<T, ErrorObjectOwned>;

pub(crate) fn module(api: Ctx) -> Result<RpcModule<Ctx>, ServeError> {
    let reg = |e: jsonrpsee::core::RegisterMethodError| ServeError::Register(e.to_string());
    let mut m = RpcModule::new(api);
    m.register_async_method("waybill_submitTransaction", |p, api, _| async move {
        let tx: SignedTransaction = param(&p, 0, "tx")?;
        let wait: Option<u64> = optional(&p, 1, "wait_ms")?;
        RpcResult::Ok(api.submit(tx, wait).await?)
    })
    .map_err(reg)?;
    m.register_async_method("waybill_submitRawTransaction", |p, api, _| async move {
        let text: String = param(&p, 0, "hex")?;
        let tx = decode_raw(&text)?;
        let wait: Option<u64> = optional(&p, 1, "wait_ms")?;
        RpcResult::Ok(api.submit(tx, wait).await?)
    })
    .map_err(reg)?;
    m.register_async_method("waybill_submitRawTransactions", |p, api, _| async move {
        let texts: Vec<String> = param(&p, 0, "hexes")?;
        if texts.len() > MAX_SUBMIT_BATCH {
            return Err(ApiError::InvalidParams(format!(
                "{} transactions in one call, at most {MAX_SUBMIT_BATCH}",
                texts.len()
            ))
            .into());
        }
        // A transaction that does not decode gets its own error; the others go ahead.
        let mut answers: Vec<Option<SubmitAnswer>> = Vec::with_capacity(texts.len());
        let mut txs = Vec::with_capacity(texts.len());
        for text in &texts {
            match decode_raw(text) {
                Ok(tx) => {
                    answers.push(None);
                    txs.push(tx);
                }
                Err(e) => answers.push(Some(Err(e).into())),
            }
        }
        let mut results = api.submit_many(txs).await.into_iter();
        let answers: Vec<SubmitAnswer> = answers
            .into_iter()
            .map(|a| {
                a.or_else(|| results.next().map(SubmitAnswer::from))
                    .unwrap_or_else(|| {
                        Err(ApiError::Internal("no answer for a transaction".into())).into()
                    })
            })
            .collect();
        RpcResult::Ok(answers)
    })
    .map_err(reg)?;
    m.register_method("waybill_head", |_, api, _| RpcResult::Ok(api.head()?))
        .map_err(reg)?;
    m.register_method("waybill_getBlockByHeight", |p, api, _| {
        let h: u64 = param(&p, 0, "height")?;
        RpcResult::Ok(api.block_by_height(h)?)
    })
    .map_err(reg)?;
    m.register_method("waybill_getBlockByHash", |p, api, _| {
        let h: Hash = param(&p, 0, "hash")?;
        RpcResult::Ok(api.block_by_hash(h)?)
    })
    .map_err(reg)?;
    m.register_method("waybill_getBlockTxHashes", |p, api, _| {
        let h: u64 = param(&p, 0, "height")?;
        RpcResult::Ok(api.block_tx_hashes(h)?)
    })
    .map_err(reg)?;
    m.register_async_method("waybill_getTransaction", |p, api, _| async move {
        let h: Hash = param(&p, 0, "hash")?;
        RpcResult::Ok(api.transaction(h).await?)
    })
    .map_err(reg)?;
    m.register_method("waybill_status", |_, api, _| RpcResult::Ok(api.status()?))
        .map_err(reg)?;
    m.register_method("waybill_validators", |_, api, _| {
        RpcResult::Ok(api.validators()?)
    })
    .map_err(reg)?;
    m.register_method("waybill_nextSequence", |p, api, _| {
        let a: PublicKey = param(&p, 0, "account")?;
        RpcResult::Ok(api.next_sequence(a)?)
    })
    .map_err(reg)?;
    m.register_method("rpc.discover", |_, _, _| {
        RpcResult::Ok(crate::openrpc::openrpc())
    })
    .map_err(reg)?;
    m.register_method("waybill_getStateRoot", |p, api, _| {
        let height: Option<u64> = optional(&p, 0, "height")?;
        RpcResult::Ok(api.state_root(height)?)
    })
    .map_err(reg)?;
    m.register_method("waybill_getItem", |p, api, _| {
        let id: String = param(&p, 0, "item_id")?;
        RpcResult::Ok(api.item(&id)?)
    })
    .map_err(reg)?;
    m.register_method("waybill_getItemHistory", |p, api, _| {
        let id: String = param(&p, 0, "item_id")?;
        let (from, limit) = page(&p)?;
        RpcResult::Ok(api.item_history(&id, from, limit)?)
    })
    .map_err(reg)?;
    m.register_method("waybill_getProvenance", |p, api, _| {
        let id: String = param(&p, 0, "item_id")?;
        let max: usize = optional(&p, 1, "max_nodes")?.unwrap_or(MAX_PROVENANCE_NODES);
        RpcResult::Ok(api.provenance(&id, max.clamp(1, MAX_PROVENANCE_NODES))?)
    })
    .map_err(reg)?;
    m.register_method("waybill_getOrganization", |p, api, _| {
        let id: String = param(&p, 0, "id")?;
        RpcResult::Ok(api.organization(&id)?)
    })
    .map_err(reg)?;
    m.register_method("waybill_organizations", |_, api, _| {
        RpcResult::Ok(api.organizations()?)
    })
    .map_err(reg)?;
    m.register_method("waybill_getOrganizationEvents", |p, api, _| {
        let id: String = param(&p, 0, "id")?;
        let (from, limit) = page(&p)?;
        RpcResult::Ok(api.organization_events(&id, from, limit)?)
    })
    .map_err(reg)?;
    m.register_method("waybill_getAccount", |p, api, _| {
        let key: PublicKey = param(&p, 0, "key")?;
        RpcResult::Ok(api.account(key)?)
    })
    .map_err(reg)?;
    m.register_method("waybill_getTransactionProof", |p, api, _| {
        let h: Hash = param(&p, 0, "hash")?;
        RpcResult::Ok(api.transaction_proof(h)?)
    })
    .map_err(reg)?;
    m.register_method("waybill_getItemProof", |p, api, _| {
        let id: String = param(&p, 0, "item_id")?;
        let height: Option<u64> = optional(&p, 1, "height")?;
        RpcResult::Ok(api.item_proof(&id, height)?)
    })
    .map_err(reg)?;
    m.register_method("waybill_getItemHistoryProof", |p, api, _| {
        let id: String = param(&p, 0, "item_id")?;
        RpcResult::Ok(api.item_history_proof(&id)?)
    })
    .map_err(reg)?;
    m.register_method("waybill_getConsistencyProof", |p, api, _| {
        let from: u64 = param(&p, 0, "from_height")?;
        let to: Option<u64> = optional(&p, 1, "to_height")?;
        RpcResult::Ok(api.consistency_proof(from, to)?)
    })
    .map_err(reg)?;
    m.register_method("waybill_getEpochChanges", |p, api, _| {
        let from: Option<u64> = optional(&p, 0, "from_epoch")?;
        RpcResult::Ok(api.epoch_changes(from.unwrap_or(0))?)
    })
    .map_err(reg)?;
    m.register_method("waybill_getSnapshotBase", |p, api, _| {
        let height: Option<u64> = optional(&p, 0, "height")?;
        RpcResult::Ok(api.snapshot_base(height)?)
    })
    .map_err(reg)?;
    m.register_method("waybill_getStateChunk", |p, api, _| {
        let node: Hash = param(&p, 0, "node")?;
        RpcResult::Ok(api.state_chunk(node)?)
    })
    .map_err(reg)?;
    m.register_async_method("waybill_captureEpcis", |p, api, _| async move {
        let texts: Vec<String> = param(&p, 0, "hexes")?;
        if texts.is_empty() || texts.len() > MAX_SUBMIT_BATCH {
            return Err(ApiError::InvalidParams(format!(
                "{} transactions in one call, 1..={MAX_SUBMIT_BATCH} allowed",
                texts.len()
            ))
            .into());
        }
        let mut txs = Vec::with_capacity(texts.len());
        for (i, text) in texts.iter().enumerate() {
            txs.push(decode_raw(text).map_err(|e| {
                ApiError::InvalidParams(format!("transaction {i} (event {i}): {e}"))
            })?);
        }
        let wait: Option<u64> = optional(&p, 1, "wait_ms")?;
        RpcResult::Ok(api.capture_epcis(txs, wait).await?)
    })
    .map_err(reg)?;
    m.register_method("waybill_getEpcisEvent", |p, api, _| {
        let id: ledger::epcis::EventHashId = param(&p, 0, "hash_id")?;
        RpcResult::Ok(api.epcis_event(id)?)
    })
    .map_err(reg)?;
    m.register_method("waybill_queryEpcis", |p, api, _| {
        let filter: ledger::epcis::query::QueryFilter = param(&p, 0, "filter")?;
        let (from, limit) = page(&p)?;
        RpcResult::Ok(api.query_epcis(filter, from, limit)?)
    })
    .map_err(reg)?;
    m.register_subscription(
        "waybill_subscribeItem",
        "waybill_itemEvent",
        "waybill_unsubscribeItem",
        |p, pending, api, _| async move {
            let id: String = match param(&p, 0, "item_id") {
                Ok(id) => id,
                Err(e) => {
                    pending.reject(ErrorObjectOwned::from(e)).await;
                    return Ok(());
                }
            };
            // Events are read from the item's history index after each committed block, so a
            // subscriber sees exactly what a history query would, in order, and nothing twice.
            let mut blocks = api.subscribe_blocks();
            // Only events committed after subscribing: they are at or past today's ledger size.
            let mut from = api.head()?.accumulator_size;
            let sink = pending.accept().await?;
            loop {
                match blocks.recv().await {
                    Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return Ok(()),
                }
                loop {
                    let page = api.item_history(&id, from, DEFAULT_PAGE)?;
                    for entry in page.entries {
                        from = entry.ledger_index + 1;
                        let event = crate::types::ItemEvent {
                            item_id: id.clone(),
                            entry,
                        };
                        let raw = serde_json::value::to_raw_value(&event)?;
                        if sink.send(SubscriptionMessage::from(raw)).await.is_err() {
                            return Ok(());
                        }
                    }
                    if page.next_from.is_none() {
                        break;
                    }
                }
            }
        },
    )
    .map_err(reg)?;
    m.register_subscription(
        "waybill_subscribeBlocks",
        "waybill_block",
        "waybill_unsubscribeBlocks",
        |_, pending, api, _| async move {
            let mut blocks = api.subscribe_blocks();
            let sink = pending.accept().await?;
            loop {
                match blocks.recv().await {
                    Ok(b) => {
                        let raw = serde_json::value::to_raw_value(&b)?;
                        if sink.send(SubscriptionMessage::from(raw)).await.is_err() {
                            return Ok(());
                        }
                    }
                    // A slow subscriber misses blocks rather than holding the node's memory.
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return Ok(()),
                }
            }
        },
    )
    .map_err(reg)?;
    Ok(m)
}

/// `from?` and `limit?` at positions 1 and 2 of a history query.
fn page(p: &Params<'_>) -> Result<(u64, usize), ApiError> {
    let from: u64 = optional(p, 1, "from")?.unwrap_or(0);
    let limit: usize = optional(p, 2, "limit")?.unwrap_or(DEFAULT_PAGE);
    if limit == 0 {
        return Err(ApiError::InvalidParams("limit must be at least 1".into()));
    }
    Ok((from, limit.min(DEFAULT_PAGE * 10)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ledger::{KeyPair, Payload, Transaction};

    fn signed() -> SignedTransaction {
        let key = KeyPair::from_secret([1; 32]);
        Transaction {
            chain_id: "c".into(),
            signer: key.public(),
            sequence: 0,
            payload: Payload::Memo { data: vec![0xab] },
        }
        .sign(&key)
    }

    fn submit_param(tx_json: &str) -> Result<SignedTransaction, ApiError> {
        let text = format!("[{tx_json}]");
        param(&Params::new(Some(&text)), 0, "tx")
    }

    /// `waybill_submitTransaction` and `waybill_submitRawTransaction` read their transaction as
    /// strictly as `audit verify` reads a proof: lower-case unprefixed hex, no member twice, no
    /// unknown member, and the error names the member's path.
    #[test]
    fn submitted_transactions_are_read_strictly() {
        let tx = signed();
        let json = serde_json::to_string(&tx).unwrap();
        assert_eq!(submit_param(&json).unwrap(), tx);
        let signer = tx.tx.signer.to_hex();
        let bad = [
            json.replace(&signer, &signer.to_uppercase()),
            json.replace(&signer, &format!("0x{signer}")),
            json.replace(r#""data":"ab""#, r#""data":"AB""#),
            json.replace(r#""sequence":0"#, r#""sequence":0,"sequence":1"#),
            json.replace(r#""sequence":0"#, r#""sequence":0,"fee":1"#),
            json.replace(r#""data":"ab""#, r#""data":"ab","extra":1"#),
        ];
        for b in bad {
            assert_ne!(b, json);
            let e = submit_param(&b).expect_err(&b).to_string();
            assert!(e.contains("$.tx"), "{b}: {e}");
        }
        let hex = hex::encode(tx.to_bytes());
        assert_eq!(decode_raw(&hex).unwrap(), tx);
        assert!(decode_raw(&format!("0x{hex}")).is_err());
        assert!(decode_raw(&hex.to_uppercase()).is_err());
    }
}
