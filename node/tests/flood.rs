//! A flood of 100,000 signed transactions at one real `waybill` process: the mempool answers
//! "full" once it is at capacity instead of growing, the node's resident memory stays bounded,
//! and it keeps answering and committing throughout.
//!
//! One validator (n = 1 is a valid network) keeps the test to one process; the flood path (RPC,
//! signature checks, mempool admission) is the same one every validator runs.

use std::path::Path;
use std::time::{Duration, Instant};

use jsonrpsee::core::client::ClientT;
use jsonrpsee::core::params::BatchRequestBuilder;
use jsonrpsee::http_client::HttpClientBuilder;
use ledger::tx::{Payload, Transaction};
use ledger::KeyPair;
use waybill_node::localnet::{nodes, start_node, LocalNode};
use waybill_node::testnet::{generate, TestnetSpec};

const EXE: &str = env!("CARGO_BIN_EXE_waybill");
const FLOOD: usize = 100_000;
const ACCOUNTS: usize = 200;
const BATCH: usize = 100;
const SENDERS: usize = 4;
/// Resident memory the node may use at any point of the flood. Far above what it needs
/// (about 100 MiB measured), far below what 100,000 unbounded transactions plus their JSON
/// would reach if any queue grew without limit.
const MAX_RSS_MIB: u64 = 768;

/// The tests of this file run one at a time: each generates its network on the first free
/// ports from 26600, and two generating at once chose the same ones (one node then failed to
/// bind, and the other test's node answered in its place).
static ONE_NETWORK_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

struct Killed(LocalNode);

impl Drop for Killed {
    fn drop(&mut self) {
        if let Some(pid) = self.0.running_pid() {
            unsafe { libc::kill(pid, libc::SIGKILL) };
            unsafe { libc::waitpid(pid, std::ptr::null_mut(), 0) };
        }
    }
}

/// A client for `node` once it answers (30 s at most; its log tail otherwise).
async fn answering(node: &LocalNode) -> rpc::Client {
    let client = rpc::Client::new(&node.rpc_url()).unwrap();
    let start = Instant::now();
    while client.head().await.is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "node never answered:\n{}",
            waybill_node::localnet::log_tail(node, 30)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    client
}

fn rss_mib(pid: i32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb / 1024)
}

/// `FLOOD` memo transactions from `ACCOUNTS` accounts, in per-account sequence order, as
/// canonical hex (what `waybill_submitRawTransaction` takes).
fn presigned(chain_id: &str) -> Vec<String> {
    let keys: Vec<KeyPair> = (0..ACCOUNTS)
        .map(|i| {
            let mut secret = [7u8; 32];
            secret[..8].copy_from_slice(&(i as u64).to_le_bytes());
            KeyPair::from_secret(secret)
        })
        .collect();
    (0..FLOOD)
        .map(|i| {
            let key = &keys[i % ACCOUNTS];
            Transaction {
                chain_id: chain_id.into(),
                signer: key.public(),
                sequence: (i / ACCOUNTS) as u64,
                payload: Payload::Memo {
                    data: vec![0xab; 64],
                },
            }
            .sign(key)
        })
        .map(|stx| hex::encode(stx.to_bytes()))
        .collect()
}

// About 90 s on a 2-core machine (debug build): the whole flood really goes through RPC,
// signature checks and admission.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_100k_transactions_leaves_memory_bounded_and_the_node_answering() {
    let _alone = ONE_NETWORK_AT_A_TIME.lock().await;
    let dir = tempfile::tempdir().unwrap();
    generate(&TestnetSpec {
        validators: 1,
        out: dir.path().to_path_buf(),
        chain_id: "waybill-flood".into(),
        base_port: None,
        round_timeout_ms: 500,
        observers: 0,
    })
    .unwrap();
    // One client stands in for many here: lift the per-client rate limit so the flood reaches
    // the mempool (the limit itself is tested in bad_input.rs).
    let config = dir.path().join("validator-0").join("config.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    // And a mempool smaller than the flood, so that it fills and refuses.
    let lifted = text
        .replace(
            "requests_per_second_per_client = 5000",
            "requests_per_second_per_client = 1000000",
        )
        .replace("capacity = 200000", "capacity = 50000");
    assert!(
        lifted.contains("capacity = 50000"),
        "the generated config names the mempool capacity"
    );
    assert_ne!(
        text, lifted,
        "the generated config sets a per-client rate limit"
    );
    std::fs::write(&config, lifted).unwrap();
    let node = nodes(dir.path()).unwrap().remove(0);
    let pid = start_node(Path::new(EXE), &node).unwrap();
    let node = Killed(node);
    let url = node.0.rpc_url();
    let client = answering(&node.0).await;

    let txs = presigned("waybill-flood");
    let chunks: Vec<Vec<String>> = txs
        .chunks(FLOOD / SENDERS)
        .map(<[String]>::to_vec)
        .collect();
    let mut senders = Vec::new();
    for chunk in chunks {
        let url = url.clone();
        senders.push(tokio::spawn(async move {
            let http = HttpClientBuilder::default()
                .request_timeout(Duration::from_secs(180))
                .build(&url)
                .unwrap();
            let (mut admitted, mut rejected, mut throttled) = (0usize, 0usize, 0usize);
            let mut reasons = std::collections::BTreeMap::new();
            let started = Instant::now();
            for (n, batch) in chunk.chunks(BATCH).enumerate() {
                if std::env::var_os("WAYBILL_FLOOD_TRACE").is_some() && n % 25 == 0 {
                    eprintln!("batch {n} at {:?}", started.elapsed());
                }
                // The node limits each client's request rate (HTTP 429 past it): a flooding
                // client is slowed down, not served without bound. Back off and send the same
                // batch again, so every transaction still gets an answer.
                let mut tries = 0;
                let resp = loop {
                    let mut b = BatchRequestBuilder::new();
                    for hex in batch {
                        b.insert("waybill_submitRawTransaction", jsonrpsee::rpc_params![hex])
                            .unwrap();
                    }
                    match http.batch_request::<serde_json::Value>(b).await {
                        Ok(resp) => break resp,
                        Err(jsonrpsee::core::ClientError::Transport(e))
                            if e.to_string().contains("429") && tries < 1_000 =>
                        {
                            tries += 1;
                            throttled += 1;
                            tokio::time::sleep(Duration::from_millis(20)).await;
                        }
                        Err(e) => panic!("the node answers every batch: {e}"),
                    }
                };
                admitted += resp.num_successful_calls();
                rejected += resp.num_failed_calls();
                for r in resp.into_iter().filter_map(Result::err) {
                    // The error's data names the reason (`mempool_full`, ...).
                    let reason = r
                        .data()
                        .and_then(|d| serde_json::from_str::<serde_json::Value>(d.get()).ok())
                        .and_then(|d| d["reason"].as_str().map(String::from))
                        .unwrap_or_else(|| r.message().to_string());
                    *reasons
                        .entry(format!("{} {reason}", r.code()))
                        .or_insert(0usize) += 1;
                }
            }
            (admitted, rejected, throttled, reasons)
        }));
    }

    // Sample the node's memory and liveness while the flood runs.
    let mut peak = rss_mib(pid);
    let (mut admitted, mut rejected, mut throttled) = (0, 0, 0);
    let mut reasons = std::collections::BTreeMap::<String, usize>::new();
    while !senders.is_empty() {
        tokio::time::sleep(Duration::from_millis(200)).await;
        peak = peak.max(rss_mib(pid));
        assert!(
            node.0.running_pid().is_some(),
            "node died under the flood:\n{}",
            waybill_node::localnet::log_tail(&node.0, 30)
        );
        let (finished, running): (Vec<_>, Vec<_>) =
            senders.into_iter().partition(|s| s.is_finished());
        senders = running;
        for s in finished {
            let (a, r, t, why) = s.await.unwrap();
            for (k, v) in why {
                *reasons.entry(k).or_default() += v;
            }
            admitted += a;
            rejected += r;
            throttled += t;
        }
    }
    assert_eq!(admitted + rejected, FLOOD, "every request got an answer");
    assert!(admitted > 0, "nothing was admitted");
    assert!(
        reasons.keys().any(|k| k.contains("mempool_full")),
        "a mempool smaller than the flood answered \"full\": {reasons:?}"
    );
    peak = peak.max(rss_mib(pid));
    eprintln!(
        "flood: {admitted} admitted, {rejected} rejected {reasons:?}, {throttled} batches \
         throttled (429), peak RSS {peak} MiB"
    );
    assert!(
        peak <= MAX_RSS_MIB,
        "node RSS reached {peak} MiB under the flood (bound {MAX_RSS_MIB} MiB)"
    );

    // Still answering, and still committing: a fresh transaction after the flood commits, and
    // the head moves past where the flood left it. (An idle node commits nothing, and what
    // the flood left may be stuck behind sequence gaps, so the head alone would not tell; the
    // mempool may be full a while longer, so the transaction is offered until admitted.)
    let h0 = client
        .head()
        .await
        .expect("node answers after the flood")
        .height;
    let key = KeyPair::from_secret([0x5A; 32]);
    let fresh = Transaction {
        chain_id: "waybill-flood".into(),
        signer: key.public(),
        sequence: 0,
        payload: Payload::Memo { data: vec![1] },
    }
    .sign(&key);
    let start = Instant::now();
    while client.submit(fresh.clone()).await.is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the node admitted nothing after the flood"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    while client
        .transaction(fresh.hash())
        .await
        .unwrap()
        .is_none_or(|t| t.height.is_none())
        || client.head().await.unwrap().height <= h0
    {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "node stopped committing after the flood"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The genesis `max_block_txs` binds the leader: twelve transactions admitted in one call, with
/// the genesis allowing three per block, commit in blocks of at most three.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocks_hold_at_most_the_genesis_max_block_txs() {
    let _alone = ONE_NETWORK_AT_A_TIME.lock().await;
    const MAX: usize = 3;
    const TXS: usize = 12;
    let dir = tempfile::tempdir().unwrap();
    let layout = generate(&TestnetSpec {
        validators: 1,
        out: dir.path().to_path_buf(),
        chain_id: "waybill-block-limit".into(),
        base_port: None,
        round_timeout_ms: 500,
        observers: 0,
    })
    .unwrap();
    let text = std::fs::read_to_string(&layout.genesis).unwrap();
    let capped = text.replace("max_block_txs = 4000", &format!("max_block_txs = {MAX}"));
    assert_ne!(
        text, capped,
        "the generated genesis names max_block_txs = 4000"
    );
    // The edit changes the genesis hash: the member signs the new one (the ceremony's rule).
    let mut file = ledger::ceremony::GenesisFile::parse(&capped).unwrap();
    file.drop_stale_signatures();
    let key = ledger::keyfile::read_key_file(&layout.nodes[0].dir.join("consensus.key")).unwrap();
    let hash = file.genesis.hash();
    file.ceremony
        .as_mut()
        .expect("a generated genesis records its ceremony")
        .signatures
        .push(ledger::ceremony::MemberSignature::sign(
            "validator-0",
            hash,
            &key,
        ));
    std::fs::write(&layout.genesis, file.to_toml()).unwrap();
    let node = nodes(dir.path()).unwrap().remove(0);
    start_node(Path::new(EXE), &node).unwrap();
    let node = Killed(node);
    let client = answering(&node.0).await;

    let txs: Vec<String> = (0..TXS)
        .map(|i| {
            let key = KeyPair::from_secret([i as u8 + 1; 32]);
            let tx = Transaction {
                chain_id: "waybill-block-limit".into(),
                signer: key.public(),
                sequence: 0,
                payload: Payload::Memo { data: vec![1] },
            };
            hex::encode(tx.sign(&key).to_bytes())
        })
        .collect();
    let http = HttpClientBuilder::default()
        .build(node.0.rpc_url())
        .unwrap();
    let answers: Vec<serde_json::Value> = http
        .request("waybill_submitRawTransactions", jsonrpsee::rpc_params![txs])
        .await
        .unwrap();
    assert!(
        answers.iter().all(|a| a.get("error").is_none()),
        "all admitted: {answers:?}"
    );

    let start = Instant::now();
    let head = loop {
        let head = client.head().await.unwrap();
        if head.accumulator_size >= TXS as u64 {
            break head;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "only {} of {TXS} committed:\n{}",
            head.accumulator_size,
            waybill_node::localnet::log_tail(&node.0, 30)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let mut sizes = Vec::new();
    for height in 1..=head.height {
        let block = client.block(height).await.unwrap().unwrap();
        sizes.push(block.block.txs.len());
    }
    assert!(sizes.iter().all(|&n| n <= MAX), "block sizes {sizes:?}");
    assert_eq!(sizes.iter().sum::<usize>(), TXS, "block sizes {sizes:?}");
}
