//! The payload the consensus targets order: a list of signed transactions with the node's
//! `TxBatch` encoding (a BCS sequence) and digest (the Merkle root of the transaction hashes), so
//! bytes from these targets are the node's wire bytes. Its validator is the node's
//! `TxBatchValidator` without the mempool shortcut: count, limits, chain id, signatures.

use consensus::{Payload, PayloadValidator};
use ledger::merkle::tx_root;
use ledger::tx::verify_transactions;
use ledger::{BlockHeader, Hash, SignedTransaction};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Txs {
    pub txs: Vec<SignedTransaction>,
}

impl Payload for Txs {
    fn digest(&self) -> Hash {
        tx_root(&self.txs.iter().map(|t| t.hash()).collect::<Vec<_>>())
    }
    fn empty() -> Self {
        Txs::default()
    }
}

/// Checks every transaction of a proposal, as a validator does before voting.
pub struct CheckTxs {
    pub chain_id: String,
    pub max_txs: usize,
}

/// Why [`CheckTxs`] refused a payload.
#[derive(Debug)]
pub enum CheckTxsError {
    TooMany(usize),
    Tx(usize, ledger::tx::TxError),
}

impl std::fmt::Display for CheckTxsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CheckTxsError::TooMany(n) => write!(f, "{n} transactions"),
            CheckTxsError::Tx(i, e) => write!(f, "transaction {i}: {e}"),
        }
    }
}

impl PayloadValidator<Txs> for CheckTxs {
    type Error = CheckTxsError;
    fn validate(&self, _header: &BlockHeader, payload: &Txs) -> Result<(), CheckTxsError> {
        if payload.txs.len() > self.max_txs {
            return Err(CheckTxsError::TooMany(payload.txs.len()));
        }
        for (i, r) in verify_transactions(&self.chain_id, &payload.txs)
            .into_iter()
            .enumerate()
        {
            r.map_err(|e| CheckTxsError::Tx(i, e))?;
        }
        Ok(())
    }
}
