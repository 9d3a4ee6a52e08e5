//! `waybill localnet up|status|logs|down`: a local network of real validator processes.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clap::{Args, Subcommand};
use ledger::keyfile::read_key_file;
use ledger::tx::{Payload, Transaction};
use waybill_node::localnet::{
    check_alive, ensure_generated, log_tail, nodes, start_node, stop_node, LocalNode, LocalnetError,
};

use super::CliResult;

/// How long `up` waits for every node to answer and the smoke transaction to commit.
const READY_TIMEOUT: Duration = Duration::from_secs(90);

#[derive(Args)]
pub struct LocalnetArgs {
    /// Where the network lives (generated on the first `up`).
    #[arg(long, global = true, default_value = ".waybill/localnet")]
    pub dir: PathBuf,
    #[command(subcommand)]
    pub command: LocalnetCmd,
}

#[derive(Subcommand)]
pub enum LocalnetCmd {
    /// Generate (first time) and start every validator; return once a transaction has committed.
    Up {
        #[arg(long, default_value_t = 4)]
        validators: usize,
    },
    /// Each validator's process, height, round and peers.
    Status,
    /// The last lines of each node's log, or follow one node's log.
    Logs {
        /// Only this node (e.g. validator-0).
        node: Option<String>,
        #[arg(long, default_value_t = 20)]
        lines: usize,
        /// Keep printing new lines (needs one node).
        #[arg(short, long)]
        follow: bool,
    },
    /// Stop every validator (SIGTERM, then SIGKILL after 10 s). The data stays.
    Down,
}

pub fn run(args: LocalnetArgs) -> CliResult {
    match args.command {
        LocalnetCmd::Up { validators } => up(&args.dir, validators),
        LocalnetCmd::Status => status(&args.dir),
        LocalnetCmd::Logs {
            node,
            lines,
            follow,
        } => logs(&args.dir, node, lines, follow),
        LocalnetCmd::Down => {
            for n in nodes(&args.dir)? {
                let stopped = stop_node(&n, Duration::from_secs(10));
                say!(
                    "{}: {}",
                    n.name,
                    if stopped { "stopped" } else { "not running" }
                );
            }
            Ok(())
        }
    }
}

fn up(dir: &Path, validators: usize) -> CliResult {
    if ensure_generated(dir, validators)? {
        say!(
            "generated a {validators}-validator network in {}",
            dir.display()
        );
    }
    let exe = std::env::current_exe()?;
    let all = nodes(dir)?;
    for n in &all {
        let pid = start_node(&exe, n)?;
        say!("{}: pid {pid}, log {}", n.name, n.log_file().display());
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(wait_ready(dir, &all))?;
    say!();
    say!("ready: {} validators committing", all.len());
    say!("JSON-RPC: {}", all[0].rpc_url());
    if all[0].config.rpc.explorer {
        say!(
            "explorer: {}",
            waybill_node::explorer::url(&all[0].rpc_url())
        );
    }
    say!("client keys: {}", dir.join("clients").display());
    say!("stop with: waybill localnet down --dir {}", dir.display());
    Ok(())
}

/// Every node answers; then a memo signed by a client key commits and every node reports it.
async fn wait_ready(dir: &Path, all: &[LocalNode]) -> Result<(), Box<dyn std::error::Error>> {
    let start = Instant::now();
    let not_ready = |what: String| LocalnetError::NotReady {
        secs: READY_TIMEOUT.as_secs(),
        what,
    };
    let mut clients = Vec::new();
    for n in all {
        loop {
            check_alive(n)?;
            if let Ok(c) = rpc::Client::new(&n.rpc_url()) {
                if c.head().await.is_ok() {
                    clients.push(c);
                    break;
                }
            }
            if start.elapsed() > READY_TIMEOUT {
                return Err(not_ready(format!("{} does not answer JSON-RPC", n.name)).into());
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    let key = smoke_key(dir)?;
    let chain_id = clients[0].head().await?.chain_id;
    let sequence = clients[0].next_sequence(key.public()).await?;
    let tx = Transaction {
        chain_id,
        signer: key.public(),
        sequence,
        payload: Payload::Memo {
            data: b"localnet smoke test".to_vec(),
        },
    }
    .sign(&key);
    let hash = tx.hash();
    let remaining = READY_TIMEOUT.saturating_sub(start.elapsed());
    clients[0]
        .submit_and_wait(tx, remaining.as_millis() as u64)
        .await
        .map_err(|e| not_ready(format!("smoke transaction {hash}: {e}")))?;
    for (n, c) in all.iter().zip(&clients) {
        loop {
            check_alive(n)?;
            // A receipt, not just an answer: a transaction still in the mempool is reported
            // too (`pending`).
            if matches!(c.transaction(hash).await, Ok(Some(info)) if info.receipt.is_some()) {
                break;
            }
            if start.elapsed() > READY_TIMEOUT {
                return Err(not_ready(format!("{} has not committed {hash}", n.name)).into());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    say!("smoke transaction {hash} committed on every validator");
    Ok(())
}

/// The first client key of the network (generated by `waybill testnet`).
fn smoke_key(dir: &Path) -> Result<ledger::KeyPair, Box<dyn std::error::Error>> {
    let clients = dir.join("clients");
    let mut keys: Vec<PathBuf> = std::fs::read_dir(&clients)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "key"))
        .collect();
    keys.sort();
    let path = keys
        .first()
        .ok_or_else(|| format!("no client key in {}", clients.display()))?;
    Ok(read_key_file(path)?)
}

fn status(dir: &Path) -> CliResult {
    let all = nodes(dir)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    say!(
        "{:<14} {:>8} {:>8} {:>8} {:>6}  rpc",
        "node",
        "pid",
        "height",
        "round",
        "peers"
    );
    for n in &all {
        let pid = n.running_pid();
        let status = match pid {
            Some(_) => runtime.block_on(async {
                let c = rpc::Client::new(&n.rpc_url()).ok()?;
                c.status().await.ok()
            }),
            None => None,
        };
        let pid = pid.map_or("-".to_string(), |p| p.to_string());
        match status {
            Some(s) => say!(
                "{:<14} {:>8} {:>8} {:>8} {:>6}  {}",
                n.name,
                pid,
                s.committed_height,
                s.round,
                s.peers.len(),
                n.rpc_url()
            ),
            None => say!(
                "{:<14} {:>8} {:>8} {:>8} {:>6}  {}",
                n.name,
                pid,
                "-",
                "-",
                "-",
                n.rpc_url()
            ),
        }
    }
    Ok(())
}

fn logs(dir: &Path, only: Option<String>, lines: usize, follow: bool) -> CliResult {
    let all = nodes(dir)?;
    let chosen: Vec<&LocalNode> = all
        .iter()
        .filter(|n| only.as_ref().is_none_or(|o| &n.name == o))
        .collect();
    if chosen.is_empty() {
        return Err(format!(
            "no node named {:?} in {}",
            only.unwrap_or_default(),
            dir.display()
        )
        .into());
    }
    if follow {
        if chosen.len() != 1 {
            return Err("--follow needs one node, e.g. `logs validator-0 --follow`".into());
        }
        let status = std::process::Command::new("tail")
            .arg("-n")
            .arg(lines.to_string())
            .arg("-F")
            .arg(chosen[0].log_file())
            .status()?;
        if !status.success() {
            return Err(format!("tail exited with {status}").into());
        }
        return Ok(());
    }
    for n in chosen {
        say!("==> {} ({}) <==", n.name, n.log_file().display());
        say!("{}", log_tail(n, lines));
    }
    Ok(())
}
