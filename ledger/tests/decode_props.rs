//! Decoders of bytes that come from disk or the network: truncated, oversized and
//! trailing-garbage input is an error, and random bytes never panic.

use proptest::prelude::*;

use waybill_ledger::block::{Block, BlockHeader, MAX_BLOCK_BYTES};
use waybill_ledger::encoding::DecodeError;
use waybill_ledger::merkle::tx_root;
use waybill_ledger::receipt::{ExecStatus, Receipt};
use waybill_ledger::stored::{
    receipt_from_bytes, receipt_to_bytes, StoredBlock, MAX_RECEIPT_BYTES, MAX_STORED_BLOCK_BYTES,
};
use waybill_ledger::tx::{Payload, SignedTransaction, Transaction, MAX_TX_BYTES};
use waybill_ledger::{Hash, KeyPair};

fn arb_tx() -> impl Strategy<Value = SignedTransaction> {
    (
        any::<[u8; 32]>(),
        "[a-z-]{0,12}",
        any::<u64>(),
        prop::collection::vec(any::<u8>(), 0..64),
    )
        .prop_map(|(secret, chain_id, sequence, data)| {
            let key = KeyPair::from_secret(secret);
            Transaction {
                chain_id,
                signer: key.public(),
                sequence,
                payload: Payload::Memo { data },
            }
            .sign(&key)
        })
}

fn arb_block() -> impl Strategy<Value = Block> {
    (
        prop::collection::vec(arb_tx(), 0..4),
        any::<u64>(),
        any::<[u8; 32]>(),
        prop::collection::vec(any::<u8>(), 0..32),
    )
        .prop_map(|(txs, height, parent, justify)| Block {
            header: BlockHeader {
                chain_id: "prop".into(),
                height,
                round: height / 2,
                parent: Hash(parent),
                tx_root: tx_root(&txs.iter().map(|t| t.hash()).collect::<Vec<_>>()),
                proposer: KeyPair::from_secret([1; 32]).public(),
                timestamp_ms: height,
                justify,
            },
            txs,
        })
}

fn arb_stored() -> impl Strategy<Value = StoredBlock> {
    (
        arb_block(),
        prop::collection::vec(any::<u8>(), 0..64),
        any::<u64>(),
        any::<[u8; 32]>(),
    )
        .prop_map(|(block, certificate, size, root)| StoredBlock {
            block,
            certificate,
            accumulator_size_after: size,
            accumulator_root_after: Hash(root),
        })
}

fn arb_receipt() -> impl Strategy<Value = Receipt> {
    (
        any::<[u8; 32]>(),
        any::<u64>(),
        any::<u32>(),
        any::<u64>(),
        prop::option::of(("[a-z_]{1,16}", ".{0,40}")),
    )
        .prop_map(
            |(h, height, index_in_block, ledger_index, failed)| Receipt {
                tx_hash: Hash(h),
                height,
                index_in_block,
                ledger_index,
                status: match failed {
                    None => ExecStatus::Success,
                    Some((code, message)) => ExecStatus::Failed { code, message },
                },
            },
        )
}

/// Round trip, every strict prefix rejected, and trailing bytes rejected.
fn check_framing<T: PartialEq + std::fmt::Debug, E>(
    bytes: &[u8],
    value: &T,
    cut: usize,
    garbage: &[u8],
    decode: impl Fn(&[u8]) -> Result<T, E>,
) -> Result<(), TestCaseError> {
    let decoded = decode(bytes).ok();
    prop_assert_eq!(decoded.as_ref(), Some(value));
    let cut = cut % bytes.len();
    prop_assert!(
        decode(&bytes[..cut]).is_err(),
        "prefix of {} bytes accepted",
        cut
    );
    let mut long = bytes.to_vec();
    long.extend_from_slice(garbage);
    prop_assert!(
        decode(&long).is_err(),
        "{} trailing bytes accepted",
        garbage.len()
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn tx_framing(tx in arb_tx(), cut in any::<usize>(), garbage in prop::collection::vec(any::<u8>(), 1..16)) {
        check_framing(&tx.to_bytes(), &tx, cut, &garbage, SignedTransaction::from_bytes)?;
    }

    #[test]
    fn block_framing(b in arb_block(), cut in any::<usize>(), garbage in prop::collection::vec(any::<u8>(), 1..16)) {
        check_framing(&b.to_bytes(), &b, cut, &garbage, Block::from_bytes)?;
    }

    #[test]
    fn stored_block_framing(s in arb_stored(), cut in any::<usize>(), garbage in prop::collection::vec(any::<u8>(), 1..16)) {
        check_framing(&s.to_bytes(), &s, cut, &garbage, StoredBlock::from_bytes)?;
    }

    #[test]
    fn receipt_framing(r in arb_receipt(), cut in any::<usize>(), garbage in prop::collection::vec(any::<u8>(), 1..16)) {
        check_framing(&receipt_to_bytes(&r), &r, cut, &garbage, receipt_from_bytes)?;
    }

    /// Arbitrary bytes: an error or a value, never a panic (proptest fails on a panic).
    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = SignedTransaction::from_bytes(&bytes);
        let _ = Block::from_bytes(&bytes);
        let _ = StoredBlock::from_bytes(&bytes);
        let _ = receipt_from_bytes(&bytes);
    }

    /// Random bytes behind a plausible prefix reach deeper into the decoders than pure noise.
    #[test]
    fn mutated_encodings_never_panic(s in arb_stored(), flips in prop::collection::vec((any::<usize>(), any::<u8>()), 1..8)) {
        let mut bytes = s.to_bytes();
        for (pos, x) in flips {
            let n = bytes.len();
            bytes[pos % n] ^= x;
        }
        let _ = StoredBlock::from_bytes(&bytes);
        let _ = Block::from_bytes(&bytes);
        let block_len = s.block.to_bytes().len();
        let _ = Block::from_bytes(&bytes[..block_len.min(bytes.len())]);
    }
}

#[test]
fn oversized_input_rejected_before_decoding() {
    let too_big = |max: usize| vec![0u8; max + 1];
    assert!(matches!(
        SignedTransaction::from_bytes(&too_big(MAX_TX_BYTES)),
        Err(waybill_ledger::tx::TxError::Decode(
            DecodeError::TooLarge { .. }
        ))
    ));
    assert!(matches!(
        Block::from_bytes(&too_big(MAX_BLOCK_BYTES)),
        Err(waybill_ledger::block::BlockError::Decode(
            DecodeError::TooLarge { .. }
        ))
    ));
    assert!(matches!(
        StoredBlock::from_bytes(&too_big(MAX_STORED_BLOCK_BYTES)),
        Err(waybill_ledger::stored::StoredBlockError::Decode(
            DecodeError::TooLarge { .. }
        ))
    ));
    assert!(matches!(
        receipt_from_bytes(&too_big(MAX_RECEIPT_BYTES)),
        Err(DecodeError::TooLarge { .. })
    ));
}

/// A length prefix claiming far more elements than the input holds must fail, not allocate.
#[test]
fn huge_length_prefix_is_an_error() {
    // ULEB128 for 2^35, where a block's transaction vector length would be read.
    let mut b = Block::from_bytes(&arb_block_bytes()).unwrap().to_bytes();
    b.truncate(b.len() - 1);
    b.extend_from_slice(&[0x80, 0x80, 0x80, 0x80, 0x80, 0x01]);
    assert!(Block::from_bytes(&b).is_err());
}

fn arb_block_bytes() -> Vec<u8> {
    let b = Block {
        header: BlockHeader {
            chain_id: "c".into(),
            height: 1,
            round: 1,
            parent: Hash::ZERO,
            tx_root: tx_root(&[]),
            proposer: KeyPair::from_secret([2; 32]).public(),
            timestamp_ms: 0,
            justify: vec![],
        },
        txs: vec![],
    };
    b.to_bytes()
}
