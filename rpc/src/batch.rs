//! Serving a JSON-RPC batch with its calls running concurrently. jsonrpsee 0.26 runs a batch's
//! calls one after another, so a client's batch of 100 submissions reached the node's signature
//! checker one transaction at a time and was verified in batches no larger than the number of
//! connections. JSON-RPC 2.0 lets a server process a batch's calls in any order; the responses
//! keep the request's order.

use jsonrpsee::core::server::BatchResponseBuilder;
use jsonrpsee::server::middleware::rpc::{Batch, BatchEntry, MethodResponse};

use crate::middleware::InnerService;

/// Runs every entry of `batch` at once on `service`, and answers them in order in one response
/// of at most `max_response_bytes` (beyond it, the whole batch is answered with an error, as
/// jsonrpsee does).
pub async fn serve_concurrently<S: InnerService>(
    service: S,
    batch: Batch<'_>,
    max_response_bytes: usize,
) -> MethodResponse {
    let mut got_notification = false;
    let answers = batch.into_iter().map(|entry| {
        let service = &service;
        let is_notification = matches!(entry, Ok(BatchEntry::Notification(_)));
        got_notification |= is_notification;
        async move {
            match entry {
                Ok(BatchEntry::Call(req)) => Some(service.call(req).await),
                Ok(BatchEntry::Notification(n)) => {
                    service.notification(n).await;
                    None
                }
                Err(err) => {
                    let (err, id) = err.into_parts();
                    Some(MethodResponse::error(id, err))
                }
            }
        }
    });
    let answers = futures::future::join_all(answers).await;
    let mut response = BatchResponseBuilder::new_with_limit(max_response_bytes);
    for answer in answers.into_iter().flatten() {
        if let Err(too_big) = response.append(answer) {
            return too_big;
        }
    }
    if response.is_empty() && got_notification {
        // Notifications only: nothing to answer.
        MethodResponse::notification()
    } else {
        MethodResponse::from_batch(response.finish())
    }
}
