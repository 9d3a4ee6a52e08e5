//! The transaction-signing test vectors of `docs/SIGNING.md`, asserted byte for byte.
//!
//! If this test fails, the canonical encoding of transactions changed: every client in another
//! language and every signature already made would break. Change the encoding only on purpose,
//! with a new domain tag, and then update the constants here and the document together (the
//! test also checks that every constant appears in the document).

use std::collections::BTreeMap;

use waybill_ledger::encoding::signing_bytes;
use waybill_ledger::supply::{Commission, JsonValue, ProposeTransfer, TransferKind};
use waybill_ledger::tx::{Payload, SignedTransaction, Transaction};
use waybill_ledger::KeyPair;

/// The example secret key: 32 bytes of 0x01.
const SECRET_HEX: &str = "0101010101010101010101010101010101010101010101010101010101010101";
const PUBLIC_HEX: &str = "8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c";
const CHAIN_ID: &str = "example-chain";

struct Vector {
    name: &'static str,
    /// The signed transaction as compact JSON (what `waybill_submitTransaction` takes).
    json: &'static str,
    /// `BCS(("waybill/tx/v1", tx))`: what is signed and hashed.
    signing_hex: &'static str,
    /// blake3 of the signing bytes.
    tx_hash: &'static str,
    /// ed25519 over the signing bytes.
    signature: &'static str,
    /// `BCS(signed transaction)` (what `waybill_submitRawTransaction` takes).
    signed_hex: &'static str,
}

fn key() -> KeyPair {
    let secret: [u8; 32] = hex::decode(SECRET_HEX).unwrap().try_into().unwrap();
    KeyPair::from_secret(secret)
}

fn tx(sequence: u64, payload: Payload) -> Transaction {
    Transaction {
        chain_id: CHAIN_ID.into(),
        signer: key().public(),
        sequence,
        payload,
    }
}

fn memo() -> Transaction {
    tx(
        0,
        Payload::Memo {
            data: b"hello".to_vec(),
        },
    )
}

fn commission() -> Transaction {
    let mut properties = BTreeMap::new();
    properties.insert("lot".to_string(), JsonValue::from("L-42"));
    properties.insert("harvest_date".to_string(), JsonValue::from("2024-09-30"));
    properties.insert("weight_kg".to_string(), JsonValue::parse("412.50").unwrap());
    tx(
        1,
        Payload::Commission(Commission {
            item_id: "urn:epc:id:sgtin:0614141.107346.2018".into(),
            item_type: "pallet".into(),
            properties,
            location: Some("DC-1 dock 4".into()),
        }),
    )
}

fn propose_transfer() -> Transaction {
    tx(
        2,
        Payload::ProposeTransfer(ProposeTransfer {
            item_id: "urn:epc:id:sgtin:0614141.107346.2018".into(),
            kind: TransferKind::Ownership,
            to_organization: "acme-logistics".into(),
        }),
    )
}

const MEMO: Vector = Vector {
    name: "memo",
    json: r#"{"tx":{"chain_id":"example-chain","signer":"8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c","sequence":0,"payload":{"memo":{"data":"68656c6c6f"}}},"signature":"5a3aa979e1250a6cb425b9e42dda56144a2748ff503b06857333aac337af9bc584fd7a137dc4b3a9309eb50b6d1d1dd575b568ffd9a503ad13b5e769fcae4708"}"#,
    signing_hex: "0d77617962696c6c2f74782f76310d6578616d706c652d636861696e8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c0000000000000000000568656c6c6f",
    tx_hash: "db67033070e820583b105fb464fe0ab5555cc5c425ddde64cc328fdab6c209d7",
    signature: "5a3aa979e1250a6cb425b9e42dda56144a2748ff503b06857333aac337af9bc584fd7a137dc4b3a9309eb50b6d1d1dd575b568ffd9a503ad13b5e769fcae4708",
    signed_hex: "0d6578616d706c652d636861696e8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c0000000000000000000568656c6c6f5a3aa979e1250a6cb425b9e42dda56144a2748ff503b06857333aac337af9bc584fd7a137dc4b3a9309eb50b6d1d1dd575b568ffd9a503ad13b5e769fcae4708",
};

const COMMISSION: Vector = Vector {
    name: "commission",
    json: r#"{"tx":{"chain_id":"example-chain","signer":"8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c","sequence":1,"payload":{"commission":{"item_id":"urn:epc:id:sgtin:0614141.107346.2018","item_type":"pallet","properties":{"harvest_date":"2024-09-30","lot":"L-42","weight_kg":412.50},"location":"DC-1 dock 4"}}},"signature":"946f3aac62e999f9d4463ce8d4f82d9ffbb2f3be21aeeae5e4dffbbfe3fd9b05cda91c67d49631c780e27cef0d731574542e62731558dcb023b8b1b8673a1c00"}"#,
    signing_hex: "0d77617962696c6c2f74782f76310d6578616d706c652d636861696e8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c0100000000000000042475726e3a6570633a69643a736774696e3a303631343134312e3130373334362e323031380670616c6c657403036c6f7406224c2d343222097765696768745f6b67063431322e35300c686172766573745f646174650c22323032342d30392d333022010b44432d3120646f636b2034",
    tx_hash: "e7914fc47a01a0993a2616d49d02500433bd156abdb228addfe7e71f67c5dc3d",
    signature: "946f3aac62e999f9d4463ce8d4f82d9ffbb2f3be21aeeae5e4dffbbfe3fd9b05cda91c67d49631c780e27cef0d731574542e62731558dcb023b8b1b8673a1c00",
    signed_hex: "0d6578616d706c652d636861696e8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c0100000000000000042475726e3a6570633a69643a736774696e3a303631343134312e3130373334362e323031380670616c6c657403036c6f7406224c2d343222097765696768745f6b67063431322e35300c686172766573745f646174650c22323032342d30392d333022010b44432d3120646f636b2034946f3aac62e999f9d4463ce8d4f82d9ffbb2f3be21aeeae5e4dffbbfe3fd9b05cda91c67d49631c780e27cef0d731574542e62731558dcb023b8b1b8673a1c00",
};

const PROPOSE_TRANSFER: Vector = Vector {
    name: "propose_transfer",
    json: r#"{"tx":{"chain_id":"example-chain","signer":"8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c","sequence":2,"payload":{"propose_transfer":{"item_id":"urn:epc:id:sgtin:0614141.107346.2018","kind":"ownership","to_organization":"acme-logistics"}}},"signature":"ebf5715908784edc1eb2c80809af9c05d0e432b29c84b8ed4ef6d9714d1ceb08d519b673e2d04b0a7d958c3a98800c01ea225ca8234cb41b28efce99513b7100"}"#,
    signing_hex: "0d77617962696c6c2f74782f76310d6578616d706c652d636861696e8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c0200000000000000062475726e3a6570633a69643a736774696e3a303631343134312e3130373334362e32303138010e61636d652d6c6f67697374696373",
    tx_hash: "b54889fdf36cf871b3e8c4383b9ff72a35a9e207cb3d104ebf234a1f8e92bd29",
    signature: "ebf5715908784edc1eb2c80809af9c05d0e432b29c84b8ed4ef6d9714d1ceb08d519b673e2d04b0a7d958c3a98800c01ea225ca8234cb41b28efce99513b7100",
    signed_hex: "0d6578616d706c652d636861696e8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c0200000000000000062475726e3a6570633a69643a736774696e3a303631343134312e3130373334362e32303138010e61636d652d6c6f67697374696373ebf5715908784edc1eb2c80809af9c05d0e432b29c84b8ed4ef6d9714d1ceb08d519b673e2d04b0a7d958c3a98800c01ea225ca8234cb41b28efce99513b7100",
};

fn vectors() -> Vec<(Transaction, Vector)> {
    vec![
        (memo(), MEMO),
        (commission(), COMMISSION),
        (propose_transfer(), PROPOSE_TRANSFER),
    ]
}

#[test]
fn key_vector() {
    assert_eq!(key().public().to_hex(), PUBLIC_HEX);
}

/// What the code produces for `tx`, in the order of [`Vector`]'s fields.
fn actual(tx: &Transaction) -> [String; 5] {
    let stx = tx.clone().sign(&key());
    [
        serde_json::to_string(&stx).unwrap(),
        hex::encode(signing_bytes(tx)),
        tx.hash().to_hex(),
        hex::encode(stx.signature.0),
        hex::encode(stx.to_bytes()),
    ]
}

#[test]
fn transaction_vectors() {
    if std::env::var_os("WAYBILL_PRINT_VECTORS").is_some() {
        println!("public: {}", key().public());
        for (tx, v) in vectors() {
            let [json, signing, hash, sig, signed] = actual(&tx);
            println!(
                "== {}\njson: {json}\nsigning_hex: {signing}\ntx_hash: {hash}\nsignature: {sig}\nsigned_hex: {signed}",
                v.name
            );
        }
    }
    let key = key();
    for (tx, v) in vectors() {
        let stx = tx.clone().sign(&key);
        let [got_json, got_signing, got_hash, got_sig, got_signed] = actual(&tx);
        assert_eq!(got_signing, v.signing_hex, "{}: signing bytes", v.name);
        assert_eq!(got_hash, v.tx_hash, "{}: tx hash", v.name);
        assert_eq!(got_sig, v.signature, "{}: signature", v.name);
        assert_eq!(got_signed, v.signed_hex, "{}: signed bytes", v.name);
        assert_eq!(got_json, v.json, "{}: JSON", v.name);

        // The documented forms decode to the same transaction, and it verifies.
        let from_json: SignedTransaction = serde_json::from_str(v.json).unwrap();
        assert_eq!(from_json, stx, "{}: JSON decodes", v.name);
        let from_bytes = SignedTransaction::from_bytes(&hex::decode(v.signed_hex).unwrap())
            .unwrap_or_else(|e| panic!("{}: canonical bytes decode: {e}", v.name));
        assert_eq!(from_bytes, stx, "{}: bytes decode", v.name);
        stx.verify(CHAIN_ID).unwrap();
        // The signature is over exactly the signing bytes, as any ed25519 library checks it.
        // Plain RFC 8032 Ed25519 and blake3 over the documented bytes, with no Waybill code.
        let signing = hex::decode(v.signing_hex).unwrap();
        let vk = ed25519_dalek::VerifyingKey::from_bytes(&stx.tx.signer.0).unwrap();
        let sig = ed25519_dalek::Signature::from_bytes(&stx.signature.0);
        vk.verify_strict(&signing, &sig)
            .unwrap_or_else(|e| panic!("{}: plain ed25519 check: {e}", v.name));
        assert_eq!(blake3::hash(&signing).to_hex().as_str(), v.tx_hash);
        // The signed bytes are BCS(tx) followed by the 64 signature bytes; the signing bytes are
        // the domain tag followed by the same BCS(tx).
        let signed = hex::decode(v.signed_hex).unwrap();
        let tag = b"\x0dwaybill/tx/v1";
        assert_eq!(&signing[..tag.len()], tag);
        assert_eq!(&signed[..signed.len() - 64], &signing[tag.len()..]);
        assert_eq!(&signed[signed.len() - 64..], &stx.signature.0);
    }
}

/// The `observe` example of the payload section, byte group by byte group.
#[test]
fn observe_payload_example() {
    let json = r#"{"observe": {"item_id": "p1", "time_ms": 1700000000000, "readings":
        [{"kind": "temperature", "value": 4.5, "unit": "Cel"}]}}"#;
    let payload: Payload = serde_json::from_str(json).unwrap();
    let expected = [
        "05",
        "027031",
        "0068e5cf8b010000",
        "00",
        "01",
        "0b74656d7065726174757265",
        "03342e35",
        "010343656c",
    ]
    .concat();
    assert_eq!(
        hex::encode(waybill_ledger::encoding::to_canonical(&payload)),
        expected
    );
}

#[test]
fn document_lists_every_vector() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/SIGNING.md");
    let doc = std::fs::read_to_string(path).expect("docs/SIGNING.md");
    let squeezed: String = doc.chars().filter(|c| !c.is_whitespace()).collect();
    let mut needles = vec![SECRET_HEX, PUBLIC_HEX];
    for (_, v) in vectors() {
        needles.extend([v.signing_hex, v.tx_hash, v.signature, v.signed_hex]);
    }
    for n in needles {
        assert!(squeezed.contains(n), "docs/SIGNING.md lacks {n}");
    }
    for (_, v) in vectors() {
        let json: String = v.json.chars().filter(|c| !c.is_whitespace()).collect();
        assert!(
            squeezed.contains(&json),
            "docs/SIGNING.md lacks the {} JSON",
            v.name
        );
    }
}
