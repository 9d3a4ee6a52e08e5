//! What the node provides to the RPC layer.

use ledger::stored::StoredBlock;
use ledger::{Hash, PublicKey, SignedTransaction};

use crate::error::ApiError;
use crate::types::{BlockSummary, HeadInfo, NodeStatus, SubmitOutcome, TxInfo, ValidatorInfo};

#[async_trait::async_trait]
pub trait NodeApi: Send + Sync + 'static {
    /// Checks and admits a transaction to the mempool (and gossips it). With `wait_ms`, waits up
    /// to that long for it to commit and returns its receipt.
    async fn submit(
        &self,
        tx: SignedTransaction,
        wait_ms: Option<u64>,
    ) -> Result<SubmitOutcome, ApiError>;
    fn head(&self) -> Result<HeadInfo, ApiError>;
    fn block_by_height(&self, height: u64) -> Result<Option<StoredBlock>, ApiError>;
    fn block_by_hash(&self, hash: Hash) -> Result<Option<StoredBlock>, ApiError>;
    fn transaction(&self, hash: Hash) -> Result<Option<TxInfo>, ApiError>;
    fn status(&self) -> Result<NodeStatus, ApiError>;
    fn validators(&self) -> Result<Vec<ValidatorInfo>, ApiError>;
    /// The sequence number the ledger expects next from `account`.
    fn next_sequence(&self, account: PublicKey) -> Result<u64, ApiError>;
    fn subscribe_blocks(&self) -> tokio::sync::broadcast::Receiver<BlockSummary>;
}
