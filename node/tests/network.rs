//! The libp2p network layer over real sockets on 127.0.0.1: connection, consensus messages,
//! transaction gossip, block sync, the allow-list, size limits, and reconnection.
//! Every wait polls a condition under a deadline; nothing relies on a fixed sleep.

use std::collections::BTreeSet;
use std::future::Future;
use std::net::TcpListener;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::{timeout, Instant};
use waybill_node::network::{
    peer_id_from_secret, Limits, Multiaddr, Network, NetworkConfig, NetworkError, NetworkEvent,
    NetworkHandle, PeerId,
};

const DEADLINE: Duration = Duration::from_secs(10);

fn secret(i: u8) -> [u8; 32] {
    [i; 32]
}

/// A port the OS just handed out (and released), for nodes that must restart on it.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn addr(port: u16) -> Multiaddr {
    format!("/ip4/127.0.0.1/tcp/{port}").parse().unwrap()
}

struct Node {
    peer: PeerId,
    handle: NetworkHandle,
    events: mpsc::Receiver<NetworkEvent>,
}

struct Spec {
    secret: [u8; 32],
    peer: PeerId,
    addr: Multiaddr,
}

fn spec(i: u8) -> Spec {
    Spec {
        secret: secret(i),
        peer: peer_id_from_secret(secret(i)).unwrap(),
        addr: addr(free_port()),
    }
}

fn config(me: &Spec, peers: &[&Spec], limits: Limits) -> NetworkConfig {
    let mut c = NetworkConfig::new(me.secret, me.addr.clone());
    c.peers = peers.iter().map(|p| (p.peer, p.addr.clone())).collect();
    c.allowed = peers.iter().map(|p| p.peer).collect();
    c.limits = limits;
    c
}

async fn start(me: &Spec, peers: &[&Spec], limits: Limits) -> Node {
    let (handle, events) = Network::start(config(me, peers, limits)).await.unwrap();
    Node {
        peer: me.peer,
        handle,
        events,
    }
}

/// Starts `n` validators that all know (and allow) each other.
async fn cluster(n: u8) -> (Vec<Spec>, Vec<Node>) {
    let specs: Vec<Spec> = (1..=n).map(spec).collect();
    let mut nodes = Vec::new();
    for me in &specs {
        // Genesis lists every validator, the node itself included; it is skipped.
        let all: Vec<&Spec> = specs.iter().collect();
        nodes.push(start(me, &all, Limits::default()).await);
    }
    (specs, nodes)
}

async fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + DEADLINE;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn fully_connected(nodes: &[&Node]) {
    for node in nodes {
        let want: BTreeSet<PeerId> = nodes
            .iter()
            .map(|n| n.peer)
            .filter(|p| *p != node.peer)
            .collect();
        eventually("a full mesh", || {
            node.handle
                .connected_peers()
                .into_iter()
                .collect::<BTreeSet<_>>()
                == want
        })
        .await;
    }
}

/// The next event satisfying `pick`, skipping others.
async fn next_matching<T>(
    events: &mut mpsc::Receiver<NetworkEvent>,
    mut pick: impl FnMut(NetworkEvent) -> Option<T>,
) -> T {
    let wait = async {
        loop {
            let ev = events.recv().await.expect("network task alive");
            if let Some(t) = pick(ev) {
                return t;
            }
        }
    };
    timeout(DEADLINE, wait).await.expect("expected event")
}

async fn consensus_from(events: &mut mpsc::Receiver<NetworkEvent>) -> (PeerId, Vec<u8>) {
    next_matching(events, |ev| match ev {
        NetworkEvent::Consensus { from, bytes } => Some((from, bytes)),
        _ => None,
    })
    .await
}

async fn within<F: Future>(f: F) -> F::Output {
    timeout(DEADLINE, f).await.expect("timed out")
}

#[tokio::test]
async fn three_validators_exchange_consensus_gossip_and_sync() {
    let (_, mut nodes) = cluster(3).await;
    fully_connected(&nodes.iter().collect::<Vec<_>>()).await;
    let peers: Vec<PeerId> = nodes.iter().map(|n| n.peer).collect();

    // One-way consensus message.
    nodes[0]
        .handle
        .send_consensus(peers[1], b"vote".to_vec())
        .unwrap();
    assert_eq!(
        consensus_from(&mut nodes[1].events).await,
        (peers[0], b"vote".to_vec())
    );

    // Broadcast reaches every other validator.
    nodes[2]
        .handle
        .broadcast_consensus(b"proposal".to_vec())
        .unwrap();
    for i in [0, 1] {
        assert_eq!(
            consensus_from(&mut nodes[i].events).await,
            (peers[2], b"proposal".to_vec())
        );
    }

    // Gossip: once the others' subscriptions are known, one publish reaches all of them.
    let others: BTreeSet<PeerId> = [peers[1], peers[2]].into();
    eventually("tx topic subscriptions", || {
        nodes[0]
            .handle
            .tx_topic_peers()
            .into_iter()
            .collect::<BTreeSet<_>>()
            == others
    })
    .await;
    nodes[0].handle.publish_tx(b"tx-1".to_vec()).unwrap();
    for i in [1, 2] {
        let got = next_matching(&mut nodes[i].events, |ev| match ev {
            NetworkEvent::Transaction { from, bytes } => Some((from, bytes)),
            _ => None,
        })
        .await;
        assert_eq!(got, (peers[0], b"tx-1".to_vec()));
    }

    // Sync: node 1 asks node 2, which answers through the reply channel.
    let request = nodes[1]
        .handle
        .request_sync(peers[2], b"blocks 1..10".to_vec());
    let (from, bytes, reply) = next_matching(&mut nodes[2].events, |ev| match ev {
        NetworkEvent::SyncRequest { from, bytes, reply } => Some((from, bytes, reply)),
        _ => None,
    })
    .await;
    assert_eq!((from, bytes), (peers[1], b"blocks 1..10".to_vec()));
    let big = vec![7u8; 1 << 20];
    reply.send(big.clone()).unwrap();
    assert_eq!(within(request).await.unwrap(), big);

    // A sync request the application drops fails on the requester, not a hang.
    let request = nodes[0].handle.request_sync(peers[2], b"nothing".to_vec());
    let reply = next_matching(&mut nodes[2].events, |ev| match ev {
        NetworkEvent::SyncRequest { reply, .. } => Some(reply),
        _ => None,
    })
    .await;
    drop(reply);
    assert!(matches!(
        within(request).await,
        Err(NetworkError::RequestFailed { .. })
    ));

    for n in &nodes {
        n.handle.shutdown().await;
    }
}

/// Consensus messages to one peer share one stream (`links.rs`): a burst of them, small and
/// large mixed, arrives whole, each exactly once and in the order sent, with nothing counted as
/// failed or rejected on either side.
#[tokio::test]
async fn a_burst_of_consensus_messages_arrives_whole_and_in_order() {
    let (specs, mut nodes) = cluster(2).await;
    fully_connected(&nodes.iter().collect::<Vec<_>>()).await;
    let message = |i: usize| -> Vec<u8> {
        // 1 byte to 96 KiB: frames that span many yamux frames and frames that share one.
        let len = 1 + (i * 7_919) % (96 << 10);
        (0..len).map(|j| (i + j) as u8).collect()
    };
    const BURST: usize = 300;
    for i in 0..BURST {
        nodes[0]
            .handle
            .send_consensus(specs[1].peer, message(i))
            .unwrap();
    }
    for i in 0..BURST {
        let (from, bytes) = consensus_from(&mut nodes[1].events).await;
        assert_eq!(from, specs[0].peer);
        assert!(
            bytes == message(i),
            "message {i} arrived out of order or damaged"
        );
    }
    for n in &nodes {
        let stats = n.handle.stats();
        assert_eq!((stats.failed_sends, stats.rejected_messages), (0, 0));
    }
    for n in &nodes {
        n.handle.shutdown().await;
    }
}

#[tokio::test]
async fn a_peer_not_in_the_allowed_set_cannot_connect() {
    let a = spec(11);
    let b = spec(12);
    let x = spec(66);
    let mut na = start(&a, &[&b], Limits::default()).await;
    let mut nb = start(&b, &[&a], Limits::default()).await;
    // The intruder knows the validators' addresses and allows them; they do not allow it.
    let nx = start(&x, &[&a, &b], Limits::default()).await;
    fully_connected(&[&na, &nb]).await;

    // Its requests fail: its connections are refused when established.
    for to in [a.peer, b.peer] {
        let res = within(nx.handle.request_sync(to, b"let me in".to_vec())).await;
        assert!(
            matches!(res, Err(NetworkError::RequestFailed { peer, .. }) if peer == to),
            "{res:?}"
        );
    }
    let sent = 5;
    for i in 0..sent {
        nx.handle.send_consensus(a.peer, vec![i]).unwrap();
        nx.handle.send_consensus(b.peer, vec![i]).unwrap();
    }
    let _ = nx.handle.publish_tx(b"spam".to_vec());
    eventually("the intruder's sends to fail", || {
        nx.handle.stats().failed_sends > 2 * sent as u64
    })
    .await;

    // The validators still talk to each other, and never saw the intruder.
    na.handle
        .send_consensus(b.peer, b"marker".to_vec())
        .unwrap();
    let mut seen = Vec::new();
    let wait = async {
        loop {
            match nb.events.recv().await.unwrap() {
                NetworkEvent::Consensus { from, bytes } if bytes == b"marker" => {
                    assert_eq!(from, a.peer);
                    break;
                }
                ev => seen.push(format!("{ev:?}")),
            }
        }
    };
    within(wait).await;
    while let Ok(ev) = na.events.try_recv() {
        seen.push(format!("{ev:?}"));
    }
    let intruder = x.peer.to_string();
    assert!(
        seen.iter().all(|ev| !ev.contains(&intruder)),
        "a validator saw the intruder: {seen:?}"
    );
    assert!(!na.handle.connected_peers().contains(&x.peer));
    assert!(!nb.handle.connected_peers().contains(&x.peer));

    // A validator refuses to address a peer outside the set.
    assert!(matches!(
        na.handle.send_consensus(x.peer, vec![1]),
        Err(NetworkError::PeerNotAllowed { .. })
    ));
    for n in [&na, &nb, &nx] {
        n.handle.shutdown().await;
    }
}

#[tokio::test]
async fn oversized_messages_are_rejected_without_crashing() {
    let a = spec(21);
    let b = spec(22);
    // The sender is configured with a larger limit so that the oversized message reaches the
    // wire; the receiver enforces its own limit.
    let loose = Limits {
        consensus_message: 8 << 20,
        ..Limits::default()
    };
    let na = start(&a, &[&b], loose).await;
    let mut nb = start(&b, &[&a], Limits::default()).await;
    fully_connected(&[&na, &nb]).await;

    let max = Limits::default().consensus_message;
    na.handle.send_consensus(b.peer, vec![1; max + 1]).unwrap();
    eventually("the receiver to reject it", || {
        nb.handle.stats().rejected_messages >= 1
    })
    .await;
    // Both sides still work: a message at the limit goes through.
    na.handle.send_consensus(b.peer, vec![2; max]).unwrap();
    let (from, bytes) = consensus_from(&mut nb.events).await;
    assert_eq!((from, bytes.len(), bytes[0]), (a.peer, max, 2));

    // Sending side limits are checked before anything is queued.
    let too_big = |kind: &str, r: Result<(), NetworkError>| match r {
        Err(NetworkError::MessageTooLarge { kind: k, .. }) => assert!(k.contains(kind)),
        other => panic!("expected MessageTooLarge, got {other:?}"),
    };
    too_big(
        "consensus",
        nb.handle.send_consensus(a.peer, vec![0; max + 1]),
    );
    too_big("consensus", nb.handle.broadcast_consensus(vec![0; max + 1]));
    let max_gossip = Limits::default().transaction;
    too_big("transaction", nb.handle.publish_tx(vec![0; max_gossip + 1]));
    let sync = nb.handle.request_sync(a.peer, vec![0; (64 << 10) + 1]);
    assert!(matches!(
        within(sync).await,
        Err(NetworkError::MessageTooLarge { .. })
    ));
    na.handle.shutdown().await;
    nb.handle.shutdown().await;
}

#[tokio::test]
async fn oversized_gossip_is_dropped_without_crashing() {
    let a = spec(41);
    let b = spec(42);
    // A misconfigured or misbehaving sender with a larger transaction limit.
    let max_gossip = Limits::default().transaction;
    let loose = Limits {
        transaction: 4 * max_gossip,
        ..Limits::default()
    };
    let mut na = start(&a, &[&b], loose).await;
    let mut nb = start(&b, &[&a], Limits::default()).await;
    fully_connected(&[&na, &nb]).await;
    for (n, other) in [(&na, b.peer), (&nb, a.peer)] {
        eventually("subscriptions", || {
            n.handle.tx_topic_peers().contains(&other)
        })
        .await;
    }
    na.handle.publish_tx(vec![9; 2 * max_gossip]).unwrap();

    // b is still up and serving: its gossip reaches a, and a's consensus messages reach b,
    // and the oversized transaction never surfaced.
    nb.handle.publish_tx(b"from b".to_vec()).unwrap();
    let got = next_matching(&mut na.events, |ev| match ev {
        NetworkEvent::Transaction { from, bytes } => Some((from, bytes)),
        _ => None,
    })
    .await;
    assert_eq!(got, (b.peer, b"from b".to_vec()));
    na.handle
        .send_consensus(b.peer, b"still here".to_vec())
        .unwrap();
    let wait = async {
        loop {
            match nb.events.recv().await.unwrap() {
                NetworkEvent::Consensus { bytes, .. } => break bytes,
                NetworkEvent::Transaction { bytes, .. } => {
                    panic!(
                        "an oversized transaction of {} bytes was delivered",
                        bytes.len()
                    )
                }
                _ => {}
            }
        }
    };
    assert_eq!(within(wait).await, b"still here");
    na.handle.shutdown().await;
    nb.handle.shutdown().await;
}

#[tokio::test]
async fn a_full_event_queue_drops_and_counts_instead_of_blocking() {
    let a = spec(51);
    let b = spec(52);
    let tiny = Limits {
        event_queue: 4,
        ..Limits::default()
    };
    let na = start(&a, &[&b], Limits::default()).await;
    // Nobody reads b's events.
    let nb = start(&b, &[&a], tiny).await;
    fully_connected(&[&na, &nb]).await;
    for i in 0..20u8 {
        na.handle.send_consensus(b.peer, vec![i]).unwrap();
    }
    eventually("events to be dropped", || {
        nb.handle.stats().dropped_events >= 16
    })
    .await;
    // The swarm is not blocked: b still answers the network.
    let sync = na.handle.request_sync(b.peer, b"ping".to_vec());
    assert!(
        matches!(within(sync).await, Err(NetworkError::RequestFailed { .. })),
        "b drops the sync request (its queue is full) but answers promptly"
    );
    na.handle.shutdown().await;
    nb.handle.shutdown().await;
}

#[tokio::test]
async fn a_restarted_node_is_reconnected_by_the_others() {
    let (specs, mut nodes) = cluster(3).await;
    fully_connected(&nodes.iter().collect::<Vec<_>>()).await;
    let restarted = nodes.remove(2);
    let peer = restarted.peer;
    restarted.handle.shutdown().await;
    for n in &nodes {
        eventually("the others to notice", || {
            !n.handle.connected_peers().contains(&peer)
        })
        .await;
    }

    // Restart on the same key and port, dialing nobody: only the others' redials can
    // reconnect it.
    let others: Vec<&Spec> = specs[..2].iter().collect();
    let mut c = config(&specs[2], &others, Limits::default());
    c.peers.clear();
    let (handle, events) = Network::start(c).await.unwrap();
    let mut back = Node {
        peer,
        handle,
        events,
    };
    for n in &nodes {
        eventually("the others to redial", || {
            n.handle.connected_peers().contains(&peer)
        })
        .await;
    }
    nodes[0]
        .handle
        .send_consensus(peer, b"welcome back".to_vec())
        .unwrap();
    assert_eq!(
        consensus_from(&mut back.events).await,
        (nodes[0].peer, b"welcome back".to_vec())
    );
    back.handle.shutdown().await;
    for n in &nodes {
        n.handle.shutdown().await;
    }
}

#[tokio::test]
async fn a_port_in_use_is_a_clear_start_error() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let at = addr(taken.local_addr().unwrap().port());
    let err = Network::start(NetworkConfig::new(secret(31), at.clone()))
        .await
        .err()
        .expect("start must fail");
    match &err {
        NetworkError::ListenFailed { addr, .. } => assert_eq!(addr, &at),
        other => panic!("expected ListenFailed, got {other:?}"),
    }
    let text = err.to_string();
    assert!(text.contains(&at.to_string()), "{text}");
    assert!(text.to_lowercase().contains("in use"), "{text}");
}

#[test]
fn peer_ids_match_the_genesis_encoding() {
    for i in [1u8, 7, 200] {
        let public = ledger::KeyPair::from_secret(secret(i)).public();
        assert_eq!(
            peer_id_from_secret(secret(i)).unwrap().to_string(),
            ledger::genesis::peer_id_of(&public.0)
        );
    }
}
