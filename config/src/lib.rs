//! Per-node configuration: a TOML file, with environment overrides of the form
//! `WAYBILL_<SECTION>_<KEY>` (e.g. `WAYBILL_RPC_LISTEN=127.0.0.1:9000`). Relative paths in the
//! file are relative to the file's own directory, so a node directory can be moved as a whole.
//! Every key is documented in the node's `config::reference` (and so in `docs/CONFIG.md`).
//!
//! A crate of its own, without RocksDB, so that the fuzz build reaches the parser and its checks
//! (a config file is input like any other); the node re-exports it as `waybill_node::config`.

mod check;
mod load;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use check::{peer_address, BadValue};
pub use load::SECTIONS;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeConfig {
    pub node: NodeSection,
    pub network: NetworkSection,
    pub rpc: RpcSection,
    #[serde(default)]
    pub metrics: MetricsSection,
    #[serde(default)]
    pub mempool: MempoolSection,
    #[serde(default)]
    pub log: LogSection,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeSection {
    /// Shown in logs; by convention the validator's genesis name.
    pub name: String,
    pub data_dir: PathBuf,
    pub genesis: PathBuf,
    /// Key file of the consensus key (signs votes); a key the genesis does not list as a
    /// validator's makes the node an observer.
    pub consensus_key: PathBuf,
    /// Key file of the libp2p identity (its PeerId must match genesis for a validator).
    pub network_key: PathBuf,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkSection {
    /// Multiaddr to listen on, e.g. `/ip4/127.0.0.1/tcp/26000`.
    pub listen: String,
    /// Multiaddrs of the other validators, each ending in `/p2p/<PeerId>`.
    #[serde(default)]
    pub peers: Vec<String>,
    /// PeerIds of observers allowed to connect besides the genesis's `[[observers]]`.
    #[serde(default)]
    pub observers: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RpcSection {
    /// `host:port` of the JSON-RPC server (HTTP and WebSocket on one port).
    pub listen: String,
    /// Origins allowed by CORS; empty means no CORS headers (same-origin only); `["*"]` allows any.
    #[serde(default)]
    pub cors_origins: Vec<String>,
    #[serde(default = "default_max_connections")]
    pub max_connections: u32,
    /// Calls a second per client IP address (IPv6: per /64), each call of a batch counting, with
    /// a burst of one second's worth; over it a call gets error -32005 (HTTP 429 when every call
    /// of a request is refused). 0 turns the limit off.
    #[serde(default = "default_rate")]
    pub requests_per_second_per_client: u32,
    /// Serve the ledger explorer page at `/explorer/` on this port.
    #[serde(default = "default_explorer")]
    pub explorer: bool,
}

/// `rpc.max_connections` when the file leaves it out.
pub fn default_max_connections() -> u32 {
    256
}
/// `rpc.requests_per_second_per_client` when the file leaves it out.
pub fn default_rate() -> u32 {
    5_000
}
/// `rpc.explorer` when the file leaves it out.
pub fn default_explorer() -> bool {
    true
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsSection {
    /// `host:port` of the Prometheus endpoint; empty disables it.
    #[serde(default)]
    pub listen: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MempoolSection {
    /// Most transactions held in total.
    pub capacity: usize,
    /// Most transactions held per account.
    pub per_account: usize,
    /// How far ahead of an account's next sequence number a transaction may be.
    pub sequence_window: u64,
}

impl MempoolSection {
    /// The engine's mempool bounds.
    pub fn limits(&self) -> engine::mempool::MempoolLimits {
        engine::mempool::MempoolLimits {
            capacity: self.capacity,
            per_account: self.per_account,
            sequence_window: self.sequence_window,
        }
    }
}

impl Default for MempoolSection {
    fn default() -> Self {
        MempoolSection {
            // Room for a burst: 30 s at 10,000 tx/s on a local 4-validator network that orders
            // about 5,000 tx/s under that load leaves ~150,000 waiting (BENCHMARKS.md). Every
            // validator holds every pending transaction (gossip), ~0.5 KiB each.
            capacity: 200_000,
            per_account: 1_000,
            sequence_window: 1_000,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogSection {
    /// `human` or `json`.
    #[serde(default = "default_log_format")]
    pub format: String,
    /// A tracing filter, e.g. `info` or `waybill=debug,libp2p=warn`.
    #[serde(default = "default_log_level")]
    pub level: String,
    /// Seconds between one-line progress reports; 0 turns them off.
    #[serde(default = "default_progress_secs")]
    pub progress_secs: u64,
}

fn default_log_format() -> String {
    "human".into()
}
fn default_log_level() -> String {
    "info".into()
}
fn default_progress_secs() -> u64 {
    10
}

impl Default for LogSection {
    fn default() -> Self {
        LogSection {
            format: default_log_format(),
            level: default_log_level(),
            progress_secs: default_progress_secs(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("config {path} is not valid: {reason}")]
    Invalid { path: String, reason: String },
    #[error("environment variable {var}={value:?}: {reason}")]
    Env {
        var: String,
        value: String,
        reason: String,
    },
    #[error("{key} = {value:?} (from {origin}): {reason}")]
    BadValue {
        key: &'static str,
        value: String,
        /// `config file PATH` or `environment variable WAYBILL_...`.
        origin: String,
        reason: String,
    },
}

impl NodeConfig {
    /// Loads `path`, applies `WAYBILL_*` environment overrides, resolves relative paths.
    pub fn load(path: &Path) -> Result<NodeConfig, ConfigError> {
        let env: Vec<(String, String)> = std::env::vars().collect();
        Self::load_with_env(path, &env)
    }

    pub fn load_with_env(path: &Path, env: &[(String, String)]) -> Result<NodeConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        Self::parse_with_env(path, &text, env)
    }

    /// What [`NodeConfig::load_with_env`] does with the file's text once read: parse it, apply
    /// the `WAYBILL_*` overrides in `env`, check the values, resolve relative paths against
    /// `path`'s directory.
    pub fn parse_with_env(
        path: &Path,
        text: &str,
        env: &[(String, String)],
    ) -> Result<NodeConfig, ConfigError> {
        let shown = path.display().to_string();
        let overrides = load::overrides(env);
        let mut cfg = load::parse(path, text, &overrides)?;
        cfg.check_values().map_err(|bad| {
            let (section, key) = bad.key.split_once('.').unwrap_or((bad.key, ""));
            let origin = overrides
                .iter()
                .rfind(|o| o.section == section && o.key == key)
                .map_or_else(
                    || format!("config file {shown}"),
                    |o| format!("environment variable {}", o.var),
                );
            ConfigError::BadValue {
                key: bad.key,
                value: bad.value,
                origin,
                reason: bad.reason,
            }
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        for p in [
            &mut cfg.node.data_dir,
            &mut cfg.node.genesis,
            &mut cfg.node.consensus_key,
            &mut cfg.node.network_key,
        ] {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        }
        Ok(cfg)
    }

    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).expect("config serialises")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"
[node]
name = "v0"
data_dir = "data"
genesis = "../genesis.toml"
consensus_key = "consensus.key"
network_key = "network.key"

[network]
listen = "/ip4/127.0.0.1/tcp/26000"

[rpc]
listen = "127.0.0.1:8545"
"#;

    /// Found by the `node_config` long fuzz run: a level with a span's field filter
    /// (`target[span{field=value}]`), whose value tracing compiles as a regular expression,
    /// took minutes and a gigabyte of memory to check. Targets and levels only.
    #[test]
    fn a_log_level_is_targets_and_levels_only() {
        let with_level = |level: &str| {
            NodeConfig::parse_with_env(
                std::path::Path::new("config.toml"),
                SAMPLE,
                &[("WAYBILL_LOG_LEVEL".to_string(), level.to_string())],
            )
        };
        assert!(with_level("waybill=debug,libp2p=warn").is_ok());
        assert!(with_level("info").is_ok());
        assert!(with_level("waybill::engine=trace,libp2p_gossipsub=off").is_ok());
        for refused in [
            "waybill[round{height=1}]=debug".to_string(),
            "waybill[{x=a+++++*.....}]=debug".to_string(),
            format!("waybill={}", "debug,".repeat(200)),
        ] {
            let err = with_level(&refused).expect_err(&refused);
            assert!(err.to_string().contains("log.level"), "{err}");
        }
    }

    #[test]
    fn loads_resolves_and_overrides() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, SAMPLE).unwrap();
        let env = vec![
            (
                "WAYBILL_RPC_LISTEN".to_string(),
                "127.0.0.1:9999".to_string(),
            ),
            ("WAYBILL_MEMPOOL_CAPACITY".to_string(), "7".to_string()),
            ("WAYBILL_CONFIG".to_string(), "ignored".to_string()),
        ];
        let cfg = NodeConfig::load_with_env(&path, &env).unwrap();
        assert_eq!(cfg.rpc.listen, "127.0.0.1:9999");
        assert_eq!(cfg.node.data_dir, dir.path().join("data"));
        assert_eq!(cfg.mempool.capacity, 7);
        assert_eq!(
            cfg.mempool.per_account,
            MempoolSection::default().per_account
        );
        assert_eq!(cfg.log.format, "human");
    }

    #[test]
    fn unknown_fields_and_bad_values_are_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, format!("{SAMPLE}\nbogus = 1\n")).unwrap();
        let err = NodeConfig::load_with_env(&path, &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("bogus"), "{err}");
        let env = vec![("WAYBILL_MEMPOOL_CAPACITY".to_string(), "lots".to_string())];
        std::fs::write(&path, SAMPLE).unwrap();
        assert!(NodeConfig::load_with_env(&path, &env).is_err());
        assert!(matches!(
            NodeConfig::load_with_env(&dir.path().join("none.toml"), &[]),
            Err(ConfigError::Read { .. })
        ));
    }

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn errors_name_the_file_or_the_variable() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        let shown = path.display().to_string();

        // A bad type in the file: the file, with its line.
        std::fs::write(&path, format!("{SAMPLE}\n[mempool]\ncapacity = \"lots\"\n")).unwrap();
        match NodeConfig::load_with_env(&path, &[]) {
            Err(ConfigError::Invalid { path: p, reason }) => {
                assert_eq!(p, shown);
                assert!(reason.contains("line 16"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
        // The same bad type from the environment: the variable.
        std::fs::write(&path, SAMPLE).unwrap();
        let e = NodeConfig::load_with_env(&path, &env(&[("WAYBILL_MEMPOOL_CAPACITY", "lots")]));
        assert!(
            matches!(&e, Err(ConfigError::Env { var, .. }) if var == "WAYBILL_MEMPOOL_CAPACITY"),
            "{e:?}"
        );
        // A misspelt key in a variable.
        let e = NodeConfig::load_with_env(
            &path,
            &env(&[
                ("WAYBILL_RPC_LISTEN", "127.0.0.1:1"),
                ("WAYBILL_RPC_LISTN", "x"),
            ]),
        );
        let text = e.unwrap_err().to_string();
        assert!(
            text.contains("WAYBILL_RPC_LISTN") && text.contains("listn"),
            "{text}"
        );

        // A well-typed but wrong value: the key, the value and its origin.
        let e = NodeConfig::load_with_env(&path, &env(&[("WAYBILL_RPC_LISTEN", "localhost")]));
        match e {
            Err(ConfigError::BadValue {
                key, value, origin, ..
            }) => {
                assert_eq!((key, value.as_str()), ("rpc.listen", "localhost"));
                assert_eq!(origin, "environment variable WAYBILL_RPC_LISTEN");
            }
            other => panic!("{other:?}"),
        }
        let cases = [
            (
                "listen = \"127.0.0.1:8545\"",
                "listen = \"8545\"",
                "rpc.listen",
            ),
            (
                "/ip4/127.0.0.1/tcp/26000",
                "127.0.0.1:26000",
                "network.listen",
            ),
        ];
        for (from, to, key) in cases {
            std::fs::write(&path, SAMPLE.replace(from, to)).unwrap();
            match NodeConfig::load_with_env(&path, &[]) {
                Err(ConfigError::BadValue { key: k, origin, .. }) => {
                    assert_eq!(k, key);
                    assert_eq!(origin, format!("config file {shown}"));
                }
                other => panic!("{key}: {other:?}"),
            }
        }
        std::fs::write(&path, format!("{SAMPLE}\n[log]\nformat = \"xml\"\n")).unwrap();
        assert!(matches!(
            NodeConfig::load_with_env(&path, &[]),
            Err(ConfigError::BadValue {
                key: "log.format",
                ..
            })
        ));
        let bad_peer = SAMPLE.replace(
            "listen = \"/ip4/127.0.0.1/tcp/26000\"",
            "listen = \"/ip4/127.0.0.1/tcp/26000\"\npeers = [\"/ip4/127.0.0.1/tcp/1\"]",
        );
        std::fs::write(&path, bad_peer).unwrap();
        let text = NodeConfig::load_with_env(&path, &[])
            .unwrap_err()
            .to_string();
        assert!(
            text.contains("network.peers") && text.contains("/p2p/"),
            "{text}"
        );
    }
}
