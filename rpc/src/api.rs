//! What the node provides to the RPC layer.

use ledger::proof::{EpochChange, Proof};
use ledger::state_sync::{SnapshotBase, StateChunk};
use ledger::stored::StoredBlock;
use ledger::{Hash, PublicKey, SignedTransaction};

use crate::error::ApiError;
use crate::types::{
    AccountView, BlockSummary, BlockTxHashes, CaptureOutcome, EpcisEventView, HeadInfo,
    HistoryPage, ItemView, NodeStatus, SubmitOutcome, TxInfo, ValidatorInfo,
};
use ledger::epcis::query::QueryFilter;
use ledger::epcis::EventHashId;
use ledger::supply::history::Provenance;
use ledger::supply::state::OrgRecord;

#[async_trait::async_trait]
pub trait NodeApi: Send + Sync + 'static {
    /// Checks and admits a transaction to the mempool (and gossips it). With `wait_ms`, waits up
    /// to that long for it to commit and returns its receipt.
    async fn submit(
        &self,
        tx: SignedTransaction,
        wait_ms: Option<u64>,
    ) -> Result<SubmitOutcome, ApiError>;
    /// [`NodeApi::submit`] without waiting, for several transactions in order, one answer each.
    /// A node overrides it to check and admit them together (one signature batch, one mempool
    /// lock); this default submits them one after another.
    async fn submit_many(
        &self,
        txs: Vec<SignedTransaction>,
    ) -> Vec<Result<SubmitOutcome, ApiError>> {
        let mut answers = Vec::with_capacity(txs.len());
        for tx in txs {
            answers.push(self.submit(tx, None).await);
        }
        answers
    }
    fn head(&self) -> Result<HeadInfo, ApiError>;
    fn block_by_height(&self, height: u64) -> Result<Option<StoredBlock>, ApiError>;
    fn block_by_hash(&self, hash: Hash) -> Result<Option<StoredBlock>, ApiError>;
    /// The hashes of a committed block's transactions, in order.
    fn block_tx_hashes(&self, height: u64) -> Result<Option<BlockTxHashes>, ApiError> {
        Ok(self
            .block_by_height(height)?
            .as_ref()
            .map(BlockTxHashes::of))
    }
    /// A committed transaction with its receipt, or one still in this node's mempool
    /// (`pending: true`, no receipt or position yet); `None` if the node knows neither.
    async fn transaction(&self, hash: Hash) -> Result<Option<TxInfo>, ApiError>;
    fn status(&self) -> Result<NodeStatus, ApiError>;
    /// What `GET /health` and `GET /ready` answer.
    fn health(&self) -> crate::Health;
    fn validators(&self) -> Result<Vec<ValidatorInfo>, ApiError>;
    /// The sequence number the ledger expects next from `account`.
    fn next_sequence(&self, account: PublicKey) -> Result<u64, ApiError>;
    fn subscribe_blocks(&self) -> tokio::sync::broadcast::Receiver<BlockSummary>;
    /// The state root after executing block `height` (the head when `None`), `None` beyond it.
    fn state_root(&self, height: Option<u64>) -> Result<Option<Hash>, ApiError>;
    /// An item's current state, or `None` if no such item was ever commissioned.
    fn item(&self, item_id: &str) -> Result<Option<ItemView>, ApiError>;
    /// Events that touched the item, oldest first, from ledger index `from`, at most `limit`.
    fn item_history(&self, item_id: &str, from: u64, limit: usize)
        -> Result<HistoryPage, ApiError>;
    /// What the item was made of or packed in, recursively, and what it became.
    fn provenance(&self, item_id: &str, max_nodes: usize) -> Result<Option<Provenance>, ApiError>;
    fn organization(&self, id: &str) -> Result<Option<OrgRecord>, ApiError>;
    /// Every organization in the current state, by id (at most [`crate::MAX_ORGANIZATIONS`]).
    fn organizations(&self) -> Result<Vec<OrgRecord>, ApiError>;
    /// Events that concerned the organization, oldest first; paged like `item_history`.
    fn organization_events(
        &self,
        id: &str,
        from: u64,
        limit: usize,
    ) -> Result<HistoryPage, ApiError>;
    fn account(&self, key: PublicKey) -> Result<Option<AccountView>, ApiError>;

    // --- GS1 EPCIS 2.0 (docs/EPCIS.md) ---
    /// Captures a document's events, one signed `capture_epcis` transaction each, in order:
    /// checks them all first (and submits none if one fails), then submits them and waits up to
    /// `wait_ms` for their receipts. One verdict per event.
    async fn capture_epcis(
        &self,
        txs: Vec<SignedTransaction>,
        wait_ms: Option<u64>,
    ) -> Result<CaptureOutcome, ApiError>;
    /// A captured event by its CBV 2.0 hash ID, `None` if no such event was captured.
    fn epcis_event(&self, id: EventHashId) -> Result<Option<EpcisEventView>, ApiError>;
    /// Captured events matching `filter`, oldest first, from ledger index `from`, at most
    /// `limit`: an EPCIS 2.0 query document (JSON-LD).
    fn query_epcis(
        &self,
        filter: QueryFilter,
        from: u64,
        limit: usize,
    ) -> Result<serde_json::Value, ApiError>;

    // --- audit proofs, each anchored at a stored ledger certificate (see docs/PROOFS.md) ---
    /// A committed transaction with its receipt and inclusion proof, against the latest
    /// certificate; `None` if not committed.
    fn transaction_proof(&self, hash: Hash) -> Result<Option<Proof>, ApiError>;
    /// An item's state (or its absence) after a certified height (the latest when `None`).
    fn item_proof(&self, item_id: &str, height: Option<u64>) -> Result<Proof, ApiError>;
    /// Every event naming the item, each with its inclusion proof, against the latest certificate.
    fn item_history_proof(&self, item_id: &str) -> Result<Proof, ApiError>;
    /// That the ledger certified at `from_height` is a prefix of the one at `to_height` (the
    /// latest certified height when `None`).
    fn consistency_proof(
        &self,
        from_height: u64,
        to_height: Option<u64>,
    ) -> Result<Proof, ApiError>;
    /// The validator-set changes since epoch `from_epoch` (0: genesis), oldest first, each
    /// proven (`ledger::proof::epochs`); a change still being certified ends the list.
    fn epoch_changes(&self, from_epoch: u64) -> Result<Vec<EpochChange>, ApiError>;

    // --- state sync (`ledger::state_sync`): what a node starting from a certified state fetches ---
    /// The certificate, block and accumulator frontier of a certified height (the latest
    /// certified when `None`); `None` when that height is not certified here.
    fn snapshot_base(&self, height: Option<u64>) -> Result<Option<SnapshotBase>, ApiError>;
    /// The leaves under one node of the state tree, or its children.
    fn state_chunk(&self, node: Hash) -> Result<StateChunk, ApiError>;
}
