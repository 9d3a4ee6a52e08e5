//! What a node reports about itself: counters and state the shell publishes to its RPC and
//! metrics endpoints after every call.

use std::collections::BTreeMap;

use consensus::Round;
use ledger::Hash;
use serde::Serialize;

/// One committed block, as pushed to subscribers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
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

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Status {
    /// This node is an observer: its key is in no validator set it knows of (the current
    /// epoch's), so it follows the chain and never votes (see `observer`).
    pub observer: bool,
    /// The validator-set epoch the consensus core is in.
    pub epoch: u64,
    /// The consensus round this validator is in (0 on an observer).
    pub round: u64,
    pub committed_height: u64,
    pub committed_hash: Hash,
    pub mempool_len: usize,
    /// The node rests: nothing to order, so its round timer is parked or, as leader, it holds
    /// its proposal until a transaction arrives (see `idle`).
    pub idle: bool,
    /// A catch-up request is in flight; on an observer, it is behind the validators as far as
    /// it knows (it has not reached the top since it started, or its last answer was full).
    pub syncing: bool,
    /// Blocks committed since start.
    pub commits: u64,
    /// Proposal timestamp to local commit of the last committed block.
    pub last_commit_latency_ms: u64,
    /// Consensus inputs the core refused (bad signatures, stale rounds...).
    pub rejected_inputs: u64,
    /// Round timers that expired.
    pub timeouts: u64,
    /// Times the highest known QC moved up.
    pub qcs: u64,
    /// Rounds entered through a timeout certificate rather than a QC.
    pub tcs: u64,
    /// Leaders this validator saw fail a round and not propose since: their rounds are timed
    /// out sooner (`consensus::suspects`). One that stays above 0 is a member whose validator
    /// is down.
    pub suspect_leaders: usize,
    /// Highest height with a stored ledger certificate (formed or fetched since start).
    pub certified_height: u64,
    /// Ledger certificates stored since start.
    pub ledger_certificates: u64,
    /// Validators (or a quorum) that signed another ledger checkpoint than this node computed:
    /// non-determinism or a Byzantine validator. Anything but 0 needs an operator.
    pub checkpoint_divergences: u64,
    /// The latest of them.
    pub last_divergence: Option<DivergenceNote>,
    /// Checkpoint votes dropped (bad signature, outside the window, duplicate...).
    pub checkpoint_votes_rejected: u64,
    /// Signs that this node's records went back in time (see `guard`): at start, and each
    /// certificate that proved a forgotten signature. Anything but 0 needs an operator.
    pub rollbacks_detected: u64,
    /// While set, the node signs no ledger checkpoint: it may have signed in every round up to
    /// this one before its records went back.
    pub rollback_fence: Option<Round>,
    /// Offences by peer and kind since start (see `offences`).
    pub offences: BTreeMap<String, BTreeMap<&'static str, u64>>,
    /// Times a peer was disconnected for its offences.
    pub peers_refused: u64,
    /// Compact proposals received (their transactions named by hash).
    pub compact_proposals: u64,
    /// Of those, the ones naming transactions not yet in the mempool: looked at again shortly.
    pub compact_second_looks: u64,
    /// Of those, the ones still missing more than `wire::MAX_TXS_PER_FETCH` transactions then
    /// (or whose transactions fetch failed or did not complete them): the block was fetched
    /// whole.
    pub compact_fetches: u64,
    /// Of the second looks, the ones still missing up to `wire::MAX_TXS_PER_FETCH`
    /// transactions: those were fetched.
    pub compact_tx_fetches: u64,
    /// Transactions received from proposers by those fetches.
    pub compact_txs_fetched: u64,
}

/// Where the latest checkpoint divergence was seen.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DivergenceNote {
    pub height: u64,
    /// The validator's consensus key (hex), or `quorum` for a fetched certificate.
    pub validator: String,
}
