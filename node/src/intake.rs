//! Gossiped transactions are verified off the driver's loop: this task drains raw bytes in
//! batches, decodes them, skips ones already verified, batch-verifies the rest on a blocking
//! thread and hands the good ones to the driver. Its input queue is bounded; when full, gossip is
//! dropped (the sender's own node still has the transaction).

use std::sync::Arc;

use ledger::tx::verify_transactions;
use ledger::SignedTransaction;
use tokio::sync::mpsc;
use tracing::debug;

use crate::driver::Command;
use crate::verified::VerifiedCache;

/// Raw gossiped transactions waiting for verification.
pub const INTAKE_QUEUE: usize = 8_192;
/// Most transactions verified in one batch.
const BATCH: usize = 512;

pub async fn run(
    chain_id: String,
    mut raw: mpsc::Receiver<Vec<u8>>,
    verified: Arc<VerifiedCache>,
    driver: mpsc::Sender<Command>,
) {
    let mut buf = Vec::with_capacity(BATCH);
    while raw.recv_many(&mut buf, BATCH).await > 0 {
        let txs: Vec<SignedTransaction> = buf
            .drain(..)
            .filter_map(|b| match SignedTransaction::from_bytes(&b) {
                Ok(t) => Some(t),
                Err(e) => {
                    debug!(error = %e, "undecodable gossiped transaction");
                    None
                }
            })
            .filter(|t| !verified.contains(&t.signature_check_key()))
            .collect();
        if txs.is_empty() {
            continue;
        }
        let chain = chain_id.clone();
        let Ok((txs, results)) = tokio::task::spawn_blocking(move || {
            let results = verify_transactions(&chain, &txs);
            (txs, results)
        })
        .await
        else {
            return;
        };
        let good: Vec<SignedTransaction> = txs
            .into_iter()
            .zip(results)
            .filter_map(|(t, r)| r.ok().map(|()| t))
            .collect();
        verified.insert_all(good.iter().map(SignedTransaction::signature_check_key));
        if driver
            .send(Command::AdmitGossip { txs: good })
            .await
            .is_err()
        {
            return;
        }
    }
}
