//! Waybill's node protocol as a sans-IO state machine.
//!
//! [`Node::handle`]`(now, event) -> effects` is the whole interface, in the shape of the
//! consensus core it contains: the engine reads no clock, opens no socket and spawns no task.
//! It decides everything a validator decides beyond consensus itself:
//!
//! - decoding every byte a peer sends, and what each bad input costs the peer ([`offences`]);
//! - compact proposals: rebuilding them from the mempool, the second look, fetching the block;
//! - payload validation, through the one authority for block validity in `ledger::block`;
//! - carrying out the core's actions, with every write durable before the message that names it
//!   is returned (the rule the consensus crate's docs state), and the safety high-water mark
//!   outside the store ([`guard`]);
//! - applying committed blocks: execution, the store's commit, the mempool, the notices;
//! - catch-up, which believes only what a quorum signed;
//! - checkpoint certification (ledger certificates) and its repair;
//! - pacing: an idle leader holds its payload request back;
//! - observers: a node whose key is no validator's follows the chain by certified catch-up and
//!   never signs ([`observer`]);
//! - gossiping again what has waited long in the mempool ([`regossip`]).
//!
//! The shell (the `waybill` binary's tokio driver, or the whole-node simulator) delivers
//! [`Event`]s and carries out [`Effect`]s. Storage is a trait ([`NodeStore`]): RocksDB in the
//! binary, [`mem_store::MemStore`] in the simulator and the fuzz targets. Store calls are
//! synchronous and durable when they return, so every effect can go out at once.

mod answers;
pub mod catchup;
mod certify;
mod commit;
mod compact;
mod consensus_io;
mod epochs;
pub mod gossip_batch;
pub mod guard;
mod idle;
pub mod mem_store;
pub mod mempool;
mod node;
pub mod observer;
pub mod offences;
pub mod payload;
pub mod peers;
pub mod regossip;
mod serve;
pub mod signature_checks;
pub mod status;
pub mod store;
pub mod votes;
pub mod wire;

use std::fmt::{Debug, Display};
use std::hash::Hash as StdHash;

pub use consensus::Millis;
pub use node::{
    Committed, Effect, EngineError, Event, Node, NodeConfig, ReplyId, RequestFailed, RequestId,
    Started,
};
pub use store::NodeStore;

/// A peer's network identity as the shell knows it (libp2p's `PeerId` in the node, a number in
/// the simulator). The engine only compares, orders and prints them.
pub trait Peer: Copy + Eq + Ord + StdHash + Debug + Display + Send + 'static {}

impl<T: Copy + Eq + Ord + StdHash + Debug + Display + Send + 'static> Peer for T {}
