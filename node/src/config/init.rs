//! `waybill config init`: a member's (an observer's, or a member's joining by governance) config
//! from its directory and the genesis, with nothing typed by hand: the name comes from the
//! genesis (or, for a joining member, its own signed bundle), the listen port from the member's
//! own bundle, the key paths from the directory's layout.

use std::path::{Path, PathBuf};

use ledger::ceremony::GenesisFile;
use ledger::genesis::peer_id_of;
use libp2p::multiaddr::Protocol;
use libp2p::Multiaddr;

use super::{
    LogSection, MempoolSection, MetricsSection, NetworkSection, NodeConfig, NodeSection, RpcSection,
};
use crate::member_dir::{self, MemberDirError};

/// The p2p port when the member's bundle gives none.
pub const DEFAULT_P2P_PORT: u16 = 26600;

/// What `config init` may be told; everything else is derived.
#[derive(Clone, Debug, Default)]
pub struct InitSpec {
    pub dir: PathBuf,
    pub genesis: PathBuf,
    /// Default: all interfaces, on the port of the member's first advertised address.
    pub p2p_listen: Option<String>,
    /// Default: 127.0.0.1 on the p2p port + 1.
    pub rpc_listen: Option<String>,
    /// Default: 127.0.0.1 on the p2p port + 2.
    pub metrics_listen: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error(transparent)]
    Keys(#[from] MemberDirError),
    #[error("genesis {path}: {reason}")]
    Genesis { path: String, reason: String },
    #[error("the keys in {dir} (consensus key {key}, PeerId {peer_id}) are neither a validator's nor an observer's in genesis {genesis}, and {dir} holds no member bundle signed by them (a member joining by governance runs `waybill keys init` there first)")]
    NotInGenesis {
        dir: String,
        key: String,
        peer_id: String,
        genesis: String,
    },
    #[error(
        "the genesis lists PeerId {expected} for {name:?}, but the network key in {dir} is {found}"
    )]
    PeerIdMismatch {
        name: String,
        dir: String,
        expected: String,
        found: String,
    },
    #[error("{path}: {reason}")]
    Io { path: String, reason: String },
}

/// The config of the member in `spec.dir`, with paths relative to that directory.
pub fn member_config(spec: &InitSpec) -> Result<NodeConfig, InitError> {
    let gshown = spec.genesis.display().to_string();
    let file = GenesisFile::read(&spec.genesis).map_err(|e| InitError::Genesis {
        path: gshown.clone(),
        reason: e.to_string(),
    })?;
    file.genesis.validate().map_err(|e| InitError::Genesis {
        path: gshown.clone(),
        reason: e.to_string(),
    })?;
    let consensus = member_dir::consensus_key(&spec.dir)?.public();
    let network = member_dir::network_key(&spec.dir)?.public();
    let dir = spec.dir.display().to_string();
    let peer_id = peer_id_of(&network.0);
    let validator = file
        .genesis
        .validators
        .iter()
        .find(|v| v.consensus_key == consensus);
    let (name, addresses) = match validator {
        Some(v) => {
            if peer_id != v.peer_id {
                return Err(InitError::PeerIdMismatch {
                    name: v.name.clone(),
                    dir,
                    expected: v.peer_id.clone(),
                    found: peer_id,
                });
            }
            let bundle = file
                .ceremony
                .as_ref()
                .and_then(|c| c.members.iter().find(|b| b.name == v.name));
            (v.name.clone(), bundle.map(|b| b.addresses.clone()))
        }
        // An observer: the genesis holds its name and PeerId. A member joining by governance:
        // only its own bundle (checked: its keys signed it, and they are the directory's) does.
        // Either way its addresses are in its own bundle, in its directory.
        None => {
            let own = std::fs::read_to_string(spec.dir.join(member_dir::BUNDLE))
                .ok()
                .and_then(|t| ledger::ceremony::MemberBundle::from_toml(&t).ok());
            let observer = file.genesis.observers.iter().find(|o| o.peer_id == peer_id);
            let joining = own.as_ref().filter(|b| {
                b.consensus_key == consensus && b.peer_id == peer_id && b.verify().is_ok()
            });
            let name = match (observer, joining) {
                (Some(o), _) => o.name.clone(),
                (None, Some(b)) => b.name.clone(),
                (None, None) => {
                    return Err(InitError::NotInGenesis {
                        dir: dir.clone(),
                        key: consensus.to_string(),
                        peer_id: peer_id.clone(),
                        genesis: gshown.clone(),
                    })
                }
            };
            (name, own.map(|b| b.addresses))
        }
    };
    let advertised: Option<Multiaddr> = addresses
        .as_ref()
        .and_then(|a| a.first())
        .and_then(|a| a.parse().ok());
    let port = advertised
        .as_ref()
        .and_then(|a| {
            a.iter().find_map(|p| match p {
                Protocol::Tcp(port) => Some(port),
                _ => None,
            })
        })
        .unwrap_or(DEFAULT_P2P_PORT);
    let ipv6 = advertised
        .as_ref()
        .is_some_and(|a| a.iter().any(|p| matches!(p, Protocol::Ip6(_))));
    let p2p_listen = spec.p2p_listen.clone().unwrap_or_else(|| {
        if ipv6 {
            format!("/ip6/::/tcp/{port}")
        } else {
            format!("/ip4/0.0.0.0/tcp/{port}")
        }
    });
    let local = |offset: u16| format!("127.0.0.1:{}", port.saturating_add(offset));
    Ok(NodeConfig {
        node: NodeSection {
            name,
            data_dir: "data".into(),
            genesis: genesis_path(&spec.dir, &spec.genesis)?,
            consensus_key: member_dir::CONSENSUS_KEY.into(),
            network_key: member_dir::NETWORK_KEY.into(),
        },
        network: NetworkSection {
            listen: p2p_listen,
            peers: vec![],
            observers: vec![],
        },
        rpc: RpcSection {
            listen: spec.rpc_listen.clone().unwrap_or_else(|| local(1)),
            cors_origins: vec![],
            max_connections: super::default_max_connections(),
            requests_per_second_per_client: super::default_rate(),
            explorer: super::default_explorer(),
        },
        metrics: MetricsSection {
            listen: spec.metrics_listen.clone().unwrap_or_else(|| local(2)),
        },
        mempool: MempoolSection::default(),
        log: LogSection::default(),
    })
}

/// The genesis as the config names it: relative when it is inside the member's directory (the
/// directory can move), else absolute.
fn genesis_path(dir: &Path, genesis: &Path) -> Result<PathBuf, InitError> {
    let abs = |p: &Path| {
        std::fs::canonicalize(p).map_err(|e| InitError::Io {
            path: p.display().to_string(),
            reason: e.to_string(),
        })
    };
    let (dir, genesis) = (abs(dir)?, abs(genesis)?);
    Ok(genesis
        .strip_prefix(&dir)
        .map(Path::to_path_buf)
        .unwrap_or(genesis))
}
