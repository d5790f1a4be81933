//! What a worker can run: job classes by name, each a function of its args, with the
//! plugins that wrap it.
//!
//! An async job runs on the runtime (it should await, not compute); a job marked
//! [`JobDef::blocking`] runs on tokio's blocking pool, so a CPU-bound job cannot stall the
//! other job slots (the lesson MultiWorker's event-loop probe teaches in Node).
//!
//! The queue runs the enqueue plugins of these definitions too, through
//! [`EnqueueHooks`] (implemented at the end of this file), so it never names this registry.

use crate::client::{EnqueueHooks, NewJob, Queue, QueueError};
use crate::plugins::{Plugin, PluginContext};
use crate::wire::JobError;
use futures_util::future::BoxFuture;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;

pub type JobResult = Result<Value, JobError>;
type AsyncPerform = dyn Fn(Vec<Value>) -> BoxFuture<'static, JobResult> + Send + Sync;
type BlockingPerform = dyn Fn(Vec<Value>) -> JobResult + Send + Sync;

#[derive(Clone)]
enum Perform {
    Async(Arc<AsyncPerform>),
    Blocking(Arc<BlockingPerform>),
}

/// One job class.
#[derive(Clone)]
pub struct JobDef {
    perform: Perform,
    pub plugins: Vec<Arc<dyn Plugin>>,
}

impl JobDef {
    pub fn new<F, Fut>(perform: F) -> JobDef
    where
        F: Fn(Vec<Value>) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = JobResult> + Send + 'static,
    {
        JobDef {
            perform: Perform::Async(Arc::new(move |args| Box::pin(perform(args)))),
            plugins: Vec::new(),
        }
    }

    /// A CPU-bound job: run on the blocking pool.
    pub fn blocking<F>(perform: F) -> JobDef
    where
        F: Fn(Vec<Value>) -> JobResult + Send + Sync + 'static,
    {
        JobDef {
            perform: Perform::Blocking(Arc::new(perform)),
            plugins: Vec::new(),
        }
    }

    pub fn with_plugin(mut self, plugin: impl Plugin + 'static) -> JobDef {
        self.plugins.push(Arc::new(plugin));
        self
    }

    pub async fn perform(&self, args: Vec<Value>) -> JobResult {
        match &self.perform {
            Perform::Async(f) => f(args).await,
            Perform::Blocking(f) => {
                let f = f.clone();
                tokio::task::spawn_blocking(move || f(args))
                    .await
                    .unwrap_or_else(|e| Err(JobError::named("Panic", e.to_string())))
            }
        }
    }
}

/// Job classes by name.
#[derive(Clone, Default)]
pub struct Jobs {
    defs: HashMap<String, JobDef>,
}

impl Jobs {
    pub fn new() -> Jobs {
        Jobs::default()
    }

    pub fn with(mut self, class: &str, def: JobDef) -> Jobs {
        self.defs.insert(class.to_owned(), def);
        self
    }

    pub fn get(&self, class: &str) -> Option<&JobDef> {
        self.defs.get(class)
    }

    /// The plugins of `class`, in the order they were added (none for an unknown class).
    pub fn plugins_of(&self, class: &str) -> &[Arc<dyn Plugin>] {
        self.get(class).map_or(&[], |def| def.plugins.as_slice())
    }
}

/// The queue runs the enqueue plugins through this, without knowing the registry.
impl EnqueueHooks for Jobs {
    fn before_enqueue<'a>(
        &'a self,
        queue: &'a Queue,
        job: NewJob<'a>,
    ) -> BoxFuture<'a, crate::client::Result<bool>> {
        Box::pin(async move {
            let cx = PluginContext::for_enqueue(queue, job);
            for plugin in self.plugins_of(job.class) {
                let allowed = plugin
                    .before_enqueue(&cx)
                    .await
                    .map_err(|e| QueueError::Plugin(plugin.name(), e))?;
                if !allowed {
                    return Ok(false);
                }
            }
            Ok(true)
        })
    }

    fn after_enqueue<'a>(
        &'a self,
        queue: &'a Queue,
        job: NewJob<'a>,
    ) -> BoxFuture<'a, crate::client::Result<()>> {
        Box::pin(async move {
            let cx = PluginContext::for_enqueue(queue, job);
            for plugin in self.plugins_of(job.class) {
                plugin
                    .after_enqueue(&cx)
                    .await
                    .map_err(|e| QueueError::Plugin(plugin.name(), e))?;
            }
            Ok(())
        })
    }
}
