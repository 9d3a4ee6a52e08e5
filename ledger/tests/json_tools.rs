//! Every example proof of docs/proofs/, re-saved by the JSON tools an auditor has at hand
//! (Python's `json`, Node's `JSON`, `jq`), still verifies: the example ledger's properties and
//! readings hold `412.50` and `4.50`, which each of these tools rewrites as `412.5` and `4.5`.
//! And a re-saved proof whose meaning was changed (a view or the bytes) fails.
//!
//! A tool that is not installed is skipped with a message saying so; CI installs all three.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::Value;
use waybill_ledger::genesis::Genesis;
use waybill_ledger::proof::Proof;

const FILES: &[&str] = &[
    "transaction.json",
    "item-state.json",
    "item-absent.json",
    "history.json",
    "history-absent.json",
    "consistency.json",
];

fn docs(name: &str) -> String {
    let path = format!("{}/../docs/proofs/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn genesis() -> Genesis {
    Genesis::from_toml(&docs("genesis.toml")).expect("docs/proofs/genesis.toml")
}

/// `text` through a tool that parses JSON and writes it back; `None` if the tool is absent.
fn resave(tool: &str, args: &[&str], text: &str) -> Option<String> {
    let mut child = match Command::new(tool)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
    {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => panic!("{tool}: {e}"),
    };
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{tool} {args:?} failed");
    Some(String::from_utf8(out.stdout).unwrap())
}

/// The tools and how each re-saves a file.
fn tools() -> Vec<(&'static str, &'static str, Vec<&'static str>)> {
    vec![
        (
            "python json",
            "python3",
            vec![
                "-c",
                "import json,sys; json.dump(json.load(sys.stdin), sys.stdout, indent=1, sort_keys=True)",
            ],
        ),
        (
            "node JSON",
            "node",
            vec![
                "-e",
                "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>process.stdout.write(JSON.stringify(JSON.parse(s),null,2)))",
            ],
        ),
        ("jq", "jq", vec!["."]),
    ]
}

#[test]
fn proofs_resaved_by_json_tools_still_verify() {
    let genesis = genesis();
    let mut ran = 0;
    for (name, tool, args) in tools() {
        for file in FILES {
            // As written by the node, and as a person or a decimal-keeping tool may write the
            // same numbers: each tool rewrites `4.1250e2` as `412.5`.
            let original = docs(file);
            let written = original.replace("412.5", "4.1250e2").replace("4.5", "4.50");
            if *file == "history.json" {
                assert!(original.contains("412.5"), "the example must hold 412.5");
            }
            for text in [&original, &written] {
                let Some(resaved) = resave(tool, &args, text) else {
                    eprintln!(
                        "SKIPPED: {tool} is not installed, so {name} round trips are not tested"
                    );
                    break;
                };
                assert!(
                    !resaved.contains("4.1250e2"),
                    "{name} kept the text: no test"
                );
                let proof = Proof::from_json(&resaved)
                    .unwrap_or_else(|e| panic!("{file} re-saved by {name}: {e}"));
                let report = proof.verify(&genesis);
                assert!(report.is_ok(), "{file} re-saved by {name}:\n{report}");
                ran += 1;
            }
        }
    }
    eprintln!("{ran} re-saved proofs verified");
}

/// A JSON tool's edit of what a proof means fails: in a view (refused as a view that is not its
/// bytes) or in the bytes themselves (a signature or a path no longer verifies).
#[test]
fn a_resaved_proof_with_a_changed_meaning_fails() {
    let genesis = genesis();
    let edits: &[(&str, &str)] = &[
        (
            "python json",
            "import json,sys; p=json.load(sys.stdin); p['entries'][0]['transaction']['view']['tx']['payload']['commission']['properties']['weight_kg']=412.51; json.dump(p, sys.stdout)",
        ),
        (
            "python json",
            "import json,sys; p=json.load(sys.stdin); b=p['entries'][0]['transaction']['bytes']; p['entries'][0]['transaction']['bytes']=b.replace('031d10000000000000ffff','031e10000000000000ffff',1); json.dump(p, sys.stdout)",
        ),
    ];
    for (name, script) in edits {
        let Some(changed) = resave("python3", &["-c", script], &docs("history.json")) else {
            eprintln!("SKIPPED: python3 is not installed");
            return;
        };
        assert_ne!(
            serde_json::from_str::<Value>(&changed).unwrap(),
            serde_json::from_str::<Value>(&docs("history.json")).unwrap(),
            "{name}: the edit changed nothing"
        );
        match Proof::from_json(&changed) {
            Err(_) => {}
            Ok(proof) => assert!(
                !proof.verify(&genesis).is_ok(),
                "{name}: a changed proof verified"
            ),
        }
    }
}

/// The docs' independent Python verifier (docs/proofs/verify.py, written from PROOFS.md and
/// SIGNING.md) verifies every example proof, also after `jq` re-saved it, and refuses one whose
/// view or bytes were changed.
#[test]
fn the_docs_python_verifier_agrees() {
    let ready = Command::new("python3")
        .args(["-c", "import blake3"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !ready {
        eprintln!("SKIPPED: python3 with blake3 is absent; docs/proofs/verify.py not run");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let docs_dir = format!("{}/../docs/proofs", env!("CARGO_MANIFEST_DIR"));
    let run = |files: &[std::path::PathBuf]| {
        Command::new("python3")
            .arg(format!("{docs_dir}/verify.py"))
            .arg(format!("{docs_dir}/genesis.toml"))
            .args(files)
            .output()
            .unwrap()
    };
    let mut genuine = vec![];
    for file in FILES {
        genuine.push(std::path::PathBuf::from(format!("{docs_dir}/{file}")));
        if let Some(resaved) = resave("jq", &["."], &docs(file).replace("412.5", "4.1250e2")) {
            let path = dir.path().join(format!("jq-{file}"));
            std::fs::write(&path, resaved).unwrap();
            genuine.push(path);
        }
    }
    let out = run(&genuine);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "verify.py:\n{stdout}");
    assert_eq!(
        stdout.matches("=> VERIFIED").count(),
        genuine.len(),
        "{stdout}"
    );
    let history = docs("history.json");
    for (what, changed) in [
        (
            "view",
            history.replacen("\"weight_kg\": 412.5", "\"weight_kg\": 412.51", 1),
        ),
        (
            "bytes",
            history.replacen("031d10000000000000ffff", "031e10000000000000ffff", 1),
        ),
        (
            "duplicate member",
            history.replacen(
                "\"kind\": \"history\",",
                "\"kind\": \"history\", \"kind\": \"history\",",
                1,
            ),
        ),
        (
            "upper-case hex",
            history.replacen("031d10000000000000ffff", "031D10000000000000FFFF", 1),
        ),
    ] {
        assert_ne!(changed, history, "{what}: the edit changed nothing");
        let path = dir.path().join("changed.json");
        std::fs::write(&path, changed).unwrap();
        let out = run(&[path]);
        assert!(
            !out.status.success(),
            "verify.py accepted a changed {what}:\n{}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
}
