//! `waybill genesis validate` and `waybill show-validator`.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use ledger::genesis::{peer_id_of, Genesis};
use ledger::keyfile::read_key_file;
use waybill_node::config::NodeConfig;

use super::CliResult;

#[derive(Subcommand)]
pub enum GenesisCmd {
    /// Check a genesis file and print its hash (the chain's identity).
    Validate { path: PathBuf },
}

#[derive(Args)]
pub struct ShowValidatorArgs {
    #[arg(long)]
    pub config: PathBuf,
}

pub fn run(cmd: GenesisCmd) -> CliResult {
    match cmd {
        GenesisCmd::Validate { path } => {
            let g = Genesis::load(&path)?;
            println!("genesis {} is valid", path.display());
            println!("chain_id     {}", g.chain_id);
            println!("genesis_hash {}", g.hash());
            println!(
                "validators   {} (total power {}, quorum {})",
                g.validators.len(),
                g.total_power(),
                g.quorum_power()
            );
            println!("organizations {}", g.organizations.len());
            println!("accounts     {}", g.accounts.len());
        }
    }
    Ok(())
}

pub fn show_validator(args: ShowValidatorArgs) -> CliResult {
    let cfg = NodeConfig::load(&args.config)?;
    let consensus = read_key_file(&cfg.node.consensus_key)?;
    let network = read_key_file(&cfg.node.network_key)?;
    let genesis = Genesis::load(&cfg.node.genesis)?;
    let peer_id = peer_id_of(&network.public().0);
    println!("name          {}", cfg.node.name);
    println!("consensus_key {}", consensus.public());
    println!("peer_id       {peer_id}");
    match genesis.validator_index(&consensus.public()) {
        Some(i) => {
            let v = &genesis.validators[i];
            println!("validator     #{i} {:?} power {}", v.name, v.power);
            if v.peer_id != peer_id {
                println!(
                    "WARNING: genesis lists peer_id {} for this validator",
                    v.peer_id
                );
            }
        }
        None => println!("validator     no: this consensus key is not in genesis (observer)"),
    }
    Ok(())
}
