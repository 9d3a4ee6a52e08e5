//! An observer for real: four validator processes and one observer process on 127.0.0.1, the
//! observer named in the genesis (`waybill testnet --observers 1`). Its key is no validator's,
//! so it follows the chain by certified catch-up and never votes.
//!
//! - A supply-chain story submitted to the observer (with `waybill tx --rpc OBSERVER`) commits:
//!   the observer forwards to the validators and answers with the receipt it executed itself.
//! - Every method of `clients/openrpc.json` is called on the observer (the test fails if the
//!   document names one it does not call), and what it answers agrees with a validator's.
//! - Proofs fetched from the observer (`waybill audit fetch ... --rpc OBSERVER`) verify with
//!   `waybill audit verify` in a directory holding only the genesis file.
//! - With one validator killed, the observer still follows and forwards.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use jsonrpsee::core::client::{ClientT, Subscription, SubscriptionClientT};
use jsonrpsee::core::params::ArrayParams;
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use ledger::keyfile::read_key_file;
use ledger::tx::{Payload, Transaction};
use ledger::KeyPair;
use serde_json::{json, Value};
use waybill_node::localnet::{nodes, start_node, LocalNode};
use waybill_node::testnet::{generate, TestnetSpec};

mod common;
use common::{kill9, wait_answering, waybill, EXE};

const CHAIN: &str = "observer-test";

struct Net {
    dir: PathBuf,
    nodes: Vec<LocalNode>,
}

impl Drop for Net {
    fn drop(&mut self) {
        for n in &self.nodes {
            kill9(n);
        }
    }
}

impl Net {
    fn node(&self, name: &str) -> &LocalNode {
        self.nodes
            .iter()
            .find(|n| n.name == name)
            .unwrap_or_else(|| panic!("no node {name}"))
    }

    fn genesis(&self) -> PathBuf {
        self.dir.join("genesis.toml")
    }

    fn key(&self, org: &str) -> PathBuf {
        self.dir.join("clients").join(format!("{org}-operator.key"))
    }
}

fn http(url: &str) -> HttpClient {
    HttpClientBuilder::default()
        .request_timeout(Duration::from_secs(60))
        .build(url)
        .unwrap()
}

async fn call(c: &HttpClient, method: &str, params: &[Value]) -> Value {
    let mut p = ArrayParams::new();
    for v in params {
        p.insert(v).unwrap();
    }
    c.request::<Value, _>(method, p)
        .await
        .unwrap_or_else(|e| panic!("{method}{params:?}: {e}"))
}

/// Waits until `c` has committed at least `height` (60 s at most).
async fn wait_height(c: &HttpClient, height: u64, what: &str) {
    let start = Instant::now();
    loop {
        let head = call(c, "waybill_head", &[]).await;
        if head["height"].as_u64().unwrap_or(0) >= height {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "{what} did not reach height {height}: {head}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `waybill tx` against the observer: submits, waits, and returns the tx hash and height.
fn tx_via(rpc: &str, key: &Path, args: &[&str]) -> (String, u64) {
    let key = key.display().to_string();
    let mut all = vec!["tx", "--rpc", rpc, "--key", &key, "--wait-ms", "30000"];
    all.extend_from_slice(args);
    let out = waybill(&all);
    assert!(out.contains("result    success"), "{out}");
    let hash = out
        .lines()
        .find_map(|l| l.strip_prefix("tx_hash   "))
        .unwrap_or_else(|| panic!("no tx_hash in {out}"))
        .trim()
        .to_string();
    let height = out
        .split("committed at height ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .and_then(|h| {
            h.trim_end_matches(|c: char| !c.is_ascii_digit())
                .parse()
                .ok()
        })
        .unwrap_or_else(|| panic!("no height in {out}"));
    (hash, height)
}

fn memo(key: &KeyPair, sequence: u64, text: &str) -> ledger::SignedTransaction {
    Transaction {
        chain_id: CHAIN.into(),
        signer: key.public(),
        sequence,
        payload: Payload::Memo {
            data: text.as_bytes().to_vec(),
        },
    }
    .sign(key)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_observer_follows_serves_every_method_and_forwards() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("net");
    generate(&TestnetSpec {
        validators: 4,
        out: dir.clone(),
        chain_id: CHAIN.into(),
        base_port: None,
        round_timeout_ms: 500,
        observers: 1,
    })
    .unwrap();
    let net = Net {
        dir: dir.clone(),
        nodes: nodes(&dir).unwrap(),
    };
    assert_eq!(net.nodes.len(), 5);
    for n in &net.nodes {
        start_node(Path::new(EXE), n).unwrap();
    }
    for n in &net.nodes {
        wait_answering(n).await;
    }
    let obs_node = net.node("observer-0");
    let rpc = obs_node.rpc_url();
    let obs = http(&rpc);
    let val = http(&net.node("validator-0").rpc_url());

    // It says what it is, and follows.
    let status = call(&obs, "waybill_status", &[]).await;
    assert_eq!(status["observer"], true, "{status}");
    assert_eq!(call(&val, "waybill_status", &[]).await["observer"], false);
    // An idle network commits nothing: a memo through a validator gives it a block to follow.
    let farm = net.key("farm");
    let val_rpc = net.node("validator-0").rpc_url();
    let (_, first) = tx_via(&val_rpc, &farm, &["memo", "--text", "hello"]);
    wait_height(&obs, first, "the observer").await;

    // The story, every transaction submitted to the observer.
    let processor = net.key("processor");
    let (commission, h1) = tx_via(
        &rpc,
        &farm,
        &[
            "commission",
            "--item",
            "pallet-1",
            "--type",
            "pallet",
            "--property",
            "lot=\"L-42\"",
        ],
    );
    tx_via(
        &rpc,
        &farm,
        &[
            "propose-transfer",
            "--item",
            "pallet-1",
            "--kind",
            "custody",
            "--to",
            "processor",
        ],
    );
    let (_, story_end) = tx_via(
        &rpc,
        &processor,
        &["accept-transfer", "--item", "pallet-1", "--kind", "custody"],
    );
    assert!(story_end >= h1);
    wait_height(&val, story_end, "validator-0").await;
    // The validators committed what the observer forwarded.
    let on_validator = call(&val, "waybill_getTransaction", &[json!(commission)]).await;
    assert!(on_validator["receipt"].is_object(), "{on_validator}");

    let mut called = BTreeSet::new();
    walk_reads(&obs, &val, &commission, story_end, &mut called).await;
    walk_state_sync(&obs, &val, &mut called).await;
    walk_submissions(&net, &obs, &mut called).await;
    walk_epcis(&net, &rpc, &obs, &val, &mut called).await;
    walk_subscriptions(&obs_node.config.rpc.listen, &obs, &net, &mut called).await;
    walk_proofs(&net, &rpc, &commission, &mut called);

    let doc: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../clients/openrpc.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let documented: BTreeSet<String> = doc["methods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap().to_string())
        .collect();
    let missed: Vec<&String> = documented.difference(&called).collect();
    assert!(
        missed.is_empty(),
        "methods not called on the observer: {missed:?}"
    );

    // The observer never voted: its core never left round 0.
    assert_eq!(call(&obs, "waybill_status", &[]).await["round"], 0);

    // One validator down (f = 1): the observer still follows and forwards.
    kill9(net.node("validator-0"));
    let (_, later) = tx_via(
        &rpc,
        &processor,
        &["observe", "--item", "pallet-1", "--location", "Dock 4"],
    );
    assert!(later > story_end);
    let log = std::fs::read_to_string(obs_node.log_file()).unwrap_or_default();
    assert!(!log.contains("panicked"), "{log}");
}

/// What a node syncing state fetches: the observer serves a certified base and the state under
/// its root exactly as a validator does.
async fn walk_state_sync(obs: &HttpClient, val: &HttpClient, called: &mut BTreeSet<String>) {
    let start = Instant::now();
    let base = loop {
        let base = call(obs, "waybill_getSnapshotBase", &[]).await;
        if !base.is_null() {
            break base;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the observer has certified nothing"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let checkpoint = &base["certificate"]["checkpoint"];
    let height = checkpoint["height"].clone();
    let on_validator = call(
        val,
        "waybill_getSnapshotBase",
        std::slice::from_ref(&height),
    )
    .await;
    // (Each node keeps the first quorum of signatures it saw: the signers may differ.)
    for part in ["block", "frontier"] {
        assert_eq!(base[part], on_validator[part], "{part} of height {height}");
    }
    assert_eq!(checkpoint, &on_validator["certificate"]["checkpoint"]);
    let root = checkpoint["state_root"].clone();
    let chunk = call(obs, "waybill_getStateChunk", std::slice::from_ref(&root)).await;
    assert!(
        chunk["leaves"].is_array() || chunk["split"].is_object(),
        "{chunk}"
    );
    assert_eq!(chunk, call(val, "waybill_getStateChunk", &[root]).await);
    for m in ["waybill_getSnapshotBase", "waybill_getStateChunk"] {
        called.insert(m.to_string());
    }
}

/// The read methods: each answered by the observer as by a validator.
async fn walk_reads(
    obs: &HttpClient,
    val: &HttpClient,
    tx_hash: &str,
    height: u64,
    called: &mut BTreeSet<String>,
) {
    let block = call(obs, "waybill_getBlockByHeight", &[json!(height)]).await;
    let block_hash = call(obs, "waybill_head", &[]).await;
    assert!(block_hash["height"].as_u64().unwrap() >= height);
    let tx = call(obs, "waybill_getTransaction", &[json!(tx_hash)]).await;
    let signer = tx["tx"]["tx"]["signer"].clone();
    assert!(signer.is_string(), "{tx}");
    let hash_of_height = call(obs, "waybill_getBlockTxHashes", &[json!(height)]).await;
    assert!(hash_of_height.is_object(), "{hash_of_height}");
    let by_hash = {
        let h = hash_of_height["block_hash"]
            .as_str()
            .or_else(|| hash_of_height["hash"].as_str())
            .map(str::to_string);
        match h {
            Some(h) => json!(h),
            None => panic!("no block hash in {hash_of_height}"),
        }
    };
    // Stable answers: the same on the observer and on a validator.
    let same: Vec<(&str, Vec<Value>)> = vec![
        ("waybill_getBlockByHeight", vec![json!(height)]),
        ("waybill_getBlockByHash", vec![by_hash]),
        ("waybill_getBlockTxHashes", vec![json!(height)]),
        ("waybill_getTransaction", vec![json!(tx_hash)]),
        ("waybill_getStateRoot", vec![json!(height)]),
        ("waybill_getItem", vec![json!("pallet-1")]),
        ("waybill_getItemHistory", vec![json!("pallet-1")]),
        ("waybill_getProvenance", vec![json!("pallet-1")]),
        ("waybill_getOrganization", vec![json!("farm")]),
        ("waybill_getOrganizationEvents", vec![json!("farm")]),
        ("waybill_getAccount", vec![signer.clone()]),
        ("waybill_nextSequence", vec![signer.clone()]),
        ("waybill_validators", vec![]),
        ("waybill_organizations", vec![]),
        ("waybill_getEpochChanges", vec![]),
    ];
    for (method, params) in same {
        let mut ours = call(obs, method, &params).await;
        let mut theirs = call(val, method, &params).await;
        if method == "waybill_getItem" {
            // The height the answer was read at: each node's own head at that moment.
            for v in [&mut ours, &mut theirs] {
                v.as_object_mut().unwrap().remove("height");
            }
        }
        assert!(
            !ours.is_null(),
            "{method}{params:?} is null on the observer"
        );
        assert_eq!(ours, theirs, "{method}{params:?}");
        called.insert(method.to_string());
    }
    assert!(block.is_object(), "{block}");
    // Answers that are the node's own.
    let head = call(obs, "waybill_head", &[]).await;
    assert_eq!(head["chain_id"], CHAIN, "{head}");
    let status = call(obs, "waybill_status", &[]).await;
    assert_eq!(status["name"], "observer-0", "{status}");
    assert!(
        status["peer_names"]
            .as_array()
            .is_some_and(|p| p.iter().any(|n| n == "validator-1")),
        "{status}"
    );
    let discover = call(obs, "rpc.discover", &[]).await;
    assert!(discover["methods"].is_array(), "{discover}");
    for m in ["waybill_head", "waybill_status", "rpc.discover"] {
        called.insert(m.to_string());
    }
}

/// The three ways to submit, each through the observer to the validators.
async fn walk_submissions(net: &Net, obs: &HttpClient, called: &mut BTreeSet<String>) {
    let key = read_key_file(&net.key("shipper")).unwrap();
    let signer = json!(key.public());
    let next = call(obs, "waybill_nextSequence", std::slice::from_ref(&signer)).await;
    let mut seq = next.as_u64().unwrap();
    let one = memo(&key, seq, "via the observer, whole");
    let r = call(
        obs,
        "waybill_submitTransaction",
        &[json!(one), json!(30_000)],
    )
    .await;
    assert!(r["receipt"].is_object(), "{r}");
    seq += 1;
    let raw = memo(&key, seq, "via the observer, raw");
    let r = call(
        obs,
        "waybill_submitRawTransaction",
        &[json!(hex(&raw.to_bytes())), json!(30_000)],
    )
    .await;
    assert!(r["receipt"].is_object(), "{r}");
    seq += 1;
    let batch = [memo(&key, seq, "batch a"), memo(&key, seq + 1, "batch b")];
    let hexes: Vec<String> = batch.iter().map(|t| hex(&t.to_bytes())).collect();
    let r = call(obs, "waybill_submitRawTransactions", &[json!(hexes)]).await;
    assert!(r.is_array(), "{r}");
    for t in &batch {
        let hash = json!(t.hash());
        let start = Instant::now();
        loop {
            let info = call(obs, "waybill_getTransaction", std::slice::from_ref(&hash)).await;
            if info["receipt"].is_object() {
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "batch transaction never committed: {info}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    for m in [
        "waybill_submitTransaction",
        "waybill_submitRawTransaction",
        "waybill_submitRawTransactions",
    ] {
        called.insert(m.to_string());
    }
}

/// EPCIS through the observer: a corpus document captured with `waybill tx epcis` (which calls
/// `waybill_captureEpcis`), then each of its events fetched by hash ID and the whole queried, on
/// the observer and on a validator alike.
async fn walk_epcis(
    net: &Net,
    rpc: &str,
    obs: &HttpClient,
    val: &HttpClient,
    called: &mut BTreeSet<String>,
) {
    use ledger::epcis::document::{canonical_event, EpcisDocument};
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../ledger/tests/epcis/corpus/01-farm-harvest-and-ship.jsonld");
    let key = net.key("farm").display().to_string();
    let file_arg = file.display().to_string();
    let mut args = vec![
        "tx",
        "--rpc",
        rpc,
        "--key",
        &key,
        "--wait-ms",
        "30000",
        "--json",
        "epcis",
        &file_arg,
    ];
    for party in [
        "urn:epc:id:pgln:0614141.00000=farm",
        "urn:epc:id:pgln:4012345.00000=processor",
        "urn:epc:id:pgln:5200001.00000=shipper",
        "urn:epc:id:pgln:9520123.00000=retailer",
    ] {
        args.extend(["--party", party]);
    }
    let out = waybill(&args);
    // The verdicts are the first JSON value printed (stderr may follow).
    let start = out
        .find('{')
        .unwrap_or_else(|| panic!("no verdicts: {out}"));
    let outcome: Value = serde_json::Deserializer::from_str(&out[start..])
        .into_iter::<Value>()
        .next()
        .and_then(Result::ok)
        .unwrap_or_else(|| panic!("no verdicts: {out}"));
    let doc = EpcisDocument::parse(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(outcome["captured"], json!(doc.events.len()), "{out}");
    for event in &doc.events {
        let id = canonical_event(doc.context.as_ref(), event)
            .unwrap()
            .hash_id;
        // Equal but for the document's `creationDate` (when it was answered).
        let answer = |mut v: Value| {
            v["document"]["creationDate"] = Value::Null;
            v
        };
        let on_obs = answer(call(obs, "waybill_getEpcisEvent", &[json!(id)]).await);
        assert!(on_obs["record"].is_object(), "{id}: {on_obs}");
        assert_eq!(
            on_obs,
            answer(call(val, "waybill_getEpcisEvent", &[json!(id)]).await)
        );
    }
    let query = [json!({}), json!(0), json!(100)];
    let events = |d: Value| d["epcisBody"]["queryResults"]["resultsBody"]["eventList"].clone();
    let on_obs = events(call(obs, "waybill_queryEpcis", &query).await);
    assert_eq!(on_obs.as_array().map(Vec::len), Some(doc.events.len()));
    assert_eq!(
        on_obs,
        events(call(val, "waybill_queryEpcis", &query).await)
    );
    for m in [
        "waybill_captureEpcis",
        "waybill_getEpcisEvent",
        "waybill_queryEpcis",
    ] {
        called.insert(m.to_string());
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Both subscriptions over WebSocket on the observer, and their unsubscribe methods.
async fn walk_subscriptions(
    listen: &str,
    obs: &HttpClient,
    net: &Net,
    called: &mut BTreeSet<String>,
) {
    let ws = jsonrpsee::ws_client::WsClientBuilder::default()
        .build(format!("ws://{listen}"))
        .await
        .expect("websocket upgrade");
    let mut blocks: Subscription<Value> = ws
        .subscribe(
            "waybill_subscribeBlocks",
            jsonrpsee::rpc_params![],
            "waybill_unsubscribeBlocks",
        )
        .await
        .expect("subscribed to blocks");
    let mut item: Subscription<Value> = ws
        .subscribe(
            "waybill_subscribeItem",
            jsonrpsee::rpc_params!["pallet-1"],
            "waybill_unsubscribeItem",
        )
        .await
        .expect("subscribed to the item");
    let key = read_key_file(&net.key("processor")).unwrap();
    let signer = json!(key.public());
    let seq = call(obs, "waybill_nextSequence", &[signer])
        .await
        .as_u64()
        .unwrap();
    let observe = Transaction {
        chain_id: CHAIN.into(),
        signer: key.public(),
        sequence: seq,
        payload: serde_json::from_value(json!({"observe": {
            "item_id": "pallet-1", "time_ms": 1_700_000_000_000u64,
            "readings": [{"kind": "temperature", "value": "4.50", "unit": "Cel"}]}}))
        .expect("an observe payload"),
    }
    .sign(&key);
    let r = call(
        obs,
        "waybill_submitTransaction",
        &[json!(observe), json!(30_000)],
    )
    .await;
    assert!(r["receipt"].is_object(), "{r}");
    let block = next_notification(&mut blocks).await;
    assert!(block["height"].is_u64(), "{block}");
    let event = next_notification(&mut item).await;
    assert!(event.is_object(), "{event}");
    blocks
        .unsubscribe()
        .await
        .expect("unsubscribed from blocks");
    item.unsubscribe()
        .await
        .expect("unsubscribed from the item");
    for m in [
        "waybill_subscribeBlocks",
        "waybill_unsubscribeBlocks",
        "waybill_subscribeItem",
        "waybill_unsubscribeItem",
    ] {
        called.insert(m.to_string());
    }
}

async fn next_notification(s: &mut Subscription<Value>) -> Value {
    tokio::time::timeout(Duration::from_secs(30), s.next())
        .await
        .expect("a notification within 30 s")
        .expect("subscription open")
        .expect("a notification")
}

/// Every proof kind fetched from the observer, then verified by an auditor who holds nothing
/// but the genesis file.
fn walk_proofs(net: &Net, rpc: &str, tx_hash: &str, called: &mut BTreeSet<String>) {
    let fetched = net.dir.join("fetched");
    std::fs::create_dir_all(&fetched).unwrap();
    let genesis = net.genesis().display().to_string();
    let kinds: [(&str, Vec<&str>, &str); 4] = [
        (
            "tx.proof.json",
            vec!["tx", tx_hash],
            "waybill_getTransactionProof",
        ),
        (
            "item.proof.json",
            vec!["item", "pallet-1"],
            "waybill_getItemProof",
        ),
        (
            "history.proof.json",
            vec!["history", "pallet-1"],
            "waybill_getItemHistoryProof",
        ),
        (
            "consistency.proof.json",
            vec!["consistency", "1"],
            "waybill_getConsistencyProof",
        ),
    ];
    let auditor = net.dir.join("auditor");
    std::fs::create_dir_all(&auditor).unwrap();
    std::fs::copy(net.genesis(), auditor.join("genesis.toml")).unwrap();
    for (file, what, method) in kinds {
        let out = fetched.join(file).display().to_string();
        let mut args = vec!["audit", "fetch"];
        args.extend(what);
        args.extend(["--rpc", rpc, "--out", &out, "--genesis", &genesis]);
        waybill(&args);
        std::fs::copy(&out, auditor.join(file)).unwrap();
        let verified = Command::new(EXE)
            .current_dir(&auditor)
            .args(["audit", "verify", "--genesis", "genesis.toml", file])
            .output()
            .unwrap();
        assert!(
            verified.status.success(),
            "{file} from the observer does not verify from the genesis alone:\n{}{}",
            String::from_utf8_lossy(&verified.stdout),
            String::from_utf8_lossy(&verified.stderr)
        );
        called.insert(method.to_string());
    }
}
