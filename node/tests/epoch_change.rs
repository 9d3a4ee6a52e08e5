//! A validator-set change by governance on a live four-process network (issue 23): three of
//! the four organizations' admins approve raising validator-1's power, the block that applies
//! it ends epoch 0, and the network commits on in epoch 1 with the new set. Every node then
//! names the new set (`waybill_validators`), serves the chain of epoch changes, and a proof
//! certified in epoch 1 verifies from the genesis file and that chain alone. Then validator 3
//! loses its ledger (keeping its safety mark), fills it again with `waybill state-sync` from a
//! height of epoch 1, serves the epoch chain it was installed with, and votes again: with
//! validator 2 down, a commit needs its vote.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{commit_one, start_network, Processes};
use ledger::governance::{ApproveChange, Change, ProposeChange};
use ledger::keyfile::read_key_file;
use ledger::proof::{Proof, ProofFile};
use ledger::receipt::ExecStatus;
use ledger::tx::{Payload, Transaction};
use ledger::{Genesis, KeyPair};

const CHAIN: &str = "epoch-live";
const LIMIT: Duration = Duration::from_secs(60);

fn admin(dir: &Path, org: &str) -> KeyPair {
    read_key_file(&dir.join(format!("clients/{org}-admin.key"))).unwrap()
}

async fn governance(client: &rpc::Client, key: &KeyPair, payload: Payload) -> ledger::Hash {
    let tx = Transaction {
        chain_id: CHAIN.into(),
        signer: key.public(),
        sequence: 0,
        payload,
    }
    .sign(key);
    let outcome = client.submit_and_wait(tx, 60_000).await.unwrap();
    let receipt = outcome.receipt.expect("committed");
    assert_eq!(receipt.status, ExecStatus::Success, "{receipt:?}");
    outcome.tx_hash
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_power_change_by_governance_ends_the_epoch_and_proofs_follow_it() {
    let dir = tempfile::tempdir().unwrap();
    let (nodes, clients) = start_network(dir.path(), CHAIN, 4).await;
    let nodes = Processes(nodes);
    let genesis = Genesis::load(&dir.path().join("genesis.toml")).unwrap();
    let before = clients[0].validators().await.unwrap();
    assert_eq!(before.iter().map(|v| v.power).sum::<u64>(), 4);

    let proposal = governance(
        &clients[0],
        &admin(dir.path(), "farm"),
        Payload::ProposeChange(ProposeChange {
            organization: "farm".into(),
            change: Change::SetValidatorPower {
                name: "validator-1".into(),
                power: 2,
            },
        }),
    )
    .await;
    for org in ["processor", "shipper"] {
        governance(
            &clients[1],
            &admin(dir.path(), org),
            Payload::ApproveChange(ApproveChange {
                organization: org.into(),
                proposal,
            }),
        )
        .await;
    }

    // The network commits on in epoch 1, a commit needing the new set's quorum (4 of 5).
    let key = KeyPair::generate();
    let receipt = commit_one(&nodes.0[2], &clients[2], CHAIN, &key, "after the change").await;

    // Every node names the new set, and serves the one change once its certificate is in.
    let start = Instant::now();
    for (n, client) in nodes.0.iter().zip(&clients) {
        loop {
            let set = client.validators().await.unwrap();
            let changes = client.epoch_changes(0).await.unwrap();
            let power: Vec<u64> = set.iter().map(|v| v.power).collect();
            if power == vec![1, 2, 1, 1] && changes.len() == 1 {
                assert_eq!(changes[0].next.epoch, 1);
                break;
            }
            assert!(
                start.elapsed() < LIMIT,
                "{}: set {power:?}, {} changes:\n{}",
                n.name,
                changes.len(),
                waybill_node::localnet::log_tail(n, 30)
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    // A proof certified after the change: from the genesis file and the chain, it verifies.
    let start = Instant::now();
    let proof = loop {
        // Until a certificate covers the transaction's height, the node answers "not ready"
        // (an error, -32004): a node that has not certified yet is waited for, not failed.
        match clients[3].transaction_proof(receipt.tx_hash).await {
            Ok(Some(Proof::Transaction(p)))
                if p.certificate.checkpoint.height >= receipt.height =>
            {
                break Proof::Transaction(p)
            }
            _ if start.elapsed() < LIMIT => tokio::time::sleep(Duration::from_millis(200)).await,
            other => panic!(
                "no proof certified at height {} or above: {other:?}",
                receipt.height
            ),
        }
    };
    let file = ProofFile {
        proof,
        epoch_changes: clients[3].epoch_changes(0).await.unwrap(),
    };
    let report = file.verify(&genesis);
    assert!(report.is_ok(), "{report:#?}");

    // Validator 3 loses its ledger, not its safety mark, and syncs a state of epoch 1.
    let v3 = &nodes.0[3];
    common::kill9(v3);
    let data = &v3.config.node.data_dir;
    std::fs::rename(data.join("ledger"), data.join("ledger-lost")).unwrap();
    let config = v3.config_path.display().to_string();
    let sync = common::waybill(&[
        "state-sync",
        "--config",
        &config,
        "--from",
        &nodes.0[0].rpc_url(),
        "--from",
        &nodes.0[1].rpc_url(),
    ]);
    assert!(sync.contains("epoch 1"), "{sync}");
    waybill_node::localnet::start_node(Path::new(common::EXE), v3).unwrap();
    let synced = common::wait_answering(v3).await;
    // It holds the epoch chain it was installed with, below its base.
    assert_eq!(synced.epoch_changes(0).await.unwrap().len(), 1);
    // With validator 2 down, validators 0, 1 (power 2) and 3 are 4 of 5: the quorum needs it.
    common::kill9(&nodes.0[2]);
    let key = KeyPair::generate();
    commit_one(
        v3,
        &synced,
        CHAIN,
        &key,
        "a commit that needs validator 3's vote",
    )
    .await;
    common::assert_no_equivocation(&nodes.0, "across the epoch change and the sync");
}
