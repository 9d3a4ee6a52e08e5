//! Signature checks for RPC submissions, batched. Submissions arriving while a batch is being
//! verified queue up and are verified together as the next batch: ed25519 batch verification
//! costs about half as much per signature as checking one at a time, and under load the
//! submission path was the largest single-signature cost in a node's profile. An idle node
//! still verifies a lone submission at once (a batch of one), so nothing waits for company.

use ledger::tx::TxError;
use ledger::SignedTransaction;
use tokio::sync::{mpsc, oneshot};

use crate::payload::verify_in_parallel;

/// Most signatures verified in one batch.
const MAX_BATCH: usize = 1_024;
/// Submissions waiting for their check; beyond it submitters wait for room (backpressure).
const QUEUE: usize = 8_192;

type Request = (SignedTransaction, oneshot::Sender<Result<(), TxError>>);

/// Where submissions are sent to have their signature checked.
#[derive(Clone)]
pub struct SignatureChecker {
    requests: mpsc::Sender<Request>,
}

/// The checker stopped (the node is shutting down).
#[derive(Debug, thiserror::Error)]
#[error("the signature checker has stopped")]
pub struct CheckerStopped;

impl SignatureChecker {
    /// Starts the checking task for transactions of `chain_id`.
    pub fn start(chain_id: String) -> SignatureChecker {
        let (requests, rx) = mpsc::channel(QUEUE);
        tokio::spawn(run(chain_id, rx));
        SignatureChecker { requests }
    }

    /// Checks `tx`'s envelope (chain id, limits) and signature.
    pub async fn check(
        &self,
        tx: SignedTransaction,
    ) -> Result<Result<(), TxError>, CheckerStopped> {
        let (reply, rx) = oneshot::channel();
        self.requests
            .send((tx, reply))
            .await
            .map_err(|_| CheckerStopped)?;
        rx.await.map_err(|_| CheckerStopped)
    }
}

async fn run(chain_id: String, mut rx: mpsc::Receiver<Request>) {
    let mut batch: Vec<Request> = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let (txs, replies): (Vec<SignedTransaction>, Vec<_>) = batch.drain(..).unzip();
        let chain = chain_id.clone();
        let Ok(results) =
            tokio::task::spawn_blocking(move || verify_in_parallel(&chain, &txs)).await
        else {
            return;
        };
        for (reply, result) in replies.into_iter().zip(results) {
            let _ = reply.send(result);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ledger::tx::{Payload, Transaction};
    use ledger::KeyPair;

    fn tx(seq: u64) -> SignedTransaction {
        let k = KeyPair::from_secret([3; 32]);
        Transaction {
            chain_id: "c".into(),
            signer: k.public(),
            sequence: seq,
            payload: Payload::Memo { data: vec![1; 8] },
        }
        .sign(&k)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_checks_each_get_their_own_answer() {
        let checker = SignatureChecker::start("c".into());
        let mut tasks = Vec::new();
        for seq in 0..200u64 {
            let checker = checker.clone();
            let mut t = tx(seq);
            if seq % 7 == 3 {
                t.signature.0[0] ^= 1;
            }
            tasks.push(tokio::spawn(async move { (seq, checker.check(t).await) }));
        }
        for task in tasks {
            let (seq, result) = task.await.unwrap();
            let result = result.expect("checker running");
            assert_eq!(result.is_err(), seq % 7 == 3, "sequence {seq}: {result:?}");
        }
    }
}
