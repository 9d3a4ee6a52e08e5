//! The block a synced store starts from, with what the certificate says about it.

use serde::{Deserialize, Serialize};

use crate::accumulator::{Frontier, FrontierError, NodePos};
use crate::hash::Hash;
use crate::merkle::Blake3Hasher;
use crate::proof::LedgerCertificate;
use crate::stored::StoredBlock;

/// What a peer sends for a certified height, besides the state: the certificate, the block as
/// stored (with its commit certificate, which consensus starts from) and the accumulator
/// frontier after it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnapshotBase {
    pub certificate: LedgerCertificate,
    pub block: StoredBlock,
    pub frontier: Frontier,
}

/// Why a base does not match its certificate: the peer that sent it is at fault.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum BaseError {
    #[error("block at height {found}, the certificate is for height {certified}")]
    WrongHeight { certified: u64, found: u64 },
    #[error("block {found}, the certificate names block {certified}")]
    WrongBlock { certified: Hash, found: Hash },
    #[error("the block records accumulator size {recorded} and root {recorded_root}, the certificate {certified} and {certified_root}")]
    WrongAccumulator {
        recorded: u64,
        recorded_root: Hash,
        certified: u64,
        certified_root: Hash,
    },
    #[error("a frontier of size {found}, the certificate is for {certified} leaves")]
    FrontierSize { certified: u64, found: u64 },
    #[error("the frontier: {0}")]
    Frontier(#[from] FrontierError),
}

/// A base whose block and frontier are the certificate's, ready to install.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedBase {
    pub certificate: LedgerCertificate,
    pub block: StoredBlock,
    pub frontier_nodes: Vec<(NodePos, Hash)>,
}

impl SnapshotBase {
    /// Checks the block and frontier against the certificate, which the caller has verified
    /// (its signatures, against the epoch the chain of epoch changes names for its height).
    pub fn verify(self) -> Result<VerifiedBase, BaseError> {
        let checkpoint = &self.certificate.checkpoint;
        let header = &self.block.block.header;
        if header.height != checkpoint.height {
            return Err(BaseError::WrongHeight {
                certified: checkpoint.height,
                found: header.height,
            });
        }
        let hash = self.block.block.hash();
        if hash != checkpoint.block_hash {
            return Err(BaseError::WrongBlock {
                certified: checkpoint.block_hash,
                found: hash,
            });
        }
        if self.block.accumulator_size_after != checkpoint.accumulator_size
            || self.block.accumulator_root_after != checkpoint.accumulator_root
        {
            return Err(BaseError::WrongAccumulator {
                recorded: self.block.accumulator_size_after,
                recorded_root: self.block.accumulator_root_after,
                certified: checkpoint.accumulator_size,
                certified_root: checkpoint.accumulator_root,
            });
        }
        if self.frontier.size != checkpoint.accumulator_size {
            return Err(BaseError::FrontierSize {
                certified: checkpoint.accumulator_size,
                found: self.frontier.size,
            });
        }
        let frontier_nodes = self
            .frontier
            .verify(&Blake3Hasher, &checkpoint.accumulator_root)?;
        Ok(VerifiedBase {
            certificate: self.certificate,
            block: self.block,
            frontier_nodes,
        })
    }
}
