//! The cluster load generator behind `src/bin/loadgen.rs`: one module per job, so each can be
//! read (and tested) alone.
//!
//! - [`network`]: start a local N-validator network of real `waybill` processes, or attach to one.
//! - [`presign`]: sign every transaction of the run before the clock starts.
//! - [`bound`]: the machine's signature-verification bound, measured over those transactions.
//! - [`track`]: what happened to each transaction (sent, rejected, committed), lock-free.
//! - [`submit`]: JSON-RPC submission at a fixed rate or as fast as possible, bounded in flight.
//! - [`commits`]: commit times from the WebSocket block subscription plus one block fetch per height.
//! - [`rss`]: each validator's resident memory over the run.
//! - [`cpu`]: the validators' CPU over the steady window, per committed transaction.
//! - [`node_work`]: the validators' signature checks and compact-proposal fetches, from their
//!   metrics.
//! - [`stats`], [`summary`], [`report`]: percentiles, the run's figures, the table and its JSON.

pub mod bound;
pub mod commits;
pub mod cpu;
pub mod network;
pub mod node_work;
pub mod presign;
pub mod report;
pub mod rss;
pub mod stats;
pub mod submit;
pub mod summary;
pub mod track;

/// Everything that can stop a load-generator run, each with what the operator can do about it.
#[derive(Debug, thiserror::Error)]
pub enum LoadgenError {
    #[error("local network: {0}")]
    Localnet(#[from] waybill_node::localnet::LocalnetError),
    #[error("generating the network: {0}")]
    Testnet(#[from] waybill_node::testnet::TestnetError),
    #[error("{path}: {reason}")]
    Io { path: String, reason: String },
    #[error("config {path}: {reason}")]
    Config { path: String, reason: String },
    #[error("{url}: {reason}")]
    Rpc { url: String, reason: String },
    #[error("{what} not ready after {secs} s")]
    NotReady { what: String, secs: u64 },
    #[error("the nodes disagree on the chain: {0}")]
    ChainMismatch(String),
    #[error("a presigned transaction does not verify ({0}); the generator signed it wrong")]
    BadPresigned(String),
    #[error("{0}")]
    Usage(String),
}
