//! Consensus links: consensus messages ride one long-lived stream per peer and direction
//! (`/waybill/consensus/5`), as length-prefixed frames (`codec::frame`).
//!
//! Why not request-response, as before: each message there was a new yamux substream with its
//! own protocol negotiation, an empty acknowledgement back, and a close each way; about seven
//! yamux frames, each its own noise message and system call, for one vote. At 1,000 tx/s a
//! validator sends and receives about twenty consensus messages a height, and the connection
//! tasks were a quarter of its CPU (BENCHMARKS.md, eleventh pass). On a link a message is one
//! frame. Messages to one peer now arrive in the order they were sent, which the protocol never
//! needed and does not rely on.
//!
//! Bounds and failures:
//! - Each peer's outbound messages wait in a queue of at most [`LINK_QUEUE`] messages and
//!   [`LINK_QUEUE_BYTES`] bytes (counting the one being written); a full queue drops the message
//!   and counts a failed send, as a lost message always was: consensus recovers from loss by
//!   timeouts and sync. The writer never blocks the network task.
//! - A stream that breaks (the peer restarted, refused a frame, or stopped reading for
//!   [`WRITE_TIMEOUT`]) is dropped and reopened once for the message that found it broken.
//! - Inbound, each peer has at most one live link: a new stream from the same peer replaces the
//!   old one. A frame above the size limit is refused before allocation, counted, and ends the
//!   link (the stream's framing is lost); the peer's next message opens a new one.
//! - Every inbound frame is checked against the allowed set again before it is delivered.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use libp2p::futures::{AsyncWriteExt, StreamExt};
use libp2p::{PeerId, Stream, StreamProtocol};
use libp2p_stream::{Control, IncomingStreams};
use tokio::sync::mpsc;
use tokio::task::AbortHandle;

use super::codec::read_frame;
use super::event::{Counters, EventSink, NetworkEvent};
use super::handle::Shared;

pub const CONSENSUS_PROTOCOL: StreamProtocol = StreamProtocol::new("/waybill/consensus/5");

/// Messages waiting for one peer's stream. A round sends a peer a few; a burst of checkpoint
/// re-votes at most 16 a poll.
pub(crate) const LINK_QUEUE: usize = 1_024;
/// Bytes waiting for one peer's stream. Without it a peer that reads slowly could hold
/// [`LINK_QUEUE`] proposals of up to 4 MiB each, 4 GiB, for [`WRITE_TIMEOUT`]; with it, sixteen
/// of the largest. (A broadcast's frame is shared between peers' queues, and counted in each.)
pub(crate) const LINK_QUEUE_BYTES: usize = 64 << 20;
// The largest message, with its 4-byte length, always fits a peer's empty queue.
const _: () = assert!(engine::wire::MAX_CONSENSUS_BYTES + 4 <= LINK_QUEUE_BYTES);
/// Opening a stream waits at most this long (it dials a peer that is not connected).
const OPEN_TIMEOUT: Duration = Duration::from_secs(5);
/// A peer that takes longer than this to take one frame (yamux flow control: it stopped
/// reading) loses its stream.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// A shared, framed message: a broadcast is framed once for all its peers.
pub(crate) type Frame = Arc<Vec<u8>>;

/// The outbound side: one writer task and queue per peer, created on the first message.
pub(crate) struct Links {
    control: Control,
    writers: HashMap<PeerId, Writer>,
    counters: Arc<Counters>,
    acceptor: AbortHandle,
}

/// One peer's queue: its sender, its bytes, and its writer task.
struct Writer {
    queue: mpsc::Sender<Frame>,
    bytes: Arc<QueuedBytes>,
    task: AbortHandle,
}

impl Links {
    /// Starts accepting inbound links (delivered to `events`) and returns the outbound side.
    pub(crate) fn start(
        mut control: Control,
        shared: Arc<Mutex<Shared>>,
        events: EventSink,
        max_message: usize,
    ) -> Result<Links, libp2p_stream::AlreadyRegistered> {
        let incoming = control.accept(CONSENSUS_PROTOCOL)?;
        let counters = events.counters().clone();
        let acceptor = tokio::spawn(accept_links(incoming, shared, events, max_message));
        Ok(Links {
            control,
            writers: HashMap::new(),
            counters,
            acceptor: acceptor.abort_handle(),
        })
    }

    /// Queues `frame` for `peer`, never waiting: a full queue drops it (and counts it).
    pub(crate) fn send(&mut self, peer: PeerId, frame: Frame) {
        if self.writers.len() >= MAX_LINKS && !self.writers.contains_key(&peer) {
            // Peers come from the allow-list, which is far smaller; never grow without bound.
            Counters::bump(&self.counters.failed_sends);
            tracing::warn!(%peer, "too many consensus links; message dropped");
            return;
        }
        let writer = self.writers.entry(peer).or_insert_with(|| {
            let (queue, rx) = mpsc::channel(LINK_QUEUE);
            let bytes = Arc::new(QueuedBytes::new(LINK_QUEUE_BYTES));
            let task = tokio::spawn(write_link(
                self.control.clone(),
                peer,
                rx,
                bytes.clone(),
                self.counters.clone(),
            ));
            Writer {
                queue,
                bytes,
                task: task.abort_handle(),
            }
        });
        let len = frame.len();
        if !writer.bytes.try_reserve(len) {
            Counters::bump(&self.counters.failed_sends);
            tracing::debug!(%peer, len, "consensus link queue full of bytes; message dropped");
            return;
        }
        if let Err(e) = writer.queue.try_send(frame) {
            writer.bytes.release(len);
            Counters::bump(&self.counters.failed_sends);
            match e {
                mpsc::error::TrySendError::Full(_) => {
                    tracing::debug!(%peer, "consensus link queue full; message dropped")
                }
                mpsc::error::TrySendError::Closed(_) => {
                    // The writer ended (it cannot, short of a panic): start afresh next time.
                    self.forget(&peer);
                }
            }
        }
    }

    /// Drops `peer`'s link and queued messages (it left the set, or is refused for a while).
    pub(crate) fn forget(&mut self, peer: &PeerId) {
        if let Some(writer) = self.writers.remove(peer) {
            writer.task.abort();
        }
    }
}

impl Drop for Links {
    fn drop(&mut self) {
        self.acceptor.abort();
        for writer in self.writers.values() {
            writer.task.abort();
        }
    }
}

/// Far above any allow-list (validators and observers), and a bound all the same.
const MAX_LINKS: usize = 1_024;

/// The bytes of one peer's queued frames, against a limit. `Links::send` reserves before
/// queueing; the writer releases after the frame is written or given up, so a frame being
/// written still counts.
struct QueuedBytes {
    held: AtomicUsize,
    limit: usize,
}

impl QueuedBytes {
    fn new(limit: usize) -> QueuedBytes {
        QueuedBytes {
            held: AtomicUsize::new(0),
            limit,
        }
    }

    /// Takes `len` bytes of the budget, or nothing if they do not fit.
    fn try_reserve(&self, len: usize) -> bool {
        self.held
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |held| {
                held.checked_add(len).filter(|&after| after <= self.limit)
            })
            .is_ok()
    }

    fn release(&self, len: usize) {
        let before = self.held.fetch_sub(len, Ordering::AcqRel);
        assert!(before >= len, "released {len} of {before} queued bytes");
    }
}

/// One peer's writer: opens the stream when it has something to send and none is open.
async fn write_link(
    mut control: Control,
    peer: PeerId,
    mut queue: mpsc::Receiver<Frame>,
    bytes: Arc<QueuedBytes>,
    counters: Arc<Counters>,
) {
    let mut stream: Option<Stream> = None;
    while let Some(frame) = queue.recv().await {
        // Released however this frame ends (sent, given up, or the task aborted mid-write).
        let _held = Release(&bytes, frame.len());
        let mut sent = false;
        // A stream found broken is reopened once, for this message.
        for _attempt in 0..2 {
            let open = match stream.as_mut() {
                Some(open) => open,
                None => match tokio::time::timeout(
                    OPEN_TIMEOUT,
                    control.open_stream(peer, CONSENSUS_PROTOCOL),
                )
                .await
                {
                    Ok(Ok(opened)) => stream.insert(opened),
                    Ok(Err(error)) => {
                        tracing::debug!(%peer, %error, "consensus link not opened");
                        break;
                    }
                    Err(_) => {
                        tracing::debug!(%peer, "consensus link not opened in time");
                        break;
                    }
                },
            };
            let write = async {
                open.write_all(&frame).await?;
                open.flush().await
            };
            match tokio::time::timeout(WRITE_TIMEOUT, write).await {
                Ok(Ok(())) => {
                    sent = true;
                    break;
                }
                Ok(Err(error)) => {
                    tracing::debug!(%peer, %error, "consensus link broken; reopening");
                    stream = None;
                }
                Err(_) => {
                    tracing::debug!(%peer, "consensus link stalled; reopening");
                    stream = None;
                }
            }
        }
        if !sent {
            Counters::bump(&counters.failed_sends);
        }
    }
}

/// Gives a frame's bytes back to its queue's budget when dropped.
struct Release<'a>(&'a QueuedBytes, usize);

impl Drop for Release<'_> {
    fn drop(&mut self) {
        self.0.release(self.1);
    }
}

/// Readers of inbound links, stopped with the acceptor that owns them.
struct Readers(HashMap<PeerId, AbortHandle>);

impl Drop for Readers {
    fn drop(&mut self) {
        for task in self.0.values() {
            task.abort();
        }
    }
}

async fn accept_links(
    mut incoming: IncomingStreams,
    shared: Arc<Mutex<Shared>>,
    events: EventSink,
    max_message: usize,
) {
    let mut readers = Readers(HashMap::new());
    while let Some((peer, stream)) = incoming.next().await {
        if !is_allowed(&shared, &peer) {
            reject(&events, &peer, "peer not allowed");
            continue;
        }
        readers.0.retain(|_, task| !task.is_finished());
        if readers.0.len() >= MAX_LINKS && !readers.0.contains_key(&peer) {
            tracing::warn!(%peer, "too many inbound consensus links; stream dropped");
            continue;
        }
        let reader = tokio::spawn(read_link(
            peer,
            stream,
            shared.clone(),
            events.clone(),
            max_message,
        ));
        if let Some(replaced) = readers.0.insert(peer, reader.abort_handle()) {
            replaced.abort();
        }
    }
}

/// Delivers `peer`'s frames until the stream ends or breaks its framing.
async fn read_link(
    peer: PeerId,
    mut stream: Stream,
    shared: Arc<Mutex<Shared>>,
    events: EventSink,
    max_message: usize,
) {
    loop {
        match read_frame(
            &mut stream,
            max_message,
            "consensus message",
            events.counters(),
        )
        .await
        {
            Ok(bytes) => {
                if !is_allowed(&shared, &peer) {
                    // It left the set since the link opened (its connection is closing).
                    reject(&events, &peer, "peer not allowed");
                    return;
                }
                events.emit(NetworkEvent::Consensus { from: peer, bytes });
            }
            Err(error) if error.kind() == std::io::ErrorKind::InvalidData => {
                // Counted by `read_frame`; say who.
                tracing::warn!(%peer, %error, "consensus link closed after a refused frame");
                return;
            }
            Err(error) => {
                tracing::debug!(%peer, %error, "consensus link ended");
                return;
            }
        }
    }
}

fn is_allowed(shared: &Mutex<Shared>, peer: &PeerId) -> bool {
    shared
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .allowed
        .contains(peer)
}

fn reject(events: &EventSink, peer: &PeerId, why: &str) {
    Counters::bump(&events.counters().rejected_messages);
    tracing::warn!(%peer, what = "consensus", why, "inbound message rejected");
}

#[cfg(test)]
mod tests {
    use super::QueuedBytes;

    #[test]
    fn a_queue_takes_bytes_up_to_its_limit_and_again_once_released() {
        let bytes = QueuedBytes::new(100);
        assert!(bytes.try_reserve(60));
        assert!(bytes.try_reserve(40));
        assert!(!bytes.try_reserve(1), "the limit is full");
        bytes.release(40);
        assert!(!bytes.try_reserve(41), "only 40 were given back");
        assert!(bytes.try_reserve(40));
        assert!(
            !bytes.try_reserve(usize::MAX),
            "an overflowing size is refused, not wrapped"
        );
    }
}
