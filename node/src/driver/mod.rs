//! The I/O driver: runs the sans-IO consensus core on tokio. It owns the core, the mempool and
//! the node's side of the network, and is the only writer of the ledger store.
//!
//! Ordering rules it keeps (see `consensus` crate docs):
//! - the core's writes (safety data, blocks) are made durable, in one fsynced batch, before any
//!   message that names one of them leaves the node, and only then reported back as `Persisted`;
//! - committed blocks are executed and stored in order, each in one fsynced batch;
//! - catch-up applies only blocks proven committed by a quorum certificate, then rebuilds the
//!   core from its durable state, so its safety data (and so its past votes) is never forgotten.
//!
//! Files: `actions` (carrying out what the core asks), `commit` (applying committed blocks),
//! `serve` (answering peers' sync requests), `catchup` (checking fetched committed blocks),
//! `wire` (message bytes), `peers` (PeerId <-> validator key).

mod actions;
pub mod catchup;
mod certify;
mod commit;
mod idle;
pub mod peers;
mod serve;
mod votes;
pub mod wire;

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use consensus::{Block, Core, Input, Millis, Recovery, Round, SafetyData};
use ledger::encoding::from_canonical;
use ledger::receipt::Receipt;
use ledger::storage::{Store, StoreError};
use ledger::{Genesis, Hash, KeyPair, SignedTransaction};
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tracing::{debug, info, warn};

use crate::mempool::{LedgerView, SharedMempool};
use crate::network::{NetworkEvent, NetworkHandle, PeerId};
use crate::payload::{from_ledger_block, TxBatch, TxBatchValidator};
use crate::status::{BlockSummary, StatusBoard};
use idle::DeferredPayload;
use peers::PeerBook;

/// How often the driver asks a peer for its committed head.
const CATCHUP_POLL: Duration = Duration::from_millis(1_000);
/// How long a transaction may wait behind a gap in its account's sequence before the mempool
/// drops it (see `Mempool::evict_gapped`): ample for a predecessor still being gossiped.
const GAPPED_TX_WAIT: Duration = Duration::from_secs(30);
/// A peer this many blocks ahead makes the node catch up at once...
const CATCHUP_LAG: u64 = 4;
/// ...and one any number ahead does, once the node's own head has not moved for this long.
const CATCHUP_STALL: Duration = Duration::from_millis(3_000);
/// Transactions waited on per hash and in all: a client can wait, not exhaust memory.
const MAX_COMMIT_WAITERS: usize = 10_000;
/// Most commands (RPC submissions) handled in one turn of the event loop. A turn that carries a
/// consensus step waits for an fsync; taking one submission per turn capped a lone validator
/// at a few hundred submissions a second while its CPU idled. A whole RPC batch per turn keeps
/// timers and consensus messages waiting little.
const MAX_COMMANDS_PER_TURN: usize = 512;
/// Most network events handled in one turn, for the same reason.
const MAX_NET_EVENTS_PER_TURN: usize = 64;
/// Most compact proposals waiting for a second look or for their block from the proposer: an
/// honest leader's proposals rarely need either, and a peer sending proposals of unknown
/// transactions gets no more than this.
const MAX_PROPOSAL_FETCHES: usize = 4;
/// How long a compact proposal naming unknown transactions waits before a second look at the
/// mempool. The usual cause is gossip this node's intake is still verifying, which the leader's
/// had just admitted when it proposed; fetching at once (a round trip and the whole block) did
/// so for a fifth of the proposals at 10,000 tx/s.
const PROPOSAL_SECOND_LOOK: Duration = Duration::from_millis(25);

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
    #[error("storage: {0}")]
    Store(#[from] StoreError),
    #[error("execution: {0}")]
    Exec(#[from] ledger::execute::ExecError),
    #[error("stored consensus record does not decode: {0}")]
    Recovery(String),
    #[error("fork detected at height {height}: committed {ours}, consensus committed {theirs}")]
    Fork {
        height: u64,
        ours: Hash,
        theirs: Hash,
    },
    #[error("non-determinism at height {height}: executing gave accumulator root {ours}, the certified block says {theirs}")]
    Divergence {
        height: u64,
        ours: Hash,
        theirs: Hash,
    },
}

/// Everything the driver is built from.
pub struct DriverParts {
    pub genesis: Genesis,
    pub key: KeyPair,
    pub store: Arc<Store>,
    pub net: NetworkHandle,
    pub net_events: mpsc::Receiver<NetworkEvent>,
    pub commands: mpsc::Receiver<Command>,
    pub gossip_intake: mpsc::Sender<Vec<u8>>,
    pub mempool: SharedMempool,
    /// Signalled by the RPC side after it admits a transaction (see `idle`).
    pub admitted: Arc<tokio::sync::Notify>,
    pub status: Arc<StatusBoard>,
    pub blocks: broadcast::Sender<BlockSummary>,
    pub shutdown: watch::Receiver<bool>,
}

/// An answer from a peer, delivered back into the loop.
enum Fetched {
    Blocks {
        from: ledger::PublicKey,
        blocks: Vec<Block<TxBatch>>,
    },
    Head {
        peer: PeerId,
        height: u64,
    },
    Committed {
        peer: PeerId,
        records: Vec<Vec<u8>>,
    },
    Failed {
        peer: PeerId,
        reason: String,
    },
    /// The answer to a ledger-certificate request (see `certify`).
    Certificates {
        peer: PeerId,
        certs: Result<Vec<ledger::proof::LedgerCertificate>, String>,
    },
    /// A compact proposal this node could not rebuild, due for a second look.
    ProposalRetry {
        peer: PeerId,
        from: ledger::PublicKey,
        compact: Box<wire::CompactProposal>,
    },
    /// The proposer's answer for a compact proposal this node could not rebuild (empty if none).
    ProposalBody {
        from: ledger::PublicKey,
        compact: Box<wire::CompactProposal>,
        blocks: Vec<Block<TxBatch>>,
    },
}

pub struct Driver {
    genesis: Genesis,
    genesis_block_id: Hash,
    key_secret: [u8; 32],
    core: Core<TxBatch, TxBatchValidator>,
    store: Arc<Store>,
    net: NetworkHandle,
    book: PeerBook,
    mempool: SharedMempool,
    admitted: Arc<tokio::sync::Notify>,
    status: Arc<StatusBoard>,
    blocks: broadcast::Sender<BlockSummary>,
    gossip_intake: mpsc::Sender<Vec<u8>>,
    timer: Option<(Round, Millis)>,
    waiters: HashMap<Hash, Vec<oneshot::Sender<Receipt>>>,
    waiter_count: usize,
    fetched_tx: mpsc::Sender<Fetched>,
    catchup: CatchupState,
    /// Inputs the driver owes the core as answers to its own actions: messages it sent to
    /// itself (it leads the next round, or is the only validator) and the payloads it asked for.
    /// Fed one per turn of the event loop rather than at once: with one validator the core
    /// answers itself forever, and must still let commands, timers and shutdown in.
    loopback: VecDeque<Input<TxBatch>>,
    /// Ledger certificates: votes, repair of missing ones (see `certify`).
    certify: certify::CertifyState,
    /// A payload request held back because there was nothing to order (see `idle`).
    deferred_payload: Option<DeferredPayload>,
    /// How long a leader with nothing to order waits for a transaction before proposing an
    /// empty block anyway: half the round timeout, so replicas never time out on it.
    idle_proposal_wait: Duration,
    /// Compact proposals waiting for a second look or for their block from the proposer (at
    /// most [`MAX_PROPOSAL_FETCHES`]).
    proposal_fetches: usize,
}

#[derive(Default)]
struct CatchupState {
    in_flight: bool,
    next_peer: usize,
    head_changed_at: Option<std::time::Instant>,
    last_head: u64,
}

/// Milliseconds since the Unix epoch: block timestamps and the core's clock.
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

/// The store just after a commit, with that commit's state changes at hand: the mempool asks
/// for the next sequence of every account the block touched, and the changes answer without a
/// read per account.
pub(crate) struct CommittedView<'a> {
    pub store: &'a Store,
    pub delta: &'a ledger::execute::StateDelta,
}

impl LedgerView for CommittedView<'_> {
    fn next_sequence(&self, account: &ledger::PublicKey) -> u64 {
        let state = ledger::execute::Overlay::new(self.store, self.delta);
        ledger::execute::next_sequence(&state, account).unwrap_or(0)
    }
    fn is_committed(&self, tx: &Hash) -> bool {
        StoreView(self.store).is_committed(tx)
    }
}

impl Driver {
    /// Builds the core from what the store holds (a fresh node starts at genesis) and runs until
    /// shutdown or a fatal error.
    pub async fn run(parts: DriverParts) -> Result<(), DriverError> {
        let DriverParts {
            genesis,
            key,
            store,
            net,
            mut net_events,
            mut commands,
            gossip_intake,
            mempool,
            admitted,
            status,
            blocks,
            mut shutdown,
        } = parts;
        let genesis_block_id = consensus::genesis_block::<TxBatch>(&genesis).id();
        let genesis_round_timeout = genesis.consensus.round_timeout_ms;
        let key_secret = key.secret_bytes();
        let book = PeerBook::from_genesis(&genesis);
        let validator = TxBatchValidator {
            chain_id: genesis.chain_id.clone(),
            max_txs: genesis.consensus.max_block_txs as usize,
            mempool: mempool.clone(),
        };
        let recovery = load_recovery(&store)?;
        info!(
            committed = recovery.committed.as_ref().map_or(0, |b| b.height()),
            pending_blocks = recovery.blocks.len(),
            last_voted_round = recovery.safety.last_voted_round,
            "recovering consensus state"
        );
        let certify = certify::CertifyState::new(&genesis, &key);
        let (core, first_actions) = Core::recover(&genesis, key, validator, recovery, now_ms());
        let (fetched_tx, mut fetched_rx) = mpsc::channel(64);
        let mut driver = Driver {
            genesis,
            genesis_block_id,
            key_secret,
            core,
            store,
            net,
            book,
            mempool,
            admitted,
            status,
            blocks,
            gossip_intake,
            timer: None,
            waiters: HashMap::new(),
            waiter_count: 0,
            fetched_tx,
            catchup: CatchupState::default(),
            loopback: VecDeque::new(),
            certify,
            deferred_payload: None,
            idle_proposal_wait: idle::proposal_wait(genesis_round_timeout),
            proposal_fetches: 0,
        };
        driver.carry_out(first_actions)?;
        driver.publish_status();

        let mut poll = tokio::time::interval(CATCHUP_POLL);
        poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let timer = driver.timer_sleep();
            let idle_deadline = driver.deferred_payload_sleep();
            tokio::select! {
                biased;
                _ = shutdown.changed() => {
                    info!("driver stopping");
                    return Ok(());
                }
                Some(event) = net_events.recv() => {
                    driver.on_network(event)?;
                    for _ in 1..MAX_NET_EVENTS_PER_TURN {
                        let Ok(event) = net_events.try_recv() else { break };
                        driver.on_network(event)?;
                    }
                }
                Some(fetched) = fetched_rx.recv() => driver.on_fetched(fetched)?,
                _ = timer => {
                    if let Some((round, _)) = driver.timer.take() {
                        driver.feed(Input::TimerFired { round })?;
                    }
                }
                Some(cmd) = commands.recv() => {
                    driver.on_command(cmd)?;
                    for _ in 1..MAX_COMMANDS_PER_TURN {
                        let Ok(cmd) = commands.try_recv() else { break };
                        driver.on_command(cmd)?;
                    }
                }
                _ = driver.admitted.notified(), if driver.deferred_payload.is_some() => {
                    driver.on_admitted();
                }
                _ = idle_deadline, if driver.deferred_payload.is_some() => {
                    driver.release_deferred_payload();
                }
                _ = poll.tick() => {
                    driver.poll_catchup();
                    driver.poll_certificates();
                    driver.evict_gapped();
                }
                // Nothing else is ready: the turn is the loopback's (handled just below).
                _ = std::future::ready(()), if !driver.loopback.is_empty() => {}
            }
            // At least one of its own messages per turn, whatever else is busy, so the core's
            // vote to itself is never starved by a stream of network events or commands.
            if let Some(input) = driver.loopback.pop_front() {
                driver.feed(input)?;
            }
            driver.publish_status();
        }
    }

    fn timer_sleep(&self) -> tokio::time::Sleep {
        let wait = match self.timer {
            Some((_, deadline)) => deadline.saturating_sub(now_ms()),
            // No timer: sleep "forever" (the branch never fires usefully).
            None => 3_600_000,
        };
        tokio::time::sleep(Duration::from_millis(wait))
    }

    /// Hands one input to the core and carries out everything that follows from it.
    fn feed(&mut self, input: Input<TxBatch>) -> Result<(), DriverError> {
        let (round, qc_round) = (self.core.round(), self.core.high_qc().round());
        let timer = matches!(input, Input::TimerFired { .. });
        let actions = self.core.handle(now_ms(), input);
        let result = self.carry_out(actions);
        let (new_round, new_qc) = (self.core.round(), self.core.high_qc().round());
        self.status.update(|s| {
            s.timeouts += u64::from(timer);
            s.qcs += u64::from(new_qc > qc_round);
            s.tcs += u64::from(new_round > round && new_qc.saturating_add(1) < new_round);
        });
        result
    }

    fn on_network(&mut self, event: NetworkEvent) -> Result<(), DriverError> {
        match event {
            NetworkEvent::Consensus { from, bytes } => {
                let Some(key) = self.book.key_of(&from) else {
                    debug!(%from, "consensus message from a non-validator peer dropped");
                    return Ok(());
                };
                match wire::decode_consensus(&bytes) {
                    Ok(wire::WireConsensus::Full(msg)) => {
                        self.feed(Input::Message { from: key, msg })?
                    }
                    Ok(wire::WireConsensus::Compact(compact)) => {
                        self.on_compact_proposal(from, key, compact, false)?
                    }
                    Err(e) => warn!(%from, error = %e, "undecodable consensus message dropped"),
                }
            }
            NetworkEvent::Transaction { from, bytes } => {
                if self.gossip_intake.try_send(bytes).is_err() {
                    debug!(%from, "transaction intake full; gossiped transaction dropped");
                }
            }
            NetworkEvent::SyncRequest { from, bytes, reply } => {
                self.serve_sync(from, &bytes, reply);
            }
            NetworkEvent::PeerConnected(peer) => info!(%peer, "peer connected"),
            NetworkEvent::PeerDisconnected(peer) => info!(%peer, "peer disconnected"),
        }
        Ok(())
    }

    /// Rebuilds a compact proposal from the mempool and hands it to the core. When a named
    /// transaction is not here, looks again after [`PROPOSAL_SECOND_LOOK`] (its gossip may be
    /// in the intake), then asks the proposer for the block.
    fn on_compact_proposal(
        &mut self,
        peer: PeerId,
        from: ledger::PublicKey,
        compact: wire::CompactProposal,
        second_look: bool,
    ) -> Result<(), DriverError> {
        let rebuilt = {
            let pool = self.mempool.lock();
            compact.rebuild(|h| pool.get(h).cloned())
        };
        if let Some(proposal) = rebuilt {
            return self.feed(Input::Message {
                from,
                msg: consensus::ConsensusMsg::Proposal(proposal),
            });
        }
        if self.proposal_fetches >= MAX_PROPOSAL_FETCHES {
            debug!(%peer, "compact proposal of unknown transactions dropped: fetches busy");
            return Ok(());
        }
        self.proposal_fetches += 1;
        if !second_look {
            debug!(%peer, round = compact.header.round, "compact proposal names unknown transactions; looking again shortly");
            let tx = self.fetched_tx.clone();
            tokio::spawn(async move {
                tokio::time::sleep(PROPOSAL_SECOND_LOOK).await;
                let compact = Box::new(compact);
                let _ = tx
                    .send(Fetched::ProposalRetry {
                        peer,
                        from,
                        compact,
                    })
                    .await;
            });
            return Ok(());
        }
        debug!(%peer, round = compact.header.round, "compact proposal still names unknown transactions; fetching its block");
        let request = wire::SyncRequest::Fetch {
            id: compact.block_id(),
            count: 1,
        };
        let response = self.net.request_sync(peer, wire::encode_request(&request));
        let tx = self.fetched_tx.clone();
        tokio::spawn(async move {
            let blocks = match response.await.map(|b| wire::decode_response(&b)) {
                Ok(Ok(wire::SyncResponse::Blocks(blocks))) => blocks,
                _ => Vec::new(),
            };
            let _ = tx
                .send(Fetched::ProposalBody {
                    from,
                    compact: Box::new(compact),
                    blocks,
                })
                .await;
        });
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

    fn publish_status(&self) {
        let head = self.store.head();
        self.status.update(|s| {
            s.round = self.core.round();
            s.committed_height = head.map_or(0, |h| h.height);
            s.committed_hash = head.map_or(Hash::ZERO, |h| h.hash);
            s.mempool_len = self.mempool.lock().len();
            s.syncing = self.catchup.in_flight;
        });
    }

    fn spawn_request(&self, peer: PeerId, request: wire::SyncRequest, key: ledger::PublicKey) {
        let response = self.net.request_sync(peer, wire::encode_request(&request));
        let tx = self.fetched_tx.clone();
        tokio::spawn(async move {
            let fetched = match response.await {
                Err(e) => Fetched::Failed {
                    peer,
                    reason: e.to_string(),
                },
                Ok(bytes) => match wire::decode_response(&bytes) {
                    Err(e) => Fetched::Failed {
                        peer,
                        reason: e.to_string(),
                    },
                    Ok(wire::SyncResponse::Blocks(blocks)) => Fetched::Blocks { from: key, blocks },
                    Ok(wire::SyncResponse::Head { height, .. }) => Fetched::Head { peer, height },
                    Ok(wire::SyncResponse::Committed(records)) => {
                        Fetched::Committed { peer, records }
                    }
                    Ok(wire::SyncResponse::Unavailable(reason)) => Fetched::Failed { peer, reason },
                    Ok(
                        wire::SyncResponse::VoteReceived
                        | wire::SyncResponse::LedgerCertificates(_),
                    ) => Fetched::Failed {
                        peer,
                        reason: "answer of another kind than asked".into(),
                    },
                },
            };
            let _ = tx.send(fetched).await;
        });
    }

    fn on_fetched(&mut self, fetched: Fetched) -> Result<(), DriverError> {
        match fetched {
            Fetched::Blocks { from, blocks } => self.feed(Input::BlocksFetched { from, blocks }),
            Fetched::Head { peer, height } => {
                let ours = self.store.head().map_or(0, |h| h.height);
                let stalled = self
                    .catchup
                    .head_changed_at
                    .is_some_and(|t| t.elapsed() >= CATCHUP_STALL);
                if height >= ours + CATCHUP_LAG || (height > ours && stalled) {
                    info!(%peer, ours, theirs = height, "behind a peer; fetching committed blocks");
                    if let Some(key) = self.book.key_of(&peer) {
                        self.spawn_request(
                            peer,
                            wire::SyncRequest::Committed {
                                from_height: ours + 1,
                                max_blocks: wire::MAX_BLOCKS_PER_SYNC,
                            },
                            key,
                        );
                        return Ok(());
                    }
                }
                self.catchup.in_flight = false;
                Ok(())
            }
            Fetched::Committed { peer, records } => {
                self.catchup.in_flight = false;
                self.apply_catchup(peer, &records)
            }
            Fetched::Certificates { peer, certs } => {
                self.on_certificates(peer, certs);
                Ok(())
            }
            Fetched::ProposalRetry {
                peer,
                from,
                compact,
            } => {
                self.proposal_fetches = self.proposal_fetches.saturating_sub(1);
                self.on_compact_proposal(peer, from, *compact, true)
            }
            Fetched::ProposalBody {
                from,
                compact,
                blocks,
            } => {
                self.proposal_fetches = self.proposal_fetches.saturating_sub(1);
                let id = compact.block_id();
                match blocks.into_iter().find(|b| b.id() == id) {
                    // The fetched payload is checked against the header's tx root by the core,
                    // like any proposal's.
                    Some(block) => self.feed(Input::Message {
                        from,
                        msg: consensus::ConsensusMsg::Proposal(compact.with_payload(block.payload)),
                    }),
                    None => {
                        debug!(block = %id, "proposer did not send the block; the round may time out");
                        Ok(())
                    }
                }
            }
            Fetched::Failed { peer, reason } => {
                debug!(%peer, %reason, "sync request failed");
                self.catchup.in_flight = false;
                Ok(())
            }
        }
    }

    /// Every tick: note whether the head moved, and ask the next connected validator for its head.
    /// Every tick: drop transactions stuck behind a sequence gap for too long. The sweep reads
    /// each pending account's next sequence, so it runs only once the mempool is a tenth full.
    fn evict_gapped(&mut self) {
        let mut pool = self.mempool.lock();
        if pool.len() < pool.capacity() / 10 {
            return;
        }
        let evicted = pool.evict_gapped(GAPPED_TX_WAIT, &StoreView(&self.store));
        if evicted > 0 {
            info!(evicted, "dropped transactions stuck behind a sequence gap");
        }
    }

    fn poll_catchup(&mut self) {
        let ours = self.store.head().map_or(0, |h| h.height);
        if ours != self.catchup.last_head || self.catchup.head_changed_at.is_none() {
            self.catchup.last_head = ours;
            self.catchup.head_changed_at = Some(std::time::Instant::now());
        }
        if self.catchup.in_flight {
            return;
        }
        let connected = self.net.connected_peers();
        let candidates: Vec<PeerId> = connected
            .into_iter()
            .filter(|p| self.book.key_of(p).is_some())
            .collect();
        if candidates.is_empty() {
            return;
        }
        let peer = candidates[self.catchup.next_peer % candidates.len()];
        self.catchup.next_peer = self.catchup.next_peer.wrapping_add(1);
        if let Some(key) = self.book.key_of(&peer) {
            self.catchup.in_flight = true;
            self.spawn_request(peer, wire::SyncRequest::Head, key);
        }
    }

    /// Rebuilds the core from durable state after the store moved ahead of it (catch-up).
    fn rebuild_core(&mut self) -> Result<(), DriverError> {
        let recovery = load_recovery(&self.store)?;
        let validator = TxBatchValidator {
            chain_id: self.genesis.chain_id.clone(),
            max_txs: self.genesis.consensus.max_block_txs as usize,
            mempool: self.mempool.clone(),
        };
        let (core, actions) = Core::recover(
            &self.genesis,
            KeyPair::from_secret(self.key_secret),
            validator,
            recovery,
            now_ms(),
        );
        self.core = core;
        self.timer = None;
        self.deferred_payload = None;
        self.carry_out(actions)
    }
}

/// Reads back the core's durable state: safety data, persisted blocks and the committed head.
fn load_recovery(store: &Store) -> Result<Recovery<TxBatch>, DriverError> {
    let records = store.load_consensus()?;
    let safety: SafetyData = match &records.safety {
        None => SafetyData::default(),
        Some(bytes) => from_canonical(
            "safety data",
            bytes,
            ledger::storage::MAX_CONSENSUS_RECORD_BYTES,
        )
        .map_err(|e| DriverError::Recovery(e.to_string()))?,
    };
    let mut blocks = Vec::with_capacity(records.blocks.len());
    for bytes in &records.blocks {
        let block: Block<TxBatch> = from_canonical(
            "consensus block",
            bytes,
            ledger::storage::MAX_CONSENSUS_RECORD_BYTES,
        )
        .map_err(|e| DriverError::Recovery(e.to_string()))?;
        blocks.push(block);
    }
    let committed = match store.head() {
        Some(h) if h.height > 0 => {
            let stored = store
                .block_by_height(h.height)?
                .ok_or(StoreError::MissingBlock {
                    height: h.height,
                    head: h.height,
                })?;
            Some(from_ledger_block(stored.block))
        }
        _ => None,
    };
    Ok(Recovery {
        safety,
        blocks,
        committed,
    })
}
