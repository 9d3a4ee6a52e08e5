//! Shared by the multi-process tests: generate a local network, start a real `waybill`
//! process per validator, wait until each answers JSON-RPC, and kill them when a test ends.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ledger::receipt::ExecStatus;
use ledger::tx::{Payload, Transaction};
use ledger::{KeyPair, SignedTransaction};

use waybill_node::localnet::{nodes, start_node, LocalNode};
use waybill_node::testnet::{generate, TestnetSpec};

pub const EXE: &str = env!("CARGO_BIN_EXE_waybill");

/// Generates a `validators`-node network for `chain_id` in `dir` (round timeout 500 ms, free
/// ports), starts every node and returns them with a client for each, once all answer.
#[allow(dead_code)] // not every test binary that shares this module starts a whole network
pub async fn start_network(
    dir: &Path,
    chain_id: &str,
    validators: usize,
) -> (Vec<LocalNode>, Vec<rpc::Client>) {
    generate(&TestnetSpec {
        validators,
        out: dir.to_path_buf(),
        chain_id: chain_id.into(),
        base_port: None,
        round_timeout_ms: 500,
        observers: 0,
    })
    .unwrap();
    let all = nodes(dir).unwrap();
    for n in &all {
        start_node(Path::new(EXE), n).unwrap();
    }
    let mut clients = Vec::new();
    for n in &all {
        clients.push(wait_answering(n).await);
    }
    (all, clients)
}

/// Runs the `waybill` binary with `args`; its stdout and stderr, once it exits with success
/// (a failure panics with them).
#[allow(dead_code)]
pub fn waybill(args: &[&str]) -> String {
    let out = std::process::Command::new(EXE)
        .args(args)
        .output()
        .expect("run waybill");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "waybill {args:?} failed:\n{text}");
    text
}

/// A client for `n` once it answers `waybill_head` (30 s at most; its log tail otherwise).
pub async fn wait_answering(n: &LocalNode) -> rpc::Client {
    let c = rpc::Client::new(&n.rpc_url()).unwrap();
    let start = Instant::now();
    while c.head().await.is_err() {
        assert!(
            n.running_pid().is_some(),
            "{} exited:\n{}",
            n.name,
            waybill_node::localnet::log_tail(n, 30)
        );
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{} never answered:\n{}",
            n.name,
            waybill_node::localnet::log_tail(n, 30)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    c
}

/// kill -9, then waits (at most 5 s) until the process is gone, reaping it if it is our child.
pub fn kill9(n: &LocalNode) {
    if let Some(pid) = n.running_pid() {
        unsafe { libc::kill(pid, libc::SIGKILL) };
        let start = Instant::now();
        while n.running_pid().is_some() && start.elapsed() < Duration::from_secs(5) {
            unsafe { libc::waitpid(pid, std::ptr::null_mut(), libc::WNOHANG) };
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// `GET /metrics` of `n`, as metric name (with labels, if any) → value. Panics with the
/// response when it is not a 200 with parseable samples.
#[allow(dead_code)] // not every test binary that shares this module scrapes
pub async fn scrape_metrics(n: &LocalNode) -> std::collections::HashMap<String, f64> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut sock = tokio::net::TcpStream::connect(&n.config.metrics.listen)
        .await
        .unwrap_or_else(|e| panic!("{}: metrics {}: {e}", n.name, n.config.metrics.listen));
    sock.write_all(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut response = String::new();
    tokio::time::timeout(Duration::from_secs(10), sock.read_to_string(&mut response))
        .await
        .expect("metrics answer within 10 s")
        .unwrap();
    let (head, body) = response
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no HTTP head in {response:?}"));
    assert!(
        head.starts_with("HTTP/1.1 200"),
        "metrics answered {head:?}"
    );
    body.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (name, value) = l
                .rsplit_once(' ')
                .unwrap_or_else(|| panic!("sample without a value: {l:?}"));
            let value = value
                .parse::<f64>()
                .unwrap_or_else(|e| panic!("sample {l:?}: {e}"));
            (name.to_string(), value)
        })
        .collect()
}

/// The nodes of a test, killed (kill -9) when it ends, however it ends.
#[allow(dead_code)]
pub struct Processes(pub Vec<LocalNode>);

impl Drop for Processes {
    fn drop(&mut self) {
        for n in &self.0 {
            kill9(n);
        }
    }
}

/// A memo from `key` on `chain`.
#[allow(dead_code)]
pub fn memo(chain: &str, key: &KeyPair, sequence: u64, text: &str) -> SignedTransaction {
    Transaction {
        chain_id: chain.into(),
        signer: key.public(),
        sequence,
        payload: Payload::Memo {
            data: text.as_bytes().to_vec(),
        },
    }
    .sign(key)
}

/// Client accounts submitting memos one after another (each waits for its receipt) through the
/// given nodes in turn, until stopped: a steady load whose commits the test can count.
#[allow(dead_code)]
pub struct Load {
    stop: Arc<AtomicBool>,
    committed: Arc<AtomicU64>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

#[allow(dead_code)]
impl Load {
    pub fn start(chain: &str, keys: Vec<KeyPair>, via: &[&LocalNode]) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let committed = Arc::new(AtomicU64::new(0));
        let urls: Vec<String> = via.iter().map(|n| n.rpc_url()).collect();
        let tasks = keys
            .into_iter()
            .map(|key| {
                let clients: Vec<rpc::Client> =
                    urls.iter().map(|u| rpc::Client::new(u).unwrap()).collect();
                let (chain, stop, committed) = (chain.to_string(), stop.clone(), committed.clone());
                tokio::spawn(async move {
                    let (mut seq, mut attempt) = (0, 0);
                    while !stop.load(Ordering::Relaxed) {
                        let tx = memo(&chain, &key, seq, &format!("load {seq}"));
                        let via = &clients[attempt % clients.len()];
                        attempt += 1;
                        let hash = tx.hash();
                        let answer = via.submit_and_wait(tx, 20_000).await;
                        let failed = answer.is_err();
                        let mut done = answer.is_ok_and(|o| {
                            o.receipt.is_some_and(|r| r.status == ExecStatus::Success)
                        });
                        if failed {
                            // The node it went to may have died after the transaction spread,
                            // and it committed without this client hearing of it: sent again,
                            // it is refused as already committed, forever. Ask.
                            done = via
                                .transaction(hash)
                                .await
                                .is_ok_and(|t| t.is_some_and(|t| t.height.is_some()));
                        }
                        if done {
                            seq += 1;
                            committed.fetch_add(1, Ordering::Relaxed);
                        } else if failed {
                            // Refused (already pending, say) or lost: sent again with the same
                            // sequence, to the next node (this one may be down), a moment on.
                            tokio::time::sleep(Duration::from_millis(20)).await;
                        }
                    }
                })
            })
            .collect();
        Load {
            stop,
            committed,
            tasks,
        }
    }

    /// Client transactions committed so far.
    pub fn committed(&self) -> u64 {
        self.committed.load(Ordering::Relaxed)
    }

    /// Waits until `more` further transactions have committed (`within` at most: a liveness
    /// bound far above the usual, not a speed check).
    pub async fn wait_more(&self, more: u64, within: Duration, what: &str) {
        let target = self.committed() + more;
        let start = Instant::now();
        while self.committed() < target {
            assert!(
                start.elapsed() < within,
                "{what}: client transactions stopped committing ({} of {target})",
                self.committed()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn stop(self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.tasks {
            t.await.unwrap();
        }
    }
}

/// Waits until `n` has committed `height` (`within` at most; its log tail otherwise).
#[allow(dead_code)]
pub async fn wait_height(n: &LocalNode, client: &rpc::Client, height: u64, within: Duration) {
    let start = Instant::now();
    while !client.head().await.is_ok_and(|h| h.height >= height) {
        assert!(
            start.elapsed() < within,
            "{} never reached height {height}:\n{}",
            n.name,
            waybill_node::localnet::log_tail(n, 40)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The nodes hold the same block at every height all of them have; returns that height.
#[allow(dead_code)]
pub async fn assert_same_chain(nodes: &[(&LocalNode, &rpc::Client)]) -> u64 {
    let mut common = u64::MAX;
    for (n, c) in nodes {
        let head = c.head().await.unwrap_or_else(|e| panic!("{}: {e}", n.name));
        common = common.min(head.height);
    }
    assert!(common > 0, "nothing committed");
    for h in 1..=common {
        let mut hashes = Vec::new();
        for (n, c) in nodes {
            let b = c
                .block(h)
                .await
                .unwrap()
                .unwrap_or_else(|| panic!("{} lacks block {h}", n.name));
            hashes.push((n.name.clone(), b.block.hash()));
        }
        assert!(
            hashes.windows(2).all(|w| w[0].1 == w[1].1),
            "FORK at height {h}: {hashes:?}"
        );
    }
    common
}

/// The whole log of `n`.
#[allow(dead_code)]
pub fn log_of(n: &LocalNode) -> String {
    std::fs::read_to_string(n.log_file()).unwrap_or_default()
}

/// `n`'s log from byte `from` on, once it holds `needle` (`within` at most). A restarted node
/// answers RPC before its engine's thread has started: what the engine logs on start (its
/// recovery, the rollback guard's findings) may not be there yet when the RPC first answers.
#[allow(dead_code)]
pub async fn wait_log(n: &LocalNode, from: usize, needle: &str, within: Duration) -> String {
    let start = Instant::now();
    loop {
        let log = log_of(n);
        let tail = log.get(from..).unwrap_or_default();
        if tail.contains(needle) {
            return tail.to_string();
        }
        assert!(
            start.elapsed() < within,
            "{}: no {needle:?} in its log within {within:?}:\n{tail}",
            n.name
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Lines of `log` that show a validator signing two different things in one round: the core's
/// rejection of a second vote or timeout, the engine's offence, or a node learning it had.
#[allow(dead_code)]
pub fn equivocations(log: &str) -> Vec<&str> {
    log.lines()
        .filter(|l| {
            l.contains("second, different")
                || l.contains("equivocation")
                || l.contains("signed in a round it had forgotten")
        })
        .collect()
}

/// Submits a memo from `key` (sequence 0: a fresh account) through `n` and waits for it to
/// commit successfully (60 s at most); its receipt. The tests use it for a commit that needs a
/// particular validator's vote.
#[allow(dead_code)]
pub async fn commit_one(
    n: &LocalNode,
    client: &rpc::Client,
    chain: &str,
    key: &KeyPair,
    what: &str,
) -> ledger::receipt::Receipt {
    let outcome = client
        .submit_and_wait(memo(chain, key, 0, what), 60_000)
        .await
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    let receipt = outcome.receipt.unwrap_or_else(|| {
        panic!(
            "{what}: not committed:\n{}",
            waybill_node::localnet::log_tail(n, 40)
        )
    });
    assert_eq!(receipt.status, ExecStatus::Success, "{what}");
    receipt
}

/// No node's log shows an equivocation (see [`equivocations`]).
#[allow(dead_code)]
pub fn assert_no_equivocation(nodes: &[LocalNode], what: &str) {
    for node in nodes {
        let log = log_of(node);
        let found = equivocations(&log);
        assert!(
            found.is_empty(),
            "{what}: {} saw an equivocation:\n{}",
            node.name,
            found.join("\n")
        );
    }
}

/// Waits until `n`'s metric `name` is at least `at_least` (`within` at most); its value. The
/// node publishes its status right after each step, a moment after what it logs.
#[allow(dead_code)]
pub async fn wait_metric(n: &LocalNode, name: &str, at_least: f64, within: Duration) -> f64 {
    let start = Instant::now();
    loop {
        let value = scrape_metrics(n).await.get(name).copied().unwrap_or(0.0);
        if value >= at_least {
            return value;
        }
        assert!(
            start.elapsed() < within,
            "{}: {name} is {value}, not {at_least} within {within:?}",
            n.name
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
