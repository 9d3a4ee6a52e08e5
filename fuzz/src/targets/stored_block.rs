//! Records a peer hands out or a node reads back: `StoredBlock` (a committed block with its
//! certificate and accumulator state, what catch-up receives), `Block`, and receipts. The first
//! byte chooses which.
//!
//! - decoding is strict (what decodes re-encodes to the same bytes) and checks shape: the
//!   transaction root matches, limits hold;
//! - the JSON form (RPC answers) parses back to the same record;
//! - errors are typed.

use ledger::block::{Block, MAX_BLOCK_TXS, MAX_JUSTIFY_BYTES};
use ledger::stored::{receipt_from_bytes, receipt_to_bytes, StoredBlock, MAX_CERTIFICATE_BYTES};

pub fn run(data: &[u8]) {
    let Some((&which, bytes)) = data.split_first() else {
        return;
    };
    match which % 3 {
        0 => match StoredBlock::from_bytes(bytes) {
            Ok(s) => {
                assert_eq!(s.to_bytes(), bytes, "one encoding per stored block");
                assert!(s.certificate.len() <= MAX_CERTIFICATE_BYTES);
                check_block(&s.block);
                let json = serde_json::to_string(&s).expect("serialises");
                let back: StoredBlock = serde_json::from_str(&json).expect("own JSON parses");
                assert_eq!(back, s);
            }
            Err(e) => {
                let _ = e.to_string();
            }
        },
        1 => match Block::from_bytes(bytes) {
            Ok(b) => {
                assert_eq!(b.to_bytes(), bytes, "one encoding per block");
                check_block(&b);
            }
            Err(e) => {
                let _ = e.to_string();
            }
        },
        _ => match receipt_from_bytes(bytes) {
            Ok(r) => {
                assert_eq!(receipt_to_bytes(&r), bytes, "one encoding per receipt");
                let json = serde_json::to_string(&r).expect("serialises");
                let back: ledger::receipt::Receipt =
                    serde_json::from_str(&json).expect("own JSON parses");
                assert_eq!(back, r);
            }
            Err(e) => {
                let _ = e.to_string();
            }
        },
    }
}

fn check_block(b: &Block) {
    b.check_shape().expect("decoding checked the shape");
    assert!(b.txs.len() <= MAX_BLOCK_TXS);
    assert!(b.header.justify.len() <= MAX_JUSTIFY_BYTES);
    let _ = b.hash();
    for t in &b.txs {
        let bytes = t.to_bytes();
        if let Ok(back) = ledger::SignedTransaction::from_bytes(&bytes) {
            assert_eq!(&back, t);
        }
    }
}
