//! End to end, what auditors came for, on four real `waybill` processes: transactions commit,
//! validators certify every height (ledger certificates), each proof kind is fetched over
//! JSON-RPC, written to a file and accepted by `waybill audit verify --genesis` (which trusts
//! the genesis file alone); a tampered copy of each is rejected. Then a validator is stopped,
//! `waybill audit ledger` passes on its database, and one changed byte of a committed
//! transaction is found and located.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use ledger::keyfile::read_key_file;
use ledger::proof::Proof;
use ledger::receipt::ExecStatus;
use ledger::tx::{Payload, Transaction};
use ledger::{Hash, KeyPair};
use serde_json::{json, Value};
use waybill_node::localnet::{stop_node, LocalNode};

mod common;
use common::{kill9, start_network, EXE};
const CHAIN: &str = "waybill-audit";

struct Network {
    nodes: Vec<LocalNode>,
    clients: Vec<rpc::Client>,
    key: KeyPair,
    seq: u64,
}

impl Drop for Network {
    fn drop(&mut self) {
        for n in &self.nodes {
            kill9(n);
        }
    }
}

impl Network {
    async fn start(dir: &Path) -> Network {
        let (all, clients) = start_network(dir, CHAIN, 4).await;
        let key = read_key_file(&dir.join("clients").join("farm-operator.key")).unwrap();
        Network {
            nodes: all,
            clients,
            key,
            seq: 0,
        }
    }

    /// Submits `payload` as the farm operator and waits for its receipt: (tx hash, height).
    async fn act(&mut self, payload: Value) -> (Hash, u64) {
        let payload: Payload = serde_json::from_str(&payload.to_string()).unwrap();
        let tx = Transaction {
            chain_id: CHAIN.into(),
            signer: self.key.public(),
            sequence: self.seq,
            payload,
        }
        .sign(&self.key);
        self.seq += 1;
        let hash = tx.hash();
        let via = self.seq as usize % self.clients.len();
        let outcome = self.clients[via]
            .submit_and_wait(tx, 30_000)
            .await
            .expect("committed");
        let receipt = outcome.receipt.expect("receipt");
        assert_eq!(receipt.status, ExecStatus::Success);
        (hash, receipt.height)
    }

    fn genesis(&self) -> PathBuf {
        self.nodes[0].config.node.genesis.clone()
    }
}

/// Retries `f` while the node answers "not certified yet" (or not yet at all).
async fn certified<T, F, Fut>(what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Option<T>, rpc::ClientError>>,
{
    let start = Instant::now();
    loop {
        match f().await {
            Ok(Some(v)) => return v,
            Ok(None) | Err(_) if start.elapsed() < Duration::from_secs(30) => {
                tokio::time::sleep(Duration::from_millis(100)).await
            }
            other => panic!("{what}: no proof within 30 s: {:?}", other.err()),
        }
    }
}

fn waybill(args: &[&str]) -> Output {
    Command::new(EXE).args(args).output().expect("run waybill")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The docs' independent Python verifier (docs/proofs/verify.py) on `files`: whether it
/// verified them all; `None` (with a message) when python3 with blake3 and PyNaCl is absent.
fn python_verifies(genesis: &Path, files: &[&Path]) -> Option<bool> {
    let ready = Command::new("python3")
        .args(["-c", "import blake3"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !ready {
        eprintln!("SKIPPED: python3 with blake3 is absent; docs/proofs/verify.py not run");
        return None;
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/proofs/verify.py");
    let out = Command::new("python3")
        .arg(script)
        .arg(genesis)
        .args(files)
        .output()
        .expect("run python3");
    Some(out.status.success())
}

/// `waybill audit verify` (and the docs' Python verifier) on `proof` written to a file:
/// accepted, and every tampered copy (each mutation applied alone) rejected.
fn verify_file(dir: &Path, genesis: &Path, name: &str, proof: &Proof, tampers: &[fn(&mut Value)]) {
    let path = dir.join(format!("{name}.json"));
    std::fs::write(&path, proof.to_json()).unwrap();
    let out = waybill(&[
        "audit",
        "verify",
        "--genesis",
        genesis.to_str().unwrap(),
        path.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{name} rejected:\n{}", text(&out));
    assert!(text(&out).contains('✓'), "{}", text(&out));
    assert!(!text(&out).contains('✗'), "{}", text(&out));
    assert_ne!(
        python_verifies(genesis, &[&path]),
        Some(false),
        "verify.py rejected the genuine {name} proof"
    );
    for (i, tamper) in tampers.iter().enumerate() {
        let mut v: Value = serde_json::from_str(&proof.to_json()).unwrap();
        tamper(&mut v);
        let bad = dir.join(format!("{name}-tampered-{i}.json"));
        std::fs::write(&bad, serde_json::to_string_pretty(&v).unwrap()).unwrap();
        let out = waybill(&[
            "audit",
            "verify",
            "--genesis",
            genesis.to_str().unwrap(),
            bad.to_str().unwrap(),
        ]);
        assert!(
            !out.status.success(),
            "tampered {name} #{i} accepted:\n{}",
            text(&out)
        );
        assert_ne!(
            python_verifies(genesis, &[&bad]),
            Some(true),
            "verify.py accepted tampered {name} #{i}"
        );
    }
}

/// Flips the last hex digit of the string at `pointer`.
fn flip_hex(v: &mut Value, pointer: &str) {
    let s = v
        .pointer_mut(pointer)
        .unwrap_or_else(|| panic!("no {pointer}"));
    let mut t = s.as_str().unwrap().to_string();
    let last = t.pop().unwrap();
    t.push(if last == '0' { '1' } else { '0' });
    *s = Value::String(t);
}

fn bump(v: &mut Value, pointer: &str) {
    let n = v
        .pointer_mut(pointer)
        .unwrap_or_else(|| panic!("no {pointer}"));
    *n = json!(n.as_u64().unwrap() + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proofs_over_rpc_verify_offline_and_audit_ledger_finds_a_changed_byte() {
    let dir = tempfile::tempdir().unwrap();
    let mut net = Network::start(dir.path()).await;
    let genesis = net.genesis();

    let (commission, h1) = net
        .act(
            json!({"commission": {"item_id": "pallet-1", "item_type": "pallet",
            "properties": {"weight_kg": 412.5, "grade": "A", "dims": {"h": 1.2, "w": [80, 120]}}}}),
        )
        .await;
    for t in 1..=3 {
        net.act(
            json!({"observe": {"item_id": "pallet-1", "time_ms": t, "location": "dock 4",
            "readings": [{"kind": "temperature", "value": 4.5, "unit": "Cel"}]}}),
        )
        .await;
    }
    let (_, last_height) = net
        .act(json!({"observe": {"item_id": "pallet-1", "time_ms": 9, "location": "truck"}}))
        .await;
    let c = net.clients[1].clone();

    // Every kind, fetched over RPC (retrying until the heights are certified).
    let tx_proof = certified("transaction", || c.transaction_proof(commission)).await;
    let at_h1 = certified("item at h1", || async {
        c.item_proof("pallet-1", Some(h1)).await.map(Some)
    })
    .await;
    let latest = certified("item", || async {
        let p = c.item_proof("pallet-1", None).await?;
        Ok(match &p {
            Proof::ItemState(s) if s.certificate.checkpoint.height >= last_height => Some(p),
            _ => None,
        })
    })
    .await;
    let absent = c.item_proof("no-such-item", None).await.unwrap();
    let history = certified("history", || async {
        c.item_history_proof("pallet-1").await.map(Some)
    })
    .await;
    let consistency = certified("consistency", || async {
        c.consistency_proof(h1, None).await.map(Some)
    })
    .await;
    match &history {
        Proof::History(h) => assert_eq!(h.entries.len(), 5),
        other => panic!("{}", other.kind()),
    }
    // Every validator certified, and none saw another checkpoint than its own.
    for client in &net.clients {
        let s = client.status().await.unwrap();
        assert!(s.certified_height >= h1, "{s:?}");
        assert_eq!(s.checkpoint_divergences, 0, "{s:?}");
    }

    verify_file(
        dir.path(),
        &genesis,
        "transaction",
        &tx_proof,
        &[
            |v| flip_hex(v, "/certificate/checkpoint/view/block_hash"),
            |v| flip_hex(v, "/certificate/checkpoint/bytes"),
            |v| bump(v, "/receipt/view/ledger_index"),
            |v| flip_hex(v, "/transaction/view/signature"),
            |v| flip_hex(v, "/transaction/bytes"),
        ],
    );
    verify_file(
        dir.path(),
        &genesis,
        "item-at-h1",
        &at_h1,
        &[
            |v| flip_hex(v, "/certificate/checkpoint/view/state_root"),
            |v| flip_hex(v, "/value"),
        ],
    );
    verify_file(
        dir.path(),
        &genesis,
        "item-latest",
        &latest,
        &[|v| bump(v, "/certificate/checkpoint/view/height")],
    );
    verify_file(
        dir.path(),
        &genesis,
        "item-absent",
        &absent,
        &[|v| *v.pointer_mut("/item_id").unwrap() = json!("pallet-1")],
    );
    verify_file(
        dir.path(),
        &genesis,
        "history",
        &history,
        &[
            |v| flip_hex(v, "/entries/2/receipt/view/tx_hash"),
            |v| {
                v.pointer_mut("/entries")
                    .unwrap()
                    .as_array_mut()
                    .unwrap()
                    .swap(1, 2);
            },
            // An event left out: the item's certified history head counts and chains them all.
            |v| {
                v.pointer_mut("/entries")
                    .unwrap()
                    .as_array_mut()
                    .unwrap()
                    .remove(2);
            },
        ],
    );
    verify_file(
        dir.path(),
        &genesis,
        "consistency",
        &consistency,
        &[
            |v| flip_hex(v, "/newer/checkpoint/view/accumulator_root"),
            |v| flip_hex(v, "/newer/checkpoint/bytes"),
            |v| bump(v, "/older/checkpoint/view/accumulator_size"),
        ],
    );

    // A file that is not a proof: a clear error, non-zero.
    let junk = dir.path().join("junk.json");
    std::fs::write(&junk, "{\"kind\": \"transaction\"").unwrap();
    let out = waybill(&[
        "audit",
        "verify",
        "--genesis",
        genesis.to_str().unwrap(),
        junk.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(text(&out).contains("is not a proof"), "{}", text(&out));

    // Stop a validator; its database audits clean, certificates included.
    let node = &net.nodes[3];
    assert!(
        stop_node(node, Duration::from_secs(10)),
        "validator-3 did not stop"
    );
    let data = node.config.node.data_dir.clone();
    let out = waybill(&[
        "audit",
        "ledger",
        "--data-dir",
        data.to_str().unwrap(),
        "--genesis",
        genesis.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("ledger certificates verified"),
        "{}",
        text(&out)
    );
    assert!(text(&out).contains("✓ safety mark"), "{}", text(&out));

    // A store that ends below the height its safety mark records (a lost WAL tail, an old
    // copy) fails the audit, however consistent the rest of it is.
    let mark_path = data.join(waybill_node::driver::disk::MARK_FILE);
    let original = std::fs::read(&mark_path).expect("a validator that voted has a safety mark");
    let engine::guard::MarkState::Present(mut mark) =
        waybill_node::driver::disk::read_mark(&mark_path).unwrap()
    else {
        panic!("the safety mark does not read back");
    };
    mark.committed_height += 1_000;
    std::fs::write(&mark_path, mark.to_bytes()).unwrap();
    let out = waybill(&[
        "audit",
        "ledger",
        "--data-dir",
        data.to_str().unwrap(),
        "--genesis",
        genesis.to_str().unwrap(),
    ]);
    assert!(!out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("lost blocks"), "{}", text(&out));
    std::fs::write(&mark_path, original).unwrap();

    // One byte of the committed commission transaction (its item type), changed on disk.
    tamper_block(&data.join("ledger"), h1, b"pallet", |v, at| v[at] ^= 0x20);
    let out = waybill(&[
        "audit",
        "ledger",
        "--data-dir",
        data.to_str().unwrap(),
        "--genesis",
        genesis.to_str().unwrap(),
    ]);
    assert!(!out.status.success(), "{}", text(&out));
    let report = text(&out);
    assert!(report.contains(&format!("height {h1}")), "{report}");
    assert!(report.contains("was altered"), "{report}");
}

/// Rewrites block `height` in the database at `db` (raw RocksDB, as a bad disk or tool would):
/// `f` changes the byte where `needle` first occurs.
fn tamper_block(db: &Path, height: u64, needle: &[u8], f: impl FnOnce(&mut Vec<u8>, usize)) {
    let opts = rocksdb::Options::default();
    let cfs = rocksdb::DB::list_cf(&opts, db).unwrap();
    let rdb = rocksdb::DB::open_cf(&opts, db, &cfs).unwrap();
    let cf = rdb.cf_handle("blocks").unwrap();
    let key = height.to_be_bytes();
    let mut v = rdb.get_cf(cf, key).unwrap().expect("block");
    let at = v
        .windows(needle.len())
        .position(|w| w == needle)
        .expect("needle in the stored block");
    f(&mut v, at);
    rdb.put_cf(cf, key, v).unwrap();
}
