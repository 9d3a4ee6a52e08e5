//! Audit proofs, pure: the ledger certificate validators sign after executing a height, and the
//! proofs built on it. Nothing here touches RocksDB or tokio, so an auditor's tool and any client
//! can verify proofs. `docs/PROOFS.md` specifies every byte.
//!
//! - [`certificate`]: [`LedgerCheckpoint`], [`CheckpointVote`], [`LedgerCertificate`];
//! - [`transaction`], [`state`], [`history`], [`consistency`]: one proof type each, with its
//!   `verify(&Genesis) -> VerifyReport`;
//! - [`envelope`]: [`Proof`], the tagged JSON file format over all of them, and [`ProofFile`],
//!   a proof with the epoch changes since genesis;
//! - [`epochs`]: the auditor's ratchet, the chain of epoch changes from genesis;
//! - `build`: `TransactionProof::build` and friends, from any accumulator and state tree;
//! - [`report`]: [`VerifyReport`], every named check with pass/fail and why.
//!
//! Verification order (DESIGN.md): the certificate against the genesis validator set first, then
//! the Merkle paths against the certified roots and sizes, then each transaction's own signature.
//! Every check always runs and is reported; a proof holds only if all pass.

pub mod attested;
mod build;
pub mod certificate;
mod checks;
pub mod consistency;
pub mod envelope;
pub mod epochs;
pub mod history;
pub mod report;
pub mod state;
pub mod transaction;

pub use build::BuildError;
pub use certificate::{
    CertificateError, CheckedVote, CheckpointVote, LedgerCertificate, LedgerCheckpoint,
    VerifiedCertificate, MAX_CERTIFICATE_SIGNERS,
};
pub use consistency::LedgerConsistencyProof;
pub use envelope::{Proof, ProofDecodeError, ProofFile, MAX_PROOF_JSON_BYTES};
pub use epochs::{follow, EpochChange, EpochError, EpochTrust, TrustedEpoch, MAX_EPOCH_CHANGES};
pub use history::{
    items_named, HistoryItemState, HistoryProof, HistoryProofEntry, MAX_HISTORY_ENTRIES,
};
pub use report::{Check, VerifyError, VerifyReport};
pub use state::ItemStateProof;
pub use transaction::TransactionProof;
