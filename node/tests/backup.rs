//! Backup and restore on four real processes, under a steady load of transactions: a backup of
//! a running validator through its admin socket, more blocks, a restore refused while the node
//! runs, then the stopped validator restored from the old backup (its safety mark and the backup
//! left untouched), restarted, caught up, and voting again: with another validator stopped, the
//! network needs the restored one's votes to commit. No validator sees an equivocation.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ledger::keyfile::read_key_file;
use ledger::receipt::ExecStatus;
use ledger::tx::{Payload, Transaction};
use ledger::KeyPair;
use waybill_node::localnet::{log_tail, start_node, stop_node, LocalNode};

mod common;
use common::{kill9, start_network, wait_answering, EXE};

const CHAIN: &str = "waybill-backup";
/// The validator backed up and restored.
const RESTORED: usize = 3;

struct Nodes(Vec<LocalNode>);

impl Drop for Nodes {
    fn drop(&mut self) {
        for n in &self.0 {
            kill9(n);
        }
    }
}

fn waybill(args: &[&str]) -> Output {
    Command::new(EXE).args(args).output().unwrap()
}

fn ok(args: &[&str]) -> String {
    let out = waybill(args);
    assert!(
        out.status.success(),
        "waybill {}\nstdout:\n{}\nstderr:\n{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn fails(args: &[&str]) -> String {
    let out = waybill(args);
    assert!(
        !out.status.success(),
        "waybill {} should have failed:\n{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8(out.stderr).unwrap()
}

/// Every file of a directory with its bytes: what "untouched" is checked against.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect()
}

fn memo(chain: &str, key: &KeyPair, sequence: u64, text: &str) -> ledger::tx::SignedTransaction {
    let payload: Payload =
        serde_json::from_value(serde_json::json!({"memo": {"data": hex::encode(text)}})).unwrap();
    Transaction {
        chain_id: chain.into(),
        signer: key.public(),
        sequence,
        payload,
    }
    .sign(key)
}

/// One client account submitting memos one after another (each waits for its commit) through
/// the validators other than the restored one, until `stop`.
async fn load(
    key: KeyPair,
    clients: Vec<rpc::Client>,
    stop: Arc<AtomicBool>,
    committed: Arc<AtomicU64>,
) {
    let mut seq = 0;
    while !stop.load(Ordering::Relaxed) {
        let tx = memo(CHAIN, &key, seq, &format!("load {seq}"));
        let via = &clients[seq as usize % clients.len()];
        if let Ok(outcome) = via.submit_and_wait(tx, 20_000).await {
            if outcome
                .receipt
                .is_some_and(|r| r.status == ExecStatus::Success)
            {
                seq += 1;
                committed.fetch_add(1, Ordering::Relaxed);
            }
        }
        // A refused or lost submission is sent again with the same sequence.
    }
}

async fn wait_height(n: &LocalNode, client: &rpc::Client, height: u64) {
    let start = Instant::now();
    loop {
        if client.head().await.is_ok_and(|h| h.height >= height) {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(90),
            "{} never reached height {height}:\n{}",
            n.name,
            log_tail(n, 40)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn committed_height(out: &str) -> u64 {
    out.lines()
        .find_map(|l| l.trim().strip_prefix("committed height "))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no committed height in:\n{out}"))
        .trim_end_matches(';')
        .parse()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_validator_restored_from_an_old_backup_catches_up_and_votes_again() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    // Rejected consensus inputs are logged at debug level with their reason: an equivocation
    // would say "second, different vote from one validator".
    std::env::set_var(
        "RUST_LOG",
        "info,waybill_node::driver::actions=debug,waybill_engine::consensus_io=debug",
    );
    let (all, clients) = start_network(dir, CHAIN, 4).await;
    let nodes = Nodes(all);
    let n = &nodes.0;
    let config = |i: usize| n[i].config_path.display().to_string();

    // A steady load through the three other validators, from three accounts.
    let stop = Arc::new(AtomicBool::new(false));
    let committed = Arc::new(AtomicU64::new(0));
    let mut loaders = Vec::new();
    for org in ["processor", "shipper", "retailer"] {
        let key = read_key_file(&dir.join(format!("clients/{org}-operator.key"))).unwrap();
        let via: Vec<rpc::Client> = (0..RESTORED)
            .map(|i| rpc::Client::new(&n[i].rpc_url()).unwrap())
            .collect();
        loaders.push(tokio::spawn(load(
            key,
            via,
            stop.clone(),
            committed.clone(),
        )));
    }
    while committed.load(Ordering::Relaxed) < 10 {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // The backup, from the running validator.
    let backup = dir.join("backup-1");
    let backup_arg = backup.display().to_string();
    let out = ok(&["backup", "--config", &config(RESTORED), &backup_arg]);
    assert!(out.contains("from the running node"), "{out}");
    let backed_up = committed_height(&out);
    assert!(backed_up > 0, "{out}");
    let err = fails(&["backup", "--config", &config(RESTORED), &backup_arg]);
    assert!(err.contains("already exists"), "{err}");
    let backup_files = snapshot(&backup);

    // The chain moves on well past the backup.
    wait_height(&n[RESTORED], &clients[RESTORED], backed_up + 10).await;

    // Not onto a running node.
    let err = fails(&["restore", "--config", &config(RESTORED), &backup_arg]);
    assert!(
        err.contains("is running (pid") && err.contains("stop it before restoring"),
        "{err}"
    );

    // 1. The usual case: stopped, restored from the old backup over a ledger that is still
    //    readable. The safety mark (written by the engine) is not touched, nor is the backup.
    let load_at_restore = committed.load(Ordering::Relaxed);
    assert!(stop_node(&n[RESTORED], Duration::from_secs(10)));
    let data_dir = &n[RESTORED].config.node.data_dir;
    let mark = data_dir.join(waybill_node::restore::SAFETY_MARK_FILE);
    assert!(mark.exists(), "the engine keeps a safety mark");
    let untouched = |mark_before: &[u8], modified| {
        assert_eq!(
            std::fs::read(&mark).unwrap(),
            mark_before,
            "restore changed the mark"
        );
        assert_eq!(
            std::fs::metadata(&mark).unwrap().modified().unwrap(),
            modified
        );
        assert_eq!(
            snapshot(&backup),
            backup_files,
            "restore changed the backup"
        );
    };
    let mark_before = std::fs::read(&mark).unwrap();
    let modified = std::fs::metadata(&mark).unwrap().modified().unwrap();
    let out = ok(&["restore", "--config", &config(RESTORED), &backup_arg]);
    assert_eq!(committed_height(&out), backed_up, "{out}");
    assert!(out.contains("kept from the replaced ledger"), "{out}");
    assert!(out.contains("left as it is"), "{out}");
    untouched(&mark_before, modified);
    {
        let store = ledger::storage::Store::open(&data_dir.join("ledger")).unwrap();
        assert_eq!(store.head().unwrap().height, backed_up);
        assert!(store.load_consensus().unwrap().safety.is_some());
    }
    let aside = || -> Vec<PathBuf> {
        std::fs::read_dir(data_dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with("ledger.replaced-")
            })
            .collect()
    };
    assert_eq!(aside().len(), 1, "the replaced ledger is kept");
    // Restore refuses a directory that is not a backup.
    let err = fails(&[
        "restore",
        "--config",
        &config(RESTORED),
        &dir.display().to_string(),
    ]);
    assert!(err.contains("is not a backup"), "{err}");

    // Restarted, the guard finds the ledger behind the mark, and it catches up.
    let target = clients[0].head().await.unwrap().height;
    start_node(Path::new(EXE), &n[RESTORED]).unwrap();
    let restored = wait_answering(&n[RESTORED]).await;
    wait_height(&n[RESTORED], &restored, target).await;
    let log = std::fs::read_to_string(n[RESTORED].log_file()).unwrap();
    assert!(
        log.contains("ROLLBACK GUARD") && log.contains("the ledger lost blocks"),
        "{}",
        log_tail(&n[RESTORED], 40)
    );

    // 2. The ledger lost with its disk, the mark kept: the old backup is all there is, with the
    //    safety data of its time. The mark alone keeps the validator from signing again in a
    //    round it signed in after the backup.
    wait_height(&n[RESTORED], &restored, target + 5).await;
    assert!(stop_node(&n[RESTORED], Duration::from_secs(10)));
    std::fs::remove_dir_all(data_dir.join("ledger")).unwrap();
    for old in aside() {
        std::fs::remove_dir_all(old).unwrap();
    }
    let mark_before = std::fs::read(&mark).unwrap();
    let modified = std::fs::metadata(&mark).unwrap().modified().unwrap();
    let out = ok(&["restore", "--config", &config(RESTORED), &backup_arg]);
    assert!(out.contains("the backup's (there was no other)"), "{out}");
    untouched(&mark_before, modified);
    let log_before = std::fs::read_to_string(n[RESTORED].log_file())
        .unwrap()
        .len();
    let target = clients[0].head().await.unwrap().height;
    start_node(Path::new(EXE), &n[RESTORED]).unwrap();
    let restored = wait_answering(&n[RESTORED]).await;
    wait_height(&n[RESTORED], &restored, target).await;
    let log = std::fs::read_to_string(n[RESTORED].log_file()).unwrap()[log_before..].to_string();
    assert!(log.contains("is behind the safety mark"), "{log}");

    // Both restores happened under load: the other validators kept committing the clients'
    // transactions all along.
    let load_after = committed.load(Ordering::Relaxed);
    assert!(
        load_after > load_at_restore + 5,
        "the load stalled across the restores: {load_at_restore} -> {load_after} transactions"
    );

    // It votes again: with validator 0 stopped, three of four must vote, the restored one too.
    stop.store(true, Ordering::Relaxed);
    for l in loaders {
        l.await.unwrap();
    }
    assert!(stop_node(&n[0], Duration::from_secs(10)));
    let key = read_key_file(&dir.join("clients/farm-operator.key")).unwrap();
    let outcome = restored
        .submit_and_wait(memo(CHAIN, &key, 0, "restored votes"), 60_000)
        .await
        .unwrap();
    let receipt = outcome.receipt.unwrap_or_else(|| {
        panic!(
            "no commit without validator 0:\n{}",
            log_tail(&n[RESTORED], 40)
        )
    });
    assert_eq!(receipt.status, ExecStatus::Success);
    // The fence is down: the network passed every round the restored node may have signed in.
    let log = std::fs::read_to_string(n[RESTORED].log_file()).unwrap();
    assert!(
        log[log_before..].contains("rollback guard lifted"),
        "{}",
        log_tail(&n[RESTORED], 40)
    );

    // One chain: the restored validator and the others hold the same blocks.
    let height = receipt.height;
    for (i, c) in clients.iter().enumerate().skip(1) {
        wait_height(&n[i], c, height).await;
        let mine = restored.block(height).await.unwrap().unwrap();
        let theirs = c.block(height).await.unwrap().unwrap();
        assert_eq!(mine.block.hash(), theirs.block.hash(), "validator {i}");
    }
    // And nobody saw a validator sign two different things in one round (the core's rejection
    // of a second vote, the engine's offence), nor the restored one learn it had.
    let equivocation = |l: &str| {
        l.contains("second, different")
            || l.contains("equivocation")
            || l.contains("signed in a round it had forgotten")
    };
    for node in n {
        let log = std::fs::read_to_string(node.log_file()).unwrap();
        assert!(
            !log.lines().any(equivocation),
            "{}: an equivocation:\n{}",
            node.name,
            log.lines()
                .filter(|l| equivocation(l))
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
    eprintln!(
        "backup at height {backed_up}, restored validator caught up to {target}, voted at {height}; {} load transactions committed",
        committed.load(Ordering::Relaxed)
    );
}
