//! The Prometheus endpoint: `GET /metrics` on `metrics.listen` (disabled when empty), in the
//! OpenMetrics text format. Values come from the driver's status snapshot and the network's
//! counters at scrape time, so the endpoint never waits on the driver. `GET /health` and
//! `GET /ready` answer as on the JSON-RPC port (`crate::health`); any other path gets the
//! metrics.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::str::FromStr;

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tracing::{info, warn};

use crate::config::NodeConfig;
use crate::network::PeerId;
use crate::run::NodeHandles;

/// Starts the endpoint if configured; returns its task.
pub async fn start(
    config: &NodeConfig,
    node: NodeHandles,
) -> Result<Option<JoinHandle<()>>, String> {
    if config.metrics.listen.is_empty() {
        return Ok(None);
    }
    let addr: SocketAddr = config
        .metrics
        .listen
        .parse()
        .map_err(|e| format!("metrics.listen {:?}: {e}", config.metrics.listen))?;
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| format!("metrics endpoint cannot listen on {addr}: {e}"))?;
    info!(%addr, "metrics endpoint up");
    Ok(Some(tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                continue;
            };
            let node = node.clone();
            tokio::spawn(async move {
                // Only the request line counts: the path picks the answer.
                let mut buf = [0u8; 2048];
                let n =
                    tokio::time::timeout(std::time::Duration::from_secs(2), sock.read(&mut buf))
                        .await
                        .ok()
                        .and_then(Result::ok)
                        .unwrap_or(0);
                let (status, content_type, body) = answer(&buf[..n], &node);
                let head = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                if let Err(e) = sock.write_all(head.as_bytes()).await {
                    warn!(error = %e, "metrics write failed");
                    return;
                }
                let _ = sock.write_all(body.as_bytes()).await;
            });
        }
    })))
}

/// Status line, content type and body for a request that starts with `request`.
fn answer(request: &[u8], node: &NodeHandles) -> (&'static str, &'static str, String) {
    let line = request.split(|b| *b == b'\n').next().unwrap_or_default();
    let mut words = line.split(|b| *b == b' ');
    let (method, path) = (
        words.next().unwrap_or_default(),
        words.next().unwrap_or_default(),
    );
    let path = path.split(|b| *b == b'?').next().unwrap_or_default();
    let json = "application/json";
    match (method, path) {
        (b"GET" | b"HEAD", b"/health") => {
            let h = crate::health::health(node);
            (
                "200 OK",
                json,
                serde_json::to_string(&h).unwrap_or_default(),
            )
        }
        (b"GET" | b"HEAD", b"/ready") => {
            let h = crate::health::health(node);
            let status = if h.ready {
                "200 OK"
            } else {
                "503 Service Unavailable"
            };
            (status, json, serde_json::to_string(&h).unwrap_or_default())
        }
        _ => (
            "200 OK",
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
            render(node),
        ),
    }
}

/// The metrics text for the node's current state.
pub fn render(node: &NodeHandles) -> String {
    let s = node.status.snapshot();
    let net = node.net.stats();
    let mut registry = Registry::with_prefix("waybill");
    build_info(&mut registry);
    let gauge = |registry: &mut Registry, name: &str, help: &str, v: i64| {
        let g: Gauge = Gauge::default();
        g.set(v);
        registry.register(name, help, g);
    };
    let counter = |registry: &mut Registry, name: &str, help: &str, v: u64| {
        let c: Counter = Counter::default();
        c.inc_by(v);
        registry.register(name, help, c);
    };
    gauge(
        &mut registry,
        "committed_height",
        "Height of the committed head",
        s.committed_height as i64,
    );
    gauge(
        &mut registry,
        "round",
        "Current consensus round",
        s.round as i64,
    );
    gauge(
        &mut registry,
        "rounds_per_height_milli",
        "Consensus rounds per committed height, times 1000 (1000 = no wasted round)",
        (s.round.saturating_mul(1000) / s.committed_height.max(1)) as i64,
    );
    gauge(
        &mut registry,
        "mempool_transactions",
        "Transactions waiting in the mempool",
        s.mempool_len as i64,
    );
    gauge(
        &mut registry,
        "peers",
        "Connected peers",
        node.net.connected_peers().len() as i64,
    );
    gauge(
        &mut registry,
        "syncing",
        "1 while catching up from a peer",
        i64::from(s.syncing),
    );
    gauge(
        &mut registry,
        "idle",
        "1 while the node rests: nothing to order, its round timer parked or its proposal held",
        i64::from(s.idle),
    );
    gauge(
        &mut registry,
        "suspect_leaders",
        "Leaders this validator saw fail a round and not propose since (their rounds time out sooner)",
        s.suspect_leaders as i64,
    );
    gauge(
        &mut registry,
        "last_commit_latency_ms",
        "Proposal timestamp to local commit of the last committed block",
        s.last_commit_latency_ms as i64,
    );
    counter(
        &mut registry,
        "blocks_committed",
        "Blocks committed since start",
        s.commits,
    );
    counter(
        &mut registry,
        "round_timeouts",
        "Round timers that expired",
        s.timeouts,
    );
    counter(
        &mut registry,
        "qcs_formed",
        "Quorum certificates this node learned (new highest QC)",
        s.qcs,
    );
    counter(
        &mut registry,
        "tcs_formed",
        "Rounds entered through a timeout certificate",
        s.tcs,
    );
    counter(
        &mut registry,
        "rejected_consensus_inputs",
        "Consensus inputs refused by the core",
        s.rejected_inputs,
    );
    gauge(
        &mut registry,
        "certified_height",
        "Highest height with a ledger certificate stored since start",
        s.certified_height as i64,
    );
    counter(
        &mut registry,
        "ledger_certificates",
        "Ledger certificates stored since start (formed from votes or fetched)",
        s.ledger_certificates,
    );
    counter(
        &mut registry,
        "checkpoint_divergences",
        "Validators (or a quorum) that signed another ledger checkpoint than this node computed: non-determinism",
        s.checkpoint_divergences,
    );
    counter(
        &mut registry,
        "checkpoint_votes_rejected",
        "Checkpoint votes dropped (bad signature, outside the window, duplicate)",
        s.checkpoint_votes_rejected,
    );
    counter(
        &mut registry,
        "peers_refused",
        "Times a peer was disconnected and refused for a while for its offences",
        s.peers_refused,
    );
    counter(
        &mut registry,
        "rollbacks_detected",
        "Signs that this node's records went back in time (a lost log tail, an old copy): needs an operator",
        s.rollbacks_detected,
    );
    gauge(
        &mut registry,
        "rollback_fenced",
        "1 while the rollback guard keeps this node from signing ledger checkpoints",
        i64::from(s.rollback_fence.is_some()),
    );
    peer_offences(&mut registry, node, &s.offences);
    signature_checks(&mut registry, node);
    counter(
        &mut registry,
        "compact_proposals",
        "Proposals that named their transactions by hash, received",
        s.compact_proposals,
    );
    counter(
        &mut registry,
        "compact_proposal_second_looks",
        "Compact proposals naming transactions not yet in the mempool, looked at again shortly after",
        s.compact_second_looks,
    );
    counter(
        &mut registry,
        "compact_proposal_fetches",
        "Compact proposals still missing many transactions at the second look, or whose transactions fetch failed: the whole block was fetched from the proposer",
        s.compact_fetches,
    );
    counter(
        &mut registry,
        "compact_proposal_tx_fetches",
        "Compact proposals still missing some transactions at the second look: those were fetched from the proposer",
        s.compact_tx_fetches,
    );
    counter(
        &mut registry,
        "compact_proposal_fetched_txs",
        "Transactions fetched from proposers to complete compact proposals",
        s.compact_txs_fetched,
    );
    counter(
        &mut registry,
        "network_rejected_messages",
        "Messages refused by the network layer",
        net.rejected_messages,
    );
    counter(
        &mut registry,
        "network_dropped_events",
        "Network events dropped on a full queue",
        net.dropped_events,
    );
    memory_gauges(&mut registry, node);
    compaction_gauges(&mut registry, node);
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = encode(&mut out, &registry);
    out
}

/// `waybill_build_info{version="0.1.0",commit="9276509abcde"} 1`: which build a node runs, so a
/// dashboard shows a network running mixed versions during an upgrade.
fn build_info(registry: &mut Registry) {
    let info: Family<Vec<(String, String)>, Gauge> = Family::default();
    info.get_or_create(&vec![
        ("version".to_string(), crate::version::VERSION.to_string()),
        ("commit".to_string(), crate::version::COMMIT.to_string()),
    ])
    .set(1);
    registry.register("build_info", "The running build: version and commit", info);
}

/// `waybill_peer_offences_total{peer="validator-3",kind="equivocation"} 2`: what each peer did
/// wrong (see `engine::offences`), by its genesis name (its PeerId for an observer).
fn peer_offences(
    registry: &mut Registry,
    node: &NodeHandles,
    offences: &BTreeMap<String, BTreeMap<&'static str, u64>>,
) {
    let names = crate::genesis_peers::names(&node.genesis);
    let family: Family<Vec<(String, String)>, Counter> = Family::default();
    for (peer, kinds) in offences {
        let name = PeerId::from_str(peer)
            .ok()
            .and_then(|p| names.get(&p).cloned())
            .unwrap_or_else(|| peer.clone());
        for (kind, count) in kinds {
            family
                .get_or_create(&vec![
                    ("peer".to_string(), name.clone()),
                    ("kind".to_string(), kind.to_string()),
                ])
                .inc_by(*count);
        }
    }
    registry.register(
        "peer_offences",
        "Offences by peer and kind: bad input only a faulty or dishonest peer sends",
        family,
    );
}

/// Transaction signatures checked, by the path that brought the transaction: their sum per
/// committed transaction is the signature work a validator does per transaction (1 at best).
fn signature_checks(registry: &mut Registry, node: &NodeHandles) {
    let counts = node.mempool.signature_checks().counts();
    let family: Family<Vec<(String, String)>, Counter> = Family::default();
    for (via, count) in [
        ("submission", counts.submission),
        ("gossip", counts.gossip),
        ("proposal", counts.proposal),
    ] {
        family
            .get_or_create(&vec![("via".to_string(), via.to_string())])
            .inc_by(count);
    }
    registry.register(
        "signature_checks",
        "Transaction signatures checked, by the path that brought the transaction (client submission, gossip, or a proposal of one this node did not hold)",
        family,
    );
}

/// Whether the store's compactions keep up (see `ledger::storage::CompactionBacklog`): level-0
/// files that pile up, then writes RocksDB slows or stops, come before the node falls behind.
fn compaction_gauges(registry: &mut Registry, node: &NodeHandles) {
    // A failed property read leaves the figures out rather than the whole scrape.
    let backlog = node.store.compaction_backlog().unwrap_or_else(|e| {
        warn!(error = %e, "cannot read the store's compaction figures");
        ledger::storage::CompactionBacklog::default()
    });
    let figures: [(&'static str, &'static str, u64); 6] = [
        (
            "rocksdb_level0_files_max",
            "Most level-0 files of any RocksDB column family (writes slow down at 20)",
            backlog.level0_files_max,
        ),
        (
            "rocksdb_pending_compaction_bytes",
            "RocksDB's estimate of the bytes compactions must rewrite, all column families",
            backlog.pending_compaction_bytes,
        ),
        (
            "rocksdb_delayed_write_rate_bytes",
            "Bytes per second RocksDB holds writes to while compactions catch up; 0 when it does not",
            backlog.delayed_write_rate,
        ),
        (
            "rocksdb_writes_stopped",
            "1 while RocksDB stops writes until compactions catch up",
            u64::from(backlog.writes_stopped),
        ),
        (
            "rocksdb_table_bytes",
            "Bytes of RocksDB's live table files, all column families (the store less its log)",
            backlog.table_bytes,
        ),
        (
            "rocksdb_largest_family_bytes",
            "Bytes of the largest column family's table files: free disk a full merge of it needs",
            backlog.largest_family_bytes,
        ),
    ];
    register_gauges(registry, figures);
}

/// Where the process's memory is (see `process_memory`), with RocksDB's share.
fn memory_gauges(registry: &mut Registry, node: &NodeHandles) {
    let process = crate::process_memory::ProcessMemory::read();
    // A failed property read leaves the store's figures out rather than the whole scrape.
    let store = node.store.memory().unwrap_or_else(|e| {
        warn!(error = %e, "cannot read the store's memory figures");
        ledger::storage::StoreMemory::default()
    });
    let figures: [(&'static str, &'static str, u64); 9] = [
        (
            "memory_resident_bytes",
            "Resident set of the process (VmRSS)",
            process.resident,
        ),
        (
            "memory_jemalloc_allocated_bytes",
            "Bytes allocated through jemalloc (Rust and RocksDB)",
            process.jemalloc_allocated,
        ),
        (
            "memory_jemalloc_resident_bytes",
            "Pages jemalloc holds resident",
            process.jemalloc_resident,
        ),
        (
            "memory_glibc_allocated_bytes",
            "Bytes allocated through glibc's malloc",
            process.glibc_allocated,
        ),
        (
            "memory_glibc_free_bytes",
            "Bytes glibc's heaps hold free",
            process.glibc_free,
        ),
        (
            "rocksdb_block_cache_bytes",
            "RocksDB block cache contents",
            store.block_cache,
        ),
        (
            "rocksdb_block_cache_pinned_bytes",
            "Pinned part of the block cache",
            store.block_cache_pinned,
        ),
        (
            "rocksdb_memtable_bytes",
            "RocksDB memtables, all column families",
            store.memtables,
        ),
        (
            "rocksdb_table_readers_bytes",
            "RocksDB table readers outside the block cache",
            store.table_readers,
        ),
    ];
    register_gauges(registry, figures);
}

/// Registers each `(name, help, value)` as a gauge; a value past `i64::MAX` reads as the most.
fn register_gauges(
    registry: &mut Registry,
    figures: impl IntoIterator<Item = (&'static str, &'static str, u64)>,
) {
    for (name, help, value) in figures {
        let g: Gauge = Gauge::default();
        g.set(i64::try_from(value).unwrap_or(i64::MAX));
        registry.register(name, help, g);
    }
}
