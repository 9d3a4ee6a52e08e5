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
    /// The node rests: nothing to order, so its round timer is parked or, as leader, it holds
    /// its proposal until a transaction arrives. A resting network commits no blocks, and that
    /// is not a stall.
    #[serde(default)]
    pub idle: bool,
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

/// What became of one event of a `waybill_captureEpcis` call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EpcisStatus {
    /// This event failed the checks made before submission (decoding, signature, the event
    /// itself, or a dry run against the current state): nothing of the document was submitted.
    Refused,
    /// This event passed, but another one was refused: nothing of the document was submitted.
    NotSubmitted,
    /// The mempool did not admit it (`code` says why, as `waybill_submitRawTransaction` would).
    Rejected,
    /// Admitted; it had not committed when the wait ended.
    Pending,
    /// Committed and captured.
    Committed,
    /// Committed with a failed receipt: the event changed nothing (`code`, `message`).
    Failed,
}

/// One event's verdict, in document order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EpcisVerdict {
    /// The event's position in the document (and in the call's transactions).
    pub index: usize,
    /// Its CBV 2.0 event hash ID (`null` if the transaction carried no readable event).
    pub hash_id: Option<ledger::epcis::EventHashId>,
    pub tx_hash: Hash,
    pub status: EpcisStatus,
    /// Why it was refused, rejected or failed: a stable code (`invalid_epcis_event`,
    /// `not_custodian`, `bad_signature`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Where it committed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ledger_index: Option<u64>,
}

/// The answer to `waybill_captureEpcis`: a verdict per event. `complete` is true only when every
/// event committed and was captured; otherwise the verdicts say exactly which were and which
/// were not.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaptureOutcome {
    pub complete: bool,
    /// How many events committed and were captured.
    pub captured: usize,
    pub events: Vec<EpcisVerdict>,
}

/// A captured EPCIS event found by its hash ID: the state record, where its transaction is, and
/// the event as an EPCIS query document of one event (JSON-LD).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpcisEventView {
    pub hash_id: ledger::epcis::EventHashId,
    pub record: ledger::supply::state::EpcisRecord,
    pub ledger_index: u64,
    pub height: u64,
    pub document: serde_json::Value,
}
