//! The ledger explorer and `waybill audit` for people, on four real `waybill` processes that
//! have told the supply-chain story:
//! - every node serves the explorer at `/explorer/` (its files from the binary, with a content
//!   security policy that keeps it to its own origin);
//! - `waybill audit fetch` and `verify` name the signing validators and their organizations,
//!   decode the item's properties, give the certified block's time when it can be checked, and
//!   `--json` prints the verdict;
//! - the browser tests (explorer/test/browser.test.mjs) run in Debian's chromium, headless,
//!   through playwright-core: pages load and navigate, a subscription moves the head, a genuine
//!   proof verifies and tampered ones fail naming their field, the pallet's provenance graph
//!   shows its cases, keyboard, contrast and two screen widths. The proofs the browser
//!   downloads are then accepted by `waybill audit verify`. Screenshots stay in
//!   `$CARGO_TARGET_TMPDIR/explorer` (outside the repository).
//!
//! The browser part is skipped with a message where chromium or the explorer's npm packages
//! (`cd explorer && npm ci`) are absent; `.ci/test` installs both.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use serde_json::Value;

mod common;
use common::EXE;
#[path = "common/story.rs"]
mod story;

const CHAIN: &str = "waybill-explorer";

fn waybill(dir: &Path, args: &[&str]) -> Output {
    Command::new(EXE)
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run waybill")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// `waybill audit verify [--json] --genesis GENESIS FILE`.
fn audit_verify(dir: &Path, genesis: &str, file: &Path, json: bool) -> Output {
    let file = file.to_str().unwrap();
    let mut args = vec!["audit", "verify", "--genesis", genesis, file];
    if json {
        args.push("--json");
    }
    waybill(dir, &args)
}

/// A plain HTTP/1.1 GET: (status line and headers, body).
async fn get(addr: &str, path: &str) -> (String, Vec<u8>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut sock = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    sock.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), sock.read_to_end(&mut response))
        .await
        .expect("an answer within 10 s")
        .unwrap();
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("an HTTP head");
    (
        String::from_utf8_lossy(&response[..split]).to_ascii_lowercase(),
        response[split + 4..].to_vec(),
    )
}

/// Waits until the node has certified its head as it is now, so proofs cover the whole story.
async fn wait_certified(client: &rpc::Client) {
    let head = client.head().await.unwrap().height;
    let start = Instant::now();
    while client.status().await.unwrap().certified_height < head {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "height {head} not certified"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The browser, the explorer's installed packages and node, or why the browser tests cannot run.
fn browser_ready(explorer: &Path) -> Result<PathBuf, String> {
    let chromium = std::env::var_os("WAYBILL_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    if !chromium.exists() {
        return Err(format!(
            "{} is absent (apt-get install chromium, or set WAYBILL_CHROMIUM)",
            chromium.display()
        ));
    }
    if !explorer.join("node_modules/playwright-core").is_dir() {
        return Err(format!(
            "{}/node_modules is absent (cd explorer && npm ci)",
            explorer.display()
        ));
    }
    let node = Command::new("node").arg("--version").output();
    if !node.map(|o| o.status.success()).unwrap_or(false) {
        return Err("node is absent".into());
    }
    Ok(chromium)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explorer_pages_and_audit_for_people_on_a_live_network() {
    let dir = tempfile::tempdir().unwrap();
    let mut net = story::Network::start(dir.path(), CHAIN).await;
    let denied = story::farm_to_shelf(&mut net).await;
    let failed_tx = denied.receipt.tx_hash.to_string();
    let genesis = net.nodes[0].config.node.genesis.clone();
    let genesis_arg = genesis.to_str().unwrap().to_string();
    let rpc_url = net.nodes[0].rpc_url();
    let rpc_addr = net.nodes[0].config.rpc.listen.clone();
    wait_certified(&net.clients[0]).await;

    // The page is served from the binary, kept to its own origin.
    let (head, body) = get(&rpc_addr, "/explorer/").await;
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(head.contains("content-security-policy: default-src 'none'; script-src 'self'"));
    assert!(
        body == include_bytes!("../../explorer/dist/index.html"),
        "index.html is not explorer/dist's"
    );
    let (head, body) = get(&rpc_addr, "/explorer/app.js").await;
    assert!(head.contains("content-type: text/javascript"), "{head}");
    assert!(
        body == include_bytes!("../../explorer/dist/app.js"),
        "app.js is not explorer/dist's"
    );
    let (head, _) = get(&rpc_addr, "/explorer/no-such-file").await;
    assert!(head.starts_with("http/1.1 404"), "{head}");
    let (head, _) = get(&rpc_addr, "/explorer").await;
    assert!(head.contains("location: /explorer/"), "{head}");

    // What the page lists beside the RPC's own: validators' organizations, all organizations.
    let validators = net.clients[0].validators().await.unwrap();
    let orgs: Vec<_> = validators
        .iter()
        .map(|v| v.organization.as_deref())
        .collect();
    assert_eq!(
        orgs,
        [
            Some("farm"),
            Some("processor"),
            Some("shipper"),
            Some("retailer")
        ]
    );
    let listed: Vec<String> = net.clients[0]
        .organizations()
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.id)
        .collect();
    assert_eq!(listed, ["farm", "processor", "retailer", "shipper"]);

    // `waybill audit` for people: signers by name and organization, the block's time, the
    // item's properties decoded; `--json` is the same verdict for machines.
    let out = waybill(
        dir.path(),
        &[
            "audit",
            "fetch",
            "item",
            "lot-1",
            "--rpc",
            &rpc_url,
            "--genesis",
            &genesis_arg,
        ],
    );
    let said = text(&out);
    assert!(out.status.success(), "{said}");
    for expected in [
        "✓ item_state proof VERIFIED",
        "Item \"lot-1\" (apple-lot) is consumed: owned by farm, held by processor; 4 events",
        "Became case-1, case-2.",
        "Property variety = \"gala\"",
        "Property weight_kg = 500",
        "block time 20",
        "Green Valley Farm (farm)",
        "proof verified: all",
    ] {
        assert!(said.contains(expected), "no {expected:?} in:\n{said}");
    }
    let out = waybill(
        dir.path(),
        &[
            "audit",
            "fetch",
            "tx",
            &failed_tx,
            "--rpc",
            &rpc_url,
            "--genesis",
            &genesis_arg,
            "--json",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    let verdict: Value = serde_json::from_slice(&out.stdout).expect("--json prints one object");
    assert_eq!(verdict["verified"], true);
    assert_eq!(verdict["kind"], "transaction");
    assert!(verdict["proven"][0]
        .as_str()
        .unwrap()
        .contains("FAILED (not_custodian"));
    let cert = &verdict["certificates"][0];
    assert!(cert["block_time_ms"].as_u64().unwrap() > 0, "{verdict}");
    assert!(cert["power"].as_u64().unwrap() >= cert["quorum"].as_u64().unwrap());
    let signers = cert["signers"].as_array().unwrap();
    assert!(signers.len() >= 3);
    assert!(signers.iter().all(|s| s["organization_name"].is_string()));
    // A tampered copy: the JSON verdict names the check that broke, and the status is non-zero.
    let fetched = dir
        .path()
        .join(format!("tx-{}.proof.json", &failed_tx[..16]));
    let mut proof: Value =
        serde_json::from_str(&std::fs::read_to_string(&fetched).unwrap()).unwrap();
    let path0 = proof["inclusion_proof"]["path"][0].as_str().unwrap();
    let flipped = format!(
        "{}{}",
        &path0[..63],
        if path0.ends_with('0') { '1' } else { '0' }
    );
    proof["inclusion_proof"]["path"][0] = Value::String(flipped);
    let tampered = dir.path().join("tampered.json");
    std::fs::write(&tampered, proof.to_string()).unwrap();
    let out = audit_verify(dir.path(), &genesis_arg, &tampered, true);
    assert!(!out.status.success(), "{}", text(&out));
    let verdict: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(verdict["verified"], false);
    assert_eq!(verdict["failures"][0]["check"], "inclusion_proof.path");
    assert!(verdict["proven"].as_array().unwrap().is_empty());
    // The text names it too, for a person.
    let out = audit_verify(dir.path(), &genesis_arg, &tampered, false);
    assert!(
        text(&out).contains("✗ inclusion_proof.path broke"),
        "{}",
        text(&out)
    );

    // The browser.
    let explorer = Path::new(env!("CARGO_MANIFEST_DIR")).join("../explorer");
    let chromium = match browser_ready(&explorer) {
        Ok(c) => c,
        Err(why) => {
            eprintln!("SKIPPED: the explorer's browser tests: {why}");
            return;
        }
    };
    // A memo every 300 ms while the browser runs: an idle network commits nothing, and the
    // page must see its head move by a subscription.
    let ticking = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let ticker = {
        let (ticking, client) = (ticking.clone(), rpc::Client::new(&rpc_url).unwrap());
        tokio::spawn(async move {
            let key = ledger::KeyPair::from_secret([0x7E; 32]);
            let mut sequence = 0;
            while ticking.load(std::sync::atomic::Ordering::Relaxed) {
                let tx = common::memo(CHAIN, &key, sequence, "tick");
                if client.submit_and_wait(tx, 5_000).await.is_ok() {
                    sequence += 1;
                }
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
        })
    };
    let artifacts = Path::new(env!("CARGO_TARGET_TMPDIR")).join("explorer");
    let _ = std::fs::remove_dir_all(&artifacts);
    std::fs::create_dir_all(&artifacts).unwrap();
    let out = Command::new("node")
        .args(["--test", "test/browser.test.mjs"])
        .current_dir(&explorer)
        .env(
            "WAYBILL_EXPLORER_URL",
            waybill_node::explorer::url(&rpc_url),
        )
        .env("WAYBILL_GENESIS", &genesis)
        .env("WAYBILL_FAILED_TX", &failed_tx)
        .env("WAYBILL_ARTIFACTS", &artifacts)
        .env("WAYBILL_CHROMIUM", &chromium)
        .output()
        .expect("run node --test");
    ticking.store(false, std::sync::atomic::Ordering::Relaxed);
    ticker.await.unwrap();
    let said = text(&out);
    eprintln!("{said}\nscreenshots: {}", artifacts.display());
    assert!(out.status.success(), "browser tests failed:\n{said}");
    assert!(
        said.contains("# pass 5") && said.contains("# skipped 0"),
        "the browser tests did not all run:\n{said}"
    );
    // The proofs the browser offered for download are what `waybill audit verify` accepts.
    for file in ["history-pallet-1.proof.json", "tx-failed.proof.json"] {
        let out = audit_verify(dir.path(), &genesis_arg, &artifacts.join(file), false);
        assert!(out.status.success(), "{file}: {}", text(&out));
    }
}
