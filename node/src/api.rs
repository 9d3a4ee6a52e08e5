//! The node's side of the JSON-RPC surface: `rpc::NodeApi` implemented over the store (reads),
//! the driver's command queue (submissions, commit waits) and the status board.

use std::sync::Arc;
use std::time::Duration;

use ledger::tx::TxError;
use ledger::{Hash, PublicKey, SignedTransaction};
use tokio::sync::oneshot;

use crate::config::NodeConfig;
use crate::driver::Command;
use crate::driver::StoreView;
use crate::mempool::MempoolError;
use crate::run::NodeHandles;

/// Longest a client may wait for a commit in one call.
pub const MAX_WAIT_MS: u64 = 60_000;

/// Why a submission was refused, as a stable reason code and a message with the values.
pub fn reject_reason(e: &MempoolError) -> &'static str {
    match e {
        MempoolError::Invalid(TxError::WrongChain { .. }) => "wrong_chain",
        MempoolError::Invalid(TxError::Signature(_)) => "bad_signature",
        MempoolError::Invalid(_) => "invalid",
        MempoolError::Duplicate { .. } => "duplicate",
        MempoolError::AlreadyCommitted { .. } => "already_committed",
        MempoolError::SequenceTooLow { .. } => "sequence_too_low",
        MempoolError::SequenceTooHigh { .. } => "sequence_too_high",
        MempoolError::SequenceConflict { .. } => "sequence_conflict",
        MempoolError::Full { .. } => "mempool_full",
        MempoolError::AccountFull { .. } => "account_full",
    }
}

/// The node's API object.
#[derive(Clone)]
pub struct NodeService {
    pub node: NodeHandles,
}

/// The outcome of a submission before any wait.
pub enum Submitted {
    Admitted(Hash),
    Rejected(MempoolError),
    /// The driver is gone (the node is stopping).
    Unavailable,
}

impl NodeService {
    /// Verifies the envelope and signature here (off the driver's loop), then hands the
    /// transaction to the driver's mempool.
    pub async fn submit(&self, tx: SignedTransaction) -> Submitted {
        if let Err(e) = self.node.mempool.lock().check_room() {
            return Submitted::Rejected(e);
        }
        let check_key = tx.signature_check_key();
        if !self.node.verified.contains(&check_key) {
            match self.node.signatures.check(tx.clone()).await {
                Ok(Ok(())) => self.node.verified.insert_all([check_key]),
                Ok(Err(e)) => return Submitted::Rejected(MempoolError::Invalid(e)),
                Err(_) => return Submitted::Unavailable,
            }
        }
        // Admitted here rather than by the driver: its loop pauses for consensus fsyncs, and
        // JSON-RPC batches are served one call after another, so a round trip through it per
        // submission capped a node at a few hundred submissions a second.
        let bytes = tx.to_bytes();
        let admitted = self
            .node
            .mempool
            .lock()
            .admit_verified(tx, &StoreView(&self.node.store));
        match admitted {
            Ok(hash) => {
                if self.node.gossip.try_send(bytes).is_err() {
                    tracing::debug!("gossip queue full; the transaction waits for our proposal");
                }
                self.node.admitted.notify_one();
                Submitted::Admitted(hash)
            }
            Err(e) => Submitted::Rejected(e),
        }
    }

    /// Waits up to `wait_ms` (capped at [`MAX_WAIT_MS`]) for `hash` to commit.
    pub async fn wait_commit(&self, hash: Hash, wait_ms: u64) -> Option<ledger::receipt::Receipt> {
        let (reply, rx) = oneshot::channel();
        self.node
            .commands
            .send(Command::WatchCommit { hash, reply })
            .await
            .ok()?;
        tokio::time::timeout(Duration::from_millis(wait_ms.min(MAX_WAIT_MS)), rx)
            .await
            .ok()?
            .ok()
    }

    pub fn next_sequence(&self, account: &PublicKey) -> Result<u64, String> {
        ledger::execute::next_sequence(&*self.node.store, account).map_err(|e| e.to_string())
    }
}

/// Starts the JSON-RPC server on `rpc.listen`.
pub async fn start(config: &NodeConfig, node: NodeHandles) -> Result<RpcServer, String> {
    let service = Arc::new(NodeService { node });
    crate::rpc_bridge::serve(config, service).await
}

pub use crate::rpc_bridge::RpcServer;
