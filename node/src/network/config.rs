//! Configuration of the network layer: identity, addresses, who may connect, and limits.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::time::Duration;

use libp2p::{Multiaddr, PeerId};

/// Size, queue and timing limits. The defaults are the production values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest consensus message accepted or sent (request on `/waybill/consensus/3`).
    pub consensus_message: usize,
    /// Largest block-sync request accepted or sent.
    pub sync_request: usize,
    /// Largest block-sync response accepted or sent.
    pub sync_response: usize,
    /// Largest gossip message accepted or published (a batch of transactions, see `gossip`).
    pub transaction: usize,
    /// Capacity of the [`super::NetworkEvent`] channel; events beyond it are dropped and counted.
    pub event_queue: usize,
    /// Capacity of the command channel from [`super::NetworkHandle`] to the network task.
    pub command_queue: usize,
    /// Concurrent inbound and outbound streams per connection, per request-response protocol.
    pub concurrent_streams: usize,
    /// Inbound sync requests waiting for the application's reply, across all peers.
    pub pending_sync_replies: usize,
    /// Established connections allowed per peer.
    pub connections_per_peer: u32,
    /// Time limit for a request-response exchange, and for the application to answer a sync
    /// request.
    pub request_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            // The wire formats' own limits (the engine checks every valid block fits them).
            consensus_message: engine::wire::MAX_CONSENSUS_BYTES,
            sync_request: engine::wire::MAX_SYNC_REQUEST_BYTES,
            sync_response: engine::wire::MAX_SYNC_RESPONSE_BYTES,
            transaction: 1 << 20,
            event_queue: 4096,
            command_queue: 1024,
            concurrent_streams: 64,
            pending_sync_replies: 256,
            connections_per_peer: 2,
            request_timeout: Duration::from_secs(10),
        }
    }
}

/// Reconnection backoff: the first redial after a loss waits `initial`, each further failure
/// doubles the wait up to `max`; a successful connection resets it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    pub initial: Duration,
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            initial: Duration::from_millis(200),
            max: Duration::from_secs(10),
        }
    }
}

/// Everything [`super::Network::start`] needs.
#[derive(Clone)]
pub struct NetworkConfig {
    /// The node's ed25519 network secret (as stored by `ledger::keyfile`).
    pub keypair_secret: [u8; 32],
    /// Where to listen, e.g. `/ip4/127.0.0.1/tcp/7000` (`/tcp/0` picks a free port).
    pub listen: Multiaddr,
    /// Validators to keep connected to. They are implicitly allowed; the node's own PeerId
    /// may be listed (e.g. the whole genesis set) and is skipped.
    pub peers: Vec<(PeerId, Multiaddr)>,
    /// Every PeerId that may connect at start (validators and configured observers). Any other
    /// peer is refused when its connection is established. The validators among them change
    /// with the set ([`super::NetworkHandle::set_members`]); `observers` stay.
    pub allowed: BTreeSet<PeerId>,
    /// Peers admitted whatever the validator set is: the genesis's and the config's observers.
    pub observers: BTreeSet<PeerId>,
    /// Names to log peers by (validators' genesis names); others are logged by PeerId alone.
    pub names: BTreeMap<PeerId, String>,
    /// Take the transaction gossip (validators). An observer only publishes to it.
    pub subscribe_transactions: bool,
    pub limits: Limits,
    pub backoff: Backoff,
}

impl NetworkConfig {
    /// A configuration with default limits and backoff, no peers and nobody allowed.
    pub fn new(keypair_secret: [u8; 32], listen: Multiaddr) -> Self {
        NetworkConfig {
            keypair_secret,
            listen,
            peers: Vec::new(),
            allowed: BTreeSet::new(),
            observers: BTreeSet::new(),
            names: BTreeMap::new(),
            subscribe_transactions: true,
            limits: Limits::default(),
            backoff: Backoff::default(),
        }
    }

    /// The allowed set actually enforced: `allowed` plus every peer in `peers`.
    pub fn effective_allowed(&self) -> BTreeSet<PeerId> {
        let mut all = self.allowed.clone();
        all.extend(self.observers.iter().copied());
        all.extend(self.peers.iter().map(|(p, _)| *p));
        all
    }
}

impl fmt::Debug for NetworkConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NetworkConfig")
            .field("keypair_secret", &"<redacted>")
            .field("listen", &self.listen)
            .field("peers", &self.peers)
            .field("allowed", &self.allowed)
            .field("observers", &self.observers)
            .field("names", &self.names)
            .field("subscribe_transactions", &self.subscribe_transactions)
            .field("limits", &self.limits)
            .field("backoff", &self.backoff)
            .finish()
    }
}
