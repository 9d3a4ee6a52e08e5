//! Which process has a node's database open. RocksDB takes a POSIX record lock (`fcntl`
//! `F_SETLK`) on the database's `LOCK` file for as long as it is open; `F_GETLK` on that file
//! names the process holding it. So `waybill reset` or a second `waybill run` on a running
//! node's data can say "running, pid N" instead of RocksDB's "Resource temporarily
//! unavailable".

use std::path::Path;

/// The pid of another process holding the database in `db_dir`, if one does. `None` also when
/// there is no database, or when the lock cannot be queried (RocksDB's own error then follows).
pub fn holder(db_dir: &Path) -> Option<i32> {
    use std::os::fd::AsRawFd;
    let file = std::fs::File::open(db_dir.join("LOCK")).ok()?;
    // SAFETY: `flock` is plain data; zeroed is a valid value, then filled in below.
    let mut query: libc::flock = unsafe { std::mem::zeroed() };
    query.l_type = libc::F_WRLCK as libc::c_short;
    query.l_whence = libc::SEEK_SET as libc::c_short;
    query.l_start = 0;
    query.l_len = 0;
    // SAFETY: a valid open descriptor and a pointer to a live `flock`; F_GETLK only writes it.
    let rc = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_GETLK, &mut query) };
    (rc == 0 && query.l_type != libc::F_UNLCK as libc::c_short).then_some(query.l_pid)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A child process holds the store open; this process sees its pid. (A process never
    /// conflicts with its own POSIX locks, so the holder must be another process.)
    #[test]
    fn names_the_process_holding_a_store() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(holder(dir.path()), None, "no database, no holder");
        drop(ledger::storage::Store::open(dir.path()).unwrap());
        assert_eq!(holder(dir.path()), None, "closed: nobody holds it");
        // flock(1) would take a different kind of lock; python's fcntl.lockf takes the same
        // kind as RocksDB. Skip where python3 is missing rather than fail.
        let script = "import fcntl,sys,time\nf=open(sys.argv[1],'r+')\nfcntl.lockf(f,fcntl.LOCK_EX)\nprint('locked',flush=True)\ntime.sleep(30)\n";
        let child = std::process::Command::new("python3")
            .args(["-c", script])
            .arg(dir.path().join("LOCK"))
            .stdout(std::process::Stdio::piped())
            .spawn();
        let Ok(mut child) = child else {
            eprintln!("python3 not found: skipping the cross-process half of this test");
            return;
        };
        let mut line = String::new();
        use std::io::BufRead;
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line.trim(), "locked");
        let seen = holder(dir.path());
        let _ = child.kill();
        let _ = child.wait();
        assert_eq!(seen, Some(child.id() as i32));
    }
}
