//! The composed libp2p behaviour and the swarm built from it: TCP + noise + yamux, the
//! allow-list (refuses unknown peers at connection establishment), connection limits,
//! identify, ping, gossipsub for transactions, long-lived streams for consensus (`links.rs`),
//! request-response for sync.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use libp2p::identity::Keypair;
use libp2p::swarm::NetworkBehaviour;
use libp2p::{
    allow_block_list, connection_limits, gossipsub, identify, noise, ping, request_response, tcp,
    yamux, StreamProtocol, Swarm, SwarmBuilder,
};

use super::codec::BytesCodec;
use super::config::Limits;
use super::event::Counters;
use super::NetworkError;

pub const SYNC_PROTOCOL: StreamProtocol = StreamProtocol::new("/waybill/sync/1");
pub const TX_TOPIC: &str = "waybill/tx/2";
const IDENTIFY_PROTOCOL: &str = "/waybill/id/1";
/// Room for the gossipsub envelope (topic, framing) around a message of the maximum size.
const GOSSIP_ENVELOPE: usize = 4 << 10;

#[derive(NetworkBehaviour)]
pub(crate) struct Behaviour {
    pub allow: allow_block_list::Behaviour<allow_block_list::AllowedPeers>,
    pub limits: connection_limits::Behaviour,
    pub identify: identify::Behaviour,
    pub ping: ping::Behaviour,
    pub gossipsub: gossipsub::Behaviour,
    pub consensus: libp2p_stream::Behaviour,
    pub sync: request_response::Behaviour<BytesCodec>,
}

fn setup_err(e: impl ToString) -> NetworkError {
    NetworkError::Setup {
        reason: e.to_string(),
    }
}

/// Transactions are gossiped unsigned and without forwarding, because validators are few,
/// allow-listed and dial each other:
/// - Every transaction inside a message carries its client's signature, which every receiver
///   checks; the connection (noise) already authenticates the sending validator. A gossipsub
///   signature per message added nothing but an ed25519 signing and a verification per message
///   (a tenth of gossipsub's CPU under load).
/// - The publisher sends each message to every subscribed peer (flood publishing), and the mesh
///   is empty, so nobody forwards: in a fully connected network forwarding only delivered each
///   message two more times to every validator. A validator that misses a message (a broken
///   link) can still ask for it after the lazy gossip (IHAVE) of the others, and it receives
///   the transactions in proposals regardless.
///
/// A node that does not `subscribe` (an observer) still publishes: flood publishing sends to
/// every connected peer subscribed to the topic.
fn gossipsub(limits: &Limits, subscribe: bool) -> Result<gossipsub::Behaviour, NetworkError> {
    let config = gossipsub::ConfigBuilder::default()
        .validation_mode(gossipsub::ValidationMode::Anonymous)
        .flood_publish(true)
        .mesh_n(0)
        .mesh_n_low(0)
        .mesh_n_high(0)
        .mesh_outbound_min(0)
        // Messages are served (IWANT) only once the network task has checked their sender.
        .validate_messages()
        .max_transmit_size(limits.transaction + GOSSIP_ENVELOPE)
        .heartbeat_interval(Duration::from_millis(500))
        // Content addressing: the same transaction published by two nodes is one message.
        .message_id_fn(|m: &gossipsub::Message| {
            gossipsub::MessageId::from(blake3::hash(&m.data).as_bytes().to_vec())
        })
        .build()
        .map_err(setup_err)?;
    let mut behaviour =
        gossipsub::Behaviour::new(gossipsub::MessageAuthenticity::Anonymous, config)
            .map_err(setup_err)?;
    if subscribe {
        behaviour
            .subscribe(&gossipsub::IdentTopic::new(TX_TOPIC))
            .map_err(setup_err)?;
    }
    Ok(behaviour)
}

fn request_response(
    protocol: StreamProtocol,
    codec: BytesCodec,
    limits: &Limits,
) -> request_response::Behaviour<BytesCodec> {
    request_response::Behaviour::with_codec(
        codec,
        [(protocol, request_response::ProtocolSupport::Full)],
        request_response::Config::default()
            .with_request_timeout(limits.request_timeout)
            .with_max_concurrent_streams(limits.concurrent_streams),
    )
}

/// The connection caps for `peers` allowed peers: set at start, and again whenever the validator
/// set changes who may connect (a set that grew needs room for its new members).
pub(crate) fn connection_limits(
    peers: usize,
    limits: &Limits,
) -> connection_limits::ConnectionLimits {
    let peers = u32::try_from(peers).unwrap_or(u32::MAX);
    let per_peer = limits.connections_per_peer;
    connection_limits::ConnectionLimits::default()
        .with_max_established_per_peer(Some(per_peer))
        .with_max_established(Some(peers.saturating_mul(per_peer).max(1)))
        .with_max_pending_incoming(Some(peers.saturating_mul(2).max(8)))
}

fn behaviour(
    key: &Keypair,
    allowed: &BTreeSet<libp2p::PeerId>,
    limits: &Limits,
    counters: &Arc<Counters>,
    subscribe: bool,
) -> Result<Behaviour, NetworkError> {
    let mut allow = allow_block_list::Behaviour::<allow_block_list::AllowedPeers>::default();
    for peer in allowed {
        allow.allow_peer(*peer);
    }
    Ok(Behaviour {
        allow,
        limits: connection_limits::Behaviour::new(connection_limits(allowed.len(), limits)),
        identify: identify::Behaviour::new(
            identify::Config::new(IDENTIFY_PROTOCOL.into(), key.public())
                .with_agent_version(format!("waybill/{}", env!("CARGO_PKG_VERSION"))),
        ),
        ping: ping::Behaviour::new(ping::Config::new().with_interval(Duration::from_secs(5))),
        gossipsub: gossipsub(limits, subscribe)?,
        consensus: libp2p_stream::Behaviour::new(),
        sync: request_response(
            SYNC_PROTOCOL,
            BytesCodec {
                max_request: limits.sync_request,
                max_response: limits.sync_response,
                counters: counters.clone(),
            },
            limits,
        ),
    })
}

/// A swarm over TCP + noise + yamux running on the current tokio runtime.
pub(crate) fn build_swarm(
    key: Keypair,
    allowed: &BTreeSet<libp2p::PeerId>,
    limits: &Limits,
    counters: &Arc<Counters>,
    subscribe_transactions: bool,
) -> Result<Swarm<Behaviour>, NetworkError> {
    let behaviour = behaviour(&key, allowed, limits, counters, subscribe_transactions)?;
    let swarm = SwarmBuilder::with_existing_identity(key)
        .with_tokio()
        .with_tcp(
            tcp::Config::default().nodelay(true),
            noise::Config::new,
            yamux::Config::default,
        )
        .map_err(setup_err)?
        .with_behaviour(|_| behaviour)
        .map_err(setup_err)?
        .with_swarm_config(|c| {
            c.with_idle_connection_timeout(Duration::from_secs(60))
                .with_max_negotiating_inbound_streams(limits.concurrent_streams)
                // Every sync request is a new substream. Plain multistream-select waits for the
                // listener to confirm the protocol before the first byte of the request: a round
                // trip per request, which over a 50 ms link made a consensus round (when its
                // messages were requests too) three times as long as its two one-way hops. Lazy
                // negotiation sends the request with the proposal; every substream here offers
                // one protocol that every Waybill peer speaks (a peer that does not refuses it).
                .with_substream_upgrade_protocol_override(libp2p::core::upgrade::Version::V1Lazy)
        })
        .build();
    Ok(swarm)
}
