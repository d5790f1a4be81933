//! How a worker is set up: its name, its queues and its timings. A file of its own because
//! both the loop ([`super::work_loop`]) and presence ([`super::presence`]) read it.

use crate::wire;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// `host:pid` (a MultiWorker slot: `host:pid+N`). Must contain a `:` for Ruby tools.
    pub name: String,
    /// Queues in priority order; `["*"]` means every known queue, alphabetically.
    pub queues: Vec<String>,
    /// How often `worker:ping:NAME` is refreshed (node-resque's `timeout`).
    pub ping_interval: Duration,
    /// Longest single blocking wait; the worker re-reads `*` queues after each.
    pub block_timeout: Duration,
    /// Take jobs with LMOVE into a processing list, so a killed worker's job survives.
    pub reliable: bool,
    /// On start, clean up workers of this host whose process is gone: requeue their taken
    /// jobs (reliable fetch) or record their lost job as failed.
    pub clean_dead_on_start: bool,
}

impl WorkerOptions {
    pub fn new(queues: &[&str]) -> WorkerOptions {
        WorkerOptions {
            name: wire::default_name(),
            queues: queues.iter().map(|q| q.to_string()).collect(),
            ping_interval: Duration::from_secs(5),
            block_timeout: Duration::from_secs(5),
            reliable: false,
            clean_dead_on_start: true,
        }
    }

    /// `NAME:q1,q2`, the member of the `workers` set.
    pub fn id(&self) -> String {
        format!("{}:{}", self.name, self.queue_list())
    }

    /// `q1,q2` (`*` when no queue is named), as the worker id spells its queues.
    pub fn queue_list(&self) -> String {
        if self.queues.is_empty() {
            "*".to_owned()
        } else {
            self.queues.join(",")
        }
    }
}
