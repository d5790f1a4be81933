//! JobLock: two jobs with the same class + queue + args never run at once. The second one is
//! delayed by `enqueue_timeout_ms` (a scheduler must run) or dropped when `re_enqueue` is off.
//! Key `workerslock:CLASS:QUEUE:<args JSON>`.

use super::bookkeeping::until_redis_answers;
use super::plugin::{HookResult, Plugin, PluginContext};
use crate::wire::JobError;
use futures_util::future::BoxFuture;
use redis::AsyncCommands;

pub struct JobLock {
    pub lock_timeout_s: u64,
    pub enqueue_timeout_ms: u64,
    pub re_enqueue: bool,
}

impl Default for JobLock {
    fn default() -> JobLock {
        JobLock {
            lock_timeout_s: 3600,
            enqueue_timeout_ms: 1001,
            re_enqueue: true,
        }
    }
}

impl Plugin for JobLock {
    fn name(&self) -> &'static str {
        "JobLock"
    }

    fn before_perform<'a>(&'a self, cx: &'a PluginContext<'a>) -> BoxFuture<'a, HookResult<bool>> {
        Box::pin(async move {
            let until = chrono::Utc::now().timestamp() + self.lock_timeout_s as i64 + 1;
            let options = redis::SetOptions::default()
                .conditional_set(redis::ExistenceCheck::NX)
                .with_expiration(redis::SetExpiry::EX(self.lock_timeout_s));
            let taken: Option<String> = cx
                .queue
                .connection()
                .set_options(cx.lock_key("workerslock"), until, options)
                .await?;
            if taken.is_some() {
                return Ok(true);
            }
            if self.re_enqueue {
                // suppress_duplicate: a second copy already waiting is enough.
                cx.queue
                    .enqueue_in(
                        self.enqueue_timeout_ms,
                        cx.queue_name,
                        cx.class,
                        cx.args.to_vec(),
                        true,
                    )
                    .await?;
            }
            Ok(false)
        })
    }

    fn after_perform<'a>(
        &'a self,
        cx: &'a PluginContext<'a>,
        _error: &'a mut Option<JobError>,
    ) -> BoxFuture<'a, HookResult<()>> {
        // Bookkeeping after the job: a lock left behind would hold the next copy back for
        // `lock_timeout_s`, so the DEL is made again while Redis is away.
        Box::pin(async move {
            let key = cx.lock_key("workerslock");
            until_redis_answers(|| async {
                let _: () = cx.queue.connection().del(&key).await?;
                redis::RedisResult::Ok(())
            })
            .await?;
            Ok(())
        })
    }
}
