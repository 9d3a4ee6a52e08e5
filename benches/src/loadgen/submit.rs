//! Submission: one stream per validator, each sending its share of the presigned transactions in
//! `waybill_submitRawTransactions` calls (or, with `--one-call-per-tx`, JSON-RPC batches of
//! `waybill_submitRawTransaction`, one call per transaction), either on a fixed schedule (transaction k
//! of a stream is due at `t0 + k / stream_rate`) or as fast as the bounded in-flight window
//! and the pending bound allow. A stream that cannot keep its schedule (the window is full) falls behind and says by
//! how much, rather than silently lowering the offered rate.

use std::sync::Arc;
use std::time::{Duration, Instant};

use jsonrpsee::core::client::ClientT;
use jsonrpsee::core::params::BatchRequestBuilder;
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use jsonrpsee::types::ErrorObjectOwned;
use rpc::SubmitAnswer;
use serde::Serialize;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::presign::Workload;
use super::track::Tracker;
use super::LoadgenError;

/// Most transactions in one `waybill_submitRawTransactions` call (docs/RPC.md, "Limits").
pub const MAX_BATCH: usize = rpc::MAX_SUBMIT_BATCH;
/// The node refuses JSON-RPC batches of more than 100 calls (docs/RPC.md, "Limits").
pub const MAX_CALLS_PER_BATCH: usize = 100;
/// At a fixed rate, batches leave about this often per stream: small enough that batching adds
/// little to a transaction's wait before sending, large enough that the timer is not the limit.
const BATCH_INTERVAL: Duration = Duration::from_millis(10);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// How often a stream held back by `max_pending` looks again.
const PENDING_POLL: Duration = Duration::from_millis(2);

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Rate {
    /// Transactions per second over all streams.
    Fixed(f64),
    Max,
}

#[derive(Clone, Copy, Debug)]
pub struct Plan {
    pub rate: Rate,
    pub duration: Duration,
    pub batch: usize,
    /// Batches in flight per stream.
    pub in_flight: usize,
    /// As fast as possible only: sent but not yet committed (or refused) transactions, over all
    /// streams, above which streams wait. Admission is cheap next to ordering, so without this
    /// an unbounded sender only fills the mempools and measures their capacity.
    pub max_pending: u64,
    pub streams: usize,
    /// Send each transaction as its own `waybill_submitRawTransaction` call (in JSON-RPC
    /// batches) rather than a batch as one `waybill_submitRawTransactions` call.
    pub one_call_per_tx: bool,
}

/// What one batch of transactions is sent as.
enum Call {
    /// One `waybill_submitRawTransactions` call: the hex of each transaction.
    Many(Vec<String>),
    /// A JSON-RPC batch of `waybill_submitRawTransaction` calls.
    Batch(BatchRequestBuilder<'static>),
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct StreamReport {
    pub url: String,
    pub sent: u64,
    pub batches: u64,
    /// Whole batches that got no JSON-RPC answer (connection refused, timeout, ...).
    pub failed_batches: u64,
    /// Most a batch left after its due time (fixed rate only).
    pub max_lag_ms: f64,
    /// The stream ran out of presigned transactions before the duration ended (max rate).
    pub exhausted: bool,
}

/// Sends `indices` (this stream's transactions, in order) to `url` until the plan's duration
/// ends, then waits for the calls in flight to answer.
pub async fn run_stream(
    url: String,
    indices: Vec<u32>,
    workload: Arc<Workload>,
    tracker: Arc<Tracker>,
    plan: Plan,
) -> Result<StreamReport, LoadgenError> {
    let client = HttpClientBuilder::default()
        .request_timeout(REQUEST_TIMEOUT)
        .build(&url)
        .map_err(|e| LoadgenError::Rpc {
            url: url.clone(),
            reason: e.to_string(),
        })?;
    let client = Arc::new(client);
    let stream_rate = match plan.rate {
        Rate::Fixed(r) => Some(r / plan.streams.max(1) as f64),
        Rate::Max => None,
    };
    let batch = match stream_rate {
        Some(r) => ((r * BATCH_INTERVAL.as_secs_f64()).round() as usize).clamp(1, plan.batch),
        None => plan.batch,
    }
    .clamp(
        1,
        if plan.one_call_per_tx {
            MAX_CALLS_PER_BATCH
        } else {
            MAX_BATCH
        },
    );
    let window = Arc::new(Semaphore::new(plan.in_flight.max(1)));
    let t0 = tracker.t0;
    let end = t0 + plan.duration;
    let mut report = StreamReport {
        url: url.clone(),
        ..StreamReport::default()
    };
    let mut calls = JoinSet::new();
    let mut pos = 0;
    while pos < indices.len() {
        if let Some(r) = stream_rate {
            let due = t0 + Duration::from_secs_f64(pos as f64 / r);
            if due >= end {
                break;
            }
            tokio::time::sleep_until(due.into()).await;
        }
        if stream_rate.is_none() {
            while tracker.outstanding() >= plan.max_pending && Instant::now() < end {
                tokio::time::sleep(PENDING_POLL).await;
            }
        }
        // Closed only if dropped, which this function does not do.
        let Ok(permit) = window.clone().acquire_owned().await else {
            break;
        };
        let now = Instant::now();
        // At a fixed rate everything due inside the duration is sent, late or not (the lag is
        // reported); as fast as possible, the duration is the only limit.
        if stream_rate.is_none() && now >= end {
            break;
        }
        if let Some(r) = stream_rate {
            let due = t0 + Duration::from_secs_f64(pos as f64 / r);
            let lag = now.saturating_duration_since(due).as_secs_f64() * 1e3;
            report.max_lag_ms = report.max_lag_ms.max(lag);
        }
        let chunk: Vec<u32> = indices[pos..(pos + batch).min(indices.len())].to_vec();
        pos += chunk.len();
        // Hex here rather than at presign time: half the memory for a long run, and about
        // a microsecond per transaction.
        let hexes = chunk.iter().map(|&i| hex::encode(workload.raw(i as usize)));
        let request = if plan.one_call_per_tx {
            let mut request = BatchRequestBuilder::new();
            for text in hexes {
                request
                    .insert("waybill_submitRawTransaction", jsonrpsee::rpc_params![text])
                    .map_err(|e| LoadgenError::Rpc {
                        url: url.clone(),
                        reason: format!("encoding a batch: {e}"),
                    })?;
            }
            Call::Batch(request)
        } else {
            Call::Many(hexes.collect())
        };
        let sent_at = Instant::now();
        for &i in &chunk {
            tracker.sent(i, sent_at);
        }
        report.sent += chunk.len() as u64;
        report.batches += 1;
        let (client, tracker) = (client.clone(), tracker.clone());
        calls.spawn(async move {
            let ok = send(&client, request, &chunk, &tracker).await;
            drop(permit);
            ok
        });
        // Reap finished calls as we go so the set stays as small as the window.
        while let Some(done) = calls.try_join_next() {
            if !matches!(done, Ok(true)) {
                report.failed_batches += 1;
            }
        }
    }
    report.exhausted = stream_rate.is_none() && pos >= indices.len() && Instant::now() < end;
    while let Some(done) = calls.join_next().await {
        if !matches!(done, Ok(true)) {
            report.failed_batches += 1;
        }
    }
    Ok(report)
}

/// One batch call; records each refusal in the tracker. Returns whether the node answered.
async fn send(client: &HttpClient, request: Call, chunk: &[u32], tracker: &Tracker) -> bool {
    let answered = match request {
        Call::Many(hexes) => client
            .request::<Vec<SubmitAnswer>, _>(
                "waybill_submitRawTransactions",
                jsonrpsee::rpc_params![hexes],
            )
            .await
            .map(|answers| {
                for (&i, answer) in chunk.iter().zip(answers) {
                    if let SubmitAnswer::Refused { error } = answer {
                        let object = ErrorObjectOwned::owned(error.code, error.message, error.data);
                        tracker.rejected(i, &reason(&object));
                    }
                }
            }),
        Call::Batch(request) => client
            .batch_request::<serde_json::Value>(request)
            .await
            .map(|response| {
                for (&i, result) in chunk.iter().zip(response) {
                    if let Err(e) = result {
                        tracker.rejected(i, &reason(&e));
                    }
                }
            }),
    };
    match answered {
        Ok(()) => {
            let at = Instant::now();
            for &i in chunk {
                tracker.answered(i, at);
            }
            true
        }
        Err(e) => {
            let why = format!("transport: {}", short(&e.to_string()));
            for &i in chunk {
                tracker.rejected(i, &why);
            }
            false
        }
    }
}

/// A stable, short reason: the node's `data.reason` for a rejection (`mempool_full`, ...), the
/// error code's name otherwise. Messages carry hashes and counts, which would make every
/// refusal its own reason.
pub fn reason(e: &ErrorObjectOwned) -> String {
    use rpc::codes;
    match e.code() {
        codes::REJECTED => e
            .data()
            .and_then(|d| serde_json::from_str::<serde_json::Value>(d.get()).ok())
            .and_then(|v| v.get("reason")?.as_str().map(str::to_string))
            .unwrap_or_else(|| "rejected".into()),
        codes::RATE_LIMITED => "rate_limited".into(),
        codes::NOT_READY => "node_not_ready".into(),
        codes::INVALID_PARAMS => format!("invalid_params: {}", short(e.message())),
        code => format!("rpc_error_{code}: {}", short(e.message())),
    }
}

fn short(s: &str) -> String {
    s.chars().take(80).collect()
}
