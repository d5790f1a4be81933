//! One worker: registers as node-resque does, takes jobs from its queues in priority order,
//! runs them, records the outcome in node-resque's shapes, and unregisters on shutdown.
//!
//! ```text
//!  register (SADD workers, SET started, SET ping)          ping task: SET ping every 5 s
//!  ┌─► work_once:
//!  │     work.lua, one atomic call:  record the last job (INCR stat:processed | INCR stat:failed
//!  │       + RPUSH failed), DEL worker:ID; then walk the queues, LPOP (LMOVE when reliable)
//!  │       + SET worker:ID {run_at, queue, worker, payload}
//!  │     nothing? BLPOP q1 q2 .. on a dedicated connection (no 5 s polling)
//!  │     perform(args) ── plugins before/after          -> Outcome::Performed / Idle / Stopped
//!  └── the loop acts on the outcome: go on, or (Stopped) leave
//!  unregister (SREM workers, DEL ping, started, worker:ID, per-worker stats)
//! ```
//!
//! A busy worker costs Redis one command per job (node-resque: a Lua pop per queue walked,
//! then a MULTI of four commands).
//!
//! What a worker killed with `kill -9` leaves: its registration and a ping that stops
//! changing, the working-on key of the job it was running, and, with reliable fetch, that
//! job in its processing list. Whoever finds it dead (the scheduler, or the next worker to
//! start on this host) turns the working-on key into a `Worker Timeout` failed entry, or
//! puts the job from the processing list back on its queue ([`crate::scheduler::dead_workers`]).

use super::blocking_wait::BlockingConnection;
use super::job_definitions::Jobs;
use super::options::WorkerOptions;
use super::outcome::{FinishedJob, Outcome, TakenJob};
use super::perform::perform;
use super::presence;
use super::work_script::record_and_take;
use crate::client::Queue;
use crate::events::{EventSender, WorkerEvent};
use crate::scheduler::dead_workers;
use crate::wire;
use redis::AsyncCommands;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// A worker, ready to [`Worker::run`] (or to be stepped with [`Worker::work_once`]).
pub struct Worker {
    options: WorkerOptions,
    /// The shared, multiplexed connection: every command but the blocking wait.
    queue: Queue,
    /// Kept to open the blocking connection, and to open it again after Redis restarts.
    client: redis::Client,
    /// The classes this worker can run; a job of any other class fails as unknown.
    jobs: Arc<Jobs>,
    /// Stamped with this worker's name: listeners tell the slots of a MultiWorker apart.
    events: EventSender,
    /// Cancelled from outside to stop. Checked between jobs only: a running job is never
    /// interrupted, it finishes and is recorded.
    stop: CancellationToken,
    /// Shared with MultiWorker, which reads it from its own task to see how busy the
    /// slots are; hence an atomic behind an `Arc`.
    working: Arc<AtomicBool>,
    /// The job that just ended. Its outcome is written by the same Redis call that takes
    /// the next job, so it waits here until that call has succeeded.
    last: Option<FinishedJob>,
    /// Opened the first time the worker has to wait, kept for the next waits.
    blocking: Option<BlockingConnection>,
    /// In an idle stretch: the polling/paused events have been sent for it.
    idle: bool,
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
            last: None,
            blocking: None,
            idle: false,
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

    /// `NAME:QUEUES`: this worker's member of the `workers` set, and the name of its
    /// working-on key.
    pub fn id(&self) -> String {
        self.options.id()
    }

    /// Registers, works until stopped, finishes the running job, unregisters.
    ///
    /// Fails only when it cannot start (Redis away while cleaning up or registering). Once
    /// registered, a Redis error is reported as an event and the step is tried again.
    pub async fn run(mut self) -> anyhow::Result<()> {
        // A worker of this host killed earlier (its pid is gone) still holds its job: the
        // new worker is the first to know, so it cleans up now instead of waiting for the
        // scheduler's next look.
        if self.options.clean_dead_on_start {
            dead_workers::clean_dead_workers(&self.queue, &self.options.name, &self.events).await?;
        }
        if self.options.reliable {
            // A previous run under this name (a container restarted with the same pid)
            // left jobs in the lists this run is about to use: they go back first.
            self.put_back_taken_jobs().await?;
        }
        // Seen from now on: `workers` lists it, and resque-web shows it.
        presence::register(&self.queue, &self.options).await?;
        // The ping runs on its own task so that a long job still pings: a worker is judged
        // stuck by its ping's age, not by how long its job takes.
        let pinger = tokio::spawn(presence::ping_loop(
            self.queue.clone(),
            self.options.clone(),
            self.stop.clone(),
        ));
        self.events.send(WorkerEvent::Start);
        // The loop only steps and acts on the outcome; every protocol step is in work_once.
        let mut failures_while_stopping = 0;
        loop {
            match self.work_once().await {
                // A job ran, or the wait timed out: step again (a `*` worker then reads the
                // queue list afresh).
                Ok(Outcome::Performed(_) | Outcome::Idle) => {}
                // The last outcome is in Redis and nothing was taken: safe to leave.
                Ok(Outcome::Stopped) => break,
                Err(e) => {
                    self.events.send(WorkerEvent::Error {
                        error: e.to_string(),
                    });
                    // Redis went away (a restart, a network cut): the blocking connection
                    // went with it; the next wait opens a new one. The shared connection
                    // reconnects by itself.
                    self.blocking = None;
                    // Stopping with Redis down: a few tries for the last outcome, then leave
                    // without it. The job then looks unfinished: whoever finds this worker's
                    // registration later records it as a Worker Timeout.
                    if self.stop.is_cancelled() {
                        failures_while_stopping += 1;
                        if failures_while_stopping >= 5 {
                            break; // Redis is gone: the last outcome cannot be recorded
                        }
                    }
                    // `self.last` is kept: its outcome is recorded once Redis answers again,
                    // rather than lost with the error. The pause keeps a worker from
                    // spinning on a Redis that is down.
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            }
        }
        // No more pings: the keys they refresh are deleted by unregister just below.
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
        // A worker that stopped cleanly leaves nothing behind: no one has to find it dead.
        if let Err(e) = presence::unregister(&self.queue, &self.options).await {
            self.events.send(WorkerEvent::Error {
                error: format!("unregister: {e}"),
            });
        }
        self.events.send(WorkerEvent::End);
        Ok(())
    }

    /// One step: record the last job's outcome and take the next job (one `work.lua` call),
    /// wait for one if every queue is empty, and run it. Stopping, it only records.
    ///
    /// The job run here is recorded by the *next* call, which is why a job's outcome shows
    /// in Redis one step late (see [`Outcome::Performed`]). On an error the last outcome is
    /// kept and written by the next call that reaches Redis.
    pub async fn work_once(&mut self) -> redis::RedisResult<Outcome> {
        // Read once: the whole step acts on one answer, even if stop comes in meanwhile
        // (then the next step is the stopping one).
        let stopping = self.stop.is_cancelled();
        // Stopping: no queue, so work.lua only records the last outcome and takes nothing.
        let queues = if stopping {
            Vec::new()
        } else {
            self.current_queues().await?
        };
        // Recording and taking in one atomic call: one round trip per job, and no moment
        // where the last job is counted but its working-on key still says it runs (a worker
        // killed there would have it counted twice, once done and once as a Worker Timeout).
        let answer =
            record_and_take(&self.queue, &self.options, self.last.as_ref(), &queues).await?;
        // Recorded in Redis: report it now, before a blocking wait can delay the news.
        // `take`: the outcome is written exactly once; the next call must not record it
        // again (that would count the job twice). An outcome Redis could not take (a key of
        // the wrong type) is not tried again either: trying cannot fix the key, and the
        // worker would stall on it. The report, with the job, is then its only record.
        if let Some(done) = self.last.take() {
            let event = match answer.not_recorded {
                Some(reason) => Some(done.into_not_recorded_event(reason)),
                None => done.into_event(),
            };
            if let Some(event) = event {
                self.events.send(event);
            }
        }
        if stopping {
            return Ok(Outcome::Stopped);
        }
        let job = match answer.taken {
            Some(job) => {
                // Only a job found by work.lua ends an idle stretch: a trickle of jobs each
                // caught by the blocking wait stays one stretch, without polling/paused
                // events for every job.
                self.idle = false;
                job
            }
            // Every queue was empty: wait in Redis for a job rather than ask again.
            None => match self.wait_for_job(&queues).await? {
                Some(job) => job,
                None => return Ok(Outcome::Idle),
            },
        };
        // From here until the next step the job exists only in this process (and, with
        // reliable fetch, in its processing list): this is where a killed worker loses it.
        Ok(Outcome::Performed(self.run_job(job).await))
    }

    /// Queues in priority order: as configured, or for `*` every queue known right now
    /// (re-read each step, so a queue created later is found).
    async fn current_queues(&self) -> redis::RedisResult<Vec<String>> {
        // The `queues` set is what enqueue adds to; sorted, because a set has no order and
        // the walk order is the priority (node-resque sorts `*` queues alike).
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

    /// Every queue was empty: block until a job arrives (or the wait times out, or the
    /// worker is stopped).
    async fn wait_for_job(&mut self, queues: &[String]) -> redis::RedisResult<Option<TakenJob>> {
        if queues.is_empty() {
            // `*` and no queue exists yet: there is nothing to block on. Look again later.
            tokio::select! {
                _ = tokio::time::sleep(self.options.block_timeout) => {}
                _ = self.stop.cancelled() => {}
            }
            return Ok(None);
        }
        // Reported once per idle stretch, not after every timed-out wait.
        if !self.idle {
            self.idle = true;
            for queue in queues {
                self.events.send(WorkerEvent::Poll {
                    queue: queue.clone(),
                });
            }
            self.events.send(WorkerEvent::Pause);
        }
        // Opened on first need: a worker that is never idle never holds a second socket.
        if self.blocking.is_none() {
            self.blocking = Some(BlockingConnection::open(&self.client).await?);
        }
        let blocking = self.blocking.as_mut().expect("just opened");
        let found = blocking
            .wait_for_job(&self.queue, &self.options, queues, &self.stop)
            .await?;
        if let Some(job) = &found {
            self.note_working_on(job).await;
        }
        Ok(found)
    }

    /// Writes the working-on key for a job taken by the blocking pop, which (unlike
    /// work.lua) cannot write it in the same step. A worker killed between the pop and this
    /// write leaves no working-on key, so without reliable fetch that job is lost without a
    /// trace; the window is one round trip.
    async fn note_working_on(&self, job: &TakenJob) {
        let value = wire::working_on(
            &wire::js_date(chrono::Utc::now()),
            &job.queue,
            &self.options.name,
            &job.payload,
        );
        let recorded: redis::RedisResult<()> = self
            .queue
            .connection()
            .set(self.queue.keys().worker(&self.id()), value)
            .await;
        // The job is already off its queue: if this write fails, run it all the same (only
        // the admin view misses it) rather than drop it with the error.
        if let Err(e) = recorded {
            self.events.send(WorkerEvent::Error {
                error: format!("recording the job being worked on: {e}"),
            });
        }
    }

    /// Runs the job and keeps its outcome for the next `work.lua` call to record.
    async fn run_job(&mut self, job: TakenJob) -> FinishedJob {
        // Up while perform runs, and only then: MultiWorker adds a slot when more than half
        // of them are busy.
        self.working.store(true, Ordering::SeqCst);
        let started = Instant::now();
        let ended = perform(&job, &self.jobs, &self.queue, &self.id(), &self.events).await;
        self.working.store(false, Ordering::SeqCst);
        let finished = FinishedJob {
            job,
            ended,
            duration_ms: started.elapsed().as_millis() as u64,
        };
        // Kept for the next work.lua call; the copy is the step's answer to the caller.
        self.last = Some(finished.clone());
        finished
    }

    /// Reliable fetch: requeues what this worker's processing lists still hold. Jobs go back
    /// to the head of their queue: they were taken first, so they run first.
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
}
