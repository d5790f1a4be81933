//! How a scheduler is set up: its name (the leader lock's value) and its timings.

use crate::wire;
use std::time::Duration;

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
