//! `waybill testnet --validators N --out DIR`.

use std::path::PathBuf;

use clap::Args;
use waybill_node::testnet::{generate, TestnetSpec};

use super::CliResult;

#[derive(Args)]
pub struct TestnetArgs {
    /// Number of validators.
    #[arg(long, default_value_t = 4)]
    pub validators: usize,
    /// Output directory (must not exist or be empty).
    #[arg(long)]
    pub out: PathBuf,
    #[arg(long, default_value = "waybill-local")]
    pub chain_id: String,
    /// First of the 3 x (validators + observers) consecutive 127.0.0.1 ports; by default a free
    /// block from 26600 up.
    #[arg(long)]
    pub base_port: Option<u16>,
    /// First round timeout in milliseconds.
    #[arg(long, default_value_t = 1000)]
    pub round_timeout_ms: u64,
    /// Observers to add: non-voting nodes the genesis admits, which follow the chain and serve
    /// it (`observer-0`, ...).
    #[arg(long, default_value_t = 0)]
    pub observers: usize,
}

pub fn run(args: TestnetArgs) -> CliResult {
    let layout = generate(&TestnetSpec {
        validators: args.validators,
        out: args.out,
        chain_id: args.chain_id,
        base_port: args.base_port,
        round_timeout_ms: args.round_timeout_ms,
        observers: args.observers,
    })?;
    say!("genesis: {}", layout.genesis.display());
    for n in &layout.nodes {
        say!(
            "{}: config {}  rpc {}  metrics {}",
            n.name,
            n.config.display(),
            n.rpc_url,
            n.metrics_url
        );
    }
    say!("client account keys: {}", layout.clients_dir.display());
    say!("start a node with: waybill run --config <config>");
    Ok(())
}
