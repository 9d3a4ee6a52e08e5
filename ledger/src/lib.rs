//! Waybill's ledger: every byte format that is hashed or signed, keys and signatures, Merkle
//! structures, genesis, and (with the `storage` feature) the RocksDB store. Without `storage` the
//! crate does no I/O beyond reading key and genesis files: consensus and offline verifiers use it.

pub mod accumulator;
pub mod block;
pub mod ceremony;
pub mod crypto;
pub mod encoding;
mod encoding_helpers;
pub mod epcis;
pub mod execute;
pub mod genesis;
pub mod governance;
pub mod hash;
pub mod key_cache;
pub mod keyfile;
pub mod merkle;
pub mod proof;
pub mod receipt;
pub mod smt;
pub mod state_sync;
#[cfg(feature = "storage")]
pub mod storage;
pub mod store_api;
pub mod stored;
pub mod strict_json;
pub mod supply;
pub mod tx;

pub use block::{Block, BlockHeader};
pub use crypto::{KeyPair, PublicKey, Signature};
pub use encoding::Canonical;
pub use encoding_helpers::{decode_hex, HexError};
pub use genesis::Genesis;
pub use hash::Hash;
pub use tx::{Payload, SignedTransaction, Transaction};
