//! A Byzantine validator for the real-process tests. Test code only: nothing of it is in the
//! `waybill` binary or the `waybill-node` library.
//!
//! It joins a network of real `waybill` processes as one of the genesis validators, with that
//! validator's own keys and listen address, and speaks the real protocols over libp2p through
//! the node's own network layer (`waybill_node::network`) and wire formats (`engine::wire`).
//! Inside runs the honest engine (`engine::Node` over an in-memory store), so it follows the
//! chain, votes and leads with valid signatures; switches ([`Behaviour`]) make it lie:
//! `Shell::twist` rewrites what its engine sends, `Shell::on_sync_request` answers peers'
//! questions itself, and `Shell::inject` sends what no honest engine would (`forge` builds the
//! lies).
//!
//! Ten serious offences within a few seconds get a peer refused (`engine::offences`). Every
//! behaviour but [`Behaviour::Flood`] is paced to one offence per honest peer every [`PACE`],
//! below the rate at which the score drains, so a phase shows its offences counted without a
//! refusal cutting the phase short; `Flood` is not paced, to pass the threshold.

mod forge;

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use consensus::ConsensusMsg;
use engine::mem_store::MemStore;
use engine::mempool::{Mempool, SharedMempool};
use engine::wire::{self, SyncRequest, SyncResponse, WireConsensus};
use engine::{Effect, Event, Node, NodeConfig, NodeStore, ReplyId, RequestFailed, RequestId};
use ledger::ceremony::GenesisFile;
use ledger::keyfile::read_key_file;
use ledger::{Genesis, Hash, KeyPair, SignedTransaction};
use tokio::sync::{mpsc, oneshot, watch};
use waybill_node::driver::now_ms;
use waybill_node::genesis_peers::GenesisPeers;
use waybill_node::localnet::LocalNode;
use waybill_node::network::{
    Backoff, Multiaddr, Network, NetworkConfig, NetworkEvent, NetworkHandle, PeerId,
};

/// Offence-worthy messages go to one honest peer at most this often (the score drains one
/// serious offence a second).
const PACE: Duration = Duration::from_millis(1_500);
/// How often the peer injects what its engine would never send.
const TICK: Duration = Duration::from_millis(50);
/// Calls a lying peer makes at once for what its engine owes itself (commits, loopback).
const MAX_CALLS_OWED: usize = 4;
/// Catch-up requests held for a lie at most at once, and for how long.
const MAX_HELD: usize = 16;
const HELD_FOR: Duration = Duration::from_secs(6);
/// Messages kept for replays.
const MAX_SEEN: usize = 64;
/// Checkpoint votes sent to each honest peer per tick while flooding them.
const VOTES_PER_TICK: u64 = 8;
/// Garbage consensus messages sent to each honest peer per tick while flooding.
const FLOOD_PER_TICK: usize = 12;

/// What the Byzantine validator does besides following the protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Behaviour {
    /// Bytes that do not decode, on the consensus protocol, as sync requests, as gossip, and as
    /// its answers to peers' sync requests.
    Garbage,
    /// When it leads, one proposal to one peer and another to the others; in every round it
    /// votes in, a second vote for another block.
    Equivocate,
    /// When it leads, a whole proposal of about 3.6 MiB of valid transactions: inside the
    /// consensus message limit, over a block's byte limit.
    OversizeBlocks,
    /// Claims a head far ahead of the chain; answers catch-up with the blocks it committed
    /// first, lying about them (a wrong accumulator root, a forged certificate, another fork's
    /// block), or with the wrong kind of answer; forged ledger certificates.
    LyingSync,
    /// Checkpoint votes in bulk: far in the future, for wrong checkpoints, the same again, and
    /// with bad signatures.
    CheckpointFlood,
    /// Its own old messages again, honest validators' messages passed off as its own, and
    /// messages signed for another chain.
    Replay,
    /// Votes for nothing and proposes nothing.
    Silent,
    /// Garbage as fast as it can, unpaced: past the offence threshold.
    Flood,
}

/// What the test shares with the running peer.
#[derive(Default)]
struct Control {
    on: BTreeSet<Behaviour>,
    /// What it did, by description (so a test knows a behaviour really happened).
    done: BTreeMap<&'static str, u64>,
    /// Why its own engine stopped, if it did.
    stopped: Option<String>,
}

pub struct ByzantinePeer {
    pub peer_id: PeerId,
    net: NetworkHandle,
    control: Arc<Mutex<Control>>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl ByzantinePeer {
    /// Starts validator `node` (not running as a process) as a Byzantine peer, every behaviour
    /// off.
    pub async fn start(node: &LocalNode) -> ByzantinePeer {
        let config = &node.config;
        let file = GenesisFile::read(&config.node.genesis).unwrap();
        let genesis = file.genesis.clone();
        let peers = GenesisPeers::from_file(&file);
        let key = read_key_file(&config.node.consensus_key).unwrap();
        let network_key = read_key_file(&config.node.network_key).unwrap();
        let listen = Multiaddr::from_str(&config.network.listen).unwrap();
        let mut net_config = NetworkConfig::new(network_key.secret_bytes(), listen);
        net_config.peers = peers.dial.clone();
        net_config.names = peers.names.clone();
        // Back as soon as it is let back in.
        net_config.backoff = Backoff {
            initial: Duration::from_millis(100),
            max: Duration::from_millis(500),
        };
        let (net, events) = Network::start(net_config).await.unwrap();
        let me = net.local_peer_id();
        let honest = peers.names.keys().filter(|p| **p != me).copied().collect();

        let mempool = SharedMempool::new(Mempool::new(
            genesis.chain_id.clone(),
            config.mempool.limits(),
        ));
        let store = MemStore::new(&genesis);
        let engine_config = NodeConfig {
            genesis: genesis.clone(),
            key: KeyPair::from_secret(key.secret_bytes()),
            mempool: mempool.clone(),
        };
        let (engine, effects) = Node::start(
            engine_config,
            store.clone(),
            |s| PeerId::from_str(s).ok(),
            now_ms(),
        )
        .unwrap();
        let control = Arc::new(Mutex::new(Control::default()));
        let (responses, responses_rx) = mpsc::channel(256);
        let mut shell = Shell {
            engine,
            store,
            mempool,
            key,
            chain: genesis.hash(),
            genesis,
            honest,
            net: net.clone(),
            control: control.clone(),
            replies: HashMap::new(),
            next_reply: 0,
            responses,
            held: Vec::new(),
            paced: HashMap::new(),
            seen: VecDeque::new(),
            big: Vec::new(),
            count: 0,
        };
        shell.carry_out(effects);
        let (stop, stop_rx) = watch::channel(false);
        let task = tokio::spawn(shell.run(events, responses_rx, stop_rx));
        ByzantinePeer {
            peer_id: me,
            net,
            control,
            stop,
            task,
        }
    }

    /// Switches to exactly these behaviours.
    pub fn set(&self, behaviours: &[Behaviour]) {
        self.lock().on = behaviours.iter().copied().collect();
    }

    /// How many times it did `what` (one of the descriptions `forge` and the shell note).
    pub fn done(&self, what: &str) -> u64 {
        self.lock().done.get(what).copied().unwrap_or(0)
    }

    /// Everything it did, for messages.
    pub fn report(&self) -> String {
        let c = self.lock();
        format!("did {:?}; engine stopped: {:?}", c.done, c.stopped)
    }

    pub fn connected_peers(&self) -> Vec<PeerId> {
        self.net.connected_peers()
    }

    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
        self.net.shutdown().await;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Control> {
        self.control.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A peer's catch-up request, held until this validator has committed blocks the peer lacks.
struct Held {
    from_height: u64,
    since: Instant,
    reply: oneshot::Sender<Vec<u8>>,
}

struct Shell {
    engine: Node<PeerId, MemStore>,
    store: MemStore,
    mempool: SharedMempool,
    /// The validator's consensus key, for what the engine would never sign.
    key: KeyPair,
    genesis: Genesis,
    chain: Hash,
    honest: Vec<PeerId>,
    net: NetworkHandle,
    control: Arc<Mutex<Control>>,
    replies: HashMap<ReplyId, oneshot::Sender<Vec<u8>>>,
    next_reply: u64,
    responses: mpsc::Sender<(RequestId, Result<Vec<u8>, RequestFailed>)>,
    held: Vec<Held>,
    /// When each honest peer last got something offence-worthy.
    paced: HashMap<PeerId, Instant>,
    /// Consensus messages received and sent, for replays.
    seen: VecDeque<(PeerId, Vec<u8>)>,
    /// Large valid transactions, made once.
    big: Vec<SignedTransaction>,
    /// Turns of the rotations (which lie, which protocol, which junk).
    count: u64,
}

type Effects = Vec<Effect<PeerId>>;

impl Shell {
    async fn run(
        mut self,
        mut events: mpsc::Receiver<NetworkEvent>,
        mut responses: mpsc::Receiver<(RequestId, Result<Vec<u8>, RequestFailed>)>,
        mut stop: watch::Receiver<bool>,
    ) {
        let mut tick = tokio::time::interval(TICK);
        loop {
            let wake = tokio::time::sleep(Duration::from_millis(
                self.engine.next_wake().saturating_sub(now_ms()),
            ));
            let step = tokio::select! {
                _ = stop.changed() => return,
                Some(event) = events.recv() => self.on_network(event),
                Some((id, result)) = responses.recv() => {
                    self.handle(Event::SyncResponse { id, result })
                }
                _ = wake => self.handle(Event::Wake),
                _ = tick.tick() => {
                    self.inject();
                    Ok(())
                }
            };
            if let Err(e) = step {
                self.lock().stopped = Some(e);
                return;
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Control> {
        self.control.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn on(&self, b: Behaviour) -> bool {
        self.lock().on.contains(&b)
    }

    fn note(&self, what: &'static str) {
        *self.lock().done.entry(what).or_insert(0) += 1;
    }

    /// Whether `peer` may get something offence-worthy now (and if so, the pace starts again).
    fn may_offend(&mut self, peer: PeerId) -> bool {
        if self.on(Behaviour::Flood) {
            return true;
        }
        let now = Instant::now();
        match self.paced.get(&peer) {
            Some(at) if now.duration_since(*at) < PACE => false,
            _ => {
                self.paced.insert(peer, now);
                true
            }
        }
    }

    fn turn(&mut self) -> u64 {
        self.count += 1;
        self.count
    }

    fn handle(&mut self, event: Event<PeerId>) -> Result<(), String> {
        let now = now_ms();
        let mut effects = self.engine.handle(now, event).map_err(|e| e.to_string())?;
        if self.on(Behaviour::LyingSync) {
            // An honest engine applies a commit on its next call, after the proposal this call
            // made has left. The liar applies it first, so that its store holds the block the
            // others learn of only from that proposal, which it then withholds (`answer_held`):
            // it stays a block ahead of the nodes it lies to.
            for _ in 0..MAX_CALLS_OWED {
                if self.engine.next_wake() > now {
                    break;
                }
                let owed = self
                    .engine
                    .handle(now, Event::Wake)
                    .map_err(|e| e.to_string())?;
                effects.extend(owed);
            }
        }
        let effects = self.twist(effects);
        self.carry_out(effects);
        Ok(())
    }

    fn on_network(&mut self, event: NetworkEvent) -> Result<(), String> {
        match event {
            NetworkEvent::Consensus { from, bytes } => {
                self.remember(from, &bytes);
                self.handle(Event::Consensus { from, bytes })
            }
            // It takes gossiped transactions like any validator: an engine with nothing to order
            // holds its proposal, and a leader that never proposed would show none of the
            // proposal behaviours.
            NetworkEvent::Transaction { bytes, .. } => self.admit_gossip(&bytes),
            NetworkEvent::SyncRequest { from, bytes, reply } => {
                self.on_sync_request(from, bytes, reply)
            }
            NetworkEvent::PeerConnected(peer) => self.handle(Event::PeerConnected(peer)),
            NetworkEvent::PeerDisconnected(peer) => {
                self.note("disconnected by a peer");
                self.handle(Event::PeerDisconnected(peer))
            }
        }
    }

    /// Admits a gossip batch's transactions to its mempool (they came from honest validators,
    /// which verified them) and tells its engine.
    fn admit_gossip(&mut self, bytes: &[u8]) -> Result<(), String> {
        let Ok(batch) = waybill_node::gossip::decode_batch(bytes) else {
            return Ok(());
        };
        let now = now_ms();
        let mut admitted = false;
        {
            let mut pool = self.mempool.lock();
            for tx in batch
                .iter()
                .filter_map(|b| SignedTransaction::from_bytes(b).ok())
            {
                admitted |= pool.admit_gossiped(tx, &Ledger(&self.store), now).is_ok();
            }
        }
        if admitted {
            self.handle(Event::TxAdmitted)?;
        }
        Ok(())
    }

    fn remember(&mut self, from: PeerId, bytes: &[u8]) {
        if self.seen.len() >= MAX_SEEN {
            self.seen.pop_front();
        }
        self.seen.push_back((from, bytes.to_vec()));
    }

    fn carry_out(&mut self, effects: Effects) {
        for effect in effects {
            match effect {
                Effect::Send { to, bytes } => {
                    let _ = self.net.send_consensus(to, bytes);
                }
                Effect::Broadcast { bytes } => {
                    let _ = self.net.broadcast_consensus(bytes);
                }
                Effect::Request { to, id, bytes } => {
                    let response = self.net.request_sync(to, bytes);
                    let responses = self.responses.clone();
                    tokio::spawn(async move {
                        let result = response.await.map_err(|e| RequestFailed {
                            reason: e.to_string(),
                        });
                        if let Some(id) = id {
                            let _ = responses.send((id, result)).await;
                        }
                    });
                }
                Effect::Reply { to, bytes } => {
                    if let Some(reply) = self.replies.remove(&to) {
                        let _ = reply.send(bytes);
                    }
                }
                // Gossip it got is the others' to offer again; it takes no client's.
                // Nor does it follow the set: it lies as one genesis validator.
                Effect::Committed(_) | Effect::Gossip { .. } | Effect::Members { .. } => {}
                Effect::Disconnect { peer, until } => {
                    let wait = Duration::from_millis(until.saturating_sub(now_ms()));
                    self.net.refuse(peer, tokio::time::Instant::now() + wait);
                }
            }
        }
    }

    /// A peer's sync request: the engine answers it unless a behaviour lies.
    fn on_sync_request(
        &mut self,
        from: PeerId,
        bytes: Vec<u8>,
        reply: oneshot::Sender<Vec<u8>>,
    ) -> Result<(), String> {
        // Paced like every other offence: honest peers ask often when they must (each of its
        // compact proposals a peer cannot rebuild is a fetch), and unpaced garbage answers on a
        // loaded machine passed the threshold mid-phase (CI, stop 37). Between paced ones, its
        // engine answers honestly.
        if self.on(Behaviour::Garbage) && self.may_offend(from) {
            let junk = forge::junk(self.turn(), 40);
            let _ = reply.send(junk);
            self.note("garbage answer");
            return Ok(());
        }
        if self.on(Behaviour::LyingSync) {
            match wire::decode_request(&bytes) {
                Ok(SyncRequest::Head) => {
                    let head = self.store.head().map_or(0, |h| h.height);
                    let lie = SyncResponse::Head {
                        height: head + 1_000,
                        hash: Hash([7; 32]),
                    };
                    let _ = reply.send(wire::encode_response(&lie));
                    self.note("head far ahead");
                    return Ok(());
                }
                Ok(SyncRequest::Committed { from_height, .. }) if self.held.len() < MAX_HELD => {
                    self.held.push(Held {
                        from_height,
                        since: Instant::now(),
                        reply,
                    });
                    return Ok(());
                }
                Ok(SyncRequest::LedgerCertificates { from_height, max }) => {
                    let certs = forge::forged_certificates(&self.store, from_height, max);
                    let answer = SyncResponse::LedgerCertificates(certs);
                    let _ = reply.send(wire::encode_response(&answer));
                    self.note("forged ledger certificates");
                    return Ok(());
                }
                _ => {}
            }
        }
        let id = ReplyId(self.next_reply);
        self.next_reply += 1;
        self.replies.insert(id, reply);
        let result = self.handle(Event::SyncRequest {
            from,
            bytes,
            reply: id,
        });
        self.replies.remove(&id);
        result
    }

    /// What its engine sends, rewritten by the behaviours that are on.
    fn twist(&mut self, effects: Effects) -> Effects {
        let mut out = Vec::new();
        for effect in effects {
            let (to, bytes) = match &effect {
                Effect::Send { to, bytes } => (Some(*to), bytes.clone()),
                Effect::Broadcast { bytes } => (None, bytes.clone()),
                _ => {
                    out.push(effect);
                    continue;
                }
            };
            let me = self.net.local_peer_id();
            self.remember(me, &bytes);
            match (wire::decode_consensus(&bytes), to) {
                (Ok(WireConsensus::Compact(compact)), _) => {
                    out.extend(self.twist_proposal(compact, effect));
                }
                (Ok(WireConsensus::Full(ConsensusMsg::SyncInfo(_))), None)
                    if self.on(Behaviour::LyingSync) =>
                {
                    // A leader with nothing to order shares the certificate it formed, which
                    // commits a block; the liar keeps it, to stay a block ahead of the honest
                    // nodes it lies to about that block.
                    self.note("certificate withheld");
                }
                (Ok(WireConsensus::Full(ConsensusMsg::Vote(vote))), Some(to)) => {
                    if self.on(Behaviour::Silent) {
                        self.note("vote withheld");
                        continue;
                    }
                    out.push(effect);
                    if self.on(Behaviour::Equivocate) && self.may_offend(to) {
                        let turn = self.turn();
                        let other = forge::other_vote(&vote, &self.key, turn);
                        out.push(Effect::Send {
                            to,
                            bytes: wire::encode_consensus(&ConsensusMsg::Vote(other)),
                        });
                        self.note("second vote in a round");
                    }
                }
                _ => out.push(effect),
            }
        }
        out
    }

    /// Its own proposal (its engine leads this round), rewritten.
    fn twist_proposal(
        &mut self,
        compact: wire::CompactProposal,
        original: Effect<PeerId>,
    ) -> Effects {
        if self.on(Behaviour::LyingSync) && self.answer_held() {
            // The peers it lied to must not get the blocks it lied about from this proposal
            // first: it proposes nothing this round.
            self.note("proposal withheld after a lie");
            return vec![];
        }
        if self.on(Behaviour::Silent) {
            self.note("proposal withheld");
            return vec![];
        }
        let Some(proposal) = ({
            let pool = self.mempool.lock();
            compact.rebuild(|h| pool.get(h).cloned())
        }) else {
            return vec![original];
        };
        let whole = |p: &consensus::Proposal<engine::payload::TxBatch>| {
            wire::encode_consensus(&ConsensusMsg::Proposal(p.clone()))
        };
        if self.on(Behaviour::OversizeBlocks) {
            if self.big.is_empty() {
                self.big = forge::big_transactions(&self.genesis.chain_id);
            }
            let oversized = forge::resign(self.chain, &proposal, self.big.clone(), &self.key);
            let mut out = Vec::new();
            for peer in self.honest.clone() {
                let bytes = if self.may_offend(peer) {
                    self.note("oversized proposal");
                    whole(&oversized)
                } else {
                    whole(&proposal)
                };
                out.push(Effect::Send { to: peer, bytes });
            }
            return out;
        }
        if self.on(Behaviour::Equivocate) {
            let mut txs = proposal.block.payload.txs.as_ref().clone();
            let turn = self.turn();
            txs.push(forge::stray_memo(&self.genesis.chain_id, turn));
            let other = forge::resign(self.chain, &proposal, txs, &self.key);
            self.note("different proposals to different peers");
            return self
                .honest
                .iter()
                .enumerate()
                .map(|(i, peer)| Effect::Send {
                    to: *peer,
                    bytes: whole(if i == 0 { &proposal } else { &other }),
                })
                .collect();
        }
        vec![original]
    }

    /// Answers the held catch-up requests it can (it holds blocks past their start) with a lie
    /// about those blocks; returns whether it answered any.
    fn answer_held(&mut self) -> bool {
        let head = self.store.head().map_or(0, |h| h.height);
        let (ready, waiting): (Vec<Held>, Vec<Held>) = std::mem::take(&mut self.held)
            .into_iter()
            .partition(|h| h.from_height <= head);
        self.held = waiting;
        let answered = !ready.is_empty();
        for held in ready {
            let mut records = forge::committed_blocks(&self.store, held.from_height, head);
            let lie = forge::lie_about(&mut records, self.turn());
            self.note(lie);
            let answer = SyncResponse::Committed(records.iter().map(|r| r.to_bytes()).collect());
            let _ = held.reply.send(wire::encode_response(&answer));
        }
        answered
    }

    /// What no honest engine sends, every tick.
    fn inject(&mut self) {
        let peers: Vec<PeerId> = self.net.connected_peers();
        if self.on(Behaviour::Flood) {
            for &peer in &peers {
                for _ in 0..FLOOD_PER_TICK {
                    let junk = forge::junk(self.turn(), 64);
                    let _ = self.net.send_consensus(peer, junk);
                }
            }
            self.note("garbage flood");
        }
        for peer in peers {
            if self.on(Behaviour::Garbage) && self.may_offend(peer) {
                self.garbage_to(peer);
            }
            if self.on(Behaviour::Replay) {
                self.replay_to(peer);
            }
            if self.on(Behaviour::CheckpointFlood) {
                self.checkpoint_votes_to(peer);
            }
        }
        if self.on(Behaviour::LyingSync) {
            // Requests it could not lie about in time get an answer of the wrong kind.
            let (stale, fresh): (Vec<Held>, Vec<Held>) = std::mem::take(&mut self.held)
                .into_iter()
                .partition(|h| h.since.elapsed() >= HELD_FOR);
            self.held = fresh;
            for held in stale {
                let _ = held
                    .reply
                    .send(wire::encode_response(&SyncResponse::Blocks(Vec::new())));
                self.note("answer of the wrong kind");
            }
        }
    }

    /// Undecodable bytes on one protocol, the next one each time.
    fn garbage_to(&mut self, peer: PeerId) {
        let turn = self.turn();
        let junk = forge::junk(turn, 100);
        match turn % 3 {
            0 => {
                let _ = self.net.send_consensus(peer, junk);
                self.note("garbage consensus message");
            }
            1 => {
                drop(self.net.request_sync(peer, junk));
                self.note("garbage sync request");
            }
            _ => {
                let _ = self.net.publish_tx(junk);
                self.note("garbage gossip");
            }
        }
    }

    /// Old messages again: its own (stale, harmless), an honest validator's as its own, or one
    /// signed for another chain.
    fn replay_to(&mut self, peer: PeerId) {
        let me = self.net.local_peer_id();
        let own = self.seen.iter().find(|(from, _)| *from == me).cloned();
        if let Some((_, bytes)) = own {
            let _ = self.net.send_consensus(peer, bytes);
        }
        if !self.may_offend(peer) {
            return;
        }
        let relayed = self
            .seen
            .iter()
            .find(|(from, bytes)| *from != me && *from != peer && forge::is_signed(bytes))
            .cloned();
        match (self.turn() % 2, relayed) {
            (0, Some((_, bytes))) => {
                let _ = self.net.send_consensus(peer, bytes);
                self.note("honest validator's message as its own");
            }
            _ => {
                let round = self.engine.core().round();
                let vote = forge::another_chains_vote(round, &self.key);
                let _ = self
                    .net
                    .send_consensus(peer, wire::encode_consensus(&ConsensusMsg::Vote(vote)));
                self.note("vote for another chain");
            }
        }
    }

    /// Votes for checkpoints far ahead and for wrong ones (again and again), and now and then
    /// one with a bad signature.
    fn checkpoint_votes_to(&mut self, peer: PeerId) {
        let head = self.store.head().map_or(0, |h| h.height);
        for i in 0..VOTES_PER_TICK {
            let turn = self.turn();
            let height = if i % 2 == 0 {
                head + 1_000_000 + turn
            } else {
                head + 1 + turn % 8
            };
            let request = forge::checkpoint_vote(&self.genesis.chain_id, height, &self.key, false);
            drop(self.net.request_sync(peer, request));
        }
        self.note("checkpoint votes in bulk");
        if self.may_offend(peer) {
            // A height it has not voted for yet, real or forged: a second vote for a height is
            // refused as a duplicate before its signature is checked.
            let height = head + 9 + self.turn() % 6;
            let request = forge::checkpoint_vote(&self.genesis.chain_id, height, &self.key, true);
            drop(self.net.request_sync(peer, request));
            self.note("checkpoint vote with a bad signature");
        }
    }
}

/// Its mempool's view of its store.
struct Ledger<'a>(&'a MemStore);

impl engine::mempool::LedgerView for Ledger<'_> {
    fn next_sequence(&self, account: &ledger::PublicKey) -> u64 {
        ledger::execute::next_sequence(self.0, account).unwrap_or(0)
    }
    fn is_committed(&self, tx: &Hash) -> bool {
        self.0.is_committed(tx).unwrap_or(false)
    }
}
