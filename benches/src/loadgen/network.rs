//! The validators under load: a local network of real `waybill` processes started with the node's
//! own localnet code (stopped again when the [`Network`] is dropped), or nodes already running
//! that the run attaches to by JSON-RPC URL.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use waybill_node::localnet::{self, LocalNode};
use waybill_node::testnet::{generate, TestnetSpec};

use super::LoadgenError;

/// A started network answers within this long or the run stops with the node's log.
const READY_WITHIN: Duration = Duration::from_secs(60);

pub struct NodeHandle {
    pub name: String,
    pub rpc_url: String,
    /// For RSS sampling; unknown when attached by URL without `--pids`.
    pub pid: Option<i32>,
    /// The metrics endpoint (`host:port`), for the validators' own counters; unknown when
    /// attached by URL.
    pub metrics: Option<String>,
}

pub struct Network {
    pub chain_id: String,
    pub nodes: Vec<NodeHandle>,
    /// Processes this run started, stopped on drop.
    started: Vec<LocalNode>,
    /// Directory this run created, removed on drop unless kept.
    owned_dir: Option<PathBuf>,
}

impl Drop for Network {
    fn drop(&mut self) {
        for node in &self.started {
            localnet::stop_node(node, Duration::from_secs(10));
        }
        if let Some(dir) = &self.owned_dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

impl Network {
    /// Generates a `validators`-node network in `dir` (which must not exist or be empty),
    /// starts `exe run` for each node and waits until every node answers and sees all its peers.
    /// `keep_dir` leaves the directory (logs, data) behind after the run.
    pub async fn start(
        exe: &Path,
        dir: &Path,
        validators: usize,
        round_timeout_ms: u64,
        keep_dir: bool,
    ) -> Result<Network, LoadgenError> {
        if !exe.is_file() {
            return Err(LoadgenError::Usage(format!(
                "no waybill binary at {}; build it with `cargo build --release --workspace --bins` \
                 or pass --waybill",
                exe.display()
            )));
        }
        let chain_id = "waybill-loadgen".to_string();
        generate(&TestnetSpec {
            validators,
            out: dir.to_path_buf(),
            chain_id: chain_id.clone(),
            base_port: None,
            round_timeout_ms,
            observers: 0,
        })?;
        let all = localnet::nodes(dir)?;
        for node in &all {
            lift_rate_limit(node)?;
        }
        // Re-read: the configs changed on disk.
        let all = localnet::nodes(dir)?;
        let mut net = Network {
            chain_id,
            nodes: Vec::new(),
            started: Vec::new(),
            owned_dir: (!keep_dir).then(|| dir.to_path_buf()),
        };
        for node in &all {
            let pid = localnet::start_node(exe, node)?;
            net.started.push(node.clone());
            net.nodes.push(NodeHandle {
                name: node.name.clone(),
                rpc_url: node.rpc_url(),
                pid: Some(pid),
                metrics: Some(node.config.metrics.listen.clone()).filter(|m| !m.is_empty()),
            });
        }
        net.wait_ready(validators - 1).await?;
        Ok(net)
    }

    /// Uses nodes already running at `urls`; `pids` (same order) enable RSS sampling.
    pub async fn attach(urls: &[String], pids: &[i32]) -> Result<Network, LoadgenError> {
        let mut chain: Option<(String, ledger::Hash)> = None;
        let mut nodes = Vec::new();
        for (k, url) in urls.iter().enumerate() {
            let client = client(url)?;
            let head = client.head().await.map_err(|e| LoadgenError::Rpc {
                url: url.clone(),
                reason: e.to_string(),
            })?;
            let this = (head.chain_id.clone(), head.genesis_hash);
            match &chain {
                Some(c) if *c != this => {
                    return Err(LoadgenError::ChainMismatch(format!(
                        "{url} is on chain {:?} ({}), {} on {:?} ({})",
                        this.0, this.1, urls[0], c.0, c.1
                    )))
                }
                _ => chain = Some(this),
            }
            let name = client
                .status()
                .await
                .map(|s| s.name)
                .unwrap_or_else(|_| url.clone());
            nodes.push(NodeHandle {
                name,
                rpc_url: url.clone(),
                pid: pids.get(k).copied(),
                metrics: None,
            });
        }
        let Some((chain_id, _)) = chain else {
            return Err(LoadgenError::Usage("--rpc names no node".into()));
        };
        Ok(Network {
            chain_id,
            nodes,
            started: Vec::new(),
            owned_dir: None,
        })
    }

    /// Every node answers JSON-RPC and is connected to `peers` others (no transaction may be
    /// sent into a network that cannot gossip it yet).
    async fn wait_ready(&self, peers: usize) -> Result<(), LoadgenError> {
        let start = Instant::now();
        for (k, node) in self.nodes.iter().enumerate() {
            let client = client(&node.rpc_url)?;
            loop {
                if let Ok(status) = client.status().await {
                    if status.peers.len() >= peers {
                        break;
                    }
                }
                if let Some(local) = self.started.get(k) {
                    localnet::check_alive(local)?;
                }
                if start.elapsed() > READY_WITHIN {
                    return Err(LoadgenError::NotReady {
                        what: format!("{} ({})", node.name, node.rpc_url),
                        secs: READY_WITHIN.as_secs(),
                    });
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
        Ok(())
    }
}

pub fn client(url: &str) -> Result<rpc::Client, LoadgenError> {
    rpc::Client::new(url).map_err(|e| LoadgenError::Rpc {
        url: url.into(),
        reason: e.to_string(),
    })
}

/// All of the load comes from one address (127.0.0.1), which the per-client rate limit would
/// treat as one client: lift it (0 = off) in the generated configs, so the limit measured is the
/// node's and not the limiter's. The file is edited as TOML so its relative paths stay relative.
fn lift_rate_limit(node: &LocalNode) -> Result<(), LoadgenError> {
    let path = &node.config_path;
    let fail = |reason: String| LoadgenError::Config {
        path: path.display().to_string(),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|e| fail(e.to_string()))?;
    let mut table: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| fail(e.to_string()))?;
    let Some(toml::Value::Table(rpc)) = table.get_mut("rpc") else {
        return Err(fail("no [rpc] section".into()));
    };
    rpc.insert(
        "requests_per_second_per_client".into(),
        toml::Value::Integer(0),
    );
    let out = toml::to_string_pretty(&table).map_err(|e| fail(e.to_string()))?;
    std::fs::write(path, out).map_err(|e| LoadgenError::Io {
        path: path.display().to_string(),
        reason: e.to_string(),
    })
}
