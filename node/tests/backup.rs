//! Backup and restore on four real processes, under a steady load of transactions: a backup of
//! a running validator through its admin socket, more blocks, a restore refused while the node
//! runs, then the stopped validator restored from the old backup (its safety mark and the backup
//! left untouched), restarted, caught up, and voting again: with another validator stopped, the
//! network needs the restored one's votes to commit. No validator sees an equivocation.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use ledger::keyfile::read_key_file;
use waybill_node::localnet::{log_tail, start_node, stop_node};

mod common;
use common::{
    assert_no_equivocation, commit_one, start_network, wait_answering, wait_height, wait_metric,
    Load, Processes, EXE,
};

const CHAIN: &str = "waybill-backup";
/// The validator backed up and restored.
const RESTORED: usize = 3;
/// How long a node may take to reach a height (a liveness bound, far above the usual).
const LIMIT: Duration = Duration::from_secs(90);

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
    let nodes = Processes(all);
    let n = &nodes.0;
    let config = |i: usize| n[i].config_path.display().to_string();

    // A steady load through the three other validators, from three accounts.
    let keys = ["processor", "shipper", "retailer"]
        .map(|org| read_key_file(&dir.join(format!("clients/{org}-operator.key"))).unwrap());
    let via: Vec<_> = n[..RESTORED].iter().collect();
    let load = Load::start(CHAIN, keys.to_vec(), &via);
    load.wait_more(10, Duration::from_secs(60), "before the backup")
        .await;

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
    wait_height(&n[RESTORED], &clients[RESTORED], backed_up + 10, LIMIT).await;

    // Not onto a running node.
    let err = fails(&["restore", "--config", &config(RESTORED), &backup_arg]);
    assert!(
        err.contains("is running (pid") && err.contains("stop it before restoring"),
        "{err}"
    );

    // 1. The usual case: stopped, restored from the old backup over a ledger that is still
    //    readable. The safety mark (written by the engine) is not touched, nor is the backup.
    let load_at_restore = load.committed();
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
    wait_height(&n[RESTORED], &restored, target, LIMIT).await;
    let log = std::fs::read_to_string(n[RESTORED].log_file()).unwrap();
    assert!(
        log.contains("ROLLBACK GUARD") && log.contains("the ledger lost blocks"),
        "{}",
        log_tail(&n[RESTORED], 40)
    );
    wait_metric(&n[RESTORED], "waybill_rollbacks_detected_total", 1.0, LIMIT).await;

    // 2. The ledger lost with its disk, the mark kept: the old backup is all there is, with the
    //    safety data of its time. The mark alone keeps the validator from signing again in a
    //    round it signed in after the backup.
    wait_height(&n[RESTORED], &restored, target + 5, LIMIT).await;
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
    wait_height(&n[RESTORED], &restored, target, LIMIT).await;
    let log = std::fs::read_to_string(n[RESTORED].log_file()).unwrap()[log_before..].to_string();
    assert!(log.contains("is behind the safety mark"), "{log}");

    // Both restores happened under load: the other validators kept committing the clients'
    // transactions all along.
    let load_after = load.committed();
    assert!(
        load_after > load_at_restore + 5,
        "the load stalled across the restores: {load_at_restore} -> {load_after} transactions"
    );

    // It votes again: with validator 0 stopped, three of four must vote, the restored one too.
    let load_committed = load.committed();
    load.stop().await;
    assert!(stop_node(&n[0], Duration::from_secs(10)));
    let key = read_key_file(&dir.join("clients/farm-operator.key")).unwrap();
    let receipt = commit_one(
        &n[RESTORED],
        &restored,
        CHAIN,
        &key,
        "a commit without validator 0",
    )
    .await;
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
        wait_height(&n[i], c, height, LIMIT).await;
        let mine = restored.block(height).await.unwrap().unwrap();
        let theirs = c.block(height).await.unwrap().unwrap();
        assert_eq!(mine.block.hash(), theirs.block.hash(), "validator {i}");
    }
    // And nobody saw a validator sign two different things in one round (the core's rejection
    // of a second vote, the engine's offence), nor the restored one learn it had.
    assert_no_equivocation(n, "after the restores");
    eprintln!(
        "backup at height {backed_up}, restored validator caught up to {target}, voted at {height}; {load_committed} load transactions committed"
    );
}
