//! The network task: owns the swarm, executes handle commands, turns swarm events into
//! [`NetworkEvent`]s, enforces the allow-list on every inbound message, and redials.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use libp2p::futures::stream::FuturesUnordered;
use libp2p::futures::StreamExt;
use libp2p::gossipsub::{self, IdentTopic, MessageAcceptance, TopicHash};
use libp2p::request_response::{self, OutboundRequestId, ResponseChannel};
use libp2p::swarm::dial_opts::{DialOpts, PeerCondition};
use libp2p::swarm::SwarmEvent;
use libp2p::{PeerId, Swarm};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use super::behaviour::{Behaviour, BehaviourEvent, TX_TOPIC};
use super::config::Limits;
use super::event::{Counters, EventSink, NetworkEvent};
use super::handle::{Command, Shared};
use super::links::Links;
use super::redial::Redialer;
use super::NetworkError;

const REDIAL_TICK: Duration = Duration::from_millis(50);

type SyncReplySender = oneshot::Sender<Result<Vec<u8>, NetworkError>>;
type SyncReply = Pin<Box<dyn Future<Output = (Option<Vec<u8>>, ResponseChannel<Vec<u8>>)> + Send>>;

pub(crate) struct Driver {
    pub swarm: Swarm<Behaviour>,
    /// Consensus messages' streams, one per peer.
    pub links: Links,
    pub commands: mpsc::Receiver<Command>,
    pub events: EventSink,
    pub shared: Arc<Mutex<Shared>>,
    pub counters: Arc<Counters>,
    /// Who may connect now (mirrored in `Shared::allowed` for the handles).
    pub allowed: BTreeSet<PeerId>,
    /// Admitted whatever the validator set (configured observers).
    pub observers: BTreeSet<PeerId>,
    /// The validators broadcasts go to: the configured peers at start, then the current set.
    pub validators: BTreeSet<PeerId>,
    /// Whether this node takes the transaction gossip (it does while it is a validator).
    pub subscribed: bool,
    pub redialer: Redialer,
    pub limits: Limits,
    pub tx_topic: TopicHash,
    pub pending_sync: HashMap<OutboundRequestId, (PeerId, SyncReplySender)>,
    pub sync_replies: FuturesUnordered<SyncReply>,
    /// Peers' names for the log (see `NetworkConfig::names`).
    pub names: BTreeMap<PeerId, String>,
    /// Peers the engine refused for their offences, and until when (bounded by the allow-list).
    pub refused: HashMap<PeerId, Instant>,
}

impl Driver {
    /// The driver of `swarm`, with its consensus links started (see [`Links::start`]).
    pub(crate) fn new(
        swarm: Swarm<Behaviour>,
        commands: mpsc::Receiver<Command>,
        events: EventSink,
        shared: Arc<Mutex<Shared>>,
        allowed: BTreeSet<PeerId>,
        redialer: Redialer,
        limits: Limits,
    ) -> Result<Self, NetworkError> {
        let control = swarm.behaviour().consensus.new_control();
        let links = Links::start(
            control,
            shared.clone(),
            events.clone(),
            limits.consensus_message,
        )
        .map_err(|e| NetworkError::Setup {
            reason: format!("consensus links: {e}"),
        })?;
        let validators = allowed
            .iter()
            .copied()
            .filter(|p| redialer.is_target(p))
            .collect();
        let counters = events.counters().clone();
        Ok(Driver {
            swarm,
            links,
            commands,
            events,
            shared,
            counters,
            allowed,
            observers: BTreeSet::new(),
            validators,
            subscribed: true,
            redialer,
            limits,
            tx_topic: IdentTopic::new(TX_TOPIC).hash(),
            pending_sync: HashMap::new(),
            sync_replies: FuturesUnordered::new(),
            names: BTreeMap::new(),
            refused: HashMap::new(),
        })
    }

    /// How the log names `peer`: its validator name, or `?` for a peer with none.
    fn name(&self, peer: &PeerId) -> &str {
        self.names.get(peer).map_or("?", String::as_str)
    }

    pub(crate) async fn run(mut self) {
        let mut tick = tokio::time::interval(REDIAL_TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let done = loop {
            tokio::select! {
                event = self.swarm.select_next_some() => self.on_swarm_event(event),
                command = self.commands.recv() => match command {
                    Some(Command::Shutdown { done }) => break Some(done),
                    Some(command) => self.on_command(command),
                    None => break None,
                },
                Some((reply, channel)) = self.sync_replies.next(), if !self.sync_replies.is_empty() => {
                    match reply {
                        Some(bytes) => self.send_sync_response(channel, bytes),
                        None => tracing::debug!("sync request left unanswered by the application"),
                    }
                }
                _ = tick.tick() => self.redial(),
            }
        };
        for (_, (peer, reply)) in self.pending_sync.drain() {
            let _ = reply.send(Err(NetworkError::RequestFailed {
                peer,
                reason: "network shut down".into(),
            }));
        }
        // Dropping the swarm closes the listener and every connection.
        drop(self);
        tracing::info!("network stopped");
        if let Some(done) = done {
            let _ = done.send(());
        }
    }

    fn shared(&self) -> std::sync::MutexGuard<'_, Shared> {
        self.shared.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn reject(&self, peer: &PeerId, what: &str, why: &str) {
        Counters::bump(&self.counters.rejected_messages);
        tracing::warn!(name = self.name(peer), %peer, what, why, "inbound message rejected");
    }

    /// Whether `peer` is refused for its offences right now (expired refusals are forgotten).
    fn is_refused(&mut self, peer: &PeerId) -> bool {
        let now = Instant::now();
        self.refused.retain(|_, until| *until > now);
        self.refused.contains_key(peer)
    }

    fn redial(&mut self) {
        for (peer, addrs) in self.redialer.due(Instant::now()) {
            if self.is_refused(&peer) {
                continue;
            }
            let opts = DialOpts::peer_id(peer)
                .addresses(addrs)
                .condition(PeerCondition::DisconnectedAndNotDialing)
                .build();
            if let Err(e) = self.swarm.dial(opts) {
                tracing::debug!(%peer, error = %e, "dial not started");
                if !self.swarm.is_connected(&peer) {
                    self.redialer.on_lost(&peer, Instant::now());
                }
            }
        }
    }

    fn on_command(&mut self, command: Command) {
        let b = self.swarm.behaviour_mut();
        match command {
            Command::SendConsensus { to, bytes } => {
                // Only over a live connection: a link to a peer that is away would dial it and
                // hold the message for the open's timeout, which no round waits for.
                if self.shared().connected.contains(&to) {
                    self.links.send(to, Arc::new(super::codec::frame(&bytes)));
                } else {
                    Counters::bump(&self.counters.failed_sends);
                }
            }
            Command::BroadcastConsensus { bytes } => {
                let connected = self.shared().connected.clone();
                let frame = Arc::new(super::codec::frame(&bytes));
                for peer in self.validators.intersection(&connected) {
                    self.links.send(*peer, frame.clone());
                }
            }
            Command::PublishTx { bytes } => {
                if let Err(e) = b.gossipsub.publish(self.tx_topic.clone(), bytes) {
                    // Duplicate (already gossiped) and no-peers are normal in a small network.
                    tracing::debug!(error = %e, "transaction not published");
                }
            }
            Command::RequestSync { to, bytes, reply } => {
                let id = b.sync.send_request(&to, bytes);
                self.pending_sync.insert(id, (to, reply));
            }
            Command::SetMembers {
                validators,
                admitted,
            } => self.set_members(validators, admitted),
            Command::Refuse { peer, until } => {
                tracing::warn!(%peer, "refusing a peer for its offences for a while");
                self.refused.insert(peer, until);
                self.links.forget(&peer);
                let _ = self.swarm.disconnect_peer_id(peer);
            }
            Command::Shutdown { .. } => unreachable!("handled by the run loop"),
        }
    }

    /// A new validator set: admit its peers, drop those no longer admitted, broadcast to the
    /// new validators, and take the transaction gossip only while one of them.
    fn set_members(&mut self, validators: BTreeSet<PeerId>, admitted: BTreeSet<PeerId>) {
        let me = *self.swarm.local_peer_id();
        let mut allowed: BTreeSet<PeerId> = admitted.union(&self.observers).copied().collect();
        allowed.remove(&me);
        let added: Vec<PeerId> = allowed.difference(&self.allowed).copied().collect();
        let removed: Vec<PeerId> = self.allowed.difference(&allowed).copied().collect();
        let b = self.swarm.behaviour_mut();
        for peer in &added {
            b.allow.allow_peer(*peer);
        }
        for peer in &removed {
            // Closes its connections; their close events pass unseen (it is no longer
            // allowed), so it leaves the connected set here.
            b.allow.disallow_peer(*peer);
        }
        if !added.is_empty() || !removed.is_empty() {
            tracing::info!(
                ?added,
                ?removed,
                "the validator set changed who may connect"
            );
        }
        for peer in &removed {
            self.links.forget(peer);
            let was_connected = {
                let mut shared = self.shared();
                shared.tx_topic_peers.remove(peer);
                shared.connected.remove(peer)
            };
            if was_connected {
                self.events.emit(NetworkEvent::PeerDisconnected(*peer));
            }
        }
        *self.swarm.behaviour_mut().limits.limits_mut() =
            super::behaviour::connection_limits(allowed.len(), &self.limits);
        self.shared().allowed = allowed.clone();
        self.allowed = allowed;
        let member = validators.contains(&me);
        self.validators = validators;
        self.validators.remove(&me);
        let topic = IdentTopic::new(TX_TOPIC);
        let gossip = &mut self.swarm.behaviour_mut().gossipsub;
        if member && !self.subscribed {
            match gossip.subscribe(&topic) {
                Ok(_) => {
                    tracing::info!("now a validator: taking the transaction gossip");
                    self.subscribed = true;
                }
                Err(e) => tracing::error!(error = %e, "could not take the transaction gossip"),
            }
        } else if !member && self.subscribed {
            gossip.unsubscribe(&topic);
            tracing::info!("no longer a validator: leaving the transaction gossip");
            self.subscribed = false;
        }
    }

    fn send_sync_response(&mut self, channel: ResponseChannel<Vec<u8>>, bytes: Vec<u8>) {
        if bytes.len() > self.limits.sync_response {
            tracing::error!(
                len = bytes.len(),
                max = self.limits.sync_response,
                "sync response exceeds the limit; not sent"
            );
            return;
        }
        if self
            .swarm
            .behaviour_mut()
            .sync
            .send_response(channel, bytes)
            .is_err()
        {
            tracing::debug!("sync requester went away before the response");
        }
    }

    fn on_swarm_event(&mut self, event: SwarmEvent<BehaviourEvent>) {
        match event {
            SwarmEvent::Behaviour(event) => self.on_behaviour_event(event),
            SwarmEvent::ConnectionEstablished {
                peer_id,
                num_established,
                endpoint,
                ..
            } => {
                if !self.allowed.contains(&peer_id) {
                    // The allow-list behaviour refuses these; never trust a single layer.
                    tracing::error!(%peer_id, "connection from a peer that is not allowed; closing");
                    let _ = self.swarm.disconnect_peer_id(peer_id);
                    return;
                }
                if self.is_refused(&peer_id) {
                    tracing::debug!(%peer_id, "connection from a refused peer; closing");
                    let _ = self.swarm.disconnect_peer_id(peer_id);
                    return;
                }
                self.redialer.on_connected(&peer_id, Instant::now());
                if num_established.get() == 1 {
                    tracing::info!(peer = self.name(&peer_id), %peer_id, addr = %endpoint.get_remote_address(), "peer connected");
                    self.shared().connected.insert(peer_id);
                    self.events.emit(NetworkEvent::PeerConnected(peer_id));
                }
            }
            SwarmEvent::ConnectionClosed {
                peer_id,
                num_established: 0,
                cause,
                ..
            } if self.allowed.contains(&peer_id) => {
                tracing::info!(peer = self.name(&peer_id), %peer_id, cause = ?cause.map(|c| c.to_string()), "peer disconnected");
                {
                    let mut shared = self.shared();
                    shared.connected.remove(&peer_id);
                    shared.tx_topic_peers.remove(&peer_id);
                }
                self.redialer.on_lost(&peer_id, Instant::now());
                self.events.emit(NetworkEvent::PeerDisconnected(peer_id));
            }
            SwarmEvent::OutgoingConnectionError {
                peer_id: Some(peer),
                error,
                ..
            } => {
                tracing::debug!(%peer, %error, "dial failed");
                if !self.swarm.is_connected(&peer) {
                    self.redialer.on_lost(&peer, Instant::now());
                }
            }
            SwarmEvent::IncomingConnectionError {
                send_back_addr,
                error,
                ..
            } => {
                tracing::info!(addr = %send_back_addr, %error, "incoming connection refused or failed");
            }
            SwarmEvent::NewListenAddr { address, .. } => {
                tracing::info!(%address, "listening");
                self.shared().listen_addrs.push(address);
            }
            SwarmEvent::ExpiredListenAddr { address, .. } => {
                self.shared().listen_addrs.retain(|a| a != &address);
            }
            SwarmEvent::ListenerError { error, .. } => {
                tracing::error!(%error, "listener error");
            }
            _ => {}
        }
    }

    fn on_behaviour_event(&mut self, event: BehaviourEvent) {
        match event {
            BehaviourEvent::Gossipsub(event) => self.on_gossip(event),
            BehaviourEvent::Sync(event) => self.on_sync(event),
            BehaviourEvent::Identify(_)
            | BehaviourEvent::Ping(_)
            | BehaviourEvent::Consensus(()) => {}
            BehaviourEvent::Allow(never) => match never {},
            BehaviourEvent::Limits(never) => match never {},
        }
    }

    fn on_gossip(&mut self, event: gossipsub::Event) {
        match event {
            gossipsub::Event::Message {
                propagation_source,
                message_id,
                message,
            } => {
                let verdict = gossip_verdict(
                    &self.allowed,
                    &self.tx_topic,
                    self.limits.transaction,
                    &propagation_source,
                    &message,
                );
                let acceptance = match verdict {
                    Ok(()) => MessageAcceptance::Accept,
                    Err(why) => {
                        self.reject(&propagation_source, "gossip", why);
                        MessageAcceptance::Reject
                    }
                };
                let accepted = matches!(acceptance, MessageAcceptance::Accept);
                self.swarm
                    .behaviour_mut()
                    .gossipsub
                    .report_message_validation_result(&message_id, &propagation_source, acceptance);
                if accepted {
                    let from = message.source.unwrap_or(propagation_source);
                    self.events.emit(NetworkEvent::Transaction {
                        from,
                        bytes: message.data,
                    });
                }
            }
            gossipsub::Event::Subscribed { peer_id, topic } if topic == self.tx_topic => {
                self.shared().tx_topic_peers.insert(peer_id);
            }
            gossipsub::Event::Unsubscribed { peer_id, topic } if topic == self.tx_topic => {
                self.shared().tx_topic_peers.remove(&peer_id);
            }
            _ => {}
        }
    }

    fn on_sync(&mut self, event: request_response::Event<Vec<u8>, Vec<u8>>) {
        match event {
            request_response::Event::Message {
                peer,
                message:
                    request_response::Message::Request {
                        request, channel, ..
                    },
                ..
            } => {
                if !self.allowed.contains(&peer) {
                    self.reject(&peer, "sync request", "peer not allowed");
                    return;
                }
                if self.sync_replies.len() >= self.limits.pending_sync_replies {
                    tracing::warn!(%peer, "too many sync requests awaiting replies; request dropped");
                    Counters::bump(&self.counters.dropped_events);
                    return;
                }
                let (reply, rx) = oneshot::channel();
                let timeout = self.limits.request_timeout;
                self.sync_replies.push(Box::pin(async move {
                    let bytes = tokio::time::timeout(timeout, rx)
                        .await
                        .ok()
                        .and_then(Result::ok);
                    (bytes, channel)
                }));
                self.events.emit(NetworkEvent::SyncRequest {
                    from: peer,
                    bytes: request,
                    reply,
                });
            }
            request_response::Event::Message {
                peer,
                message:
                    request_response::Message::Response {
                        request_id,
                        response,
                    },
                ..
            } => {
                if let Some((_, reply)) = self.pending_sync.remove(&request_id) {
                    let _ = reply.send(Ok(response));
                } else {
                    tracing::debug!(%peer, "sync response for an unknown request");
                }
            }
            request_response::Event::OutboundFailure {
                peer,
                request_id,
                error,
                ..
            } => {
                Counters::bump(&self.counters.failed_sends);
                if let Some((_, reply)) = self.pending_sync.remove(&request_id) {
                    let _ = reply.send(Err(NetworkError::RequestFailed {
                        peer,
                        reason: error.to_string(),
                    }));
                }
            }
            request_response::Event::InboundFailure { peer, error, .. } => {
                self.on_inbound_failure(peer, "sync", error);
            }
            request_response::Event::ResponseSent { .. } => {}
        }
    }

    fn on_inbound_failure(
        &mut self,
        peer: PeerId,
        what: &str,
        error: request_response::InboundFailure,
    ) {
        match error {
            request_response::InboundFailure::Io(e) => self.reject(&peer, what, &e.to_string()),
            other => tracing::debug!(%peer, what, error = %other, "inbound request failed"),
        }
    }
}

/// Whether a gossiped message may be delivered and served to others: it must come from an
/// allowed peer, on the transaction topic, within the size limit. Messages carry no author (see
/// `behaviour::gossipsub`): the transactions inside are signed by their clients.
fn gossip_verdict(
    allowed: &BTreeSet<PeerId>,
    tx_topic: &TopicHash,
    max_len: usize,
    propagation_source: &PeerId,
    message: &gossipsub::Message,
) -> Result<(), &'static str> {
    if !allowed.contains(propagation_source) {
        Err("forwarded by a peer that is not allowed")
    } else if &message.topic != tx_topic {
        Err("unknown topic")
    } else if message.data.len() > max_len {
        Err("transaction too large")
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gossip_from_unknown_peers_on_other_topics_or_too_large_is_rejected() {
        let (a, b, x) = (PeerId::random(), PeerId::random(), PeerId::random());
        let allowed: BTreeSet<PeerId> = [a, b].into();
        let topic = IdentTopic::new(TX_TOPIC).hash();
        let msg = |source: Option<PeerId>, topic: &TopicHash, len: usize| gossipsub::Message {
            source,
            data: vec![0; len],
            sequence_number: Some(1),
            topic: topic.clone(),
        };
        let verdict =
            |via: &PeerId, m: &gossipsub::Message| gossip_verdict(&allowed, &topic, 10, via, m);
        assert_eq!(verdict(&a, &msg(None, &topic, 10)), Ok(()));
        assert_eq!(verdict(&b, &msg(None, &topic, 1)), Ok(()));
        assert!(
            verdict(&x, &msg(None, &topic, 1)).is_err(),
            "sent by an unknown peer"
        );
        assert!(verdict(&a, &msg(None, &topic, 11)).is_err(), "too large");
        let other = IdentTopic::new("other").hash();
        assert!(verdict(&a, &msg(None, &other, 1)).is_err(), "wrong topic");
    }
}
