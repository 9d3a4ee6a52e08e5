//! `waybill run`: start-up checks that fail fast with a clear message, then the node's tasks
//! (network, transaction intake, driver, JSON-RPC, metrics) until SIGINT/SIGTERM.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;

use ledger::keyfile::{read_key_file, KeyFileError};
use ledger::storage::{Store, StoreError};
use ledger::{Genesis, Hash, KeyPair};
use tokio::sync::{broadcast, mpsc, watch};
use tracing::{error, info};

use crate::config::NodeConfig;
use crate::driver::{Command, DriverError, DriverParts};
use crate::mempool::{Mempool, SharedMempool};
use crate::network::{Multiaddr, Network, NetworkConfig, NetworkError, NetworkHandle, PeerId};
use crate::payload::{to_ledger_block, TxBatch};
use crate::status::{BlockSummary, StatusBoard};

/// Commands from the RPC side waiting for the driver.
const COMMAND_QUEUE: usize = 4_096;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error("genesis {path}: {reason}")]
    Genesis { path: String, reason: String },
    #[error("genesis {path}: its ceremony is not complete, so this node will not run it:\n  {}\n(`waybill genesis validate {path}` shows the whole record)", failures.join("\n  "))]
    Ceremony { path: String, failures: Vec<String> },
    #[error("{role} key: {source}")]
    Key {
        role: &'static str,
        #[source]
        source: KeyFileError,
    },
    #[error("network key's PeerId {found} does not match validator {name}'s PeerId {expected} in genesis; check node.network_key")]
    PeerIdMismatch {
        name: String,
        expected: String,
        found: String,
    },
    #[error("data directory {path} belongs to another chain: its genesis hash is {found}, the configured genesis is {expected}")]
    GenesisMismatch {
        path: String,
        expected: Hash,
        found: Hash,
    },
    #[error("cannot create data directory {path}: {reason}")]
    DataDir { path: String, reason: String },
    #[error("opening the ledger at {path}: {source}")]
    Store {
        path: String,
        #[source]
        source: StoreError,
    },
    #[error("network.{field} {value:?}: {reason}")]
    BadAddress {
        field: &'static str,
        value: String,
        reason: String,
    },
    #[error("network: {0}")]
    Network(#[from] NetworkError),
    #[error("json-rpc: {0}")]
    Rpc(String),
    #[error("the driver stopped: {0}")]
    Driver(#[from] DriverError),
    #[error("cannot start the engine's thread: {0}")]
    EngineThread(std::io::Error),
    /// The panic's own message went to stderr (Rust's panic hook), beside the log.
    #[error("the engine's thread panicked")]
    EnginePanicked,
}

/// Everything `run` checked and opened, before any task starts.
pub struct Prepared {
    pub config: NodeConfig,
    pub genesis: Genesis,
    pub consensus_key: KeyPair,
    pub network_secret: [u8; 32],
    pub store: Arc<Store>,
    /// The validators' names and signed addresses, from the genesis file.
    pub peers: crate::genesis_peers::GenesisPeers,
}

pub fn ledger_dir(config: &NodeConfig) -> PathBuf {
    config.node.data_dir.join("ledger")
}

/// The fail-fast checks: genesis, keys in the validator set, PeerId, the data directory's chain.
pub fn prepare(config: NodeConfig) -> Result<Prepared, StartError> {
    let gpath = config.node.genesis.display().to_string();
    let genesis_err = |e: ledger::genesis::GenesisError| StartError::Genesis {
        path: gpath.clone(),
        reason: e.to_string(),
    };
    let file = ledger::ceremony::GenesisFile::read(&config.node.genesis).map_err(genesis_err)?;
    file.genesis.validate().map_err(genesis_err)?;
    if let Some(check) = ledger::ceremony::check(&file) {
        if !check.is_complete() {
            return Err(StartError::Ceremony {
                path: gpath,
                failures: check.failures(),
            });
        }
    }
    let peers = crate::genesis_peers::GenesisPeers::from_file(&file);
    let genesis = file.genesis;
    let consensus_key =
        read_key_file(&config.node.consensus_key).map_err(|source| StartError::Key {
            role: "consensus",
            source,
        })?;
    let network_key =
        read_key_file(&config.node.network_key).map_err(|source| StartError::Key {
            role: "network",
            source,
        })?;
    let me = consensus_key.public();
    let peer_id = ledger::genesis::peer_id_of(&network_key.public().0);
    match genesis.validator_index(&me) {
        Some(index) => {
            let validator = &genesis.validators[index];
            if peer_id != validator.peer_id {
                return Err(StartError::PeerIdMismatch {
                    name: validator.name.clone(),
                    expected: validator.peer_id.clone(),
                    found: peer_id,
                });
            }
        }
        None => observer_checks(&genesis, &peer_id, &me)?,
    }
    let path = ledger_dir(&config);
    let store_err = |source| StartError::Store {
        path: path.display().to_string(),
        source,
    };
    std::fs::create_dir_all(&path).map_err(|e| StartError::DataDir {
        path: path.display().to_string(),
        reason: e.to_string(),
    })?;
    let store = Store::open(&path).map_err(store_err)?;
    let genesis_hash = genesis.hash();
    if let Some(found) = store.genesis_hash() {
        if found != genesis_hash {
            return Err(StartError::GenesisMismatch {
                path: path.display().to_string(),
                expected: genesis_hash,
                found,
            });
        }
    }
    // A store synced from a certified state (`waybill state-sync`) starts at its base, and has
    // no genesis block to write.
    if store.base_height().is_none() {
        let block = to_ledger_block(&consensus::genesis_block::<TxBatch>(&genesis));
        store
            .init_genesis_with_state(
                genesis_hash,
                &block,
                &ledger::supply::genesis_state(&genesis),
            )
            .map_err(store_err)?;
    }
    Ok(Prepared {
        config,
        genesis,
        consensus_key,
        network_secret: network_key.secret_bytes(),
        store: Arc::new(store),
        peers,
    })
}

/// A node whose consensus key is no genesis validator's runs as an observer until an epoch
/// names its key (see the engine's `observer`), which is said: a genesis validator's network key
/// with another consensus key is a rotated key or a mistyped `node.consensus_key`; an observer
/// the genesis does not name is admitted only by validators whose `network.observers` lists it.
fn observer_checks(
    genesis: &Genesis,
    peer_id: &str,
    me: &ledger::PublicKey,
) -> Result<(), StartError> {
    if let Some(v) = genesis.validators.iter().find(|v| v.peer_id == peer_id) {
        tracing::warn!(
            validator = %v.name,
            %peer_id,
            key = %me,
            "the network key is this genesis validator's, but the consensus key is not its genesis key: the node follows without voting until a committed epoch names this key (a rotated key); otherwise check node.consensus_key"
        );
        return Ok(());
    }
    match genesis.observers.iter().find(|o| o.peer_id == peer_id) {
        Some(o) => {
            info!(name = %o.name, %peer_id, "running as an observer the genesis admits: following the chain, never voting")
        }
        None => tracing::warn!(
            %peer_id,
            chain = %genesis.chain_id,
            "running as an observer the genesis does not name: only validators whose network.observers lists this PeerId will let it connect (`waybill genesis add-observer` admits it everywhere)"
        ),
    }
    Ok(())
}

fn network_config(p: &Prepared) -> Result<NetworkConfig, StartError> {
    let listen =
        Multiaddr::from_str(&p.config.network.listen).map_err(|e| StartError::BadAddress {
            field: "listen",
            value: p.config.network.listen.clone(),
            reason: e.to_string(),
        })?;
    let mut config = NetworkConfig::new(p.network_secret, listen);
    // The validators' signed addresses from the genesis, then any the config adds.
    config.peers.extend(p.peers.dial.iter().cloned());
    config.names = p.peers.names.clone();
    for (member, addr) in &p.peers.unusable {
        tracing::warn!(%member, %addr, "the genesis gives an address that is not a multiaddr; not dialling it");
    }
    for addr in &p.config.network.peers {
        let (peer, ma) =
            crate::config::peer_address(addr).map_err(|reason| StartError::BadAddress {
                field: "peers",
                value: addr.clone(),
                reason,
            })?;
        config.peers.push((peer, ma));
    }
    // Who may connect: the genesis's validators (until the engine names its current set, and
    // then that set's) and observers (every member signed the list), and the observers this
    // node's own config admits.
    let mut observers = BTreeSet::new();
    for o in &p.genesis.observers {
        if let Ok(peer) = PeerId::from_str(&o.peer_id) {
            observers.insert(peer);
        }
    }
    for o in &p.config.network.observers {
        observers.insert(PeerId::from_str(o).map_err(|e| StartError::BadAddress {
            field: "observers",
            value: o.clone(),
            reason: e.to_string(),
        })?);
    }
    config.allowed = p
        .genesis
        .validators
        .iter()
        .filter_map(|v| PeerId::from_str(&v.peer_id).ok())
        .collect();
    config.observers = observers;
    // An observer publishes its clients' transactions to the validators but does not take the
    // validators' gossip: nothing it does needs it.
    config.subscribe_transactions = p
        .genesis
        .validator_index(&p.consensus_key.public())
        .is_some();
    Ok(config)
}

/// What the RPC layer gets to talk to the running node.
#[derive(Clone)]
pub struct NodeHandles {
    pub genesis: Arc<Genesis>,
    pub store: Arc<Store>,
    pub commands: mpsc::Sender<Command>,
    pub status: Arc<StatusBoard>,
    pub blocks: broadcast::Sender<BlockSummary>,
    pub net: NetworkHandle,
    /// Submissions are admitted here directly, then announced to the driver with `admitted`.
    pub mempool: SharedMempool,
    pub admitted: Arc<tokio::sync::Notify>,
    /// Admitted transactions' bytes, one group per call, gossiped in batches (see `gossip`).
    pub gossip: mpsc::Sender<crate::gossip::GossipGroup>,
    /// Batches the signature checks of concurrent submissions.
    pub signatures: crate::sigcheck::SignatureChecker,
    pub name: String,
    pub validator_key: ledger::PublicKey,
    /// Validator name → its member's organization id, from the genesis ceremony record.
    pub validator_organizations: Arc<std::collections::BTreeMap<String, String>>,
}

/// Runs a prepared node until a signal or a fatal error.
pub async fn run(p: Prepared) -> Result<(), StartError> {
    let net_config = network_config(&p)?;
    let (net, net_events) = Network::start(net_config).await?;
    info!(peer_id = %net.local_peer_id(), listen = ?net.listen_addrs(), "network up");

    let status = Arc::new(StatusBoard::default());
    let (blocks_tx, _) = broadcast::channel(256);
    let (cmd_tx, cmd_rx) = mpsc::channel(COMMAND_QUEUE);
    let (gossip_tx, gossip_rx) = mpsc::channel(crate::intake::INTAKE_QUEUE);
    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let mempool = SharedMempool::new(Mempool::new(
        p.genesis.chain_id.clone(),
        p.config.mempool.limits(),
    ));
    let admitted = Arc::new(tokio::sync::Notify::new());

    tokio::spawn(crate::intake::run(
        p.genesis.chain_id.clone(),
        gossip_rx,
        crate::intake::IntakeSink {
            mempool: mempool.clone(),
            store: p.store.clone(),
            admitted: admitted.clone(),
        },
    ));
    let (gossip_out, gossip_out_rx) = mpsc::channel(crate::gossip::GOSSIP_QUEUE);
    tokio::spawn(crate::gossip::run_batcher(gossip_out_rx, net.clone()));

    let handles = NodeHandles {
        genesis: Arc::new(p.genesis.clone()),
        store: p.store.clone(),
        commands: cmd_tx,
        status: status.clone(),
        blocks: blocks_tx.clone(),
        net: net.clone(),
        mempool: mempool.clone(),
        admitted: admitted.clone(),
        gossip: gossip_out.clone(),
        signatures: crate::sigcheck::SignatureChecker::start(
            p.genesis.chain_id.clone(),
            mempool.signature_checks().clone(),
        ),
        name: p.config.node.name.clone(),
        validator_key: p.consensus_key.public(),
        validator_organizations: Arc::new(p.peers.organizations.clone()),
    };
    let rpc = crate::api::start(&p.config, handles.clone())
        .await
        .map_err(StartError::Rpc)?;
    let metrics = crate::metrics::start(&p.config, handles.clone())
        .await
        .map_err(StartError::Rpc)?;
    // `waybill backup` reaches the running node here (see admin_socket for why a socket).
    let _admin = crate::admin_socket::start(&p.config.node.data_dir, p.store.clone())
        .inspect_err(
            |e| error!(error = %e, "no admin socket: `waybill backup` cannot reach this node"),
        )
        .ok();
    let progress_every = std::time::Duration::from_secs(p.config.log.progress_secs);
    let progress = tokio::spawn(crate::progress::run(handles.clone(), progress_every));

    let parts = DriverParts {
        mempool,
        admitted,
        genesis: p.genesis,
        key: p.consensus_key,
        store: p.store,
        data_dir: p.config.node.data_dir.clone(),
        net: net.clone(),
        net_events,
        commands: cmd_rx,
        gossip_intake: gossip_tx,
        gossip_out,
        status,
        blocks: blocks_tx,
        shutdown: shutdown_rx,
    };
    let (driver_done, mut driver) = tokio::sync::oneshot::channel();
    let main = tokio::runtime::Handle::current();
    std::thread::Builder::new()
        .name("waybill-engine".into())
        .spawn(move || {
            let _ = driver_done.send(crate::driver::run_on_this_thread(parts, main));
        })
        .map_err(StartError::EngineThread)?;
    info!("node running");

    let result = tokio::select! {
        r = &mut driver => match r {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => { error!(error = %e, "driver failed"); Err(StartError::Driver(e)) }
            // The thread ended without a result: it panicked.
            Err(_) => Err(StartError::EnginePanicked),
        },
        _ = shutdown_signal() => {
            info!("signal received; shutting down");
            let _ = shutdown_tx.send(true);
            let _ = driver.await;
            Ok(())
        }
    };
    rpc.stop();
    progress.abort();
    if let Some(m) = metrics {
        m.abort();
    }
    net.shutdown().await;
    info!("stopped");
    result
}

async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => return std::future::pending().await,
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
