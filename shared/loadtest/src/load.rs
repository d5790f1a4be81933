//! The open-loop load generator.
//!
//! Request `i` is due at `start + i / rate`, whether or not earlier requests were answered:
//! each one is its own task. Its latency is measured from that *intended* time, not from the
//! moment it actually left. A closed loop (send, wait, send) lets a slow server lower its own
//! load and hide its worst moments, the "coordinated omission" of most benchmarks; here a
//! stall shows up in the latency of every request that was due during it.
//!
//! ```text
//!  due:     0ms   10ms   20ms   30ms ...        (rate 100/s)
//!  task:    ├─POST─────►200
//!                 ├─POST──►200
//!                        ├─POST─────────►200    latency = answer time - due time
//! ```
//!
//! Every request carries its id in the subject ([`subject_for`]), so the deliveries can be
//! matched to requests whatever order they arrive in.

use chrono::{DateTime, Utc};
use kit::client::HttpClient;
use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// How long one request may wait for its answer before it counts as rejected.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

const SUBJECT_PREFIX: &str = "loadtest #";

/// The subject that carries request `id`.
pub fn subject_for(id: u64) -> String {
    format!("{SUBJECT_PREFIX}{id}")
}

/// The request id in a delivered subject, if it is one of ours.
pub fn id_from_subject(subject: &str) -> Option<u64> {
    subject.strip_prefix(SUBJECT_PREFIX)?.parse().ok()
}

/// What the client saw for one request.
#[derive(Debug, Clone)]
pub struct ClientRecord {
    pub id: u64,
    /// When the request was due (wall clock), the start of its request-to-delivery time.
    pub due_at: DateTime<Utc>,
    /// Due time to answer, if an HTTP answer came back at all (or none within the timeout).
    pub latency: Option<Duration>,
    /// 2xx: the strategy took responsibility for the mail.
    pub accepted: bool,
    /// The status or the connection error, when not accepted.
    pub refusal: Option<String>,
}

/// A load in progress.
pub struct RunningLoad {
    sent: Arc<AtomicUsize>,
    started: Instant,
    task: JoinHandle<Vec<ClientRecord>>,
}

/// What the whole load produced.
pub struct LoadResult {
    pub records: Vec<ClientRecord>,
    /// From the first due time to the last answer.
    pub elapsed: Duration,
}

/// Starts sending `requests` POSTs to `url` at `rate` per second.
pub fn start(url: String, requests: usize, rate: f64) -> RunningLoad {
    let sent = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let period = Duration::from_secs_f64(1.0 / rate);
    let wall_start = Utc::now();
    let client = HttpClient::new(REQUEST_TIMEOUT);
    let counter = sent.clone();
    let task = tokio::spawn(async move {
        let mut in_flight = Vec::with_capacity(requests);
        for i in 0..requests {
            let offset = period * i as u32;
            tokio::time::sleep_until(started + offset).await;
            let due_at = wall_start + offset;
            in_flight.push(tokio::spawn(send_one(
                client.clone(),
                url.clone(),
                i as u64,
                started + offset,
                due_at,
            )));
            counter.fetch_add(1, Ordering::Relaxed);
        }
        let mut records = Vec::with_capacity(requests);
        for request in in_flight {
            records.push(request.await.expect("a request task panicked"));
        }
        records
    });
    RunningLoad {
        sent,
        started,
        task,
    }
}

impl RunningLoad {
    /// How many requests have been sent so far.
    pub fn sent(&self) -> usize {
        self.sent.load(Ordering::Relaxed)
    }

    /// Whether every request was sent and answered.
    pub fn is_done(&self) -> bool {
        self.task.is_finished()
    }

    /// Waits until at least `n` requests have been sent.
    pub async fn wait_sent(&self, n: usize) {
        while self.sent() < n && !self.is_done() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Waits for every request's answer.
    pub async fn finish(self) -> LoadResult {
        let records = self.task.await.expect("the load task panicked");
        LoadResult {
            records,
            elapsed: self.started.elapsed(),
        }
    }
}

async fn send_one(
    client: HttpClient,
    url: String,
    id: u64,
    due: Instant,
    due_at: DateTime<Utc>,
) -> ClientRecord {
    let body = json!({
        "to": format!("user{id}@example.com"),
        "subject": subject_for(id),
        "text": "Sent by the offload load harness.",
    });
    let answer = client.post_json(&url, &body).await;
    let latency = due.elapsed();
    match answer {
        Ok(answer) => ClientRecord {
            id,
            due_at,
            latency: Some(latency),
            accepted: answer.status.is_success(),
            refusal: (!answer.status.is_success()).then(|| answer.status.to_string()),
        },
        Err(e) => ClientRecord {
            id,
            due_at,
            // A timeout is an answer that took too long, and counts; a refused or reset
            // connection took no time worth measuring.
            latency: (latency >= REQUEST_TIMEOUT).then_some(latency),
            accepted: false,
            refusal: Some(format!("{e:#}")),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_survive_the_round_trip_through_a_subject() {
        assert_eq!(id_from_subject(&subject_for(42)), Some(42));
        assert_eq!(id_from_subject("Hello"), None);
        assert_eq!(id_from_subject("loadtest #x"), None);
    }
}
