//! The `work.lua` call, the one Redis command a busy worker spends per job: it records how
//! the last job ended, then takes the next one. This file turns the worker's state into the
//! script's KEYS and ARGV; `src/lua/work.lua` says what the script does with them.

use super::options::WorkerOptions;
use super::outcome::{Ended, FinishedJob, TakenJob};
use crate::client::Queue;
use crate::scripts;
use crate::wire::{self, failed_entry};

/// What one `work.lua` call did.
#[derive(Debug)]
pub(crate) struct StepAnswer {
    /// Why the last job's outcome could not be written (a key of the wrong type: `failed`
    /// holds a string); then nothing of it was counted. `None`: written, or no last job.
    pub(crate) not_recorded: Option<String>,
    /// The job taken; `None`: every queue was empty.
    pub(crate) taken: Option<TakenJob>,
}

/// Records `last` (if any), then takes the first job found walking `queues` in order (none
/// when `queues` is empty: that only records).
pub(crate) async fn record_and_take(
    queue: &Queue,
    options: &WorkerOptions,
    last: Option<&FinishedJob>,
    queues: &[String],
) -> redis::RedisResult<StepAnswer> {
    let keys = queue.keys();
    let name = &options.name;
    // `run_at` of the job taken, and `failed_at` of the last one if it failed.
    let now = wire::js_date(chrono::Utc::now());
    // The last job: how it ended, where it came from, its bytes, and for a failure the
    // entry to push on `failed` (built here: Rust has the error, Lua only pushes bytes).
    let ended = last.map_or("", |done| done.ended.script_word());
    let (last_queue, last_payload) = last.map_or(("", &[][..]), |done| {
        (done.job.queue.as_str(), done.job.payload.as_bytes())
    });
    let entry = match last {
        Some(FinishedJob {
            job,
            ended: Ended::Failed(error),
            ..
        }) => failed_entry(&options.id(), &job.queue, &job.payload, error, &now),
        _ => String::new(),
    };
    // Every key the script touches is passed in KEYS (none is built inside the script), in
    // the order the header of work.lua lists them. That is Redis's rule for scripts: what
    // a call reads and writes can be told from the call alone.
    let mut call = scripts::WORK.key(keys.worker(&options.id()));
    let queue_list = options.queue_list();
    call.key(keys.stat("processed"))
        .key(&keys.worker_stats("processed", name, &queue_list))
        .key(keys.stat("failed"))
        .key(&keys.worker_stats("failed", name, &queue_list))
        .key(keys.failed())
        // Reliable fetch: the list the last job sits in until its outcome is recorded,
        // then removed from (LREM by its bytes).
        .key(keys.processing(last_queue, name));
    // A (queue, processing list) pair per queue, highest priority first: the script takes
    // from the first queue that has a job.
    for q in queues {
        call.key(keys.queue(q)).key(keys.processing(q, name));
    }
    call.arg(&now)
        .arg(name)
        // Per call, not per script: one script serves both ways of taking a job.
        .arg(if options.reliable { "1" } else { "0" })
        .arg(ended)
        .arg(last_payload)
        .arg(entry);
    for q in queues {
        call.arg(q);
    }
    // EVALSHA, and the script itself only when Redis answers NOSCRIPT (a restarted Redis
    // has forgotten it). The answer: `{not_recorded, queue, payload}`, the last two nil
    // when every queue was empty. The payload is read as bytes: by now the script has run,
    // so a reply that failed to convert (bytes that are not UTF-8) would lose the job it
    // took, and the outcome just recorded would be recorded again by the next call.
    let (not_recorded, taken_from, payload): (String, Option<String>, Option<Vec<u8>>) =
        call.invoke_async(&mut queue.connection()).await?;
    Ok(StepAnswer {
        not_recorded: (!not_recorded.is_empty()).then_some(not_recorded),
        taken: taken_from.zip(payload).map(|(queue, payload)| TakenJob {
            queue,
            payload: payload.into(),
        }),
    })
}
