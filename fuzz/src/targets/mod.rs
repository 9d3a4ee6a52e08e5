//! One module per fuzz target, each with `run(&[u8])`.

pub mod consensus_core;
pub mod consensus_msg;
pub mod engine_node;
pub mod engine_wire;
pub mod epcis_document;
pub mod execute;
pub mod genesis;
pub mod gossip_batch;
pub mod json_value;
pub mod key_file;
pub mod ledger_cert;
pub mod node_config;
pub mod proof;
pub mod rpc_params;
pub mod signed_tx;
pub mod signed_tx_json;
pub mod state_sync;
pub mod stored_block;

/// The input as text, as a file or a JSON-RPC request body must be (anything else is refused
/// before any parser sees it).
pub(crate) fn text(data: &[u8]) -> Option<&str> {
    std::str::from_utf8(data).ok()
}
