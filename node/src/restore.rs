//! `waybill backup` of a stopped node and `waybill restore`: a checkpoint of the ledger store
//! put back into a stopped node's data directory.
//!
//! What restore touches is only `DATA_DIR/ledger` (moved aside, never deleted) and a staging
//! directory beside it. It never touches the safety mark (`DATA_DIR/safety-mark`), the engine's
//! record of what this validator signed, kept outside the store for exactly this case: started
//! on a restored store, the node finds the store's safety data behind the mark and signs nothing
//! in a round it may have signed in after the backup was taken.
//!
//! Restore also carries the current store's consensus safety data into the restored store, as
//! `waybill reset` does, when the current store can be read and is of the same chain: the
//! validator's record of its own votes then never goes back, even with no mark (a first start
//! after an upgrade) or a mark lost with a disk.

use std::path::{Path, PathBuf};

use ledger::storage::{ConsensusWrite, Store, StoreError};
use ledger::Hash;

use crate::config::NodeConfig;

/// The safety mark's file name in the data directory (written by the engine; read-only here).
pub const SAFETY_MARK_FILE: &str = "safety-mark";
/// Where a restore stages its copy before it swaps it in (removed on the next restore).
const STAGING_DIR: &str = "ledger.restoring";

#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    #[error("node {name:?} is running (pid {pid}) and holds {dir}; stop it before restoring")]
    Running {
        name: String,
        pid: i32,
        dir: PathBuf,
    },
    #[error("{src} is held open by process {pid}: restore from a backup (`waybill backup`), not from a running node's data")]
    SourceInUse { src: PathBuf, pid: i32 },
    #[error("{src} is not a backup: {reason}")]
    NotABackup { src: PathBuf, reason: String },
    #[error("no store to back up in {dir}")]
    NoStore { dir: PathBuf },
    #[error("{src} is the node's own ledger directory")]
    SourceIsTarget { src: PathBuf },
    #[error(
        "the backup {src} is of genesis {found}, this node's genesis ({genesis}) is {expected}"
    )]
    WrongChain {
        src: PathBuf,
        genesis: PathBuf,
        expected: Hash,
        found: Hash,
    },
    #[error("genesis {path}: {reason}")]
    Genesis { path: PathBuf, reason: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("store {path}: {source}")]
    Store {
        path: PathBuf,
        #[source]
        source: StoreError,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> RestoreError + '_ {
    move |source| RestoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn store_err(path: &Path) -> impl FnOnce(StoreError) -> RestoreError + '_ {
    move |source| RestoreError::Store {
        path: path.to_path_buf(),
        source,
    }
}

/// What happened to the current store's consensus safety data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SafetyCarried {
    /// Copied into the restored store.
    Carried,
    /// There was no current store, or it held no safety data.
    NoneToCarry,
    /// The current store could not be read, or is another chain's: the backup's is kept.
    Unreadable(String),
}

#[derive(Debug)]
pub struct Restored {
    /// The restored store's committed height.
    pub height: Option<u64>,
    /// Where the replaced ledger now is.
    pub replaced: Option<PathBuf>,
    pub safety: SafetyCarried,
    /// The safety mark's path and whether it exists (restore leaves it as it is).
    pub mark: (PathBuf, bool),
}

/// The genesis hash the node's config names.
fn genesis_hash(config: &NodeConfig) -> Result<Hash, RestoreError> {
    let path = &config.node.genesis;
    let file = ledger::ceremony::GenesisFile::read(path).map_err(|e| RestoreError::Genesis {
        path: path.clone(),
        reason: e.to_string(),
    })?;
    Ok(file.genesis.hash())
}

fn refuse_if_running(config: &NodeConfig, ledger: &Path) -> Result<(), RestoreError> {
    match crate::data_lock::holder(ledger) {
        Some(pid) => Err(RestoreError::Running {
            name: config.node.name.clone(),
            pid,
            dir: ledger.to_path_buf(),
        }),
        None => Ok(()),
    }
}

/// Copies the regular files of a RocksDB checkpoint (a flat directory). Anything else in it (a
/// link, a directory) is refused: a backup is read as hostile input like any other file.
fn copy_checkpoint(src: &Path, dest: &Path) -> Result<(), RestoreError> {
    std::fs::create_dir(dest).map_err(io(dest))?;
    for entry in std::fs::read_dir(src).map_err(io(src))? {
        let entry = entry.map_err(io(src))?;
        let from = entry.path();
        let kind = entry.file_type().map_err(io(&from))?;
        if !kind.is_file() {
            return Err(RestoreError::NotABackup {
                src: src.to_path_buf(),
                reason: format!("{} is not a regular file", from.display()),
            });
        }
        let to = dest.join(entry.file_name());
        std::fs::copy(&from, &to).map_err(io(&from))?;
    }
    // The copy is durable before it replaces anything.
    std::fs::File::open(dest)
        .and_then(|d| d.sync_all())
        .map_err(io(dest))
}

/// Puts the checkpoint in `src` back as the stopped node's ledger (see the module comment).
pub fn restore(config: &NodeConfig, src: &Path) -> Result<Restored, RestoreError> {
    let data_dir = &config.node.data_dir;
    let ledger = crate::run::ledger_dir(config);
    let mark = data_dir.join(SAFETY_MARK_FILE);
    refuse_if_running(config, &ledger)?;
    if !src.join("CURRENT").is_file() {
        return Err(RestoreError::NotABackup {
            src: src.to_path_buf(),
            reason:
                "no RocksDB CURRENT file in it (a backup is the directory `waybill backup` wrote)"
                    .into(),
        });
    }
    if let Some(pid) = crate::data_lock::holder(src) {
        return Err(RestoreError::SourceInUse {
            src: src.to_path_buf(),
            pid,
        });
    }
    if ledger.exists()
        && std::fs::canonicalize(src).map_err(io(src))?
            == std::fs::canonicalize(&ledger).map_err(io(&ledger))?
    {
        return Err(RestoreError::SourceIsTarget {
            src: src.to_path_buf(),
        });
    }
    let expected = genesis_hash(config)?;

    // 1. A copy of the backup beside the ledger, checked: the backup itself stays untouched
    //    (opening a store writes to it).
    let staging = data_dir.join(STAGING_DIR);
    if staging.exists() {
        std::fs::remove_dir_all(&staging).map_err(io(&staging))?;
    }
    copy_checkpoint(src, &staging)?;
    let restored = Store::open(&staging).map_err(store_err(&staging))?;
    match restored.genesis_hash() {
        Some(found) if found == expected => {}
        found => {
            drop(restored);
            let _ = std::fs::remove_dir_all(&staging);
            return Err(match found {
                Some(found) => RestoreError::WrongChain {
                    src: src.to_path_buf(),
                    genesis: config.node.genesis.clone(),
                    expected,
                    found,
                },
                None => RestoreError::NotABackup {
                    src: src.to_path_buf(),
                    reason: "the store in it holds no genesis".into(),
                },
            });
        }
    }
    let height = restored.head().map(|h| h.height);

    // 2. The current store's record of this validator's votes goes into the restored store.
    let safety = if !ledger.exists() {
        SafetyCarried::NoneToCarry
    } else {
        match current_safety(&ledger, expected) {
            Ok(None) => SafetyCarried::NoneToCarry,
            Ok(Some(bytes)) => {
                restored
                    .persist_consensus(&[ConsensusWrite::Safety(bytes)])
                    .map_err(store_err(&staging))?;
                SafetyCarried::Carried
            }
            Err(reason) => SafetyCarried::Unreadable(reason),
        }
    };
    drop(restored);

    // 3. The swap: the current ledger moves aside (kept for the operator to delete), the copy
    //    takes its place. Checked again just before: a node started meanwhile keeps its data.
    refuse_if_running(config, &ledger)?;
    let replaced = if ledger.exists() {
        let aside = data_dir.join(format!("ledger.replaced-{}", unix_secs()));
        std::fs::rename(&ledger, &aside).map_err(io(&ledger))?;
        Some(aside)
    } else {
        None
    };
    std::fs::rename(&staging, &ledger).map_err(io(&staging))?;
    std::fs::File::open(data_dir)
        .and_then(|d| d.sync_all())
        .map_err(io(data_dir))?;
    Ok(Restored {
        height,
        replaced,
        safety,
        mark: (mark.clone(), mark.exists()),
    })
}

/// The current store's safety data, if it is readable and of the chain `expected`.
fn current_safety(ledger: &Path, expected: Hash) -> Result<Option<Vec<u8>>, String> {
    let store = Store::open(ledger).map_err(|e| e.to_string())?;
    match store.genesis_hash() {
        Some(found) if found != expected => {
            return Err(format!("it is of another genesis ({found})"));
        }
        _ => {}
    }
    Ok(store.load_consensus().map_err(|e| e.to_string())?.safety)
}

fn unix_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// A checkpoint of a stopped node's store into `dest` (`waybill backup` when no node runs).
pub fn backup_stopped(
    config: &NodeConfig,
    dest: &Path,
) -> Result<Option<ledger::storage::Head>, RestoreError> {
    let ledger = crate::run::ledger_dir(config);
    if !ledger.join("CURRENT").is_file() {
        return Err(RestoreError::NoStore { dir: ledger });
    }
    let store = Store::open(&ledger).map_err(store_err(&ledger))?;
    store.checkpoint(dest).map_err(store_err(dest))
}
