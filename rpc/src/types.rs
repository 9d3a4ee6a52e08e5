//! The JSON shapes of results. Hashes and keys are lowercase hex strings.

use ledger::receipt::Receipt;
use ledger::stored::StoredBlock;
use ledger::{Hash, PublicKey, SignedTransaction};
use serde::{Deserialize, Serialize};

/// Most transactions in one `waybill_submitRawTransactions` call (about 45 KiB of hex for
/// typical events, well inside the 1 MiB request limit).
pub const MAX_SUBMIT_BATCH: usize = 1_000;

/// Most organizations `waybill_organizations` lists.
pub const MAX_ORGANIZATIONS: usize = 1_000;

/// One transaction's answer in `waybill_submitRawTransactions`: what
/// `waybill_submitRawTransaction` (without `wait_ms`) would have answered for it alone, its
/// result or, under `error`, its JSON-RPC error object.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SubmitAnswer {
    Accepted(SubmitOutcome),
    Refused { error: SubmitRefusal },
}

/// A JSON-RPC error object (`code`, `message`, `data`), as a single call would have returned it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SubmitRefusal {
    pub code: i32,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<serde_json::Value>,
}

impl From<Result<SubmitOutcome, crate::ApiError>> for SubmitAnswer {
    fn from(r: Result<SubmitOutcome, crate::ApiError>) -> Self {
        match r {
            Ok(outcome) => SubmitAnswer::Accepted(outcome),
            Err(e) => {
                let object = jsonrpsee::types::ErrorObjectOwned::from(e);
                SubmitAnswer::Refused {
                    error: SubmitRefusal {
                        code: object.code(),
                        message: object.message().to_string(),
                        data: object
                            .data()
                            .and_then(|d| serde_json::from_str(d.get()).ok()),
                    },
                }
            }
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubmitStatus {
    /// Admitted to the mempool; not committed yet.
    Pending,
    /// Committed; the receipt says whether execution succeeded.
    Committed,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubmitOutcome {
    pub tx_hash: Hash,
    pub status: SubmitStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipt: Option<Receipt>,
}

impl SubmitOutcome {
    pub fn new(tx_hash: Hash, receipt: Option<Receipt>) -> Self {
        SubmitOutcome {
            tx_hash,
            status: if receipt.is_some() {
                SubmitStatus::Committed
            } else {
                SubmitStatus::Pending
            },
            receipt,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeadInfo {
    pub chain_id: String,
    pub genesis_hash: Hash,
    pub height: u64,
    pub hash: Hash,
    pub accumulator_size: u64,
    pub accumulator_root: Hash,
    /// State root after executing the head block.
    pub state_root: Hash,
}

/// A committed block's transaction hashes, in block order: what a client that submitted
/// transactions needs to learn that they committed, without the block's bodies (a full
/// 4,000-transaction block is megabytes of JSON; its hashes are a tenth of that).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockTxHashes {
    pub height: u64,
    /// The block's hash.
    pub hash: Hash,
    pub tx_hashes: Vec<Hash>,
}

impl BlockTxHashes {
    pub fn of(stored: &StoredBlock) -> BlockTxHashes {
        BlockTxHashes {
            height: stored.block.header.height,
            hash: stored.block.hash(),
            tx_hashes: stored.block.txs.iter().map(|t| t.hash()).collect(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxInfo {
    pub tx: SignedTransaction,
    pub receipt: Option<Receipt>,
    pub height: Option<u64>,
    pub index_in_block: Option<u32>,
    pub ledger_index: Option<u64>,
    /// In the mempool, not committed yet.
    pub pending: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeStatus {
    pub name: String,
    pub validator_key: PublicKey,
    pub peer_id: String,
    pub round: u64,
    pub committed_height: u64,
    pub mempool_size: u64,
    pub peers: Vec<String>,
    pub syncing: bool,
    /// Highest height this node stored a ledger certificate for since it started.
    #[serde(default)]
    pub certified_height: u64,
    /// Validators (or a quorum) seen signing another ledger checkpoint than this node computed:
    /// non-determinism or a Byzantine validator. Anything but 0 needs an operator's attention.
    #[serde(default)]
    pub checkpoint_divergences: u64,
    /// The node's version and the commit it was built from, e.g. `0.1.0 (commit 9276509abcde)`.
    #[serde(default)]
    pub version: String,
    /// The validator names of `peers`, in the same order (a PeerId for a peer that is none).
    #[serde(default)]
    pub peer_names: Vec<String>,
    /// This node is an observer: its key is no validator's, so it follows the chain, serves it
    /// and forwards transactions, and never votes (its `round` stays 0).
    #[serde(default)]
    pub observer: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidatorInfo {
    pub name: String,
    pub consensus_key: PublicKey,
    pub peer_id: String,
    pub power: u64,
    /// The id of the organization whose member runs it, from the member's bundle in the genesis
    /// file's ceremony record; `None` for a genesis without one.
    #[serde(default)]
    pub organization: Option<String>,
}

/// Pushed to `waybill_subscribeBlocks` subscribers for every committed block.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockSummary {
    pub height: u64,
    pub hash: Hash,
    pub tx_count: u32,
    pub timestamp_ms: u64,
    pub accumulator_size: u64,
    pub accumulator_root: Hash,
    /// State root after executing the block.
    pub state_root: Hash,
}

/// An item's current state with what hangs off it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemView {
    /// The committed height this answer is read at.
    pub height: u64,
    pub item: ledger::supply::state::ItemRecord,
    /// The transfer waiting for its recipient, if any.
    pub pending_transfer: Option<ledger::supply::state::PendingTransfer>,
    /// Attached documents, oldest first.
    pub documents: Vec<ledger::supply::state::DocumentRecord>,
}

/// One page of a history, oldest first. `next_from` is where the next page starts (`null`:
/// nothing more at the time of the query).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryPage {
    pub entries: Vec<ledger::supply::history::HistoryEntry>,
    pub next_from: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountView {
    pub key: PublicKey,
    pub account: ledger::supply::state::AccountRecord,
    /// The sequence number the ledger expects next from this account.
    pub next_sequence: u64,
}

/// Pushed to `waybill_subscribeItem` subscribers for every committed event of the item.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemEvent {
    pub item_id: String,
    pub entry: ledger::supply::history::HistoryEntry,
}
