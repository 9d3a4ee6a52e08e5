//! `waybill audit fetch`: asks a node for a proof, writes it to a file, and (given the genesis
//! file) verifies it offline at once, so a newcomer gets from "it committed" to "it is proven"
//! in one command. The node is not trusted: the file is what `waybill audit verify` checks.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::{Args, Subcommand};
use ledger::proof::{Proof, ProofFile};
use ledger::Hash;

use super::audit_cmd::{verify_with_times, VerifyArgs};
use super::CliResult;

#[derive(Args)]
pub struct FetchArgs {
    #[command(subcommand)]
    pub what: FetchWhat,
    /// JSON-RPC URL of a node.
    #[arg(
        long,
        global = true,
        env = "WAYBILL_RPC",
        default_value = "http://127.0.0.1:26601"
    )]
    pub rpc: String,
    /// Where to write the proof [default: a name from what is proven, in the current directory].
    #[arg(long, global = true)]
    pub out: Option<PathBuf>,
    /// Replace the file if it exists (by default an earlier proof is never overwritten).
    #[arg(long, global = true)]
    pub force: bool,
    /// Verify the written proof against this genesis file (as `waybill audit verify` does).
    #[arg(long, global = true)]
    pub genesis: Option<PathBuf>,
    /// How long to wait for the node's head to be certified (a ledger certificate forms a few
    /// milliseconds after a commit), so the proof covers what was just committed.
    #[arg(long, global = true, value_name = "MS", default_value_t = 10_000)]
    pub wait_ms: u64,
    /// With --genesis: print the verdict as JSON (as `waybill audit verify --json`).
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Subcommand)]
pub enum FetchWhat {
    /// A committed transaction with its receipt and inclusion proof.
    Tx {
        /// Transaction hash (hex).
        hash: Hash,
    },
    /// An item's current state, or its absence, with a state proof.
    Item {
        id: String,
        /// Prove the state at this certified height instead of the latest.
        #[arg(long)]
        height: Option<u64>,
    },
    /// Every event of an item, each with an inclusion proof.
    History { id: String },
    /// The ledger at `from` is a prefix of the ledger at `to`: history was not rewritten.
    Consistency {
        from: u64,
        /// The later certified height [default: the latest].
        #[arg(long)]
        to: Option<u64>,
    },
}

/// Why a proof could not be fetched.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("cannot start a client for {url}: {reason}")]
    Client { url: String, reason: String },
    #[error("the node at {url} answered {what}: {reason}")]
    Node {
        url: String,
        what: &'static str,
        reason: String,
    },
    #[error("transaction {hash} is not committed on the node at {url}")]
    NotCommitted { hash: Hash, url: String },
    #[error(
        "the node at {url} has not certified height {head} within {wait_ms} ms \
         (certified up to {certified}); retry, or pass --wait-ms"
    )]
    NotCertified {
        url: String,
        head: u64,
        certified: u64,
        wait_ms: u64,
    },
    #[error("cannot write {path}: {reason}")]
    Write { path: String, reason: String },
    #[error(
        "{path} exists; an earlier proof is not overwritten: choose another --out, or pass --force"
    )]
    Exists { path: String },
}

pub fn run(args: FetchArgs) -> CliResult {
    let out = args.out.clone().unwrap_or_else(|| default_name(&args.what));
    // Checked before asking the node, and again when writing (`create_new`).
    if !args.force && out.exists() {
        return Err(FetchError::Exists {
            path: out.display().to_string(),
        }
        .into());
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| FetchError::Client {
            url: args.rpc.clone(),
            reason: e.to_string(),
        })?;
    let file = runtime.block_on(fetch(&args))?;
    write_proof(&out, &file.to_json(), args.force)?;
    if !args.json {
        say!(
            "wrote {} proof to {}{}",
            file.proof.kind(),
            out.display(),
            match file.epoch_changes.len() {
                0 => String::new(),
                n => format!(" with the {n} epoch changes since genesis"),
            }
        );
    }
    match args.genesis {
        Some(genesis) => {
            let times = runtime.block_on(certified_times(&args.rpc, &file.proof));
            verify_with_times(
                VerifyArgs {
                    genesis,
                    proof: out,
                    json: args.json,
                },
                &times,
            )
        }
        None => {
            say!(
                "verify it offline with: waybill audit verify --genesis GENESIS.toml {}",
                out.display()
            );
            Ok(())
        }
    }
}

/// The proof, with the epoch changes since genesis (none while the genesis set still signs).
async fn fetch(args: &FetchArgs) -> Result<ProofFile, FetchError> {
    let url = args.rpc.clone();
    let node = |what: &'static str| {
        let url = url.clone();
        move |e: rpc::ClientError| FetchError::Node {
            url: url.clone(),
            what,
            reason: e.message().map_or_else(|| e.to_string(), str::to_string),
        }
    };
    let client = rpc::Client::new(&url).map_err(|e| FetchError::Client {
        url: url.clone(),
        reason: e.to_string(),
    })?;
    // Proofs are anchored at the latest ledger certificate; wait until it covers the head as
    // it is now, so the proof includes everything already committed.
    let head = client.head().await.map_err(node("waybill_head"))?.height;
    let started = Instant::now();
    loop {
        let certified = client
            .status()
            .await
            .map_err(node("waybill_status"))?
            .certified_height;
        if certified >= head {
            break;
        }
        if started.elapsed() >= Duration::from_millis(args.wait_ms) {
            return Err(FetchError::NotCertified {
                url,
                head,
                certified,
                wait_ms: args.wait_ms,
            });
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let proof = match &args.what {
        FetchWhat::Tx { hash } => client
            .transaction_proof(*hash)
            .await
            .map_err(node("waybill_getTransactionProof"))?
            .ok_or_else(|| FetchError::NotCommitted {
                hash: *hash,
                url: url.clone(),
            }),
        FetchWhat::Item { id, height } => client
            .item_proof(id, *height)
            .await
            .map_err(node("waybill_getItemProof")),
        FetchWhat::History { id } => client
            .item_history_proof(id)
            .await
            .map_err(node("waybill_getItemHistoryProof")),
        FetchWhat::Consistency { from, to } => client
            .consistency_proof(*from, *to)
            .await
            .map_err(node("waybill_getConsistencyProof")),
    }?;
    let epoch_changes = client
        .epoch_changes(0)
        .await
        .map_err(node("waybill_getEpochChanges"))?;
    Ok(ProofFile {
        proof,
        epoch_changes,
    })
}

/// The time of each block the proof's certificates certify, by height: the node's header for
/// that height counts only if it hashes to the block hash the validators signed, so the node is
/// not trusted for it. Heights whose header is missing or different are left out.
async fn certified_times(url: &str, proof: &Proof) -> BTreeMap<u64, u64> {
    let checkpoints = match proof {
        Proof::Transaction(p) => vec![&p.certificate.checkpoint],
        Proof::ItemState(p) => vec![&p.certificate.checkpoint],
        Proof::History(p) => vec![&p.certificate.checkpoint],
        Proof::Consistency(p) => vec![&p.older.checkpoint, &p.newer.checkpoint],
    };
    let mut times = BTreeMap::new();
    let Ok(client) = rpc::Client::new(url) else {
        return times;
    };
    for cp in checkpoints {
        if let Ok(Some(stored)) = client.block(cp.height).await {
            if stored.block.hash() == cp.block_hash {
                times.insert(cp.height, stored.block.header.timestamp_ms);
            }
        }
    }
    times
}

/// Writes the proof; without `force`, only as a new file, so an earlier proof of the same name
/// (perhaps from another node, or another height) is never replaced.
fn write_proof(out: &std::path::Path, json: &str, force: bool) -> Result<(), FetchError> {
    use std::io::Write;
    let shown = out.display().to_string();
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    if force {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    let mut file = options.open(out).map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => FetchError::Exists {
            path: shown.clone(),
        },
        _ => FetchError::Write {
            path: shown.clone(),
            reason: e.to_string(),
        },
    })?;
    file.write_all(json.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| FetchError::Write {
            path: shown,
            reason: e.to_string(),
        })
}

/// A file name that says what the proof is about, safe whatever the item id holds.
fn default_name(what: &FetchWhat) -> PathBuf {
    let safe = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .take(64)
            .collect()
    };
    PathBuf::from(match what {
        FetchWhat::Tx { hash } => format!("tx-{}.proof.json", &hash.to_string()[..16]),
        FetchWhat::Item { id, .. } => format!("item-{}.proof.json", safe(id)),
        FetchWhat::History { id } => format!("history-{}.proof.json", safe(id)),
        FetchWhat::Consistency { from, to } => match to {
            Some(to) => format!("consistency-{from}-{to}.proof.json"),
            None => format!("consistency-{from}-latest.proof.json"),
        },
    })
}
