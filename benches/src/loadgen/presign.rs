//! Every transaction of a run, signed before the clock starts so that the load generator's own
//! signing never competes with the validators during the measurement.
//!
//! Transactions are memos (open to any signer, see `ledger::supply::exec`) from fresh random
//! accounts, so a run against an already-used network never collides with earlier sequence
//! numbers. Transaction `i` is account `i % accounts`'s sequence `i / accounts`; account `a` is
//! submitted only through validator `a % validators`, so each account's transactions reach the
//! mempool in sequence order from one place (gossip carries them to the others).
//!
//! The canonical bytes live in one flat buffer (a 10-minute run holds millions of transactions;
//! one allocation each would cost more memory than the bytes themselves).

use std::collections::HashMap;

use ledger::tx::{Payload, Transaction};
use ledger::{Hash, KeyPair, SignedTransaction};

/// Memo bytes per transaction: the size the criterion benches use (220 bytes signed).
pub const MEMO_BYTES: usize = crate::MEMO_BYTES;

pub struct Workload {
    pub chain_id: String,
    pub accounts: usize,
    pub validators: usize,
    bytes: Vec<u8>,
    /// `offsets[i]..offsets[i + 1]` are transaction `i`'s bytes.
    offsets: Vec<usize>,
    pub hashes: Vec<Hash>,
    /// Transaction hash -> index, to recognise our transactions in committed blocks.
    pub index: HashMap<Hash, u32>,
}

impl Workload {
    pub fn len(&self) -> usize {
        self.hashes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.hashes.is_empty()
    }

    pub fn raw(&self, i: usize) -> &[u8] {
        &self.bytes[self.offsets[i]..self.offsets[i + 1]]
    }

    /// The validator transaction `i` is submitted through.
    pub fn stream_of(&self, i: usize) -> usize {
        (i % self.accounts) % self.validators
    }

    /// Per validator, the indices of the transactions it gets, in submission order.
    pub fn streams(&self) -> Vec<Vec<u32>> {
        let mut out = vec![Vec::with_capacity(self.len() / self.validators + 1); self.validators];
        for i in 0..self.len() {
            out[self.stream_of(i)].push(i as u32);
        }
        out
    }

    /// Decodes the first `n` transactions (for the signature-bound measurement).
    pub fn decoded(&self, n: usize) -> Vec<SignedTransaction> {
        (0..n.min(self.len()))
            .filter_map(|i| SignedTransaction::from_bytes(self.raw(i)).ok())
            .collect()
    }
}

/// Signs `count` transactions on all cores (`threads`).
pub fn presign(
    chain_id: &str,
    accounts: usize,
    validators: usize,
    count: usize,
    threads: usize,
) -> Workload {
    let accounts = accounts.max(1);
    let keys: Vec<KeyPair> = (0..accounts).map(|_| KeyPair::generate()).collect();
    let threads = threads.clamp(1, 64);
    let per = count.div_ceil(threads).max(1);
    let parts: Vec<(Vec<u8>, Vec<usize>, Vec<Hash>)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..count)
            .step_by(per)
            .map(|start| {
                let keys = &keys;
                s.spawn(move || sign_range(chain_id, keys, start..(start + per).min(count)))
            })
            .collect();
        handles
            .into_iter()
            // A signing thread panics only on a bug in ledger's encoder: pass that panic on.
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    let mut bytes = Vec::with_capacity(parts.iter().map(|p| p.0.len()).sum());
    let mut offsets = Vec::with_capacity(count + 1);
    let mut hashes = Vec::with_capacity(count);
    offsets.push(0);
    for (b, lens, h) in parts {
        for len in lens {
            offsets.push(offsets[offsets.len() - 1] + len);
        }
        bytes.extend_from_slice(&b);
        hashes.extend(h);
    }
    let index: HashMap<Hash, u32> = hashes
        .iter()
        .enumerate()
        .map(|(i, h)| (*h, i as u32))
        .collect();
    Workload {
        chain_id: chain_id.to_string(),
        accounts,
        validators: validators.max(1),
        bytes,
        offsets,
        hashes,
        index,
    }
}

fn sign_range(
    chain_id: &str,
    keys: &[KeyPair],
    range: std::ops::Range<usize>,
) -> (Vec<u8>, Vec<usize>, Vec<Hash>) {
    let mut bytes = Vec::new();
    let mut lens = Vec::with_capacity(range.len());
    let mut hashes = Vec::with_capacity(range.len());
    for i in range {
        let key = &keys[i % keys.len()];
        let mut data = vec![0u8; MEMO_BYTES];
        data[..8].copy_from_slice(&(i as u64).to_le_bytes());
        let stx = Transaction {
            chain_id: chain_id.to_string(),
            signer: key.public(),
            sequence: (i / keys.len()) as u64,
            payload: Payload::Memo { data },
        }
        .sign(key);
        let b = stx.to_bytes();
        lens.push(b.len());
        bytes.extend_from_slice(&b);
        hashes.push(stx.hash());
    }
    (bytes, lens, hashes)
}
