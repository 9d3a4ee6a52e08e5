//! The safety mark's file (see `engine::guard`), and a thread that writes it while the engine's
//! thread writes the store: the two fsyncs then overlap instead of adding up in every round
//! (each vote, timeout and proposal waits for both).

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex};

/// The file, opened on the first write and then kept: each write overwrites its few bytes in
/// place and syncs them (one fsync; a torn write fails the mark's checksum and is reported).
pub struct MarkFile {
    path: PathBuf,
    file: Mutex<Option<File>>,
}

impl MarkFile {
    pub fn new(path: PathBuf) -> MarkFile {
        MarkFile {
            path,
            file: Mutex::new(None),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Replaces the file's contents with `bytes`, durably.
    pub fn write(&self, bytes: &[u8]) -> io::Result<()> {
        let mut file = self.file.lock().unwrap_or_else(|e| e.into_inner());
        if file.is_none() {
            let f = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&self.path)?;
            // The file's directory entry must be durable too, once.
            if let Some(dir) = self.path.parent() {
                File::open(dir)?.sync_all()?;
            }
            *file = Some(f);
        }
        let f = file.as_ref().expect("opened above");
        f.write_all_at(bytes, 0)?;
        f.set_len(bytes.len() as u64)?;
        f.sync_data()
    }
}

/// One write for the writer thread, and where its outcome goes.
type Job = (Vec<u8>, SyncSender<io::Result<()>>);

/// A thread that writes the mark file on request ([`MarkWriter::start`]), one write at a time.
/// It ends when the writer is dropped.
pub struct MarkWriter {
    jobs: SyncSender<Job>,
}

/// A write under way on the writer thread; [`Pending::wait`] returns once it is durable.
pub struct Pending {
    done: Receiver<io::Result<()>>,
}

impl MarkWriter {
    pub fn start(file: Arc<MarkFile>) -> io::Result<MarkWriter> {
        // One job at a time: the engine waits for each before it writes the next.
        let (jobs, queue) = sync_channel::<Job>(1);
        std::thread::Builder::new()
            .name("safety-mark".into())
            .spawn(move || {
                for (bytes, done) in queue {
                    // The caller may have gone (its store write failed and it returned early).
                    let _ = done.send(file.write(&bytes));
                }
            })?;
        Ok(MarkWriter { jobs })
    }

    /// Starts writing `bytes`.
    pub fn begin(&self, bytes: Vec<u8>) -> Pending {
        let (done, outcome) = sync_channel(1);
        if let Err(e) = self.jobs.send((bytes, done)) {
            // The thread is gone: the job comes back undone. Report it as a failed write.
            let (_, done) = e.0;
            let _ = done.send(Err(io::Error::other(
                "the safety mark's writer thread stopped",
            )));
        }
        Pending { done: outcome }
    }
}

impl Pending {
    pub fn wait(self) -> io::Result<()> {
        self.done
            .recv()
            .unwrap_or_else(|_| Err(io::Error::other("the safety mark's writer thread stopped")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_writer_thread_replaces_the_file_each_time() {
        let dir = tempfile::tempdir().unwrap();
        let file = Arc::new(MarkFile::new(dir.path().join("mark")));
        let writer = MarkWriter::start(file.clone()).unwrap();
        writer
            .begin(b"a longer first mark".to_vec())
            .wait()
            .unwrap();
        writer.begin(b"second".to_vec()).wait().unwrap();
        assert_eq!(std::fs::read(file.path()).unwrap(), b"second");
        // A write it cannot make is reported, and the thread carries on.
        let bad = Arc::new(MarkFile::new(dir.path().join("no-such-dir/mark")));
        let bad_writer = MarkWriter::start(bad).unwrap();
        assert!(bad_writer.begin(b"x".to_vec()).wait().is_err());
        assert!(bad_writer.begin(b"y".to_vec()).wait().is_err());
        writer.begin(b"third".to_vec()).wait().unwrap();
        assert_eq!(std::fs::read(file.path()).unwrap(), b"third");
    }
}
