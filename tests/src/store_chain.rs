//! A deterministic chain for storage tests: block `h` of seed `s` is a pure function of `(s, h)`
//! and its parent, so a test can regenerate byte for byte what a killed writer committed.

use ledger::block::{Block, BlockHeader};
use ledger::merkle::tx_root;
use ledger::receipt::{ExecStatus, Receipt};
use ledger::storage::{CommitInfo, Store, StoreError};
use ledger::tx::{Payload, Transaction};
use ledger::{Hash, KeyPair};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub const CHAIN_ID: &str = "crash-test";
/// Stands in for the genesis file's hash.
pub const GENESIS_HASH: Hash = Hash([0x47; 32]);

fn proposer() -> KeyPair {
    KeyPair::from_secret([0x50; 32])
}

pub fn genesis_block() -> Block {
    Block {
        header: BlockHeader {
            chain_id: CHAIN_ID.into(),
            height: 0,
            round: 0,
            parent: Hash::ZERO,
            tx_root: tx_root(&[]),
            proposer: proposer().public(),
            timestamp_ms: 0,
            justify: vec![],
        },
        txs: vec![],
    }
}

/// Block `height` on top of `parent`, its certificate bytes and receipts (first ledger index
/// `first`): 0 to 4 memo transactions from a handful of accounts, some "failed".
pub fn make_block(
    seed: u64,
    height: u64,
    parent: Hash,
    first: u64,
) -> (Block, Vec<u8>, Vec<Receipt>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ height.wrapping_mul(0x9e37_79b9_7f4a_7c15));
    let n = rng.gen_range(0..=4u32);
    let txs: Vec<_> = (0..n)
        .map(|i| {
            let key = KeyPair::from_secret([rng.gen_range(1..=4u8); 32]);
            let len = rng.gen_range(0..64);
            Transaction {
                chain_id: CHAIN_ID.into(),
                signer: key.public(),
                sequence: height * 8 + u64::from(i),
                payload: Payload::Memo {
                    data: (0..len).map(|_| rng.gen()).collect(),
                },
            }
            .sign(&key)
        })
        .collect();
    let receipts = txs
        .iter()
        .enumerate()
        .map(|(i, t)| Receipt {
            tx_hash: t.hash(),
            height,
            index_in_block: i as u32,
            ledger_index: first + i as u64,
            status: if rng.gen_bool(0.8) {
                ExecStatus::Success
            } else {
                ExecStatus::Failed {
                    code: "test_failure".into(),
                    message: format!("block {height} tx {i}"),
                }
            },
        })
        .collect();
    let block = Block {
        header: BlockHeader {
            chain_id: CHAIN_ID.into(),
            height,
            round: height + rng.gen_range(0..3),
            parent,
            tx_root: tx_root(&txs.iter().map(|t| t.hash()).collect::<Vec<_>>()),
            proposer: proposer().public(),
            timestamp_ms: 1_700_000_000_000 + height * 1000,
            justify: (0..rng.gen_range(0..48)).map(|_| rng.gen()).collect(),
        },
        txs,
    };
    let certificate = (0..rng.gen_range(16..128)).map(|_| rng.gen()).collect();
    (block, certificate, receipts)
}

/// Initialises `store` if empty and commits the next block of the deterministic chain.
pub fn commit_next(store: &Store, seed: u64) -> Result<CommitInfo, StoreError> {
    let Some(head) = store.head() else {
        return store.init_genesis(GENESIS_HASH, &genesis_block());
    };
    let (block, cert, receipts) =
        make_block(seed, head.height + 1, head.hash, store.accumulator_size());
    store.commit_block(&block, &cert, &receipts)
}
