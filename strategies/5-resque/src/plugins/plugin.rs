//! The plugin trait: node-resque's four hooks, and what each hook is given.

use crate::client::{NewJob, Queue};
use crate::events::{EventSender, WorkerEvent};
use crate::wire::JobError;
use futures_util::future::BoxFuture;
use serde_json::Value;

/// What a hook sees: the job, and the queue API to act with.
pub struct PluginContext<'a> {
    pub queue: &'a Queue,
    pub queue_name: &'a str,
    pub class: &'a str,
    pub args: &'a [Value],
    /// The worker running the job (perform hooks only): its id (`NAME:QUEUES`), and where
    /// it sends its events.
    pub worker: Option<(&'a str, &'a EventSender)>,
}

impl<'a> PluginContext<'a> {
    /// What an enqueue hook sees: no worker runs the job yet.
    pub fn for_enqueue(queue: &'a Queue, job: NewJob<'a>) -> PluginContext<'a> {
        PluginContext {
            queue,
            queue_name: job.queue,
            class: job.class,
            args: job.args,
            worker: None,
        }
    }

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

    /// Runs after success and after failure; may take the error away (`*error = None`), as
    /// node-resque's `worker.error = null` does: the job is then counted as processed with
    /// nothing in `failed`, and reported as a failure this plugin took over. An error this
    /// hook returns is reported; it does not change how the job ended.
    fn after_perform<'a>(
        &'a self,
        _cx: &'a PluginContext<'a>,
        _error: &'a mut Option<JobError>,
    ) -> BoxFuture<'a, HookResult<()>> {
        Box::pin(async { Ok(()) })
    }
}
