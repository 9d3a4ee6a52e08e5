//! Batch and single signature checks must agree on every signature, or validators whose
//! batches differ disagree on a proposal. They did not (found by fuzzing, issue 20): the batch
//! equation was cofactorless with random coefficients, so a signature whose R carries a
//! small-order component passed a batch whenever its coefficient cancelled that component
//! (half the time for the point of order 2), while the strict single check always refused it.
//! Anyone with any key can make such signatures. Waybill's one rule is now the cofactored
//! equation in both checks (`ledger::crypto::verify_batch`, docs/SIGNING.md): the component
//! vanishes in both, and both accept, every time.
//!
//! A signature's bytes are not part of a transaction's hash, so such a second signature of a
//! transaction is harmless to the ledger; what must never happen is two verdicts.

use curve25519_dalek::constants::{ED25519_BASEPOINT_POINT, EIGHT_TORSION};
use curve25519_dalek::scalar::Scalar;
use sha2::{Digest, Sha512};
use waybill_ledger::encoding::signing_bytes;
use waybill_ledger::tx::{verify_transactions, Payload, Transaction};
use waybill_ledger::{KeyPair, Signature, SignedTransaction};

/// A signature by `seed`'s key over `tx` whose R is `r`B plus the point of order 2.
fn torsioned(seed: [u8; 32], tx: Transaction, r: Scalar) -> SignedTransaction {
    let expanded = Sha512::digest(seed);
    let mut a = [0u8; 32];
    a.copy_from_slice(&expanded[..32]);
    a[0] &= 248;
    a[31] &= 127;
    a[31] |= 64;
    let a = Scalar::from_bytes_mod_order(a);
    let big_r = (r * ED25519_BASEPOINT_POINT + EIGHT_TORSION[4])
        .compress()
        .0;
    let mut h = Sha512::new();
    h.update(big_r);
    h.update(tx.signer.0);
    h.update(signing_bytes(&tx));
    let s = r + Scalar::from_hash(h) * a;
    let mut sig = [0u8; 64];
    sig[..32].copy_from_slice(&big_r);
    sig[32..].copy_from_slice(s.as_bytes());
    SignedTransaction::new(tx, Signature(sig))
}

#[test]
fn batch_and_single_checks_agree_on_a_torsioned_r() {
    let seed = [7u8; 32];
    let key = KeyPair::from_secret(seed);
    for sequence in 0..32u64 {
        let tx = Transaction {
            chain_id: "c".into(),
            signer: key.public(),
            sequence,
            payload: Payload::Memo { data: vec![] },
        };
        let stx = torsioned(seed, tx.clone(), Scalar::from(sequence + 1));
        assert_ne!(stx.signature, tx.sign(&key).signature);
        let single = stx.verify("c");
        // In batches of one and with honest company, many times: random coefficients never
        // change the verdict.
        for company in 0..4u64 {
            let mut batch: Vec<SignedTransaction> = (0..company)
                .map(|i| {
                    Transaction {
                        chain_id: "c".into(),
                        signer: key.public(),
                        sequence: 100 + i,
                        payload: Payload::Memo { data: vec![] },
                    }
                    .sign(&key)
                })
                .collect();
            batch.push(stx.clone());
            let verdicts = verify_transactions("c", &batch);
            assert_eq!(
                verdicts.last().unwrap().is_ok(),
                single.is_ok(),
                "sequence {sequence}, with {company} others: batch and single checks disagree"
            );
        }
        assert!(single.is_ok(), "the cofactored rule accepts a torsioned R");
    }
}
