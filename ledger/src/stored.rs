//! The records the store keeps, as pure types: a committed block together with the certificate
//! that committed it and the accumulator state right after it. They live outside `storage` so
//! that an auditor's tool, which has no RocksDB, can decode the bytes a node hands out.

use serde::{Deserialize, Serialize};

use crate::block::{Block, BlockError, MAX_BLOCK_BYTES};
use crate::encoding::{from_canonical, to_canonical, Canonical, DecodeError};
use crate::hash::Hash;
use crate::receipt::Receipt;

/// Largest commit certificate stored with a block: a quorum of up to 256 validators' signatures
/// and keys with framing fits many times over; anything larger is not a certificate.
pub const MAX_CERTIFICATE_BYTES: usize = 256 * 1024;
/// Room for the fields a [`StoredBlock`] adds around its block (lengths, size, root).
const STORED_BLOCK_OVERHEAD: usize = 64;
/// Largest canonical encoding of a [`StoredBlock`].
pub const MAX_STORED_BLOCK_BYTES: usize =
    MAX_BLOCK_BYTES + MAX_CERTIFICATE_BYTES + STORED_BLOCK_OVERHEAD;
/// Largest canonical encoding of a [`Receipt`]: a failure message is a sentence with values, not a
/// document.
pub const MAX_RECEIPT_BYTES: usize = 16 * 1024;

/// A committed block as the store keeps it (the `blocks` column family's value).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredBlock {
    pub block: Block,
    /// Canonical bytes of the consensus commit certificate for this block. Opaque here: the
    /// consensus crate and the auditor check it against the genesis validator set.
    #[serde(with = "crate::encoding_helpers::hex_bytes")]
    pub certificate: Vec<u8>,
    /// Number of transactions in the ledger once this block is applied.
    pub accumulator_size_after: u64,
    /// Accumulator root at `accumulator_size_after`.
    pub accumulator_root_after: Hash,
}

impl Canonical for StoredBlock {
    const DOMAIN: &'static str = "waybill/stored-block/v1";
}

/// Why stored-block bytes are not a stored block.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum StoredBlockError {
    #[error(transparent)]
    Decode(#[from] DecodeError),
    #[error(transparent)]
    Block(#[from] BlockError),
    #[error("certificate of {len} bytes exceeds {max}")]
    CertificateTooLarge { len: usize, max: usize },
}

/// A [`StoredBlock`] made of borrowed parts, with the same encoding: the commit path encodes
/// the block it was handed without first copying all its transactions.
#[derive(Serialize)]
pub struct StoredBlockParts<'a> {
    pub block: &'a Block,
    #[serde(with = "crate::encoding_helpers::hex_bytes")]
    pub certificate: &'a [u8],
    pub accumulator_size_after: u64,
    pub accumulator_root_after: Hash,
}

impl StoredBlockParts<'_> {
    /// Exactly [`StoredBlock::to_bytes`] of the owned record.
    pub fn to_bytes(&self) -> Vec<u8> {
        to_canonical(self)
    }
}

impl StoredBlock {
    pub fn to_bytes(&self) -> Vec<u8> {
        to_canonical(self)
    }

    /// Decodes and checks the block's shape (tx root, limits) and the certificate's size, so a
    /// record that decodes is at least internally consistent.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, StoredBlockError> {
        let stored: StoredBlock = from_canonical("stored block", bytes, MAX_STORED_BLOCK_BYTES)?;
        stored.block.check_shape()?;
        if stored.certificate.len() > MAX_CERTIFICATE_BYTES {
            return Err(StoredBlockError::CertificateTooLarge {
                len: stored.certificate.len(),
                max: MAX_CERTIFICATE_BYTES,
            });
        }
        Ok(stored)
    }
}

/// Canonical bytes of a receipt (the `receipts` column family's value).
pub fn receipt_to_bytes(receipt: &Receipt) -> Vec<u8> {
    to_canonical(receipt)
}

/// Decodes a receipt, rejecting oversized, truncated and trailing-garbage input. (Lives here
/// rather than on `Receipt` because receipt.rs belongs to the execution work.)
pub fn receipt_from_bytes(bytes: &[u8]) -> Result<Receipt, DecodeError> {
    from_canonical("receipt", bytes, MAX_RECEIPT_BYTES)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::block::BlockHeader;
    use crate::crypto::KeyPair;
    use crate::merkle::tx_root;
    use crate::receipt::ExecStatus;

    fn stored() -> StoredBlock {
        let key = KeyPair::from_secret([9; 32]);
        StoredBlock {
            block: Block {
                header: BlockHeader {
                    chain_id: "c".into(),
                    height: 0,
                    round: 0,
                    parent: Hash::ZERO,
                    tx_root: tx_root(&[]),
                    proposer: key.public(),
                    timestamp_ms: 1,
                    justify: vec![],
                },
                txs: vec![],
            },
            certificate: vec![1, 2, 3],
            accumulator_size_after: 0,
            accumulator_root_after: Hash::blake3(b""),
        }
    }

    #[test]
    fn borrowed_parts_encode_as_the_owned_record() {
        let s = stored();
        let parts = StoredBlockParts {
            block: &s.block,
            certificate: &s.certificate,
            accumulator_size_after: s.accumulator_size_after,
            accumulator_root_after: s.accumulator_root_after,
        };
        assert_eq!(parts.to_bytes(), s.to_bytes());
        assert_eq!(StoredBlock::from_bytes(&parts.to_bytes()).unwrap(), s);
    }

    #[test]
    fn stored_block_round_trip_and_rejects() {
        let s = stored();
        let bytes = s.to_bytes();
        assert_eq!(StoredBlock::from_bytes(&bytes).unwrap(), s);
        let mut long = bytes.clone();
        long.push(0);
        assert!(StoredBlock::from_bytes(&long).is_err());
        assert!(StoredBlock::from_bytes(&bytes[..bytes.len() - 1]).is_err());
        let mut big = s.clone();
        big.certificate = vec![0; MAX_CERTIFICATE_BYTES + 1];
        assert_eq!(
            StoredBlock::from_bytes(&big.to_bytes()),
            Err(StoredBlockError::CertificateTooLarge {
                len: MAX_CERTIFICATE_BYTES + 1,
                max: MAX_CERTIFICATE_BYTES
            })
        );
    }

    #[test]
    fn receipt_round_trip() {
        let r = Receipt {
            tx_hash: Hash::blake3(b"t"),
            height: 3,
            index_in_block: 1,
            ledger_index: 7,
            status: ExecStatus::Failed {
                code: "bad_sequence".into(),
                message: "expected 4, found 9".into(),
            },
        };
        assert_eq!(receipt_from_bytes(&receipt_to_bytes(&r)).unwrap(), r);
    }
}
