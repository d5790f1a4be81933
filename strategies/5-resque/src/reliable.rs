//! Reliable fetch (opt-in, not part of Resque): a worker takes a job with `LMOVE` into its
//! own processing list `processing:QUEUE:NAME` instead of `LPOP`, and removes it only after
//! recording the outcome. If the worker dies, the job is still in Redis: the next worker to
//! start (or the scheduler) finds the dead worker and moves its jobs back to the head of
//! their queue. At-least-once: a job that was running when its worker died runs again.
//!
//! A worker is dead when it runs on this host and its pid is gone, or when its
//! `worker:ping:NAME` is older than the stuck timeout. The pid test assumes one pid space
//! per host name: containers that share a host name (`docker run --network host`) would
//! take each other's live workers for dead, so give each its own host name.

use crate::client::{Queue, Result};
use crate::scripts;
use crate::wire;
use redis::AsyncCommands;

/// Requeues the jobs of every worker of this host whose process is gone, and unregisters
/// it. Returns (worker, jobs moved) for each. Workers elsewhere are judged by their ping age
/// (the scheduler's stuck-worker check).
pub async fn recover_dead_workers(queue: &Queue, own_name: &str) -> Result<Vec<(String, u64)>> {
    let host = wire::hostname();
    let mut recovered = Vec::new();
    for (name, queues) in queue.workers().await? {
        let dead = name != own_name && pid_on_host(&name, &host).is_some_and(|pid| !pid_alive(pid));
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
    let moved = requeue_taken(queue, name, queues).await?;
    if moved > 0 {
        // The job it was working on is back on its queue: it must not also count as failed.
        let _: () = queue
            .connection()
            .del(queue.keys().worker(&format!("{name}:{queues}")))
            .await?;
    }
    queue.clean_worker_keys(name, queues).await?;
    Ok(moved)
}

/// Moves the jobs worker `name` took and never finished back to the head of their queues
/// (`queues`: `a,b`, or `*` for every known queue); returns how many moved.
pub async fn requeue_taken(queue: &Queue, name: &str, queues: &str) -> Result<u64> {
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
    Ok(moved)
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
