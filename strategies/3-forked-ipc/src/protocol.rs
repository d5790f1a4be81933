//! What travels on the socketpairs. Each frame is one JSON document behind a 4-byte
//! big-endian length (tokio-util's `LengthDelimitedCodec`, used on both ends).
//!
//! Children only ever talk to the supervisor, never to each other: the web server does not
//! know whether a worker exists, which is what lets the supervisor hold mail while the
//! worker is being re-forked.

use mailer::Email;
use serde::{Deserialize, Serialize};

/// Child -> supervisor.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ChildMessage {
    /// The child can take work: the web server is serving, the worker can send, the sink
    /// accepts SMTP. `detail` is logged as is (`ready on port 8080`).
    Ready { detail: String },
    /// Web server: a valid email from a client. Answered by [`SupervisorMessage::Accepted`]
    /// with the same `request` number.
    Submit { request: u64, email: Email },
    /// Web server: which processes are alive? Answered by [`SupervisorMessage::Pids`].
    Health { request: u64 },
    /// Web server: the supervisor's books, for `/dashboard`. Answered by
    /// [`SupervisorMessage::Books`].
    Books { request: u64 },
    /// Worker: about to send email `id` (attempt 1, 2, ...).
    Trying { id: u64, attempt: u32 },
    /// Worker: the SMTP server accepted email `id`.
    Sent { id: u64, message_id: String },
    /// Worker: a transient failure; email `id` went to the back of the queue, to be tried
    /// again in `retry_in_ms` at the earliest.
    Retrying {
        id: u64,
        attempt: u32,
        error: String,
        retry_in_ms: u64,
    },
    /// Worker: a permanent failure (5xx); email `id` is dropped.
    GaveUp { id: u64, error: String },
    /// Worker: email `id` failed its last allowed attempt (`--max-attempts`) and is dropped.
    OutOfAttempts {
        id: u64,
        attempts: u32,
        error: String,
    },
    /// Worker, asked to stop: the email in progress is finished, these ids were still queued
    /// and die with the process.
    Stopping { abandoned: Vec<u64> },
    /// Anything the child's code or its libraries logged: children never print themselves.
    Log { level: LogLevel, line: String },
}

/// Supervisor -> child.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SupervisorMessage {
    /// To the web server: the supervisor owns email `id` now. `held` means no worker was
    /// ready, so the supervisor keeps it until one is.
    Accepted { request: u64, id: u64, held: bool },
    /// To the web server: the supervisor did not take the email (its backlog is full), and
    /// nothing will send it.
    Refused { request: u64, reason: String },
    /// To the web server: the answer to a health request.
    Pids { request: u64, pids: Pids },
    /// To the web server: the answer to a books request.
    Books { request: u64, books: Books },
    /// To the worker: one email to queue and send.
    Deliver { id: u64, email: Email },
}

/// `GET /healthz`: who is alive right now. A part that is dead (between its death and the
/// next re-fork) is `null`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pids {
    pub supervisor: i32,
    pub web: Option<i32>,
    pub worker: Option<i32>,
    /// Only when the embedded mail sink runs (no SMTP_URL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mail_sink: Option<i32>,
}

/// What the supervisor knows, for `/dashboard`: who is alive, how often each child was
/// re-forked, and where the emails in its care are. The worker's own queue is not asked
/// for: `in_worker` (handed to the worker, not yet reported) bounds it from above.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Books {
    pub pids: Pids,
    /// Re-forks that came back ready, per child: `[web, worker, mail sink]`.
    pub restarts: [u64; 3],
    /// Accepted while no worker was ready, waiting for the next one.
    pub held: usize,
    /// Handed to the worker and not yet reported sent or dropped.
    pub in_worker: usize,
    pub max_backlog: usize,
    pub accepted: u64,
    pub sent: u64,
    /// Dropped by the worker for a permanent failure.
    pub refused: u64,
    /// Refused at the door, backlog full (the client got 503).
    pub turned_away: u64,
    /// Handed to a worker that died before it reported them.
    pub lost_with_worker: u64,
    /// Failed transiently on every attempt `--max-attempts` allows, then given up.
    pub out_of_attempts: u64,
    /// With `--ack`: handed to a worker again after the previous one died unacknowledged.
    pub handed_again: u64,
}

/// The level a child logged at; the supervisor logs the line again at the same level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    Error,
    Warn,
    Info,
    Debug,
    Trace,
}

impl From<tracing::Level> for LogLevel {
    fn from(level: tracing::Level) -> LogLevel {
        match level {
            tracing::Level::ERROR => LogLevel::Error,
            tracing::Level::WARN => LogLevel::Warn,
            tracing::Level::INFO => LogLevel::Info,
            tracing::Level::DEBUG => LogLevel::Debug,
            tracing::Level::TRACE => LogLevel::Trace,
        }
    }
}
