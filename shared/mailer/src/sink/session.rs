//! One SMTP conversation, from the greeting to QUIT.

use super::faults::Outcome;
use super::{quickack, Shared};
use crate::ledger::Delivery;
use std::io;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Longest command line we read (RFC 5321 says 512; AUTH lines can be longer).
const MAX_LINE: usize = 4096;
/// Largest message we take; larger ones get `552` and the connection is closed.
const MAX_MESSAGE: usize = 1024 * 1024;

/// Reads CRLF-terminated lines from the socket, setting `TCP_QUICKACK` after each read
/// while a message body is coming in (see `quickack.rs` for why).
struct LineReader {
    stream: TcpStream,
    buf: Vec<u8>,
    quickack: bool,
}

impl LineReader {
    /// The next line without its line ending; `None` when the client closed the socket.
    async fn next_line(&mut self, limit: usize) -> io::Result<Option<Vec<u8>>> {
        loop {
            if let Some(end) = self.buf.iter().position(|&b| b == b'\n') {
                let mut line: Vec<u8> = self.buf.drain(..=end).collect();
                line.pop();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                return Ok(Some(line));
            }
            if self.buf.len() > limit {
                return Err(io::Error::new(io::ErrorKind::InvalidData, "line too long"));
            }
            let mut chunk = [0u8; 16 * 1024];
            let n = self.stream.read(&mut chunk).await?;
            if self.quickack {
                quickack::enable(&self.stream);
            }
            if n == 0 {
                return Ok(None);
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    async fn reply(&mut self, text: &str) -> io::Result<()> {
        self.stream.write_all(text.as_bytes()).await
    }
}

pub(super) async fn run(stream: TcpStream, shared: Arc<Shared>) -> io::Result<()> {
    let mut conn = LineReader {
        stream,
        buf: Vec::new(),
        quickack: false,
    };
    conn.reply("220 offload-sink ESMTP ready\r\n").await?;
    loop {
        let Some(line) = conn.next_line(MAX_LINE).await? else {
            return Ok(());
        };
        let line = String::from_utf8_lossy(&line);
        let verb = line
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        match verb.as_str() {
            "EHLO" => {
                conn.reply(
                    "250-offload-sink\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250-AUTH PLAIN LOGIN\r\n250 SIZE 1048576\r\n",
                )
                .await?
            }
            "HELO" => conn.reply("250 offload-sink\r\n").await?,
            "MAIL" | "RCPT" => conn.reply("250 2.1.0 OK\r\n").await?,
            "RSET" | "NOOP" => conn.reply("250 2.0.0 OK\r\n").await?,
            "AUTH" => authenticate(&mut conn, &line).await?,
            "DATA" => {
                conn.reply("354 end data with <CR><LF>.<CR><LF>\r\n").await?;
                shared.count_data_started();
                conn.quickack = shared.quickack();
                let body = read_body(&mut conn).await?;
                conn.quickack = false;
                let Some(body) = body else {
                    conn.reply("552 5.3.4 message too big\r\n").await?;
                    return Ok(());
                };
                if !finish_message(&mut conn, &shared, &body).await? {
                    return Ok(());
                }
            }
            "QUIT" => {
                conn.reply("221 2.0.0 bye\r\n").await?;
                return Ok(());
            }
            _ => conn.reply("502 5.5.2 command not recognized\r\n").await?,
        }
    }
}

/// AUTH PLAIN and LOGIN: every credential passes, the exchange is only played through.
async fn authenticate(conn: &mut LineReader, line: &str) -> io::Result<()> {
    let mut words = line.split_whitespace().skip(1);
    let mechanism = words.next().unwrap_or("").to_ascii_uppercase();
    let initial_response = words.next().is_some();
    match mechanism.as_str() {
        "PLAIN" => {
            if !initial_response {
                conn.reply("334 \r\n").await?;
                conn.next_line(MAX_LINE).await?;
            }
        }
        "LOGIN" => {
            for prompt in ["334 VXNlcm5hbWU6\r\n", "334 UGFzc3dvcmQ6\r\n"] {
                conn.reply(prompt).await?;
                conn.next_line(MAX_LINE).await?;
            }
        }
        _ => return conn.reply("504 5.5.4 mechanism not supported\r\n").await,
    }
    conn.reply("235 2.7.0 authenticated\r\n").await
}

/// Reads the message up to the lone `.` line, undoing dot-stuffing. `None` if it was too big.
async fn read_body(conn: &mut LineReader) -> io::Result<Option<Vec<u8>>> {
    let mut body = Vec::new();
    let mut too_big = false;
    loop {
        let Some(line) = conn.next_line(MAX_MESSAGE).await? else {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "client closed during DATA",
            ));
        };
        if line == b"." {
            return Ok(if too_big { None } else { Some(body) });
        }
        let line = line.strip_prefix(b".").unwrap_or(&line);
        if body.len() + line.len() > MAX_MESSAGE {
            too_big = true;
            continue;
        }
        body.extend_from_slice(line);
        body.extend_from_slice(b"\r\n");
    }
}

/// Applies this message's fault and answers. Returns false when the connection was dropped.
async fn finish_message(conn: &mut LineReader, shared: &Shared, raw: &[u8]) -> io::Result<bool> {
    let faults = shared.faults();
    let delay = faults.latency.sample();
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    // A client that gave up while we were slow (its process was killed, say) has closed
    // the socket. A real server might still deliver that mail; we count it as aborted so
    // that "the sender died before the answer" shows up as loss, as the sender believes.
    if client_hung_up(&conn.stream) {
        shared.count_aborted();
        return Ok(false);
    }
    let outcome = match faults.seed {
        // A seeded fate needs to know which message this is, and how often it came before.
        Some(_) => {
            let key = match decode(raw) {
                Some(d) => [d.to.as_bytes(), d.subject.as_bytes(), d.text.as_bytes()].join(&0u8),
                None => raw.to_vec(),
            };
            faults.fate_of(&key, shared.sighting(&key))
        }
        None => faults.draw(),
    };
    shared.count(outcome);
    match outcome {
        Outcome::Drop => {
            // Closing without a reply: the client cannot know whether the mail went out.
            let _ = conn.stream.shutdown().await;
            Ok(false)
        }
        Outcome::TransientFailure => {
            conn.reply("451 4.3.0 injected transient failure, try again later\r\n")
                .await?;
            Ok(true)
        }
        Outcome::PermanentFailure => {
            conn.reply("554 5.6.0 injected permanent failure\r\n")
                .await?;
            Ok(true)
        }
        Outcome::Accept => match decode(raw) {
            Some(delivery) => {
                let reply = format!("250 2.0.0 OK queued as {}\r\n", delivery.message_id);
                shared.record(delivery);
                conn.reply(&reply).await?;
                Ok(true)
            }
            None => {
                conn.reply("554 5.6.0 message could not be parsed\r\n")
                    .await?;
                Ok(true)
            }
        },
    }
}

/// True if the peer closed its side: a read would return end-of-file right away.
fn client_hung_up(stream: &TcpStream) -> bool {
    let mut probe = [0u8; 1];
    matches!(stream.try_read(&mut probe), Ok(0))
}

/// Decodes the MIME message with mail-parser: encoded words, transfer encodings, charsets.
fn decode(raw: &[u8]) -> Option<Delivery> {
    let message = mail_parser::MessageParser::default().parse(raw)?;
    let to = message
        .to()
        .and_then(|to| to.first())
        .and_then(|addr| addr.address())
        .unwrap_or_default()
        .to_string();
    let header_names = message
        .headers()
        .iter()
        .map(|h| h.name().to_string())
        .collect();
    Some(Delivery {
        to,
        subject: message.subject().unwrap_or_default().to_string(),
        text: message
            .body_text(0)
            .map(|t| t.trim_end_matches(['\r', '\n']).to_string())
            .unwrap_or_default(),
        message_id: message
            .message_id()
            .map(|id| format!("<{id}>"))
            .unwrap_or_default(),
        received_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        header_names,
    })
}
