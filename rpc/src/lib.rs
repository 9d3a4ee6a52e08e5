//! Waybill's JSON-RPC surface: method names, JSON shapes, error codes and limits. No business
//! logic: the node implements [`NodeApi`] and this crate serves it over HTTP and WebSocket on one
//! port with jsonrpsee. [`Client`] is the typed Rust client.

mod api;
mod batch;
mod client;
mod cors;
mod envelope;
mod error;
mod health;
mod methods;
mod middleware;
mod openrpc;
pub mod pages;
pub mod rate_limit;
mod schemas;
mod server;
mod types;

pub use api::NodeApi;
pub use client::{Client, ClientError};
pub use cors::CorsError;
pub use error::{codes, ApiError};
pub use health::Health;
pub use jsonrpsee::server::ServerHandle;
pub use methods::{METHODS, SUBSCRIPTION_METHODS};
pub use openrpc::openrpc as openrpc_document;
pub use server::{methods, serve, serve_methods, RpcAccess, RpcLimits, ServeError};
pub use types::{
    AccountView, BlockSummary, BlockTxHashes, HeadInfo, HistoryPage, ItemEvent, ItemView,
    NodeStatus, SubmitAnswer, SubmitOutcome, SubmitRefusal, SubmitStatus, TxInfo, ValidatorInfo,
    MAX_ORGANIZATIONS, MAX_SUBMIT_BATCH,
};
