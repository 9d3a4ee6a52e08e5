//! What an operator meets around a running node, with real processes: the version everywhere,
//! health and readiness routes, peers by name, plain-text (or JSON) logs with a progress line,
//! a clear refusal to reset or start a second time a node that is running, no panic when
//! output goes to a closed pipe, and proof files never silently overwritten.

use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use waybill_node::localnet::{log_tail, nodes, start_node, LocalNode};
use waybill_node::testnet::{generate, TestnetSpec};

mod common;
use common::{kill9, scrape_metrics, wait_answering, EXE};

fn waybill(args: &[&str]) -> std::process::Output {
    Command::new(EXE).args(args).output().unwrap()
}

/// The version line names the commit (12 hex digits, maybe `-dirty`, or `unknown` outside git).
fn assert_long_version(v: &str) {
    let commit = v
        .strip_prefix(waybill_node::version::VERSION)
        .and_then(|rest| rest.strip_prefix(" (commit "))
        .and_then(|rest| rest.strip_suffix(')'))
        .unwrap_or_else(|| panic!("not `VERSION (commit C)`: {v:?}"));
    let hex = commit.trim_end_matches("-dirty");
    assert!(
        commit == "unknown" || (hex.len() == 12 && hex.chars().all(|c| c.is_ascii_hexdigit())),
        "{v:?}"
    );
}

#[test]
fn version_names_the_commit() {
    let out = waybill(&["--version"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let v = text.trim().strip_prefix("waybill ").unwrap();
    assert_long_version(v);
    assert_eq!(v, waybill_node::version::LONG);
}

/// A pipe whose reading end is already closed: every write to it fails with EPIPE.
fn closed_pipe() -> Stdio {
    let mut fds = [0; 2];
    // SAFETY: pipe(2) fills two descriptors that we then own.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    // SAFETY: fds[0] and fds[1] are open and owned by nobody else.
    drop(unsafe { OwnedFd::from_raw_fd(fds[0]) });
    Stdio::from(unsafe { OwnedFd::from_raw_fd(fds[1]) })
}

#[test]
fn a_closed_pipe_ends_output_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let genesis = dir.path().join("genesis.toml");
    generate(&TestnetSpec {
        validators: 1,
        out: dir.path().join("net"),
        chain_id: "pipe".into(),
        base_port: None,
        round_timeout_ms: 500,
        observers: 0,
    })
    .unwrap();
    std::fs::copy(dir.path().join("net/genesis.toml"), &genesis).unwrap();
    let genesis = genesis.to_str().unwrap();
    // Commands with a lot of output, a little, and clap's own.
    for args in [
        vec!["config", "reference"],
        vec!["genesis", "validate", genesis],
        vec!["keys", "show", "/nonexistent"],
        vec!["--help"],
        vec!["tx", "--help"],
    ] {
        let out = Command::new(EXE)
            .args(&args)
            .stdout(closed_pipe())
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_ne!(out.status.code(), Some(101), "{args:?}: {stderr}");
        // Either done before noticing, or ended by SIGPIPE as `cat` would be; never a panic.
        assert!(
            out.status.success() || out.status.signal() == Some(libc::SIGPIPE) || args[1] == "show",
            "{args:?}: {:?} {stderr}",
            out.status
        );
    }
}

#[test]
fn audit_fetch_never_overwrites_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("tx.proof.json");
    std::fs::write(&out, "an earlier proof").unwrap();
    let hash = "00".repeat(32);
    // Nothing listens on port 1: only the existing file can stop the first call before the node.
    let args = |force: bool| {
        let mut a = vec![
            "audit".to_string(),
            "fetch".into(),
            "tx".into(),
            hash.clone(),
            "--rpc".into(),
            "http://127.0.0.1:1".into(),
            "--out".into(),
            out.display().to_string(),
        ];
        if force {
            a.push("--force".into());
        }
        a
    };
    let refused = Command::new(EXE).args(args(false)).output().unwrap();
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success());
    assert!(err.contains("exists") && err.contains("--force"), "{err}");
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "an earlier proof");
    // With --force it goes on to ask the node (which is not there).
    let forced = Command::new(EXE).args(args(true)).output().unwrap();
    let err = String::from_utf8_lossy(&forced.stderr);
    assert!(!forced.status.success());
    assert!(
        err.contains("127.0.0.1:1") && !err.contains("exists"),
        "{err}"
    );
}

#[test]
fn config_errors_name_the_environment_variable() {
    let dir = tempfile::tempdir().unwrap();
    generate(&TestnetSpec {
        validators: 1,
        out: dir.path().to_path_buf(),
        chain_id: "config-env".into(),
        base_port: None,
        round_timeout_ms: 500,
        observers: 0,
    })
    .unwrap();
    let config = dir.path().join("validator-0/config.toml");
    let out = Command::new(EXE)
        .args(["config", "check", "--config"])
        .arg(&config)
        .env("WAYBILL_RPC_LISTEN", "localhost")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("rpc.listen") && err.contains("environment variable WAYBILL_RPC_LISTEN"),
        "{err}"
    );
    let out = Command::new(EXE)
        .args(["config", "check", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// An HTTP GET on `addr`: status code and body.
async fn get(addr: &str, path: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut sock = tokio::net::TcpStream::connect(addr).await.unwrap();
    let req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    sock.write_all(req.as_bytes()).await.unwrap();
    let mut response = String::new();
    tokio::time::timeout(Duration::from_secs(10), sock.read_to_string(&mut response))
        .await
        .expect("an answer within 10 s")
        .unwrap();
    let code = response[9..12].parse().unwrap();
    let body = response.split_once("\r\n\r\n").unwrap().1.to_string();
    (code, body)
}

/// Until `f` holds (30 s at most).
async fn eventually<F: std::future::Future<Output = bool>>(what: &str, mut f: impl FnMut() -> F) {
    let start = Instant::now();
    while !f().await {
        assert!(start.elapsed() < Duration::from_secs(30), "never: {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The nodes, and the processes this test spawned itself (reaped when it ends).
struct Net(Vec<LocalNode>, Vec<std::process::Child>);

impl Drop for Net {
    fn drop(&mut self) {
        for n in &self.0 {
            kill9(n);
        }
        for c in &mut self.1 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_network_as_its_operators_see_it() {
    let dir = tempfile::tempdir().unwrap();
    generate(&TestnetSpec {
        validators: 4,
        out: dir.path().to_path_buf(),
        chain_id: "operator".into(),
        base_port: None,
        round_timeout_ms: 500,
        observers: 0,
    })
    .unwrap();
    let mut all = nodes(dir.path()).unwrap();
    // A progress line every second; the last node logs JSON, chosen on its command line.
    for n in &mut all {
        n.config.log.progress_secs = 1;
        std::fs::write(&n.config_path, n.config.to_toml()).unwrap();
    }
    let mut net = Net(all, Vec::new());
    for n in &net.0[..3] {
        start_node(Path::new(EXE), n).unwrap();
    }
    let json_node = net.0[3].clone();
    let log = std::fs::File::create(json_node.log_file()).unwrap();
    let child = Command::new(EXE)
        .args(["run", "--log-format", "json", "--config"])
        .arg(&json_node.config_path)
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    std::fs::write(json_node.pid_file(), format!("{}\n", child.id())).unwrap();
    net.1.push(child);
    let mut clients = Vec::new();
    for n in &net.0 {
        clients.push(wait_answering(n).await);
    }
    let n0 = &net.0[0];

    // Status: the version, and the peers by their validator names.
    eventually("validator-0 sees its three peers", || async {
        clients[0].status().await.is_ok_and(|s| s.peers.len() == 3)
    })
    .await;
    let s = clients[0].status().await.unwrap();
    assert_eq!(s.version, waybill_node::version::LONG);
    assert_long_version(&s.version);
    let mut names = s.peer_names.clone();
    names.sort();
    assert_eq!(names, ["validator-1", "validator-2", "validator-3"]);

    // Metrics: which build runs.
    let metrics = scrape_metrics(n0).await;
    let build = format!(
        "waybill_build_info{{version=\"{}\",commit=\"{}\"}}",
        waybill_node::version::VERSION,
        waybill_node::version::COMMIT
    );
    assert_eq!(metrics.get(&build), Some(&1.0), "{:?}", metrics.keys());

    // Health and readiness, on the JSON-RPC port and the metrics port.
    for addr in [&n0.config.rpc.listen, &n0.config.metrics.listen] {
        let (code, body) = get(addr, "/health").await;
        assert_eq!(code, 200, "{body}");
        let h: rpc::Health = serde_json::from_str(&body).unwrap();
        assert_eq!(h.version, waybill_node::version::LONG);
        assert_eq!(h.quorum_power, 3);
        eventually("ready", || async { get(addr, "/ready").await.0 == 200 }).await;
    }
    // JSON-RPC still answers on the same port.
    clients[0].head().await.unwrap();

    // Two validators down: the others are alive but not ready (no quorum).
    kill9(&net.0[2]);
    kill9(&net.0[3]);
    eventually("not ready without a quorum", || async {
        get(&n0.config.rpc.listen, "/ready").await.0 == 503
    })
    .await;
    let (code, body) = get(&n0.config.rpc.listen, "/health").await;
    assert_eq!(code, 200);
    let h: rpc::Health = serde_json::from_str(&body).unwrap();
    assert!(!h.ready && h.reasons[0].contains("quorum needs 3"), "{h:?}");

    // Resetting, or starting a second time, a node that is running: refused, naming the pid.
    let pid = n0.running_pid().unwrap();
    for args in [["reset", "--config"], ["run", "--config"]] {
        let out = Command::new(EXE)
            .args(args)
            .arg(&n0.config_path)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?}");
        assert!(
            err.contains(&format!("is running (pid {pid})")) && !err.contains("LOCK"),
            "{args:?}: {err}"
        );
    }
    assert!(
        n0.running_pid().is_some(),
        "the refused commands left the node alone"
    );

    // Logs: plain text with progress lines naming peers; the JSON node's lines are all JSON.
    eventually("a progress line", || async {
        log_tail(n0, 200).contains(" progress ")
    })
    .await;
    let text = std::fs::read_to_string(n0.log_file()).unwrap();
    assert!(!text.contains('\u{1b}'), "colour codes in a log file");
    let progress = text.lines().find(|l| l.contains(" progress ")).unwrap();
    for field in ["height=", "txs_per_sec=", "peers=", "round="] {
        assert!(progress.contains(field), "{progress}");
    }
    assert!(
        text.lines()
            .any(|l| l.contains("peer connected") && l.contains("peer=\"validator-")),
        "no peer named in:\n{text}"
    );
    let json_log = std::fs::read_to_string(json_node.log_file()).unwrap();
    let mut lines = 0;
    for line in json_log.lines() {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        assert!(v.get("level").is_some(), "{line}");
        lines += 1;
    }
    assert!(lines > 3, "{json_log}");
}
