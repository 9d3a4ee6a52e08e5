//! What the network reports to the application, and the bounded, never-blocking sink that
//! carries it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use libp2p::PeerId;
use tokio::sync::{mpsc, oneshot};

/// An event for the application. `from` is always the PeerId authenticated by the noise
/// handshake (for transactions: the signed gossip author), and always an allowed peer.
#[derive(Debug)]
pub enum NetworkEvent {
    /// A consensus message.
    Consensus { from: PeerId, bytes: Vec<u8> },
    /// A gossiped transaction.
    Transaction { from: PeerId, bytes: Vec<u8> },
    /// A block-sync request; answer through `reply` (dropping it fails the request).
    SyncRequest {
        from: PeerId,
        bytes: Vec<u8>,
        reply: oneshot::Sender<Vec<u8>>,
    },
    /// The first connection to an allowed peer was established.
    PeerConnected(PeerId),
    /// The last connection to a peer was closed.
    PeerDisconnected(PeerId),
}

/// Counters shared between the network task and its handles.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    /// Events dropped because the application's event channel was full or closed.
    pub dropped_events: AtomicU64,
    /// Messages refused: oversized, malformed, or from a peer that is not allowed.
    pub rejected_messages: AtomicU64,
    /// Outbound consensus messages or sync requests that failed (dial failure, timeout...).
    pub failed_sends: AtomicU64,
}

impl Counters {
    pub fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// Sends events without ever blocking the swarm: a full channel drops the event and counts it.
#[derive(Clone)]
pub(crate) struct EventSink {
    tx: mpsc::Sender<NetworkEvent>,
    counters: Arc<Counters>,
}

impl EventSink {
    pub fn new(tx: mpsc::Sender<NetworkEvent>, counters: Arc<Counters>) -> Self {
        EventSink { tx, counters }
    }

    pub fn counters(&self) -> &Arc<Counters> {
        &self.counters
    }

    pub fn emit(&self, event: NetworkEvent) {
        if let Err(e) = self.tx.try_send(event) {
            Counters::bump(&self.counters.dropped_events);
            match e {
                mpsc::error::TrySendError::Full(ev) => {
                    tracing::warn!(
                        event = kind(&ev),
                        "network event channel full; event dropped"
                    )
                }
                mpsc::error::TrySendError::Closed(ev) => {
                    tracing::debug!(
                        event = kind(&ev),
                        "network event receiver gone; event dropped"
                    )
                }
            }
        }
    }
}

fn kind(event: &NetworkEvent) -> &'static str {
    match event {
        NetworkEvent::Consensus { .. } => "consensus",
        NetworkEvent::Transaction { .. } => "transaction",
        NetworkEvent::SyncRequest { .. } => "sync-request",
        NetworkEvent::PeerConnected(_) => "peer-connected",
        NetworkEvent::PeerDisconnected(_) => "peer-disconnected",
    }
}
