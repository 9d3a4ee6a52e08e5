//! The `waybill` node: processes and I/O around the sans-IO engine (`waybill-engine`, which holds
//! the consensus core) and the ledger. Holds no protocol logic of its own.

pub mod admin_socket;
pub mod api;
pub mod config;
pub mod data_lock;
pub mod driver;
pub mod epcis_api;
pub mod explorer;
pub mod genesis_peers;
pub mod gossip;
pub mod health;
pub mod intake;
pub mod localnet;
pub mod member_dir;
/// The mempool lives in the engine (the admission rules are protocol); re-exported here.
pub use engine::mempool;
pub mod metrics;
pub mod network;
pub use engine::payload;
pub mod priority;
pub mod process_memory;
pub mod progress;
pub mod reset;
pub mod restore;
pub mod rpc_bridge;
pub mod run;
pub mod sigcheck;
pub mod state_sync;
pub mod status;
pub mod testnet;
pub mod version;
