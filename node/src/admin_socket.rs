//! The node's admin socket: a Unix socket in the data directory (`DATA_DIR/admin.sock`, mode
//! 0600) through which `waybill backup` asks a running node for a checkpoint of its store.
//!
//! Why a socket in the data directory, and not a JSON-RPC method or a signal: JSON-RPC is the
//! clients' port, often reachable from other hosts, and has no notion of an administrator; a
//! method there that writes files on the node's host would need authentication Waybill does not
//! have. A signal cannot say where to write or report what went wrong. The socket file is
//! reachable only on the node's host and only by the node's own user (and root), who can read
//! the data directory anyway: it adds no port, no credential and no config key.
//!
//! The protocol is one JSON line each way per connection: an [`AdminRequest`], then an
//! [`AdminReply`]. Requests are bounded ([`MAX_REQUEST_BYTES`], [`REQUEST_TIMEOUT`]), one
//! backup runs at a time, and nothing a client sends can stop the node.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use ledger::storage::Store;
use ledger::Hash;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};

/// The socket's file name in the node's data directory.
pub const SOCKET_FILE: &str = "admin.sock";
/// The longest request line accepted; a backup request is a path and a few words.
pub const MAX_REQUEST_BYTES: u64 = 8 * 1024;
/// How long a client may take to send its request.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

pub fn socket_path(data_dir: &Path) -> PathBuf {
    data_dir.join(SOCKET_FILE)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum AdminRequest {
    /// Write a checkpoint of the store into `dest` (an absolute path that does not exist yet).
    Backup { dest: PathBuf },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case", deny_unknown_fields)]
pub enum AdminReply {
    /// The checkpoint in `dest` holds the chain up to `height` (block `hash`).
    BackedUp {
        dest: PathBuf,
        height: Option<u64>,
        hash: Option<Hash>,
    },
    Refused {
        reason: String,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum AdminSocketError {
    #[error("admin socket {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("admin socket {path}: the node's reply is not an admin reply: {reason}")]
    BadReply { path: PathBuf, reason: String },
}

/// A listening admin socket; dropping it removes the socket file.
pub struct AdminSocket {
    path: PathBuf,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for AdminSocket {
    fn drop(&mut self) {
        self.task.abort();
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Listens on `DATA_DIR/admin.sock` for the running node whose store is `store`. The caller
/// holds the store open, so no other node uses this data directory: a socket file left there is
/// a dead node's and is replaced.
pub fn start(data_dir: &Path, store: Arc<Store>) -> Result<AdminSocket, AdminSocketError> {
    use std::os::unix::fs::PermissionsExt;
    let path = socket_path(data_dir);
    let io = |source| AdminSocketError::Io {
        path: path.clone(),
        source,
    };
    match std::fs::remove_file(&path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io(e)),
    }
    let listener = UnixListener::bind(&path).map_err(io)?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).map_err(io)?;
    let busy = Arc::new(tokio::sync::Semaphore::new(1));
    let task = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                // Out of descriptors or the like: wait, rather than spin.
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            };
            tokio::spawn(serve(stream, store.clone(), busy.clone()));
        }
    });
    Ok(AdminSocket { path, task })
}

async fn serve(stream: UnixStream, store: Arc<Store>, busy: Arc<tokio::sync::Semaphore>) {
    let (read, mut write) = stream.into_split();
    let mut line = String::new();
    let mut reader = BufReader::new(read.take(MAX_REQUEST_BYTES));
    let reply = match tokio::time::timeout(REQUEST_TIMEOUT, reader.read_line(&mut line)).await {
        Err(_) => refused(format!("no request within {REQUEST_TIMEOUT:?}")),
        Ok(Err(e)) => refused(format!("reading the request: {e}")),
        Ok(Ok(_)) if !line.ends_with('\n') => refused(format!(
            "a request is one line of at most {MAX_REQUEST_BYTES} bytes"
        )),
        Ok(Ok(_)) => match serde_json::from_str::<AdminRequest>(&line) {
            Err(e) => refused(format!("not an admin request: {e}")),
            Ok(request) => handle(request, &store, &busy).await,
        },
    };
    let mut bytes = serde_json::to_vec(&reply).expect("a reply always serializes");
    bytes.push(b'\n');
    // The client may have gone; nothing to do about it.
    let _ = write.write_all(&bytes).await;
}

fn refused(reason: String) -> AdminReply {
    AdminReply::Refused { reason }
}

async fn handle(
    request: AdminRequest,
    store: &Arc<Store>,
    busy: &tokio::sync::Semaphore,
) -> AdminReply {
    match request {
        AdminRequest::Backup { dest } => {
            if !dest.is_absolute() {
                return refused(format!("{} is not an absolute path", dest.display()));
            }
            if dest.symlink_metadata().is_ok() {
                return refused(format!("{} already exists", dest.display()));
            }
            let Ok(_permit) = busy.try_acquire() else {
                return refused("another backup is being written".into());
            };
            let store = store.clone();
            let target = dest.clone();
            // The flush and the links block: off the async workers.
            match tokio::task::spawn_blocking(move || store.checkpoint(&target)).await {
                Ok(Ok(head)) => {
                    tracing::info!(
                        dest = %dest.display(),
                        height = head.map(|h| h.height),
                        "backup written"
                    );
                    AdminReply::BackedUp {
                        dest,
                        height: head.map(|h| h.height),
                        hash: head.map(|h| h.hash),
                    }
                }
                Ok(Err(e)) => {
                    tracing::warn!(dest = %dest.display(), error = %e, "backup failed");
                    refused(e.to_string())
                }
                Err(e) => refused(format!("the backup task failed: {e}")),
            }
        }
    }
}

/// Sends `request` to the node listening on `DATA_DIR/admin.sock` and returns its reply.
pub async fn ask(data_dir: &Path, request: &AdminRequest) -> Result<AdminReply, AdminSocketError> {
    let path = socket_path(data_dir);
    let io = |source| AdminSocketError::Io {
        path: path.clone(),
        source,
    };
    let mut stream = UnixStream::connect(&path).await.map_err(io)?;
    let mut bytes = serde_json::to_vec(request).expect("a request always serializes");
    bytes.push(b'\n');
    stream.write_all(&bytes).await.map_err(io)?;
    let mut line = String::new();
    BufReader::new(stream.take(MAX_REQUEST_BYTES))
        .read_line(&mut line)
        .await
        .map_err(io)?;
    serde_json::from_str(&line).map_err(|e| AdminSocketError::BadReply {
        path: path.clone(),
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn raw(data_dir: &Path, bytes: &[u8]) -> AdminReply {
        let mut s = UnixStream::connect(socket_path(data_dir)).await.unwrap();
        s.write_all(bytes).await.unwrap();
        let mut line = String::new();
        BufReader::new(s).read_line(&mut line).await.unwrap();
        serde_json::from_str(&line).unwrap()
    }

    fn is_refused(r: &AdminReply, words: &str) -> bool {
        matches!(r, AdminReply::Refused { reason } if reason.contains(words))
    }

    #[tokio::test]
    async fn backs_up_and_refuses_bad_requests() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open(&dir.path().join("ledger")).unwrap());
        let socket = start(dir.path(), store).unwrap();
        let mode = std::fs::metadata(socket_path(dir.path()))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);

        let dest = dir.path().join("backup-1");
        let reply = ask(dir.path(), &AdminRequest::Backup { dest: dest.clone() })
            .await
            .unwrap();
        assert_eq!(
            reply,
            AdminReply::BackedUp {
                dest: dest.clone(),
                height: None,
                hash: None
            }
        );
        assert!(dest.join("CURRENT").exists());
        drop(Store::open(&dest).unwrap());

        // Never into an existing directory, never a relative path.
        let again = ask(dir.path(), &AdminRequest::Backup { dest: dest.clone() })
            .await
            .unwrap();
        assert!(is_refused(&again, "already exists"), "{again:?}");
        let relative = AdminRequest::Backup {
            dest: "backup-2".into(),
        };
        let reply = ask(dir.path(), &relative).await.unwrap();
        assert!(is_refused(&reply, "not an absolute path"), "{reply:?}");

        // Hostile bytes get a refusal, and the socket keeps serving.
        let reply = raw(dir.path(), b"{\"op\":\"format_disk\"}\n").await;
        assert!(is_refused(&reply, "not an admin request"), "{reply:?}");
        let reply = raw(dir.path(), b"\xff\xfe\n").await;
        assert!(is_refused(&reply, "reading the request"), "{reply:?}");
        let long = vec![b'x'; MAX_REQUEST_BYTES as usize + 10];
        let reply = raw(dir.path(), &long).await;
        assert!(is_refused(&reply, "one line"), "{reply:?}");

        let dest = dir.path().join("backup-3");
        let reply = ask(dir.path(), &AdminRequest::Backup { dest: dest.clone() })
            .await
            .unwrap();
        assert!(matches!(reply, AdminReply::BackedUp { .. }), "{reply:?}");

        drop(socket);
        assert!(!socket_path(dir.path()).exists());
    }
}
