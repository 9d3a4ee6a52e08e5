//! Deterministic execution of a committed block: every validator runs this on the same blocks in
//! the same order and must reach the same receipts and state. Pure: state is read through
//! [`StateReader`] and the changes come back as a [`StateDelta`] that the store writes in the
//! block's commit batch.
//!
//! Every transaction first passes the envelope's replay protection: it must carry this chain's id
//! and the next sequence number of its signer. One that does not is kept with a failed receipt
//! (`wrong_chain`, `bad_sequence`: auditors need the attempt) and changes nothing at all.
//! One that does consumes its sequence number whatever happens next, so the client can go on
//! with the next one; its action is then applied by the supply-chain state machine
//! ([`crate::supply`], which documents every rule and failure code). A failed action is kept
//! with a receipt naming the code and changes nothing beyond that sequence number.

use std::collections::BTreeMap;

use crate::block::Block;
use crate::crypto::PublicKey;
use crate::governance::{self, EpochSet};
use crate::receipt::{ExecStatus, Receipt};
use crate::supply::{self, EventRecord};
use crate::tx::SignedTransaction;

/// State changes of one block: key -> new value, or `None` to delete. Ordered, so that writing it
/// is deterministic too.
pub type StateDelta = BTreeMap<Vec<u8>, Option<Vec<u8>>>;

/// Largest state value execution may write.
pub const MAX_STATE_VALUE_BYTES: usize = 64 * 1024;

/// Key prefix of an account's next sequence number (u64 BE value).
pub const SEQUENCE_PREFIX: &[u8] = b"seq/";

/// Stable failure codes of the envelope in receipts; the supply-chain actions' codes are in
/// [`crate::supply::codes`].
pub mod codes {
    pub const BAD_SEQUENCE: &str = "bad_sequence";
    pub const WRONG_CHAIN: &str = "wrong_chain";
}

/// Read access to the committed state (as of the block before the one executing).
pub trait StateReader {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, ExecError>;
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ExecError {
    /// The state could not be read: execution must stop, not guess.
    #[error("reading state key {key}: {reason}")]
    Read { key: String, reason: String },
    #[error("state value at {key} is corrupt: {reason}")]
    Corrupt { key: String, reason: String },
}

pub fn sequence_key(account: &PublicKey) -> Vec<u8> {
    let mut k = Vec::with_capacity(SEQUENCE_PREFIX.len() + 32);
    k.extend_from_slice(SEQUENCE_PREFIX);
    k.extend_from_slice(&account.0);
    k
}

/// The sequence number `account`'s next transaction must carry (0 for a new account).
pub fn next_sequence(state: &dyn StateReader, account: &PublicKey) -> Result<u64, ExecError> {
    let key = sequence_key(account);
    match state.get(&key)? {
        None => Ok(0),
        Some(v) => {
            let bytes: [u8; 8] = v.as_slice().try_into().map_err(|_| ExecError::Corrupt {
                key: hex::encode(&key),
                reason: format!("{} bytes, expected 8", v.len()),
            })?;
            Ok(u64::from_be_bytes(bytes))
        }
    }
}

/// What executing one block did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockExecution {
    /// One status per transaction, in block order.
    pub statuses: Vec<ExecStatus>,
    pub delta: StateDelta,
    /// One record per successful supply-chain transaction (none for memos and failures), in
    /// block order, with its index in the block: what the store turns into the item-history,
    /// provenance and by-organization indexes (see [`crate::supply::events`]).
    pub events: Vec<EventRecord>,
    /// The validator set of the next epoch, when a governance change to the validators applied
    /// in this block: the block ends its epoch ([`crate::governance`]).
    pub next_epoch: Option<EpochSet>,
}

impl BlockExecution {
    /// The receipts of the block's transactions, numbered from `first_ledger_index`.
    pub fn receipts(&self, block: &Block, first_ledger_index: u64) -> Vec<Receipt> {
        assert_eq!(
            block.txs.len(),
            self.statuses.len(),
            "one status per transaction"
        );
        block
            .txs
            .iter()
            .zip(&self.statuses)
            .enumerate()
            .map(|(i, (tx, status))| Receipt {
                tx_hash: tx.hash(),
                height: block.header.height,
                index_in_block: i as u32,
                ledger_index: first_ledger_index + i as u64,
                status: status.clone(),
            })
            .collect()
    }
}

/// Reads through the block's own pending changes first (and, once they are committed, answers
/// what the store would without asking it).
pub struct Overlay<'a> {
    base: &'a dyn StateReader,
    delta: &'a StateDelta,
}

impl<'a> Overlay<'a> {
    pub fn new(base: &'a dyn StateReader, delta: &'a StateDelta) -> Self {
        Overlay { base, delta }
    }
}

impl StateReader for Overlay<'_> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, ExecError> {
        match self.delta.get(key) {
            Some(v) => Ok(v.clone()),
            None => self.base.get(key),
        }
    }
}

/// Executes `txs` (a committed block's transactions, signatures already verified by consensus)
/// on top of `state`.
pub fn execute_block(
    chain_id: &str,
    txs: &[SignedTransaction],
    state: &dyn StateReader,
) -> Result<BlockExecution, ExecError> {
    let mut delta = StateDelta::new();
    let mut statuses = Vec::with_capacity(txs.len());
    let mut events = Vec::new();
    // The epoch the state names before this block, read at its first governance action.
    let mut block_epoch: Option<u64> = None;
    let mut validators_changed = false;
    for (index, stx) in txs.iter().enumerate() {
        if block_epoch.is_none() && governance::exec::is_governance(&stx.tx.payload) {
            block_epoch = Some(governance::read_validators(state)?.map_or(0, |s| s.epoch));
        }
        let outcome = {
            let view = Overlay {
                base: state,
                delta: &delta,
            };
            let cx = TxContext {
                chain_id,
                index: index as u32,
                block_epoch: block_epoch.unwrap_or(0),
            };
            execute_tx(&cx, stx, &view)?
        };
        let result = match outcome {
            TxOutcome::Rejected(failure) => Err(failure),
            TxOutcome::Executed {
                next_sequence,
                result,
            } => {
                delta.insert(
                    sequence_key(&stx.tx.signer),
                    Some(next_sequence.to_be_bytes().to_vec()),
                );
                result.map(|applied| {
                    delta.extend(applied.writes);
                    events.extend(applied.event);
                    validators_changed |= applied.validators_changed;
                })
            }
        };
        statuses.push(match result {
            Ok(()) => ExecStatus::Success,
            Err(f) => ExecStatus::Failed {
                code: f.code.to_string(),
                message: f.message,
            },
        });
    }
    let next_epoch = if validators_changed {
        governance::read_validators(&Overlay::new(state, &delta))?
    } else {
        None
    };
    Ok(BlockExecution {
        statuses,
        delta,
        events,
        next_epoch,
    })
}

/// Where in its block a transaction executes.
struct TxContext<'a> {
    chain_id: &'a str,
    index: u32,
    block_epoch: u64,
}

/// What an applied action did, whichever rules applied it.
struct ActionApplied {
    writes: StateDelta,
    event: Option<EventRecord>,
    validators_changed: bool,
}

/// What one transaction did.
enum TxOutcome {
    /// Wrong chain or sequence number: nothing changes, not even the sequence number.
    Rejected(supply::Failure),
    /// The sequence number is consumed; the action applied (`Ok`) or failed and changed
    /// nothing else (`Err`).
    Executed {
        next_sequence: u64,
        result: Result<ActionApplied, supply::Failure>,
    },
}

fn execute_tx(
    cx: &TxContext<'_>,
    stx: &SignedTransaction,
    state: &dyn StateReader,
) -> Result<TxOutcome, ExecError> {
    let chain_id = cx.chain_id;
    let tx = &stx.tx;
    if tx.chain_id != chain_id {
        return Ok(TxOutcome::Rejected(supply::Failure {
            code: codes::WRONG_CHAIN,
            message: format!(
                "transaction is for chain {:?}, this is {chain_id:?}",
                tx.chain_id
            ),
        }));
    }
    let expected = next_sequence(state, &tx.signer)?;
    if tx.sequence != expected {
        return Ok(TxOutcome::Rejected(supply::Failure {
            code: codes::BAD_SEQUENCE,
            message: format!(
                "account {}: sequence {}, expected {expected}",
                tx.signer, tx.sequence
            ),
        }));
    }
    let Some(next_sequence) = expected.checked_add(1) else {
        return Ok(TxOutcome::Rejected(supply::Failure {
            code: codes::BAD_SEQUENCE,
            message: format!("account {}: sequence numbers exhausted", tx.signer),
        }));
    };
    let result = if governance::exec::is_governance(&tx.payload) {
        governance::exec::apply(state, &tx.signer, stx.hash(), cx.block_epoch, &tx.payload)?.map(
            |a| ActionApplied {
                writes: a.writes,
                event: None,
                validators_changed: a.validators_changed,
            },
        )
    } else {
        supply::exec::apply(state, &tx.signer, stx.hash(), cx.index, &tx.payload)?.map(|a| {
            ActionApplied {
                writes: a.writes,
                event: a.event,
                validators_changed: false,
            }
        })
    };
    Ok(TxOutcome::Executed {
        next_sequence,
        result,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::KeyPair;
    use crate::tx::{Payload, Transaction};

    struct Map(BTreeMap<Vec<u8>, Vec<u8>>);
    impl StateReader for Map {
        fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, ExecError> {
            Ok(self.0.get(key).cloned())
        }
    }

    fn tx(key: &KeyPair, chain: &str, sequence: u64) -> SignedTransaction {
        Transaction {
            chain_id: chain.into(),
            signer: key.public(),
            sequence,
            payload: Payload::Memo { data: vec![1] },
        }
        .sign(key)
    }

    fn failed_code(s: &ExecStatus) -> Option<&str> {
        match s {
            ExecStatus::Failed { code, .. } => Some(code),
            ExecStatus::Success => None,
        }
    }

    #[test]
    fn sequences_must_follow_each_other_within_and_across_blocks() {
        let a = KeyPair::from_secret([1; 32]);
        let b = KeyPair::from_secret([2; 32]);
        let mut state = Map(BTreeMap::new());
        let txs = vec![
            tx(&a, "c", 0),
            tx(&a, "c", 1),
            tx(&a, "c", 1), // replay within the block
            tx(&b, "c", 5), // gap
            tx(&b, "other", 0),
            tx(&b, "c", 0),
        ];
        let ex = execute_block("c", &txs, &state).unwrap();
        let codes: Vec<_> = ex.statuses.iter().map(failed_code).collect();
        assert_eq!(
            codes,
            vec![
                None,
                None,
                Some(codes::BAD_SEQUENCE),
                Some(codes::BAD_SEQUENCE),
                Some(codes::WRONG_CHAIN),
                None
            ]
        );
        for (k, v) in &ex.delta {
            state.0.insert(k.clone(), v.clone().unwrap());
        }
        assert_eq!(next_sequence(&state, &a.public()).unwrap(), 2);
        assert_eq!(next_sequence(&state, &b.public()).unwrap(), 1);
        let again = execute_block("c", &[tx(&a, "c", 1), tx(&a, "c", 2)], &state).unwrap();
        assert_eq!(failed_code(&again.statuses[0]), Some(codes::BAD_SEQUENCE));
        assert_eq!(again.statuses[1], ExecStatus::Success);
    }

    #[test]
    fn corrupt_sequence_value_is_an_error_not_a_guess() {
        let a = KeyPair::from_secret([1; 32]);
        let mut m = BTreeMap::new();
        m.insert(sequence_key(&a.public()), vec![1, 2, 3]);
        let err = execute_block("c", &[tx(&a, "c", 0)], &Map(m)).unwrap_err();
        assert!(matches!(err, ExecError::Corrupt { .. }), "{err}");
    }
}
