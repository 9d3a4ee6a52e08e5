//! JSON-RPC requests through the real method table (`rpc::methods`), in process, against a node
//! that answers everything at once. The first byte either picks a method and the rest are its
//! params (so most inputs reach a method's params decoding), or says the rest is a whole
//! request.
//!
//! - every answer is a JSON-RPC 2.0 response with exactly one of `result` and `error`;
//! - every error code is a documented one, and never "internal" (bad params are the client's
//!   fault, not the node's);
//! - what reaches the node is within the documented bounds: history pages of 1..=1,000 entries,
//!   provenance traces of 1..=1,000 nodes, at most 1,000 transactions in one batch submission,
//!   transactions whose remembered hash is their hash.

use std::sync::Arc;

use jsonrpsee::server::Methods;
use ledger::proof::Proof;
use ledger::stored::StoredBlock;
use ledger::supply::history::Provenance;
use ledger::supply::state::OrgRecord;
use ledger::{Hash, PublicKey, SignedTransaction};
use rpc::{
    codes, AccountView, ApiError, HeadInfo, HistoryPage, ItemView, NodeApi, NodeStatus,
    SubmitOutcome, TxInfo, ValidatorInfo, MAX_SUBMIT_BATCH, METHODS,
};

use super::text;

/// The most a history page or provenance trace may ask of the node.
const MAX_PAGE: usize = 1_000;

struct Node;

fn check_tx(tx: &SignedTransaction) {
    assert_eq!(tx.hash(), tx.tx.hash(), "remembered hash is the hash");
}

fn page(limit: usize) -> Result<HistoryPage, ApiError> {
    assert!((1..=MAX_PAGE).contains(&limit), "page of {limit} asked");
    Ok(HistoryPage {
        entries: vec![],
        next_from: None,
    })
}

#[async_trait::async_trait]
impl NodeApi for Node {
    async fn submit(
        &self,
        tx: SignedTransaction,
        _wait_ms: Option<u64>,
    ) -> Result<SubmitOutcome, ApiError> {
        check_tx(&tx);
        Ok(SubmitOutcome::new(tx.hash(), None))
    }
    async fn submit_many(
        &self,
        txs: Vec<SignedTransaction>,
    ) -> Vec<Result<SubmitOutcome, ApiError>> {
        assert!(txs.len() <= MAX_SUBMIT_BATCH, "{} in one batch", txs.len());
        txs.iter()
            .map(|tx| {
                check_tx(tx);
                Ok(SubmitOutcome::new(tx.hash(), None))
            })
            .collect()
    }
    fn head(&self) -> Result<HeadInfo, ApiError> {
        Ok(HeadInfo {
            chain_id: "waybill-fuzz".into(),
            genesis_hash: Hash::ZERO,
            height: 0,
            hash: Hash::ZERO,
            accumulator_size: 0,
            accumulator_root: Hash::ZERO,
            state_root: Hash::ZERO,
        })
    }
    fn block_by_height(&self, _height: u64) -> Result<Option<StoredBlock>, ApiError> {
        Ok(None)
    }
    fn block_by_hash(&self, _hash: Hash) -> Result<Option<StoredBlock>, ApiError> {
        Ok(None)
    }
    async fn transaction(&self, _hash: Hash) -> Result<Option<TxInfo>, ApiError> {
        Ok(None)
    }
    fn status(&self) -> Result<NodeStatus, ApiError> {
        Err(ApiError::NotReady("fuzz node".into()))
    }
    fn health(&self) -> rpc::Health {
        rpc::Health::default()
    }
    fn validators(&self) -> Result<Vec<ValidatorInfo>, ApiError> {
        Ok(vec![])
    }
    fn next_sequence(&self, _account: PublicKey) -> Result<u64, ApiError> {
        Ok(0)
    }
    fn subscribe_blocks(&self) -> tokio::sync::broadcast::Receiver<rpc::BlockSummary> {
        // No blocks will ever come: a subscription ends as soon as it starts waiting.
        tokio::sync::broadcast::channel(1).1
    }
    fn state_root(&self, _height: Option<u64>) -> Result<Option<Hash>, ApiError> {
        Ok(None)
    }
    fn item(&self, _item_id: &str) -> Result<Option<ItemView>, ApiError> {
        Ok(None)
    }
    fn item_history(
        &self,
        _item_id: &str,
        _from: u64,
        limit: usize,
    ) -> Result<HistoryPage, ApiError> {
        page(limit)
    }
    fn provenance(&self, _item_id: &str, max_nodes: usize) -> Result<Option<Provenance>, ApiError> {
        assert!(
            (1..=MAX_PAGE).contains(&max_nodes),
            "trace of {max_nodes} asked"
        );
        Ok(None)
    }
    fn organization(&self, _id: &str) -> Result<Option<OrgRecord>, ApiError> {
        Ok(None)
    }
    fn organizations(&self) -> Result<Vec<OrgRecord>, ApiError> {
        Ok(vec![])
    }
    fn organization_events(
        &self,
        _id: &str,
        _from: u64,
        limit: usize,
    ) -> Result<HistoryPage, ApiError> {
        page(limit)
    }
    fn account(&self, _key: PublicKey) -> Result<Option<AccountView>, ApiError> {
        Ok(None)
    }
    async fn capture_epcis(
        &self,
        txs: Vec<SignedTransaction>,
        _wait_ms: Option<u64>,
    ) -> Result<rpc::CaptureOutcome, ApiError> {
        assert!(
            (1..=MAX_SUBMIT_BATCH).contains(&txs.len()),
            "{} in one capture",
            txs.len()
        );
        txs.iter().for_each(check_tx);
        Ok(rpc::CaptureOutcome {
            complete: true,
            captured: 0,
            events: vec![],
        })
    }
    fn epcis_event(
        &self,
        _id: ledger::epcis::EventHashId,
    ) -> Result<Option<rpc::EpcisEventView>, ApiError> {
        Ok(None)
    }
    fn query_epcis(
        &self,
        _filter: ledger::epcis::query::QueryFilter,
        _from: u64,
        limit: usize,
    ) -> Result<serde_json::Value, ApiError> {
        page(limit)?;
        Ok(serde_json::Value::Null)
    }
    fn transaction_proof(&self, _hash: Hash) -> Result<Option<Proof>, ApiError> {
        Ok(None)
    }
    fn item_proof(&self, _item_id: &str, _height: Option<u64>) -> Result<Proof, ApiError> {
        Err(ApiError::NotReady("no certificate yet".into()))
    }
    fn item_history_proof(&self, _item_id: &str) -> Result<Proof, ApiError> {
        Err(ApiError::NotReady("no certificate yet".into()))
    }
    fn consistency_proof(
        &self,
        _from_height: u64,
        _to_height: Option<u64>,
    ) -> Result<Proof, ApiError> {
        Err(ApiError::NotReady("no certificate yet".into()))
    }
    fn epoch_changes(&self, _from_epoch: u64) -> Result<Vec<ledger::proof::EpochChange>, ApiError> {
        Ok(vec![])
    }
    fn snapshot_base(
        &self,
        _height: Option<u64>,
    ) -> Result<Option<ledger::state_sync::SnapshotBase>, ApiError> {
        Ok(None)
    }
    fn state_chunk(&self, _node: ledger::Hash) -> Result<ledger::state_sync::StateChunk, ApiError> {
        Ok(ledger::state_sync::StateChunk::Unavailable)
    }
}

fn methods() -> &'static Methods {
    static METHODS_TABLE: std::sync::OnceLock<Methods> = std::sync::OnceLock::new();
    METHODS_TABLE.get_or_init(|| rpc::methods(Arc::new(Node)).expect("methods register"))
}

thread_local! {
    static RUNTIME: tokio::runtime::Runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime");
}

/// Codes an answer may carry: JSON-RPC's own and the documented application codes.
const KNOWN_CODES: &[i32] = &[
    -32600, // invalid request
    -32601, // method not found
    codes::INVALID_PARAMS,
    codes::REJECTED,
    codes::NOT_FOUND,
    codes::TIMEOUT,
    codes::NOT_READY,
    codes::RATE_LIMITED,
    codes::WEBSOCKET_REQUIRED,
];

/// The request for `data`: a method picked by the first byte with the rest as its params, or
/// (first byte 0xff) the rest as the whole request.
pub fn request(data: &[u8]) -> Option<String> {
    let (&first, rest) = data.split_first()?;
    let rest = text(rest)?;
    if first == 0xff {
        return Some(rest.to_string());
    }
    let method = METHODS[first as usize % METHODS.len()].0;
    Some(format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"{method}","params":{rest}}}"#
    ))
}

pub fn run(data: &[u8]) {
    let Some(request) = request(data) else { return };
    let answer = RUNTIME.with(|rt| rt.block_on(methods().raw_json_request(&request, 16)));
    let Ok((response, _notifications)) = answer else {
        return; // not a JSON-RPC request at all: the server answers a parse error itself
    };
    let v: serde_json::Value = serde_json::from_str(response.get()).expect("the response is JSON");
    assert_eq!(v["jsonrpc"], "2.0", "{v}");
    let has_result = v.get("result").is_some();
    let error = v.get("error");
    assert!(
        has_result != error.is_some(),
        "exactly one of result and error: {v}"
    );
    if let Some(e) = error {
        let code = e["code"].as_i64().expect("an error has a code") as i32;
        assert!(KNOWN_CODES.contains(&code), "undocumented code {code}: {v}");
        assert!(e["message"].is_string(), "{v}");
    }
}
