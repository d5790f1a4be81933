//! The leader lock, `resque_scheduler_leader_lock`: of all schedulers on one Redis, only the
//! one holding it promotes delayed jobs and cleans workers, so no job is promoted twice.
//! node-resque's key and value, so a node-resque scheduler and this one exclude each other;
//! and resque-scheduler's lock (`resque:resque:resque_scheduler_master_lock`) taken with it
//! in one step, so a Ruby scheduler and this one exclude each other too.
//!
//! The lock has a TTL that the leader renews every poll: a leader that dies stops renewing
//! and another takes over when it expires.

use super::dead_workers::{pid_alive, pid_on_host};
use crate::client::Queue;
use crate::scripts;
use crate::wire;

/// Takes the lock if it is free, or renews it if `name` holds it (`leader.lua`, one atomic
/// step: a `GET` then `EXPIRE` from here could renew a lock another scheduler just took).
/// True when `name` is the leader.
pub async fn try_for_leader(
    queue: &Queue,
    name: &str,
    ttl: std::time::Duration,
) -> redis::RedisResult<bool> {
    let got: i64 = scripts::LEADER
        .key(queue.keys().leader_lock())
        .key(queue.keys().ruby_scheduler_lock())
        .arg(name)
        .arg(ttl.as_secs().max(1))
        .invoke_async(&mut queue.connection())
        .await?;
    Ok(got == 1)
}

/// Deletes the locks only where `holder` holds them (`release.lua`): a plain `DEL` could
/// delete the lock of the scheduler that took over after ours expired.
pub async fn release(queue: &Queue, holder: &str) -> redis::RedisResult<i64> {
    scripts::RELEASE
        .key(queue.keys().leader_lock())
        .key(queue.keys().ruby_scheduler_lock())
        .arg(holder)
        .invoke_async(&mut queue.connection())
        .await
}

/// A leader killed on this host keeps its lock until the TTL ends (3 minutes by
/// default), and delayed jobs wait that long. Its pid tells us it is gone: release the
/// lock for it (only if it still holds it), and the next poll elects a live scheduler.
pub async fn release_if_holder_is_dead(queue: &Queue) -> anyhow::Result<()> {
    let Some(holder) = queue.leader().await? else {
        return Ok(());
    };
    let dead = pid_on_host(&holder, &wire::hostname()).is_some_and(|pid| !pid_alive(pid));
    if dead {
        release(queue, &holder).await?;
        tracing::warn!(leader = %holder, "the scheduler leader's process is gone: lock released");
    }
    Ok(())
}
