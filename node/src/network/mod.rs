//! libp2p networking for validators and observers: an I/O component with no protocol logic.
//!
//! Bytes in, bytes out: consensus messages travel as frames on one long-lived stream per peer
//! and direction, `/waybill/consensus/5` (`links.rs`), block sync over request-response
//! `/waybill/sync/1`, transactions over gossipsub topic `waybill/tx/2` (flood-published,
//! unsigned, not forwarded: see `behaviour::gossipsub`). Only allowed PeerIds can connect; everything else is refused when its
//! connection is established, and inbound messages are checked against the allowed set again.
//! Sizes and queues are bounded; configured peers are redialed with exponential backoff.
//!
//! [`Network::start`] binds the listen address (failing with
//! [`NetworkError::ListenFailed`] if it cannot) and spawns the swarm on the current tokio
//! runtime; the application drives it through a [`NetworkHandle`] and reads
//! [`NetworkEvent`]s from a bounded channel.

mod behaviour;
mod codec;
mod config;
mod driver;
mod error;
mod event;
mod handle;
mod identity;
mod links;
mod redial;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use libp2p::futures::StreamExt;
use libp2p::swarm::SwarmEvent;
use tokio::sync::mpsc;
use tokio::time::Instant;

pub use behaviour::{SYNC_PROTOCOL, TX_TOPIC};
pub use config::{Backoff, Limits, NetworkConfig};
pub use error::NetworkError;
pub use event::NetworkEvent;
pub use handle::{NetworkHandle, NetworkStats, SyncResponse};
pub use identity::{keypair_from_secret, peer_id_from_secret};
pub use libp2p::{Multiaddr, PeerId};
pub use links::CONSENSUS_PROTOCOL;

use driver::Driver;
use event::{Counters, EventSink};
use handle::Shared;
use redial::Redialer;

/// How long [`Network::start`] waits for the listener to come up.
const LISTEN_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Entry point of the network layer.
pub struct Network;

impl Network {
    /// Binds `config.listen`, starts the swarm in a tokio task and dials the configured peers.
    /// Must be called within a tokio runtime.
    pub async fn start(
        config: NetworkConfig,
    ) -> Result<(NetworkHandle, mpsc::Receiver<NetworkEvent>), NetworkError> {
        let key = identity::keypair_from_secret(config.keypair_secret)?;
        let local_peer_id = key.public().to_peer_id();
        let mut allowed = config.effective_allowed();
        allowed.remove(&local_peer_id);
        let limits = config.limits.clone();

        let counters = Arc::new(Counters::default());
        let mut swarm = behaviour::build_swarm(
            key,
            &allowed,
            &limits,
            &counters,
            config.subscribe_transactions,
        )?;
        let listen_addrs = listen(&mut swarm, &config.listen).await?;
        tracing::info!(peer_id = %local_peer_id, addrs = ?listen_addrs, "network listening");

        let mut targets: BTreeMap<PeerId, Vec<Multiaddr>> = BTreeMap::new();
        for (peer, addr) in &config.peers {
            if *peer == local_peer_id {
                continue;
            }
            swarm.add_peer_address(*peer, addr.clone());
            let addrs = targets.entry(*peer).or_default();
            if !addrs.contains(addr) {
                addrs.push(addr.clone());
            }
        }
        let redialer = Redialer::new(config.backoff, targets, Instant::now());

        let (command_tx, command_rx) = mpsc::channel(limits.command_queue.max(1));
        let (event_tx, event_rx) = mpsc::channel(limits.event_queue.max(1));
        let shared = Arc::new(Mutex::new(Shared {
            listen_addrs,
            allowed: allowed.clone(),
            ..Shared::default()
        }));
        let mut observers = config.observers.clone();
        observers.remove(&local_peer_id);

        let mut driver = Driver::new(
            swarm,
            command_rx,
            EventSink::new(event_tx, counters.clone()),
            shared.clone(),
            allowed,
            redialer,
            limits.clone(),
        )?;
        driver.names = config.names;
        driver.observers = observers;
        driver.subscribed = config.subscribe_transactions;
        tokio::spawn(driver.run());

        let handle = NetworkHandle {
            local_peer_id,
            commands: command_tx,
            shared,
            counters,
            limits,
        };
        Ok((handle, event_rx))
    }
}

/// Starts listening and waits until the listener reports its address, so that a port in use
/// or an unusable address fails `start` instead of a background task.
async fn listen(
    swarm: &mut libp2p::Swarm<behaviour::Behaviour>,
    addr: &Multiaddr,
) -> Result<Vec<Multiaddr>, NetworkError> {
    let failed = |reason: String| NetworkError::ListenFailed {
        addr: addr.clone(),
        reason,
    };
    let listener = swarm
        .listen_on(addr.clone())
        .map_err(|e| failed(error_chain(&e)))?;
    let wait = async {
        loop {
            match swarm.select_next_some().await {
                SwarmEvent::NewListenAddr {
                    listener_id,
                    address,
                } if listener_id == listener => return Ok(vec![address]),
                SwarmEvent::ListenerError { listener_id, error } if listener_id == listener => {
                    return Err(failed(error_chain(&error)))
                }
                SwarmEvent::ListenerClosed {
                    listener_id,
                    reason,
                    ..
                } if listener_id == listener => {
                    return Err(failed(match reason {
                        Ok(()) => "listener closed".into(),
                        Err(e) => error_chain(&e),
                    }))
                }
                _ => {}
            }
        }
    };
    tokio::time::timeout(LISTEN_TIMEOUT, wait)
        .await
        .map_err(|_| failed(format!("no listen address within {LISTEN_TIMEOUT:?}")))?
}

/// An error and its sources on one line (libp2p's transport errors keep the cause, such as
/// "Address already in use", in the source only).
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        let cause = e.to_string();
        if !cause.is_empty() && !text.contains(&cause) {
            if !text.is_empty() {
                text.push_str(": ");
            }
            text.push_str(&cause);
        }
        source = e.source();
    }
    text
}
