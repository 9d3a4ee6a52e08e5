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
//!
//! `sync` fills an empty store from another's latest certified state the way `waybill
//! state-sync` does (the walk of `ledger::state_sync`, every answer checked, then
//! `Store::install_snapshot`), in process: the store's own cost of serving, checking, staging
//! and installing, without the network. `generate --extra-state N` pads the state with N entries
//! execution never writes (100-byte values), so the figure covers a state of a busy chain; such
//! a store fails `waybill audit ledger`'s re-execution, and is for this figure only.

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
        /// Pad the state with this many entries (10,000 a block from height 1).
        #[arg(long, default_value_t = 0)]
        extra_state: u64,
    },
    /// Sync the empty store at TO from the latest certified state of the store at FROM.
    Sync {
        #[arg(long)]
        from: PathBuf,
        #[arg(long)]
        to: PathBuf,
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
            extra_state,
        } => generate(
            &dir,
            blocks,
            txs_per_block,
            certify_every,
            genesis_out,
            extra_state,
        ),
        Cmd::Open { dir, verify } => open(&dir, verify),
        Cmd::Sync { from, to } => sync(&from, &to),
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
/// Padding state entries written with each block (`--extra-state`).
const PAD_PER_BLOCK: u64 = 10_000;

fn generate(
    dir: &Path,
    blocks: u64,
    txs_per_block: usize,
    certify_every: u64,
    genesis_out: Option<PathBuf>,
    extra_state: u64,
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
    let mut padded = 0u64;
    for height in 1..=blocks {
        let mut block = chain.prepare(txs_per_block)?;
        while padded < extra_state && padded < height * PAD_PER_BLOCK {
            let value = ledger::Hash::blake3(&padded.to_be_bytes()).0.repeat(4)[..100].to_vec();
            block
                .delta
                .insert(format!("bench/{padded:012}").into_bytes(), Some(value));
            padded += 1;
        }
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

fn sync(from: &Path, to: &Path) -> Result<()> {
    use ledger::state_sync::{StateSync, SyncStep};
    let genesis = bench_genesis();
    let src = Store::open(from)?;
    let dst = Store::open(to)?;
    let started = Instant::now();
    let certificate = src.certificate_for(None)?;
    let height = certificate.checkpoint.height;
    let base = src
        .snapshot_base(height)?
        .ok_or_else(|| format!("height {height} has no base"))?;
    base.certificate.verify(&genesis)?;
    let base = base.verify()?;
    dst.begin_state_sync()?;
    let mut walk = StateSync::new(base.certificate.checkpoint.state_root);
    let mut bytes = 0usize;
    while let Some(request) = walk.next_request() {
        let chunk = src.state_chunk(&request.node)?;
        bytes += chunk.to_bytes().len();
        match walk.on_chunk(&request.node, chunk)? {
            SyncStep::Entries(entries) => dst.stage_state(&entries)?,
            SyncStep::Split => {}
            SyncStep::Unavailable => {
                return Err(format!("node {} unavailable", request.node).into())
            }
        }
    }
    let walked = started.elapsed().as_secs_f64();
    let info = dst.install_snapshot(genesis.hash(), &base, &[])?;
    let total = started.elapsed().as_secs_f64();
    let (entries, answers) = walk.progress();
    println!(
        "sync {} -> {}: height {} state root {}: {entries} entries, {answers} answers, {:.1} MB of answers; walk {walked:.2} s ({:.0} entries/s), install {:.2} s, total {total:.2} s",
        from.display(),
        to.display(),
        info.height,
        info.state_root,
        bytes as f64 / 1e6,
        entries as f64 / walked,
        total - walked,
    );
    Ok(())
}
