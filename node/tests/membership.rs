//! Membership changes on live processes, under load (issue 23), done the way
//! docs/OPERATIONS.md tells an operator to:
//!
//! 1. A fifth member joins: `waybill keys init` and `waybill config init` in its own directory
//!    (no key leaves it), three admins adopt its bundle (`propose-change add-validator --bundle`,
//!    two `approve-change`), and its node, started before the vote as a stranger every validator
//!    refuses, is let in by the validators' allow-list once the change commits, catches up, and
//!    votes.
//! 2. An original validator (validator-3) is removed.
//! 3. validator-1 rotates its consensus key (`waybill keys gen`, `rotate-consensus-key`), and
//!    restarts with the new key.
//!
//! Meanwhile a client commits memos through validator-0 and validator-2 without pause. Checked:
//! while validator-1 is down with validator-3 gone, only the joiner's votes make a quorum, and
//! commits go on; after validator-1's restart, with validator-2 stopped, its new key's votes do;
//! every node that stayed holds the same block at every height and every acknowledged
//! transaction; nobody saw an equivocation; a proof certified after all three changes verifies
//! from the genesis file and the chain of epoch changes alone, and the same proof with
//! validator-3's signature standing in for a current validator's does not.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{kill9, start_network, wait_answering, waybill, Processes, EXE};
use ledger::keyfile::read_key_file;
use ledger::proof::{CheckpointVote, Proof, ProofFile};
use ledger::receipt::ExecStatus;
use ledger::tx::{Payload, Transaction};
use ledger::{Genesis, Hash, KeyPair};
use waybill_node::localnet::{log_tail, start_node, LocalNode};

const CHAIN: &str = "membership-live";
const LIMIT: Duration = Duration::from_secs(90);

/// `waybill tx` by an organization's admin through `rpc`: waits for the receipt, checks it
/// succeeded, and returns the transaction hash (a proposal's id).
fn admin_tx(dir: &Path, rpc: &str, org: &str, args: &[&str]) -> String {
    let key = dir.join(format!("clients/{org}-admin.key"));
    let key = key.display().to_string();
    let mut all = vec!["tx", "--rpc", rpc, "--key", &key, "--wait-ms", "60000"];
    all.extend_from_slice(args);
    let out = waybill(&all);
    assert!(out.contains("result    success"), "{out}");
    out.lines()
        .find_map(|l| l.strip_prefix("tx_hash   "))
        .unwrap_or_else(|| panic!("no tx_hash in {out}"))
        .trim()
        .to_string()
}

/// One change, decided by the genesis rule (3 of the 4 organizations): farm proposes, the
/// processor and the shipper approve.
fn decide(dir: &Path, rpc: &str, change: &[&str]) {
    let mut propose = vec!["propose-change", "--org", "farm"];
    propose.extend_from_slice(change);
    let id = admin_tx(dir, rpc, "farm", &propose);
    for org in ["processor", "shipper"] {
        admin_tx(
            dir,
            rpc,
            org,
            &["approve-change", "--org", org, "--proposal", &id],
        );
    }
}

/// A client committing memos without pause through the given nodes, in turn; what was
/// acknowledged (a success receipt) is kept.
struct Load {
    stop: Arc<AtomicBool>,
    acknowledged: Arc<Mutex<Vec<Hash>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Load {
    fn start(urls: Vec<String>) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let acknowledged = Arc::new(Mutex::new(Vec::new()));
        let (s, a) = (stop.clone(), acknowledged.clone());
        let task = tokio::spawn(async move {
            let clients: Vec<rpc::Client> =
                urls.iter().map(|u| rpc::Client::new(u).unwrap()).collect();
            let key = KeyPair::generate();
            let (mut sequence, mut turn) = (0, 0);
            while !s.load(Ordering::Relaxed) {
                let tx = Transaction {
                    chain_id: CHAIN.into(),
                    signer: key.public(),
                    sequence,
                    payload: Payload::Memo {
                        data: format!("load {sequence}").into_bytes(),
                    },
                }
                .sign(&key);
                // Each node in turn. A submission that fails (its node is down) or times out
                // is offered again, to the next node, with the same sequence: the ledger takes
                // it once.
                // An earlier try may have committed without its answer reaching us (its node
                // was killed): the node asked next says so, and refuses the copy.
                turn += 1;
                let client = &clients[turn % clients.len()];
                let hash = tx.hash();
                let receipt = match client.submit_and_wait(tx, 20_000).await {
                    Ok(outcome) => outcome.receipt,
                    Err(_) => match client.transaction(hash).await {
                        Ok(Some(info)) => info.receipt,
                        _ => {
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            None
                        }
                    },
                };
                if let Some(r) = receipt {
                    assert_eq!(r.status, ExecStatus::Success, "{r:?}");
                    a.lock().unwrap().push(hash);
                    sequence += 1;
                }
            }
        });
        Load {
            stop,
            acknowledged,
            task,
        }
    }

    fn count(&self) -> usize {
        self.acknowledged.lock().unwrap().len()
    }

    /// Waits until `more` transactions beyond `from` are acknowledged (each needs a quorum).
    async fn wait_more(&self, from: usize, more: usize, what: &str, nodes: &[&LocalNode]) {
        let start = Instant::now();
        while self.count() < from + more {
            assert!(
                start.elapsed() < LIMIT,
                "{what}: {} of {more} transactions committed; logs:\n{}",
                self.count() - from,
                tails(nodes)
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn finish(self) -> Vec<Hash> {
        self.stop.store(true, Ordering::Relaxed);
        self.task.await.unwrap();
        self.acknowledged.lock().unwrap().clone()
    }
}

fn tails(nodes: &[&LocalNode]) -> String {
    nodes
        .iter()
        .map(|n| format!("--- {}\n{}", n.name, log_tail(n, 25)))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Waits until every client names `expected` as the set (names, in order).
async fn wait_set(clients: &[(&LocalNode, rpc::Client)], expected: &[&str], what: &str) {
    let start = Instant::now();
    for (n, c) in clients {
        loop {
            let set: Vec<String> = c
                .validators()
                .await
                .map(|s| s.into_iter().map(|v| v.name).collect())
                .unwrap_or_default();
            if set == expected {
                break;
            }
            assert!(
                start.elapsed() < LIMIT,
                "{what}: {} names {set:?}:\n{}",
                n.name,
                log_tail(n, 30)
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

/// Waits until `n` (through `client`) is a validator, not an observer, and within two heights
/// of `reference`'s head: caught up and voting.
async fn wait_voting(n: &LocalNode, client: &rpc::Client, reference: &rpc::Client) {
    let start = Instant::now();
    loop {
        let s = client.status().await.unwrap();
        let head = reference.head().await.unwrap().height;
        if !s.observer && s.committed_height + 2 >= head {
            return;
        }
        assert!(
            start.elapsed() < LIMIT,
            "{} never caught up to vote: {s:?}, head {head}:\n{}",
            n.name,
            log_tail(n, 30)
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Waits until every node in `nodes` serves `count` epoch changes (the old set's certificate of
/// each change's last block stored), and returns the first node's chain. A node that entered
/// two epochs before it held the first's last certificate used to drop that certificate (it
/// knew only its current set and the one before) and serve a chain that stopped short.
async fn wait_chain(nodes: &[&LocalNode], count: usize) -> Vec<ledger::proof::EpochChange> {
    let start = Instant::now();
    loop {
        let mut served = Vec::new();
        for n in nodes {
            let c = rpc::Client::new(&n.rpc_url()).unwrap();
            served.push(c.epoch_changes(0).await.unwrap_or_default());
        }
        if served.iter().all(|s| s.len() == count) {
            // Each node holds its own quorum of signatures; the heights and sets are one.
            let shape = |s: &Vec<ledger::proof::EpochChange>| -> Vec<(u64, u64)> {
                s.iter()
                    .map(|c| (c.certificate.checkpoint.height, c.next.epoch))
                    .collect()
            };
            assert!(
                served.iter().all(|s| shape(s) == shape(&served[0])
                    && s.iter().zip(&served[0]).all(|(a, b)| a.next == b.next)),
                "the nodes serve different chains of {count} changes: {:?}",
                served.iter().map(shape).collect::<Vec<_>>()
            );
            return served.swap_remove(0);
        }
        let counts: Vec<(&str, usize)> = nodes
            .iter()
            .zip(&served)
            .map(|(n, s)| (n.name.as_str(), s.len()))
            .collect();
        assert!(
            start.elapsed() < LIMIT,
            "not every node serves {count} epoch changes: {counts:?}\n{}",
            tails(nodes)
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The joining member's directory: its keys and signed bundle, then its config, made by the
/// commands an operator runs. Nothing in it is copied from anywhere else.
fn join_member(dir: &Path) -> (PathBuf, LocalNode) {
    let base = waybill_node::testnet::find_free_block(28600, 3).unwrap();
    let member = dir.join("newco");
    let address = format!("/ip4/127.0.0.1/tcp/{base}");
    let member_s = member.display().to_string();
    waybill(&[
        "keys",
        "init",
        "--dir",
        &member_s,
        "--name",
        "newco",
        "--organization-name",
        "New Co",
        "--address",
        &address,
    ]);
    let genesis = dir.join("genesis.toml").display().to_string();
    waybill(&[
        "config",
        "init",
        "--dir",
        &member_s,
        "--genesis",
        &genesis,
        "--p2p-listen",
        &address,
    ]);
    let config_path = member.join("config.toml");
    let config = waybill_node::config::NodeConfig::load_with_env(&config_path, &[]).unwrap();
    assert_eq!(config.node.name, "newco");
    let node = LocalNode {
        name: "newco".into(),
        dir: member.clone(),
        config_path,
        config,
    };
    (member.join("member.toml"), node)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_joins_one_leaves_and_one_rotates_its_key_under_load() {
    let dir = tempfile::tempdir().unwrap();
    let (nodes, clients) = start_network(dir.path(), CHAIN, 4).await;
    let mut nodes = Processes(nodes);
    let genesis = Genesis::load(&dir.path().join("genesis.toml")).unwrap();
    let rpc0 = nodes.0[0].rpc_url();
    let load = Load::start(vec![rpc0.clone(), nodes.0[2].rpc_url()]);
    load.wait_more(0, 5, "before any change", &[&nodes.0[0]])
        .await;

    // 1. The joiner starts first: every validator refuses it until the vote.
    let (bundle, newco) = join_member(dir.path());
    start_node(Path::new(EXE), &newco).unwrap();
    let newco_client = wait_answering(&newco).await;
    nodes.0.push(newco);
    // It follows as an observer (once its engine has published a status).
    let start = Instant::now();
    while !newco_client.status().await.unwrap().observer {
        assert!(start.elapsed() < LIMIT, "{}", log_tail(&nodes.0[4], 30));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    decide(
        dir.path(),
        &rpc0,
        &["add-validator", "--bundle", &bundle.display().to_string()],
    );
    let five = [
        "validator-0",
        "validator-1",
        "validator-2",
        "validator-3",
        "newco",
    ];
    let all: Vec<(&LocalNode, rpc::Client)> = nodes
        .0
        .iter()
        .map(|n| (n, rpc::Client::new(&n.rpc_url()).unwrap()))
        .collect();
    wait_set(&all, &five, "after the join").await;

    // 2. validator-3 leaves, decided at once: back to back, the nodes enter two epochs before
    // the first one's last certificate forms (OPERATIONS.md advises one change at a time, for
    // the operators' sake; the nodes must cope either way).
    decide(
        dir.path(),
        &rpc0,
        &["remove-validator", "--name", "validator-3"],
    );
    let four = ["validator-0", "validator-1", "validator-2", "newco"];
    wait_set(&all, &four, "after the removal").await;
    // The joiner caught up through both changes and now votes (it is no observer any more).
    wait_voting(&nodes.0[4], &newco_client, &clients[0]).await;
    let stayed: Vec<&LocalNode> = [0usize, 1, 2, 4].iter().map(|&i| &nodes.0[i]).collect();
    wait_chain(&stayed, 2).await;

    // 3. validator-1 rotates its consensus key: the new key is made in its own directory.
    let v1 = nodes.0[1].dir.clone();
    let new_key = v1.join("consensus-2.key");
    waybill(&[
        "keys",
        "gen",
        "--kind",
        "consensus",
        "--out",
        &new_key.display().to_string(),
    ]);
    let new_public = read_key_file(&new_key).unwrap().public().to_hex();
    decide(
        dir.path(),
        &rpc0,
        &[
            "rotate-consensus-key",
            "--name",
            "validator-1",
            "--consensus-key",
            &new_public,
        ],
    );
    let after_rotation = clients[0].head().await.unwrap().height;
    // Its old key still signs the old epoch's last certificate: wait for it, then restart.
    let start = Instant::now();
    while clients[1].status().await.unwrap().certified_height < after_rotation {
        assert!(start.elapsed() < LIMIT, "{}", log_tail(&nodes.0[1], 30));
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    kill9(&nodes.0[1]);
    // Down, with validator-3 gone: the quorum (3 of 4) needs validator-0, validator-2 and the
    // joiner, so these commits carry the joiner's votes.
    let mark = load.count();
    load.wait_more(
        mark,
        5,
        "validator-1 down: only with the joiner",
        &[&nodes.0[4]],
    )
    .await;
    let config = std::fs::read_to_string(&nodes.0[1].config_path).unwrap();
    let rotated = config.replace(
        "consensus_key = \"consensus.key\"",
        "consensus_key = \"consensus-2.key\"",
    );
    assert_ne!(
        config, rotated,
        "validator-1's config names no consensus.key"
    );
    std::fs::write(&nodes.0[1].config_path, rotated).unwrap();
    start_node(Path::new(EXE), &nodes.0[1]).unwrap();
    let v1_client = wait_answering(&nodes.0[1]).await;
    wait_voting(&nodes.0[1], &v1_client, &clients[0]).await;
    // With validator-2 stopped, a quorum needs validator-1's new key.
    kill9(&nodes.0[2]);
    let mark = load.count();
    load.wait_more(
        mark,
        3,
        "validator-2 down: only with the rotated key",
        &[&nodes.0[1], &nodes.0[0]],
    )
    .await;
    start_node(Path::new(EXE), &nodes.0[2]).unwrap();
    wait_answering(&nodes.0[2]).await;
    let acknowledged = load.finish().await;

    // A proof from after all three changes, from the genesis file and the chain alone.
    let last = *acknowledged.last().unwrap();
    // Acknowledged by whichever node the load last used; validator-0 may apply that block a
    // moment later (CI once asked it too soon and found the transaction still pending).
    let start = Instant::now();
    let at = loop {
        let info = clients[0].transaction(last).await.unwrap();
        if let Some(height) = info.as_ref().and_then(|t| t.height) {
            break height;
        }
        assert!(
            start.elapsed() < LIMIT,
            "the last acknowledged transaction is not committed at validator-0: {info:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let start = Instant::now();
    let proof = loop {
        // Until a certificate covers the head, the node answers "not ready" (an error).
        match clients[0].transaction_proof(last).await {
            Ok(Some(Proof::Transaction(p))) if p.certificate.checkpoint.height >= at => break p,
            other => {
                assert!(
                    start.elapsed() < LIMIT,
                    "no proof certified at {at}: {other:?}"
                );
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    };
    let changes = wait_chain(&stayed, 3).await;
    let file = ProofFile {
        proof: Proof::Transaction(proof.clone()),
        epoch_changes: changes.clone(),
    };
    let report = file.verify(&genesis);
    assert!(report.is_ok(), "{report:#?}");
    // The same proof, validator-3's signature (its real key) standing in for a current
    // validator's: it must not count.
    let v3_key = read_key_file(&nodes.0[3].dir.join("consensus.key")).unwrap();
    let mut forged = proof;
    forged.certificate.signatures.pop();
    forged.certificate.signatures.push(CheckpointVote::sign(
        &v3_key,
        &forged.certificate.checkpoint,
    ));
    let forged = ProofFile {
        proof: Proof::Transaction(forged),
        epoch_changes: changes,
    };
    let report = forged.verify(&genesis);
    assert!(
        !report.is_ok(),
        "a proof counting the removed validator verified: {report:#?}"
    );

    // Every node that stayed agrees on every height and holds every acknowledged transaction.
    let stayed = [0usize, 1, 2, 4];
    let head = clients[0].head().await.unwrap().height;
    let mut views = Vec::new();
    for i in stayed {
        let c = rpc::Client::new(&nodes.0[i].rpc_url()).unwrap();
        let start = Instant::now();
        while c.head().await.map(|h| h.height).unwrap_or(0) < head {
            assert!(start.elapsed() < LIMIT, "{}", log_tail(&nodes.0[i], 30));
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let mut hashes = Vec::new();
        for h in 1..=head {
            hashes.push(c.block(h).await.unwrap().unwrap().block.hash());
        }
        views.push(hashes);
        let mut missing = BTreeSet::new();
        for tx in &acknowledged {
            if c.transaction(*tx).await.unwrap().is_none() {
                missing.insert(*tx);
            }
        }
        assert!(
            missing.is_empty(),
            "{} lost acknowledged transactions",
            nodes.0[i].name
        );
    }
    assert!(views.windows(2).all(|w| w[0] == w[1]), "nodes disagree");
    common::assert_no_equivocation(&nodes.0, "across three membership changes");
}
