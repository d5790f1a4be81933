//! Running one taken job: decode it, find its class, run the class's plugins around
//! `perform`, and say how it ended. Nothing here writes the outcome: the next `work.lua`
//! call does ([`super::work_script`]).

use super::job_definitions::Jobs;
use super::outcome::{Ended, TakenJob};
use crate::client::Queue;
use crate::events::{EventSender, WorkerEvent};
use crate::plugins::PluginContext;
use crate::wire::{Job, JobError};
use serde_json::Value;

/// Runs `taken` as worker `worker` (its id, `NAME:QUEUES`) would; never fails, every problem is an [`Ended::Failed`].
pub(crate) async fn perform(
    taken: &TakenJob,
    jobs: &Jobs,
    queue: &Queue,
    worker: &str,
    events: &EventSender,
) -> Ended {
    // A payload that is not a job (not JSON, not even text) still leaves the queue: it goes
    // to `failed`, where a person can see it, instead of coming back forever.
    let job = match Job::from_payload(&taken.payload) {
        Ok(job) => job,
        Err(e) => return Ended::Failed(JobError::named("SyntaxError", e.to_string())),
    };
    // node-resque's answer to a class this worker does not know: a failure, in its words.
    let Some(def) = jobs.get(&job.class) else {
        return Ended::Failed(JobError::unknown_class(&job.class));
    };
    // node-resque's `job` event: the job starts (also one a plugin then skips).
    events.send(WorkerEvent::Job {
        queue: taken.queue.clone(),
        job: taken.payload.to_string(),
    });
    // The hooks act through the queue (locks, a delayed retry) and report as this worker.
    let cx = PluginContext {
        queue,
        queue_name: &taken.queue,
        class: &job.class,
        args: &job.args,
        worker: Some((worker, events)),
    };
    // Any before-perform plugin may drop the job (JobLock: the same job runs elsewhere);
    // one that breaks fails it, in the plugin's name.
    for plugin in &def.plugins {
        match plugin.before_perform(&cx).await {
            Ok(true) => {}
            Ok(false) => return Ended::Skipped,
            Err(e) => return Ended::Failed(JobError::named(plugin.name(), e.to_string())),
        }
    }
    // A copy of the args: the after-perform hooks still read them through `cx`.
    let (mut error, result) = match def.perform(job.args.clone()).await {
        Ok(result) => (None, result),
        Err(e) => (Some(e), Value::Null),
    };
    // After-perform plugins run on success and on failure, and may take the error away
    // (Retry schedules another attempt; Noop forgets it). A hook that fails does not change
    // how the job ended: the job has run, and its mail went out or not whatever the hook's
    // bookkeeping did (a hook makes its Redis calls again while Redis is away, see
    // `plugins::bookkeeping`, but Redis may stay away longer). Were its error the job's, a
    // mail that was sent would be parked in `failed`, for a person to send again. So the
    // error is reported with the job, and the outcome stands.
    let failure = error.clone();
    let mut taken_over_by = None;
    for plugin in &def.plugins {
        let failed_before = error.is_some();
        let hook = plugin.after_perform(&cx, &mut error).await;
        if failed_before && error.is_none() {
            taken_over_by = Some(plugin.name());
        }
        if let Err(e) = hook {
            events.send(WorkerEvent::PluginFailed {
                plugin: plugin.name(),
                queue: taken.queue.clone(),
                job: taken.payload.to_string(),
                error: format!("{e:#}"),
            });
        }
    }
    match (error, failure, taken_over_by) {
        (Some(error), ..) => Ended::Failed(error),
        (None, Some(error), Some(plugin)) => Ended::TakenOver { error, plugin },
        (None, ..) => Ended::Succeeded(result),
    }
}
