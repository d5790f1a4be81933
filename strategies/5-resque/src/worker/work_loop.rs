//! One worker: registers as node-resque does, takes jobs from its queues in priority order,
//! runs them, records the outcome in node-resque's shapes, and unregisters on shutdown.
//!
//! ```text
//!  register (SADD workers, SET started, SET ping)
//!  ┌─► work.lua, one atomic call:  record the last job (INCR stat:processed | INCR stat:failed
//!  │     + RPUSH failed), DEL worker:ID; then walk the queues, LPOP (LMOVE when reliable)
//!  │     + SET worker:ID {run_at, queue, worker, payload}
//!  │   nothing? BLPOP q1 q2 .. on a dedicated connection (no 5 s polling)
//!  └── perform(args) ── plugins before/after
//! ```
//!
//! A busy worker costs Redis one command per job (node-resque: a Lua pop per queue walked,
//! then a MULTI of four commands).
//!
//! Unlike node-resque, an idle worker does not sleep between polls: it blocks in `BLPOP`
//! across its queues (Redis serves the first non-empty key in the order given, so priority
//! holds), and wakes up the moment a job is pushed. Shutdown interrupts the wait with
//! `CLIENT UNBLOCK`, which Redis answers with "no job", so no job is popped into the void.

use super::job_definitions::Jobs;
use super::options::WorkerOptions;
use super::presence;
use crate::client::Queue;
use crate::connect;
use crate::events::{EventSender, WorkerEvent};
use crate::plugins::PluginContext;
use crate::scheduler::dead_workers;
use crate::scripts;
use crate::wire::{self, failed_entry, Job, JobError};
use redis::aio::MultiplexedConnection;
use redis::AsyncCommands;
use serde_json::Value;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// A worker, ready to [`Worker::run`].
pub struct Worker {
    options: WorkerOptions,
    queue: Queue,
    client: redis::Client,
    jobs: Arc<Jobs>,
    events: EventSender,
    stop: CancellationToken,
    working: Arc<AtomicBool>,
    idle: AtomicBool,
}

impl Worker {
    pub fn new(
        options: WorkerOptions,
        queue: Queue,
        client: redis::Client,
        jobs: Arc<Jobs>,
        events: EventSender,
    ) -> Worker {
        let events = events.for_source(&options.name);
        Worker {
            options,
            queue,
            client,
            jobs,
            events,
            stop: CancellationToken::new(),
            working: Arc::default(),
            idle: AtomicBool::new(false),
        }
    }

    /// Cancel it to stop the worker after the job it is running.
    pub fn stop_token(&self) -> CancellationToken {
        self.stop.clone()
    }

    /// True while a job runs (MultiWorker's scaling reads it).
    pub fn working_flag(&self) -> Arc<AtomicBool> {
        self.working.clone()
    }

    pub fn id(&self) -> String {
        self.options.id()
    }

    /// Registers, works until stopped, finishes the running job, unregisters.
    pub async fn run(self) -> anyhow::Result<()> {
        if self.options.clean_dead_on_start {
            dead_workers::clean_dead_workers(&self.queue, &self.options.name, &self.events).await?;
        }
        if self.options.reliable {
            // A previous run under this name (a container restarted with the same pid)
            // left jobs in the lists this run is about to use: they go back first.
            self.put_back_taken_jobs().await?;
        }
        presence::register(&self.queue, &self.options).await?;
        let pinger = tokio::spawn(presence::ping_loop(
            self.queue.clone(),
            self.options.clone(),
            self.stop.clone(),
        ));
        self.events.send(WorkerEvent::Start);
        let mut blocking: Option<(MultiplexedConnection, i64)> = None;
        // The job that just ended: recorded by the same Redis call that takes the next one.
        let mut finished: Option<Finished> = None;
        let mut failures_while_stopping = 0;
        loop {
            let stopping = self.stop.is_cancelled();
            match self.step(&mut finished, stopping, &mut blocking).await {
                Ok(next) => match next {
                    Some((queue, payload)) => finished = Some(self.perform(&queue, &payload).await),
                    None if stopping => break,
                    None => {}
                },
                Err(e) => {
                    self.events.send(WorkerEvent::Error {
                        error: e.to_string(),
                    });
                    blocking = None;
                    if stopping {
                        failures_while_stopping += 1;
                        if failures_while_stopping >= 5 {
                            break; // Redis is gone: the last outcome cannot be recorded
                        }
                    }
                    // Keep `finished`: its outcome is recorded once Redis answers again.
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            }
        }
        pinger.abort();
        if self.options.reliable {
            // Normally empty; a job left here (a reply lost in a reconnect) would belong to
            // no registered worker once this one is gone, so nobody would ever requeue it.
            if let Err(e) = self.put_back_taken_jobs().await {
                self.events.send(WorkerEvent::Error {
                    error: format!("putting back taken jobs: {e}"),
                });
            }
        }
        if let Err(e) = presence::unregister(&self.queue, &self.options).await {
            self.events.send(WorkerEvent::Error {
                error: format!("unregister: {e}"),
            });
        }
        self.events.send(WorkerEvent::End);
        Ok(())
    }

    /// Reliable fetch: requeues what this worker's processing lists still hold.
    async fn put_back_taken_jobs(&self) -> crate::client::Result<()> {
        let name = &self.options.name;
        let jobs =
            dead_workers::requeue_taken(&self.queue, name, &self.options.queue_list()).await?;
        if jobs > 0 {
            self.events.send(WorkerEvent::Recovered {
                worker: name.clone(),
                jobs,
            });
        }
        Ok(())
    }

    async fn current_queues(&self) -> redis::RedisResult<Vec<String>> {
        if self.options.queues.is_empty() || self.options.queues == ["*"] {
            let mut all: Vec<String> = self
                .queue
                .connection()
                .smembers(self.queue.keys().queues())
                .await?;
            all.sort();
            Ok(all)
        } else {
            Ok(self.options.queues.clone())
        }
    }

    /// Records the last job's outcome and takes the next job (none when stopping): one
    /// `work.lua` call, then, if every queue was empty, a blocking wait.
    async fn step(
        &self,
        finished: &mut Option<Finished>,
        stopping: bool,
        blocking: &mut Option<(MultiplexedConnection, i64)>,
    ) -> redis::RedisResult<Option<(String, String)>> {
        let queues = if stopping {
            Vec::new()
        } else {
            self.current_queues().await?
        };
        let found = self.work(finished.as_ref(), &queues).await?;
        // Recorded in Redis: report it now, before a blocking wait can delay the news.
        if let Some(done) = finished.take() {
            self.report(done);
        }
        if found.is_some() {
            self.idle.store(false, Ordering::Relaxed);
        }
        if found.is_some() || stopping {
            return Ok(found);
        }
        if queues.is_empty() {
            // `*` and no queue exists yet: look again later.
            tokio::select! {
                _ = tokio::time::sleep(self.options.block_timeout) => {}
                _ = self.stop.cancelled() => {}
            }
            return Ok(None);
        }
        // Reported once per idle stretch, not after every timed-out wait.
        if !self.idle.swap(true, Ordering::Relaxed) {
            for queue in &queues {
                self.events.send(WorkerEvent::Poll {
                    queue: queue.clone(),
                });
            }
            self.events.send(WorkerEvent::Pause);
        }
        if blocking.is_none() {
            let mut con = connect::blocking(&self.client).await?;
            let id: i64 = redis::cmd("CLIENT").arg("ID").query_async(&mut con).await?;
            *blocking = Some((con, id));
        }
        let (con, client_id) = blocking.as_mut().expect("just set");
        let found = self.wait_for_job(con, *client_id, &queues).await?;
        if let Some((queue, payload)) = &found {
            // The blocking pop could not record the working-on key atomically; do it now.
            // The job is already off its queue: if this write fails, run it all the same
            // (only the admin view misses it) rather than drop it with the error.
            let value = wire::working_on(
                &wire::js_date(chrono::Utc::now()),
                queue,
                &self.options.name,
                payload,
            );
            let recorded: redis::RedisResult<()> = self
                .queue
                .connection()
                .set(self.queue.keys().worker(&self.id()), value)
                .await;
            if let Err(e) = recorded {
                self.events.send(WorkerEvent::Error {
                    error: format!("recording the job being worked on: {e}"),
                });
            }
        }
        Ok(found)
    }

    async fn work(
        &self,
        finished: Option<&Finished>,
        queues: &[String],
    ) -> redis::RedisResult<Option<(String, String)>> {
        let keys = self.queue.keys();
        let name = &self.options.name;
        let (ended, last_queue, payload, entry) = match finished {
            None => ("", "", "", String::new()),
            Some(done) => {
                let (ended, entry) = match &done.outcome {
                    Outcome::Success(_) => ("ok", String::new()),
                    Outcome::Skipped => ("skip", String::new()),
                    Outcome::Failure(error) => (
                        "fail",
                        failed_entry(
                            name,
                            &done.queue,
                            &done.payload,
                            error,
                            &wire::js_date(chrono::Utc::now()),
                        ),
                    ),
                };
                (ended, done.queue.as_str(), done.payload.as_str(), entry)
            }
        };
        let mut invocation = scripts::WORK.key(keys.worker(&self.id()));
        invocation
            .key(keys.stat("processed"))
            .key(keys.worker_stat("processed", name))
            .key(keys.stat("failed"))
            .key(keys.worker_stat("failed", name))
            .key(keys.failed())
            .key(keys.processing(last_queue, name));
        for queue in queues {
            invocation
                .key(keys.queue(queue))
                .key(keys.processing(queue, name));
        }
        invocation
            .arg(wire::js_date(chrono::Utc::now()))
            .arg(name)
            .arg(if self.options.reliable { "1" } else { "0" })
            .arg(ended)
            .arg(payload)
            .arg(entry);
        for queue in queues {
            invocation.arg(queue);
        }
        invocation.invoke_async(&mut self.queue.connection()).await
    }

    /// Blocks until a job arrives, the wait times out, or the worker is stopped.
    async fn wait_for_job(
        &self,
        con: &mut MultiplexedConnection,
        client_id: i64,
        queues: &[String],
    ) -> redis::RedisResult<Option<(String, String)>> {
        let keys = self.queue.keys();
        let timeout = self.options.block_timeout.as_secs_f64();
        let wait = async {
            if self.options.reliable {
                // BLMOVE watches one list: the first queue. With several queues the wait is
                // short, so lower-priority queues are re-checked by the next work.lua pass.
                let first = &queues[0];
                let wait = if queues.len() == 1 { timeout } else { 0.1 };
                let payload: Option<String> = redis::cmd("BLMOVE")
                    .arg(keys.queue(first))
                    .arg(keys.processing(first, &self.options.name))
                    .arg("LEFT")
                    .arg("RIGHT")
                    .arg(wait)
                    .query_async(con)
                    .await?;
                Ok(payload.map(|p| (first.clone(), p)))
            } else {
                let mut cmd = redis::cmd("BLPOP");
                for queue in queues {
                    cmd.arg(keys.queue(queue));
                }
                let popped: Option<(String, String)> = cmd.arg(timeout).query_async(con).await?;
                let prefix = keys.queue("");
                Ok(
                    popped
                        .map(|(key, p)| (key.strip_prefix(&prefix).unwrap_or(&key).to_owned(), p)),
                )
            }
        };
        tokio::pin!(wait);
        tokio::select! {
            biased;
            result = &mut wait => result,
            _ = self.stop.cancelled() => {
                // Ask Redis to end the wait; the pop then answers "nothing" or the job it
                // already took, which is run, never dropped. Repeated, because the UNBLOCK
                // may reach Redis before the BLPOP it is meant to end.
                loop {
                    let _: redis::RedisResult<i64> = redis::cmd("CLIENT")
                        .arg("UNBLOCK")
                        .arg(client_id)
                        .query_async(&mut self.queue.connection())
                        .await;
                    tokio::select! {
                        biased;
                        result = &mut wait => return result,
                        _ = tokio::time::sleep(Duration::from_millis(50)) => {}
                    }
                }
            }
        }
    }

    /// Runs the job; its outcome is recorded by the next [`Worker::work`] call.
    async fn perform(&self, queue: &str, payload: &str) -> Finished {
        self.working.store(true, Ordering::SeqCst);
        let started = Instant::now();
        let outcome = self.perform_job(queue, payload).await;
        self.working.store(false, Ordering::SeqCst);
        Finished {
            queue: queue.to_owned(),
            payload: payload.to_owned(),
            outcome,
            duration_ms: started.elapsed().as_millis() as u64,
        }
    }

    /// The job's outcome is in Redis: tell the listeners.
    fn report(&self, done: Finished) {
        let Finished {
            queue,
            payload: job,
            outcome,
            duration_ms,
        } = done;
        match outcome {
            Outcome::Success(result) => self.events.send(WorkerEvent::Success {
                queue,
                job,
                result,
                duration_ms,
            }),
            Outcome::Failure(error) => self.events.send(WorkerEvent::Failure {
                queue,
                job,
                error: error.to_string(),
                duration_ms,
            }),
            Outcome::Skipped => {}
        }
    }

    async fn perform_job(&self, queue: &str, payload: &str) -> Outcome {
        let job = match Job::decode(payload) {
            Ok(job) => job,
            Err(e) => return Outcome::Failure(JobError::named("SyntaxError", e.to_string())),
        };
        let Some(def) = self.jobs.get(&job.class) else {
            return Outcome::Failure(JobError::unknown_class(&job.class));
        };
        self.events.send(WorkerEvent::Job {
            queue: queue.into(),
            job: payload.into(),
        });
        let cx = PluginContext {
            queue: &self.queue,
            queue_name: queue,
            class: &job.class,
            args: &job.args,
            worker: Some((&self.options.name, &self.events)),
        };
        for plugin in &def.plugins {
            match plugin.before_perform(&cx).await {
                Ok(true) => {}
                Ok(false) => return Outcome::Skipped,
                Err(e) => return Outcome::Failure(JobError::named(plugin.name(), e.to_string())),
            }
        }
        let (mut error, result) = match def.perform(job.args.clone()).await {
            Ok(result) => (None, result),
            Err(e) => (Some(e), Value::Null),
        };
        for plugin in &def.plugins {
            if let Err(e) = plugin.after_perform(&cx, &mut error).await {
                error = Some(JobError::named(plugin.name(), e.to_string()));
            }
        }
        match error {
            None => Outcome::Success(result),
            Some(e) => Outcome::Failure(e),
        }
    }
}

/// A job that ended, waiting for its outcome to be recorded.
struct Finished {
    queue: String,
    payload: String,
    outcome: Outcome,
    duration_ms: u64,
}

enum Outcome {
    Success(Value),
    Failure(JobError),
    Skipped,
}
