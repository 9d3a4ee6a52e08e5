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
        let mut answers = self.submit_all(vec![tx]).await;
        debug_assert_eq!(answers.len(), 1);
        answers.pop().unwrap_or(Submitted::Unavailable)
    }

    /// [`NodeService::submit`] for several transactions at once, in order, one answer each:
    /// one signature batch, one mempool lock and one wake-up for all of them.
    pub async fn submit_all(&self, txs: Vec<SignedTransaction>) -> Vec<Submitted> {
        // A full mempool would refuse them after their signatures were checked.
        if let Err(e) = self.node.mempool.lock().check_room() {
            return txs.iter().map(|_| Submitted::Rejected(e.clone())).collect();
        }
        // Transactions already pending here with this signature (gossip brought them first, or
        // the client sent them again) were checked at their admission: admission now only
        // answers that they are duplicates, with no second signature check.
        let known: Vec<bool> = {
            let pool = self.node.mempool.lock();
            txs.iter().map(|t| pool.holds(t)).collect()
        };
        // Each transaction with its verdict, in order. The unknown ones go to the checker,
        // which hands them back with their verdicts.
        let mut checked: Vec<Option<(SignedTransaction, Result<(), TxError>)>> =
            Vec::with_capacity(txs.len());
        let mut unknown = Vec::new();
        for (tx, &k) in txs.into_iter().zip(&known) {
            if k {
                checked.push(Some((tx, Ok(()))));
            } else {
                checked.push(None);
                unknown.push(tx);
            }
        }
        if !unknown.is_empty() {
            let Ok((unknown, results)) = self.node.signatures.check_all(unknown).await else {
                return checked.iter().map(|_| Submitted::Unavailable).collect();
            };
            let mut back = unknown.into_iter().zip(results);
            for slot in checked.iter_mut().filter(|s| s.is_none()) {
                *slot = back.next();
            }
        }
        // Admitted here rather than by the driver: its loop pauses for consensus fsyncs, and a
        // round trip through it per submission capped a node at a few hundred submissions a
        // second.
        let mut answers = Vec::with_capacity(checked.len());
        let mut admitted_any = false;
        let mut gossip = Vec::new();
        {
            let view = StoreView(&self.node.store);
            let mut pool = self.node.mempool.lock();
            for entry in checked {
                let answer = match entry {
                    Some((tx, Ok(()))) => {
                        let bytes = tx.to_bytes();
                        match pool.admit_verified(tx, &view, crate::driver::now_ms()) {
                            Ok(hash) => {
                                gossip.push(bytes);
                                admitted_any = true;
                                Submitted::Admitted(hash)
                            }
                            Err(e) => Submitted::Rejected(e),
                        }
                    }
                    Some((_, Err(e))) => Submitted::Rejected(MempoolError::Invalid(e)),
                    // The checker answered fewer than it was given: the node is stopping.
                    None => Submitted::Unavailable,
                };
                answers.push(answer);
            }
        }
        if admitted_any {
            self.node.admitted.notify_one();
            // The call's transactions leave in one gossip batch (see `gossip::GossipGroup`).
            if self.node.gossip.try_send(gossip).is_err() {
                tracing::debug!("gossip queue full; the transactions wait for our proposal");
            }
        }
        answers
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
