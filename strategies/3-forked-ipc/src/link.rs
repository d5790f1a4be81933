//! A child's end of its socketpair, on the child's own tokio runtime.
//!
//! The recommended stack: the `OwnedFd` inherited through `fork()` becomes a std
//! `UnixStream`, then a tokio one, framed with `LengthDelimitedCodec` and carrying serde_json.
//! Everything the child sends (status, requests and its log lines) goes through one
//! unbounded queue into one writer task, so frames never interleave.
//!
//! A message sent with [`Link::hand_over`] can be taken back until the writer takes it:
//! the web server's way to know, when the supervisor does not answer, whether an email
//! never left this process (nothing will send it) or is on its way (something may).

use crate::protocol::{ChildMessage, SupervisorMessage};
use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use std::io;
use std::os::fd::OwnedFd;
use std::sync::{Arc, Mutex};
use tokio::io::AsyncWriteExt;
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::{mpsc, oneshot};
use tokio_util::codec::{Encoder, FramedRead, LengthDelimitedCodec};

enum Outgoing {
    Message(ChildMessage),
    /// A message its sender may still take back: empty once taken back, or taken by the
    /// writer. The one lock decides which came first.
    Revocable(Arc<Mutex<Option<ChildMessage>>>),
    /// Answered once everything queued before it is written to the socket.
    Flush(oneshot::Sender<()>),
}

/// Sends to the supervisor. Cheap to clone; sending never blocks.
#[derive(Clone)]
pub struct Link {
    outgoing: mpsc::UnboundedSender<Outgoing>,
}

/// A message queued with [`Link::hand_over`], for as long as its sender may want it back.
pub struct Handover {
    slot: Arc<Mutex<Option<ChildMessage>>>,
}

impl Handover {
    /// Takes the message back if the writer has not taken it yet. `true`: it never left this
    /// process and never will. `false`: it is written to the socket, or being written (a
    /// frozen supervisor that wakes up reads it).
    pub fn take_back(&self) -> bool {
        self.slot.lock().unwrap().take().is_some()
    }
}

/// Receives from the supervisor. `None` from [`Incoming::next`] means the supervisor is gone.
pub struct Incoming {
    frames: FramedRead<OwnedReadHalf, LengthDelimitedCodec>,
}

/// Wraps the inherited socket. Must be called inside the child's runtime.
pub fn open(fd: OwnedFd) -> io::Result<(Link, Incoming)> {
    let std_stream = std::os::unix::net::UnixStream::from(fd);
    std_stream.set_nonblocking(true)?;
    let (read_half, write_half) = tokio::net::UnixStream::from_std(std_stream)?.into_split();
    let (outgoing, queue) = mpsc::unbounded_channel();
    tokio::spawn(write_all(queue, write_half));
    let frames = FramedRead::new(read_half, LengthDelimitedCodec::new());
    Ok((Link { outgoing }, Incoming { frames }))
}

impl Link {
    /// Queues a message. `false` when the writer has stopped (the supervisor is gone).
    pub fn send(&self, message: ChildMessage) -> bool {
        self.outgoing.send(Outgoing::Message(message)).is_ok()
    }

    /// Queues a message that can be taken back until the writer takes it ([`Handover`]).
    /// `None` when the writer has stopped (the supervisor is gone).
    pub fn hand_over(&self, message: ChildMessage) -> Option<Handover> {
        let slot = Arc::new(Mutex::new(Some(message)));
        self.outgoing
            .send(Outgoing::Revocable(slot.clone()))
            .ok()
            .map(|_| Handover { slot })
    }

    /// Waits until every message sent so far is written: call it before the process exits,
    /// or its last words (the worker's abandoned ids) stay in memory.
    pub async fn flush(&self) {
        let (done, written) = oneshot::channel();
        if self.outgoing.send(Outgoing::Flush(done)).is_ok() {
            let _ = written.await;
        }
    }
}

impl Incoming {
    pub async fn next(&mut self) -> Option<SupervisorMessage> {
        loop {
            let frame = self.frames.next().await?.ok()?;
            match serde_json::from_slice(&frame) {
                Ok(message) => return Some(message),
                Err(e) => tracing::warn!(error = %e, "skipped a frame that is not a message"),
            }
        }
    }
}

/// The most bytes one batch takes from the queue before it is written (the last message may
/// take it past this). Without a bound, a child that queued faster than it wrote would
/// encode everything queued into one batch: all of it handed on, none of it revocable,
/// however long the supervisor stays frozen.
const BATCH_BYTES: usize = 64 * 1024;

/// Writes queued messages in order. What has piled up is written in one go, up to
/// [`BATCH_BYTES`], so a busy child makes one syscall for many messages.
///
/// A message is taken for good when it is encoded into that batch. While the supervisor
/// does not read (it is frozen, or too busy), `write_all` waits with the batch, and what is
/// queued behind it stays in the queue, where a [`Handover`] can still take it back.
async fn write_all(mut queue: mpsc::UnboundedReceiver<Outgoing>, mut write_half: OwnedWriteHalf) {
    let mut codec = LengthDelimitedCodec::new();
    let mut bytes = BytesMut::new();
    let mut flushed = Vec::new();
    let mut encode = |message: ChildMessage, bytes: &mut BytesMut| {
        let json = serde_json::to_vec(&message).expect("protocol messages serialize");
        codec
            .encode(Bytes::from(json), bytes)
            .expect("a protocol message fits in a frame");
    };
    while let Some(first) = queue.recv().await {
        let mut item = Some(first);
        while let Some(next) = item
            .take()
            .or_else(|| (bytes.len() < BATCH_BYTES).then(|| queue.try_recv().ok())?)
        {
            match next {
                Outgoing::Message(message) => encode(message, &mut bytes),
                // Taken back already: its sender has told its client it was not handed on.
                Outgoing::Revocable(slot) => {
                    if let Some(message) = slot.lock().unwrap().take() {
                        encode(message, &mut bytes);
                    }
                }
                Outgoing::Flush(done) => flushed.push(done),
            }
        }
        if write_half.write_all(&bytes).await.is_err() {
            // The supervisor is gone; this process is about to be told so (EOF,
            // PR_SET_PDEATHSIG). Nobody is left to read what we would write.
            break;
        }
        bytes.clear();
        for done in flushed.drain(..) {
            let _ = done.send(());
        }
    }
}
