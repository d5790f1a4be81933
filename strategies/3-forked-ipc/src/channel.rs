//! The supervisor's end of a socketpair: non-blocking, no runtime.
//!
//! The supervisor has no tokio (that is what keeps its `fork()` safe), so it frames by hand
//! around the very same `LengthDelimitedCodec` the children use through `Framed`: the codec's
//! `decode`/`encode` are plain functions on a `BytesMut` and need no runtime.
//!
//! Writes never block the supervisor: what the socket does not take now stays in `outbox`
//! and is flushed when `poll(2)` says the socket is writable again. A frozen child can thus
//! not freeze the supervisor: it only grows that buffer, by no more than the emails that
//! `--max-backlog` lets the supervisor hand over.

use crate::protocol::{ChildMessage, SupervisorMessage};
use bytes::{Buf, Bytes, BytesMut};
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use tokio_util::codec::{Decoder, Encoder, LengthDelimitedCodec};

pub struct Channel {
    stream: UnixStream,
    codec: LengthDelimitedCodec,
    inbox: BytesMut,
    outbox: BytesMut,
}

/// What one read turned up.
pub struct Received {
    pub messages: Vec<ChildMessage>,
    /// The child closed its end (it exited, or it was killed): nothing more will come.
    pub closed: bool,
}

impl Channel {
    pub fn new(fd: OwnedFd) -> io::Result<Channel> {
        let stream = UnixStream::from(fd);
        stream.set_nonblocking(true)?;
        Ok(Channel {
            stream,
            codec: LengthDelimitedCodec::new(),
            inbox: BytesMut::new(),
            outbox: BytesMut::new(),
        })
    }

    pub fn fd(&self) -> RawFd {
        self.stream.as_raw_fd()
    }

    /// Queues one message and writes as much as the socket takes right now.
    pub fn send(&mut self, message: &SupervisorMessage) {
        let json = serde_json::to_vec(message).expect("protocol messages serialize");
        self.codec
            .encode(Bytes::from(json), &mut self.outbox)
            .expect("a protocol message fits in a frame");
        // A write error means the child is gone; its exit is handled when it is reaped.
        let _ = self.flush();
    }

    pub fn has_unsent_bytes(&self) -> bool {
        !self.outbox.is_empty()
    }

    pub fn flush(&mut self) -> io::Result<()> {
        while !self.outbox.is_empty() {
            match self.stream.write(&self.outbox) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => self.outbox.advance(n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Reads everything the socket holds now and decodes the complete frames.
    pub fn receive(&mut self) -> Received {
        let mut closed = false;
        let mut buf = [0u8; 16 * 1024];
        loop {
            match self.stream.read(&mut buf) {
                Ok(0) => {
                    closed = true;
                    break;
                }
                Ok(n) => self.inbox.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => {
                    closed = true;
                    break;
                }
            }
        }
        let mut messages = Vec::new();
        loop {
            match self.codec.decode(&mut self.inbox) {
                Ok(Some(frame)) => match serde_json::from_slice(&frame) {
                    Ok(message) => messages.push(message),
                    Err(e) => tracing::warn!(error = %e, "skipped a frame that is not a message"),
                },
                Ok(None) => break,
                Err(e) => {
                    // A frame length over the codec's limit: the stream cannot be resynchronised.
                    tracing::error!(error = %e, "unreadable stream from a child");
                    closed = true;
                    break;
                }
            }
        }
        Received { messages, closed }
    }
}
