//! Typed errors of the network layer. Every variant carries the values needed to act on it.

use libp2p::{Multiaddr, PeerId};

/// Errors returned by [`super::Network::start`] and by [`super::NetworkHandle`] methods.
#[derive(Debug, thiserror::Error)]
pub enum NetworkError {
    /// The 32-byte secret is not a usable ed25519 network key.
    #[error("invalid ed25519 network key: {reason}")]
    InvalidKey { reason: String },

    /// The transport or one of the protocols could not be set up.
    #[error("cannot set up the libp2p swarm: {reason}")]
    Setup { reason: String },

    /// The listen address could not be bound (port in use, address not local, bad multiaddr...).
    #[error("cannot listen on {addr}: {reason}")]
    ListenFailed { addr: Multiaddr, reason: String },

    /// A message exceeds the configured size limit for its kind; it was not sent.
    #[error("{kind} of {len} bytes exceeds the limit of {max} bytes")]
    MessageTooLarge {
        kind: &'static str,
        len: usize,
        max: usize,
    },

    /// The peer is not in the allowed set, so no message is exchanged with it.
    #[error("peer {peer} is not an allowed peer")]
    PeerNotAllowed { peer: PeerId },

    /// The command queue to the network task is full; the command was dropped.
    #[error("network command queue is full ({capacity} commands); {what} dropped")]
    QueueFull { what: &'static str, capacity: usize },

    /// A sync request did not get a response.
    #[error("sync request to {peer} failed: {reason}")]
    RequestFailed { peer: PeerId, reason: String },

    /// The network task has stopped (shut down, or all handles dropped).
    #[error("the network task has stopped")]
    Stopped,
}
