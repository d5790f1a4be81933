//! Plugins: code that runs around enqueue and perform, node-resque's four hooks behind one
//! trait. Each hook may say no (`Ok(false)`): before enqueue that vetoes the enqueue, before
//! perform it drops the job (no stats, no failure), as node-resque does.

mod delay_queue_lock;
mod job_lock;
mod noop;
mod queue_lock;
mod retry;

pub use delay_queue_lock::DelayQueueLock;
pub use job_lock::JobLock;
pub use noop::Noop;
pub use queue_lock::QueueLock;
pub use retry::Retry;

use crate::events::{EventSender, WorkerEvent};
use crate::queue::Queue;
use crate::wire::JobError;
use futures_util::future::BoxFuture;
use serde_json::Value;

/// What a hook sees: the job, and the queue API to act with.
pub struct PluginContext<'a> {
    pub queue: &'a Queue,
    pub queue_name: &'a str,
    pub class: &'a str,
    pub args: &'a [Value],
    /// The worker running the job (perform hooks only), and where it sends its events.
    pub worker: Option<(&'a str, &'a EventSender)>,
}

impl PluginContext<'_> {
    /// node-resque's lock key for this job: `KIND:CLASS:QUEUE:<JSON.stringify(args)>`
    /// (`lock` for QueueLock, `workerslock` for JobLock), in the namespace.
    pub fn lock_key(&self, kind: &str) -> String {
        let args = serde_json::to_string(self.args).expect("JSON values serialize");
        self.queue
            .keys()
            .key(&format!("{kind}:{}:{}:{args}", self.class, self.queue_name))
    }

    pub fn emit(&self, event: WorkerEvent) {
        if let Some((_, events)) = self.worker {
            events.send(event);
        }
    }
}

pub type HookResult<T> = anyhow::Result<T>;

pub trait Plugin: Send + Sync {
    fn name(&self) -> &'static str;

    fn before_enqueue<'a>(&'a self, _cx: &'a PluginContext<'a>) -> BoxFuture<'a, HookResult<bool>> {
        Box::pin(async { Ok(true) })
    }

    fn after_enqueue<'a>(&'a self, _cx: &'a PluginContext<'a>) -> BoxFuture<'a, HookResult<()>> {
        Box::pin(async { Ok(()) })
    }

    fn before_perform<'a>(&'a self, _cx: &'a PluginContext<'a>) -> BoxFuture<'a, HookResult<bool>> {
        Box::pin(async { Ok(true) })
    }

    /// Runs after success and after failure; may take the error away (`*error = None`),
    /// which turns the failure into a success, as node-resque's `worker.error = null` does.
    fn after_perform<'a>(
        &'a self,
        _cx: &'a PluginContext<'a>,
        _error: &'a mut Option<JobError>,
    ) -> BoxFuture<'a, HookResult<()>> {
        Box::pin(async { Ok(()) })
    }
}
