//! The SMTP sink: a real SMTP server on tokio that accepts mail, records it, and fails
//! on purpose when asked to.
//!
//! It speaks just enough ESMTP for lettre and most clients: EHLO/HELO, MAIL, RCPT, DATA,
//! RSET, NOOP, QUIT, and AUTH PLAIN/LOGIN (any credentials pass). Each connection is one
//! task, so injected latency is a `sleep` that holds that connection only, the way a slow
//! relay would.
//!
//! ```text
//! client                    sink
//!   │── EHLO, MAIL, RCPT ──►│ 250
//!   │── DATA ──────────────►│ 354
//!   │── body … "." ────────►│ decide the fault for this message:
//!   │                       │   sleep(latency)
//!   │◄── 250 queued ────────│   accept: ledger += 1 line
//!   │◄── 451 / 554 ─────────│   transient / permanent failure: nothing recorded
//!   │      (closed) ────────│   drop: connection closed, no reply, nothing recorded
//! ```

mod faults;
pub use faults::parse_rate;
mod quickack;
mod session;

pub use faults::{Faults, Latency, Outcome};

use crate::ledger::{Delivery, LedgerWriter};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio::task::JoinSet;

/// How the sink behaves.
#[derive(Debug, Clone)]
pub struct SinkConfig {
    pub faults: Faults,
    /// Append each accepted message to this JSON-lines file.
    pub ledger: Option<PathBuf>,
    /// Work around the client's Nagle stall (see `quickack.rs`). On by default; off only
    /// to measure what it saves.
    pub quickack: bool,
    /// Log one line per delivery (the embedded sink and `mailer-sink` do, tests don't need to).
    pub log_deliveries: bool,
}

impl Default for SinkConfig {
    fn default() -> Self {
        SinkConfig {
            faults: Faults::default(),
            ledger: None,
            quickack: true,
            log_deliveries: false,
        }
    }
}

/// Counters of what the sink answered, for tests and the `mailer-sink` summary.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SinkStats {
    /// Messages whose DATA phase began (whatever happened to them next).
    pub data_started: u64,
    pub accepted: u64,
    pub transient_failures: u64,
    pub permanent_failures: u64,
    pub dropped: u64,
    /// Messages whose client hung up while the sink was still delaying its answer.
    pub aborted: u64,
}

/// State shared by every connection task.
pub(crate) struct Shared {
    faults: Mutex<Faults>,
    quickack: bool,
    log_deliveries: bool,
    deliveries: Mutex<Vec<Delivery>>,
    ledger: Option<Mutex<LedgerWriter>>,
    delivered: Notify,
    data_started: AtomicU64,
    transient_failures: AtomicU64,
    permanent_failures: AtomicU64,
    dropped: AtomicU64,
    aborted: AtomicU64,
    /// How many times each message (by its recipient, subject and text) reached the end of
    /// DATA: a seeded fault's attempt number.
    sightings: Mutex<std::collections::HashMap<Vec<u8>, u32>>,
}

impl Shared {
    /// How many times the sink saw this message before (0 the first time), counting this one.
    pub(crate) fn sighting(&self, message: &[u8]) -> u32 {
        let mut sightings = self.sightings.lock().unwrap();
        let seen = sightings.entry(message.to_vec()).or_insert(0);
        let before = *seen;
        *seen += 1;
        before
    }

    pub(crate) fn faults(&self) -> Faults {
        *self.faults.lock().unwrap()
    }

    pub(crate) fn quickack(&self) -> bool {
        self.quickack
    }

    pub(crate) fn count_data_started(&self) {
        self.data_started.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn count_aborted(&self) {
        self.aborted.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn count(&self, outcome: Outcome) {
        let counter = match outcome {
            Outcome::Accept => return,
            Outcome::TransientFailure => &self.transient_failures,
            Outcome::PermanentFailure => &self.permanent_failures,
            Outcome::Drop => &self.dropped,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Records an accepted message. The ledger line is written before the client gets its
    /// `250`, so anything a client believes was accepted is in the ledger.
    pub(crate) fn record(&self, delivery: Delivery) {
        if let Some(ledger) = &self.ledger {
            if let Err(e) = ledger.lock().unwrap().append(&delivery) {
                tracing::error!(error = %e, "could not append to the ledger");
            }
        }
        if self.log_deliveries {
            tracing::info!(
                to = %delivery.to,
                subject = %delivery.subject,
                text = %delivery.text,
                message_id = %delivery.message_id,
                "mail delivered"
            );
        }
        self.deliveries.lock().unwrap().push(delivery);
        self.delivered.notify_waiters();
    }
}

/// A running sink. Dropping it closes the listener and every open SMTP connection, so a
/// pooled client cannot go on delivering to a sink that is gone.
pub struct Sink {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept_task: tokio::task::JoinHandle<()>,
}

impl Drop for Sink {
    fn drop(&mut self) {
        self.accept_task.abort();
    }
}

impl Sink {
    /// Starts a sink on `addr` (`127.0.0.1:0` picks a free port).
    pub async fn start(addr: &str, config: SinkConfig) -> std::io::Result<Sink> {
        Sink::serve(TcpListener::bind(addr).await?, config)
    }

    /// Starts a sink on a socket bound elsewhere: by a parent process before it forked, for
    /// example, so that the address stays the sink's while the sink process is replaced.
    /// Call it inside a tokio runtime.
    pub fn from_std(listener: std::net::TcpListener, config: SinkConfig) -> std::io::Result<Sink> {
        listener.set_nonblocking(true)?;
        Sink::serve(TcpListener::from_std(listener)?, config)
    }

    fn serve(listener: TcpListener, config: SinkConfig) -> std::io::Result<Sink> {
        let addr = listener.local_addr()?;
        let ledger = match &config.ledger {
            Some(path) => Some(Mutex::new(LedgerWriter::create(path)?)),
            None => None,
        };
        let shared = Arc::new(Shared {
            faults: Mutex::new(config.faults),
            sightings: Mutex::default(),
            quickack: config.quickack,
            log_deliveries: config.log_deliveries,
            deliveries: Mutex::new(Vec::new()),
            ledger,
            delivered: Notify::new(),
            data_started: AtomicU64::new(0),
            transient_failures: AtomicU64::new(0),
            permanent_failures: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            aborted: AtomicU64::new(0),
        });
        let accept_task = tokio::spawn(accept_loop(listener, shared.clone()));
        Ok(Sink {
            addr,
            shared,
            accept_task,
        })
    }

    /// Starts a sink on a free loopback port.
    pub async fn start_local(config: SinkConfig) -> std::io::Result<Sink> {
        Sink::start("127.0.0.1:0", config).await
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The URL a [`crate::Mailer`] takes: `smtp://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("smtp://{}", self.addr)
    }

    /// Changes the injected faults for messages from now on.
    pub fn set_faults(&self, faults: Faults) {
        *self.shared.faults.lock().unwrap() = faults;
    }

    /// Every message accepted so far, oldest first.
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.shared.deliveries.lock().unwrap().clone()
    }

    pub fn stats(&self) -> SinkStats {
        SinkStats {
            data_started: self.shared.data_started.load(Ordering::Relaxed),
            accepted: self.shared.deliveries.lock().unwrap().len() as u64,
            transient_failures: self.shared.transient_failures.load(Ordering::Relaxed),
            permanent_failures: self.shared.permanent_failures.load(Ordering::Relaxed),
            dropped: self.shared.dropped.load(Ordering::Relaxed),
            aborted: self.shared.aborted.load(Ordering::Relaxed),
        }
    }

    /// Waits until at least `count` messages were accepted; false if `timeout` passed first.
    pub async fn wait_for(&self, count: usize, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.shared.delivered.notified();
            if self.shared.deliveries.lock().unwrap().len() >= count {
                return true;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return self.shared.deliveries.lock().unwrap().len() >= count;
            }
        }
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    // Owned by this task: when `Sink::drop` aborts it, dropping the set aborts every
    // session too.
    let mut sessions = JoinSet::new();
    loop {
        while sessions.try_join_next().is_some() {}
        match listener.accept().await {
            Ok((stream, peer)) => {
                let shared = shared.clone();
                sessions.spawn(async move {
                    if let Err(e) = session::run(stream, shared).await {
                        tracing::debug!(%peer, error = %e, "SMTP session ended with an error");
                    }
                });
            }
            Err(e) => {
                // Out of file descriptors, usually: wait instead of spinning.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}
