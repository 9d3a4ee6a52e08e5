//! The fixed world every target runs in: a four-validator chain whose keys the harness holds
//! (so it can sign valid messages and certificates), and the genesis of the proof examples in
//! `docs/proofs/` (what `waybill audit verify` checks proof files against).

use std::sync::OnceLock;

use ledger::genesis::ConsensusParams;
use ledger::{Genesis, KeyPair, PublicKey};

/// Validators of the fuzz chain.
pub const N: usize = 4;
/// The fuzz chain's id.
pub const CHAIN_ID: &str = "waybill-fuzz";
/// Most transactions in one block on the fuzz chain (small, so the limit is reachable).
pub const MAX_BLOCK_TXS: u32 = 8;

/// Validator `i`'s consensus key (`i < N`); `N` is a key outside the validator set.
pub fn key(i: usize) -> &'static KeyPair {
    static KEYS: OnceLock<Vec<KeyPair>> = OnceLock::new();
    &KEYS.get_or_init(|| {
        (0..=N)
            .map(|i| KeyPair::from_secret([i as u8 + 1; 32]))
            .collect()
    })[i]
}

pub fn public(i: usize) -> PublicKey {
    key(i).public()
}

/// An account key that signs transactions (not a validator).
pub fn account(i: usize) -> &'static KeyPair {
    static KEYS: OnceLock<Vec<KeyPair>> = OnceLock::new();
    &KEYS.get_or_init(|| {
        (0..4)
            .map(|i| KeyPair::from_secret([0x40 + i; 32]))
            .collect()
    })[i % 4]
}

/// The four-validator genesis of the fuzz chain, validated.
pub fn genesis() -> &'static Genesis {
    static GENESIS: OnceLock<Genesis> = OnceLock::new();
    GENESIS.get_or_init(|| {
        let keys: Vec<_> = (0..N)
            .map(|i| {
                (
                    public(i),
                    KeyPair::from_secret([i as u8 + 100; 32]).public(),
                )
            })
            .collect();
        let g = Genesis {
            consensus: ConsensusParams {
                round_timeout_ms: 1_000,
                max_round_timeout_ms: 10_000,
                timeout_backoff_percent: 150,
                max_block_txs: MAX_BLOCK_TXS,
            },
            ..Genesis::of_validators(CHAIN_ID, &keys)
        };
        g.validate().expect("the fuzz genesis is valid");
        g
    })
}

/// `docs/proofs/genesis.toml`: the chain the example proofs were issued on.
pub fn proof_genesis() -> &'static Genesis {
    static GENESIS: OnceLock<Genesis> = OnceLock::new();
    GENESIS.get_or_init(|| {
        Genesis::from_toml(PROOF_GENESIS_TOML).expect("docs/proofs/genesis.toml is valid")
    })
}

pub const PROOF_GENESIS_TOML: &str = include_str!("../../docs/proofs/genesis.toml");

/// The example proofs of `docs/proofs/`, each verifying against [`proof_genesis`].
pub const PROOF_EXAMPLES: &[&str] = &[
    include_str!("../../docs/proofs/transaction.json"),
    include_str!("../../docs/proofs/item-state.json"),
    include_str!("../../docs/proofs/item-absent.json"),
    include_str!("../../docs/proofs/history.json"),
    include_str!("../../docs/proofs/history-absent.json"),
    include_str!("../../docs/proofs/consistency.json"),
];

/// `key(i).sign(msg)`, remembered: ed25519 signatures are deterministic, and the consensus
/// harness signs the same votes and certificates over and over (mutated inputs share most of
/// their operations), which was over half of its time. Bounded: cleared when full.
pub fn sign<T: ledger::Canonical>(i: usize, msg: &T) -> ledger::Signature {
    use std::cell::RefCell;
    use std::collections::HashMap;
    const MOST: usize = 1 << 16;
    thread_local! {
        static SIGNED: RefCell<HashMap<(usize, [u8; 32]), ledger::Signature>> =
            RefCell::new(HashMap::new());
    }
    let id = (
        i,
        *blake3::hash(&ledger::encoding::signing_bytes(msg)).as_bytes(),
    );
    SIGNED.with(|cell| {
        let mut signed = cell.borrow_mut();
        if let Some(sig) = signed.get(&id) {
            return *sig;
        }
        if signed.len() >= MOST {
            signed.clear();
        }
        let sig = key(i).sign(msg);
        signed.insert(id, sig);
        sig
    })
}
