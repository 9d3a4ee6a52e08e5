//! Application errors and their stable JSON-RPC codes (documented in docs/RPC.md).

use jsonrpsee::types::ErrorObjectOwned;
use ledger::Hash;
use serde_json::json;

pub mod codes {
    /// The transaction was refused before ordering; `data.reason` says why (`bad_signature`,
    /// `wrong_chain`, `sequence_too_low`, `sequence_too_high`, `mempool_full`, `duplicate`, ...).
    pub const REJECTED: i32 = -32001;
    pub const NOT_FOUND: i32 = -32002;
    /// Waiting for a commit timed out; the transaction may still commit.
    pub const TIMEOUT: i32 = -32003;
    pub const NOT_READY: i32 = -32004;
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
        }
    }
}
