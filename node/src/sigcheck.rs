//! Signature checks for RPC submissions, batched. Submissions arriving while a batch is being
//! verified queue up and are verified together as the next batch: ed25519 batch verification
//! costs about half as much per signature as checking one at a time, and under load the
//! submission path was the largest single-signature cost in a node's profile. An idle node
//! still verifies a lone submission at once (a batch of one), so nothing waits for company.

use std::sync::Arc;

use engine::signature_checks::{CheckedVia, SignatureChecks};
use ledger::tx::TxError;
use ledger::SignedTransaction;
use tokio::sync::{mpsc, oneshot};

use crate::payload::verify_in_parallel;

/// Most signatures verified in one batch (a request larger than this is verified alone).
const MAX_BATCH: usize = 1_024;
/// Requests waiting for their check; beyond it submitters wait for room (backpressure).
const QUEUE: usize = 8_192;

/// What a check answers: the transactions, handed back in order, and each one's verdict.
pub type Checked = (Vec<SignedTransaction>, Vec<Result<(), TxError>>);

type Request = (Vec<SignedTransaction>, oneshot::Sender<Checked>);

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
    /// Starts the checking task for transactions of `chain_id`, counting its checks in
    /// `counts`.
    pub fn start(chain_id: String, counts: Arc<SignatureChecks>) -> SignatureChecker {
        let (requests, rx) = mpsc::channel(QUEUE);
        tokio::spawn(run(chain_id, counts, rx));
        SignatureChecker { requests }
    }

    /// Checks each transaction's envelope (chain id, limits) and signature, and hands the
    /// transactions back with the verdicts, in order (so no caller clones one to keep it).
    pub async fn check_all(&self, txs: Vec<SignedTransaction>) -> Result<Checked, CheckerStopped> {
        if txs.is_empty() {
            return Ok((txs, Vec::new()));
        }
        let (reply, rx) = oneshot::channel();
        self.requests
            .send((txs, reply))
            .await
            .map_err(|_| CheckerStopped)?;
        rx.await.map_err(|_| CheckerStopped)
    }
}

async fn run(chain_id: String, counts: Arc<SignatureChecks>, mut rx: mpsc::Receiver<Request>) {
    while let Some(first) = rx.recv().await {
        // Whatever queued up meanwhile joins the batch, up to its limit.
        let mut requests = vec![first];
        let mut count = requests[0].0.len();
        while count < MAX_BATCH {
            match rx.try_recv() {
                Ok(next) => {
                    count += next.0.len();
                    requests.push(next);
                }
                Err(_) => break,
            }
        }
        let mut txs = Vec::with_capacity(count);
        let mut replies = Vec::with_capacity(requests.len());
        for (request_txs, reply) in requests {
            replies.push((request_txs.len(), reply));
            txs.extend(request_txs);
        }
        counts.add(CheckedVia::Submission, txs.len());
        let chain = chain_id.clone();
        let Ok((txs, results)) = tokio::task::spawn_blocking(move || {
            crate::priority::lower_this_thread_for_checking();
            let results = verify_in_parallel(&chain, &txs);
            (txs, results)
        })
        .await
        else {
            return;
        };
        debug_assert_eq!(txs.len(), results.len());
        let (mut txs, mut results) = (txs.into_iter(), results.into_iter());
        for (n, reply) in replies {
            let answer: Checked = (
                txs.by_ref().take(n).collect(),
                results.by_ref().take(n).collect(),
            );
            let _ = reply.send(answer);
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

    /// Requests of different sizes, sent at once, are verified together and each gets back its
    /// own transactions with their verdicts, in order.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn batched_requests_get_back_their_own_transactions_in_order() {
        let checker = SignatureChecker::start("c".into(), Arc::default());
        let mut tasks = Vec::new();
        let mut next = 0u64;
        for size in [1usize, 300, 0, 7, 900, 2] {
            let txs: Vec<SignedTransaction> = (next..next + size as u64)
                .map(|seq| {
                    let mut t = tx(seq);
                    if seq % 11 == 5 {
                        t.signature.0[0] ^= 1;
                    }
                    t
                })
                .collect();
            next += size as u64;
            let checker = checker.clone();
            tasks.push(tokio::spawn(async move {
                let sent: Vec<u64> = txs.iter().map(|t| t.tx.sequence).collect();
                (sent, checker.check_all(txs).await)
            }));
        }
        for task in tasks {
            let (sent, answer) = task.await.unwrap();
            let (txs, results) = answer.expect("checker running");
            let back: Vec<u64> = txs.iter().map(|t| t.tx.sequence).collect();
            assert_eq!(back, sent);
            assert_eq!(results.len(), sent.len());
            for (seq, result) in sent.iter().zip(&results) {
                assert_eq!(result.is_err(), seq % 11 == 5, "sequence {seq}: {result:?}");
            }
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_checks_each_get_their_own_answer() {
        let checker = SignatureChecker::start("c".into(), Arc::default());
        let mut tasks = Vec::new();
        for seq in 0..200u64 {
            let checker = checker.clone();
            let mut t = tx(seq);
            if seq % 7 == 3 {
                t.signature.0[0] ^= 1;
            }
            tasks.push(tokio::spawn(async move {
                (seq, checker.check_all(vec![t]).await)
            }));
        }
        for task in tasks {
            let (seq, answer) = task.await.unwrap();
            let (txs, results) = answer.expect("checker running");
            assert_eq!(txs.len(), 1);
            assert_eq!(
                txs[0].tx.sequence, seq,
                "the request's own transaction comes back"
            );
            assert_eq!(
                results[0].is_err(),
                seq % 7 == 3,
                "sequence {seq}: {results:?}"
            );
        }
    }
}
