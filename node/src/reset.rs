//! `waybill reset`: delete the ledger (the node catches up from peers) and keep what this
//! validator signed.
//!
//! The safety data comes from the store and from the safety mark (`DATA_DIR/safety-mark`, outside
//! the database), merged as on start (`engine::guard`). A store that no longer opens (RocksDB
//! reports corruption) still resets: the mark holds the whole safety data. Only when neither can
//! be read does reset refuse, unless told `--forget-safety-data`.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use consensus::SafetyData;
use engine::guard::{self, MarkState, SafetyMark};
use ledger::encoding::to_canonical;
use ledger::storage::{ConsensusWrite, Store, StoreError, MAX_CONSENSUS_RECORD_BYTES};

use crate::driver::disk::{read_mark, MARK_FILE};

#[derive(Debug, thiserror::Error)]
pub enum ResetError {
    #[error("the store at {path} does not open ({store}) and the safety mark {mark} is {mark_state}: nothing records what this validator signed. Restore the data directory from a backup, or, only for a chain being thrown away, reset with --forget-safety-data")]
    NothingToKeep {
        path: PathBuf,
        store: Box<StoreError>,
        mark: PathBuf,
        mark_state: &'static str,
    },
    #[error("the safety data in the store at {path} does not decode: {reason}")]
    SafetyDecode { path: PathBuf, reason: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(Box<StoreError>),
}

impl From<StoreError> for ResetError {
    fn from(e: StoreError) -> Self {
        ResetError::Store(Box::new(e))
    }
}

/// What a reset did.
#[derive(Debug, PartialEq, Eq)]
pub enum ResetOutcome {
    NothingThere,
    /// Ledger deleted; the safety data kept (with where it came from).
    Kept {
        last_voted_round: u64,
        source: &'static str,
    },
    /// Ledger deleted; no safety data existed (a node that never signed) or it was forgotten.
    Forgotten,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ResetError + '_ {
    move |source| ResetError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Resets the node whose data directory is `data_dir` (the database in `data_dir/ledger`).
pub fn reset(data_dir: &Path, forget_safety_data: bool) -> Result<ResetOutcome, ResetError> {
    let db = data_dir.join("ledger");
    let mark_path = data_dir.join(MARK_FILE);
    if !db.exists() {
        return Ok(ResetOutcome::NothingThere);
    }
    let kept = if forget_safety_data {
        None
    } else {
        kept_safety(&db, &mark_path)?
    };
    fs::remove_dir_all(&db).map_err(io(&db))?;
    let Some((safety, source)) = kept else {
        if forget_safety_data {
            remove_if_there(&mark_path)?;
        }
        return Ok(ResetOutcome::Forgotten);
    };
    fs::create_dir_all(&db).map_err(io(&db))?;
    let store = Store::open(&db)?;
    store.persist_consensus(&[ConsensusWrite::Safety(to_canonical(&safety))])?;
    drop(store);
    // The mark says height 0 now: the ledger was deleted on purpose, which the next start must
    // not report as a rollback.
    write_mark(&mark_path, &SafetyMark::of(&safety, 0))?;
    Ok(ResetOutcome::Kept {
        last_voted_round: safety.last_voted_round,
        source,
    })
}

/// The safety data to keep, and where it came from; `None` for a node that never signed.
fn kept_safety(
    db: &Path,
    mark_path: &Path,
) -> Result<Option<(SafetyData, &'static str)>, ResetError> {
    let mark = read_mark(mark_path).map_err(io(mark_path))?;
    let from_store = match Store::open(db) {
        Ok(store) => Ok(store
            .load_consensus()?
            .safety
            .map(|bytes| {
                SafetyData::decode(&bytes, MAX_CONSENSUS_RECORD_BYTES).map_err(|e| {
                    ResetError::SafetyDecode {
                        path: db.to_path_buf(),
                        reason: e.to_string(),
                    }
                })
            })
            .transpose()?),
        Err(e) => Err(e),
    };
    Ok(match (from_store, mark) {
        (Ok(Some(store)), mark @ MarkState::Present(_)) => Some((
            guard::check(store, &mark, 0).safety,
            "the store and the safety mark",
        )),
        (Ok(Some(store)), _) => Some((store, "the store")),
        (Ok(None), MarkState::Present(m)) | (Err(_), MarkState::Present(m)) => {
            Some((m.safety, "the safety mark"))
        }
        (Ok(None), _) => None,
        (Err(store), mark) => {
            return Err(ResetError::NothingToKeep {
                path: db.to_path_buf(),
                store: Box::new(store),
                mark: mark_path.to_path_buf(),
                mark_state: match mark {
                    MarkState::Missing => "missing",
                    _ => "damaged",
                },
            })
        }
    })
}

fn remove_if_there(path: &Path) -> Result<(), ResetError> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io(path)(e)),
        _ => Ok(()),
    }
}

/// Writes a mark durably: a temporary file, synced, renamed over the mark, the directory synced.
fn write_mark(path: &Path, mark: &SafetyMark) -> Result<(), ResetError> {
    let tmp = path.with_extension("tmp");
    let mut f = File::create(&tmp).map_err(io(&tmp))?;
    f.write_all(&mark.to_bytes()).map_err(io(&tmp))?;
    f.sync_all().map_err(io(&tmp))?;
    fs::rename(&tmp, path).map_err(io(path))?;
    if let Some(dir) = path.parent() {
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io(dir))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn safety(round: u64) -> SafetyData {
        SafetyData {
            last_voted_round: round,
            preferred_round: round.saturating_sub(1),
            highest_timeout_round: round,
            ..SafetyData::default()
        }
    }

    fn node_dir(store_round: Option<u64>, mark_round: Option<u64>) -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(&dir.path().join("ledger")).expect("store");
        if let Some(r) = store_round {
            store
                .persist_consensus(&[ConsensusWrite::Safety(to_canonical(&safety(r)))])
                .expect("persist");
        }
        drop(store);
        if let Some(r) = mark_round {
            write_mark(&dir.path().join(MARK_FILE), &SafetyMark::of(&safety(r), 40)).expect("mark");
        }
        dir
    }

    fn stored_round(dir: &Path) -> Option<u64> {
        let store = Store::open(&dir.join("ledger")).expect("store");
        store.load_consensus().expect("load").safety.map(|b| {
            SafetyData::decode(&b, MAX_CONSENSUS_RECORD_BYTES)
                .expect("decode")
                .last_voted_round
        })
    }

    #[test]
    fn keeps_the_higher_of_store_and_mark() {
        let dir = node_dir(Some(7), Some(12));
        let out = reset(dir.path(), false).expect("reset");
        assert_eq!(
            out,
            ResetOutcome::Kept {
                last_voted_round: 12,
                source: "the store and the safety mark"
            }
        );
        assert_eq!(stored_round(dir.path()), Some(12));
        // The mark now says height 0, so the next start sees no rollback.
        let MarkState::Present(m) = read_mark(&dir.path().join(MARK_FILE)).expect("read") else {
            panic!("no mark after reset");
        };
        assert_eq!((m.safety.last_voted_round, m.committed_height), (12, 0));
    }

    #[test]
    fn a_store_that_does_not_open_resets_from_the_mark() {
        let dir = node_dir(Some(7), Some(9));
        // Damage every table file and the manifest: RocksDB refuses to open.
        for entry in fs::read_dir(dir.path().join("ledger")).expect("ls") {
            let p = entry.expect("entry").path();
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            if name.starts_with("MANIFEST") || name == "CURRENT" {
                fs::write(&p, b"not a rocksdb file").expect("damage");
            }
        }
        assert!(Store::open(&dir.path().join("ledger")).is_err());
        let out = reset(dir.path(), false).expect("reset");
        assert_eq!(
            out,
            ResetOutcome::Kept {
                last_voted_round: 9,
                source: "the safety mark"
            }
        );
        assert_eq!(stored_round(dir.path()), Some(9));
    }

    #[test]
    fn a_damaged_store_without_a_mark_is_refused_unless_told_to_forget() {
        let dir = node_dir(Some(7), None);
        fs::write(dir.path().join("ledger").join("CURRENT"), b"garbage").expect("damage");
        let err = reset(dir.path(), false).expect_err("refused");
        assert!(matches!(err, ResetError::NothingToKeep { .. }), "{err}");
        assert!(err.to_string().contains("--forget-safety-data"), "{err}");
        assert!(
            dir.path().join("ledger").exists(),
            "nothing deleted on refusal"
        );
        assert_eq!(
            reset(dir.path(), true).expect("forget"),
            ResetOutcome::Forgotten
        );
        assert_eq!(stored_round(dir.path()), None);
    }
}
