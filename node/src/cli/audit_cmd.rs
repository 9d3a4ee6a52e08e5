//! `waybill audit ...`: the auditor's tools. `verify` checks a proof file offline against the
//! genesis file alone; `ledger` rescans a node's database and names the first mismatch.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use ledger::ceremony::GenesisFile;
use ledger::proof::{ProofFile, MAX_PROOF_JSON_BYTES};
use ledger::storage::{AuditStage, OpenOptions, Store, VerifyMode};
use ledger::Genesis;

use super::progress::ProgressLine;
use super::CliResult;

#[derive(Subcommand)]
pub enum AuditCmd {
    /// Verify a proof file (from the proof RPCs) offline: certificate signatures against the
    /// genesis validator set, Merkle paths, transaction signatures. Prints every check; exits 0
    /// only if all pass.
    Verify(VerifyArgs),
    /// Rescan a node's database: hash chain, accumulator, re-execution of every block (receipts,
    /// state roots, indexes), transaction signatures, current state, and every stored ledger
    /// certificate against the genesis file. Names the first height and record that does not
    /// match and exits non-zero then. A node's own start checks only the blocks after its
    /// verified-up-to marker; this checks everything (or everything from --from).
    Ledger(LedgerArgs),
    /// Fetch a proof from a node into a file, and verify it at once when given --genesis.
    Fetch(super::audit_fetch::FetchArgs),
}

#[derive(Args)]
pub struct VerifyArgs {
    /// The chain's genesis file: the only thing trusted. Its validators' names, and their
    /// organizations from its ceremony record, name the signers.
    #[arg(long)]
    pub genesis: PathBuf,
    /// The proof, as JSON (`"kind"`: transaction, item_state, history or consistency).
    pub proof: PathBuf,
    /// Print the verdict as one JSON object (what is proven, the signers, the failed checks)
    /// instead of text; the exit status is the same.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct LedgerArgs {
    /// The node's data directory (`node.data_dir`; its `ledger/` holds the database), or the
    /// database directory itself.
    #[arg(long)]
    pub data_dir: PathBuf,
    /// The chain's genesis file.
    #[arg(long)]
    pub genesis: PathBuf,
    /// Check and re-execute only the heights from HEIGHT to the head, trusting the records below
    /// it (say, the head of the last clean audit, plus one). Without it, everything is checked.
    #[arg(long, value_name = "HEIGHT", default_value_t = 0)]
    pub from: u64,
}

/// Why an audit command could not even start, with the file involved.
#[derive(Debug, thiserror::Error)]
pub enum AuditCmdError {
    #[error("cannot read proof file {path}: {reason}")]
    Unreadable { path: String, reason: String },
    #[error("proof file {path} is {len} bytes, the limit is {max}")]
    TooLarge { path: String, len: u64, max: usize },
    #[error("proof file {path} is not a proof: {reason}")]
    Malformed { path: String, reason: String },
    #[error("genesis file {path}: {reason}")]
    Genesis { path: String, reason: String },
    #[error("{path} holds no ledger database")]
    NoDatabase { path: String },
    #[error("cannot open the ledger database {path}: {reason}")]
    Open { path: String, reason: String },
    #[error("proof does NOT verify: {failed} of {total} checks failed")]
    ProofFailed { failed: usize, total: usize },
    #[error("ledger audit FAILED at {location}: {reason}")]
    LedgerMismatch { location: String, reason: String },
    #[error("ledger audit FAILED: the store ends at height {head}, below height {mark_height} that the node's safety mark {path} records as reached: the ledger lost blocks (a write-ahead-log tail dropped in recovery, or an old copy put back)")]
    BehindMark {
        head: u64,
        mark_height: u64,
        path: String,
    },
}

pub fn run(cmd: AuditCmd) -> CliResult {
    match cmd {
        AuditCmd::Verify(args) => verify(args),
        AuditCmd::Ledger(args) => audit_ledger(args),
        AuditCmd::Fetch(args) => super::audit_fetch::run(args),
    }
}

fn load_genesis(path: &Path) -> Result<Genesis, AuditCmdError> {
    Ok(load_genesis_file(path)?.genesis)
}

/// The genesis file, checked, with its ceremony record (which names the validators' members).
fn load_genesis_file(path: &Path) -> Result<GenesisFile, AuditCmdError> {
    let err = |e: ledger::genesis::GenesisError| AuditCmdError::Genesis {
        path: path.display().to_string(),
        reason: e.to_string(),
    };
    let file = GenesisFile::read(path).map_err(err)?;
    file.genesis.validate().map_err(err)?;
    Ok(file)
}

pub(super) fn verify(args: VerifyArgs) -> CliResult {
    verify_with_times(args, &BTreeMap::new())
}

/// [`verify`], with the certified blocks' times by height where the caller fetched and checked
/// their headers (`audit fetch`).
pub(super) fn verify_with_times(args: VerifyArgs, times: &BTreeMap<u64, u64>) -> CliResult {
    let genesis_file = load_genesis_file(&args.genesis)?;
    let genesis = &genesis_file.genesis;
    let path = args.proof.display().to_string();
    let unreadable = |e: std::io::Error| AuditCmdError::Unreadable {
        path: path.clone(),
        reason: e.to_string(),
    };
    let len = std::fs::metadata(&args.proof).map_err(unreadable)?.len();
    if len > MAX_PROOF_JSON_BYTES as u64 {
        return Err(AuditCmdError::TooLarge {
            path,
            len,
            max: MAX_PROOF_JSON_BYTES,
        }
        .into());
    }
    let text = std::fs::read_to_string(&args.proof).map_err(unreadable)?;
    // With the epoch changes since genesis when the file carries them (a proof of a later
    // validator set): the genesis file is still all that is trusted.
    let file = ProofFile::from_json(&text).map_err(|e| AuditCmdError::Malformed {
        path: path.clone(),
        reason: e.to_string(),
    })?;
    let report = if file.epoch_changes.is_empty() {
        file.proof.verify(genesis)
    } else {
        file.verify(genesis)
    };
    let verdict = super::audit_words::verdict(&file, &report, &genesis_file, times);
    if args.json {
        say!(
            "{}",
            serde_json::to_string_pretty(&verdict).expect("a verdict serialises")
        );
    } else {
        super::audit_words::print(&verdict, &args.genesis.display().to_string());
        say!("checks:");
        for check in &report.checks {
            let mark = if check.passed { "✓" } else { "✗" };
            say!("{mark} {}: {}", check.name, check.detail);
        }
    }
    if report.is_ok() {
        if !args.json {
            say!("proof verified: all {} checks passed", report.checks.len());
        }
        Ok(())
    } else {
        Err(AuditCmdError::ProofFailed {
            failed: report
                .failures()
                .count()
                .max(usize::from(report.checks.is_empty())),
            total: report.checks.len(),
        }
        .into())
    }
}

fn audit_ledger(args: LedgerArgs) -> CliResult {
    let genesis = load_genesis(&args.genesis)?;
    let db = if args.data_dir.join("ledger").join("CURRENT").exists() {
        args.data_dir.join("ledger")
    } else if args.data_dir.join("CURRENT").exists() {
        args.data_dir.clone()
    } else {
        return Err(AuditCmdError::NoDatabase {
            path: args.data_dir.display().to_string(),
        }
        .into());
    };
    // Read-only and unchecked on open: the audit is the check, and it must be able to open a
    // damaged store to say where the damage is.
    let store = Store::open_with(
        &db,
        OpenOptions {
            verify: VerifyMode::Skip,
            read_only: true,
        },
    )
    .map_err(|e| AuditCmdError::Open {
        path: db.display().to_string(),
        reason: e.to_string(),
    })?;
    say!(
        "auditing {} against genesis {} ({})",
        db.display(),
        args.genesis.display(),
        genesis.hash()
    );
    // A progress bar on a terminal: a whole audit of a long ledger takes minutes.
    let mut progress = ProgressLine::on_terminal();
    let result = store.audit_with(&genesis, args.from, &mut |p| {
        let stage = match p.stage {
            AuditStage::ChainCheck => "checking the chain",
            AuditStage::ReExecution => "re-executing",
        };
        progress.update(stage, p.height + 1 - p.first, p.last + 1 - p.first)
    });
    progress.finish();
    match result {
        Ok(s) => {
            let head = s.head.map_or(0, |h| h.height);
            let first = if s.whole { 0 } else { s.from_height };
            say!("✓ hash chain, block index and accumulator: heights {first}..={head}");
            say!(
                "✓ {} transactions: signatures, receipts and accumulator leaves",
                s.transactions
            );
            say!(
                "✓ {} blocks re-executed: receipts, history indexes and state roots match",
                s.blocks
            );
            say!(
                "✓ current state: {} keys match the state tree at height {head}",
                s.state_keys
            );
            say!(
                "✓ {} ledger certificates verified against the genesis validator set and the recomputed ledger{}",
                s.certificates,
                s.last_certified
                    .map(|h| format!(" (last certified height {h})"))
                    .unwrap_or_default()
            );
            if s.uncertified_heights > 0 {
                say!(
                    "  note: {} heights have no ledger certificate (yet)",
                    s.uncertified_heights
                );
            }
            if !s.whole {
                say!(
                    "  note: heights below {} were trusted, not checked, and the record counts of the whole store were not compared (audit without --from for those)",
                    s.from_height
                );
            }
            check_mark(&db, head)?;
            say!("ledger audit passed");
            Ok(())
        }
        Err(e) => {
            let location = match e.height() {
                Some(h) => format!("height {h}"),
                None => "a record not tied to one height".into(),
            };
            say!("✗ {e}");
            Err(AuditCmdError::LedgerMismatch {
                location,
                reason: e.to_string(),
            }
            .into())
        }
    }
}

/// The node's safety mark (`DATA_DIR/safety-mark`, beside the database) records the highest
/// height the node committed; a store that ends below it lost blocks, however consistent the
/// rest of it is. A missing or damaged mark is reported, not failed: the node's start reports
/// it too, and an audit of a copied database has none.
fn check_mark(db: &Path, head: u64) -> Result<(), AuditCmdError> {
    use waybill_node::driver::disk::{read_mark, MARK_FILE};
    let Some(path) = db.parent().map(|d| d.join(MARK_FILE)) else {
        return Ok(());
    };
    match read_mark(&path) {
        Ok(engine::guard::MarkState::Present(m)) if head < m.committed_height => {
            say!(
                "✗ the store ends at height {head}, below height {} in its safety mark",
                m.committed_height
            );
            Err(AuditCmdError::BehindMark {
                head,
                mark_height: m.committed_height,
                path: path.display().to_string(),
            })
        }
        Ok(engine::guard::MarkState::Present(m)) => {
            say!(
                "✓ safety mark {}: height {} reached, at or below the head",
                path.display(),
                m.committed_height
            );
            Ok(())
        }
        Ok(engine::guard::MarkState::Missing) => {
            say!("  note: no safety mark at {} (not a node's data directory, or a node that never signed)", path.display());
            Ok(())
        }
        Ok(engine::guard::MarkState::Damaged(e)) => {
            say!("  note: the safety mark {} is damaged ({e}); the node will not sign checkpoints until its rounds pass the store's", path.display());
            Ok(())
        }
        Err(e) => {
            say!(
                "  note: the safety mark {} cannot be read: {e}",
                path.display()
            );
            Ok(())
        }
    }
}
