//! Receipts: what executing a committed transaction did. Failed transactions are kept with a
//! receipt that names why, because auditors need the attempt too. The transaction accumulator's
//! leaves are [`TxLeaf`]s, which bind a transaction to its receipt.

use serde::{Deserialize, Serialize};

use crate::encoding::{digest, to_canonical, Canonical};
use crate::hash::Hash;

/// The outcome of executing one transaction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[serde(rename_all = "snake_case")]
pub enum ExecStatus {
    Success,
    /// The transaction was ordered but changed nothing. `code` is a stable machine-readable
    /// name (documented with the state machine); `message` says what failed, with the values.
    Failed {
        code: String,
        message: String,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Receipt {
    pub tx_hash: Hash,
    /// Height of the block that ordered the transaction.
    pub height: u64,
    /// Position within that block.
    pub index_in_block: u32,
    /// Position in the whole ledger: the transaction's leaf index in the accumulator.
    pub ledger_index: u64,
    pub status: ExecStatus,
}

impl Canonical for Receipt {
    const DOMAIN: &'static str = "waybill/receipt/v1";
}

impl Receipt {
    pub fn hash(&self) -> Hash {
        digest(self)
    }
}

/// One leaf of the transaction accumulator: a transaction bound to its receipt.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TxLeaf {
    pub tx_hash: Hash,
    pub receipt_hash: Hash,
}

impl Canonical for TxLeaf {
    const DOMAIN: &'static str = "waybill/tx-leaf/v1";
}

impl TxLeaf {
    /// The leaf's data as it enters the Merkle tree (which then computes H(0x00 || data)):
    /// `BCS(("waybill/tx-leaf/v1", leaf))`.
    pub fn leaf_data(&self) -> Vec<u8> {
        crate::encoding::signing_bytes(self)
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        to_canonical(self)
    }
}
