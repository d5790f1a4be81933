//! What workers, the multi-worker and the scheduler report, as one typed stream
//! (a tokio broadcast channel), and the log lines node-resque's demo printed for them.

use serde_json::Value;
use tokio::sync::broadcast;

#[derive(Debug, Clone, PartialEq)]
pub enum WorkerEvent {
    Start,
    End,
    /// Asked `queue` for work (the walk that ends in a wait, not every pop).
    Poll {
        queue: String,
    },
    /// Found no work; now waits for a job to arrive.
    Pause,
    Job {
        queue: String,
        job: String,
    },
    Success {
        queue: String,
        job: String,
        result: Value,
        duration_ms: u64,
    },
    Failure {
        queue: String,
        job: String,
        error: String,
        duration_ms: u64,
    },
    /// The job failed and a plugin took the failure over (Retry scheduled another
    /// attempt, Noop dropped it): not in `failed`, and not a success either.
    FailureTakenOver {
        queue: String,
        job: String,
        error: String,
        plugin: &'static str,
        duration_ms: u64,
    },
    Error {
        error: String,
    },
    /// An after-perform hook failed (its bookkeeping: Redis was away); the job's outcome
    /// stands as the job and the other hooks made it.
    PluginFailed {
        plugin: &'static str,
        queue: String,
        job: String,
        error: String,
    },
    /// How a job ended (`ended`: "success", "failure (...)") could not be written to Redis,
    /// for `reason` (a key of the wrong type); nothing of it was counted.
    NotRecorded {
        queue: String,
        job: String,
        ended: String,
        reason: String,
    },
    ReEnqueue {
        queue: String,
        job: String,
        delay_ms: u64,
        remaining: i64,
    },
    /// Reliable fetch: jobs a worker took and never finished were put back on their queue
    /// (a dead worker's, or those a previous run under the same name left).
    Recovered {
        worker: String,
        jobs: u64,
    },
    CleaningWorker {
        worker: String,
    },
    /// MultiWorker's scaling decision (`+` add a slot, `-` retire one, `x` keep) and the
    /// runtime lag it saw.
    MultiWorkerAction {
        verb: &'static str,
        lag_ms: f64,
        slots: usize,
    },
    Leader,
    TransferredJobs {
        count: u64,
    },
    CleanStuckWorker {
        worker: String,
        delta_seconds: i64,
    },
}

/// An event and who sent it (a worker name, `scheduler`, `multiWorker`).
#[derive(Debug, Clone)]
pub struct Event {
    pub source: String,
    pub event: WorkerEvent,
}

/// A cheap handle that stamps events with their source.
#[derive(Clone)]
pub struct EventSender {
    tx: broadcast::Sender<Event>,
    source: String,
}

impl EventSender {
    /// A new stream; keep a receiver (or [`spawn_logger`]) to see anything.
    pub fn new(source: &str) -> EventSender {
        let (tx, _) = broadcast::channel(4096);
        EventSender {
            tx,
            source: source.to_owned(),
        }
    }

    pub fn for_source(&self, source: &str) -> EventSender {
        EventSender {
            tx: self.tx.clone(),
            source: source.to_owned(),
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.tx.subscribe()
    }

    pub fn send(&self, event: WorkerEvent) {
        // No receiver is fine: events are for whoever listens.
        let _ = self.tx.send(Event {
            source: self.source.clone(),
            event,
        });
    }
}

/// Logs every event in node-resque's words until the channel closes.
pub fn spawn_logger(events: &EventSender) -> tokio::task::JoinHandle<()> {
    let mut rx = events.subscribe();
    tokio::spawn(async move {
        loop {
            match rx.recv().await {
                Ok(event) => log(&event),
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!(skipped = n, "event logger fell behind")
                }
                Err(broadcast::error::RecvError::Closed) => return,
            }
        }
    })
}

pub fn log(event: &Event) {
    let who = event.source.as_str();
    match &event.event {
        WorkerEvent::Start => tracing::info!(worker = who, "{} started", kind(who)),
        WorkerEvent::End => tracing::info!(worker = who, "{} ended", kind(who)),
        // Once per idle stretch (a blocking pop follows), not every 5 s as in node-resque;
        // still once per burst of jobs under load, and a waiting worker is not news: debug.
        WorkerEvent::Poll { queue } => tracing::debug!(worker = who, "worker polling {queue}"),
        WorkerEvent::Pause => tracing::debug!(worker = who, "worker paused"),
        WorkerEvent::Job { queue, job } => {
            tracing::info!(worker = who, "working job {queue} {job}")
        }
        WorkerEvent::Success {
            queue,
            job,
            result,
            duration_ms,
        } => {
            tracing::info!(
                worker = who,
                duration_ms,
                "job success {queue} {job} >> {result}"
            )
        }
        WorkerEvent::Failure {
            queue,
            job,
            error,
            duration_ms,
        } => {
            tracing::warn!(
                worker = who,
                duration_ms,
                "job failure {queue} {job} >> {error}"
            )
        }
        WorkerEvent::FailureTakenOver {
            queue,
            job,
            error,
            plugin,
            duration_ms,
        } => tracing::info!(
            worker = who,
            duration_ms,
            "job failure {queue} {job} >> {error} (taken over by plugin {plugin}, not in failed)"
        ),
        WorkerEvent::Error { error } => tracing::error!(worker = who, "error >> {error}"),
        WorkerEvent::PluginFailed {
            plugin,
            queue,
            job,
            error,
        } => tracing::error!(
            worker = who,
            "plugin {plugin} failed after job {queue} {job} >> {error} (the job's outcome stands)"
        ),
        WorkerEvent::NotRecorded {
            queue,
            job,
            ended,
            reason,
        } => tracing::error!(
            worker = who,
            "could not record job {ended} {queue} {job}: {reason}"
        ),
        WorkerEvent::ReEnqueue {
            queue,
            job,
            delay_ms,
            remaining,
        } => tracing::info!(
            worker = who,
            delay_ms,
            remaining,
            "reEnqueue job (retry) {queue} {job}"
        ),
        WorkerEvent::Recovered { worker, jobs } => {
            tracing::warn!(
                by = who,
                jobs,
                "put back the unfinished jobs of worker {worker}"
            )
        }
        WorkerEvent::CleaningWorker { worker } => {
            tracing::info!(by = who, "cleaning old worker {worker}")
        }
        // Holding steady is the common case: only changes are worth an info line.
        WorkerEvent::MultiWorkerAction {
            verb: "x",
            lag_ms,
            slots,
        } => tracing::debug!(
            slots,
            "*** checked for worker status: x (event loop delay: {lag_ms:.1}ms)"
        ),
        WorkerEvent::MultiWorkerAction {
            verb,
            lag_ms,
            slots,
        } => tracing::info!(
            slots,
            "*** checked for worker status: {verb} (event loop delay: {lag_ms:.1}ms)"
        ),
        WorkerEvent::Leader => tracing::info!(scheduler = who, "scheduler became leader"),
        WorkerEvent::TransferredJobs { count } => {
            tracing::info!(scheduler = who, count, "scheduler enqueued delayed jobs")
        }
        WorkerEvent::CleanStuckWorker {
            worker,
            delta_seconds,
        } => tracing::warn!(
            scheduler = who,
            delta_seconds,
            "failing stuck worker {worker}"
        ),
    }
}

fn kind(source: &str) -> &'static str {
    if source.starts_with("scheduler") {
        "scheduler"
    } else {
        "worker"
    }
}
