//! MultiWorker: many worker slots in one process, as many as the runtime can carry.
//!
//! Every `check_interval` it reads the [`LagProbe`] and picks node-resque's verb:
//!
//! | condition                                               | verb                         |
//! |---------------------------------------------------------|------------------------------|
//! | lag over `max_lag`, more than `min` slots               | `-`                          |
//! | lag fine, fewer than `min` slots                        | `+` (up to `min`)            |
//! | lag fine, below `max`, no slot yet or over half busy    | `+` (doubles if all are busy) |
//! | lag fine, above `min`, under half busy                  | `-`                          |
//! | otherwise                                               | `x`                          |
//!
//! The probe reads the lag every eighth of `check_interval`, and right after the slots
//! doubled (or while no lag is known yet) the next check comes after that shorter step too:
//! a backlog found with every slot busy is met in a few short steps (1 to 64 slots in about
//! 200 ms at the default 250 ms check) instead of a whole interval per doubling (1.5 s).
//!
//! I/O-bound jobs leave the runtime free, so slots are added up to `max`. Jobs that hog
//! the runtime make it late, so no slot is added: in Rust, mark such jobs
//! [`JobDef::blocking`](crate::JobDef::blocking) and they run on the blocking pool instead.
//! Each slot is a full [`Worker`] named `host:pid+N`, so Resque tools list every slot.

use super::job_definitions::Jobs;
use super::lag_probe::LagProbe;
use super::options::WorkerOptions;
use super::work_loop::Worker;
use crate::client::Queue;
use crate::events::{EventSender, WorkerEvent};
use crate::scheduler::dead_workers;
use futures_util::FutureExt;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

#[derive(Debug, Clone)]
pub struct MultiWorkerOptions {
    /// The template every slot copies; its name (`host:pid`) gets `+N` appended.
    pub worker: WorkerOptions,
    pub min: usize,
    pub max: usize,
    pub check_interval: Duration,
    pub max_lag: Duration,
}

impl MultiWorkerOptions {
    pub fn new(worker: WorkerOptions) -> MultiWorkerOptions {
        MultiWorkerOptions {
            worker,
            min: 1,
            max: 10,
            check_interval: Duration::from_millis(500),
            max_lag: Duration::from_millis(10),
        }
    }
}

/// What the multi-worker shows the outside (the admin API, tests).
#[derive(Debug, Default)]
pub struct MultiWorkerStatus {
    pub slots: AtomicUsize,
    pub working: AtomicUsize,
    pub most_slots: AtomicUsize,
    /// Last measured runtime lag in microseconds (`u64::MAX`: not measured yet).
    pub lag_us: AtomicU64,
}

struct Slot {
    id: usize,
    stop: CancellationToken,
    working: Arc<AtomicBool>,
    task: JoinHandle<anyhow::Result<()>>,
}

pub struct MultiWorker {
    options: MultiWorkerOptions,
    queue: Queue,
    client: redis::Client,
    jobs: Arc<Jobs>,
    events: EventSender,
    stop: CancellationToken,
    status: Arc<MultiWorkerStatus>,
}

impl MultiWorker {
    pub fn new(
        options: MultiWorkerOptions,
        queue: Queue,
        client: redis::Client,
        jobs: Arc<Jobs>,
        events: EventSender,
    ) -> MultiWorker {
        MultiWorker {
            options,
            queue,
            client,
            jobs,
            events: events.for_source("multiWorker"),
            stop: CancellationToken::new(),
            status: Arc::default(),
        }
    }

    pub fn stop_token(&self) -> CancellationToken {
        self.stop.clone()
    }

    pub fn status(&self) -> Arc<MultiWorkerStatus> {
        self.status.clone()
    }

    /// Scales slots until stopped, then stops every slot (each finishes its job).
    pub async fn run(self) {
        // A lateness is as telling after a short sleep as after a long one; reading it often
        // lets the first check that can scale come early, and the ramp's short steps read
        // a fresh lag each time.
        let step = (self.options.check_interval / 8).max(Duration::from_millis(1));
        let probe = LagProbe::start(step, self.stop.child_token());
        // Once for all slots, before any of them registers.
        if self.options.worker.clean_dead_on_start {
            if let Err(e) = dead_workers::clean_dead_workers(
                &self.queue,
                &self.options.worker.name,
                &self.events,
            )
            .await
            {
                self.events.send(WorkerEvent::Error {
                    error: format!("cleaning dead workers: {e}"),
                });
            }
        }
        // The first `min` slots start at once: no need to measure an idle runtime first.
        let mut slots: Vec<Slot> = (1..=self.options.min)
            .map(|id| self.start_slot(id))
            .collect();
        self.status.slots.store(slots.len(), Ordering::Relaxed);
        // Slots told to stop that may still be finishing a job: awaited at shutdown, and
        // their names are not reused until they have unregistered.
        let mut retiring: Vec<Slot> = Vec::new();
        // The first check at once; then every `check_interval`, or a `step` while doubling.
        let mut next_check = tokio::time::Instant::now();
        loop {
            tokio::select! {
                _ = tokio::time::sleep_until(next_check) => {}
                _ = self.stop.cancelled() => break,
            }
            let mut doubled = false;
            self.reap(&mut slots);
            self.reap(&mut retiring);
            let lag = probe.lag();
            let verb = self.decide(&slots, lag);
            match verb {
                "+" => {
                    let adding = self.slots_to_add(&slots);
                    doubled = slots.len() >= self.options.min
                        && adding == slots.len()
                        && slots.iter().all(|s| s.working.load(Ordering::Relaxed));
                    for _ in 0..adding {
                        let id = (1..)
                            .find(|id| !slots.iter().chain(&retiring).any(|s| s.id == *id))
                            .expect("a free id");
                        slots.push(self.start_slot(id));
                    }
                }
                "-" => {
                    if let Some(slot) = slots.pop() {
                        slot.stop.cancel(); // it finishes its job, then unregisters
                        retiring.push(slot);
                    }
                }
                _ => {}
            }
            // All busy and now twice as many: if the backlog is deeper still, the next
            // doubling should not wait a whole interval (with one slot at a 250 ms check,
            // 64 slots would take 1.5 s, and a 4000-mail backlog is gone by then).
            next_check = tokio::time::Instant::now()
                + if doubled || lag.is_none() {
                    step
                } else {
                    self.options.check_interval
                };
            let lag_us = lag.map_or(u64::MAX, |l| l.as_micros() as u64);
            self.status.slots.store(slots.len(), Ordering::Relaxed);
            self.status
                .most_slots
                .fetch_max(slots.len(), Ordering::Relaxed);
            self.status.lag_us.store(lag_us, Ordering::Relaxed);
            self.events.send(WorkerEvent::MultiWorkerAction {
                verb,
                lag_ms: lag.map_or(f64::INFINITY, |l| l.as_secs_f64() * 1000.0),
                slots: slots.len(),
            });
        }
        for slot in &slots {
            slot.stop.cancel();
        }
        for slot in slots.into_iter().chain(retiring) {
            let _ = slot.task.await;
        }
        self.status.slots.store(0, Ordering::Relaxed);
    }

    fn decide(&self, slots: &[Slot], lag: Option<Duration>) -> &'static str {
        let (min, max) = (self.options.min, self.options.max.max(self.options.min));
        let n = slots.len();
        let working = slots
            .iter()
            .filter(|s| s.working.load(Ordering::Relaxed))
            .count();
        self.status.working.store(working, Ordering::Relaxed);
        let blocked = lag.is_none_or(|l| l > self.options.max_lag);
        let busy_share = if n == 0 {
            0.0
        } else {
            working as f64 / n as f64
        };
        if blocked {
            return if n > min { "-" } else { "x" };
        }
        if n < min || (n < max && (n == 0 || busy_share > 0.5)) {
            "+"
        } else if n > min && busy_share < 0.5 {
            "-"
        } else {
            "x"
        }
    }

    /// How many slots a `+` adds. node-resque adds one per check, which takes `max` checks
    /// to meet a burst (10 slots at 500 ms: 5 s of backlog). When every slot is busy the
    /// load is at least as large as the slots, so they double instead (1, 2, 4, 8, ... up
    /// to `max`): a few checks to any size. Otherwise one, as node-resque does.
    fn slots_to_add(&self, slots: &[Slot]) -> usize {
        let max = self.options.max.max(self.options.min);
        let n = slots.len();
        let all_busy = n > 0 && slots.iter().all(|s| s.working.load(Ordering::Relaxed));
        let wanted = if n < self.options.min {
            self.options.min - n
        } else if all_busy {
            n
        } else {
            1
        };
        wanted.min(max.saturating_sub(n)).max(1)
    }

    /// Drops the slots whose task has ended. A slot that ended on its own (it could not
    /// register: Redis is away) says why; the next check starts a new one if needed.
    fn reap(&self, slots: &mut Vec<Slot>) {
        slots.retain_mut(|slot| {
            if !slot.task.is_finished() {
                return true;
            }
            let why = match (&mut slot.task).now_or_never() {
                Some(Ok(Err(e))) => Some(e.to_string()),
                Some(Err(e)) => Some(e.to_string()),
                _ => None,
            };
            if let Some(why) = why {
                self.events.send(WorkerEvent::Error {
                    error: format!("slot {} ended: {why}", slot.id),
                });
            }
            false
        });
    }

    fn start_slot(&self, id: usize) -> Slot {
        let mut options = self.options.worker.clone();
        options.name = format!("{}+{id}", options.name);
        options.clean_dead_on_start = false;
        let worker = Worker::new(
            options,
            self.queue.clone(),
            self.client.clone(),
            self.jobs.clone(),
            self.events.clone(),
        );
        let stop = worker.stop_token();
        let working = worker.working_flag();
        Slot {
            id,
            stop,
            working,
            task: tokio::spawn(worker.run()),
        }
    }
}
