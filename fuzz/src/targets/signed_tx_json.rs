//! A signed transaction as JSON, the first parameter of `waybill_submitTransaction` (parsed by
//! the same `serde_json::from_str` the RPC layer calls on it).
//!
//! - what parses and passes the structural limits encodes canonically, and those bytes decode
//!   back to the same transaction with the same hash (so the JSON and raw submission paths
//!   cannot disagree about which transaction this is);
//! - its JSON re-serialisation parses back to the same transaction (JSON values keep their
//!   canonical text; nothing is rewritten on the way);
//! - parse errors are errors, never panics.

use ledger::SignedTransaction;

use super::text;

pub fn run(data: &[u8]) {
    let Some(text) = text(data) else { return };
    let Ok(stx) = serde_json::from_str::<SignedTransaction>(text) else {
        return;
    };
    let again = serde_json::to_string(&stx).expect("serialises");
    let back: SignedTransaction = serde_json::from_str(&again).expect("own JSON parses");
    assert_eq!(back, stx);
    assert_eq!(back.hash(), stx.hash());
    if stx.check_limits().is_ok() {
        let bytes = stx.to_bytes();
        let decoded = SignedTransaction::from_bytes(&bytes)
            .unwrap_or_else(|e| panic!("a transaction within limits decodes: {e}"));
        assert_eq!(decoded, stx);
        assert_eq!(decoded.hash(), stx.hash());
        super::signed_tx::check_decoded(&decoded, &bytes);
    }
}
