//! A child's end of its socketpair, on the child's own tokio runtime.
//!
//! The recommended stack: the `OwnedFd` inherited through `fork()` becomes a std
//! `UnixStream`, then a tokio one, framed with `LengthDelimitedCodec` and carrying serde_json.
//! Everything the child sends (status, requests and its log lines) goes through one
//! unbounded queue into one writer task, so frames never interleave.

use crate::protocol::{ChildMessage, SupervisorMessage};
use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use std::io;
use std::os::fd::OwnedFd;
use tokio::io::AsyncWriteExt;
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::{mpsc, oneshot};
use tokio_util::codec::{Encoder, FramedRead, LengthDelimitedCodec};

enum Outgoing {
    Message(ChildMessage),
    /// Answered once everything queued before it is written to the socket.
    Flush(oneshot::Sender<()>),
}

/// Sends to the supervisor. Cheap to clone; sending never blocks.
#[derive(Clone)]
pub struct Link {
    outgoing: mpsc::UnboundedSender<Outgoing>,
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

/// Writes queued messages in order. Whatever has piled up is written in one go, so a busy
/// child makes one syscall for many messages.
async fn write_all(mut queue: mpsc::UnboundedReceiver<Outgoing>, mut write_half: OwnedWriteHalf) {
    let mut codec = LengthDelimitedCodec::new();
    let mut bytes = BytesMut::new();
    let mut flushed = Vec::new();
    while let Some(first) = queue.recv().await {
        let mut item = Some(first);
        while let Some(next) = item.take().or_else(|| queue.try_recv().ok()) {
            match next {
                Outgoing::Message(message) => {
                    let json = serde_json::to_vec(&message).expect("protocol messages serialize");
                    codec
                        .encode(Bytes::from(json), &mut bytes)
                        .expect("a protocol message fits in a frame");
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
