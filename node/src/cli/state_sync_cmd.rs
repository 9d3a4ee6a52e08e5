//! `waybill state-sync` (docs/OPERATIONS.md, "State sync"): fills a stopped node's empty data
//! directory from a certified state, checked from the genesis file alone.

use std::path::PathBuf;

use clap::Args;
use ledger::storage::Store;
use waybill_node::config::NodeConfig;
use waybill_node::run::ledger_dir;

use super::CliResult;

#[derive(Args)]
pub struct StateSyncArgs {
    /// The node's config (its genesis file and data directory). The node must be stopped and
    /// its data directory hold no ledger yet.
    #[arg(long)]
    pub config: PathBuf,
    /// A JSON-RPC URL of a node to sync from; repeat it to spread the fetch over several (one
    /// that answers wrongly is dropped). The first names the height synced to: the latest it
    /// has certified.
    #[arg(long = "from", required = true)]
    pub from: Vec<String>,
}

pub fn run(args: StateSyncArgs) -> CliResult {
    let config = NodeConfig::load(&args.config)?;
    let file = ledger::ceremony::GenesisFile::read(&config.node.genesis)
        .map_err(|e| format!("genesis {}: {e}", config.node.genesis.display()))?;
    let genesis = file.genesis;
    let path = ledger_dir(&config);
    if let Some(pid) = waybill_node::data_lock::holder(&path) {
        return Err(format!(
            "node {:?} is running (pid {pid}); stop it before syncing its state",
            config.node.name
        )
        .into());
    }
    std::fs::create_dir_all(&path).map_err(|e| format!("cannot make {}: {e}", path.display()))?;
    let store = Store::open(&path).map_err(|e| format!("opening {}: {e}", path.display()))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let mut last_said = 0u64;
    let report = runtime.block_on(waybill_node::state_sync::sync_from(
        &args.from,
        &genesis,
        &store,
        |entries| {
            if entries >= last_said + 100_000 {
                last_said = entries;
                say!("  {entries} state entries so far");
            }
        },
    ))?;
    say!(
        "synced {} state entries ({} answers) in {:.1} s: height {}, epoch {}",
        report.entries,
        report.answers,
        report.seconds,
        report.height,
        report.epoch
    );
    say!(
        "  block {}, state root {}",
        report.block_hash,
        report.state_root
    );
    say!(
        "  checked from the genesis file; start the node with: waybill run --config {}",
        args.config.display()
    );
    Ok(())
}
