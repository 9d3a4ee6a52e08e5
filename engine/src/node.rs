//! The engine itself: [`Node`], its inputs ([`Event`]) and outputs ([`Effect`]).
//!
//! One call to [`Node::handle`] takes one event, decides everything that follows from it and
//! returns the effects in the order they must be carried out. Every write is already durable
//! when `handle` returns (the store's calls are synchronous), so the shell may send every
//! message at once. Besides the event, one message the node sent to itself (it leads the next
//! round, or is the only validator) is handled per call: with one validator the core answers
//! itself forever, and the shell must still get its turn for timers, peers and shutdown. The
//! shell calls again with [`Event::Wake`] at [`Node::next_wake`], or at once when that is now.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use consensus::{Block, Core, Input, Recovery, Round, SafetyData};
use ledger::encoding::{from_canonical, to_canonical, DecodeError};
use ledger::receipt::Receipt;
use ledger::store_api::{ConsensusWrite, MAX_CONSENSUS_RECORD_BYTES};
use ledger::{Genesis, Hash, KeyPair, SignedTransaction};
use tracing::{error, info};

use crate::catchup::CatchupState;
use crate::certify::CertifyState;
use crate::compact::ProposalLooks;
use crate::epochs::EpochViews;
use crate::guard::{self, Rollback};
use crate::idle::DeferredPayload;
use crate::mempool::SharedMempool;
use crate::offences::Offences;
use crate::payload::{from_ledger_block, TxBatch, TxBatchValidator};
use crate::peers::PeerBook;
use crate::status::{BlockSummary, Status};
use crate::store::NodeStore;
use crate::{Millis, Peer};
use ledger::governance::EpochSet;

/// How often the node polls: asks a peer for its head (catch-up), repairs missing ledger
/// certificates and evicts transactions stuck behind a sequence gap.
pub(crate) const POLL_EVERY: Millis = 1_000;
/// How long a transaction may wait behind a gap in its account's sequence before the mempool
/// drops it (see `Mempool::evict_gapped`): ample for a predecessor still being gossiped.
const GAPPED_TX_WAIT: Millis = 30_000;
/// Most requests to peers awaiting an answer at once (each kind has a smaller bound of its own).
pub(crate) const MAX_REQUESTS: usize = 64;
/// Own proposals kept for peers' fetches (see `Node::own_proposals`).
pub(crate) const OWN_PROPOSALS_KEPT: usize = 4;
/// Most connected peers remembered beyond the validators (non-validators that may join a later
/// epoch's set).
const MAX_PEERS_UP: usize = 1_024;

/// Reads a validator's network identity from its genesis or governance `peer_id`.
pub(crate) type ParsePeer<P> = Box<dyn Fn(&str) -> Option<P> + Send>;

/// Identifies a request the node made ([`Effect::Request`]) in its answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RequestId(pub u64);

/// Identifies a peer's sync request ([`Event::SyncRequest`]) in the node's reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ReplyId(pub u64);

/// Why a request got no answer (the shell's words: a timeout, a closed connection).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("request failed: {reason}")]
pub struct RequestFailed {
    pub reason: String,
}

/// Everything that can happen to a node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event<P> {
    /// Bytes on the consensus protocol from an authenticated peer.
    Consensus {
        from: P,
        bytes: Vec<u8>,
    },
    /// A peer's request on the sync protocol; answer with [`Effect::Reply`] naming `reply`.
    SyncRequest {
        from: P,
        bytes: Vec<u8>,
        reply: ReplyId,
    },
    /// The answer to an [`Effect::Request`] that named `id`.
    SyncResponse {
        id: RequestId,
        result: Result<Vec<u8>, RequestFailed>,
    },
    /// The time the node asked for ([`Node::next_wake`]) has come (an early or late wake is
    /// harmless).
    Wake,
    /// The RPC side or the gossip intake admitted transactions to the shared mempool.
    TxAdmitted,
    PeerConnected(P),
    PeerDisconnected(P),
}

/// Everything a node asks its shell to do, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect<P> {
    /// Consensus protocol bytes to one peer.
    Send { to: P, bytes: Vec<u8> },
    /// Consensus protocol bytes to every connected validator.
    Broadcast { bytes: Vec<u8> },
    /// A sync-protocol request. With an id, feed the answer back as [`Event::SyncResponse`];
    /// without, the answer does not matter (a checkpoint vote's acknowledgement).
    Request {
        to: P,
        id: Option<RequestId>,
        bytes: Vec<u8>,
    },
    /// The answer to a peer's sync request.
    Reply { to: ReplyId, bytes: Vec<u8> },
    /// A block was committed and stored: tell clients waiting for these receipts, and
    /// subscribers.
    Committed(Box<Committed>),
    /// Close the connections to `peer` and refuse it until `until` (its offences passed the
    /// threshold; see [`crate::offences`]). It stays on the allow-list.
    Disconnect { peer: P, until: Millis },
    /// Gossip these pending transactions to the peers again (see [`crate::regossip`]).
    Gossip { txs: Vec<SignedTransaction> },
    /// Who the network should let in, emitted at start and at each epoch the node enters:
    /// `validators` are the current epoch's (the ones to broadcast to), `admitted` those and
    /// the epoch before's (a removed or rotated validator still signs its old epoch's last
    /// certificates). The shell's own admissions (configured observers) stay on top.
    Members {
        validators: Vec<P>,
        admitted: Vec<P>,
    },
}

/// A committed block, as the shell passes it on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Committed {
    pub summary: BlockSummary,
    pub receipts: Vec<Receipt>,
}

/// Why the engine stopped. Only this node's own storage or its own safety can cause it; a
/// peer's input never does.
#[derive(Debug, thiserror::Error)]
pub enum EngineError<E: std::error::Error + 'static> {
    #[error("storage: {0}")]
    Store(#[source] E),
    #[error("execution: {0}")]
    Exec(#[from] ledger::execute::ExecError),
    #[error("stored consensus record does not decode: {0}")]
    Recovery(#[source] DecodeError),
    #[error("fork detected at height {height}: committed {ours}, consensus committed {theirs}")]
    Fork {
        height: u64,
        ours: Hash,
        theirs: Hash,
    },
}

/// A node just built, and the effects of its start (its timer, a leader's first payload).
pub type Started<P, S> = (Node<P, S>, Vec<Effect<P>>);

/// What a node is built from.
pub struct NodeConfig {
    pub genesis: Genesis,
    /// The consensus key. It moves into the core's `SafetyRules`, its only holder: certification
    /// asks the core to sign.
    pub key: KeyPair,
    /// The mempool the node shares with its RPC side and gossip intake.
    pub mempool: SharedMempool,
}

/// What a request the node made is for.
#[derive(Clone, Debug)]
pub(crate) enum Asked<P> {
    /// The core's `FetchBlocks` from this validator.
    CoreFetch { from: ledger::PublicKey },
    /// Catch-up: the peer's committed head.
    Head { peer: P },
    /// Catch-up: committed blocks from the peer, from this height on.
    Committed { peer: P, from_height: u64 },
    /// The block of a compact proposal this node could not rebuild, from its proposer.
    ProposalBody {
        peer: P,
        from: ledger::PublicKey,
        compact: Box<crate::wire::CompactProposal>,
    },
    /// The transactions of a compact proposal still missing at its second look (at these
    /// places in the block), from its proposer.
    ProposalTxs {
        peer: P,
        from: ledger::PublicKey,
        compact: Box<crate::wire::CompactProposal>,
        indices: Vec<u16>,
    },
    /// Certificate repair: the peer's ledger certificates.
    Certificates { peer: P },
    /// An observer following: committed blocks from the peer, from this height on.
    Follow { peer: P, from_height: u64 },
}

pub struct Node<P: Peer, S: NodeStore> {
    pub(crate) genesis: Genesis,
    pub(crate) core: Core<TxBatch, TxBatchValidator>,
    pub(crate) store: S,
    pub(crate) mempool: SharedMempool,
    pub(crate) book: PeerBook<P>,
    /// Validators' peers currently connected.
    pub(crate) connected: BTreeSet<P>,
    /// Every peer connected, validator or not: a peer that joins the set in a later epoch is
    /// one of `connected` from then on.
    peers_up: BTreeSet<P>,
    pub(crate) now: Millis,
    pub(crate) timer: Option<(Round, Millis)>,
    /// The length the core gave the running timer (a parked one runs this long again).
    pub(crate) timer_length: Millis,
    /// A round timer that expired while the node had no work (see `idle`).
    pub(crate) parked: Option<crate::idle::ParkedTimer>,
    /// Whether a round timer has fired since start (see `idle`: a node parks none before).
    pub(crate) timed_out_since_start: bool,
    /// Inputs the node owes its core as answers to its own actions: messages it sent to itself
    /// and the payloads it asked for (one per call of `handle`, see the module docs).
    pub(crate) loopback: VecDeque<Input<TxBatch>>,
    pub(crate) requests: BTreeMap<RequestId, Asked<P>>,
    next_request: u64,
    pub(crate) catchup: CatchupState,
    pub(crate) certify: CertifyState,
    pub(crate) deferred: Option<DeferredPayload>,
    pub(crate) looks: ProposalLooks<P>,
    pub(crate) next_poll: Millis,
    /// How the node follows the chain while it is an observer (see `observer`).
    pub(crate) follow: crate::observer::Follow,
    /// Sign no ledger checkpoint until the core's round is above this (the rollback guard).
    pub(crate) fence: Option<Round>,
    /// What the store durably holds, as the next safety mark says it (see `guard`): the digest of
    /// its safety data, and a committed height it has synced.
    pub(crate) durable_safety: Hash,
    pub(crate) synced_head: u64,
    pub(crate) offences: Offences<P>,
    pub(crate) status: Status,
    pub(crate) out: Vec<Effect<P>>,
    /// Which set certifies which heights (this epoch's and the one before).
    pub(crate) epochs: EpochViews,
    /// A committed block ended the epoch: the core is rebuilt on it once the commits at hand
    /// are applied (any further commits among them are of the old epoch, and dropped).
    pub(crate) epoch_ended: bool,
    /// Commits decided and not yet executed and stored (see [`crate::commit::Unapplied`]).
    pub(crate) unapplied: crate::commit::Unapplied,
    /// The last blocks this node proposed, served to peers that fetch them even after its core
    /// dropped them (it entered a new epoch, or caught up, right after proposing); after a
    /// restart, the persisted blocks the recovered core did not take back (see
    /// [`kept_for_fetches`]).
    pub(crate) own_proposals: VecDeque<Block<TxBatch>>,
    /// Reads a validator's network identity (the peer book is rebuilt at each epoch).
    parse_peer: ParsePeer<P>,
}

impl<P: Peer, S: NodeStore> Node<P, S> {
    /// Builds the node from what the store holds (a fresh store starts at genesis), after the
    /// rollback guard's check (see [`crate::guard`]). `parse_peer` reads a genesis validator's
    /// network identity.
    pub fn start(
        config: NodeConfig,
        store: S,
        parse_peer: impl Fn(&str) -> Option<P> + Send + 'static,
        now: Millis,
    ) -> Result<Started<P, S>, EngineError<S::Error>> {
        let NodeConfig {
            genesis,
            key,
            mempool,
        } = config;
        let validator = TxBatchValidator {
            chain_id: genesis.chain_id.clone(),
            max_txs: genesis.consensus.max_block_txs as usize,
            mempool: mempool.clone(),
        };
        let mut recovery = load_recovery(&store)?;
        let head = store.head().map_or(0, |h| h.height);
        let mark = store.load_safety_mark().map_err(EngineError::Store)?;
        let mut checked = guard::check(recovery.safety.clone(), &mark, head);
        if let Some(report) = store.recovery_report() {
            checked.findings.push(Rollback::StoreRecovery(report));
            checked.fence = Some(checked.safety.last_voted_round);
        }
        for finding in &checked.findings {
            error!(%finding, "ROLLBACK GUARD: this node's records went back in time; it will not sign in any round it may have signed in");
        }
        if checked.in_flight {
            info!(
                last_voted_round = checked.safety.last_voted_round,
                "the safety mark is one write ahead of the store: that write was in flight when the node stopped; continuing from the mark"
            );
        }
        // Whether the store must take the merged data (below).
        let raised = checked.safety != recovery.safety;
        recovery.safety = checked.safety.clone();
        info!(
            committed = head,
            pending_blocks = recovery.blocks.len(),
            last_voted_round = recovery.safety.last_voted_round,
            "recovering consensus state"
        );
        let set = recovery
            .epoch
            .clone()
            .unwrap_or_else(|| EpochSet::genesis(&genesis));
        let certify = CertifyState::new();
        let persisted = recovery.blocks.clone();
        let (core, actions) = Core::recover(&genesis, key, validator, recovery, now);
        let own_proposals = kept_for_fetches(&core, persisted);
        let history = store
            .epoch_starts(crate::epochs::MAX_OLDER_EPOCHS + 2)
            .map_err(EngineError::Store)?;
        // A store synced from a certified state (`ledger::state_sync`) holds no block below its
        // base, where the epoch's root may be: the store's epoch history names its first height.
        // (Its core, starting with no safety data of the epoch, takes the base for the root.)
        let from_history = history
            .iter()
            .rev()
            .find(|(_, set)| set.epoch == core.epoch())
            .map(|(h, _)| *h);
        let first_height = match (epoch_first_height(&store, &core)?, store.base_height()) {
            (Some(h), Some(base)) if h == base + 1 => from_history.unwrap_or(h),
            (Some(h), _) => h,
            (None, _) => from_history.unwrap_or(1),
        };
        let epochs = EpochViews::new(&genesis, history);
        if epochs.current.set != set || epochs.current.first_height != first_height {
            // Both read the same state; a difference is a bug, and the core's epoch decides.
            error!(
                core_epoch = set.epoch,
                core_first_height = first_height,
                store_epoch = epochs.current.set.epoch,
                store_first_height = epochs.current.first_height,
                "the store's epoch history disagrees with the consensus state"
            );
            debug_assert!(false, "epoch history disagrees with the consensus state");
        }
        let book = book_of(&epochs, &parse_peer);
        let mut node = Node {
            genesis,
            core,
            store,
            mempool,
            book,
            connected: BTreeSet::new(),
            peers_up: BTreeSet::new(),
            now,
            timer: None,
            timer_length: 0,
            parked: None,
            timed_out_since_start: false,
            loopback: VecDeque::new(),
            requests: BTreeMap::new(),
            next_request: 0,
            catchup: CatchupState::new(now),
            certify,
            deferred: None,
            looks: ProposalLooks::default(),
            next_poll: now.saturating_add(POLL_EVERY),
            follow: crate::observer::Follow::new(now),
            fence: checked.fence,
            durable_safety: guard::safety_digest(&checked.safety),
            // A height known to be synced: the mark's, when there is one (the store's head may
            // hold commits a crashed process left unsynced; the first flush syncs them).
            synced_head: match &mark {
                guard::MarkState::Present(m) => m.committed_height.min(head),
                _ => head,
            },
            offences: Offences::default(),
            status: Status::default(),
            out: Vec::new(),
            epochs,
            epoch_ended: false,
            unapplied: Default::default(),
            own_proposals,
            parse_peer: Box::new(parse_peer),
        };
        node.status.rollbacks_detected = checked.findings.len() as u64;
        node.status.epoch = node.epochs.current.set.epoch;
        node.status.rollback_fence = checked.fence;
        if raised {
            // The store takes the merged data too, before anything is sent: a vote or timeout the
            // core sends again from it is then durable in both places.
            node.store
                .persist_consensus(&[ConsensusWrite::Safety(to_canonical(&checked.safety))])
                .map_err(EngineError::Store)?;
            // That write synced every commit before it.
            node.synced_head = head;
        }
        if raised || !checked.findings.is_empty() || matches!(mark, guard::MarkState::Missing) {
            // The mark starts from the merged data, so the next start compares with it.
            node.write_mark(&checked.safety)?;
        }
        if node.is_observer() {
            info!("this node's key is in no validator set it knows of: running as an observer (follows, never votes)");
        }
        node.announce_members();
        node.carry_out(actions)?;
        // What recovery proves committed is applied before the node takes its first event.
        node.apply_unapplied()?;
        node.refresh_status();
        let effects = std::mem::take(&mut node.out);
        Ok((node, effects))
    }

    /// Takes one event (see the module docs).
    pub fn handle(
        &mut self,
        now: Millis,
        event: Event<P>,
    ) -> Result<Vec<Effect<P>>, EngineError<S::Error>> {
        self.now = self.now.max(now);
        // Commits wait for the call after the one that decided them, unless the core is owed
        // an input first (its answer, e.g. the proposal on a payload, leaves before them too).
        if self.loopback.is_empty() || self.unapplied.is_full() {
            self.apply_unapplied()?;
        }
        match event {
            Event::Consensus { from, .. } if self.is_observer() => {
                self.observer_drops_consensus(from)
            }
            Event::Consensus { from, bytes } => self.on_consensus_bytes(from, &bytes)?,
            Event::SyncRequest { from, bytes, reply } => self.serve(from, &bytes, reply)?,
            Event::SyncResponse { id, result } => self.on_response(id, result)?,
            Event::Wake => self.on_wake()?,
            // Handled below, with every other event while the node rests.
            Event::TxAdmitted => {}
            Event::PeerConnected(peer) => {
                if self.peers_up.len() < MAX_PEERS_UP || self.book.key_of(&peer).is_some() {
                    self.peers_up.insert(peer);
                }
                if self.book.key_of(&peer).is_some() {
                    self.connected.insert(peer);
                }
            }
            Event::PeerDisconnected(peer) => {
                self.peers_up.remove(&peer);
                self.connected.remove(&peer);
            }
        }
        if self.rests() {
            self.wake_if_work();
        }
        if let Some(input) = self.loopback.pop_front() {
            self.feed(input)?;
        }
        self.lift_fence();
        self.refresh_status();
        Ok(std::mem::take(&mut self.out))
    }

    /// When the node next needs [`Event::Wake`]: the earliest of its round timer, a compact
    /// proposal's second look and the poll; `now` when it owes itself a message.
    pub fn next_wake(&self) -> Millis {
        if !self.loopback.is_empty() || !self.unapplied.is_empty() {
            return self.now;
        }
        if self.is_observer() {
            // The core's round timer (set when it was built, or left from an epoch in which this
            // node voted) never fires on an observer: waking for it would spin.
            return self.next_poll.min(self.follow.next_at());
        }
        let mut at = self.next_poll;
        if let Some((_, deadline)) = self.timer {
            at = at.min(deadline);
        }
        if let Some(due) = self.looks.next_due() {
            at = at.min(due);
        }
        at
    }

    /// Whether the node rests for want of transactions (its round timer parked or its payload
    /// request held, see `idle`): the shell then reports admissions with [`Event::TxAdmitted`];
    /// otherwise it need not.
    pub fn waits_for_transactions(&self) -> bool {
        self.rests()
    }

    /// The node's counters and state for status and metrics.
    pub fn status(&self) -> &Status {
        &self.status
    }

    pub fn store(&self) -> &S {
        &self.store
    }

    /// The consensus core (read-only: for tests and the simulator's checks).
    pub fn core(&self) -> &Core<TxBatch, TxBatchValidator> {
        &self.core
    }

    /// Whether a peer is refused for its offences right now.
    pub fn is_refused(&self, peer: &P) -> bool {
        self.offences.is_refused(peer, self.now)
    }

    fn on_wake(&mut self) -> Result<(), EngineError<S::Error>> {
        if self.is_observer() {
            return self.observer_wake();
        }
        if let Some((round, deadline)) = self.timer {
            if deadline <= self.now {
                self.timer = None;
                self.on_timer_expired(round, self.timer_length)?;
            }
        }
        for due in self.looks.take_due(self.now) {
            self.on_second_look(due)?;
        }
        if self.now >= self.next_poll {
            self.next_poll = self.now.saturating_add(POLL_EVERY);
            self.poll_catchup();
            self.poll_certificates()?;
            self.evict_gapped();
            self.regossip();
        }
        Ok(())
    }

    /// A fresh id for a request, if fewer than [`MAX_REQUESTS`] are waiting for an answer.
    pub(crate) fn request(&mut self, to: P, asked: Asked<P>, bytes: Vec<u8>) -> bool {
        if self.requests.len() >= MAX_REQUESTS {
            return false;
        }
        let id = RequestId(self.next_request);
        self.next_request += 1;
        self.requests.insert(id, asked);
        self.out.push(Effect::Request {
            to,
            id: Some(id),
            bytes,
        });
        true
    }

    fn on_response(
        &mut self,
        id: RequestId,
        result: Result<Vec<u8>, RequestFailed>,
    ) -> Result<(), EngineError<S::Error>> {
        let Some(asked) = self.requests.remove(&id) else {
            return Ok(()); // not ours, or answered twice: nothing to do
        };
        self.on_answer(asked, result)
    }

    pub(crate) fn evict_gapped(&mut self) {
        let mut pool = self.mempool.lock();
        if pool.len() < pool.capacity() / 10 {
            return;
        }
        let evicted = pool.evict_gapped(GAPPED_TX_WAIT, self.now, &StoreView(&self.store));
        if evicted > 0 {
            info!(evicted, "dropped transactions stuck behind a sequence gap");
        }
    }

    /// Lifts the rollback guard's fence once the core has entered a round above it: the
    /// network has passed every round this node may have signed in.
    fn lift_fence(&mut self) {
        if let Some(fence) = self.fence {
            if self.core.round() > fence {
                info!(
                    fence,
                    round = self.core.round(),
                    "rollback guard lifted: the network has passed every round this node may have signed in"
                );
                self.fence = None;
                self.status.rollback_fence = None;
            }
        }
    }

    fn refresh_status(&mut self) {
        let head = self.store.head();
        let observer = self.is_observer();
        let idle = self.rests();
        let s = &mut self.status;
        s.idle = idle;
        s.observer = observer;
        // An observer takes part in no round (its core never leaves the one it starts in).
        s.round = if observer { 0 } else { self.core.round() };
        s.suspect_leaders = self.core.suspect_leaders();
        s.committed_height = head.map_or(0, |h| h.height);
        s.committed_hash = head.map_or(Hash::ZERO, |h| h.hash);
        s.mempool_len = self.mempool.lock().len();
        s.syncing = if observer {
            self.follow.behind()
        } else {
            self.catchup.in_flight()
        };
    }

    /// Rebuilds the core from durable state after the store moved ahead of it (catch-up, or a
    /// committed block that ended the epoch: the core then enters the next one).
    pub(crate) fn rebuild_core(&mut self) -> Result<(), EngineError<S::Error>> {
        let recovery = load_recovery(&self.store)?;
        if let Some(set) = &recovery.epoch {
            if set.epoch > self.epochs.current.set.epoch {
                let first = self.store.head().map_or(1, |h| h.height + 1);
                info!(
                    epoch = set.epoch,
                    validators = set.validators.len(),
                    first_height = first,
                    "entering a new epoch"
                );
                self.epochs.advance(&self.genesis, set.clone(), first);
                self.book = book_of(&self.epochs, &self.parse_peer);
                let book = &self.book;
                self.connected = self
                    .peers_up
                    .iter()
                    .filter(|p| book.key_of(p).is_some())
                    .copied()
                    .collect();
                self.status.epoch = set.epoch;
                self.announce_members();
            }
        }
        // The core is moved out and back: a placeholder core would need the key, which only the
        // core holds. `replace_with` semantics by hand: take, rebuild, put.
        let core = std::mem::replace(&mut self.core, placeholder_core(&self.genesis));
        let (core, actions) = core.rebuild(&self.genesis, recovery, self.now);
        self.core = core;
        self.timer = None;
        self.parked = None;
        self.deferred = None;
        self.carry_out(actions)
    }

    /// Tells the shell who may connect now (see [`Effect::Members`]).
    fn announce_members(&mut self) {
        let validators = self
            .epochs
            .current
            .set
            .validators
            .iter()
            .filter_map(|v| (self.parse_peer)(&v.peer_id))
            .collect();
        let admitted = self.book.peers().to_vec();
        self.out.push(Effect::Members {
            validators,
            admitted,
        });
    }

    /// The safety mark for `data`, durably, on its own (see [`crate::guard`]), with the committed
    /// height known to be synced.
    pub(crate) fn write_mark(&mut self, data: &SafetyData) -> Result<(), EngineError<S::Error>> {
        self.store
            .store_safety_mark(&guard::SafetyMark::of(data, self.synced_head))
            .map_err(EngineError::Store)
    }
}

/// A core that is never used: it stands in for the real one for the instant a rebuild moves
/// it. Its key is a fixed, public one that is no validator's, so it could sign nothing that
/// counts even if it were used.
fn placeholder_core(genesis: &Genesis) -> Core<TxBatch, TxBatchValidator> {
    let validator = TxBatchValidator {
        chain_id: genesis.chain_id.clone(),
        max_txs: 0,
        mempool: SharedMempool::new(crate::mempool::Mempool::new(
            genesis.chain_id.clone(),
            crate::mempool::MempoolLimits {
                capacity: 1,
                per_account: 1,
                sequence_window: 1,
            },
        )),
    };
    Core::recover(
        genesis,
        KeyPair::from_secret([0; 32]),
        validator,
        Recovery::default(),
        0,
    )
    .0
}

/// Reads back the core's durable state: safety data, persisted blocks and the committed head.
pub(crate) fn load_recovery<S: NodeStore>(
    store: &S,
) -> Result<Recovery<TxBatch>, EngineError<S::Error>> {
    let records = store.load_consensus().map_err(EngineError::Store)?;
    let safety: SafetyData = match &records.safety {
        None => SafetyData::default(),
        Some(bytes) => {
            SafetyData::decode(bytes, MAX_CONSENSUS_RECORD_BYTES).map_err(EngineError::Recovery)?
        }
    };
    let mut blocks = Vec::with_capacity(records.blocks.len());
    for bytes in &records.blocks {
        let block: Block<TxBatch> =
            from_canonical("consensus block", bytes, MAX_CONSENSUS_RECORD_BYTES)
                .map_err(EngineError::Recovery)?;
        blocks.push(block);
    }
    let committed = match store.head() {
        Some(h) if h.height > 0 => {
            let stored = store
                .block_by_height(h.height)
                .map_err(EngineError::Store)?
                .ok_or(EngineError::Fork {
                    height: h.height,
                    ours: h.hash,
                    theirs: Hash::ZERO,
                })?;
            Some(from_ledger_block(stored.block))
        }
        _ => None,
    };
    let epoch = ledger::governance::read_validators(store)?;
    Ok(Recovery {
        safety,
        blocks,
        committed,
        epoch,
    })
}

/// The persisted blocks a restarted core did not take back (blocks of an epoch that ended, above
/// the block that ended it), newest last, at most [`OWN_PROPOSALS_KEPT`]: kept to serve peers
/// that fetch them. A node that proposed such a block right before it restarted (an operator
/// restarting it with a rotated key, when the epoch that names the key begins) would otherwise
/// not have it when a peer that got only the compact proposal asks for its body, and the peer
/// would mark an honest proposer (reconfiguration release seed 4,019,174).
fn kept_for_fetches(
    core: &Core<TxBatch, TxBatchValidator>,
    persisted: Vec<Block<TxBatch>>,
) -> VecDeque<Block<TxBatch>> {
    let mut dropped: Vec<Block<TxBatch>> = persisted
        .into_iter()
        .filter(|b| core.block(&b.id()).is_none())
        .collect();
    dropped.sort_by_key(|b| (b.height(), b.round()));
    let skip = dropped.len().saturating_sub(OWN_PROPOSALS_KEPT);
    dropped.into_iter().skip(skip).collect()
}

/// The first height of the core's epoch: 1 for epoch 0, else the one after its root block;
/// `None` when the store does not hold the root block.
fn epoch_first_height<S: NodeStore>(
    store: &S,
    core: &Core<TxBatch, TxBatchValidator>,
) -> Result<Option<u64>, EngineError<S::Error>> {
    if core.epoch() == 0 {
        return Ok(Some(1));
    }
    let root = core.epoch_root();
    Ok(store
        .block_height(&root)
        .map_err(EngineError::Store)?
        .map(|h| h + 1))
}

/// The mempool's view of the committed ledger.
pub(crate) struct StoreView<'a, S>(pub &'a S);

impl<S: NodeStore> crate::mempool::LedgerView for StoreView<'_, S> {
    fn next_sequence(&self, account: &ledger::PublicKey) -> u64 {
        // A read error here only makes the mempool's pre-check less precise; execution decides.
        ledger::execute::next_sequence(self.0, account).unwrap_or(0)
    }
    fn is_committed(&self, tx: &Hash) -> bool {
        self.0.is_committed(tx).unwrap_or(false)
    }
}

/// Who the node talks to as a validator: the current epoch's set and the one before (its
/// members still certify that epoch's last heights, a rotated key signing with its old key).
/// The same at start as after a change, or a restarted node refuses, and marks, the old-key
/// checkpoint votes every other node takes.
fn book_of<P: Peer>(epochs: &EpochViews, parse: impl Fn(&str) -> Option<P>) -> PeerBook<P> {
    let sets: Vec<&[ledger::genesis::Validator]> = epochs
        .sets()
        .into_iter()
        .map(|s| s.validators.as_slice())
        .collect();
    PeerBook::from_sets(&sets, parse)
}
