//! A local N-validator network of real `waybill run` processes under one directory:
//! `up` generates it (first time), starts every node in the background with its log in its own
//! directory and a pid file, and returns only once every validator answers JSON-RPC and a smoke
//! transaction has committed on all of them. `status`, `logs` and `down` work from the pid files.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::config::NodeConfig;
use crate::testnet::{generate, TestnetSpec};

#[derive(Debug, thiserror::Error)]
pub enum LocalnetError {
    #[error("{0}")]
    Testnet(#[from] crate::testnet::TestnetError),
    #[error("{path}: {reason}")]
    Io { path: String, reason: String },
    #[error("{dir} holds no local network; run `waybill localnet up` first")]
    Missing { dir: String },
    #[error("config {path}: {reason}")]
    Config { path: String, reason: String },
    #[error("{name} exited during start-up (see {log}):\n{tail}")]
    NodeDied {
        name: String,
        log: String,
        tail: String,
    },
    #[error("not ready after {secs} s: {what}")]
    NotReady { secs: u64, what: String },
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> LocalnetError + '_ {
    move |e| LocalnetError::Io {
        path: path.display().to_string(),
        reason: e.to_string(),
    }
}

/// One node of a local network, as found on disk.
#[derive(Clone, Debug)]
pub struct LocalNode {
    pub name: String,
    pub dir: PathBuf,
    pub config_path: PathBuf,
    pub config: NodeConfig,
}

impl LocalNode {
    pub fn pid_file(&self) -> PathBuf {
        self.dir.join("node.pid")
    }
    pub fn log_file(&self) -> PathBuf {
        self.dir.join("node.log")
    }
    pub fn rpc_url(&self) -> String {
        format!("http://{}", self.config.rpc.listen)
    }
    /// The pid of the running process, if its pid file names a live process.
    pub fn running_pid(&self) -> Option<i32> {
        let pid: i32 = fs::read_to_string(self.pid_file())
            .ok()?
            .trim()
            .parse()
            .ok()?;
        // Signal 0 checks existence without touching the process.
        (unsafe { libc::kill(pid, 0) } == 0 && !is_zombie(pid)).then_some(pid)
    }
}

fn is_zombie(pid: i32) -> bool {
    fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| {
            s.rsplit_once(')')
                .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z'))
        })
        .unwrap_or(false)
}

/// The nodes under `dir` (each `validator-*/config.toml`), in name order.
pub fn nodes(dir: &Path) -> Result<Vec<LocalNode>, LocalnetError> {
    if !dir.join("genesis.toml").exists() {
        return Err(LocalnetError::Missing {
            dir: dir.display().to_string(),
        });
    }
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).map_err(io(dir))? {
        let entry = entry.map_err(io(dir))?;
        let config_path = entry.path().join("config.toml");
        if !config_path.exists() {
            continue;
        }
        let config =
            NodeConfig::load_with_env(&config_path, &[]).map_err(|e| LocalnetError::Config {
                path: config_path.display().to_string(),
                reason: e.to_string(),
            })?;
        out.push(LocalNode {
            name: config.node.name.clone(),
            dir: entry.path(),
            config_path,
            config,
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// Generates the network if `dir` has none yet. Returns whether it did.
pub fn ensure_generated(dir: &Path, validators: usize) -> Result<bool, LocalnetError> {
    if dir.join("genesis.toml").exists() {
        return Ok(false);
    }
    generate(&TestnetSpec {
        validators,
        out: dir.to_path_buf(),
        chain_id: "waybill-local".into(),
        base_port: None,
        round_timeout_ms: 1000,
        observers: 0,
    })?;
    Ok(true)
}

/// Starts `node` in the background (its own session, so the caller's Ctrl-C does not reach it),
/// unless it is already running. Returns its pid.
pub fn start_node(exe: &Path, node: &LocalNode) -> Result<i32, LocalnetError> {
    if let Some(pid) = node.running_pid() {
        return Ok(pid);
    }
    let log_path = node.log_file();
    let log = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .map_err(io(&log_path))?;
    let err = log.try_clone().map_err(io(&log_path))?;
    let mut cmd = Command::new(exe);
    cmd.arg("run")
        .arg("--config")
        .arg(&node.config_path)
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(err);
    use std::os::unix::process::CommandExt;
    // SAFETY: setsid is async-signal-safe and touches nothing of the parent.
    unsafe {
        cmd.pre_exec(|| {
            libc::setsid();
            Ok(())
        });
    }
    let child = cmd.spawn().map_err(io(exe))?;
    let pid = child.id() as i32;
    let pid_path = node.pid_file();
    fs::write(&pid_path, format!("{pid}\n")).map_err(io(&pid_path))?;
    Ok(pid)
}

/// Sends SIGTERM, waits up to `grace` for a clean exit, then SIGKILL. Removes the pid file.
pub fn stop_node(node: &LocalNode, grace: Duration) -> bool {
    let Some(pid) = node.running_pid() else {
        let _ = fs::remove_file(node.pid_file());
        return false;
    };
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let start = Instant::now();
    while start.elapsed() < grace {
        if node.running_pid().is_none() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    if node.running_pid().is_some() {
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
    let _ = fs::remove_file(node.pid_file());
    true
}

/// The last `lines` lines of a node's log.
pub fn log_tail(node: &LocalNode, lines: usize) -> String {
    let text = fs::read_to_string(node.log_file()).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Fails with the node's log tail if it is not running.
pub fn check_alive(node: &LocalNode) -> Result<(), LocalnetError> {
    if node.running_pid().is_some() {
        return Ok(());
    }
    Err(LocalnetError::NodeDied {
        name: node.name.clone(),
        log: node.log_file().display().to_string(),
        tail: log_tail(node, 20),
    })
}
