//! Waybill's JSON-RPC surface: method names, JSON shapes, error codes and limits. No business
//! logic: the node implements [`NodeApi`] and this crate serves it over HTTP and WebSocket on one
//! port with jsonrpsee. [`Client`] is the typed Rust client.

mod api;
mod client;
mod error;
mod server;
mod types;

pub use api::NodeApi;
pub use client::{Client, ClientError};
pub use error::{codes, ApiError};
pub use jsonrpsee::server::ServerHandle;
pub use server::{serve, RpcLimits, ServeError, METHODS};
pub use types::{
    AccountView, BlockSummary, HeadInfo, HistoryPage, ItemEvent, ItemView, NodeStatus,
    SubmitOutcome, SubmitStatus, TxInfo, ValidatorInfo,
};
