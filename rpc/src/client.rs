//! A typed Rust client over HTTP.

use jsonrpsee::core::client::ClientT;
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use jsonrpsee::rpc_params;
use ledger::stored::StoredBlock;
use ledger::{Hash, PublicKey, SignedTransaction};

use crate::types::{BlockTxHashes, HeadInfo, NodeStatus, SubmitOutcome, TxInfo, ValidatorInfo};

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("json-rpc client for {url}: {reason}")]
    Build { url: String, reason: String },
    #[error(transparent)]
    Call(#[from] jsonrpsee::core::ClientError),
}

impl ClientError {
    /// The JSON-RPC error code, when the node answered with an error object (see
    /// [`crate::codes`]).
    pub fn code(&self) -> Option<i32> {
        self.error_object().map(|e| e.code())
    }

    /// The node's error message (without jsonrpsee's debug wrapping), when it answered with one.
    pub fn message(&self) -> Option<&str> {
        self.error_object().map(|e| e.message())
    }

    /// The error object's `data` (e.g. `{"reason": "sequence_too_low"}`), when present.
    pub fn data(&self) -> Option<serde_json::Value> {
        let data = self.error_object()?.data()?;
        serde_json::from_str(data.get()).ok()
    }

    fn error_object(&self) -> Option<&jsonrpsee::types::ErrorObjectOwned> {
        match self {
            ClientError::Call(jsonrpsee::core::ClientError::Call(e)) => Some(e),
            _ => None,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Client {
    inner: HttpClient,
}

impl Client {
    pub fn new(url: &str) -> Result<Self, ClientError> {
        let inner = HttpClientBuilder::default()
            .request_timeout(std::time::Duration::from_secs(90))
            .build(url)
            .map_err(|e| ClientError::Build {
                url: url.into(),
                reason: e.to_string(),
            })?;
        Ok(Client { inner })
    }

    pub async fn submit(&self, tx: SignedTransaction) -> Result<SubmitOutcome, ClientError> {
        Ok(self
            .inner
            .request("waybill_submitTransaction", rpc_params![tx])
            .await?)
    }

    pub async fn submit_and_wait(
        &self,
        tx: SignedTransaction,
        wait_ms: u64,
    ) -> Result<SubmitOutcome, ClientError> {
        Ok(self
            .inner
            .request("waybill_submitTransaction", rpc_params![tx, wait_ms])
            .await?)
    }

    pub async fn head(&self) -> Result<HeadInfo, ClientError> {
        Ok(self.inner.request("waybill_head", rpc_params![]).await?)
    }

    pub async fn block(&self, height: u64) -> Result<Option<StoredBlock>, ClientError> {
        Ok(self
            .inner
            .request("waybill_getBlockByHeight", rpc_params![height])
            .await?)
    }

    /// The hashes of block `height`'s transactions, in order (`waybill_getBlockTxHashes`).
    pub async fn block_tx_hashes(&self, height: u64) -> Result<Option<BlockTxHashes>, ClientError> {
        Ok(self
            .inner
            .request("waybill_getBlockTxHashes", rpc_params![height])
            .await?)
    }

    pub async fn block_by_hash(&self, hash: Hash) -> Result<Option<StoredBlock>, ClientError> {
        Ok(self
            .inner
            .request("waybill_getBlockByHash", rpc_params![hash])
            .await?)
    }

    pub async fn transaction(&self, hash: Hash) -> Result<Option<TxInfo>, ClientError> {
        Ok(self
            .inner
            .request("waybill_getTransaction", rpc_params![hash])
            .await?)
    }

    pub async fn status(&self) -> Result<NodeStatus, ClientError> {
        Ok(self.inner.request("waybill_status", rpc_params![]).await?)
    }

    pub async fn validators(&self) -> Result<Vec<ValidatorInfo>, ClientError> {
        Ok(self
            .inner
            .request("waybill_validators", rpc_params![])
            .await?)
    }

    pub async fn next_sequence(&self, account: PublicKey) -> Result<u64, ClientError> {
        Ok(self
            .inner
            .request("waybill_nextSequence", rpc_params![account])
            .await?)
    }
}

/// Supply-chain queries.
impl Client {
    pub async fn state_root(&self, height: u64) -> Result<Option<Hash>, ClientError> {
        Ok(self
            .inner
            .request("waybill_getStateRoot", rpc_params![height])
            .await?)
    }

    pub async fn item(&self, item_id: &str) -> Result<Option<crate::ItemView>, ClientError> {
        Ok(self
            .inner
            .request("waybill_getItem", rpc_params![item_id])
            .await?)
    }

    pub async fn item_history(
        &self,
        item_id: &str,
        from: u64,
        limit: u32,
    ) -> Result<crate::HistoryPage, ClientError> {
        Ok(self
            .inner
            .request("waybill_getItemHistory", rpc_params![item_id, from, limit])
            .await?)
    }

    pub async fn provenance(
        &self,
        item_id: &str,
    ) -> Result<Option<ledger::supply::history::Provenance>, ClientError> {
        Ok(self
            .inner
            .request("waybill_getProvenance", rpc_params![item_id])
            .await?)
    }

    pub async fn organization(
        &self,
        id: &str,
    ) -> Result<Option<ledger::supply::state::OrgRecord>, ClientError> {
        Ok(self
            .inner
            .request("waybill_getOrganization", rpc_params![id])
            .await?)
    }

    /// Every organization, by id.
    pub async fn organizations(
        &self,
    ) -> Result<Vec<ledger::supply::state::OrgRecord>, ClientError> {
        Ok(self
            .inner
            .request("waybill_organizations", rpc_params![])
            .await?)
    }

    pub async fn organization_events(
        &self,
        id: &str,
        from: u64,
        limit: u32,
    ) -> Result<crate::HistoryPage, ClientError> {
        Ok(self
            .inner
            .request(
                "waybill_getOrganizationEvents",
                rpc_params![id, from, limit],
            )
            .await?)
    }

    pub async fn account(&self, key: PublicKey) -> Result<Option<crate::AccountView>, ClientError> {
        Ok(self
            .inner
            .request("waybill_getAccount", rpc_params![key])
            .await?)
    }
}

/// GS1 EPCIS 2.0 (docs/EPCIS.md).
impl Client {
    /// Captures a document's events, one signed `capture_epcis` transaction each, in order.
    pub async fn capture_epcis(
        &self,
        txs: &[SignedTransaction],
        wait_ms: Option<u64>,
    ) -> Result<crate::CaptureOutcome, ClientError> {
        let hexes: Vec<String> = txs.iter().map(|t| hex::encode(t.to_bytes())).collect();
        Ok(self
            .inner
            .request("waybill_captureEpcis", rpc_params![hexes, wait_ms])
            .await?)
    }

    pub async fn epcis_event(
        &self,
        id: ledger::epcis::EventHashId,
    ) -> Result<Option<crate::EpcisEventView>, ClientError> {
        Ok(self
            .inner
            .request("waybill_getEpcisEvent", rpc_params![id])
            .await?)
    }

    pub async fn query_epcis(
        &self,
        filter: &ledger::epcis::query::QueryFilter,
        from: u64,
        limit: usize,
    ) -> Result<serde_json::Value, ClientError> {
        Ok(self
            .inner
            .request("waybill_queryEpcis", rpc_params![filter, from, limit])
            .await?)
    }
}

/// Audit proofs (JSON as `waybill audit verify` reads it).
impl Client {
    pub async fn transaction_proof(
        &self,
        hash: Hash,
    ) -> Result<Option<ledger::proof::Proof>, ClientError> {
        Ok(self
            .inner
            .request("waybill_getTransactionProof", rpc_params![hash])
            .await?)
    }

    pub async fn item_proof(
        &self,
        item_id: &str,
        height: Option<u64>,
    ) -> Result<ledger::proof::Proof, ClientError> {
        Ok(self
            .inner
            .request("waybill_getItemProof", rpc_params![item_id, height])
            .await?)
    }

    pub async fn item_history_proof(
        &self,
        item_id: &str,
    ) -> Result<ledger::proof::Proof, ClientError> {
        Ok(self
            .inner
            .request("waybill_getItemHistoryProof", rpc_params![item_id])
            .await?)
    }

    pub async fn consistency_proof(
        &self,
        from_height: u64,
        to_height: Option<u64>,
    ) -> Result<ledger::proof::Proof, ClientError> {
        Ok(self
            .inner
            .request(
                "waybill_getConsistencyProof",
                rpc_params![from_height, to_height],
            )
            .await?)
    }

    /// `waybill_getSnapshotBase`: what a node syncing state starts from at `height` (the latest
    /// certified height when `None`).
    pub async fn snapshot_base(
        &self,
        height: Option<u64>,
    ) -> Result<Option<ledger::state_sync::SnapshotBase>, ClientError> {
        Ok(self
            .inner
            .request("waybill_getSnapshotBase", rpc_params![height])
            .await?)
    }

    /// `waybill_getStateChunk`: the leaves under one node of the state tree, or its children.
    pub async fn state_chunk(
        &self,
        node: ledger::Hash,
    ) -> Result<ledger::state_sync::StateChunk, ClientError> {
        Ok(self
            .inner
            .request("waybill_getStateChunk", rpc_params![node])
            .await?)
    }

    /// `waybill_getEpochChanges`: the epoch changes since `from_epoch` (0: genesis).
    pub async fn epoch_changes(
        &self,
        from_epoch: u64,
    ) -> Result<Vec<ledger::proof::EpochChange>, ClientError> {
        Ok(self
            .inner
            .request("waybill_getEpochChanges", rpc_params![from_epoch])
            .await?)
    }
}
