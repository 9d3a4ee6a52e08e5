//! A signed transaction's canonical bytes, as gossip carries them and
//! `waybill_submitRawTransaction(s)` accept them (hex-decoded).
//!
//! - decoding is strict: what decodes re-encodes to the very same bytes, and its remembered hash
//!   and length are those of a fresh computation;
//! - what decodes passed every structural limit, so on its own chain only the signature can fail;
//! - the batch and the single signature checks agree (they once did not);
//! - its JSON form (what `waybill_submitTransaction` takes) parses back to the same transaction;
//! - oversized input is refused as too large, before decoding.

use ledger::encoding::DecodeError;
use ledger::tx::{verify_transactions, TxError, MAX_TX_BYTES};
use ledger::SignedTransaction;

pub fn run(data: &[u8]) {
    match SignedTransaction::from_bytes(data) {
        Ok(stx) => check_decoded(&stx, data),
        Err(e) => {
            if data.len() > MAX_TX_BYTES {
                assert!(
                    matches!(e, TxError::Decode(DecodeError::TooLarge { .. })),
                    "{e}"
                );
            }
            let _ = e.to_string();
        }
    }
}

/// What must hold of a transaction that decoded from `data`.
pub fn check_decoded(stx: &SignedTransaction, data: &[u8]) {
    assert_eq!(stx.to_bytes(), data, "one encoding per transaction");
    assert_eq!(stx.encoded_len(), data.len());
    assert_eq!(stx.hash(), stx.tx.hash());
    stx.check_limits().expect("decoding checked the limits");
    let single = stx.verify(&stx.tx.chain_id);
    match &single {
        Ok(()) | Err(TxError::Signature(_)) => {}
        Err(e) => panic!("limits passed and the chain matches, yet: {e}"),
    }
    let batch = verify_transactions(&stx.tx.chain_id, std::slice::from_ref(stx));
    assert_eq!(
        batch[0].is_ok(),
        single.is_ok(),
        "batch and single checks disagree: {:?} vs {single:?}",
        batch[0]
    );
    let json = serde_json::to_string(stx).expect("a transaction serialises to JSON");
    let back: SignedTransaction =
        serde_json::from_str(&json).expect("a transaction's own JSON parses");
    assert_eq!(&back, stx);
    assert_eq!(back.hash(), stx.hash());
    assert_eq!(back.to_bytes(), data);
}
