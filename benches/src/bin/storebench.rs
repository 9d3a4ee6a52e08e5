//! Builds ledger stores of a given height without consensus, and times opening them: the
//! restart-cost figures in BENCHMARKS.md.
//!
//! `generate` commits executed blocks through the store's own commit path ([`StoreChain`]: signed
//! memo transactions, a 3-signature QC in every block, a ledger certificate per height), so the
//! store is what a validator would hold, auditable with `waybill audit ledger` against the genesis
//! file it writes. Every commit fsyncs, as a node's does: on a disk that is a few milliseconds
//! each, so generate large stores on a tmpfs (`/dev/shm`) and copy them to the disk to measure.
//!
//! `open` opens a store as the node does (or with a full check, as before the verified-up-to
//! marker) and prints how long `Store::open_with` took, in a process of its own each time.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, Subcommand, ValueEnum};
use ledger::storage::{OpenOptions, Store, VerifyMode};
use waybill_benches::{bench_genesis, StoreChain};

#[derive(Parser)]
#[command(about = "Generate ledger stores of a given height, and time opening them")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Commit BLOCKS executed blocks on top of genesis into a new store at DIR.
    Generate {
        #[arg(long)]
        dir: PathBuf,
        #[arg(long)]
        blocks: u64,
        /// Signed memo transactions in every block.
        #[arg(long, default_value_t = 1)]
        txs_per_block: usize,
        /// Store a ledger certificate every N heights (a node certifies every height); 0: none.
        #[arg(long, default_value_t = 1)]
        certify_every: u64,
        /// Write the chain's genesis file here (for `waybill audit ledger --genesis`).
        #[arg(long)]
        genesis_out: Option<PathBuf>,
    },
    /// Open the store at DIR and print the time `Store::open_with` took.
    Open {
        #[arg(long)]
        dir: PathBuf,
        /// What the open checks.
        #[arg(long, value_enum, default_value_t = Check::SinceVerified)]
        verify: Check,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Check {
    /// What `Store::open` does: the blocks after the verified-up-to marker.
    SinceVerified,
    /// The whole chain, as every open did before the marker.
    Full,
}

fn main() -> ExitCode {
    let result = match Cli::parse().cmd {
        Cmd::Generate {
            dir,
            blocks,
            txs_per_block,
            certify_every,
            genesis_out,
        } => generate(&dir, blocks, txs_per_block, certify_every, genesis_out),
        Cmd::Open { dir, verify } => open(&dir, verify),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("storebench: {e}");
            ExitCode::FAILURE
        }
    }
}

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// Progress every this many blocks.
const REPORT_EVERY: u64 = 10_000;

fn generate(
    dir: &Path,
    blocks: u64,
    txs_per_block: usize,
    certify_every: u64,
    genesis_out: Option<PathBuf>,
) -> Result<()> {
    if dir.exists() && std::fs::read_dir(dir)?.next().is_some() {
        return Err(format!("{} is not empty: generate makes a new store", dir.display()).into());
    }
    let genesis = bench_genesis();
    if let Some(path) = genesis_out {
        std::fs::write(&path, genesis.to_toml())?;
    }
    let started = Instant::now();
    let mut chain = StoreChain::open_for(dir, &genesis)?;
    for height in 1..=blocks {
        let block = chain.prepare(txs_per_block)?;
        chain.commit(&block)?;
        if certify_every > 0 && height % certify_every == 0 {
            chain.certify(&genesis, height)?;
        }
        if height % REPORT_EVERY == 0 || height == blocks {
            let secs = started.elapsed().as_secs_f64();
            eprintln!(
                "height {height} of {blocks}: {secs:.0} s, {:.0} blocks/s",
                height as f64 / secs
            );
        }
    }
    let head = chain.store.head().expect("genesis at least");
    println!(
        "generated {}: head {} {}, {} transactions, {:.1} s",
        dir.display(),
        head.height,
        head.hash,
        chain.store.accumulator_size(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn open(dir: &Path, check: Check) -> Result<()> {
    let (verify, name) = match check {
        Check::SinceVerified => (VerifyMode::SinceVerified, "since-verified"),
        Check::Full => (VerifyMode::Full, "full"),
    };
    let started = Instant::now();
    let store = Store::open_with(
        dir,
        OpenOptions {
            verify,
            ..Default::default()
        },
    )?;
    let elapsed = started.elapsed();
    let head = store.head().map_or(0, |h| h.height);
    let marker = store.verified_marker()?.map_or(0, |m| m.height);
    println!(
        "open {} verify={name} head={head} marker={marker} {:.3} s",
        dir.display(),
        elapsed.as_secs_f64()
    );
    Ok(())
}
