//! Checking committed blocks fetched from a peer before applying them. A peer is not trusted:
//! the blocks must continue this node's chain link by link, and a run is accepted only up to a
//! block whose stored certificate is a valid quorum certificate (against the genesis validator
//! set) proving that very block committed; the hash chain then proves every block before it.

use consensus::{QuorumCert, ValidatorSet};
use ledger::encoding::from_canonical;
use ledger::storage::Head;
use ledger::stored::{StoredBlock, MAX_CERTIFICATE_BYTES};
use ledger::Hash;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CatchupError {
    #[error("block {index} of the response does not decode: {reason}")]
    Decode { index: usize, reason: String },
    #[error("block at height {height}: expected height {expected}")]
    WrongHeight { height: u64, expected: u64 },
    #[error("block {height}: parent {found}, expected {expected}")]
    WrongParent {
        height: u64,
        expected: Hash,
        found: Hash,
    },
    #[error("block {height} is for chain {found:?}, not {expected:?}")]
    WrongChain {
        height: u64,
        expected: String,
        found: String,
    },
    #[error("block {height}: certificate does not decode: {reason}")]
    BadCertificate { height: u64, reason: String },
    #[error("block {height}: certificate is invalid: {reason}")]
    InvalidCertificate { height: u64, reason: String },
    #[error("no block in the response carries a certificate that commits it")]
    Uncertified,
}

/// Decodes and checks `records` (canonical stored blocks, oldest first) against `head`; returns
/// the longest prefix that is proven committed.
pub fn verify_committed(
    chain_id: &str,
    validators: &ValidatorSet,
    genesis_block_id: Hash,
    head: Head,
    records: &[Vec<u8>],
) -> Result<Vec<StoredBlock>, CatchupError> {
    let mut blocks = Vec::with_capacity(records.len());
    let mut parent = head.hash;
    let mut proven = 0;
    for (expected, (index, bytes)) in (head.height + 1..).zip(records.iter().enumerate()) {
        let stored = StoredBlock::from_bytes(bytes).map_err(|e| CatchupError::Decode {
            index,
            reason: e.to_string(),
        })?;
        let h = &stored.block.header;
        if h.height != expected {
            return Err(CatchupError::WrongHeight {
                height: h.height,
                expected,
            });
        }
        if h.parent != parent {
            return Err(CatchupError::WrongParent {
                height: h.height,
                expected: parent,
                found: h.parent,
            });
        }
        if h.chain_id != chain_id {
            return Err(CatchupError::WrongChain {
                height: h.height,
                expected: chain_id.into(),
                found: h.chain_id.clone(),
            });
        }
        let id = stored.block.hash();
        let qc: QuorumCert = from_canonical(
            "commit certificate",
            &stored.certificate,
            MAX_CERTIFICATE_BYTES,
        )
        .map_err(|e| CatchupError::BadCertificate {
            height: h.height,
            reason: e.to_string(),
        })?;
        if qc.commits() == Some(id) {
            validators.verify_qc(&qc, genesis_block_id).map_err(|e| {
                CatchupError::InvalidCertificate {
                    height: h.height,
                    reason: format!("{e:?}"),
                }
            })?;
            proven = index + 1;
        }
        parent = id;
        blocks.push(stored);
    }
    if proven == 0 && !blocks.is_empty() {
        return Err(CatchupError::Uncertified);
    }
    blocks.truncate(proven);
    Ok(blocks)
}
