//! What verifying a proof found: every named check, in the order it ran, with pass or fail and
//! why. A proof is good only if every check passed ([`VerifyReport::is_ok`]); a report with no
//! checks at all is not good (nothing was shown).

use std::fmt;

use serde::Serialize;

use crate::accumulator::ProofError as AccumulatorProofError;
use crate::hash::Hash;
use crate::smt::SmtVerifyError;
use crate::tx::TxError;

use super::certificate::CertificateError;

/// Why one check failed, with the values that disagreed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum VerifyError {
    #[error(transparent)]
    Certificate(#[from] CertificateError),
    #[error(transparent)]
    Accumulator(#[from] AccumulatorProofError),
    #[error(transparent)]
    State(#[from] SmtVerifyError),
    #[error(transparent)]
    Transaction(#[from] TxError),
    #[error(transparent)]
    Epoch(#[from] super::epochs::EpochError),
    /// A Merkle proof made for another size than the one the certificate signs: its root would
    /// not be the certified root, or worse, a size of the same shape would pass (see
    /// `accumulator::verify`). The size must be the certified one exactly.
    #[error("proof is against an accumulator of {proof_size} leaves, the certificate signs {certified_size}")]
    TreeSizeMismatch {
        proof_size: u64,
        certified_size: u64,
    },
    /// The ledger index the proof claims, the receipt's and the inclusion proof's leaf index
    /// must be one number.
    #[error("{field} is {found}, the proof claims ledger index {claimed}")]
    LedgerIndexMismatch {
        field: &'static str,
        claimed: u64,
        found: u64,
    },
    #[error("receipt is for transaction {receipt_tx_hash}, the proof's transaction is {tx_hash}")]
    ReceiptForOtherTransaction {
        receipt_tx_hash: Hash,
        tx_hash: Hash,
    },
    #[error("state value of item {item_id:?} does not decode as an item record: {reason}")]
    UndecodableValue { item_id: String, reason: String },
    #[error("state value under the key of item {expected:?} is the record of item {found:?}")]
    ItemIdMismatch { expected: String, found: String },
    #[error("transaction at ledger index {ledger_index} ({payload_kind}) does not name item {item_id:?}")]
    ItemNotNamed {
        item_id: String,
        ledger_index: u64,
        payload_kind: &'static str,
    },
    #[error("transaction at ledger index {ledger_index} failed ({code}): a failed transaction is no event in any history")]
    FailedTransaction { ledger_index: u64, code: String },
    #[error("history entry at ledger index {found} follows ledger index {previous}: entries must be in strictly increasing ledger order")]
    EntriesOutOfOrder { previous: u64, found: u64 },
    /// The entries are not as many as the events the item's certified state counts: one was
    /// left out, or one was added.
    #[error("history proof of item {item_id:?} has {entries} entries, its certified state counts {certified} events")]
    HistoryLengthMismatch {
        item_id: String,
        entries: u64,
        certified: u64,
    },
    /// The entries' transactions, chained in order, are not the history the item's certified
    /// state commits to: an entry was left out, added, reordered or replaced.
    #[error("history entries of item {item_id:?} chain to {computed}, its certified state holds {certified}")]
    HistoryDigestMismatch {
        item_id: String,
        computed: Hash,
        certified: Hash,
    },
    /// Without a decodable state value of this item there is no certified history head to
    /// check the entries against (see `item_state.value`).
    #[error("no certified history head of item {item_id:?} to check the entries against")]
    NoCertifiedHistory { item_id: String },
    #[error("history proof has {count} entries, at most {max} are accepted")]
    TooManyEntries { count: usize, max: usize },
    #[error("older certificate is at height {older}, after the newer one at {newer}")]
    HeightsOutOfOrder { older: u64, newer: u64 },
    /// Two certificates for one height that certify different ledgers: evidence of a fork (or
    /// of validators that execute non-deterministically), never a consistent history.
    #[error("two different checkpoints are certified for height {height}")]
    ConflictingCheckpoints { height: u64 },
    #[error("accumulator size {old_size} at height {older_height} exceeds size {new_size} at the later height {newer_height}")]
    AccumulatorShrank {
        older_height: u64,
        old_size: u64,
        newer_height: u64,
        new_size: u64,
    },
    /// Every ledger extends the empty one, so nothing needs proving, and a proof that carries
    /// hashes anyway is malformed.
    #[error("consistency from the empty ledger needs no hashes, the proof has {len}")]
    NonEmptyProofFromEmptyLedger { len: usize },
}

/// One named check and its outcome.
#[derive(Debug, PartialEq, Eq, Serialize)]
pub struct Check {
    /// Stable name, e.g. `certificate`, `inclusion.tree_size`, `entry[2].signature`.
    pub name: String,
    pub passed: bool,
    /// What was shown when it passed; why not when it failed.
    pub detail: String,
    /// The typed failure (not serialised: `detail` carries its text).
    #[serde(skip)]
    pub error: Option<VerifyError>,
}

/// All checks made on one proof.
#[derive(Debug, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    /// The proof's `kind`.
    pub kind: &'static str,
    pub checks: Vec<Check>,
}

impl VerifyReport {
    pub fn new(kind: &'static str) -> Self {
        VerifyReport {
            kind,
            checks: Vec::new(),
        }
    }

    /// True only if at least one check ran and every check passed.
    pub fn is_ok(&self) -> bool {
        !self.checks.is_empty() && self.checks.iter().all(|c| c.passed)
    }

    pub fn failures(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| !c.passed)
    }

    /// The check named `name`, if it ran.
    pub fn check(&self, name: &str) -> Option<&Check> {
        self.checks.iter().find(|c| c.name == name)
    }

    /// Records the outcome of one check: `Ok(detail)` passes, `Err(e)` fails with `e`.
    pub fn record(&mut self, name: impl Into<String>, outcome: Result<String, VerifyError>) {
        let check = match outcome {
            Ok(detail) => Check {
                name: name.into(),
                passed: true,
                detail,
                error: None,
            },
            Err(e) => Check {
                name: name.into(),
                passed: false,
                detail: e.to_string(),
                error: Some(e),
            },
        };
        self.checks.push(check);
    }
}

/// One line per check: `PASS name: detail` or `FAIL name: reason`, then the verdict.
impl fmt::Display for VerifyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in &self.checks {
            let mark = if c.passed { "PASS" } else { "FAIL" };
            writeln!(f, "{mark} {}: {}", c.name, c.detail)?;
        }
        let failed = self.failures().count();
        if self.is_ok() {
            write!(
                f,
                "{} proof verified: {} checks passed",
                self.kind,
                self.checks.len()
            )
        } else if self.checks.is_empty() {
            write!(f, "{} proof NOT verified: no checks ran", self.kind)
        } else {
            write!(
                f,
                "{} proof NOT verified: {failed} of {} checks failed",
                self.kind,
                self.checks.len()
            )
        }
    }
}
