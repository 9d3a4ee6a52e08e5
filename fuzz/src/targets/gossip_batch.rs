//! A gossip message's bytes (`waybill_engine::gossip_batch`), as every validator's intake
//! decodes each batch another validator (or anyone on the gossip topic) publishes, then each
//! transaction in it.
//!
//! - decoding is strict: a batch that decodes re-encodes to the very bytes, and holds at most
//!   `MAX_GOSSIP_BATCH_TXS` transactions;
//! - input longer than a batch can be is refused before decoding;
//! - each element is decoded as the intake decodes it, and what decodes re-encodes to the
//!   element's very bytes (a bad element costs only itself). What else holds of a decoded
//!   transaction, its signature checks included, is `signed_tx`'s to assert: checking signatures
//!   here made this target thirty times slower for nothing that target does not already cover.

use engine::gossip_batch::{
    decode_batch, encode_batch, GossipError, MAX_GOSSIP_BATCH_TXS, MAX_GOSSIP_MESSAGE_BYTES,
};
use ledger::encoding::DecodeError;
use ledger::SignedTransaction;

pub fn run(data: &[u8]) {
    let batch = match decode_batch(data) {
        Ok(batch) => batch,
        Err(e) => {
            if data.len() > MAX_GOSSIP_MESSAGE_BYTES {
                assert!(
                    matches!(e, GossipError::Decode(DecodeError::TooLarge { .. })),
                    "{e}"
                );
            }
            let _ = e.to_string();
            return;
        }
    };
    assert!(batch.len() <= MAX_GOSSIP_BATCH_TXS);
    let owned: Vec<Vec<u8>> = batch.iter().map(|b| b.to_vec()).collect();
    assert_eq!(encode_batch(&owned), data, "one encoding per batch");
    for element in batch {
        if let Ok(stx) = SignedTransaction::from_bytes(element) {
            assert_eq!(stx.to_bytes(), element, "one encoding per transaction");
            assert_eq!(stx.encoded_len(), element.len());
        }
    }
}
