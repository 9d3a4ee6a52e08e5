//! The node's health for `GET /health` and `GET /ready` (on the JSON-RPC and metrics ports):
//! ready when connected to validators holding a quorum of the voting power (itself included)
//! and not catching up. A validator that is not ready cannot help commit, and its reads may
//! lag the chain. An observer is ready when connected to a validator and not behind.

use std::str::FromStr;

use crate::network::PeerId;
use crate::run::NodeHandles;

pub fn health(node: &NodeHandles) -> rpc::Health {
    let s = node.status.snapshot();
    let g = &node.genesis;
    let mut connected = node.net.connected_peers();
    connected.push(node.net.local_peer_id());
    let connected_power: u64 = g
        .validators
        .iter()
        .filter(|v| PeerId::from_str(&v.peer_id).is_ok_and(|p| connected.contains(&p)))
        .map(|v| v.power)
        .sum();
    let quorum_power = g.quorum_power();
    let mut reasons = Vec::new();
    if s.observer {
        // An observer follows any one validator (it believes only what a quorum signed).
        if connected_power == 0 {
            reasons.push("an observer connected to no validator".to_string());
        }
    } else if connected_power < quorum_power {
        reasons.push(format!(
            "connected to validators holding {connected_power} of {} voting power (itself included); a quorum needs {quorum_power}",
            g.total_power()
        ));
    }
    if s.syncing {
        reasons.push("catching up from a peer".to_string());
    }
    rpc::Health {
        ready: reasons.is_empty(),
        reasons,
        version: crate::version::LONG.to_string(),
        committed_height: s.committed_height,
        syncing: s.syncing,
        connected_power,
        quorum_power,
    }
}
