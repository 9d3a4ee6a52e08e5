//! Application errors and their stable JSON-RPC codes (documented in docs/RPC.md).

use std::net::IpAddr;

use jsonrpsee::types::ErrorObjectOwned;
use ledger::Hash;
use serde_json::json;

pub mod codes {
    /// The transaction was refused before ordering; `data.reason` says why (`bad_signature`,
    /// `wrong_chain`, `sequence_too_low`, `sequence_too_high`, `mempool_full`, `duplicate`, ...).
    pub const REJECTED: i32 = -32001;
    /// Reserved: lookups answer `null` for something absent (the documented contract), so no
    /// method returns this today.
    pub const NOT_FOUND: i32 = -32002;
    /// Waiting for a commit timed out; the transaction may still commit.
    pub const TIMEOUT: i32 = -32003;
    pub const NOT_READY: i32 = -32004;
    /// The client sent more calls than `rpc.requests_per_second_per_client` allows. The same code
    /// as EIP-1474's "limit exceeded", which Ethereum client libraries already back off on.
    pub const RATE_LIMITED: i32 = -32005;
    /// A subscription method was called over plain HTTP; subscriptions need a WebSocket.
    pub const WEBSOCKET_REQUIRED: i32 = -32006;
    pub const INVALID_PARAMS: i32 = -32602;
    pub const INTERNAL: i32 = -32603;
}

#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum ApiError {
    #[error("transaction rejected ({reason}): {message}")]
    Rejected { reason: String, message: String },
    #[error("{what} not found")]
    NotFound { what: String },
    #[error("transaction {tx_hash} did not commit within {waited_ms} ms (it may still commit)")]
    Timeout { tx_hash: Hash, waited_ms: u64 },
    #[error("node not ready: {0}")]
    NotReady(String),
    #[error("invalid params: {0}")]
    InvalidParams(String),
    #[error("internal error: {0}")]
    Internal(String),
    #[error("rate limit exceeded: client {client} may make {per_second} calls per second; retry in {retry_after_ms} ms")]
    RateLimited {
        client: IpAddr,
        per_second: u32,
        retry_after_ms: u64,
    },
    #[error("{method} is a subscription and needs a WebSocket connection; this call came over plain HTTP")]
    WebSocketRequired { method: String },
}

impl From<ApiError> for ErrorObjectOwned {
    fn from(e: ApiError) -> Self {
        let message = e.to_string();
        match e {
            ApiError::Rejected { reason, .. } => {
                ErrorObjectOwned::owned(codes::REJECTED, message, Some(json!({ "reason": reason })))
            }
            ApiError::NotFound { .. } => {
                ErrorObjectOwned::owned(codes::NOT_FOUND, message, None::<()>)
            }
            ApiError::Timeout { tx_hash, .. } => ErrorObjectOwned::owned(
                codes::TIMEOUT,
                message,
                Some(json!({ "tx_hash": tx_hash })),
            ),
            ApiError::NotReady(_) => ErrorObjectOwned::owned(codes::NOT_READY, message, None::<()>),
            ApiError::InvalidParams(_) => {
                ErrorObjectOwned::owned(codes::INVALID_PARAMS, message, None::<()>)
            }
            ApiError::Internal(_) => ErrorObjectOwned::owned(codes::INTERNAL, message, None::<()>),
            ApiError::RateLimited {
                per_second,
                retry_after_ms,
                ..
            } => ErrorObjectOwned::owned(
                codes::RATE_LIMITED,
                message,
                Some(json!({ "retry_after_ms": retry_after_ms, "limit_per_second": per_second })),
            ),
            ApiError::WebSocketRequired { method } => ErrorObjectOwned::owned(
                codes::WEBSOCKET_REQUIRED,
                message,
                Some(json!({ "method": method })),
            ),
        }
    }
}
