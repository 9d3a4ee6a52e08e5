//! The checks of a parsed config's values, so a bad address or level is refused when the config
//! is read, naming the key and where its value came from, rather than when a task starts.

use std::net::SocketAddr;
use std::str::FromStr;

use libp2p_identity::PeerId;
use multiaddr::{Multiaddr, Protocol};

use super::NodeConfig;

/// A value that is wrong: its key (`section.key`), the value and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadValue {
    pub key: &'static str,
    pub value: String,
    pub reason: String,
}

fn bad(key: &'static str, value: impl ToString, reason: impl ToString) -> BadValue {
    BadValue {
        key,
        value: value.to_string(),
        reason: reason.to_string(),
    }
}

/// A multiaddr that ends in `/p2p/<PeerId>`, with that PeerId.
pub fn peer_address(addr: &str) -> Result<(PeerId, Multiaddr), String> {
    let ma = Multiaddr::from_str(addr).map_err(|e| e.to_string())?;
    let peer = ma
        .iter()
        .find_map(|p| match p {
            Protocol::P2p(id) => Some(id),
            _ => None,
        })
        .ok_or("must end in /p2p/<PeerId>")?;
    Ok((peer, ma))
}

fn socket_addr(key: &'static str, value: &str) -> Result<SocketAddr, BadValue> {
    value.parse().map_err(|e| {
        bad(
            key,
            value,
            format!("{e}; expected host:port, e.g. 127.0.0.1:26601"),
        )
    })
}

impl NodeConfig {
    /// Checks every value whose type alone does not make it valid.
    pub fn check_values(&self) -> Result<(), BadValue> {
        let n = &self.node;
        if n.name.is_empty() || n.name.len() > 64 || n.name.chars().any(char::is_control) {
            return Err(bad(
                "node.name",
                &n.name,
                "must be 1..=64 characters, no control characters",
            ));
        }
        Multiaddr::from_str(&self.network.listen).map_err(|e| {
            bad(
                "network.listen",
                &self.network.listen,
                format!("{e}; expected a multiaddr such as /ip4/0.0.0.0/tcp/26600"),
            )
        })?;
        for p in &self.network.peers {
            peer_address(p).map_err(|e| bad("network.peers", p, e))?;
        }
        for o in &self.network.observers {
            PeerId::from_str(o).map_err(|e| bad("network.observers", o, e))?;
        }
        socket_addr("rpc.listen", &self.rpc.listen)?;
        if self.rpc.max_connections == 0 {
            return Err(bad("rpc.max_connections", 0, "must be at least 1"));
        }
        if !self.metrics.listen.is_empty() {
            socket_addr("metrics.listen", &self.metrics.listen)?;
        }
        let m = &self.mempool;
        for (key, v) in [
            ("mempool.capacity", m.capacity as u64),
            ("mempool.per_account", m.per_account as u64),
            ("mempool.sequence_window", m.sequence_window),
        ] {
            if v == 0 {
                return Err(bad(key, v, "must be at least 1"));
            }
        }
        if !["human", "json"].contains(&self.log.format.as_str()) {
            return Err(bad(
                "log.format",
                &self.log.format,
                "use \"human\" or \"json\"",
            ));
        }
        check_log_level(&self.log.level)?;
        Ok(())
    }
}

/// Longest `log.level`: a list of targets and levels is a few dozen bytes.
pub const MAX_LOG_LEVEL_LEN: usize = 512;

/// A log level is a list of targets and levels (`waybill=debug,libp2p=warn`). tracing's span
/// and field filters (`target[span{field=value}]`) are refused: it compiles a field's value as
/// a regular expression, and a fuzzed config took minutes and a gigabyte of memory to check.
fn check_log_level(level: &str) -> Result<(), BadValue> {
    if level.len() > MAX_LOG_LEVEL_LEN {
        return Err(bad(
            "log.level",
            level,
            format_args!("longer than {MAX_LOG_LEVEL_LEN} bytes"),
        ));
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || "_:=,.- ".contains(c);
    if let Some(c) = level.chars().find(|c| !allowed(*c)) {
        return Err(bad(
            "log.level",
            level,
            format_args!(
                "{c:?} is not allowed: targets and levels only, e.g. \"waybill=debug,libp2p=warn\" (span and field filters are not accepted)"
            ),
        ));
    }
    tracing_subscriber::EnvFilter::try_new(level).map_err(|e| bad("log.level", level, e))?;
    Ok(())
}
