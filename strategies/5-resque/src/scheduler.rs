//! The scheduler: one leader at a time (node-resque's lock key, so a node-resque scheduler
//! and this one exclude each other), moving due delayed jobs onto their queues, and failing
//! (or, with reliable fetch, requeueing) the jobs of stuck or dead workers.
//!
//! ```text
//!  every poll:  leader.lua (SET NX EX | GET == me -> EXPIRE)
//!               └─ leader? promote.lua: every due delayed:TS -> queue:Q, in one atomic call
//!                          stuck workers: worker:ping older than the timeout -> clean them
//! ```
//!
//! node-resque moves delayed jobs one `LPOP` at a time and enqueues each afterwards: a crash
//! between the two loses the job. Here the whole move is one Lua call, which pushes each item
//! with its bytes unchanged and runs no enqueue plugins (node-resque runs them only when its
//! scheduler is given the job definitions).

use crate::client::Queue;
use crate::events::{EventSender, WorkerEvent};
use crate::presence;
use crate::reliable;
use crate::scripts;
use crate::wire;
use redis::AsyncCommands;
use serde_json::Value;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

#[derive(Debug, Clone)]
pub struct SchedulerOptions {
    /// The lock value: `hostname:pid` by default.
    pub name: String,
    pub poll_interval: Duration,
    /// TTL of the leader lock: how long a killed leader blocks the others.
    pub leader_lock_timeout: Duration,
    /// A worker whose ping is older than this is stuck; `None` disables the check.
    pub stuck_worker_timeout: Option<Duration>,
    /// Re-enqueue the jobs of cleaned workers (node-resque's `retryStuckJobs`).
    pub retry_stuck_jobs: bool,
}

impl Default for SchedulerOptions {
    fn default() -> SchedulerOptions {
        SchedulerOptions {
            name: wire::default_name(),
            poll_interval: Duration::from_secs(1),
            leader_lock_timeout: Duration::from_secs(180),
            stuck_worker_timeout: Some(Duration::from_secs(3600)),
            retry_stuck_jobs: false,
        }
    }
}

pub struct Scheduler {
    options: SchedulerOptions,
    queue: Queue,
    events: EventSender,
    stop: CancellationToken,
    leader: bool,
}

/// Most delayed timestamps one promotion call moves (bounds how long Redis is busy).
const TIMESTAMPS_PER_CALL: usize = 100;

impl Scheduler {
    pub fn new(options: SchedulerOptions, queue: Queue, events: EventSender) -> Scheduler {
        let events = events.for_source(&format!("scheduler {}", options.name));
        Scheduler {
            options,
            queue,
            events,
            stop: CancellationToken::new(),
            leader: false,
        }
    }

    pub fn stop_token(&self) -> CancellationToken {
        self.stop.clone()
    }

    pub fn is_leader(&self) -> bool {
        self.leader
    }

    /// Polls until stopped, then gives up the lock so another scheduler takes over at once.
    pub async fn run(mut self) {
        self.events.send(WorkerEvent::Start);
        while !self.stop.is_cancelled() {
            if let Err(e) = self.poll().await {
                self.events.send(WorkerEvent::Error {
                    error: e.to_string(),
                });
                self.leader = false;
            }
            tokio::select! {
                _ = tokio::time::sleep(self.options.poll_interval) => {}
                _ = self.stop.cancelled() => {}
            }
        }
        let _: redis::RedisResult<i64> = scripts::RELEASE
            .key(self.queue.keys().leader_lock())
            .arg(&self.options.name)
            .invoke_async(&mut self.queue.connection())
            .await;
        self.events.send(WorkerEvent::End);
    }

    /// One round: try for the lock; as leader, promote due jobs and clean stuck workers.
    pub async fn poll(&mut self) -> anyhow::Result<()> {
        let got: i64 = scripts::LEADER
            .key(self.queue.keys().leader_lock())
            .arg(&self.options.name)
            .arg(self.options.leader_lock_timeout.as_secs().max(1))
            .invoke_async(&mut self.queue.connection())
            .await?;
        let was_leader = std::mem::replace(&mut self.leader, got == 1);
        if !self.leader {
            self.take_over_from_dead_leader().await?;
            return Ok(());
        }
        if !was_leader {
            self.events.send(WorkerEvent::Leader);
        }
        let moved = promote_due(&self.queue).await?;
        if moved > 0 {
            self.events
                .send(WorkerEvent::TransferredJobs { count: moved });
        }
        self.clean_stuck_workers().await?;
        if self.options.retry_stuck_jobs {
            let retried = self.queue.retry_stuck_jobs().await?;
            if retried > 0 {
                tracing::info!(retried, "re-enqueued the jobs of stuck workers");
            }
        }
        Ok(())
    }

    /// A leader killed on this host keeps its lock until the TTL ends (3 minutes by
    /// default), and delayed jobs wait that long. Its pid tells us it is gone: release the
    /// lock for it (only if it still holds it), and the next poll elects a live scheduler.
    async fn take_over_from_dead_leader(&self) -> anyhow::Result<()> {
        let Some(holder) = self.queue.leader().await? else {
            return Ok(());
        };
        let dead = reliable::pid_on_host(&holder, &wire::hostname())
            .is_some_and(|pid| !reliable::pid_alive(pid));
        if dead {
            let _: i64 = scripts::RELEASE
                .key(self.queue.keys().leader_lock())
                .arg(&holder)
                .invoke_async(&mut self.queue.connection())
                .await?;
            tracing::warn!(leader = %holder, "the scheduler leader's process is gone: lock released");
        }
        Ok(())
    }

    /// Two ways a worker is found gone: on this host its pid no longer exists (found at
    /// once), anywhere its ping is older than the stuck timeout (a hung or remote worker).
    async fn clean_stuck_workers(&self) -> anyhow::Result<()> {
        presence::clean_dead_workers(&self.queue, "", &self.events).await?;
        let Some(limit) = self.options.stuck_worker_timeout else {
            return Ok(());
        };
        let now = chrono::Utc::now().timestamp();
        for key in self
            .queue
            .scan(&self.queue.keys().key("worker:ping:*"))
            .await?
        {
            let raw: Option<String> = self.queue.connection().get(&key).await?;
            let Some(ping) = raw.and_then(|r| serde_json::from_str::<Value>(&r).ok()) else {
                continue;
            };
            let (Some(name), Some(time)) = (ping["name"].as_str(), ping["time"].as_i64()) else {
                continue;
            };
            let delta = now - time;
            // A ping from a host whose clock runs ahead is fresh, not billions of seconds old.
            let stuck = u64::try_from(delta).is_ok_and(|d| Duration::from_secs(d) > limit);
            if !stuck {
                continue;
            }
            let jobs = match self.queue.workers().await?.remove(name) {
                Some(queues) => reliable::recover_worker(&self.queue, name, &queues).await?,
                None => {
                    let _: () = self.queue.connection().del(&key).await?;
                    0
                }
            };
            self.events.send(WorkerEvent::CleanStuckWorker {
                worker: name.to_owned(),
                delta_seconds: delta,
            });
            if jobs > 0 {
                self.events.send(WorkerEvent::Recovered {
                    worker: name.to_owned(),
                    jobs,
                });
            }
        }
        Ok(())
    }
}

/// Moves every due delayed job onto its queue; returns how many moved.
pub async fn promote_due(queue: &Queue) -> redis::RedisResult<u64> {
    let mut total = 0;
    loop {
        let moved: u64 = scripts::PROMOTE
            .key(queue.keys().delayed_schedule())
            .arg(chrono::Utc::now().timestamp())
            .arg(queue.keys().prefix())
            .arg(TIMESTAMPS_PER_CALL)
            .arg(wire::js_date(chrono::Utc::now()))
            .invoke_async(&mut queue.connection())
            .await?;
        total += moved;
        let left: usize = queue
            .connection()
            .zcount(
                queue.keys().delayed_schedule(),
                "-inf",
                chrono::Utc::now().timestamp(),
            )
            .await?;
        if left == 0 {
            return Ok(total);
        }
    }
}
