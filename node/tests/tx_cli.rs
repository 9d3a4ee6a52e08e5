//! `waybill tx ... --dry-run`: the real binary builds and signs every payload kind from its
//! command line, offline, and refuses bad input with a clear `error: ...` and exit status 1.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use ledger::crypto::KeyPair;
use ledger::encoding::signing_bytes;
use ledger::hash::Hash;
use ledger::keyfile::write_key_file;
use ledger::merkle::{Sha256Hasher, TreeHasher};
use ledger::supply::{
    AddAccount, AttachDocument, Commission, Decommission, HashAlgorithm, JsonValue, NewItem,
    Observe, Packing, ProposeTransfer, Reading, RemoveAccount, SetAccountRoles, TransferKind,
    TransferResponse, Transform,
};
use ledger::tx::{Payload, SignedTransaction};
use serde::Deserialize;

const CHAIN: &str = "tx-cli-test";
const SEQ: &str = "7";

struct Env {
    dir: tempfile::TempDir,
    key: KeyPair,
    key_path: PathBuf,
}

fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let key = KeyPair::from_secret([7; 32]);
    let key_path = dir.path().join("client.key");
    write_key_file(&key_path, "account", &key).unwrap();
    Env { dir, key, key_path }
}

fn waybill(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_waybill"))
        .args(args)
        .env_remove("WAYBILL_KEY")
        .env_remove("WAYBILL_RPC")
        .output()
        .expect("run waybill")
}

#[derive(Deserialize)]
struct DryRun {
    dry_run: bool,
    tx_hash: String,
    signed_transaction: SignedTransaction,
    canonical_hex: String,
    signing_bytes_hex: String,
}

/// Runs `waybill tx <common> <sub...> --dry-run --json` and checks everything about the result
/// but the payload, which it returns.
fn dry_run(e: &Env, sub: &[&str]) -> Payload {
    let key = e.key_path.to_str().unwrap();
    let mut args = vec![
        "tx",
        "--key",
        key,
        "--chain-id",
        CHAIN,
        "--sequence",
        SEQ,
        "--dry-run",
        "--json",
    ];
    args.extend_from_slice(sub);
    let out = waybill(&args);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{sub:?} failed: {stderr}\nstdout: {stdout}"
    );
    check_signed(e, &stdout, sub)
}

fn check_signed(e: &Env, stdout: &str, what: &[&str]) -> Payload {
    let got: DryRun = serde_json::from_str(stdout)
        .unwrap_or_else(|err| panic!("{what:?}: output is not the dry-run JSON ({err}): {stdout}"));
    assert!(got.dry_run);
    let stx = got.signed_transaction;
    stx.verify(CHAIN)
        .unwrap_or_else(|err| panic!("{what:?}: does not verify: {err}"));
    assert_eq!(stx.tx.signer, e.key.public(), "{what:?}");
    assert_eq!(stx.tx.sequence, 7, "{what:?}");
    assert_eq!(stx.tx.chain_id, CHAIN, "{what:?}");
    assert_eq!(got.tx_hash, stx.hash().to_hex(), "{what:?}");
    assert_eq!(
        got.signing_bytes_hex,
        hex::encode(signing_bytes(&stx.tx)),
        "{what:?}"
    );
    let from_bytes = SignedTransaction::from_bytes(&hex::decode(&got.canonical_hex).unwrap())
        .unwrap_or_else(|err| panic!("{what:?}: canonical hex does not decode: {err}"));
    assert_eq!(from_bytes, stx, "{what:?}: canonical bytes and JSON differ");
    stx.tx.payload
}

fn pk(seed: u8) -> (String, ledger::PublicKey) {
    let k = KeyPair::from_secret([seed; 32]).public();
    (k.to_hex(), k)
}

fn json(text: &str) -> JsonValue {
    JsonValue::parse(text).unwrap()
}

const ITEM: &str = "urn:epc:id:sgtin:0614141.107346.2018";

#[test]
fn every_subcommand_signs_the_intended_payload() {
    let e = env();
    let (acct_hex, acct) = pk(9);

    assert_eq!(
        dry_run(
            &e,
            &[
                "add-account",
                "--org",
                "acme-farms",
                "--account",
                &acct_hex,
                "--role",
                "operator",
                "--role",
                "auditor"
            ]
        ),
        Payload::AddAccount(AddAccount {
            organization: "acme-farms".into(),
            key: acct,
            roles: vec!["operator".into(), "auditor".into()],
        })
    );
    assert_eq!(
        dry_run(
            &e,
            &[
                "remove-account",
                "--org",
                "acme-farms",
                "--account",
                &acct_hex
            ]
        ),
        Payload::RemoveAccount(RemoveAccount {
            organization: "acme-farms".into(),
            key: acct,
        })
    );
    assert_eq!(
        dry_run(
            &e,
            &[
                "set-roles",
                "--org",
                "acme-farms",
                "--account",
                &acct_hex,
                "--role",
                "admin,operator"
            ]
        ),
        Payload::SetAccountRoles(SetAccountRoles {
            organization: "acme-farms".into(),
            key: acct,
            roles: vec!["admin".into(), "operator".into()],
        })
    );
    assert_eq!(
        dry_run(
            &e,
            &[
                "set-roles",
                "--org",
                "acme-farms",
                "--account",
                &acct_hex,
                "--no-roles"
            ]
        ),
        Payload::SetAccountRoles(SetAccountRoles {
            organization: "acme-farms".into(),
            key: acct,
            roles: vec![],
        })
    );

    let mut properties = std::collections::BTreeMap::new();
    properties.insert("lot".to_string(), json(r#""L-42""#));
    properties.insert("weight_kg".to_string(), json("412.50"));
    properties.insert("dims".to_string(), json(r#"{"w":4,"h":10}"#));
    properties.insert("grade".to_string(), JsonValue::from("A b"));
    assert_eq!(
        dry_run(
            &e,
            &[
                "commission",
                "--item",
                ITEM,
                "--type",
                "pallet",
                "--property",
                r#"lot="L-42""#,
                "--property",
                "weight_kg=412.50",
                "--property",
                r#"dims={"w": 4, "h": 10}"#,
                "--property-str",
                "grade=A b",
                "--location",
                "DC-1 dock 4"
            ]
        ),
        Payload::Commission(Commission {
            item_id: ITEM.into(),
            item_type: "pallet".into(),
            properties,
            location: Some("DC-1 dock 4".into()),
        })
    );
    assert_eq!(
        dry_run(&e, &["commission", "--item", "p1", "--type", "case"]),
        Payload::Commission(Commission {
            item_id: "p1".into(),
            item_type: "case".into(),
            properties: Default::default(),
            location: None,
        })
    );

    assert_eq!(
        dry_run(
            &e,
            &[
                "observe",
                "--item",
                ITEM,
                "--time-ms",
                "1700000000000",
                "--location",
                "truck 12",
                "--reading",
                "temperature=4.5@Cel",
                "--reading",
                "door_open=false",
                "--reading",
                r#"note="a@b""#,
                "--reading",
                r#"box={"v": 1}@kg"#,
            ]
        ),
        Payload::Observe(Observe {
            item_id: ITEM.into(),
            time_ms: 1_700_000_000_000,
            location: Some("truck 12".into()),
            readings: vec![
                Reading {
                    kind: "temperature".into(),
                    value: json("4.5"),
                    unit: Some("Cel".into()),
                },
                Reading {
                    kind: "door_open".into(),
                    value: json("false"),
                    unit: None,
                },
                Reading {
                    kind: "note".into(),
                    value: json(r#""a@b""#),
                    unit: None,
                },
                Reading {
                    kind: "box".into(),
                    value: json(r#"{"v":1}"#),
                    unit: Some("kg".into()),
                },
            ],
        })
    );
    // Without --time-ms the time is now.
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    match dry_run(&e, &["observe", "--item", "p1"]) {
        Payload::Observe(o) => {
            assert!(o.time_ms >= before && o.time_ms < before + 60_000);
            assert!(o.readings.is_empty() && o.location.is_none());
        }
        other => panic!("{other:?}"),
    }

    assert_eq!(
        dry_run(
            &e,
            &[
                "propose-transfer",
                "--item",
                ITEM,
                "--kind",
                "ownership",
                "--to",
                "acme-logistics"
            ]
        ),
        Payload::ProposeTransfer(ProposeTransfer {
            item_id: ITEM.into(),
            kind: TransferKind::Ownership,
            to_organization: "acme-logistics".into(),
        })
    );
    let response = |kind| TransferResponse {
        item_id: ITEM.into(),
        kind,
    };
    assert_eq!(
        dry_run(
            &e,
            &["accept-transfer", "--item", ITEM, "--kind", "custody"]
        ),
        Payload::AcceptTransfer(response(TransferKind::Custody))
    );
    assert_eq!(
        dry_run(
            &e,
            &["reject-transfer", "--item", ITEM, "--kind", "ownership"]
        ),
        Payload::RejectTransfer(response(TransferKind::Ownership))
    );
    assert_eq!(
        dry_run(
            &e,
            &["cancel-transfer", "--item", ITEM, "--kind", "custody"]
        ),
        Payload::CancelTransfer(response(TransferKind::Custody))
    );

    let packing = Packing {
        container_id: "pallet-1".into(),
        children: vec!["case-1".into(), "case-2".into(), "case-3".into()],
    };
    assert_eq!(
        dry_run(
            &e,
            &[
                "aggregate",
                "--container",
                "pallet-1",
                "--child",
                "case-1,case-2",
                "--child",
                "case-3"
            ]
        ),
        Payload::Aggregate(packing.clone())
    );
    assert_eq!(
        dry_run(
            &e,
            &[
                "disaggregate",
                "--container",
                "pallet-1",
                "--child",
                "case-1",
                "--child",
                "case-2",
                "--child",
                "case-3"
            ]
        ),
        Payload::Disaggregate(packing)
    );

    let mut juice_props = std::collections::BTreeMap::new();
    juice_props.insert("brix".to_string(), json("11.5"));
    juice_props.insert("organic".to_string(), json("true"));
    assert_eq!(
        dry_run(
            &e,
            &[
                "transform",
                "--input",
                "apples-1,apples-2",
                "--output",
                "juice-1=juice",
                "--output",
                "pomace-1=pomace",
                "--output-property",
                "juice-1=brix=11.5",
                "--output-property",
                "juice-1=organic=true",
                "--location",
                "press hall"
            ]
        ),
        Payload::Transform(Transform {
            inputs: vec!["apples-1".into(), "apples-2".into()],
            outputs: vec![
                NewItem {
                    item_id: "juice-1".into(),
                    item_type: "juice".into(),
                    properties: juice_props,
                },
                NewItem {
                    item_id: "pomace-1".into(),
                    item_type: "pomace".into(),
                    properties: Default::default(),
                },
            ],
            location: Some("press hall".into()),
        })
    );

    let doc = e.dir.path().join("cert.pdf");
    std::fs::write(&doc, b"%PDF-1.7 certificate of analysis").unwrap();
    let doc_path = doc.to_str().unwrap();
    let attach = |alg, hash| {
        Payload::AttachDocument(AttachDocument {
            item_id: ITEM.into(),
            hash_algorithm: alg,
            hash,
            uri: "https://docs.example/cert.pdf".into(),
            media_type: "application/pdf".into(),
        })
    };
    let common = [
        "attach-document",
        "--item",
        ITEM,
        "--uri",
        "https://docs.example/cert.pdf",
        "--media-type",
        "application/pdf",
    ];
    let data = std::fs::read(&doc).unwrap();
    assert_eq!(
        dry_run(&e, &[&common[..], &["--file", doc_path]].concat()),
        attach(HashAlgorithm::Sha256, Sha256Hasher.hash(&[&data]))
    );
    assert_eq!(
        dry_run(
            &e,
            &[
                &common[..],
                &["--file", doc_path, "--hash-algorithm", "blake3"]
            ]
            .concat()
        ),
        attach(HashAlgorithm::Blake3, Hash::blake3(&data))
    );
    let given = Hash::blake3(b"elsewhere");
    assert_eq!(
        dry_run(
            &e,
            &[
                &common[..],
                &["--hash", &given.to_hex(), "--hash-algorithm", "blake3"]
            ]
            .concat()
        ),
        attach(HashAlgorithm::Blake3, given)
    );

    assert_eq!(
        dry_run(
            &e,
            &["decommission", "--item", ITEM, "--reason", "destroyed"]
        ),
        Payload::Decommission(Decommission {
            item_id: ITEM.into(),
            reason: Some("destroyed".into()),
        })
    );
    assert_eq!(
        dry_run(&e, &["memo", "--text", "hello"]),
        Payload::Memo {
            data: b"hello".to_vec()
        }
    );
    assert_eq!(
        dry_run(&e, &["memo", "--hex", "00ff10"]),
        Payload::Memo {
            data: vec![0, 0xff, 0x10]
        }
    );

    let raw = e.dir.path().join("payload.json");
    std::fs::write(
        &raw,
        r#"{"decommission": {"item_id": "p9", "reason": "sold to consumer"}}"#,
    )
    .unwrap();
    assert_eq!(
        dry_run(&e, &["raw", "--file", raw.to_str().unwrap()]),
        Payload::Decommission(Decommission {
            item_id: "p9".into(),
            reason: Some("sold to consumer".into()),
        })
    );
}

/// The governance subcommands: a validator from a member bundle (its signatures checked) or by
/// key and PeerId, the other changes, and approvals by proposal id.
#[test]
fn governance_subcommands_sign_the_intended_changes() {
    use ledger::ceremony::{Member, MemberBundle, MemberKeys};
    use ledger::genesis::{peer_id_of, Validator};
    use ledger::governance::{ApproveChange, Change, ProposeChange};
    let e = env();
    let propose = |change: Change| {
        Payload::ProposeChange(ProposeChange {
            organization: "acme".into(),
            change,
        })
    };
    let (key_hex, key) = pk(21);
    let peer = peer_id_of(&KeyPair::from_secret([22; 32]).public().0);
    assert_eq!(
        dry_run(
            &e,
            &[
                "propose-change",
                "--org",
                "acme",
                "add-validator",
                "--name",
                "newco",
                "--consensus-key",
                &key_hex,
                "--peer-id",
                &peer,
                "--power",
                "2",
            ]
        ),
        propose(Change::AddValidator(Validator {
            name: "newco".into(),
            consensus_key: key,
            peer_id: peer.clone(),
            power: 2,
        }))
    );
    // From a member bundle, as `waybill keys init` writes it.
    let keys = MemberKeys {
        consensus: KeyPair::from_secret([31; 32]),
        network: KeyPair::from_secret([32; 32]),
        admin: KeyPair::from_secret([33; 32]),
        operator: KeyPair::from_secret([34; 32]),
    };
    let member = Member {
        name: "newco".into(),
        organization: "newco".into(),
        organization_name: "New Co".into(),
        consensus_key: keys.consensus.public(),
        peer_id: peer_id_of(&keys.network.public().0),
        addresses: vec!["/ip4/127.0.0.1/tcp/26700".into()],
        admin_key: keys.admin.public(),
        operator_key: keys.operator.public(),
    };
    let bundle = MemberBundle::sign(member.clone(), &keys).unwrap();
    let path = e.dir.path().join("newco.toml");
    std::fs::write(&path, bundle.to_toml()).unwrap();
    assert_eq!(
        dry_run(
            &e,
            &[
                "propose-change",
                "--org",
                "acme",
                "add-validator",
                "--bundle",
                path.to_str().unwrap()
            ]
        ),
        propose(Change::AddValidator(Validator {
            name: "newco".into(),
            consensus_key: member.consensus_key,
            peer_id: member.peer_id.clone(),
            power: 1,
        }))
    );
    let mut forged = bundle.to_toml();
    forged = forged.replace("New Co", "Evil Co");
    std::fs::write(&path, forged).unwrap();
    let out = waybill(&[
        "tx",
        "--key",
        e.key_path.to_str().unwrap(),
        "--chain-id",
        "c",
        "--sequence",
        "0",
        "--dry-run",
        "propose-change",
        "--org",
        "acme",
        "add-validator",
        "--bundle",
        path.to_str().unwrap(),
    ]);
    assert!(
        !out.status.success(),
        "a bundle whose signatures fail is refused"
    );
    for (args, change) in [
        (
            vec!["remove-validator", "--name", "v1"],
            Change::RemoveValidator { name: "v1".into() },
        ),
        (
            vec!["set-power", "--name", "v1", "--power", "3"],
            Change::SetValidatorPower {
                name: "v1".into(),
                power: 3,
            },
        ),
        (
            vec![
                "rotate-consensus-key",
                "--name",
                "v1",
                "--consensus-key",
                &key_hex,
            ],
            Change::RotateConsensusKey {
                name: "v1".into(),
                consensus_key: key,
            },
        ),
        (
            vec!["rotate-network-key", "--name", "v1", "--peer-id", &peer],
            Change::RotateNetworkKey {
                name: "v1".into(),
                peer_id: peer.clone(),
            },
        ),
        (
            vec![
                "add-organization",
                "--id",
                "newco",
                "--name",
                "New Co",
                "--admin",
                &key_hex,
            ],
            Change::AddOrganization {
                id: "newco".into(),
                name: "New Co".into(),
                admins: vec![key],
            },
        ),
        (
            vec!["remove-organization", "--id", "newco"],
            Change::RemoveOrganization { id: "newco".into() },
        ),
    ] {
        let sub = [&["propose-change", "--org", "acme"][..], &args[..]].concat();
        assert_eq!(dry_run(&e, &sub), propose(change));
    }
    let proposal = Hash([7; 32]);
    assert_eq!(
        dry_run(
            &e,
            &[
                "approve-change",
                "--org",
                "beta",
                "--proposal",
                &proposal.to_hex()
            ]
        ),
        Payload::ApproveChange(ApproveChange {
            organization: "beta".into(),
            proposal,
        })
    );
}

#[test]
fn flags_anywhere_env_key_and_human_output() {
    let e = env();
    let key = e.key_path.to_str().unwrap();
    // Common flags after the subcommand, the key from WAYBILL_KEY.
    let out = Command::new(env!("CARGO_BIN_EXE_waybill"))
        .args([
            "tx",
            "memo",
            "--text",
            "hi",
            "--chain-id",
            CHAIN,
            "--sequence",
            SEQ,
            "--dry-run",
            "--json",
        ])
        .env("WAYBILL_KEY", key)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let payload = check_signed(&e, &String::from_utf8_lossy(&out.stdout), &["memo"]);
    assert_eq!(
        payload,
        Payload::Memo {
            data: b"hi".to_vec()
        }
    );

    // The human summary names the hash and shows the JSON and the canonical hex.
    let out = waybill(&[
        "tx",
        "--key",
        key,
        "--chain-id",
        CHAIN,
        "--sequence",
        SEQ,
        "--dry-run",
        "memo",
        "--text",
        "hi",
    ]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let stx = ledger::tx::Transaction {
        chain_id: CHAIN.into(),
        signer: e.key.public(),
        sequence: 7,
        payload: Payload::Memo {
            data: b"hi".to_vec(),
        },
    }
    .sign(&e.key);
    assert!(text.contains("dry run"), "{text}");
    assert!(text.contains(&stx.hash().to_hex()), "{text}");
    assert!(text.contains(&hex::encode(stx.to_bytes())), "{text}");
    assert!(text.contains("\"memo\""), "{text}");
}

/// Runs a failing command and returns its stderr after checking exit status 1, the `error:`
/// prefix and that nothing panicked.
fn fails(args: &[&str]) -> String {
    let out = waybill(args);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
    assert!(stderr.starts_with("error: "), "{args:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    assert!(out.stdout.is_empty(), "{args:?} printed to stdout");
    stderr
}

#[test]
fn bad_input_is_a_clear_error() {
    let e = env();
    let key = e.key_path.to_str().unwrap();
    let base = |rest: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = [
            "tx",
            "--key",
            key,
            "--chain-id",
            CHAIN,
            "--sequence",
            SEQ,
            "--dry-run",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        v.extend(rest.iter().map(|s| s.to_string()));
        v
    };
    let run = |rest: &[&str]| {
        let args = base(rest);
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        fails(&refs)
    };
    let commission = ["commission", "--item", "p1", "--type", "pallet"];

    // Property syntax.
    let err = run(&[&commission[..], &["--property", "lot=L-42"]].concat());
    assert!(
        err.contains("--property") && err.contains("not JSON"),
        "{err}"
    );
    assert!(err.contains("--property-str lot=L-42"), "{err}");
    let err = run(&[&commission[..], &["--property", "lot"]].concat());
    assert!(err.contains("expected KEY=JSON"), "{err}");
    let err = run(&[&commission[..], &["--property", "=1"]].concat());
    assert!(err.contains("empty key"), "{err}");
    let err = run(&[
        &commission[..],
        &["--property", "a=1", "--property-str", "a=x"],
    ]
    .concat());
    assert!(err.contains("given twice"), "{err}");
    let err = run(&[&commission[..], &["--property", "bad key=1"]].concat());
    assert!(err.contains("property key"), "{err}");
    let err = run(&[
        "observe",
        "--item",
        "p1",
        "--time-ms",
        "1",
        "--reading",
        "t=4.5@",
    ]);
    assert!(err.contains("--reading") && err.contains("unit"), "{err}");
    let err = run(&[
        "observe",
        "--item",
        "p1",
        "--time-ms",
        "1",
        "--reading",
        "t=warm",
    ]);
    assert!(err.contains("not JSON"), "{err}");
    let err = run(&["transform", "--input", "a", "--output", "b"]);
    assert!(err.contains("ID=TYPE"), "{err}");
    let err = run(&[
        "transform",
        "--input",
        "a",
        "--output",
        "b=t",
        "--output-property",
        "c=k=1",
    ]);
    assert!(err.contains("no --output with id"), "{err}");

    // Organization ids, item ids, keys, hashes.
    let err = run(&[
        "propose-transfer",
        "--item",
        "p1",
        "--kind",
        "custody",
        "--to",
        "Acme Farms!",
    ]);
    assert!(
        err.contains("to_organization") && err.contains("Acme Farms!") && err.contains("A-Z"),
        "{err}"
    );
    let (acct_hex, _) = pk(3);
    let err = run(&["add-account", "--org", "acme/farms", "--account", &acct_hex]);
    assert!(
        err.contains("organization") && err.contains("acme/farms"),
        "{err}"
    );
    let err = run(&["decommission", "--item", "has space"]);
    assert!(err.contains("item_id") && err.contains("item ids"), "{err}");
    let err = run(&["remove-account", "--org", "acme", "--account", "abc"]);
    assert!(
        err.contains("--account") && err.contains("64 hex digits"),
        "{err}"
    );
    let err = run(&[
        "attach-document",
        "--item",
        "p1",
        "--hash",
        "xyz",
        "--uri",
        "u",
        "--media-type",
        "text/plain",
    ]);
    assert!(err.contains("--hash"), "{err}");
    let err = run(&["memo", "--hex", "zz"]);
    assert!(err.contains("--hex"), "{err}");

    // Raw payload files.
    let not_payload = e.dir.path().join("tx.json");
    std::fs::write(&not_payload, r#"{"tx": {"payload": {}}}"#).unwrap();
    let err = run(&["raw", "--file", not_payload.to_str().unwrap()]);
    assert!(
        err.contains("not a payload") && err.contains("memo"),
        "{err}"
    );
    let err = run(&["raw", "--file", "/nonexistent/payload.json"]);
    assert!(err.contains("cannot read"), "{err}");

    // Key files: missing, unreadable, world-readable, malformed, not given.
    let memo = ["memo", "--text", "x"];
    let missing = e.dir.path().join("missing.key");
    let err = fails(
        &[
            &[
                "tx",
                "--key",
                missing.to_str().unwrap(),
                "--chain-id",
                CHAIN,
                "--sequence",
                SEQ,
                "--dry-run",
            ][..],
            &memo[..],
        ]
        .concat(),
    );
    assert!(
        err.contains("cannot read key file") && err.contains("missing.key"),
        "{err}"
    );
    let open = e.dir.path().join("open.key");
    write_key_file(&open, "account", &KeyPair::from_secret([8; 32])).unwrap();
    set_mode(&open, 0o644);
    let err = fails(
        &[
            &[
                "tx",
                "--key",
                open.to_str().unwrap(),
                "--chain-id",
                CHAIN,
                "--sequence",
                SEQ,
                "--dry-run",
            ][..],
            &memo[..],
        ]
        .concat(),
    );
    assert!(err.contains("chmod 600"), "{err}");
    let garbage = e.dir.path().join("garbage.key");
    std::fs::write(&garbage, "not a key").unwrap();
    set_mode(&garbage, 0o600);
    let err = fails(
        &[
            &[
                "tx",
                "--key",
                garbage.to_str().unwrap(),
                "--chain-id",
                CHAIN,
                "--sequence",
                SEQ,
                "--dry-run",
            ][..],
            &memo[..],
        ]
        .concat(),
    );
    assert!(err.contains("malformed"), "{err}");
    let err = fails(
        &[
            &["tx", "--chain-id", CHAIN, "--sequence", SEQ, "--dry-run"][..],
            &memo[..],
        ]
        .concat(),
    );
    assert!(
        err.contains("--key") && err.contains("WAYBILL_KEY"),
        "{err}"
    );

    // No node to ask for the chain id or the sequence number.
    let err = fails(
        &[
            &[
                "tx",
                "--key",
                key,
                "--rpc",
                "http://127.0.0.1:1",
                "--dry-run",
            ][..],
            &memo[..],
        ]
        .concat(),
    );
    assert!(
        err.contains("chain id") && err.contains("127.0.0.1:1"),
        "{err}"
    );
    let err = fails(
        &[
            &[
                "tx",
                "--key",
                key,
                "--rpc",
                "http://127.0.0.1:1",
                "--chain-id",
                CHAIN,
                "--dry-run",
            ][..],
            &memo[..],
        ]
        .concat(),
    );
    assert!(
        err.contains("sequence") && err.contains("127.0.0.1:1"),
        "{err}"
    );
}

fn set_mode(path: &Path, mode: u32) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
}
