//! Disk faults on a real store: a validator is killed (kill -9) under load, its RocksDB
//! write-ahead log is damaged as a bad disk would (one flipped byte, or a tail cut off), and it
//! is started again. RocksDB's recovery drops the log from the damage on, writes the validator
//! had made durable (and acted on) included. The node must notice (an error in its log, a count
//! in its metrics), keep every promise its safety mark records, catch up, and vote again: with
//! another validator stopped, the network commits only with its votes. Nobody equivocates, and
//! the validators agree on every height. (An old backup put back is `backup.rs`.)
//!
//! The tests of this binary share the machine's cores, so they take turns (`TURNS`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use ledger::keyfile::read_key_file;
use waybill_node::localnet::{log_tail, start_node, LocalNode};

mod common;
use common::{
    assert_no_equivocation, assert_same_chain, commit_one, kill9, log_of, start_network,
    wait_answering, wait_height, wait_log, wait_metric, Load, Processes, EXE,
};

static TURNS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
/// The validator whose disk fails, and the one stopped afterwards so that its votes are needed.
const VICTIM: usize = 1;
const STOPPED: usize = 0;
/// Liveness bound: far above what each step takes, not a speed check.
const LIMIT: Duration = Duration::from_secs(60);
/// RocksDB's log is written in blocks of this size; a record never starts in a block's last
/// six bytes, which are zero padding.
const WAL_BLOCK: u64 = 32 * 1024;

/// The newest write-ahead log file of the store at `ledger` that holds records.
fn newest_wal(ledger: &Path) -> PathBuf {
    let mut logs: Vec<(u64, PathBuf)> = std::fs::read_dir(ledger)
        .unwrap()
        .filter_map(|e| {
            let p = e.ok()?.path();
            let n = p
                .file_name()?
                .to_str()?
                .strip_suffix(".log")?
                .parse()
                .ok()?;
            (std::fs::metadata(&p).ok()?.len() > 1024).then_some((n, p))
        })
        .collect();
    logs.sort();
    logs.pop()
        .unwrap_or_else(|| panic!("no write-ahead log with records in {}", ledger.display()))
        .1
}

/// One byte in the middle of the log flipped (a byte of a record, not of a block's padding):
/// every write from that record on is lost to RocksDB's recovery.
fn flip_a_byte(wal: &Path) -> String {
    let mut bytes = std::fs::read(wal).unwrap();
    let mut at = bytes.len() as u64 / 2;
    if at % WAL_BLOCK >= WAL_BLOCK - 7 {
        at -= 16;
    }
    bytes[at as usize] ^= 0x04;
    std::fs::write(wal, &bytes).unwrap();
    format!("flipped byte {at} of {} in {}", bytes.len(), wal.display())
}

/// The log's last third cut off (its last record most likely ends half written; if the cut
/// falls between records, RocksDB sees nothing wrong and only the safety mark can tell).
fn cut_the_tail(wal: &Path) -> String {
    let len = std::fs::metadata(wal).unwrap().len();
    let keep = len * 2 / 3;
    let f = std::fs::OpenOptions::new().write(true).open(wal).unwrap();
    f.set_len(keep).unwrap();
    f.sync_all().unwrap();
    format!("cut {} from {len} to {keep} bytes", wal.display())
}

/// The committed height the node's latest start recovered (its "recovering consensus state"
/// line).
fn recovered_height(log: &str) -> u64 {
    let line = log
        .lines()
        .rfind(|l| l.contains("recovering consensus state"))
        .unwrap_or_else(|| panic!("no recovery line in:\n{log}"));
    line.split_once("committed=")
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .and_then(|h| h.parse().ok())
        .unwrap_or_else(|| panic!("no committed height in {line:?}"))
}

async fn a_damaged_log_is_detected_and_the_node_votes_again(
    chain: &str,
    damage: fn(&Path) -> String,
    must_report_damage: bool,
) {
    let _turn = TURNS.lock().await;
    // The core's rejections (a second, different vote or timeout from one validator among
    // them) are logged at debug level.
    std::env::set_var("RUST_LOG", "info,waybill_engine::consensus_io=debug");
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (all, clients) = start_network(dir, chain, 4).await;
    let nodes = Processes(all);
    let n = &nodes.0;
    let others: Vec<&LocalNode> = (0..4).filter(|i| *i != VICTIM).map(|i| &n[i]).collect();
    let keys = ["processor", "shipper"]
        .map(|org| read_key_file(&dir.join(format!("clients/{org}-operator.key"))).unwrap());
    let load = Load::start(chain, keys.to_vec(), &others);
    load.wait_more(10, LIMIT, "before the fault").await;

    // Killed mid-load: its last writes are in the log only. Then the disk damages the log.
    let acknowledged = clients[VICTIM].head().await.unwrap().height;
    kill9(&n[VICTIM]);
    let data = n[VICTIM].config.node.data_dir.clone();
    let what = damage(&newest_wal(&data.join("ledger")));
    let log_before = log_of(&n[VICTIM]).len();
    let target = clients[0].head().await.unwrap().height + 5;
    wait_height(&n[0], &clients[0], target, LIMIT).await;

    // Started again: the damage is found, logged at error level and counted.
    start_node(Path::new(EXE), &n[VICTIM]).unwrap();
    let victim = wait_answering(&n[VICTIM]).await;
    // The engine logs its findings before its recovery line, on its own thread, which may
    // start after the RPC answers (rehearsal 36 of CI read the log too early).
    let log = wait_log(&n[VICTIM], log_before, "recovering consensus state", LIMIT).await;
    // The damage cost blocks the node had committed and answered for, and the safety data
    // that went with them.
    let recovered = recovered_height(&log);
    assert!(
        recovered < acknowledged,
        "{what}: the store recovered height {recovered}, no less than the {acknowledged} it had: the damage lost nothing?"
    );
    let findings: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("ROLLBACK GUARD"))
        .collect();
    assert!(
        !findings.is_empty(),
        "{what}: no rollback guard finding:\n{log}"
    );
    for f in &findings {
        assert!(f.contains("ERROR"), "{f}");
    }
    if must_report_damage {
        assert!(
            findings
                .iter()
                .any(|f| f.contains("write-ahead log is damaged")),
            "{what}: RocksDB's own report is missing: {findings:?}"
        );
    }
    wait_metric(&n[VICTIM], "waybill_rollbacks_detected_total", 1.0, LIMIT).await;

    // It catches up, and votes again: with another validator stopped, three of four must.
    let target = clients[0].head().await.unwrap().height;
    wait_height(&n[VICTIM], &victim, target, LIMIT).await;
    let load_committed = load.committed();
    load.stop().await;
    kill9(&n[STOPPED]);
    let key = read_key_file(&dir.join("clients/farm-operator.key")).unwrap();
    let receipt = commit_one(
        &n[VICTIM],
        &victim,
        chain,
        &key,
        &format!("{what}: a commit that needs the victim's vote"),
    )
    .await;
    // The guard lifted: the network passed every round it may have signed in, and it signs
    // ledger checkpoints again (a certificate needs three of the three running).
    let log = log_of(&n[VICTIM])[log_before..].to_string();
    assert!(
        log.contains("rollback guard lifted"),
        "{what}:\n{}",
        log_tail(&n[VICTIM], 40)
    );
    let running: Vec<usize> = (0..4).filter(|i| *i != STOPPED).collect();
    let witness = &n[running[running.len() - 1]];
    // A certificate of a height committed without the stopped validator has the victim's
    // signature.
    wait_metric(
        witness,
        "waybill_certified_height",
        receipt.height as f64,
        LIMIT,
    )
    .await;

    // One chain, and no equivocation anywhere.
    let pairs: Vec<(&LocalNode, &rpc::Client)> =
        running.iter().map(|&i| (&n[i], &clients[i])).collect();
    let height = assert_same_chain(&pairs).await;
    assert_no_equivocation(n, &what);
    eprintln!(
        "{what}: store recovered height {recovered} of {acknowledged}; detected: {findings:?}; the victim voted at height {}; {load_committed} load transactions; agreement on {height} heights",
        receipt.height
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flipped_byte_in_the_write_ahead_log() {
    a_damaged_log_is_detected_and_the_node_votes_again("disk-flipped-byte", flip_a_byte, true)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_truncated_write_ahead_log() {
    a_damaged_log_is_detected_and_the_node_votes_again("disk-truncated-wal", cut_the_tail, false)
        .await;
}
