//! What the driver feeds the core and what the core asks the driver to do.

use ledger::{Hash, PublicKey};

use crate::reject::Reject;
use crate::safety_rules::SafetyData;
use crate::types::{Block, ConsensusMsg, Millis, QuorumCert, Round, WriteId};

/// Everything that can happen to a core.
#[derive(Clone, Debug, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)]
pub enum Input<P> {
    /// A message from validator `from` (the network layer has authenticated the peer and mapped
    /// it to its genesis consensus key).
    Message {
        from: PublicKey,
        msg: ConsensusMsg<P>,
    },
    /// A timer set with [`Action::SetTimer`] expired. Stale timers are ignored.
    TimerFired { round: Round },
    /// A write ([`Action::PersistSafety`] / [`Action::PersistBlock`]) and every write before it is
    /// durable.
    Persisted(WriteId),
    /// The payload asked for with [`Action::RequestPayload`].
    PayloadReady { round: Round, payload: P },
    /// The answer to [`Action::FetchBlocks`]: the requested block first, then its ancestors,
    /// newest to oldest (possibly fewer than asked for; never from the core's own state).
    BlocksFetched {
        from: PublicKey,
        blocks: Vec<Block<P>>,
    },
}

/// Everything a core can ask for. Actions are returned in the order they must be carried out.
#[derive(Clone, Debug, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)]
pub enum Action<P> {
    /// Make the safety data durable (fsync) before any send naming `write` in `after`.
    /// Only the latest one matters: it replaces the previous.
    PersistSafety {
        data: crate::safety_rules::SafetyData,
        write: WriteId,
    },
    /// Store a block (uncommitted or not); needed to recover and to serve peers' fetches.
    PersistBlock { block: Block<P>, write: WriteId },
    /// Send to one validator, once `after` (and every earlier write) is durable.
    Send {
        to: PublicKey,
        msg: ConsensusMsg<P>,
        after: Option<WriteId>,
    },
    /// Send to every other validator, once `after` (and every earlier write) is durable.
    Broadcast {
        msg: ConsensusMsg<P>,
        after: Option<WriteId>,
    },
    /// These blocks are committed, oldest first, each the parent of the next, the first a child of
    /// the previously committed block. `certificate` certifies a child of the last block in the
    /// very next round: it is the proof of commit (`certificate.commits()` is the last block's id).
    Commit {
        blocks: Vec<Block<P>>,
        certificate: QuorumCert,
    },
    /// Deliver [`Input::TimerFired`] for `round` at `deadline` (replaces any earlier timer).
    SetTimer { round: Round, deadline: Millis },
    /// This node leads `round`: build a payload on top of block `parent` and answer with
    /// [`Input::PayloadReady`]. `uncommitted` lists the uncommitted blocks from `parent` down to
    /// just above the committed root, whose transactions must not be proposed again.
    RequestPayload {
        round: Round,
        parent: Hash,
        uncommitted: Vec<Hash>,
    },
    /// Ask validator `from` for block `id` and up to `count - 1` of its ancestors; answer with
    /// [`Input::BlocksFetched`].
    FetchBlocks {
        id: Hash,
        count: u32,
        from: PublicKey,
    },
    /// An input was dropped, and why (for logs and metrics).
    Rejected {
        from: Option<PublicKey>,
        reason: Reject,
    },
}

/// What a restarting node read back from its own disk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recovery<P> {
    /// The last durable [`Action::PersistSafety`] (default if none).
    pub safety: SafetyData,
    /// Every durable [`Action::PersistBlock`] block (any order; committed ones may be included).
    pub blocks: Vec<Block<P>>,
    /// The last block the driver committed (the last of the last [`Action::Commit`] it applied);
    /// `None` if it has committed nothing since genesis.
    pub committed: Option<Block<P>>,
    /// The validator set the committed state names (`ledger::governance::read_validators`);
    /// `None` for the genesis set. When it is of a later epoch than the safety data, the
    /// committed block ended the epoch before and the core enters this one from it.
    pub epoch: Option<ledger::governance::EpochSet>,
}

impl<P> Default for Recovery<P> {
    fn default() -> Self {
        Recovery {
            safety: SafetyData::default(),
            blocks: vec![],
            committed: None,
            epoch: None,
        }
    }
}
