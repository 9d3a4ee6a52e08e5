//! Shared by the multi-process tests: generate a local network, start a real `waybill`
//! process per validator, wait until each answers JSON-RPC, and kill them when a test ends.

use std::path::Path;
use std::time::{Duration, Instant};

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
