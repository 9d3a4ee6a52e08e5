//! `waybill run --config FILE` and `waybill reset --config FILE`.

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::Args;
use tracing_subscriber::EnvFilter;
use waybill_node::config::{LogSection, NodeConfig};
use waybill_node::reset::ResetOutcome;
use waybill_node::run::{ledger_dir, prepare, run};

use super::CliResult;

#[derive(Args)]
pub struct RunArgs {
    /// The node's TOML config (`waybill config init`); `WAYBILL_<SECTION>_<KEY>` variables
    /// override it (docs/CONFIG.md).
    #[arg(long)]
    pub config: PathBuf,
    /// Log format, overriding the config's `log.format`: `human` or `json` (one JSON object a
    /// line).
    #[arg(long, value_parser = ["human", "json"])]
    pub log_format: Option<String>,
}

pub fn run_node(args: RunArgs) -> CliResult {
    let mut config = NodeConfig::load(&args.config)?;
    if let Some(format) = args.log_format {
        config.log.format = format;
    }
    refuse_if_running(&config)?;
    init_logging(&config.log)?;
    tracing::info!(
        version = waybill_node::version::LONG,
        config = %args.config.display(),
        "starting"
    );
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
/// `RUST_LOG`, when set, replaces `log.level`. Colour only when stderr is a terminal and
/// `NO_COLOR` is not set: a log file or a journal gets plain text.
fn init_logging(log: &LogSection) -> CliResult {
    let filter = match std::env::var("RUST_LOG") {
        Ok(v) if !v.is_empty() => EnvFilter::try_new(v)?,
        _ => EnvFilter::try_new(quiet_gossipsub(&log.level))?,
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(colour(
            std::io::stderr().is_terminal(),
            std::env::var_os("NO_COLOR"),
        ))
        .with_writer(std::io::stderr);
    let result = if log.format == "json" {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
    result.map_err(|e| format!("cannot start logging: {e}"))?;
    Ok(())
}

/// <https://no-color.org>: any non-empty `NO_COLOR` turns colour off.
fn colour(terminal: bool, no_color: Option<std::ffi::OsString>) -> bool {
    terminal && no_color.is_none_or(|v| v.is_empty())
}

/// Another process holding the node's database is a running node: say so, with its pid,
/// instead of RocksDB's lock error.
fn refuse_if_running(config: &NodeConfig) -> CliResult {
    let dir = ledger_dir(config);
    if let Some(pid) = waybill_node::data_lock::holder(&dir) {
        return Err(format!(
            "node {:?} is running (pid {pid}) and holds {}; stop it first (e.g. kill {pid}, or systemctl stop)",
            config.node.name,
            dir.display()
        )
        .into());
    }
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
    refuse_if_running(&config)?;
    match waybill_node::reset::reset(&config.node.data_dir, args.forget_safety_data)? {
        ResetOutcome::NothingThere => {
            say!("nothing to reset: {} does not exist", dir.display())
        }
        ResetOutcome::Kept {
            last_voted_round,
            source,
        } => say!(
            "reset {}: ledger deleted, consensus safety data kept (last voted round {last_voted_round}, from {source})",
            dir.display()
        ),
        ResetOutcome::Forgotten => say!("reset {}: everything deleted", dir.display()),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::colour;

    #[test]
    fn colour_only_on_a_terminal_without_no_color() {
        assert!(colour(true, None));
        assert!(colour(true, Some("".into())));
        assert!(!colour(true, Some("1".into())));
        assert!(!colour(false, None));
    }
}
