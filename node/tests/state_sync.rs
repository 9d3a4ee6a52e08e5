//! State sync for real (issue 22): four validator processes commit a story and certify it; an
//! observer that joins later fills its empty data directory with `waybill state-sync` from two
//! validators, starts at the synced height without ever holding a block below it, follows the
//! chain from there, answers like a validator, and serves a proof that verifies from the genesis
//! file alone.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use ledger::proof::{Proof, ProofFile};
use ledger::{Genesis, KeyPair};
use waybill_node::localnet::{nodes, start_node, LocalNode};
use waybill_node::testnet::{generate, TestnetSpec};

mod common;
use common::{commit_one, kill9, wait_answering, wait_height, EXE};

const CHAIN: &str = "state-sync-test";
const LIMIT: Duration = Duration::from_secs(60);

struct Net(Vec<LocalNode>);

impl Drop for Net {
    fn drop(&mut self) {
        for n in &self.0 {
            kill9(n);
        }
    }
}

fn run_waybill(args: &[&str]) -> (bool, String) {
    let out = std::process::Command::new(EXE)
        .args(args)
        .output()
        .expect("run waybill");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_observer_starts_from_a_certified_state_and_follows_from_there() {
    let tmp = tempfile::tempdir().unwrap();
    let dir: PathBuf = tmp.path().join("net");
    generate(&TestnetSpec {
        validators: 4,
        out: dir.clone(),
        chain_id: CHAIN.into(),
        base_port: None,
        round_timeout_ms: 500,
        observers: 1,
    })
    .unwrap();
    let net = Net(nodes(&dir).unwrap());
    let genesis = Genesis::load(&dir.join("genesis.toml")).unwrap();
    let (validators, observer): (Vec<&LocalNode>, Vec<&LocalNode>) =
        net.0.iter().partition(|n| n.name.starts_with("validator"));
    let observer = observer[0];
    let mut clients = Vec::new();
    for n in &validators {
        start_node(Path::new(EXE), n).unwrap();
    }
    for n in &validators {
        clients.push(wait_answering(n).await);
    }

    // A story on the validators, certified before the observer exists.
    let mut last = 0;
    for i in 0..6 {
        let key = KeyPair::generate();
        last = commit_one(
            validators[i % 4],
            &clients[i % 4],
            CHAIN,
            &key,
            &format!("memo {i}"),
        )
        .await
        .height;
    }
    let start = Instant::now();
    let base_height = loop {
        match clients[0].snapshot_base(None).await {
            Ok(Some(base)) if base.certificate.checkpoint.height >= last => {
                break base.certificate.checkpoint.height
            }
            other => {
                assert!(
                    start.elapsed() < LIMIT,
                    "nothing certified at {last}: {other:?}"
                );
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    };

    // The observer's data directory is filled from two validators; no block is executed.
    let config = observer.config_path.display().to_string();
    let (ok, out) = run_waybill(&[
        "state-sync",
        "--config",
        &config,
        "--from",
        &validators[0].rpc_url(),
        "--from",
        &validators[1].rpc_url(),
    ]);
    assert!(ok, "{out}");
    // The height synced to: the latest validator-0 had certified when asked, at or above the
    // story's.
    let synced: u64 = out
        .split(": height ")
        .nth(1)
        .and_then(|r| r.split(',').next())
        .and_then(|h| h.trim().parse().ok())
        .unwrap_or_else(|| panic!("no synced height in {out}"));
    assert!(synced >= base_height, "{out}");
    // Once it holds a ledger, syncing again is refused (it would not start over silently).
    let (again, refusal) = run_waybill(&[
        "state-sync",
        "--config",
        &config,
        "--from",
        &validators[0].rpc_url(),
    ]);
    assert!(!again, "{refusal}");
    assert!(refusal.contains("already holds blocks"), "{refusal}");

    start_node(Path::new(EXE), observer).unwrap();
    let obs = wait_answering(observer).await;
    let head = obs.head().await.unwrap();
    assert!(head.height >= synced, "{head:?}");
    // It never held the blocks below the base.
    assert!(obs.block(1).await.unwrap().is_none());
    assert!(obs.block(synced - 1).await.unwrap().is_none());
    assert!(obs.block(synced).await.unwrap().is_some());

    // It follows: a transaction committed after the sync reaches it, and its state agrees.
    let key = KeyPair::generate();
    let after = commit_one(validators[2], &clients[2], CHAIN, &key, "after the sync").await;
    wait_height(observer, &obs, after.height, LIMIT).await;
    assert_eq!(
        obs.state_root(after.height).await.unwrap(),
        clients[0].state_root(after.height).await.unwrap()
    );

    // A proof from the observer, of a transaction after its base, verifies from the genesis.
    let start = Instant::now();
    let proof = loop {
        match obs.transaction_proof(after.tx_hash).await {
            Ok(Some(Proof::Transaction(p))) if p.certificate.checkpoint.height >= after.height => {
                break p
            }
            other => {
                assert!(
                    start.elapsed() < LIMIT,
                    "no proof from the observer: {other:?}"
                );
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    };
    let file = ProofFile {
        proof: Proof::Transaction(proof),
        epoch_changes: obs.epoch_changes(0).await.unwrap(),
    };
    let report = file.verify(&genesis);
    assert!(report.is_ok(), "{report:#?}");
    let log = std::fs::read_to_string(observer.log_file()).unwrap_or_default();
    assert!(!log.contains("panicked"), "{log}");
}
