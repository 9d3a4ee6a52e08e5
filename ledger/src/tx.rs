//! The transaction envelope: who signs, for which chain, with which per-account sequence number,
//! and what it asks the ledger to do. The envelope is final; new kinds of action are new
//! [`Payload`] variants appended at the end (BCS encodes the variant index, so old bytes keep
//! their meaning).

use std::fmt;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::crypto::{verify_batch, CryptoError, KeyPair, PublicKey, Signature, SIGNATURE_LEN};
use crate::encoding::{
    digest, digest_encoded, from_canonical, to_canonical, Canonical, DecodeError,
};
use crate::hash::Hash;
use crate::{governance, supply};

/// Largest canonical encoding of a signed transaction the node accepts.
pub const MAX_TX_BYTES: usize = 64 * 1024;
/// Longest chain id, in bytes.
pub const MAX_CHAIN_ID_LEN: usize = 64;
/// Largest memo payload, in bytes.
pub const MAX_MEMO_BYTES: usize = 4 * 1024;

/// What a transaction asks the ledger to do. The supply-chain actions, their rules and failure
/// codes are documented in [`crate::supply`]. Variants are only ever appended: BCS encodes the
/// variant index (`memo` is 0, `add_account` 1, ... in declaration order).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
// Externally tagged (BCS cannot decode internally tagged enums): JSON is `{"memo": {...}}`,
// `{"commission": {"item_id": ..., ...}}`.
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Payload {
    /// Free-form bytes recorded in the ledger and nothing else: used for smoke tests and load.
    Memo {
        #[serde(with = "crate::encoding_helpers::hex_bytes")]
        data: Vec<u8>,
    },
    AddAccount(supply::AddAccount),
    RemoveAccount(supply::RemoveAccount),
    SetAccountRoles(supply::SetAccountRoles),
    Commission(supply::Commission),
    Observe(supply::Observe),
    ProposeTransfer(supply::ProposeTransfer),
    AcceptTransfer(supply::TransferResponse),
    RejectTransfer(supply::TransferResponse),
    CancelTransfer(supply::TransferResponse),
    Aggregate(supply::Packing),
    Disaggregate(supply::Packing),
    Transform(supply::Transform),
    AttachDocument(supply::AttachDocument),
    Decommission(supply::Decommission),
    /// Governance ([`crate::governance`]): a change to the validators or organizations.
    ProposeChange(governance::ProposeChange),
    ApproveChange(governance::ApproveChange),
    /// One GS1 EPCIS 2.0 event ([`crate::epcis`]; docs/EPCIS.md).
    CaptureEpcis(crate::epcis::capture::EpcisCapture),
}

impl Payload {
    /// The variant's name as in JSON (`"memo"`, `"commission"`, ...).
    pub fn kind(&self) -> &'static str {
        match self {
            Payload::Memo { .. } => "memo",
            Payload::AddAccount(_) => "add_account",
            Payload::RemoveAccount(_) => "remove_account",
            Payload::SetAccountRoles(_) => "set_account_roles",
            Payload::Commission(_) => "commission",
            Payload::Observe(_) => "observe",
            Payload::ProposeTransfer(_) => "propose_transfer",
            Payload::AcceptTransfer(_) => "accept_transfer",
            Payload::RejectTransfer(_) => "reject_transfer",
            Payload::CancelTransfer(_) => "cancel_transfer",
            Payload::Aggregate(_) => "aggregate",
            Payload::Disaggregate(_) => "disaggregate",
            Payload::Transform(_) => "transform",
            Payload::AttachDocument(_) => "attach_document",
            Payload::Decommission(_) => "decommission",
            Payload::ProposeChange(_) => "propose_change",
            Payload::ApproveChange(_) => "approve_change",
            Payload::CaptureEpcis(_) => "capture_epcis",
        }
    }

    /// Structural limits of the payload alone (sizes, counts, identifier syntax, repeats).
    pub fn check_limits(&self) -> Result<(), TxError> {
        match self {
            Payload::Memo { data } if data.len() > MAX_MEMO_BYTES => Err(TxError::MemoTooLarge {
                len: data.len(),
                max: MAX_MEMO_BYTES,
            }),
            Payload::Memo { .. } => Ok(()),
            Payload::AddAccount(a) => a.check(),
            Payload::RemoveAccount(a) => a.check(),
            Payload::SetAccountRoles(a) => a.check(),
            Payload::Commission(a) => a.check(),
            Payload::Observe(a) => a.check(),
            Payload::ProposeTransfer(a) => a.check(),
            Payload::AcceptTransfer(a)
            | Payload::RejectTransfer(a)
            | Payload::CancelTransfer(a) => a.check(),
            Payload::Aggregate(a) | Payload::Disaggregate(a) => a.check(),
            Payload::Transform(a) => a.check(),
            Payload::AttachDocument(a) => a.check(),
            Payload::Decommission(a) => a.check(),
            Payload::ProposeChange(a) => a.check(),
            Payload::ApproveChange(a) => a.check(),
            Payload::CaptureEpcis(a) => a.check(),
        }
    }
}

/// The signed part of a transaction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Transaction {
    /// The chain this transaction is for (genesis `chain_id`): no replay across chains.
    pub chain_id: String,
    /// The account that signs and pays for nothing: accounts are permissioned, not funded.
    pub signer: PublicKey,
    /// Per-account sequence number, starting at 0: no replay within a chain.
    pub sequence: u64,
    pub payload: Payload,
}

impl Canonical for Transaction {
    const DOMAIN: &'static str = "waybill/tx/v2";
}

/// A transaction and the signer's signature over its canonical signing bytes.
///
/// Its hash and encoded length are computed once and remembered: a validator needs the hash at
/// admission, in the proposal's tx root and its check against the mempool, execution, storage
/// and the mempool's clean-up, and recomputing it each time (an encoding and
/// a blake3 pass) was a twentieth of its CPU under load. So **do not change `tx` or `signature`
/// of a transaction whose hash may have been taken**; build a new one ([`SignedTransaction::new`]).
/// Debug builds check every remembered value against a fresh computation.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedTransaction {
    pub tx: Transaction,
    pub signature: Signature,
    /// Not part of the encoding or of equality.
    #[serde(skip)]
    memo: Memo,
}

/// Values derived from a signed transaction, each computed at its first use.
#[derive(Clone, Default)]
struct Memo {
    hash: OnceLock<Hash>,
    encoded_len: OnceLock<usize>,
}

impl PartialEq for Memo {
    /// Derived values never distinguish two transactions: their fields do.
    fn eq(&self, _: &Memo) -> bool {
        true
    }
}

impl Eq for Memo {}

impl fmt::Debug for SignedTransaction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignedTransaction")
            .field("tx", &self.tx)
            .field("signature", &self.signature)
            .finish()
    }
}

/// Why a transaction envelope is not acceptable, before any execution.
#[derive(Clone, Debug, thiserror::Error, PartialEq, Eq)]
pub enum TxError {
    #[error(transparent)]
    Decode(#[from] DecodeError),
    #[error("transaction is {len} bytes, the limit is {max}")]
    TooLarge { len: usize, max: usize },
    #[error("wrong chain id {found:?}, this chain is {expected:?}")]
    WrongChain { expected: String, found: String },
    #[error("chain id of {len} bytes exceeds {max}")]
    ChainIdTooLong { len: usize, max: usize },
    #[error("memo of {len} bytes exceeds {max}")]
    MemoTooLarge { len: usize, max: usize },
    #[error(transparent)]
    Signature(#[from] CryptoError),
    /// An id or name that is empty, too long or has characters outside its alphabet.
    #[error("{field} {value:?} must be 1..={max} bytes of its allowed characters")]
    BadIdentifier {
        field: &'static str,
        value: String,
        max: usize,
    },
    #[error("{field} of {len} bytes exceeds {max}")]
    FieldTooLong {
        field: &'static str,
        len: usize,
        max: usize,
    },
    #[error("{field}: {reason}")]
    BadText { field: &'static str, reason: String },
    #[error("{field} has {count} entries, allowed {min}..={max}")]
    BadCount {
        field: &'static str,
        count: usize,
        min: usize,
        max: usize,
    },
    #[error("{field} names {value:?} twice")]
    Duplicate { field: &'static str, value: String },
    #[error("{field} {key:?}: JSON value of {len} bytes exceeds {max}")]
    JsonTooLarge {
        field: &'static str,
        key: String,
        len: usize,
        max: usize,
    },
    #[error("{field} {key:?}: JSON value nested {depth} deep, the limit is {max}")]
    JsonTooDeep {
        field: &'static str,
        key: String,
        depth: usize,
        max: usize,
    },
}

impl Transaction {
    /// The transaction's identity. Covers everything the signer signed and nothing else, so it
    /// cannot be changed by re-encoding the signature (verification is strict, too).
    pub fn hash(&self) -> Hash {
        digest(self)
    }

    pub fn sign(self, key: &KeyPair) -> SignedTransaction {
        debug_assert_eq!(
            key.public(),
            self.signer,
            "signing with a key other than the signer"
        );
        let signature = key.sign(&self);
        SignedTransaction::new(self, signature)
    }
}

impl SignedTransaction {
    pub fn new(tx: Transaction, signature: Signature) -> Self {
        SignedTransaction {
            tx,
            signature,
            memo: Memo::default(),
        }
    }

    /// The transaction's identity ([`Transaction::hash`]), remembered.
    pub fn hash(&self) -> Hash {
        let hash = *self.memo.hash.get_or_init(|| self.tx.hash());
        debug_assert_eq!(hash, self.tx.hash(), "transaction changed after hashing");
        hash
    }

    /// Length of [`SignedTransaction::to_bytes`], remembered (decoding knows it for free).
    pub fn encoded_len(&self) -> usize {
        let len = *self
            .memo
            .encoded_len
            .get_or_init(|| to_canonical(self).len());
        debug_assert_eq!(
            len,
            to_canonical(self).len(),
            "transaction changed after encoding"
        );
        len
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        to_canonical(self)
    }

    /// Decodes a signed transaction, rejecting oversized, truncated and trailing-garbage input.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, TxError> {
        let stx: SignedTransaction = from_canonical("signed transaction", bytes, MAX_TX_BYTES)?;
        // Canonical decoding is strict (no trailing bytes), so these bytes are its encoding:
        // BCS of the transaction followed by the signature's 64 raw bytes. So the hash, which
        // every intake asks for at once, comes from these bytes rather than a second encoding.
        let _ = stx.memo.encoded_len.set(bytes.len());
        let tx_bytes = &bytes[..bytes.len() - SIGNATURE_LEN];
        let _ = stx.memo.hash.set(digest_encoded::<Transaction>(tx_bytes));
        stx.check_limits()?;
        Ok(stx)
    }

    /// Structural limits that hold for every transaction on any chain.
    pub fn check_limits(&self) -> Result<(), TxError> {
        let len = self.encoded_len();
        if len > MAX_TX_BYTES {
            return Err(TxError::TooLarge {
                len,
                max: MAX_TX_BYTES,
            });
        }
        if self.tx.chain_id.len() > MAX_CHAIN_ID_LEN {
            return Err(TxError::ChainIdTooLong {
                len: self.tx.chain_id.len(),
                max: MAX_CHAIN_ID_LEN,
            });
        }
        self.tx.payload.check_limits()
    }

    /// Everything a node checks before accepting the envelope (execution checks permissions and
    /// sequence numbers later): limits, chain id, signature.
    pub fn verify(&self, chain_id: &str) -> Result<(), TxError> {
        self.check_envelope(chain_id)?;
        self.tx.signer.verify(&self.tx, &self.signature)?;
        Ok(())
    }

    fn check_envelope(&self, chain_id: &str) -> Result<(), TxError> {
        self.check_limits()?;
        if self.tx.chain_id != chain_id {
            return Err(TxError::WrongChain {
                expected: chain_id.to_string(),
                found: self.tx.chain_id.clone(),
            });
        }
        Ok(())
    }
}

/// Verifies a batch of transactions for `chain_id` with one batch signature check; if the batch
/// fails, falls back to one-by-one so the result names every bad transaction by index.
///
/// A lone signature is checked on its own: a batch of one costs 45 µs against 36 µs (it pays
/// for a random coefficient and a general multiscalar multiplication where the single check
/// uses the base point's table), and from two on the batch is cheaper per signature
/// (`cargo bench --bench crypto`, BENCHMARKS.md). Both checks are the same cofactored equation,
/// so they accept the same signatures. One-transaction calls are what a client submitting
/// events one by one makes.
pub fn verify_transactions(chain_id: &str, txs: &[SignedTransaction]) -> Vec<Result<(), TxError>> {
    let mut results: Vec<Result<(), TxError>> =
        txs.iter().map(|t| t.check_envelope(chain_id)).collect();
    let items: Vec<(&PublicKey, &Transaction, &Signature)> = txs
        .iter()
        .zip(&results)
        .filter(|(_, r)| r.is_ok())
        .map(|(t, _)| (&t.tx.signer, &t.tx, &t.signature))
        .collect();
    if items.len() > 1 && verify_batch(&items).is_ok() {
        return results;
    }
    for (t, r) in txs.iter().zip(results.iter_mut()) {
        if r.is_ok() {
            *r =
                t.tx.signer
                    .verify(&t.tx, &t.signature)
                    .map_err(TxError::from);
        }
    }
    results
}

#[cfg(test)]
mod tests {
    use super::*;

    fn memo_tx(key: &KeyPair, seq: u64) -> SignedTransaction {
        Transaction {
            chain_id: "test-chain".into(),
            signer: key.public(),
            sequence: seq,
            payload: Payload::Memo {
                data: vec![1, 2, 3],
            },
        }
        .sign(key)
    }

    #[test]
    fn verify_checks_chain_and_signature() {
        let key = KeyPair::from_secret([1; 32]);
        let stx = memo_tx(&key, 0);
        stx.verify("test-chain").unwrap();
        assert!(matches!(
            stx.verify("other"),
            Err(TxError::WrongChain { .. })
        ));
        let mut forged = stx.clone();
        forged.tx.sequence = 1;
        assert!(matches!(
            forged.verify("test-chain"),
            Err(TxError::Signature(_))
        ));
        let back = SignedTransaction::from_bytes(&stx.to_bytes()).unwrap();
        assert_eq!(back, stx);
    }

    /// A lone transaction skips the batch (see `verify_transactions`): still refused when forged.
    #[test]
    fn a_lone_transaction_is_checked_alone() {
        let key = KeyPair::from_secret([1; 32]);
        let good = memo_tx(&key, 0);
        let mut forged = memo_tx(&key, 1);
        forged.tx.sequence = 2;
        assert!(verify_transactions("test-chain", std::slice::from_ref(&good))[0].is_ok());
        assert!(matches!(
            verify_transactions("test-chain", std::slice::from_ref(&forged))[0],
            Err(TxError::Signature(_))
        ));
        assert!(verify_transactions("test-chain", &[]).is_empty());
    }

    /// The hash remembered from decoded bytes is the hash of the transaction itself, for a
    /// payload of raw bytes and for one of strings and keys alike.
    #[test]
    fn hash_taken_from_decoded_bytes_is_the_transaction_hash() {
        let key = KeyPair::from_secret([4; 32]);
        let remove = Transaction {
            chain_id: "test-chain".into(),
            signer: key.public(),
            sequence: 300,
            payload: Payload::RemoveAccount(supply::RemoveAccount {
                organization: "acme".into(),
                key: KeyPair::from_secret([5; 32]).public(),
            }),
        }
        .sign(&key);
        for stx in [memo_tx(&key, 7), remove] {
            let decoded = SignedTransaction::from_bytes(&stx.to_bytes()).unwrap();
            assert_eq!(decoded.memo.hash.get(), Some(&stx.tx.hash()));
            assert_eq!(decoded.hash(), stx.tx.hash());
            assert_eq!(decoded.encoded_len(), stx.to_bytes().len());
        }
    }

    #[test]
    fn batch_names_each_bad_transaction() {
        let key = KeyPair::from_secret([2; 32]);
        let mut txs: Vec<_> = (0..6).map(|i| memo_tx(&key, i)).collect();
        txs[2].tx.sequence = 99;
        txs[4].tx.chain_id = "elsewhere".into();
        let r = verify_transactions("test-chain", &txs);
        assert!(r[0].is_ok() && r[1].is_ok() && r[3].is_ok() && r[5].is_ok());
        assert!(matches!(r[2], Err(TxError::Signature(_))));
        assert!(matches!(r[4], Err(TxError::WrongChain { .. })));
    }

    /// A "signature" that needs no secret: signer and R the identity point (small order),
    /// s = 0. The single, strict check refuses it (a weak key); the batch check must too, or a
    /// transaction nobody signed is admitted, committed, and then fails `audit ledger` and its
    /// own inclusion proof, which verify one by one.
    #[test]
    fn batch_and_single_checks_agree_on_a_small_order_forgery() {
        let mut identity = [0u8; 32];
        identity[0] = 1;
        let mut sig = [0u8; SIGNATURE_LEN];
        sig[0] = 1;
        let forged = SignedTransaction::new(
            Transaction {
                chain_id: "c".into(),
                signer: PublicKey(identity),
                sequence: 0,
                payload: Payload::Memo { data: vec![] },
            },
            Signature(sig),
        );
        assert!(matches!(forged.verify("c"), Err(TxError::Signature(_))));
        let alone = verify_transactions("c", std::slice::from_ref(&forged));
        assert!(matches!(alone[0], Err(TxError::Signature(_))), "{alone:?}");
        let key = KeyPair::from_secret([5; 32]);
        let batch = verify_transactions("c", &[memo_tx_on(&key, 0, "c"), forged]);
        assert!(batch[0].is_ok());
        assert!(matches!(batch[1], Err(TxError::Signature(_))), "{batch:?}");
    }

    fn memo_tx_on(key: &KeyPair, seq: u64, chain: &str) -> SignedTransaction {
        Transaction {
            chain_id: chain.into(),
            signer: key.public(),
            sequence: seq,
            payload: Payload::Memo { data: vec![] },
        }
        .sign(key)
    }

    #[test]
    fn oversized_memo_rejected() {
        let key = KeyPair::from_secret([3; 32]);
        let stx = Transaction {
            chain_id: "c".into(),
            signer: key.public(),
            sequence: 0,
            payload: Payload::Memo {
                data: vec![0; MAX_MEMO_BYTES + 1],
            },
        }
        .sign(&key);
        assert!(matches!(stx.verify("c"), Err(TxError::MemoTooLarge { .. })));
    }
}
