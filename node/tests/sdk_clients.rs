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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typescript_sdk_against_a_live_network() {
    let sdk = clients_dir("typescript");
    if !installed("npm") || !sdk.join("node_modules").is_dir() {
        eprintln!(
            "SKIPPED: npm or {}/node_modules is absent (run npm ci there); the TypeScript SDK is not tested",
            sdk.display()
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (nodes, _clients) = start_network(dir.path(), CHAIN, 4).await;
    let net = Network(nodes);
    let out = Command::new("npm")
        .arg("test")
        .current_dir(&sdk)
        .env("WAYBILL_RPC_URL", net.0[0].rpc_url())
        .env("WAYBILL_GENESIS", &net.0[0].config.node.genesis)
        .env(
            "WAYBILL_KEY",
            dir.path().join("clients").join("farm-operator.key"),
        )
        .env("WAYBILL_CHAIN", CHAIN)
        .output()
        .expect("run npm test");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "npm test failed:\n{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("# skipped 0"),
        "the live test did not run:\n{text}"
    );
}
