//! What the node's blocks carry: a batch of signed transactions. Consensus sees it only through
//! [`consensus::Payload`] (its digest is the header's `tx_root`) and [`TxBatchValidator`].

use std::sync::Arc;

use consensus::{Block as ConsensusBlock, Payload, PayloadValidator};
use ledger::block::{check_block, BlockError, BlockRules, MAX_BLOCK_TX_BYTES};
use ledger::merkle::tx_root;
use ledger::tx::{verify_transactions, TxError};
use ledger::{Block, BlockHeader, Hash, SignedTransaction};
use serde::{Deserialize, Serialize};

use crate::mempool::SharedMempool;
use crate::signature_checks::CheckedVia;

/// The transactions are shared, not owned: the core clones a block when it stores a proposal
/// and again when it commits one, and copying thousands of transactions each time (with their
/// allocations) was a percent or two of a validator's CPU under load.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxBatch {
    #[serde(with = "shared_txs")]
    pub txs: Arc<Vec<SignedTransaction>>,
}

impl TxBatch {
    pub fn new(txs: Vec<SignedTransaction>) -> Self {
        TxBatch { txs: Arc::new(txs) }
    }
}

/// Encodes the shared list exactly as the list itself (a BCS sequence), so the wire format and
/// stored consensus records are what they were with an owned `Vec`.
mod shared_txs {
    use std::sync::Arc;

    use ledger::SignedTransaction;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(
        txs: &Arc<Vec<SignedTransaction>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        txs.as_slice().serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Arc<Vec<SignedTransaction>>, D::Error> {
        Vec::deserialize(d).map(Arc::new)
    }
}

impl Payload for TxBatch {
    fn digest(&self) -> Hash {
        tx_root(&self.txs.iter().map(|t| t.hash()).collect::<Vec<_>>())
    }
    fn empty() -> Self {
        TxBatch::default()
    }
}

/// The ledger block a consensus block becomes when it commits.
pub fn to_ledger_block(block: &ConsensusBlock<TxBatch>) -> Block {
    Block {
        header: block.header.clone(),
        txs: block.payload.txs.as_ref().clone(),
    }
}

/// The consensus block a committed ledger block was (for serving and recovery).
pub fn from_ledger_block(block: Block) -> ConsensusBlock<TxBatch> {
    ConsensusBlock {
        header: block.header,
        payload: TxBatch::new(block.txs),
    }
}

/// Truncates a batch so it fits a proposal: at most `max_txs` (the genesis `max_block_txs`)
/// and the ledger's [`MAX_BLOCK_TX_BYTES`].
pub fn fit_proposal(mut txs: Vec<SignedTransaction>, max_txs: usize) -> Vec<SignedTransaction> {
    txs.truncate(max_txs);
    let mut bytes = 0usize;
    let mut keep = txs.len();
    for (i, t) in txs.iter().enumerate() {
        bytes += t.encoded_len();
        if bytes > MAX_BLOCK_TX_BYTES {
            keep = i;
            break;
        }
    }
    txs.truncate(keep);
    txs
}

/// Fewest transactions worth splitting over threads. Batch verification gets cheaper per
/// signature as the batch grows (criterion, one core: 56 k/s at 256, 59 k/s at 512, 60 k/s at
/// 700, 62 k/s at 1,024), so a batch is split only when each part keeps at least 512. Splitting
/// the intake's usual 700 into two halves bought latency with 4 % more verification work, which
/// a loaded node, its cores already busy, pays in throughput.
const PARALLEL_VERIFY_MIN: usize = 1_024;

/// The machine's cores, asked once: `available_parallelism` reads cgroup files on every call,
/// and the submission and gossip paths call this for every batch (those reads showed up in the
/// profile under load).
fn cores() -> usize {
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, usize::from))
}

/// [`verify_transactions`] split over the machine's cores. A proposal's unverified signatures are
/// checked on the vote path, where a 4,000-transaction block on one core took long enough to
/// make rounds fail under load.
pub fn verify_in_parallel(chain_id: &str, txs: &[SignedTransaction]) -> Vec<Result<(), TxError>> {
    let threads = cores();
    if threads < 2 || txs.len() < PARALLEL_VERIFY_MIN {
        return verify_transactions(chain_id, txs);
    }
    let chunk = txs.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = txs
            .chunks(chunk)
            .map(|part| scope.spawn(move || verify_transactions(chain_id, part)))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| match h.join() {
                Ok(results) => results,
                // Signature checks do not panic; if one did, re-raise it here rather than
                // treat its transactions as checked.
                Err(panic) => std::panic::resume_unwind(panic),
            })
            .collect()
    })
}

/// Every validator checks every proposal before voting: the ledger's block validity (chain,
/// count, bytes, each transaction's limits), then each transaction's chain id and signature. Transactions pending in this node's mempool, signature included, had their
/// signature checked at admission and are not checked again: that is nearly every transaction of
/// an honest proposal, since the leader gossiped them too. Sequence numbers are execution's
/// business: a stale one commits with a failed receipt.
pub struct TxBatchValidator {
    pub chain_id: String,
    /// The genesis `max_block_txs` (never above the ledger's `MAX_BLOCK_TXS`).
    pub max_txs: usize,
    pub mempool: SharedMempool,
}

/// Why a proposed payload was refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    /// The ledger's block validity ([`check_block`]): chain, count, bytes, limits.
    #[error(transparent)]
    Block(#[from] BlockError),
    #[error("transaction {index} ({hash}): {source}")]
    Transaction {
        index: usize,
        hash: Hash,
        #[source]
        source: TxError,
    },
}

impl PayloadValidator<TxBatch> for TxBatchValidator {
    type Error = PayloadError;

    fn check_limits(&self, header: &BlockHeader, payload: &TxBatch) -> Result<(), PayloadError> {
        let rules = BlockRules {
            chain_id: &self.chain_id,
            max_txs: self.max_txs,
        };
        Ok(check_block(header, &payload.txs, &rules)?)
    }

    fn validate(&self, header: &BlockHeader, payload: &TxBatch) -> Result<(), PayloadError> {
        // Everything but the signatures first: cheap, and bounds what the signatures cost.
        self.check_limits(header, payload)?;
        let unverified: Vec<(usize, SignedTransaction)> = {
            let pool = self.mempool.lock();
            payload
                .txs
                .iter()
                .enumerate()
                .filter(|(_, t)| !pool.holds(t))
                .map(|(i, t)| (i, t.clone()))
                .collect()
        };
        let txs: Vec<SignedTransaction> = unverified.iter().map(|(_, t)| t.clone()).collect();
        self.mempool
            .signature_checks()
            .add(CheckedVia::Proposal, txs.len());
        for ((index, tx), result) in unverified
            .iter()
            .zip(verify_in_parallel(&self.chain_id, &txs))
        {
            result.map_err(|source| PayloadError::Transaction {
                index: *index,
                hash: tx.hash(),
                source,
            })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ledger::tx::{Payload as TxPayload, Transaction};
    use ledger::KeyPair;

    fn tx(seq: u64, chain: &str) -> SignedTransaction {
        let k = KeyPair::from_secret([7; 32]);
        Transaction {
            chain_id: chain.into(),
            signer: k.public(),
            sequence: seq,
            payload: TxPayload::Memo { data: vec![0; 10] },
        }
        .sign(&k)
    }

    fn header() -> BlockHeader {
        BlockHeader {
            chain_id: "c".into(),
            height: 1,
            round: 1,
            parent: Hash::ZERO,
            tx_root: Hash::ZERO,
            proposer: KeyPair::from_secret([1; 32]).public(),
            timestamp_ms: 0,
            justify: vec![],
        }
    }

    /// Sharing the list changed nothing on the wire or on disk: a batch encodes as a struct
    /// holding the plain list did, and decodes back.
    #[test]
    fn a_shared_batch_encodes_as_the_plain_list() {
        use ledger::encoding::{from_canonical, to_canonical};
        #[derive(Serialize)]
        struct Plain {
            txs: Vec<SignedTransaction>,
        }
        let txs = vec![tx(0, "c"), tx(1, "c")];
        let shared = TxBatch::new(txs.clone());
        let bytes = to_canonical(&shared);
        assert_eq!(bytes, to_canonical(&Plain { txs }));
        let back: TxBatch = from_canonical("batch", &bytes, 1 << 20).unwrap();
        assert_eq!(back, shared);
    }

    #[test]
    fn digest_is_the_ledger_tx_root() {
        let batch = TxBatch::new(vec![tx(0, "c"), tx(1, "c")]);
        let ledger_block = Block {
            header: BlockHeader {
                tx_root: batch.digest(),
                ..header()
            },
            txs: batch.txs.to_vec(),
        };
        ledger_block.check_shape().unwrap();
    }

    #[test]
    fn validator_rejects_a_bad_signature_or_chain_and_trusts_the_mempool() {
        let mempool = SharedMempool::new(crate::mempool::Mempool::new(
            "c".into(),
            crate::mempool::MempoolLimits {
                capacity: 100,
                per_account: 10,
                sequence_window: 10,
            },
        ));
        let v = TxBatchValidator {
            chain_id: "c".into(),
            max_txs: 2,
            mempool: mempool.clone(),
        };
        let good = TxBatch::new(vec![tx(0, "c"), tx(1, "c")]);
        v.validate(&header(), &good).unwrap();
        // One more than the genesis allows is refused before any signature is looked at.
        let err = v
            .validate(
                &header(),
                &TxBatch::new(vec![tx(0, "c"), tx(1, "c"), tx(2, "c")]),
            )
            .unwrap_err();
        assert!(
            matches!(
                err,
                PayloadError::Block(BlockError::TooManyTxs {
                    count: 3,
                    max: 2,
                    ..
                })
            ),
            "{err}"
        );

        // What the mempool holds is not checked again. Admission trusts its caller, so a
        // transaction with a broken signature slipped in that way passes: proof that the
        // validator asked the mempool instead of checking.
        let mut bad_signature = good.txs[0].signature;
        bad_signature.0[0] ^= 1;
        let resigned = SignedTransaction::new(good.txs[0].tx.clone(), bad_signature);
        let unchecked = TxBatch::new(vec![resigned.clone()]);
        assert!(v.validate(&header(), &unchecked).is_err());
        mempool
            .lock()
            .admit_verified(resigned, &NoLedger, 0)
            .unwrap();
        v.validate(&header(), &unchecked).unwrap();

        // The mempool vouches for a transaction *and* its signature: the pending one
        // re-proposed with another signature is checked, and refused.
        let mut other_signature = bad_signature;
        other_signature.0[1] ^= 1;
        let resigned = SignedTransaction::new(good.txs[0].tx.clone(), other_signature);
        let err = v
            .validate(&header(), &TxBatch::new(vec![resigned]))
            .unwrap_err();
        assert!(err.to_string().contains("signature"), "{err}");

        let mut forged = tx(2, "c");
        forged.tx.sequence = 3;
        let err = v
            .validate(&header(), &TxBatch::new(vec![tx(0, "c"), forged]))
            .unwrap_err();
        assert!(err.to_string().contains("signature"), "{err}");
        let err = v
            .validate(&header(), &TxBatch::new(vec![tx(0, "other")]))
            .unwrap_err();
        assert!(err.to_string().contains("chain"), "{err}");
    }

    /// A ledger where every account is new and nothing is committed.
    struct NoLedger;
    impl crate::mempool::LedgerView for NoLedger {
        fn next_sequence(&self, _: &ledger::PublicKey) -> u64 {
            0
        }
        fn is_committed(&self, _: &Hash) -> bool {
            false
        }
    }

    #[test]
    fn fit_proposal_bounds_count() {
        let txs: Vec<_> = (0..105).map(|s| tx(s, "c")).collect();
        assert_eq!(fit_proposal(txs.clone(), 100).len(), 100);
        assert_eq!(fit_proposal(txs, 4_000).len(), 105);
    }

    #[test]
    fn parallel_verification_agrees_with_serial_and_finds_the_bad_one() {
        // Large enough to be split (one bad transaction in each half).
        let n = PARALLEL_VERIFY_MIN as u64 + 200;
        let mut txs: Vec<SignedTransaction> = (0..n).map(|i| tx(i, "c")).collect();
        txs[1_050].signature.0[3] ^= 1;
        txs[7] = tx(7, "other-chain");
        let parallel = verify_in_parallel("c", &txs);
        assert_eq!(parallel, verify_transactions("c", &txs));
        let bad: Vec<usize> = parallel
            .iter()
            .enumerate()
            .filter(|(_, r)| r.is_err())
            .map(|(i, _)| i)
            .collect();
        assert_eq!(bad, vec![7, 1_050]);
    }
}
