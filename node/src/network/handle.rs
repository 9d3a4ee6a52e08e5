//! [`NetworkHandle`]: the application's cloneable, non-blocking interface to the network task.

use std::collections::BTreeSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use libp2p::{Multiaddr, PeerId};
use tokio::sync::{mpsc, oneshot};

use super::config::Limits;
use super::event::Counters;
use super::NetworkError;

/// Commands from handles to the network task.
pub(crate) enum Command {
    SendConsensus {
        to: PeerId,
        bytes: Vec<u8>,
    },
    BroadcastConsensus {
        bytes: Vec<u8>,
    },
    PublishTx {
        bytes: Vec<u8>,
    },
    RequestSync {
        to: PeerId,
        bytes: Vec<u8>,
        reply: oneshot::Sender<Result<Vec<u8>, NetworkError>>,
    },
    /// The validator set changed: admit `admitted` (plus the configured observers), refuse
    /// everyone else, and broadcast to `validators`.
    SetMembers {
        validators: BTreeSet<PeerId>,
        admitted: BTreeSet<PeerId>,
    },
    /// Close the connections to `peer` and refuse it until `until` (its offences; it stays on
    /// the allow-list).
    Refuse {
        peer: PeerId,
        until: tokio::time::Instant,
    },
    Shutdown {
        done: oneshot::Sender<()>,
    },
}

/// State the network task publishes for handles to read without a round trip.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    pub connected: BTreeSet<PeerId>,
    pub tx_topic_peers: BTreeSet<PeerId>,
    pub listen_addrs: Vec<Multiaddr>,
    /// The PeerIds that may connect now (the network task changes it with the validator set).
    pub allowed: BTreeSet<PeerId>,
}

/// Counters of the network task.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NetworkStats {
    /// Events dropped because the application's event channel was full.
    pub dropped_events: u64,
    /// Inbound messages refused (oversized, malformed, from a peer that is not allowed).
    pub rejected_messages: u64,
    /// Outbound consensus messages or sync requests that failed.
    pub failed_sends: u64,
}

/// The application's handle on a running network. Cheap to clone; every method returns
/// without waiting for the network (except [`NetworkHandle::shutdown`]).
#[derive(Clone)]
pub struct NetworkHandle {
    pub(crate) local_peer_id: PeerId,
    pub(crate) commands: mpsc::Sender<Command>,
    pub(crate) shared: Arc<Mutex<Shared>>,
    pub(crate) counters: Arc<Counters>,
    pub(crate) limits: Limits,
}

/// The eventual answer to [`NetworkHandle::request_sync`].
pub struct SyncResponse(oneshot::Receiver<Result<Vec<u8>, NetworkError>>);

impl Future for SyncResponse {
    type Output = Result<Vec<u8>, NetworkError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.0)
            .poll(cx)
            .map(|r| r.unwrap_or(Err(NetworkError::Stopped)))
    }
}

fn check_size(kind: &'static str, len: usize, max: usize) -> Result<(), NetworkError> {
    if len > max {
        return Err(NetworkError::MessageTooLarge { kind, len, max });
    }
    Ok(())
}

impl NetworkHandle {
    pub fn local_peer_id(&self) -> PeerId {
        self.local_peer_id
    }

    /// The addresses the node listens on (the actual port when configured with `/tcp/0`).
    pub fn listen_addrs(&self) -> Vec<Multiaddr> {
        self.shared().listen_addrs.clone()
    }

    /// Peers with at least one established connection.
    pub fn connected_peers(&self) -> Vec<PeerId> {
        self.shared().connected.iter().copied().collect()
    }

    /// Connected peers known to be subscribed to the transaction topic (those a published
    /// transaction reaches directly).
    pub fn tx_topic_peers(&self) -> Vec<PeerId> {
        self.shared().tx_topic_peers.iter().copied().collect()
    }

    pub fn stats(&self) -> NetworkStats {
        let c = &self.counters;
        NetworkStats {
            dropped_events: c.dropped_events.load(Ordering::Relaxed),
            rejected_messages: c.rejected_messages.load(Ordering::Relaxed),
            failed_sends: c.failed_sends.load(Ordering::Relaxed),
        }
    }

    /// Sends a consensus message to one peer (one-way; delivery is best effort).
    pub fn send_consensus(&self, to: PeerId, bytes: Vec<u8>) -> Result<(), NetworkError> {
        check_size(
            "consensus message",
            bytes.len(),
            self.limits.consensus_message,
        )?;
        self.check_allowed(to)?;
        self.command(Command::SendConsensus { to, bytes }, "consensus message")
    }

    /// Sends a consensus message to every connected validator (configured peer).
    pub fn broadcast_consensus(&self, bytes: Vec<u8>) -> Result<(), NetworkError> {
        check_size(
            "consensus message",
            bytes.len(),
            self.limits.consensus_message,
        )?;
        self.command(Command::BroadcastConsensus { bytes }, "consensus broadcast")
    }

    /// Gossips a message (a batch of transactions) on `waybill/tx/2`.
    pub fn publish_tx(&self, bytes: Vec<u8>) -> Result<(), NetworkError> {
        check_size("transaction", bytes.len(), self.limits.transaction)?;
        self.command(Command::PublishTx { bytes }, "transaction")
    }

    /// Follows the validator set (the engine's [`engine::Effect::Members`]): admits `admitted`
    /// and the configured observers, disconnects and refuses everyone else, broadcasts to
    /// `validators`, and takes the transaction gossip while this node is one of them.
    pub fn set_members(&self, validators: BTreeSet<PeerId>, admitted: BTreeSet<PeerId>) {
        let _ = self.command(
            Command::SetMembers {
                validators,
                admitted,
            },
            "validator set",
        );
    }

    /// Disconnects `peer` and refuses it until `until` (the engine's verdict on its offences).
    pub fn refuse(&self, peer: PeerId, until: tokio::time::Instant) {
        let _ = self.command(Command::Refuse { peer, until }, "refusal");
    }

    /// Asks `to` for sync data; the returned future yields its response or why there is none.
    pub fn request_sync(&self, to: PeerId, bytes: Vec<u8>) -> SyncResponse {
        let (reply, rx) = oneshot::channel();
        let checked = check_size("sync request", bytes.len(), self.limits.sync_request)
            .and_then(|()| self.check_allowed(to));
        match checked {
            Ok(()) => {
                let cmd = Command::RequestSync { to, bytes, reply };
                if let Err(e) = self.commands.try_send(cmd) {
                    let error = self.queue_error(&e, "sync request");
                    if let Command::RequestSync { reply, .. } = e.into_inner() {
                        let _ = reply.send(Err(error));
                    }
                }
            }
            Err(e) => {
                let _ = reply.send(Err(e));
            }
        }
        SyncResponse(rx)
    }

    /// Stops the network task: closes every connection and the listener, then returns.
    pub async fn shutdown(&self) {
        let (done, finished) = oneshot::channel();
        if self.commands.send(Command::Shutdown { done }).await.is_ok() {
            let _ = finished.await;
        }
    }

    fn shared(&self) -> std::sync::MutexGuard<'_, Shared> {
        self.shared.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn check_allowed(&self, peer: PeerId) -> Result<(), NetworkError> {
        if self.shared().allowed.contains(&peer) {
            Ok(())
        } else {
            Err(NetworkError::PeerNotAllowed { peer })
        }
    }

    fn command(&self, cmd: Command, what: &'static str) -> Result<(), NetworkError> {
        self.commands
            .try_send(cmd)
            .map_err(|e| self.queue_error(&e, what))
    }

    fn queue_error(
        &self,
        e: &mpsc::error::TrySendError<Command>,
        what: &'static str,
    ) -> NetworkError {
        match e {
            mpsc::error::TrySendError::Full(_) => NetworkError::QueueFull {
                what,
                capacity: self.limits.command_queue,
            },
            mpsc::error::TrySendError::Closed(_) => NetworkError::Stopped,
        }
    }
}
