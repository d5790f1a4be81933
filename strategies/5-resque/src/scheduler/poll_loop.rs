//! The scheduler's loop: every poll, try for the leader lock; as leader, promote due delayed
//! jobs and clean up after stuck or dead workers.
//!
//! ```text
//!  every poll:  leader.lua (SET NX EX | GET == me -> EXPIRE)
//!               └─ leader? promote.lua: every due delayed:TS -> queue:Q, in one atomic call
//!                          stuck workers: worker:ping older than the timeout -> clean them
//! ```

use super::dead_workers;
use super::leader;
use super::options::SchedulerOptions;
use super::promote::promote_due;
use crate::client::Queue;
use crate::events::{EventSender, WorkerEvent};
use tokio_util::sync::CancellationToken;

pub struct Scheduler {
    options: SchedulerOptions,
    queue: Queue,
    events: EventSender,
    stop: CancellationToken,
    leader: bool,
}

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
                // Not sure we still hold the lock: the next poll finds out.
                self.leader = false;
            }
            tokio::select! {
                _ = tokio::time::sleep(self.options.poll_interval) => {}
                _ = self.stop.cancelled() => {}
            }
        }
        // Without this, the others would wait out the lock's TTL (3 minutes by default).
        let _ = leader::release(&self.queue, &self.options.name).await;
        self.events.send(WorkerEvent::End);
    }

    /// One round: try for the lock; as leader, promote due jobs and clean stuck workers.
    pub async fn poll(&mut self) -> anyhow::Result<()> {
        let is_leader = leader::try_for_leader(
            &self.queue,
            &self.options.name,
            self.options.leader_lock_timeout,
        )
        .await?;
        let was_leader = std::mem::replace(&mut self.leader, is_leader);
        if !self.leader {
            leader::release_if_holder_is_dead(&self.queue).await?;
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
        dead_workers::clean_stuck_workers(
            &self.queue,
            self.options.stuck_worker_timeout,
            &self.events,
        )
        .await?;
        if self.options.retry_stuck_jobs {
            let retried = self.queue.retry_stuck_jobs().await?;
            if retried > 0 {
                tracing::info!(retried, "re-enqueued the jobs of stuck workers");
            }
        }
        Ok(())
    }
}
