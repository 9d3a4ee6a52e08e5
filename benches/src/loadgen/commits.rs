//! Commit times. Block notifications (`waybill_subscribeBlocks`) carry no transaction hashes, so
//! the watcher subscribes on every validator, takes the first notification of each height as
//! that block's commit time (what the fastest client would see), and fetches the block's
//! transaction hashes once with `waybill_getBlockTxHashes` from the node that announced it: one
//! request per block, never one per transaction, and hashes rather than the block's bodies (the
//! full blocks were megabytes of JSON a second for the node to write and for this process to
//! read and hash again, CPU taken from the validators it measures). A height skipped by every
//! subscription (a subscriber more than 256 blocks behind is skipped ahead) is fetched when a
//! later height arrives, with that later time: an upper bound, counted as `approximated`.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use jsonrpsee::core::client::SubscriptionClientT;
use jsonrpsee::types::error::METHOD_NOT_FOUND_CODE;
use jsonrpsee::ws_client::WsClientBuilder;
use ledger::Hash;
use serde::Serialize;
use tokio::sync::{mpsc, oneshot, Semaphore};
use tokio::task::JoinSet;

use super::presign::Workload;
use super::track::Tracker;
use super::LoadgenError;

/// Block fetches running at once: enough to keep up with a few blocks a second, few enough that
/// reading blocks never becomes load of its own.
const FETCHES: usize = 4;
const FETCH_ATTEMPTS: usize = 3;

#[derive(Clone, Debug, Default, Serialize)]
pub struct CommitStats {
    /// Blocks committed after the run started (fetched).
    pub blocks: u64,
    /// Of those, blocks with at least one transaction.
    pub non_empty_blocks: u64,
    /// Transactions in those blocks that this run did not send.
    pub foreign_txs: u64,
    /// Heights no subscription announced; their commit time is a later block's.
    pub approximated_blocks: u64,
    /// Heights that could not be fetched from any node.
    pub fetch_failures: u64,
    /// Notifications received, per node (a lagging node shows here).
    pub notifications: Vec<u64>,
    /// Transactions per block: largest seen.
    pub max_block_txs: u64,
}

struct Seen {
    node: usize,
    height: u64,
    /// The block header's timestamp: when its leader proposed it (Unix ms).
    proposed_ms: u64,
    at: Instant,
}

pub struct Watcher {
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<CommitStats>,
    subscriptions: Vec<tokio::task::JoinHandle<()>>,
}

impl Watcher {
    /// Subscribes on every node (`urls`), counting only blocks above `start_height`.
    pub async fn start(
        urls: &[String],
        start_height: u64,
        workload: Arc<Workload>,
        tracker: Arc<Tracker>,
    ) -> Result<Watcher, LoadgenError> {
        let (tx, rx) = mpsc::unbounded_channel();
        let mut subscriptions = Vec::new();
        for (k, url) in urls.iter().enumerate() {
            let ws = url.replacen("http://", "ws://", 1);
            let fail = |reason: String| LoadgenError::Rpc {
                url: ws.clone(),
                reason,
            };
            let client = WsClientBuilder::default()
                .max_buffer_capacity_per_subscription(4096)
                .build(&ws)
                .await
                .map_err(|e| fail(e.to_string()))?;
            let mut sub = client
                .subscribe::<rpc::BlockSummary, _>(
                    "waybill_subscribeBlocks",
                    jsonrpsee::rpc_params![],
                    "waybill_unsubscribeBlocks",
                )
                .await
                .map_err(|e| fail(e.to_string()))?;
            let tx = tx.clone();
            subscriptions.push(tokio::spawn(async move {
                // Holding the client keeps the connection open.
                let _client = client;
                while let Some(Ok(block)) = sub.next().await {
                    let seen = Seen {
                        node: k,
                        height: block.height,
                        proposed_ms: block.timestamp_ms,
                        at: Instant::now(),
                    };
                    if tx.send(seen).is_err() {
                        break;
                    }
                }
            }));
        }
        let clients = urls
            .iter()
            .map(|u| super::network::client(u))
            .collect::<Result<Vec<_>, _>>()?;
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(track(rx, stopped, clients, start_height, workload, tracker));
        Ok(Watcher {
            stop,
            task,
            subscriptions,
        })
    }

    /// Fetches every height up to the highest head any node reports that no notification
    /// announced, waits for the fetches in flight, and returns the counts.
    pub async fn finish(self) -> CommitStats {
        let _ = self.stop.send(());
        let stats = self.task.await.unwrap_or_default();
        for s in self.subscriptions {
            s.abort();
        }
        stats
    }
}

async fn track(
    mut rx: mpsc::UnboundedReceiver<Seen>,
    mut stopped: oneshot::Receiver<()>,
    clients: Vec<rpc::Client>,
    start_height: u64,
    workload: Arc<Workload>,
    tracker: Arc<Tracker>,
) -> CommitStats {
    let clients = Arc::new(clients);
    let limit = Arc::new(Semaphore::new(FETCHES));
    let mut stats = CommitStats {
        notifications: vec![0; clients.len()],
        ..CommitStats::default()
    };
    let mut seen: HashSet<u64> = HashSet::new();
    let mut max_seen = start_height;
    let mut fetches: JoinSet<Fetched> = JoinSet::new();
    let fetch = |fetches: &mut JoinSet<Fetched>, node: usize, height: u64, seen: Sighting| {
        let (clients, limit) = (clients.clone(), limit.clone());
        let (workload, tracker) = (workload.clone(), tracker.clone());
        fetches.spawn(async move {
            let _permit = limit.acquire_owned().await;
            fetch_block(&clients, node, height, seen, &workload, &tracker).await
        });
    };
    loop {
        tokio::select! {
            next = rx.recv() => {
                let Some(s) = next else { break };
                stats.notifications[s.node] += 1;
                if s.height <= start_height || !seen.insert(s.height) {
                    continue;
                }
                for gap in (max_seen + 1)..s.height {
                    if seen.insert(gap) {
                        stats.approximated_blocks += 1;
                        fetch(&mut fetches, s.node, gap, Sighting { at: s.at, proposed_ms: None });
                    }
                }
                max_seen = max_seen.max(s.height);
                let sighting = Sighting { at: s.at, proposed_ms: Some(s.proposed_ms) };
                fetch(&mut fetches, s.node, s.height, sighting);
            }
            Some(done) = fetches.join_next() => stats.add(done),
            _ = &mut stopped => break,
        }
    }
    // Reconcile: anything committed that no notification announced (or announced after the
    // stop) is still counted, at the time of reconciliation.
    let mut head = max_seen;
    for c in clients.iter() {
        if let Ok(h) = c.head().await {
            head = head.max(h.height);
        }
    }
    let now = Instant::now();
    for h in (start_height + 1)..=head {
        if seen.insert(h) {
            stats.approximated_blocks += 1;
            fetch(
                &mut fetches,
                0,
                h,
                Sighting {
                    at: now,
                    proposed_ms: None,
                },
            );
        }
    }
    while let Some(done) = fetches.join_next().await {
        stats.add(done);
    }
    stats
}

/// When a block's commit was first seen, and when it was proposed if the notification said.
#[derive(Clone, Copy)]
struct Sighting {
    at: Instant,
    proposed_ms: Option<u64>,
}

#[derive(Default)]
struct Fetched {
    ok: bool,
    txs: u64,
    foreign: u64,
}

impl CommitStats {
    fn add(&mut self, done: Result<Fetched, tokio::task::JoinError>) {
        let f = done.unwrap_or_default();
        if !f.ok {
            self.fetch_failures += 1;
            return;
        }
        self.blocks += 1;
        if f.txs > 0 {
            self.non_empty_blocks += 1;
        }
        self.foreign_txs += f.foreign;
        self.max_block_txs = self.max_block_txs.max(f.txs);
    }
}

/// Fetches `height` from `node`, then from the others; marks our transactions committed as
/// `seen`.
async fn fetch_block(
    clients: &[rpc::Client],
    node: usize,
    height: u64,
    seen: Sighting,
    workload: &Workload,
    tracker: &Tracker,
) -> Fetched {
    for attempt in 0..FETCH_ATTEMPTS * clients.len() {
        let client = &clients[(node + attempt) % clients.len()];
        match block_tx_hashes(client, height).await {
            Ok(Some(tx_hashes)) => {
                let mut f = Fetched {
                    ok: true,
                    txs: tx_hashes.len() as u64,
                    foreign: 0,
                };
                for hash in &tx_hashes {
                    match workload.index.get(hash) {
                        Some(&i) => tracker.committed(i, seen.at, seen.proposed_ms),
                        None => f.foreign += 1,
                    }
                }
                return f;
            }
            // Announced by another node but not stored here yet, or a transient error.
            Ok(None) | Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    Fetched::default()
}

/// The hashes of block `height`'s transactions. A node from before `waybill_getBlockTxHashes`
/// (a network started elsewhere, `--rpc`) answers "method not found"; its full block gives the
/// same hashes.
async fn block_tx_hashes(
    client: &rpc::Client,
    height: u64,
) -> Result<Option<Vec<Hash>>, rpc::ClientError> {
    match client.block_tx_hashes(height).await {
        Ok(block) => Ok(block.map(|b| b.tx_hashes)),
        Err(e) if e.code() == Some(METHOD_NOT_FOUND_CODE) => Ok(client
            .block(height)
            .await?
            .map(|b| b.block.txs.iter().map(|t| t.hash()).collect())),
        Err(e) => Err(e),
    }
}

/// Committed transactions per whole second since the clock started (for the JSON timeline).
pub fn per_second(commit_ns: impl Iterator<Item = u64>) -> Vec<u64> {
    let mut by: BTreeMap<u64, u64> = BTreeMap::new();
    for ns in commit_ns {
        *by.entry(ns / 1_000_000_000).or_default() += 1;
    }
    let last = by.keys().next_back().copied().unwrap_or(0);
    (0..=last)
        .map(|s| by.get(&s).copied().unwrap_or(0))
        .collect()
}
