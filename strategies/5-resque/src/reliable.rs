//! Reliable fetch (opt-in, not part of Resque): a worker takes a job with `LMOVE` into its
//! own processing list `processing:QUEUE:NAME` instead of `LPOP`, and removes it only after
//! recording the outcome. If the worker dies, the job is still in Redis: the next worker to
//! start (or the scheduler) finds the dead worker and moves its jobs back to the head of
//! their queue. At-least-once: a job that was running when its worker died runs again.
//!
//! A worker is dead when it runs on this host and its pid is gone, or when its
//! `worker:ping:NAME` is older than the stuck timeout.

use crate::job;
use crate::queue::{Queue, Result};
use crate::scripts;
use redis::AsyncCommands;
use serde_json::Value;
use std::time::Duration;

/// Requeues the jobs of every dead worker and unregisters it. Returns (worker, jobs moved)
/// for each dead worker found. `stuck_after`: also count workers on other hosts whose ping
/// is older than this as dead.
pub async fn recover_dead_workers(
    queue: &Queue,
    own_name: &str,
    stuck_after: Option<Duration>,
) -> Result<Vec<(String, u64)>> {
    let host = job::hostname();
    let mut recovered = Vec::new();
    for (name, queues) in queue.workers().await? {
        if name == own_name {
            continue;
        }
        let dead = match pid_on_host(&name, &host) {
            Some(pid) => !pid_alive(pid),
            None => match stuck_after {
                Some(limit) => ping_age(queue, &name).await?.is_some_and(|age| age > limit),
                None => false,
            },
        };
        if dead {
            let moved = recover_worker(queue, &name, &queues).await?;
            recovered.push((name, moved));
        }
    }
    Ok(recovered)
}

/// Moves worker `name`'s taken jobs back to their queues, then unregisters it. A job it
/// was running without reliable fetch is recorded as failed (it is gone from the queue).
pub async fn recover_worker(queue: &Queue, name: &str, queues: &str) -> Result<u64> {
    // Only one cleaner wins the SREM: a worker found dead by several processes at once is
    // recovered once, and its job is never both requeued and failed.
    if !queue.claim_worker(name, queues).await? {
        return Ok(0);
    }
    let list: Vec<String> = if queues == "*" {
        queue.queues().await?
    } else {
        queues.split(',').map(str::to_owned).collect()
    };
    let keys = queue.keys();
    let mut moved = 0;
    for q in &list {
        let n: u64 = scripts::REQUEUE
            .key(keys.processing(q, name))
            .key(keys.queue(q))
            .invoke_async(&mut queue.connection())
            .await?;
        moved += n;
    }
    if moved > 0 {
        // The job it was working on is back on its queue: it must not also count as failed.
        let _: () = queue
            .connection()
            .del(keys.worker(&format!("{name}:{queues}")))
            .await?;
    }
    queue.clean_worker_keys(name, queues).await?;
    Ok(moved)
}

async fn ping_age(queue: &Queue, name: &str) -> Result<Option<Duration>> {
    let raw: Option<String> = queue.connection().get(queue.keys().ping(name)).await?;
    let time = raw
        .and_then(|r| serde_json::from_str::<Value>(&r).ok())
        .and_then(|v| v.get("time").and_then(Value::as_i64));
    Ok(time.map(|t| Duration::from_secs((chrono::Utc::now().timestamp() - t).max(0) as u64)))
}

/// The pid of a worker named `host:pid` or `host:pid+N`, if `host` is this machine.
pub(crate) fn pid_on_host(name: &str, host: &str) -> Option<i32> {
    let (worker_host, rest) = name.split_once(':')?;
    if worker_host != host {
        return None;
    }
    rest.split('+').next()?.parse().ok()
}

pub(crate) fn pid_alive(pid: i32) -> bool {
    // SAFETY: signal 0 only checks that the process exists.
    let rc = unsafe { libc::kill(pid, 0) };
    rc == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}
