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
    /// `BCS(("waybill/tx/v2", tx))`: what is signed and hashed.
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
    json: r#"{"tx":{"chain_id":"example-chain","signer":"8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c","sequence":0,"payload":{"memo":{"data":"68656c6c6f"}}},"signature":"dfa9fd0c1dee9a6d9de1d5f2b4251a466d924c5f2500b358077ce4823227f0e8796fa09cc0a4f848ae947ca9e13a4a9ae8d0ffd18d11ce3af63a0484ab18b509"}"#,
    signing_hex: "0d77617962696c6c2f74782f76320d6578616d706c652d636861696e8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c0000000000000000000568656c6c6f",
    tx_hash: "9c4292349920f28c4af82c208003920c494761e3bb4c5e708247535dfa90c0d0",
    signature: "dfa9fd0c1dee9a6d9de1d5f2b4251a466d924c5f2500b358077ce4823227f0e8796fa09cc0a4f848ae947ca9e13a4a9ae8d0ffd18d11ce3af63a0484ab18b509",
    signed_hex: "0d6578616d706c652d636861696e8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c0000000000000000000568656c6c6fdfa9fd0c1dee9a6d9de1d5f2b4251a466d924c5f2500b358077ce4823227f0e8796fa09cc0a4f848ae947ca9e13a4a9ae8d0ffd18d11ce3af63a0484ab18b509",
};

const COMMISSION: Vector = Vector {
    name: "commission",
    json: r#"{"tx":{"chain_id":"example-chain","signer":"8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c","sequence":1,"payload":{"commission":{"item_id":"urn:epc:id:sgtin:0614141.107346.2018","item_type":"pallet","properties":{"harvest_date":"2024-09-30","lot":"L-42","weight_kg":412.5},"location":"DC-1 dock 4"}}},"signature":"540ac3dabacd416f85aa9db6acd6cc5bcacedac4886228fe0cb12b2fa75fb0821638026f4ef00c7108cd5cfe8f8697f95a302b99256efb2ddcd80a542204ac01"}"#,
    signing_hex: "0d77617962696c6c2f74782f76320d6578616d706c652d636861696e8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c0100000000000000042475726e3a6570633a69643a736774696e3a303631343134312e3130373334362e323031380670616c6c657403036c6f7404044c2d3432097765696768745f6b67031d10000000000000ffff0c686172766573745f64617465040a323032342d30392d3330010b44432d3120646f636b2034",
    tx_hash: "a49b8d886380a585fc3937fb6e66f5866a1cac0b586ea264dcea71d8f1a220b1",
    signature: "540ac3dabacd416f85aa9db6acd6cc5bcacedac4886228fe0cb12b2fa75fb0821638026f4ef00c7108cd5cfe8f8697f95a302b99256efb2ddcd80a542204ac01",
    signed_hex: "0d6578616d706c652d636861696e8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c0100000000000000042475726e3a6570633a69643a736774696e3a303631343134312e3130373334362e323031380670616c6c657403036c6f7404044c2d3432097765696768745f6b67031d10000000000000ffff0c686172766573745f64617465040a323032342d30392d3330010b44432d3120646f636b2034540ac3dabacd416f85aa9db6acd6cc5bcacedac4886228fe0cb12b2fa75fb0821638026f4ef00c7108cd5cfe8f8697f95a302b99256efb2ddcd80a542204ac01",
};

const PROPOSE_TRANSFER: Vector = Vector {
    name: "propose_transfer",
    json: r#"{"tx":{"chain_id":"example-chain","signer":"8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c","sequence":2,"payload":{"propose_transfer":{"item_id":"urn:epc:id:sgtin:0614141.107346.2018","kind":"ownership","to_organization":"acme-logistics"}}},"signature":"6760c4b2cc48ad570e38f9943dbc063da57f016bb2923f13c33ad2204c75889f405a0147109faeca17d4c16f800fb237a7561dd3e780f31c5f0033991013390a"}"#,
    signing_hex: "0d77617962696c6c2f74782f76320d6578616d706c652d636861696e8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c0200000000000000062475726e3a6570633a69643a736774696e3a303631343134312e3130373334362e32303138010e61636d652d6c6f67697374696373",
    tx_hash: "ea4351f6e909d8c9d77c99d757c469ab65599de8b0f63cbf4bd69108d23f486a",
    signature: "6760c4b2cc48ad570e38f9943dbc063da57f016bb2923f13c33ad2204c75889f405a0147109faeca17d4c16f800fb237a7561dd3e780f31c5f0033991013390a",
    signed_hex: "0d6578616d706c652d636861696e8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c0200000000000000062475726e3a6570633a69643a736774696e3a303631343134312e3130373334362e32303138010e61636d652d6c6f676973746963736760c4b2cc48ad570e38f9943dbc063da57f016bb2923f13c33ad2204c75889f405a0147109faeca17d4c16f800fb237a7561dd3e780f31c5f0033991013390a",
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
        let tag = b"\x0dwaybill/tx/v2";
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
        "032d00000000000000ffff",
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

/// The rows of the table under `heading` in `docs/SIGNING.md` whose cells are all code spans:
/// each row's cells with their backticks removed.
fn doc_table(heading: &str) -> Vec<Vec<String>> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/SIGNING.md");
    let doc = std::fs::read_to_string(path).expect("docs/SIGNING.md");
    let section = doc
        .split_once(heading)
        .unwrap_or_else(|| panic!("SIGNING.md has no {heading}"))
        .1;
    section
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .filter_map(|l| {
            let cells: Vec<&str> = l.trim_matches('|').split(" | ").map(str::trim).collect();
            cells
                .iter()
                .all(|c| c.len() >= 2 && c.starts_with('`') && c.ends_with('`'))
                .then(|| {
                    cells
                        .iter()
                        .map(|c| c[1..c.len() - 1].to_string())
                        .collect()
                })
        })
        .collect()
}

/// Every row of the value-vector table: the JSON text parses to a value whose canonical bytes
/// are the row's hex, and those bytes decode back to the same value.
#[test]
fn value_vectors() {
    let rows = doc_table("#### Value vectors");
    assert!(rows.len() >= 15, "value vector table lost rows: {rows:?}");
    for row in rows {
        let [json, hex_bytes] = &row[..] else {
            panic!("row {row:?} is not JSON | hex");
        };
        let value =
            JsonValue::parse(json).unwrap_or_else(|e| panic!("vector {json} does not parse: {e}"));
        let bytes = waybill_ledger::encoding::to_canonical(&value);
        assert_eq!(hex::encode(&bytes), *hex_bytes, "vector {json}");
        let back: JsonValue = bcs::from_bytes(&bytes).unwrap();
        assert_eq!(back, value, "vector {json} does not decode to itself");
    }
}

/// The signature rule's vectors (SIGNING.md, "The signature rule"): the node's verdict on each
/// is the table's, alone and in a batch with an honest signature. The SDKs check the same rows.
#[test]
fn signature_rule_vectors() {
    let rows = doc_table("#### Signature rule vectors");
    assert_eq!(rows.len(), 5, "{rows:?}");
    let honest = tx(99, Payload::Memo { data: vec![] }).sign(&key());
    for row in rows {
        let [case, json, verdict] = &row[..] else {
            panic!("row {row:?} is not case | signed transaction | verdict");
        };
        let stx: SignedTransaction = serde_json::from_str(json).unwrap();
        let valid = verdict == "valid";
        assert_eq!(stx.verify(CHAIN_ID).is_ok(), valid, "{case}");
        let batch = waybill_ledger::tx::verify_transactions(CHAIN_ID, &[honest.clone(), stx]);
        assert!(batch[0].is_ok());
        assert_eq!(batch[1].is_ok(), valid, "{case}, batched");
    }
}

/// The limits table of `docs/SIGNING.md` states the limits the node enforces: each row's value
/// is the constant behind it (a stranger implements from the table, not from our source).
#[test]
fn limits_table() {
    use waybill_ledger::supply::limits::*;
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/SIGNING.md");
    let doc = std::fs::read_to_string(path).expect("docs/SIGNING.md");
    let table: BTreeMap<String, u64> = doc
        .split_once("### Limits")
        .expect("SIGNING.md has ### Limits")
        .1
        .lines()
        .skip_while(|l| !l.starts_with("| "))
        .take_while(|l| l.starts_with('|'))
        .filter_map(|l| {
            let (name, value) = l.trim_matches('|').rsplit_once(" | ")?;
            Some((name.trim().to_string(), value.trim().parse().ok()?))
        })
        .collect();
    let expected: &[(&str, usize)] = &[
        (
            "signed transaction, canonical bytes",
            waybill_ledger::tx::MAX_TX_BYTES,
        ),
        ("`chain_id` length", waybill_ledger::tx::MAX_CHAIN_ID_LEN),
        ("`memo.data` length", waybill_ledger::tx::MAX_MEMO_BYTES),
        ("item id length", MAX_ITEM_ID_LEN),
        ("name length", MAX_NAME_LEN),
        ("properties per commission", MAX_PROPERTIES),
        ("one property or reading value", MAX_JSON_VALUE_BYTES),
        ("nesting depth", MAX_JSON_DEPTH),
        ("location length", MAX_LOCATION_LEN),
        ("readings per observe", MAX_READINGS),
        ("reading unit length", MAX_UNIT_LEN),
        ("roles per account", MAX_ROLES),
        ("children per aggregate", MAX_PACKING_CHILDREN),
        ("transform inputs", MAX_TRANSFORM_INPUTS),
        ("transform outputs", MAX_TRANSFORM_OUTPUTS),
        ("`attach_document.uri` length", MAX_URI_LEN),
        ("`attach_document.media_type` length", MAX_MEDIA_TYPE_LEN),
        ("`decommission.reason` length", MAX_REASON_LEN),
    ];
    assert_eq!(table.len(), expected.len(), "rows: {table:?}");
    for (start, limit) in expected {
        let rows: Vec<_> = table.iter().filter(|(k, _)| k.starts_with(start)).collect();
        assert_eq!(rows.len(), 1, "one row starting {start}: {table:?}");
        assert_eq!(*rows[0].1, *limit as u64, "row {start}");
    }
    let doc_squeezed: String = doc.split_whitespace().collect::<Vec<_>>().join(" ");
    for (what, n) in [
        ("packs at most", MAX_CONTAINER_CHILDREN as u64),
        ("items directly and", u64::from(MAX_CONTAINED_ITEMS)),
        ("holds at most", u64::from(MAX_DOCUMENTS_PER_ITEM)),
    ] {
        assert!(
            doc_squeezed.contains(&format!("{what} {n}")),
            "SIGNING.md: {what} {n}"
        );
    }
}

/// The nesting rule's examples: depth 8 is accepted and 9 refused, as the page says.
#[test]
fn nesting_rule() {
    use waybill_ledger::supply::limits::MAX_JSON_DEPTH;
    for (text, depth) in [
        (r#""a""#, 0),
        ("[]", 1),
        ("{}", 1),
        ("[1, 2]", 1),
        (r#"{"a": 1}"#, 1),
        ("[[1]]", 2),
        (r#"{"a": [1]}"#, 2),
        ("[[[[[[[[1]]]]]]]]", 8),
    ] {
        assert_eq!(JsonValue::parse(text).unwrap().depth(), depth, "{text}");
    }
    let mut props = BTreeMap::new();
    props.insert(
        "k".to_string(),
        JsonValue::parse("[[[[[[[[1]]]]]]]]").unwrap(),
    );
    assert!(waybill_ledger::supply::payload::check_properties(&props).is_ok());
    props.insert(
        "k".to_string(),
        JsonValue::parse("[[[[[[[[[1]]]]]]]]]").unwrap(),
    );
    assert!(waybill_ledger::supply::payload::check_properties(&props).is_err());
    assert_eq!(MAX_JSON_DEPTH, 8);
}

/// The key file example of `docs/SIGNING.md`, written to a file with mode 0600, loads as the
/// example key; with a changed public key it is refused.
#[test]
fn key_file_example() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/SIGNING.md");
    let doc = std::fs::read_to_string(path).expect("docs/SIGNING.md");
    let example = doc
        .split_once("## Key files")
        .and_then(|(_, rest)| rest.split_once("```toml\n"))
        .and_then(|(_, rest)| rest.split_once("```"))
        .expect("SIGNING.md has a key file example")
        .0;
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        p
    };
    let key = waybill_ledger::keyfile::read_key_file(&write("example.key", example)).unwrap();
    assert_eq!(key.public(), self::key().public());
    let wrong = example.replace(PUBLIC_HEX, &"00".repeat(32));
    assert_ne!(wrong, example);
    assert!(waybill_ledger::keyfile::read_key_file(&write("wrong.key", &wrong)).is_err());
    let extra = format!("{example}extra = 1\n");
    assert!(waybill_ledger::keyfile::read_key_file(&write("extra.key", &extra)).is_err());
}
