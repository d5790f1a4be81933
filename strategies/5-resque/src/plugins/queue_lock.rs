//! QueueLock: the same class + queue + args cannot be enqueued twice while one copy waits.
//! Key `lock:CLASS:QUEUE:<args JSON>`, value the Unix second the lock ends. Taken with one
//! `SET NX EX` (node-resque uses `SETNX` then `EXPIRE`, which can leave a lock without TTL).

use super::plugin::{HookResult, Plugin, PluginContext};
use futures_util::future::BoxFuture;
use redis::AsyncCommands;

pub struct QueueLock {
    pub lock_timeout_s: u64,
}

impl Default for QueueLock {
    fn default() -> QueueLock {
        QueueLock {
            lock_timeout_s: 3600,
        }
    }
}

impl Plugin for QueueLock {
    fn name(&self) -> &'static str {
        "QueueLock"
    }

    fn before_enqueue<'a>(&'a self, cx: &'a PluginContext<'a>) -> BoxFuture<'a, HookResult<bool>> {
        Box::pin(async move {
            let key = cx.lock_key("lock");
            let now = chrono::Utc::now().timestamp();
            let until = now + self.lock_timeout_s as i64 + 1;
            let mut con = cx.queue.connection();
            let options = redis::SetOptions::default()
                .conditional_set(redis::ExistenceCheck::NX)
                .with_expiration(redis::SetExpiry::EX(self.lock_timeout_s));
            let taken: Option<String> = con.set_options(&key, until, options).await?;
            if taken.is_some() {
                return Ok(true);
            }
            let held_until: Option<i64> = con.get(&key).await?;
            if held_until.is_some_and(|t| now <= t) {
                return Ok(false);
            }
            let _: () = con.set_ex(&key, until, self.lock_timeout_s).await?;
            Ok(true)
        })
    }

    fn before_perform<'a>(&'a self, cx: &'a PluginContext<'a>) -> BoxFuture<'a, HookResult<bool>> {
        Box::pin(async move {
            let _: () = cx.queue.connection().del(cx.lock_key("lock")).await?;
            Ok(true)
        })
    }
}
