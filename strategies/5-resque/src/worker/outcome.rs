//! What one step of a worker deals in, as named types: the job it took ([`TakenJob`]), how
//! that job ended ([`Ended`], [`FinishedJob`]) and what the step as a whole did ([`Outcome`]).

use crate::events::WorkerEvent;
use crate::wire::{JobError, Payload};
use serde_json::Value;

/// A job as it came off its queue: the queue's name and the payload's bytes, exactly as
/// popped. The bytes, not a decoded job: recording the outcome finds the job by them (`LREM`
/// from the processing list) and embeds them in the failed entry, so a payload written by
/// another client keeps its spacing and key order, and one that is not even JSON (or not
/// even text) is kept.
#[derive(Debug, Clone, PartialEq)]
pub struct TakenJob {
    pub queue: String,
    pub payload: Payload,
}

/// How a job ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Ended {
    /// `perform` returned this value.
    Succeeded(Value),
    /// It failed (or could not even start: bad payload, unknown class): it goes to `failed`.
    Failed(JobError),
    /// It failed, and after-perform plugin `plugin` took the failure over: Retry scheduled
    /// another attempt, Noop dropped it. Counted as node-resque counts it (processed, which
    /// Retry offsets by counting the attempt as failed), nothing goes to `failed`, and it is
    /// reported as the failure it was: a job that failed is never reported as a success.
    TakenOver {
        error: JobError,
        plugin: &'static str,
    },
    /// A before-perform plugin dropped it: no counter moves and nothing goes to `failed`, as
    /// in node-resque.
    Skipped,
}

/// A job that ran, and how it ended. The worker keeps it until Redis has recorded it.
#[derive(Debug, Clone, PartialEq)]
pub struct FinishedJob {
    pub job: TakenJob,
    pub ended: Ended,
    pub duration_ms: u64,
}

/// What one [`Worker::work_once`](super::Worker::work_once) did.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// It took a job and ran it. How the job ended is written to Redis by the *next* step,
    /// in the same call that takes the next job: until then the job still shows in its
    /// working-on key, and the counters do not count it yet.
    Performed(FinishedJob),
    /// Every queue was empty, also through the blocking wait. The last job's outcome, if
    /// there was one, is now in Redis.
    Idle,
    /// The worker was told to stop: the last job's outcome is in Redis, and no job was
    /// taken. The loop ends here.
    Stopped,
}

impl Ended {
    /// How `work.lua` spells it (its `ARGV[4]`).
    pub(crate) fn script_word(&self) -> &'static str {
        match self {
            Ended::Succeeded(_) | Ended::TakenOver { .. } => "ok",
            Ended::Failed(_) => "fail",
            Ended::Skipped => "skip",
        }
    }
}

impl FinishedJob {
    /// The event that tells listeners how the job ended; `None` for a skipped job. Sent only
    /// once Redis holds the outcome, so a listener never sees news that Redis does not.
    pub(crate) fn into_event(self) -> Option<WorkerEvent> {
        let FinishedJob {
            job: TakenJob { queue, payload },
            ended,
            duration_ms,
        } = self;
        match ended {
            Ended::Succeeded(result) => Some(WorkerEvent::Success {
                queue,
                job: payload.to_string(),
                result,
                duration_ms,
            }),
            Ended::Failed(error) => Some(WorkerEvent::Failure {
                queue,
                job: payload.to_string(),
                error: error.to_string(),
                duration_ms,
            }),
            Ended::TakenOver { error, plugin } => Some(WorkerEvent::FailureTakenOver {
                queue,
                job: payload.to_string(),
                error: error.to_string(),
                plugin,
                duration_ms,
            }),
            Ended::Skipped => None,
        }
    }

    /// The event for an outcome Redis could not take (`reason`): the job and how it ended,
    /// so that the log holds what the counters and `failed` do not.
    pub(crate) fn into_not_recorded_event(self, reason: String) -> WorkerEvent {
        let ended = match &self.ended {
            Ended::Succeeded(_) => "success".to_owned(),
            Ended::Failed(error) | Ended::TakenOver { error, .. } => format!("failure ({error})"),
            Ended::Skipped => "skip".to_owned(),
        };
        WorkerEvent::NotRecorded {
            queue: self.job.queue,
            job: self.job.payload.to_string(),
            ended,
            reason,
        }
    }
}
