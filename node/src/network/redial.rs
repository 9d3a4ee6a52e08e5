//! Reconnection schedule for the configured peers: pure bookkeeping (no I/O), exponential
//! backoff per peer, reset once a connection has proved stable (a peer that accepts the
//! handshake and then refuses us is not redialed in a tight loop).

use std::collections::BTreeMap;
use std::time::Duration;

use libp2p::{Multiaddr, PeerId};
use tokio::time::Instant;

use super::config::Backoff;

/// How long a dial may stay without an outcome before it is attempted again.
const DIAL_GUARD: Duration = Duration::from_secs(30);
/// A connection that lasted this long resets the backoff when it is lost.
const STABLE: Duration = Duration::from_secs(1);

#[derive(Debug)]
struct Target {
    addrs: Vec<Multiaddr>,
    connected: bool,
    connected_since: Option<Instant>,
    /// Next wait after a failure.
    backoff: Duration,
    /// When to dial next; `None` while connected.
    next_dial: Option<Instant>,
}

#[derive(Debug)]
pub(crate) struct Redialer {
    policy: Backoff,
    targets: BTreeMap<PeerId, Target>,
}

impl Redialer {
    /// Every target is due immediately.
    pub(crate) fn new(
        policy: Backoff,
        peers: BTreeMap<PeerId, Vec<Multiaddr>>,
        now: Instant,
    ) -> Self {
        let targets = peers
            .into_iter()
            .map(|(peer, addrs)| {
                let t = Target {
                    addrs,
                    connected: false,
                    connected_since: None,
                    backoff: policy.initial,
                    next_dial: Some(now),
                };
                (peer, t)
            })
            .collect();
        Redialer { policy, targets }
    }

    pub(crate) fn is_target(&self, peer: &PeerId) -> bool {
        self.targets.contains_key(peer)
    }

    pub(crate) fn on_connected(&mut self, peer: &PeerId, now: Instant) {
        if let Some(t) = self.targets.get_mut(peer) {
            if !t.connected {
                t.connected = true;
                t.connected_since = Some(now);
            }
            t.next_dial = None;
        }
    }

    /// The last connection to `peer` closed, or a dial to it failed: dial again after the
    /// current backoff (reset first if the connection had been stable), and double the
    /// backoff for next time.
    pub(crate) fn on_lost(&mut self, peer: &PeerId, now: Instant) {
        if let Some(t) = self.targets.get_mut(peer) {
            if t.connected_since.is_some_and(|since| now >= since + STABLE) {
                t.backoff = self.policy.initial;
            }
            t.connected = false;
            t.connected_since = None;
            t.next_dial = Some(now + t.backoff);
            t.backoff = (t.backoff * 2).min(self.policy.max);
        }
    }

    /// The peers to dial now, with their addresses. Each returned peer is not returned again
    /// until its dial fails, its connection is lost, or [`DIAL_GUARD`] passes.
    pub(crate) fn due(&mut self, now: Instant) -> Vec<(PeerId, Vec<Multiaddr>)> {
        let mut due = Vec::new();
        for (peer, t) in &mut self.targets {
            if t.connected || t.next_dial.is_none_or(|at| at > now) {
                continue;
            }
            t.next_dial = Some(now + DIAL_GUARD);
            due.push((*peer, t.addrs.clone()));
        }
        due
    }

    #[cfg(test)]
    fn next_dial(&self, peer: &PeerId) -> Option<Instant> {
        self.targets[peer].next_dial
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn backs_off_exponentially_and_resets_after_a_stable_connection() {
        let peer = PeerId::random();
        let addr: Multiaddr = "/ip4/127.0.0.1/tcp/1".parse().unwrap();
        let policy = Backoff {
            initial: ms(200),
            max: ms(1000),
        };
        let t0 = Instant::now();
        let mut r = Redialer::new(policy, [(peer, vec![addr.clone()])].into(), t0);
        assert_eq!(r.due(t0), vec![(peer, vec![addr])]);
        assert!(
            r.due(t0).is_empty(),
            "not dialed twice while a dial is pending"
        );

        let mut waits = Vec::new();
        for _ in 0..5 {
            r.on_lost(&peer, t0);
            waits.push(r.next_dial(&peer).unwrap() - t0);
        }
        assert_eq!(waits, vec![ms(200), ms(400), ms(800), ms(1000), ms(1000)]);

        // A connection refused right after the handshake keeps backing off.
        r.on_connected(&peer, t0);
        r.on_lost(&peer, t0 + ms(10));
        assert_eq!(r.next_dial(&peer), Some(t0 + ms(1010)));

        r.on_connected(&peer, t0);
        assert!(
            r.due(t0 + ms(5000)).is_empty(),
            "connected peers are not dialed"
        );
        let t1 = t0 + STABLE;
        r.on_lost(&peer, t1);
        assert_eq!(r.next_dial(&peer), Some(t1 + ms(200)));
        assert!(r.due(t1 + ms(199)).is_empty());
        assert_eq!(r.due(t1 + ms(200)).len(), 1);
    }
}
