//! `waybill config init | check | reference`.

use std::path::PathBuf;

use clap::Subcommand;
use waybill_node::config::init::{member_config, InitSpec};
use waybill_node::config::{reference, NodeConfig};
use waybill_node::member_dir;

use super::CliResult;

#[derive(Subcommand)]
pub enum ConfigCmd {
    /// Write DIR/config.toml for the member whose keys are in DIR, every key with its comment:
    /// the name comes from the genesis, the p2p port from the member's bundle, the JSON-RPC and
    /// metrics ports follow it (+1, +2 on 127.0.0.1). Refuses to replace a config without --force.
    Init {
        /// The member's directory (from `waybill keys init`).
        #[arg(long)]
        dir: PathBuf,
        /// The signed genesis file.
        #[arg(long)]
        genesis: PathBuf,
        /// Multiaddr to listen on for validators [default: all interfaces, the bundle's port].
        #[arg(long)]
        p2p_listen: Option<String>,
        /// host:port of JSON-RPC [default: 127.0.0.1, the p2p port + 1].
        #[arg(long)]
        rpc_listen: Option<String>,
        /// host:port of metrics, empty for none [default: 127.0.0.1, the p2p port + 2].
        #[arg(long)]
        metrics_listen: Option<String>,
        #[arg(long)]
        force: bool,
    },
    /// Read a config with its WAYBILL_* environment overrides and report the first problem.
    Check {
        #[arg(long)]
        config: PathBuf,
    },
    /// Print the config reference (docs/CONFIG.md) as Markdown.
    Reference,
}

pub fn run(cmd: ConfigCmd) -> CliResult {
    match cmd {
        ConfigCmd::Init {
            dir,
            genesis,
            p2p_listen,
            rpc_listen,
            metrics_listen,
            force,
        } => {
            let path = dir.join(member_dir::CONFIG);
            if path.exists() && !force {
                return Err(
                    format!("{} exists; pass --force to replace it", path.display()).into(),
                );
            }
            let cfg = member_config(&InitSpec {
                dir: dir.clone(),
                genesis,
                p2p_listen,
                rpc_listen,
                metrics_listen,
            })?;
            let header = format!(
                "Waybill node config of {:?}, written by `waybill config init`.\n\
                 docs/CONFIG.md documents every key; WAYBILL_<SECTION>_<KEY> environment\n\
                 variables override them. The other validators' addresses come from the genesis.",
                cfg.node.name
            );
            std::fs::write(&path, reference::commented_toml(&cfg, &header))
                .map_err(|e| format!("{}: {e}", path.display()))?;
            // What was written must read back: the same checks `run` makes.
            let loaded = NodeConfig::load_with_env(&path, &[])?;
            say!("wrote {}", path.display());
            say!("  name     {}", loaded.node.name);
            say!("  genesis  {}", loaded.node.genesis.display());
            say!("  p2p      {}", loaded.network.listen);
            say!("  json-rpc {}", loaded.rpc.listen);
            say!("  metrics  {}", loaded.metrics.listen);
            say!("start it with: waybill run --config {}", path.display());
        }
        ConfigCmd::Check { config } => {
            let cfg = NodeConfig::load(&config)?;
            say!(
                "{}: ok (node {:?}, genesis {})",
                config.display(),
                cfg.node.name,
                cfg.node.genesis.display()
            );
        }
        ConfigCmd::Reference => say!("{}", reference::markdown().trim_end()),
    }
    Ok(())
}
