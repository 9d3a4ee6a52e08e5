//! The client SDKs in `clients/` against a live local network of four real `waybill` processes:
//! each SDK's own test suite runs with the network's RPC URL, genesis file and an operator's key
//! (submit and wait, failed receipts as errors, queries, every proof kind verified offline).
//! An SDK whose toolchain or installed dependencies are absent is skipped with a message;
//! `.ci/test` installs them (npm ci).

use std::path::{Path, PathBuf};
use std::process::Command;

use waybill_node::localnet::LocalNode;

mod common;
use common::{kill9, start_network};

const CHAIN: &str = "waybill-sdk";

struct Network(Vec<LocalNode>);

impl Drop for Network {
    fn drop(&mut self) {
        for n in &self.0 {
            kill9(n);
        }
    }
}

fn clients_dir(sdk: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("clients")
        .join(sdk)
}

/// Whether `program --version` runs.
fn installed(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// Runs `program args` in `sdk`'s directory with the network's coordinates; its output.
fn run_suite(sdk: &Path, net: &Network, dir: &Path, program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .current_dir(sdk)
        .env("WAYBILL_RPC_URL", net.0[0].rpc_url())
        .env("WAYBILL_GENESIS", &net.0[0].config.node.genesis)
        .env("WAYBILL_KEY", dir.join("clients").join("farm-operator.key"))
        .env("WAYBILL_CHAIN", CHAIN)
        .output()
        .unwrap_or_else(|e| panic!("run {program}: {e}"));
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{program} {args:?} failed:\n{text}");
    text
}

/// Both SDKs against one network (one network at a time: the machine running the suite may
/// have two cores).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sdks_against_a_live_network() {
    let typescript = clients_dir("typescript");
    let ts_ready = installed("npm") && typescript.join("node_modules").is_dir();
    if !ts_ready {
        eprintln!(
            "SKIPPED: npm or {}/node_modules is absent (run npm ci there); the TypeScript SDK is not tested",
            typescript.display()
        );
    }
    let python = clients_dir("python");
    let py_ready = Command::new("python3")
        .args(["-c", "import nacl, blake3, websockets.sync.client"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !py_ready {
        eprintln!(
            "SKIPPED: python3 with pynacl, blake3 and websockets is absent; the Python SDK is not tested"
        );
    }
    if !ts_ready && !py_ready {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (nodes, _clients) = start_network(dir.path(), CHAIN, 4).await;
    let net = Network(nodes);
    if ts_ready {
        let text = run_suite(&typescript, &net, dir.path(), "npm", &["test"]);
        assert!(
            text.contains("# skipped 0"),
            "the live TypeScript test did not run:\n{text}"
        );
    }
    if py_ready {
        let text = run_suite(
            &python,
            &net,
            dir.path(),
            "python3",
            &["-m", "unittest", "discover", "-v", "-s", "tests", "-t", "."],
        );
        assert!(
            text.contains("test_submit_wait_query_and_verify_offline (tests.test_live.Live")
                && text.contains("... ok"),
            "the live Python test did not run:\n{text}"
        );
        assert!(
            !text.contains("skipped"),
            "a Python test was skipped:\n{text}"
        );
    }
}
