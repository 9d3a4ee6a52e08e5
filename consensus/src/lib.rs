//! Sans-IO two-chain HotStuff (Jolteon / DiemBFT v4 family) for Waybill.
//!
//! [`Core::handle`]`(now, input) -> Vec<Action>` is the whole interface: the core never reads a
//! clock, a socket or a disk and has no randomness, so a seeded simulator can replay any run.
//!
//! # Protocol
//! - Leader of round r: `validators[r % n]` in genesis order. It proposes a block extending the
//!   highest QC it knows; when that QC is not of round r-1 the proposal carries the TC of r-1.
//! - Validators vote (through [`SafetyRules`]) and send the vote to the leader of r+1, which forms
//!   a QC from a quorum (floor(2n/3)+1 of voting power) and enters r+1.
//! - Two-chain commit: a QC on block B' whose parent B has `B'.round == B.round + 1` commits B and
//!   its uncommitted ancestors ([`QuorumCert::commits`]).
//! - Pacemaker: the round timer grows by `timeout_backoff_percent` per round since the last QC,
//!   up to `max_round_timeout_ms`. On expiry a node signs a timeout carrying its highest QC and
//!   re-broadcasts it on every further expiry; f+1 timeouts for its round make it join; a quorum
//!   forms a TC that moves everyone to the next round. A node that receives a timeout for a round
//!   it has left answers with a [`SyncInfo`] (its highest QC and TC). A leader whose round ended
//!   in a TC with no proposal seen is a suspect until its next proposal: its rounds are timed
//!   out after a tenth of the timeout ([`suspects`]), so a member that is down costs little.
//! - Time: a block's `timestamp_ms` is its proposer's clock, never before its parent's (a leader
//!   whose clock lags stamps the parent's time) and at most [`MAX_CLOCK_AHEAD_MS`] ahead of the
//!   voter's clock; a proposal that breaks either is refused before the vote.
//! - Sync: a QC or proposal naming a block the node lacks makes it emit
//!   [`Action::FetchBlocks`]; fetched blocks are accepted only as a hash chain from the requested
//!   id, with valid QCs, down to a block it holds.
//!
//! # What the driver must do
//! - `PersistSafety` / `PersistBlock`: write in issue order, fsync, then feed `Input::Persisted`.
//! - `Send` / `Broadcast` with `after: Some(w)`: hold the message until write `w` is durable. Never
//!   send a vote or timeout before its safety data is on disk: that is what makes a restarted node
//!   unable to equivocate. `Broadcast` goes to every validator except this one (the core handles
//!   its own copy).
//! - `Commit`: execute the blocks in order and record the last committed block (it is passed back
//!   in [`Recovery::committed`] on restart).
//! - `SetTimer`: deliver `Input::TimerFired { round }` at `deadline` (only the latest matters).
//! - `RequestPayload`: answer `Input::PayloadReady` for that round (an empty payload is fine).
//! - `FetchBlocks`: ask that peer; the peer answers from its own block store (committed and
//!   persisted blocks): the block and its ancestors, newest first, `count` in all. The core
//!   asks only for as many as can lie above its committed root. Feed `Input::BlocksFetched`.
//! - On restart: [`Core::recover`] with the last durable safety data, every durable block and the
//!   last committed block.

// `broken-safety` makes SafetyRules vote twice in a round, so the simulator can prove it catches
// that. It must never reach a node: a release build (no debug assertions) with it is an error.
#[cfg(all(feature = "broken-safety", not(debug_assertions)))]
compile_error!("the broken-safety feature breaks SafetyRules on purpose, for the simulator's self-test only; it cannot be built with optimisations for release");

pub mod block_tree;
pub mod core;
pub mod io;
pub mod pacemaker;
pub mod payload;
pub mod reject;
pub mod safety_rules;
pub mod safety_upgrade;
pub mod suspects;
pub mod types;
pub mod validators;

pub use crate::core::{genesis_block, Core, Occupancy, MAX_CLOCK_AHEAD_MS};
pub use io::{Action, Input, Recovery};
pub use payload::{AcceptAll, Payload, PayloadValidator};
pub use reject::Reject;
pub use safety_rules::{EpochRounds, RoundEntry, SafetyData, SafetyRules};
pub use types::{
    Block, ConsensusMsg, Millis, Proposal, QuorumCert, Round, SyncInfo, Timeout, TimeoutCert,
    TimeoutData, Vote, VoteData, WriteId,
};
pub use validators::ValidatorSet;

#[cfg(test)]
mod tests;
