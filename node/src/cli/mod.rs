//! Command-line surface. Each subcommand lives in its own file; this one only dispatches.

// First: its `say!` macro is used by every command below.
#[macro_use]
pub mod output;

mod audit_cmd;
mod audit_fetch;
mod audit_words;
mod backup_cmd;
mod config_cmd;
mod genesis_cmd;
mod keys;
mod localnet_cmd;
mod progress;
mod run_cmd;
mod state_sync_cmd;
mod testnet_cmd;
mod tx_cmd;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "waybill",
    version = waybill_node::version::LONG,
    about = "Waybill: a permissioned BFT ledger for supply-chain records"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// A member's keys and its public member bundle (the first step of the key ceremony).
    #[command(subcommand)]
    Keys(keys::KeysCmd),
    /// Write keys, one genesis and per-node configs for a local N-validator network.
    Testnet(testnet_cmd::TestnetArgs),
    /// Assemble, sign and check a genesis (the key ceremony; docs/OPERATIONS.md).
    #[command(subcommand)]
    Genesis(genesis_cmd::GenesisCmd),
    /// Write, check and document node configs.
    #[command(subcommand)]
    Config(config_cmd::ConfigCmd),
    /// A local network of validator processes: up, status, logs, down.
    Localnet(localnet_cmd::LocalnetArgs),
    /// Run a validator node.
    Run(run_cmd::RunArgs),
    /// Delete a node's ledger, keeping its consensus safety data (it catches up when restarted).
    Reset(run_cmd::ResetArgs),
    /// Fill an empty data directory from a certified state other nodes serve (an observer or new
    /// validator joining a long chain); `run` then catches up from there.
    StateSync(state_sync_cmd::StateSyncArgs),
    /// Write a consistent copy of a node's store (running or stopped) into a new directory.
    Backup(backup_cmd::BackupArgs),
    /// Put a backup back into a stopped node's data directory (never its safety mark).
    Restore(backup_cmd::RestoreArgs),
    /// Print this node's validator identity (consensus key, PeerId) from its config.
    ShowValidator(genesis_cmd::ShowValidatorArgs),
    /// Build, sign and submit a transaction (every payload kind; --dry-run to only print it).
    Tx(tx_cmd::TxCmd),
    /// The auditor's tools: verify a proof file offline, rescan a node's database.
    #[command(subcommand)]
    Audit(audit_cmd::AuditCmd),
}

/// Any error a command reports: printed as `error: ...` with exit code 1.
pub type CliResult = Result<(), Box<dyn std::error::Error>>;

pub fn run(cli: Cli) -> CliResult {
    match cli.command {
        Command::Keys(cmd) => keys::run(cmd),
        Command::Testnet(args) => testnet_cmd::run(args),
        Command::Genesis(cmd) => genesis_cmd::run(cmd),
        Command::Config(cmd) => config_cmd::run(cmd),
        Command::ShowValidator(args) => genesis_cmd::show_validator(args),
        Command::Run(args) => run_cmd::run_node(args),
        Command::Localnet(args) => localnet_cmd::run(args),
        Command::Reset(args) => run_cmd::reset(args),
        Command::StateSync(args) => state_sync_cmd::run(args),
        Command::Backup(args) => backup_cmd::backup(args),
        Command::Restore(args) => backup_cmd::restore(args),
        Command::Tx(cmd) => tx_cmd::run(cmd),
        Command::Audit(cmd) => audit_cmd::run(cmd),
    }
}
