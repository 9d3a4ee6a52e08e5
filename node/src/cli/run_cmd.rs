//! `waybill run --config FILE` and `waybill reset --config FILE`.

use std::path::PathBuf;

use clap::Args;
use tracing_subscriber::EnvFilter;
use waybill_node::config::{LogSection, NodeConfig};
use waybill_node::reset::ResetOutcome;
use waybill_node::run::{ledger_dir, prepare, run};

use super::CliResult;

#[derive(Args)]
pub struct RunArgs {
    /// The node's TOML config (see `waybill testnet`); `WAYBILL_<SECTION>_<KEY>` variables override it.
    #[arg(long)]
    pub config: PathBuf,
}

pub fn run_node(args: RunArgs) -> CliResult {
    let config = NodeConfig::load(&args.config)?;
    init_logging(&config.log)?;
    let prepared = prepare(config)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("waybill")
        .build()?;
    runtime.block_on(run(prepared))?;
    Ok(())
}

/// gossipsub warns once per message it cannot queue, with the message's bytes: under load that
/// is megabytes of log a second, costing the CPU consensus needs. Its warnings are only shown
/// when the configured level names `libp2p_gossipsub` itself.
fn quiet_gossipsub(level: &str) -> String {
    if level.contains("libp2p_gossipsub") {
        level.to_string()
    } else {
        format!("{level},libp2p_gossipsub=error")
    }
}

/// Human-readable logs on stderr by default, one JSON object per line with `log.format = "json"`.
/// `RUST_LOG`, when set, replaces `log.level`.
fn init_logging(log: &LogSection) -> CliResult {
    let filter = match std::env::var("RUST_LOG") {
        Ok(v) if !v.is_empty() => EnvFilter::try_new(v)?,
        _ => EnvFilter::try_new(quiet_gossipsub(&log.level))?,
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let result = if log.format == "json" {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
    result.map_err(|e| format!("cannot start logging: {e}"))?;
    Ok(())
}

#[derive(Args)]
pub struct ResetArgs {
    #[arg(long)]
    pub config: PathBuf,
    /// Also forget the consensus safety data (the record of what this validator signed). Only
    /// for a chain that is being thrown away: a validator that forgets its votes can equivocate.
    #[arg(long)]
    pub forget_safety_data: bool,
}

/// Deletes the node's ledger (it catches up from peers when restarted) but keeps the consensus
/// safety data, so the validator can never sign against its own past votes (see
/// `waybill_node::reset`: a store that no longer opens resets from the safety mark).
pub fn reset(args: ResetArgs) -> CliResult {
    let config = NodeConfig::load(&args.config)?;
    let dir = ledger_dir(&config);
    match waybill_node::reset::reset(&config.node.data_dir, args.forget_safety_data)? {
        ResetOutcome::NothingThere => {
            println!("nothing to reset: {} does not exist", dir.display())
        }
        ResetOutcome::Kept {
            last_voted_round,
            source,
        } => println!(
            "reset {}: ledger deleted, consensus safety data kept (last voted round {last_voted_round}, from {source})",
            dir.display()
        ),
        ResetOutcome::Forgotten => println!("reset {}: everything deleted", dir.display()),
    }
    Ok(())
}
