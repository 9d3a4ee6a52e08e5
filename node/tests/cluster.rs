//! End to end: four real `waybill` processes on 127.0.0.1, a real JSON-RPC client, real kill -9.
//!
//! One test walks the whole story so the cluster starts once: commits agree on every node;
//! with one validator killed the others keep committing; restarted, it catches up and votes
//! again (the network then commits without a different validator); with two killed commits stop
//! and nothing forks; restarted, commits resume.

use std::path::Path;
use std::time::{Duration, Instant};

use ledger::keyfile::read_key_file;
use ledger::tx::{Payload, Transaction};
use ledger::{Hash, KeyPair, SignedTransaction};
use waybill_node::localnet::{start_node, LocalNode};

mod common;
use common::{kill9, log_of, start_network, EXE};

struct Cluster {
    nodes: Vec<LocalNode>,
    clients: Vec<rpc::Client>,
    key: KeyPair,
    chain_id: String,
    next_seq: u64,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for n in &self.nodes {
            kill9(n);
        }
    }
}

impl Cluster {
    fn tx(&mut self) -> SignedTransaction {
        let tx = Transaction {
            chain_id: self.chain_id.clone(),
            signer: self.key.public(),
            sequence: self.next_seq,
            payload: Payload::Memo {
                data: format!("e2e {}", self.next_seq).into_bytes(),
            },
        }
        .sign(&self.key);
        self.next_seq += 1;
        tx
    }

    async fn head(&self, i: usize) -> Option<u64> {
        self.clients[i].head().await.ok().map(|h| h.height)
    }

    /// Waits until node `i` has committed `hash`.
    async fn wait_tx(&self, i: usize, hash: Hash, within: Duration) {
        let start = Instant::now();
        loop {
            // A receipt, not just an answer: a pending (mempool) transaction is reported too.
            let info = self.clients[i].transaction(hash).await;
            if matches!(info, Ok(Some(info)) if info.receipt.is_some()) {
                return;
            }
            assert!(
                start.elapsed() < within,
                "{} did not commit {hash} within {within:?}",
                self.nodes[i].name
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Every pair of `live` nodes has the same block hash at every height both have.
    async fn assert_same_chain(&self, live: &[usize]) {
        let mut min_head = u64::MAX;
        for &i in live {
            min_head = min_head.min(self.head(i).await.expect("live node answers"));
        }
        assert!(min_head > 0, "nothing committed");
        for h in 1..=min_head {
            let mut hashes = Vec::new();
            for &i in live {
                let b = self.clients[i]
                    .block(h)
                    .await
                    .unwrap()
                    .unwrap_or_else(|| panic!("{} lacks block {h}", self.nodes[i].name));
                hashes.push(b.block.hash());
            }
            assert!(
                hashes.windows(2).all(|w| w[0] == w[1]),
                "FORK at height {h}: {hashes:?}"
            );
        }
    }

    /// Submits `count` transactions to node `via` and waits until every `live` node has them.
    async fn commit_batch(&mut self, via: usize, count: usize, live: &[usize]) {
        let mut last = None;
        for _ in 0..count {
            let tx = self.tx();
            last = Some(tx.hash());
            self.clients[via].submit(tx).await.expect("submit accepted");
        }
        let last = last.expect("count > 0");
        for &i in live {
            self.wait_tx(i, last, Duration::from_secs(60)).await;
        }
        self.assert_same_chain(live).await;
    }
}

async fn start_cluster(dir: &Path) -> Cluster {
    let (all, clients) = start_network(dir, "waybill-e2e", 4).await;
    let key = read_key_file(&dir.join("clients").join("farm-operator.key")).unwrap();
    Cluster {
        nodes: all,
        clients,
        key,
        chain_id: "waybill-e2e".into(),
        next_seq: 0,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_processes_agree_survive_kills_and_catch_up() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = start_cluster(dir.path()).await;
    let all = [0, 1, 2, 3];

    // Transactions submitted to one node commit on all four, identical at every height.
    c.commit_batch(0, 20, &all).await;

    // kill -9 one validator: the other three keep committing.
    kill9(&c.nodes[3]);
    c.commit_batch(0, 10, &[0, 1, 2]).await;

    // Restart it: it catches up to the same head...
    start_node(Path::new(EXE), &c.nodes[3]).unwrap();
    let target = c.head(0).await.unwrap();
    let start = Instant::now();
    while c.head(3).await.unwrap_or(0) < target {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "validator-3 did not catch up"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    c.commit_batch(1, 5, &all).await;
    // ...and votes again: without validator-2, a quorum needs validator-3.
    kill9(&c.nodes[2]);
    c.commit_batch(0, 5, &[0, 1, 3]).await;

    // kill -9 a second one: no quorum, commits stop and nothing forks.
    kill9(&c.nodes[1]);
    let before = c.head(0).await.unwrap();
    let stuck = c.tx();
    let stuck_hash = stuck.hash();
    c.clients[0].submit(stuck).await.unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        c.head(0).await.unwrap(),
        before,
        "committed without a quorum"
    );
    assert_eq!(
        c.head(3).await.unwrap(),
        before,
        "committed without a quorum"
    );
    // A still height with work to do is a stall, and the status says it is not a rest.
    let status = c.clients[0].status().await.unwrap();
    assert!(
        !status.idle,
        "a validator holding a transaction it cannot commit reports itself idle"
    );

    // Restart both: commits resume, the stuck transaction commits everywhere, one chain.
    start_node(Path::new(EXE), &c.nodes[1]).unwrap();
    start_node(Path::new(EXE), &c.nodes[2]).unwrap();
    for i in all {
        c.wait_tx(i, stuck_hash, Duration::from_secs(90)).await;
    }
    c.commit_batch(2, 5, &all).await;

    // With nothing more to order, every validator comes to rest (its status says so) and the
    // chain stands still.
    let start = Instant::now();
    for i in all {
        while !c.clients[i].status().await.is_ok_and(|s| s.idle) {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "validator-{i} did not come to rest"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let resting = c.head(0).await.unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        c.head(0).await.unwrap(),
        resting,
        "a resting network committed"
    );
    // kill -9 is no rollback: a process killed while its store's write and its safety mark's
    // ran side by side may leave the mark one write ahead, which the guard knows for a write in
    // flight (the disk lost nothing).
    for i in [1, 2, 3] {
        let log = log_of(&c.nodes[i]);
        let findings: Vec<&str> = log
            .lines()
            .filter(|l| l.contains("ROLLBACK GUARD"))
            .collect();
        assert!(
            findings.is_empty(),
            "validator-{i} took a kill -9 for a rollback: {findings:?}"
        );
    }
}
