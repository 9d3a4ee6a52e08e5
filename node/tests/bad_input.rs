//! Bad input over JSON-RPC against a real `waybill` process (one validator): every kind of bad
//! request gets its documented error (docs/RPC.md), none crashes the node, none changes the
//! ledger (state root, ledger size and the account's sequence stay put), and the node answers
//! afterwards. Then the per-client rate limit and CORS, as a client and a browser see them.
//!
//! Requests are raw HTTP/1.1 over TCP, so malformed bodies, headers and status codes are exactly
//! what is sent and received. The rate limit is per client IP: each request here comes from its
//! own loopback source address (127.1.x.y) unless a test means to share one, so the checks never
//! trip the limit by accident and the limit's own checks are deterministic.
//!
//! One test function: the tests of one binary run in parallel and would collide on ports.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use ledger::keyfile::read_key_file;
use ledger::tx::{Payload, SignedTransaction, Transaction};
use ledger::KeyPair;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use waybill_node::localnet::{log_tail, nodes, start_node, LocalNode};
use waybill_node::testnet::{generate, TestnetSpec};

const EXE: &str = env!("CARGO_BIN_EXE_waybill");
const CHAIN: &str = "bad-input";
/// Low, so the limit is reached with a handful of calls.
const RATE: u32 = 10;
const ALLOWED_ORIGIN: &str = "https://app.example.com";

struct Node(LocalNode);

impl Drop for Node {
    fn drop(&mut self) {
        if let Some(pid) = self.0.running_pid() {
            unsafe { libc::kill(pid, libc::SIGKILL) };
            unsafe { libc::waitpid(pid, std::ptr::null_mut(), 0) };
        }
    }
}

struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }
}

/// Raw HTTP/1.1 to the node, each request on its own connection.
struct Http {
    addr: SocketAddr,
    next_ip: AtomicU32,
}

impl Http {
    /// A source address no other request has used: a client of its own for the rate limit.
    fn fresh_ip(&self) -> Ipv4Addr {
        let n = self.next_ip.fetch_add(1, Ordering::Relaxed);
        Ipv4Addr::from(u32::from(Ipv4Addr::new(127, 1, 0, 1)) + n)
    }

    async fn send(
        &self,
        from: Ipv4Addr,
        method: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Response {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind(SocketAddr::new(IpAddr::V4(from), 0)).unwrap();
        let mut stream = socket.connect(self.addr).await.unwrap();
        let mut head = format!(
            "{method} / HTTP/1.1\r\nhost: {}\r\ncontent-length: {}\r\nconnection: close\r\n",
            self.addr,
            body.len()
        );
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes()).await.unwrap();
        // The server may answer (413) and stop reading before the body is all sent.
        let _ = stream.write_all(body).await;
        let mut raw = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(60), stream.read_to_end(&mut raw));
        read.await.expect("response within 60 s").unwrap();
        parse_response(&raw)
    }

    /// A JSON POST from a fresh client address.
    async fn post(&self, body: &str) -> Response {
        self.post_from(self.fresh_ip(), body).await
    }

    async fn post_from(&self, from: Ipv4Addr, body: &str) -> Response {
        let json = [("content-type", "application/json")];
        self.send(from, "POST", &json, body.as_bytes()).await
    }

    /// One call; its whole response object.
    async fn call(&self, method: &str, params: Value) -> Value {
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        let r = self.post(&body.to_string()).await;
        assert_eq!(r.status, 200, "{method}: {}", r.body);
        r.json()
    }

    async fn result(&self, method: &str, params: Value) -> Value {
        let r = self.call(method, params).await;
        assert!(r.get("error").is_none(), "{method}: {r}");
        r["result"].clone()
    }
}

fn parse_response(raw: &[u8]) -> Response {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("not an HTTP response: {text:?}"));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line: {head:?}"));
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let chunked = headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.contains("chunked"));
    let body = if chunked {
        dechunk(body)
    } else {
        body.to_string()
    };
    Response {
        status,
        headers,
        body,
    }
}

fn dechunk(mut rest: &str) -> String {
    let mut out = String::new();
    while let Some((size, after)) = rest.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        out.push_str(&after[..size]);
        rest = &after[size + 2..];
    }
    out
}

fn error_code(response: &Value) -> i64 {
    response["error"]["code"]
        .as_i64()
        .unwrap_or_else(|| panic!("not an error: {response}"))
}

fn sign(key: &KeyPair, chain: &str, sequence: u64, item: &str) -> SignedTransaction {
    let payload: Payload =
        serde_json::from_value(json!({"commission": {"item_id": item, "item_type": "crate"}}))
            .unwrap();
    Transaction {
        chain_id: chain.into(),
        signer: key.public(),
        sequence,
        payload,
    }
    .sign(key)
}

/// What must not change when bad input is refused.
#[derive(Debug, PartialEq)]
struct Ledger {
    state_root: Value,
    accumulator_size: Value,
    next_sequence: Value,
}

async fn ledger(http: &Http, account: &str) -> Ledger {
    let head = http.result("waybill_head", json!([])).await;
    Ledger {
        state_root: head["state_root"].clone(),
        accumulator_size: head["accumulator_size"].clone(),
        next_sequence: http.result("waybill_nextSequence", json!([account])).await,
    }
}

/// Starts the node on ports of its own. Other tests on this machine start nodes too, and a
/// free port found at generation can be taken before the node binds it: a node that cannot
/// bind exits, and one that answers for another chain is someone else's. Either way, retry on
/// other ports.
async fn start(dir: &Path) -> (Node, Http, std::path::PathBuf) {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let seed = u64::from(std::process::id()) ^ u64::from(nanos);
    for attempt in 0..4u64 {
        let out = dir.join(format!("net-{attempt}"));
        let base_port = 20_000 + ((seed.wrapping_mul(7_919) + attempt * 1_013) % 30_000) as u16;
        let generated = generate(&TestnetSpec {
            validators: 1,
            out: out.clone(),
            chain_id: CHAIN.into(),
            base_port: Some(base_port),
            round_timeout_ms: 500,
            observers: 0,
        });
        // A random port in the ephemeral range may be some other process's for the moment
        // (CI's rehearsal hit one): the next attempt takes other ports.
        if let Err(waybill_node::testnet::TestnetError::PortInUse { port }) = &generated {
            eprintln!("attempt {attempt}: port {port} is in use");
            continue;
        }
        generated.unwrap();
        let mut node = nodes(&out).unwrap().remove(0);
        node.config.rpc.cors_origins = vec![ALLOWED_ORIGIN.into()];
        node.config.rpc.requests_per_second_per_client = RATE;
        std::fs::write(&node.config_path, node.config.to_toml()).unwrap();
        start_node(Path::new(EXE), &node).unwrap();
        let http = Http {
            addr: node.config.rpc.listen.parse().unwrap(),
            next_ip: AtomicU32::new(0),
        };
        let node = Node(node);
        if wait_for_own_node(&node, &http).await {
            return (node, http, out);
        }
        eprintln!(
            "attempt {attempt}: node on base port {base_port} did not come up as {CHAIN}:\n{}",
            log_tail(&node.0, 10)
        );
    }
    panic!("could not start a node on free ports in 4 attempts");
}

/// Whether our node answers (for our chain) within 30 s.
async fn wait_for_own_node(node: &Node, http: &Http) -> bool {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(30) {
        if node.0.running_pid().is_none() {
            return false;
        }
        if tokio::net::TcpStream::connect(http.addr).await.is_ok() {
            let body = r#"{"jsonrpc":"2.0","id":1,"method":"waybill_head"}"#;
            let r = http.post(body).await.json();
            if let Some(chain) = r["result"]["chain_id"].as_str() {
                return chain == CHAIN;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_its_documented_error_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (node, http, net) = start(dir.path()).await;
    let key = read_key_file(&net.join("clients").join("farm-operator.key")).unwrap();
    let account = key.public().to_hex();

    // One committed transaction to replay and to look up.
    let first = sign(&key, CHAIN, 0, "crate-0");
    let outcome = http
        .result("waybill_submitTransaction", json!([first, 30_000]))
        .await;
    assert_eq!(outcome["status"], "committed", "{outcome}");
    let before = ledger(&http, &account).await;
    assert_eq!(before.next_sequence, json!(1));

    // Malformed JSON.
    let r = http
        .post(r#"{"jsonrpc":"2.0","id":1,"method":"waybill_head""#)
        .await;
    assert_eq!(error_code(&r.json()), -32700, "{}", r.body);
    // Not a JSON-RPC 2.0 request object (no "jsonrpc").
    let r = http.post(r#"{"id":1,"method":"waybill_head"}"#).await;
    assert_eq!(error_code(&r.json()), -32600, "{}", r.body);
    // Unknown method.
    let r = http.call("waybill_noSuchMethod", json!([])).await;
    assert_eq!(error_code(&r), -32601, "{r}");
    // Wrong parameter types, a bad hash, named instead of positional params.
    for (method, params) in [
        ("waybill_getBlockByHeight", json!(["ten"])),
        ("waybill_getTransaction", json!(["abcd"])),
        ("waybill_getItemHistory", json!(["crate-0", 0, 0])),
        ("waybill_getBlockByHeight", json!({"height": 1})),
        ("waybill_submitTransaction", json!([{"tx": 1}])),
        ("waybill_submitRawTransaction", json!(["zz"])),
    ] {
        let r = http.call(method, params.clone()).await;
        assert_eq!(error_code(&r), -32602, "{method} {params}: {r}");
    }
    // A subscription over plain HTTP.
    let r = http.call("waybill_subscribeBlocks", json!([])).await;
    assert_eq!(error_code(&r), -32006, "{r}");
    assert_eq!(r["error"]["data"]["method"], "waybill_subscribeBlocks");

    // A body over 1 MiB: HTTP 413 and -32007.
    let big = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"waybill_head","params":["{}"]}}"#,
        "x".repeat((1 << 20) + 1)
    );
    let r = http.post(&big).await;
    assert_eq!(r.status, 413, "{}", r.body);
    assert_eq!(error_code(&r.json()), -32007, "{}", r.body);
    // A batch over 100 calls: -32010, and none of its calls runs.
    let batch: Vec<Value> = (0..101)
        .map(|i| json!({"jsonrpc": "2.0", "id": i, "method": "waybill_head"}))
        .collect();
    let r = http.post(&Value::Array(batch).to_string()).await;
    assert_eq!(error_code(&r.json()), -32010, "{}", r.body);

    // Transactions refused before ordering, each with its reason.
    let mut bad_signature = sign(&key, CHAIN, 1, "crate-1");
    let mut sig = serde_json::to_value(bad_signature.signature).unwrap();
    let flipped = {
        let s = sig.as_str().unwrap();
        let first = if s.starts_with('0') { '1' } else { '0' };
        format!("{first}{}", &s[1..])
    };
    sig = Value::String(flipped);
    bad_signature.signature = serde_json::from_value(sig).unwrap();
    let wrong_chain = sign(&key, "other-chain", 1, "crate-1");
    let too_old = sign(&key, CHAIN, 0, "crate-other");
    // The window is 1,000 ahead of the next sequence (1): 1 + 1,000 is the first outside it.
    let too_far = sign(&key, CHAIN, 1 + 1_000, "crate-far");
    for (what, tx, reason) in [
        ("bad signature", &bad_signature, "bad_signature"),
        ("wrong chain", &wrong_chain, "wrong_chain"),
        ("replay", &first, "already_committed"),
        ("sequence too low", &too_old, "sequence_too_low"),
        ("sequence too high", &too_far, "sequence_too_high"),
    ] {
        let r = http.call("waybill_submitTransaction", json!([tx])).await;
        assert_eq!(error_code(&r), -32001, "{what}: {r}");
        assert_eq!(r["error"]["data"]["reason"], reason, "{what}: {r}");
        // The raw form of the same transaction is refused the same way.
        let raw = hex::encode(tx.to_bytes());
        let r = http
            .call("waybill_submitRawTransaction", json!([raw]))
            .await;
        assert_eq!(r["error"]["data"]["reason"], reason, "{what} (raw): {r}");
    }
    // The same transactions in one waybill_submitRawTransactions call: one answer each, in
    // order, each the error object the single call gave; bytes that do not decode are refused
    // on their own.
    let refusals = [
        (&bad_signature, "bad_signature"),
        (&wrong_chain, "wrong_chain"),
        (&first, "already_committed"),
        (&too_old, "sequence_too_low"),
        (&too_far, "sequence_too_high"),
    ];
    let mut raws: Vec<String> = refusals
        .iter()
        .map(|(tx, _)| hex::encode(tx.to_bytes()))
        .collect();
    raws.push("zz".into());
    let answers = http
        .result("waybill_submitRawTransactions", json!([raws]))
        .await;
    let answers = answers.as_array().expect("one answer per transaction");
    assert_eq!(answers.len(), refusals.len() + 1, "{answers:?}");
    for ((_, reason), answer) in refusals.iter().zip(answers) {
        assert_eq!(answer["error"]["code"], -32001, "{answer}");
        assert_eq!(answer["error"]["data"]["reason"], *reason, "{answer}");
    }
    assert_eq!(answers[refusals.len()]["error"]["code"], -32602);
    // More than 1,000 in one call: the call is refused, none submitted.
    let r = http
        .call("waybill_submitRawTransactions", json!([vec!["00"; 1_001]]))
        .await;
    assert_eq!(error_code(&r), -32602, "{r}");

    // A notification (no id) gets no response at all, and is not executed: this valid
    // transaction is not submitted.
    let unsubmitted = sign(&key, CHAIN, 1, "crate-notified");
    let notification =
        json!({"jsonrpc": "2.0", "method": "waybill_submitTransaction", "params": [unsubmitted]});
    let r = http.post(&notification.to_string()).await;
    assert_eq!((r.status, r.body.as_str()), (200, ""), "{}", r.body);

    // A mixed batch: each call answered by id, the notification not at all.
    let batch = json!([
        {"jsonrpc": "2.0", "id": "head", "method": "waybill_head"},
        {"jsonrpc": "2.0", "id": "unknown", "method": "waybill_nope"},
        {"jsonrpc": "2.0", "method": "waybill_head"},
        {"id": "invalid", "method": "waybill_head"},
        {"jsonrpc": "2.0", "id": "types", "method": "waybill_getBlockByHeight", "params": [true]},
        {"jsonrpc": "2.0", "id": "tx", "method": "waybill_getTransaction", "params": [first.hash()]},
        {"jsonrpc": "2.0", "id": "replay", "method": "waybill_submitTransaction", "params": [first]}
    ]);
    let r = http.post(&batch.to_string()).await;
    let answers = r.json();
    let answers = answers.as_array().expect("a batch answer is an array");
    assert_eq!(
        answers.len(),
        6,
        "one answer per call, none for the notification"
    );
    let by_id = |id: &str| {
        answers
            .iter()
            .find(|a| a["id"] == id)
            .unwrap_or_else(|| panic!("no answer for {id}: {answers:?}"))
    };
    assert!(by_id("head")["result"]["height"].is_u64());
    assert_eq!(error_code(by_id("unknown")), -32601);
    assert_eq!(error_code(by_id("invalid")), -32600);
    assert_eq!(error_code(by_id("types")), -32602);
    assert_eq!(by_id("tx")["result"]["pending"], false);
    let replay = by_id("replay");
    assert_eq!(
        replay["error"]["data"]["reason"], "already_committed",
        "{replay}"
    );

    // Nothing changed, and the node still answers.
    let after = ledger(&http, &account).await;
    assert_eq!(after, before);
    let none = http
        .result("waybill_getTransaction", json!([unsubmitted.hash()]))
        .await;
    assert_eq!(none, Value::Null, "the notification submitted nothing");

    // A transaction with a gap before it waits in the mempool: getTransaction reports it as
    // pending. Filling the gap commits both.
    let gapped = sign(&key, CHAIN, 2, "crate-2");
    let r = http
        .result("waybill_submitTransaction", json!([gapped]))
        .await;
    assert_eq!(r["status"], "pending");
    let pending = http
        .result("waybill_getTransaction", json!([gapped.hash()]))
        .await;
    assert_eq!(pending["pending"], true, "{pending}");
    assert_eq!(pending["receipt"], Value::Null);
    assert_eq!(pending["height"], Value::Null);
    assert_eq!(pending["tx"], serde_json::to_value(&gapped).unwrap());
    let filler = sign(&key, CHAIN, 1, "crate-1");
    let r = http
        .result("waybill_submitTransaction", json!([filler, 30_000]))
        .await;
    assert_eq!(r["status"], "committed");
    let started = Instant::now();
    loop {
        let info = http
            .result("waybill_getTransaction", json!([gapped.hash()]))
            .await;
        if info["pending"] == false {
            assert!(info["receipt"]["height"].is_u64(), "{info}");
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "never committed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    websocket(&http, &key).await;
    rate_limit(&http).await;
    cors(&http).await;

    // Refused with a 0x prefix (hex is lower case with no prefix); accepted without (`websocket`
    // used sequence 3): the answer is
    // what waybill_submitRawTransaction gives, and a copy later in the same call is a duplicate.
    let fourth = sign(&key, CHAIN, 4, "crate-4");
    let prefixed = format!("0x{}", hex::encode(fourth.to_bytes()));
    let refused = http
        .result("waybill_submitRawTransactions", json!([[prefixed]]))
        .await;
    assert_eq!(refused[0]["error"]["code"], -32602, "{refused}");
    let raw = hex::encode(fourth.to_bytes());
    let answers = http
        .result("waybill_submitRawTransactions", json!([[raw, raw]]))
        .await;
    assert_eq!(answers[0]["status"], "pending", "{answers}");
    assert_eq!(answers[0]["tx_hash"], json!(fourth.hash()), "{answers}");
    assert_eq!(
        answers[1]["error"]["data"]["reason"], "duplicate",
        "{answers}"
    );
    let started = Instant::now();
    while http
        .result("waybill_getTransaction", json!([fourth.hash()]))
        .await["pending"]
        != false
    {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "never committed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let head = http.result("waybill_head", json!([])).await;
    assert!(head["height"].is_u64());
    assert!(node.0.running_pid().is_some(), "the node died");
    let log = std::fs::read_to_string(node.0.log_file()).unwrap_or_default();
    assert!(!log.contains("panicked"), "{}", log_tail(&node.0, 40));
}

/// The same port upgrades to WebSocket, where subscriptions work.
async fn websocket(http: &Http, key: &KeyPair) {
    use jsonrpsee::core::client::{Subscription, SubscriptionClientT};
    let ws = jsonrpsee::ws_client::WsClientBuilder::default()
        .build(format!("ws://{}", http.addr))
        .await
        .expect("websocket upgrade");
    let mut blocks: Subscription<Value> = ws
        .subscribe(
            "waybill_subscribeBlocks",
            jsonrpsee::rpc_params![],
            "waybill_unsubscribeBlocks",
        )
        .await
        .expect("subscribed over WebSocket");
    let tx = sign(key, CHAIN, 3, "crate-3");
    let r = http
        .result("waybill_submitTransaction", json!([tx, 30_000]))
        .await;
    let height = r["receipt"]["height"].as_u64().unwrap();
    loop {
        let block = tokio::time::timeout(Duration::from_secs(30), blocks.next())
            .await
            .expect("a block notification within 30 s")
            .expect("subscription open")
            .expect("a block summary");
        if block["height"].as_u64() >= Some(height) {
            break;
        }
    }
}

/// Per client: RATE calls a second with a burst of RATE, each call of a batch counting.
async fn rate_limit(http: &Http) {
    let head = r#"{"jsonrpc":"2.0","id":1,"method":"waybill_head"}"#;
    let client = http.fresh_ip();
    // A batch of RATE + 3: the first RATE calls run, the rest get -32005. Part of the request
    // went through, so the HTTP status stays 200.
    let batch: Vec<Value> = (0..RATE + 3)
        .map(|i| json!({"jsonrpc": "2.0", "id": i, "method": "waybill_head"}))
        .collect();
    let r = http
        .post_from(client, &Value::Array(batch).to_string())
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let answers = r.json();
    let answers = answers.as_array().unwrap();
    let limited: Vec<&Value> = answers
        .iter()
        .filter(|a| a["error"]["code"] == -32005)
        .collect();
    let served = answers.iter().filter(|a| a.get("result").is_some()).count();
    assert_eq!(served + limited.len(), answers.len(), "{answers:?}");
    // Tokens come back at RATE a second; a few ms of slack may return one.
    assert!(
        (RATE as usize..=RATE as usize + 1).contains(&served),
        "{served} served: {answers:?}"
    );
    // The next call from that client is refused whole: HTTP 429 with Retry-After.
    let r = http.post_from(client, head).await;
    assert_eq!(r.status, 429, "{}", r.body);
    assert_eq!(r.header("retry-after"), Some("1"));
    let error = r.json();
    assert_eq!(error_code(&error), -32005, "{error}");
    let retry_ms = error["error"]["data"]["retry_after_ms"].as_u64().unwrap();
    assert!((1..=1_000 / u64::from(RATE)).contains(&retry_ms), "{error}");
    assert_eq!(error["error"]["data"]["limit_per_second"], RATE);
    // Another client is not affected.
    let other = http.post(head).await;
    assert_eq!(other.status, 200);
    assert!(other.json().get("result").is_some());
    // A second later the first client's bucket has refilled.
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let again = http.post_from(client, head).await;
    assert_eq!(again.status, 200, "{}", again.body);
}

/// Only the configured origin gets `access-control-allow-origin`.
async fn cors(http: &Http) {
    let preflight = |origin: &'static str| {
        let from = http.fresh_ip();
        async move {
            let headers = [
                ("origin", origin),
                ("access-control-request-method", "POST"),
                ("access-control-request-headers", "content-type"),
            ];
            http.send(from, "OPTIONS", &headers, b"").await
        }
    };
    let allowed = preflight(ALLOWED_ORIGIN).await;
    assert!((200..300).contains(&allowed.status), "{}", allowed.status);
    assert_eq!(
        allowed.header("access-control-allow-origin"),
        Some(ALLOWED_ORIGIN)
    );
    let methods = allowed.header("access-control-allow-methods").unwrap_or("");
    assert!(methods.contains("POST"), "{methods}");
    let other = preflight("https://evil.example.com").await;
    assert_eq!(other.header("access-control-allow-origin"), None);
    // The actual call from the allowed origin carries the header too.
    let headers = [
        ("content-type", "application/json"),
        ("origin", ALLOWED_ORIGIN),
    ];
    let body = br#"{"jsonrpc":"2.0","id":1,"method":"waybill_head"}"#;
    let r = http.send(http.fresh_ip(), "POST", &headers, body).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some(ALLOWED_ORIGIN)
    );
}
