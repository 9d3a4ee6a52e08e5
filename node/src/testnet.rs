//! `waybill testnet`: everything a local N-validator network needs in one directory: keys (0600),
//! one genesis, and per-node TOML configs with unique 127.0.0.1 ports. It runs the key ceremony
//! (`ledger::ceremony`) on the members' behalf, holding all their keys: each validator's bundle
//! and signature are in the genesis, so nodes find each other from it as in a real consortium.
//! Ports are checked free at generation time, so two testnets on one host never collide.

use std::net::TcpListener;
use std::path::{Path, PathBuf};

use ledger::ceremony::{
    add_member, GenesisFile, Member, MemberBundle, MemberKeys, MemberSignature,
};
use ledger::crypto::KeyPair;
use ledger::genesis::{peer_id_of, ConsensusParams, Genesis};
use ledger::keyfile::write_key_file;

use crate::config::{
    LogSection, MempoolSection, MetricsSection, NetworkSection, NodeConfig, NodeSection, RpcSection,
};

/// Ports each node uses, relative to its block: p2p, JSON-RPC, metrics.
pub const PORTS_PER_NODE: u16 = 3;

/// Names of the demo consortium's organizations, one per validator (more get `member-N`).
const ORG_NAMES: [(&str, &str); 4] = [
    ("farm", "Green Valley Farm"),
    ("processor", "Fresh Foods Processing"),
    ("shipper", "Coastal Logistics"),
    ("retailer", "City Grocers"),
];

#[derive(Debug, thiserror::Error)]
pub enum TestnetError {
    #[error("--validators must be 1..=64, got {0}")]
    BadCount(usize),
    #[error("output directory {path} is not empty; choose another --out or remove it")]
    NotEmpty { path: String },
    #[error("cannot write {path}: {reason}")]
    Write { path: String, reason: String },
    #[error("no block of {needed} free 127.0.0.1 ports found from {from}")]
    NoPorts { from: u16, needed: usize },
    #[error("port {port} on 127.0.0.1 is in use; choose another --base-port")]
    PortInUse { port: u16 },
    #[error(transparent)]
    Genesis(#[from] ledger::genesis::GenesisError),
    #[error(transparent)]
    Ceremony(#[from] ledger::ceremony::AssembleError),
    #[error(transparent)]
    Bundle(#[from] ledger::ceremony::BundleError),
}

pub struct TestnetSpec {
    pub validators: usize,
    pub out: PathBuf,
    pub chain_id: String,
    /// First port; `None` searches upward from 26600 for a free block.
    pub base_port: Option<u16>,
    pub round_timeout_ms: u64,
    /// Observers to add (`observer-0`, ...): named in the genesis, with keys and configs of
    /// their own, after the validators' ports.
    pub observers: usize,
}

/// What was generated, for printing.
pub struct TestnetLayout {
    pub genesis: PathBuf,
    pub nodes: Vec<NodeLayout>,
    pub clients_dir: PathBuf,
}

pub struct NodeLayout {
    pub name: String,
    pub dir: PathBuf,
    pub config: PathBuf,
    pub rpc_url: String,
    pub metrics_url: String,
}

pub fn generate(spec: &TestnetSpec) -> Result<TestnetLayout, TestnetError> {
    let n = spec.validators;
    if !(1..=64).contains(&n) {
        return Err(TestnetError::BadCount(n));
    }
    if spec.out.exists()
        && std::fs::read_dir(&spec.out)
            .map(|mut d| d.next().is_some())
            .unwrap_or(true)
    {
        return Err(TestnetError::NotEmpty {
            path: spec.out.display().to_string(),
        });
    }
    let needed = (n + spec.observers) * PORTS_PER_NODE as usize;
    let base = match spec.base_port {
        Some(p) => {
            check_ports_free(p, needed)?;
            p
        }
        None => find_free_block(26600, needed)?,
    };
    let out = &spec.out;
    mkdir(out)?;
    let clients_dir = out.join("clients");
    mkdir(&clients_dir)?;

    let consensus: Vec<KeyPair> = (0..n).map(|_| KeyPair::generate()).collect();
    let network: Vec<KeyPair> = (0..n).map(|_| KeyPair::generate()).collect();
    let names: Vec<String> = (0..n).map(|i| format!("validator-{i}")).collect();
    let port = |i: usize, k: u16| base + (i as u16) * PORTS_PER_NODE + k;

    let mut file = GenesisFile {
        genesis: Genesis {
            chain_id: spec.chain_id.clone(),
            genesis_time_ms: now_ms(),
            consensus: ConsensusParams {
                round_timeout_ms: spec.round_timeout_ms,
                ..ConsensusParams::default()
            },
            validators: vec![],
            organizations: vec![],
            accounts: vec![],
            governance: None,
            observers: vec![],
        },
        ceremony: None,
    };
    for i in 0..n {
        let (id, name) = ORG_NAMES
            .get(i)
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .unwrap_or_else(|| (format!("member-{i}"), format!("Consortium member {i}")));
        let keys = MemberKeys {
            consensus: consensus[i].clone(),
            network: network[i].clone(),
            admin: KeyPair::generate(),
            operator: KeyPair::generate(),
        };
        write_key(
            &clients_dir.join(format!("{id}-admin.key")),
            "account",
            &keys.admin,
        )?;
        write_key(
            &clients_dir.join(format!("{id}-operator.key")),
            "account",
            &keys.operator,
        )?;
        let member = Member {
            name: names[i].clone(),
            organization: id,
            organization_name: name,
            consensus_key: keys.consensus.public(),
            peer_id: peer_id_of(&keys.network.public().0),
            addresses: vec![format!("/ip4/127.0.0.1/tcp/{}", port(i, 0))],
            admin_key: keys.admin.public(),
            operator_key: keys.operator.public(),
        };
        add_member(&mut file, MemberBundle::sign(member, &keys)?)?;
    }
    let observers: Vec<(String, KeyPair, KeyPair)> = (0..spec.observers)
        .map(|j| {
            (
                format!("observer-{j}"),
                KeyPair::generate(),
                KeyPair::generate(),
            )
        })
        .collect();
    for (name, _, network) in &observers {
        file.genesis.observers.push(ledger::genesis::Observer {
            name: name.clone(),
            peer_id: peer_id_of(&network.public().0),
        });
    }
    file.genesis.validate()?;
    let hash = file.genesis.hash();
    if let Some(c) = file.ceremony.as_mut() {
        for (i, key) in consensus.iter().enumerate() {
            c.signatures
                .push(MemberSignature::sign(&names[i], hash, key));
        }
    }
    let genesis_path = out.join("genesis.toml");
    write_file(&genesis_path, &file.to_toml())?;

    let mut nodes = Vec::new();
    let everyone = (0..n)
        .map(|i| (names[i].clone(), &consensus[i], &network[i]))
        .chain(observers.iter().map(|(name, c, k)| (name.clone(), c, k)));
    for (i, (name, consensus, network)) in everyone.enumerate() {
        let dir = out.join(&name);
        mkdir(&dir)?;
        write_key(&dir.join("consensus.key"), "consensus", consensus)?;
        write_key(&dir.join("network.key"), "network", network)?;
        let cfg = NodeConfig {
            node: NodeSection {
                name: name.clone(),
                data_dir: "data".into(),
                genesis: "../genesis.toml".into(),
                consensus_key: "consensus.key".into(),
                network_key: "network.key".into(),
            },
            network: NetworkSection {
                listen: format!("/ip4/127.0.0.1/tcp/{}", port(i, 0)),
                peers: vec![],
                observers: vec![],
            },
            rpc: RpcSection {
                listen: format!("127.0.0.1:{}", port(i, 1)),
                cors_origins: vec![],
                max_connections: 256,
                requests_per_second_per_client: 5_000,
                explorer: true,
            },
            metrics: MetricsSection {
                listen: format!("127.0.0.1:{}", port(i, 2)),
            },
            mempool: MempoolSection::default(),
            log: LogSection::default(),
        };
        let config = dir.join("config.toml");
        write_file(&config, &cfg.to_toml())?;
        nodes.push(NodeLayout {
            name,
            dir,
            config,
            rpc_url: format!("http://127.0.0.1:{}", port(i, 1)),
            metrics_url: format!("http://127.0.0.1:{}/metrics", port(i, 2)),
        });
    }
    Ok(TestnetLayout {
        genesis: genesis_path,
        nodes,
        clients_dir,
    })
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

fn check_ports_free(base: u16, count: usize) -> Result<(), TestnetError> {
    for k in 0..count {
        let port = base.checked_add(k as u16).ok_or(TestnetError::NoPorts {
            from: base,
            needed: count,
        })?;
        TcpListener::bind(("127.0.0.1", port)).map_err(|_| TestnetError::PortInUse { port })?;
    }
    Ok(())
}

/// The first of `count` consecutive free 127.0.0.1 ports, searching from `from` in steps of 100.
pub fn find_free_block(from: u16, count: usize) -> Result<u16, TestnetError> {
    let mut base = from;
    while (base as usize) + count < 60_000 {
        if check_ports_free(base, count).is_ok() {
            return Ok(base);
        }
        base += 100;
    }
    Err(TestnetError::NoPorts {
        from,
        needed: count,
    })
}

fn mkdir(p: &Path) -> Result<(), TestnetError> {
    std::fs::create_dir_all(p).map_err(|e| TestnetError::Write {
        path: p.display().to_string(),
        reason: e.to_string(),
    })
}

fn write_file(p: &Path, text: &str) -> Result<(), TestnetError> {
    std::fs::write(p, text).map_err(|e| TestnetError::Write {
        path: p.display().to_string(),
        reason: e.to_string(),
    })
}

fn write_key(p: &Path, kind: &str, key: &KeyPair) -> Result<(), TestnetError> {
    write_key_file(p, kind, key).map_err(|e| TestnetError::Write {
        path: p.display().to_string(),
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generates_a_consistent_network() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("net");
        let layout = generate(&TestnetSpec {
            validators: 4,
            out: out.clone(),
            chain_id: "waybill-test".into(),
            base_port: None,
            round_timeout_ms: 1000,
            observers: 0,
        })
        .unwrap();
        let file = GenesisFile::read(&layout.genesis).unwrap();
        let genesis = Genesis::load(&layout.genesis).unwrap();
        assert_eq!(file.genesis, genesis);
        assert_eq!(genesis.validators.len(), 4);
        let check = ledger::ceremony::check(&file).unwrap();
        assert!(check.is_complete(), "{:?}", check.failures());
        let peers = crate::genesis_peers::GenesisPeers::from_file(&file);
        assert_eq!(peers.dial.len(), 4);
        assert_eq!(peers.names.len(), 4);
        let mut ports = std::collections::BTreeSet::new();
        for (i, node) in layout.nodes.iter().enumerate() {
            let cfg = NodeConfig::load_with_env(&node.config, &[]).unwrap();
            let key = ledger::keyfile::read_key_file(&cfg.node.consensus_key).unwrap();
            assert_eq!(genesis.validators[i].consensus_key, key.public());
            let net = ledger::keyfile::read_key_file(&cfg.node.network_key).unwrap();
            assert_eq!(genesis.validators[i].peer_id, peer_id_of(&net.public().0));
            // Peers come from the genesis, not the config.
            assert!(cfg.network.peers.is_empty());
            assert!(ports.insert(cfg.network.listen.clone()));
            assert!(ports.insert(cfg.rpc.listen.clone()));
            assert!(ports.insert(cfg.metrics.listen.clone()));
        }
        assert!(matches!(
            generate(&TestnetSpec {
                validators: 4,
                out,
                chain_id: "x".into(),
                base_port: None,
                round_timeout_ms: 1000,
                observers: 0,
            }),
            Err(TestnetError::NotEmpty { .. })
        ));
    }
}
