//! Audit proofs, pure: the ledger certificate validators sign after executing a height, and
//! (in later files) the proofs built on it. Nothing here touches RocksDB or tokio, so an
//! auditor's tool and any client can verify proofs. `docs/PROOFS.md` specifies every byte.

pub mod certificate;

pub use certificate::{
    CertificateError, CheckpointVote, LedgerCertificate, LedgerCheckpoint, MAX_CERTIFICATE_SIGNERS,
};
