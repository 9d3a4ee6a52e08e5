//! The shell around the node's sans-IO engine (`waybill-engine`): it turns network events,
//! timers and the RPC side's commands into engine events, and carries out the engine's effects
//! with tokio and libp2p. It decides nothing about the protocol.
//!
//! - Every engine call runs on this one task, on a thread of its own with a single-threaded
//!   runtime ([`run_on_this_thread`]), so the engine sees one event at a time. Its store calls
//!   fsync and may block that thread; nothing else runs there. (It ran in `block_in_place` on
//!   the node's shared runtime before: each call handed the worker's other tasks to another
//!   thread and back, thousands of times a second under load.)
//! - The engine's writes are durable when its call returns, so its messages go out at once.
//! - Requests to peers run on spawned tasks; their answers come back as events.
//! - Clients waiting for a transaction to commit (`wait_ms`) are answered from the engine's
//!   `Committed` effects.
//!
//! Files: `disk` (the engine's store on RocksDB, with the safety-mark file).

pub mod disk;
mod mark_file;

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use engine::status::BlockSummary;
use engine::{
    Effect, EngineError, Event, Millis, Node, NodeConfig, ReplyId, RequestFailed, RequestId,
};
use ledger::receipt::Receipt;
use ledger::storage::Store;
use ledger::{Genesis, Hash, KeyPair, SignedTransaction};
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tracing::{debug, info};

use crate::mempool::{LedgerView, SharedMempool};
use crate::network::{NetworkEvent, NetworkHandle, PeerId};
use crate::status::StatusBoard;
pub use disk::{Disk, DiskError, MARK_FILE};
pub use engine::wire;

/// Transactions waited on per hash and in all: a client can wait, not exhaust memory.
const MAX_COMMIT_WAITERS: usize = 10_000;
/// Most commands (RPC submissions) handled in one turn of the loop. A turn that carries a
/// consensus step waits for an fsync; taking one submission per turn capped a lone validator
/// at a few hundred submissions a second while its CPU idled.
const MAX_COMMANDS_PER_TURN: usize = 512;
/// Most network events handled in one turn, for the same reason.
const MAX_NET_EVENTS_PER_TURN: usize = 64;
/// Answers to the engine's requests waiting to be handed to it (the engine has at most
/// `engine`'s own bound of requests out).
const RESPONSE_QUEUE: usize = 128;

/// What the RPC side asks of the driver.
#[derive(Debug)]
pub enum Command {
    /// Reply once `hash` commits (at once if it already has).
    WatchCommit {
        hash: Hash,
        reply: oneshot::Sender<Receipt>,
    },
    /// The transaction with this hash if it is in the mempool (`waybill_getTransaction`).
    PendingTransaction {
        hash: Hash,
        reply: oneshot::Sender<Option<SignedTransaction>>,
    },
}

/// Why the driver stopped. Anything but a shutdown is fatal for the node.
#[derive(Debug, thiserror::Error)]
pub enum DriverError {
    #[error(transparent)]
    Engine(#[from] EngineError<DiskError>),
    #[error("storage: {0}")]
    Store(#[from] ledger::storage::StoreError),
    #[error("cannot build the engine thread's runtime: {0}")]
    Runtime(std::io::Error),
    #[error(transparent)]
    Disk(#[from] DiskError),
}

/// Everything the driver is built from.
pub struct DriverParts {
    pub genesis: Genesis,
    pub key: KeyPair,
    pub store: Arc<Store>,
    /// The node's data directory (the safety mark lives there).
    pub data_dir: std::path::PathBuf,
    pub net: NetworkHandle,
    pub net_events: mpsc::Receiver<NetworkEvent>,
    pub commands: mpsc::Receiver<Command>,
    pub gossip_intake: mpsc::Sender<Vec<u8>>,
    /// The gossip batcher's queue: the engine's long-pending transactions go out again there.
    pub gossip_out: mpsc::Sender<crate::gossip::GossipGroup>,
    pub mempool: SharedMempool,
    /// Signalled by the RPC side after it admits a transaction.
    pub admitted: Arc<tokio::sync::Notify>,
    pub status: Arc<StatusBoard>,
    pub blocks: broadcast::Sender<BlockSummary>,
    pub shutdown: watch::Receiver<bool>,
}

/// Milliseconds since the Unix epoch: block timestamps and the engine's clock.
pub fn now_ms() -> Millis {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// The mempool's view of the committed ledger.
pub(crate) struct StoreView<'a>(pub &'a Store);

impl LedgerView for StoreView<'_> {
    fn next_sequence(&self, account: &ledger::PublicKey) -> u64 {
        // A read error here only makes the mempool's pre-check less precise; execution decides.
        ledger::execute::next_sequence(self.0, account).unwrap_or(0)
    }
    fn is_committed(&self, tx: &Hash) -> bool {
        matches!(self.0.tx_location(tx), Ok(Some(_)))
    }
}

struct Shell {
    engine: Node<PeerId, Disk>,
    /// The node's shared runtime (requests to peers wait there).
    main: tokio::runtime::Handle,
    store: Arc<Store>,
    net: NetworkHandle,
    mempool: SharedMempool,
    gossip_intake: mpsc::Sender<Vec<u8>>,
    gossip: mpsc::Sender<crate::gossip::GossipGroup>,
    status: Arc<StatusBoard>,
    blocks: broadcast::Sender<BlockSummary>,
    waiters: HashMap<Hash, Vec<oneshot::Sender<Receipt>>>,
    waiter_count: usize,
    /// Peers' sync requests the engine has not answered yet (it answers within the same call,
    /// so this holds at most one at a time).
    replies: HashMap<ReplyId, oneshot::Sender<Vec<u8>>>,
    next_reply: u64,
    responses: mpsc::Sender<(RequestId, Result<Vec<u8>, RequestFailed>)>,
}

/// Builds the engine from what the store holds and runs it until shutdown or a fatal error.
/// Runs the driver to its end on the calling thread, which it keeps for itself (see the module
/// doc). `main` is the node's shared runtime: the driver's requests to peers wait there, so a
/// long engine call never holds up their answers' arrival.
pub fn run_on_this_thread(
    parts: DriverParts,
    main: tokio::runtime::Handle,
) -> Result<(), DriverError> {
    let local = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(DriverError::Runtime)?;
    local.block_on(run(parts, main))
}

async fn run(parts: DriverParts, main: tokio::runtime::Handle) -> Result<(), DriverError> {
    let DriverParts {
        genesis,
        key,
        store,
        data_dir,
        net,
        mut net_events,
        mut commands,
        gossip_intake,
        gossip_out,
        mempool,
        admitted,
        status,
        blocks,
        mut shutdown,
    } = parts;
    let disk = Disk::new(store.clone(), &data_dir)?;
    let config = NodeConfig {
        genesis,
        key,
        mempool: mempool.clone(),
    };
    let (engine, effects) = Node::start(config, disk, |s| PeerId::from_str(s).ok(), now_ms())?;
    let (responses, mut responses_rx) = mpsc::channel(RESPONSE_QUEUE);
    let mut shell = Shell {
        engine,
        main,
        store,
        net,
        mempool,
        gossip_intake,
        gossip: gossip_out,
        status,
        blocks,
        waiters: HashMap::new(),
        waiter_count: 0,
        replies: HashMap::new(),
        next_reply: 0,
        responses,
    };
    shell.carry_out(effects);
    shell.publish_status();
    loop {
        let wake = tokio::time::sleep(Duration::from_millis(
            shell.engine.next_wake().saturating_sub(now_ms()),
        ));
        tokio::select! {
            biased;
            _ = shutdown.changed() => {
                info!("driver stopping");
                return Ok(());
            }
            Some(event) = net_events.recv() => {
                shell.on_network(event)?;
                for _ in 1..MAX_NET_EVENTS_PER_TURN {
                    let Ok(event) = net_events.try_recv() else { break };
                    shell.on_network(event)?;
                }
            }
            Some((id, result)) = responses_rx.recv() => {
                shell.handle(Event::SyncResponse { id, result })?;
            }
            Some(cmd) = commands.recv() => {
                shell.on_command(cmd)?;
                for _ in 1..MAX_COMMANDS_PER_TURN {
                    let Ok(cmd) = commands.try_recv() else { break };
                    shell.on_command(cmd)?;
                }
            }
            _ = admitted.notified(), if shell.engine.waits_for_transactions() => {
                shell.handle(Event::TxAdmitted)?;
            }
            _ = wake => shell.handle(Event::Wake)?,
        }
        shell.publish_status();
    }
}

impl Shell {
    /// One engine call, and its effects carried out.
    fn handle(&mut self, event: Event<PeerId>) -> Result<(), DriverError> {
        let effects = self.engine.handle(now_ms(), event)?;
        self.carry_out(effects);
        Ok(())
    }

    fn on_network(&mut self, event: NetworkEvent) -> Result<(), DriverError> {
        match event {
            NetworkEvent::Consensus { from, bytes } => {
                self.handle(Event::Consensus { from, bytes })?
            }
            NetworkEvent::Transaction { from, bytes } => {
                if self.gossip_intake.try_send(bytes).is_err() {
                    debug!(%from, "transaction intake full; gossiped transaction dropped");
                }
            }
            NetworkEvent::SyncRequest { from, bytes, reply } => {
                let id = ReplyId(self.next_reply);
                self.next_reply += 1;
                self.replies.insert(id, reply);
                self.handle(Event::SyncRequest {
                    from,
                    bytes,
                    reply: id,
                })?;
                // Dropping an unanswered reply fails the peer's request.
                self.replies.remove(&id);
            }
            NetworkEvent::PeerConnected(peer) => {
                info!(%peer, "peer connected");
                self.handle(Event::PeerConnected(peer))?;
            }
            NetworkEvent::PeerDisconnected(peer) => {
                info!(%peer, "peer disconnected");
                self.handle(Event::PeerDisconnected(peer))?;
            }
        }
        Ok(())
    }

    fn on_command(&mut self, cmd: Command) -> Result<(), DriverError> {
        match cmd {
            Command::WatchCommit { hash, reply } => {
                if let Some(committed) = self.store.transaction(&hash)? {
                    let _ = reply.send(committed.receipt);
                } else if self.waiter_count < MAX_COMMIT_WAITERS {
                    self.waiter_count += 1;
                    self.waiters.entry(hash).or_default().push(reply);
                }
                // Over the limit the reply is dropped: the client sees "not committed yet".
            }
            Command::PendingTransaction { hash, reply } => {
                let _ = reply.send(self.mempool.lock().get(&hash).cloned());
            }
        }
        Ok(())
    }

    fn carry_out(&mut self, effects: Vec<Effect<PeerId>>) {
        for effect in effects {
            match effect {
                Effect::Send { to, bytes } => {
                    if let Err(e) = self.net.send_consensus(to, bytes) {
                        debug!(%to, error = %e, "consensus send failed");
                    }
                }
                Effect::Broadcast { bytes } => {
                    if let Err(e) = self.net.broadcast_consensus(bytes) {
                        debug!(error = %e, "consensus broadcast failed");
                    }
                }
                Effect::Request { to, id, bytes } => self.request(to, id, bytes),
                Effect::Reply { to, bytes } => {
                    if let Some(reply) = self.replies.remove(&to) {
                        let _ = reply.send(bytes);
                    }
                }
                Effect::Committed(committed) => {
                    for receipt in &committed.receipts {
                        if let Some(waiters) = self.waiters.remove(&receipt.tx_hash) {
                            self.waiter_count -= waiters.len();
                            for w in waiters {
                                let _ = w.send(receipt.clone());
                            }
                        }
                    }
                    let _ = self.blocks.send(committed.summary);
                }
                Effect::Disconnect { peer, until } => {
                    let wait = Duration::from_millis(until.saturating_sub(now_ms()));
                    self.net.refuse(peer, tokio::time::Instant::now() + wait);
                }
                Effect::Members {
                    validators,
                    admitted,
                } => self.net.set_members(
                    validators.into_iter().collect(),
                    admitted.into_iter().collect(),
                ),
                Effect::Gossip { txs } => {
                    // Into the same batcher as fresh admissions; a full queue drops them, and
                    // the next poll offers them again.
                    let group = txs.iter().map(|tx| tx.to_bytes()).collect();
                    if self.gossip.try_send(group).is_err() {
                        debug!("gossip queue full; transactions offered again later");
                    }
                }
            }
        }
    }

    fn request(&self, to: PeerId, id: Option<RequestId>, bytes: Vec<u8>) {
        let response = self.net.request_sync(to, bytes);
        let responses = self.responses.clone();
        self.main.spawn(async move {
            let result = response.await.map_err(|e| RequestFailed {
                reason: e.to_string(),
            });
            match id {
                Some(id) => {
                    let _ = responses.send((id, result)).await;
                }
                None => {
                    if let Err(e) = result {
                        debug!(%to, error = %e, "request not delivered");
                    }
                }
            }
        });
    }

    fn publish_status(&self) {
        let status = self.engine.status().clone();
        self.status.update(|s| *s = status);
    }
}
