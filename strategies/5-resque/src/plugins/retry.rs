//! Retry: a failed job is enqueued again after a delay, up to `limit` attempts in all; only
//! the last failure reaches the `failed` list. Needs a scheduler (retries are delayed jobs).
//! A failure marked [`JobError::permanent()`] (node-resque has no such notion) goes to `failed`
//! at once: retrying a mail the server refused for good only sends the refusal again.
//!
//! Keys follow node-resque: `resque-retry:CLASS:ARGSKEY` (attempt counter) and
//! `failure-resque-retry:CLASS:ARGSKEY` (last error). node-resque sets their TTL to the
//! largest delay in **milliseconds passed as seconds** (a 5 s delay keeps the key 83 minutes);
//! here the TTL is that delay in seconds, rounded up, plus a margin for the scheduler's lag.

use super::bookkeeping::until_redis_answers;
use super::plugin::{HookResult, Plugin, PluginContext};
use crate::events::WorkerEvent;
use crate::wire::JobError;
use futures_util::future::BoxFuture;
use redis::AsyncCommands;
use serde_json::{json, Value};

pub struct Retry {
    /// Attempts in all (1 = no retry, as node-resque's default).
    pub limit: u32,
    pub delay_ms: u64,
    /// Delay of attempt N (the last one repeats); empty = `delay_ms` every time.
    pub backoff_ms: Vec<u64>,
}

impl Retry {
    pub fn new(limit: u32, delay_ms: u64) -> Retry {
        Retry {
            limit,
            delay_ms,
            backoff_ms: Vec::new(),
        }
    }

    fn keys(cx: &PluginContext<'_>) -> (String, String) {
        let args_key = args_key(cx.args);
        let k = cx.queue.keys();
        (
            k.key(&format!("resque-retry:{}:{args_key}", cx.class)),
            k.key(&format!("failure-resque-retry:{}:{args_key}", cx.class)),
        )
    }

    fn delay_for(&self, attempt: usize) -> u64 {
        match self.backoff_ms.as_slice() {
            [] => self.delay_ms,
            list => list[attempt.min(list.len() - 1)],
        }
    }

    /// Seconds the counter must outlive the longest wait between two attempts.
    fn ttl_s(&self) -> u64 {
        let max_ms = self
            .backoff_ms
            .iter()
            .copied()
            .chain([self.delay_ms])
            .max()
            .unwrap_or(0);
        max_ms.div_ceil(1000) + 60
    }
}

/// node-resque's args key: each arg as text (objects as JSON) joined by `-`, its first
/// whitespace removed.
pub fn args_key(args: &[Value]) -> String {
    let joined = args
        .iter()
        .map(|a| match a {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect::<Vec<_>>()
        .join("-");
    match joined.find(char::is_whitespace) {
        Some(i) => {
            let ws = joined[i..].chars().next().expect("found").len_utf8();
            format!("{}{}", &joined[..i], &joined[i + ws..])
        }
        None => joined,
    }
}

impl Plugin for Retry {
    fn name(&self) -> &'static str {
        "Retry"
    }

    /// Every Redis call here is bookkeeping around a job that has run, so each is made
    /// again while Redis is away ([`until_redis_answers`]); the job itself never is.
    fn after_perform<'a>(
        &'a self,
        cx: &'a PluginContext<'a>,
        error: &'a mut Option<JobError>,
    ) -> BoxFuture<'a, HookResult<()>> {
        Box::pin(async move {
            let (counter, last_error) = Retry::keys(cx);
            let con = cx.queue.connection();
            let forget_attempts = || async {
                let _: () = con.clone().del(&[&counter, &last_error]).await?;
                redis::RedisResult::Ok(())
            };
            let Some(err) = error.as_ref().filter(|e| !e.permanent) else {
                // Done for good (success or permanent failure): no attempt count survives.
                until_redis_answers(forget_attempts).await?;
                return Ok(());
            };
            let ttl = self.ttl_s();
            let mut count_attempt = redis::pipe();
            count_attempt
                .atomic()
                .set_nx(&counter, -1)
                .ignore()
                .incr(&counter, 1)
                .expire(&counter, ttl as i64)
                .ignore();
            let (attempt,): (i64,) =
                until_redis_answers(|| async { count_attempt.query_async(&mut con.clone()).await })
                    .await?;
            let remaining = self.limit as i64 - attempt - 1;
            if remaining <= 0 {
                until_redis_answers(forget_attempts).await?;
                return Ok(()); // the error stays: the normal failure path records it
            }
            let (worker, worker_queues) = cx
                .worker
                .map(|(id, _)| crate::wire::split_worker_id(id))
                .unwrap_or_default();
            let record = json!({
                "failed_at": chrono::Utc::now().format("%Y/%m/%d %H:%M:%S").to_string(),
                "payload": cx.args,
                "exception": err.exception,
                "error": err.error,
                "backtrace": err.backtrace,
                "worker": cx.class,
                "queue": cx.queue_name,
            })
            .to_string();
            until_redis_answers(|| async {
                let _: () = con.clone().set_ex(&last_error, &record, ttl).await?;
                redis::RedisResult::Ok(())
            })
            .await?;
            let delay_ms = self.delay_for(attempt.max(0) as usize);
            // The same job already waiting at that second (two copies failing together)
            // would be a duplicate: take the next free second rather than drop this one.
            let at = chrono::Utc::now().timestamp_millis() + delay_ms as i64;
            let mut scheduled = false;
            for extra_s in 0..10 {
                let ts = at + extra_s * 1000;
                let enqueued = until_redis_answers(|| {
                    cx.queue
                        .enqueue_at(ts, cx.queue_name, cx.class, cx.args.to_vec(), true)
                })
                .await?;
                if enqueued {
                    scheduled = true;
                    break;
                }
            }
            if !scheduled {
                return Ok(()); // keep the error: the failed list records it
            }
            // Handed over from here on: the next attempt is in Redis, so this one must not
            // also be parked in `failed`, whatever happens to the counters below.
            *error = None;
            cx.emit(WorkerEvent::ReEnqueue {
                queue: cx.queue_name.to_owned(),
                job: crate::wire::encode(cx.queue_name, cx.class, cx.args),
                delay_ms,
                remaining,
            });
            // node-resque's accounting: the attempt counts as failed, not as processed.
            let k = cx.queue.keys();
            let mut count_as_failed = redis::pipe();
            count_as_failed
                .atomic()
                .incr(k.stat("failed"), 1)
                .decr(k.stat("processed"), 1);
            for key in k.worker_stats("failed", &worker, &worker_queues) {
                count_as_failed.incr(key, 1);
            }
            for key in k.worker_stats("processed", &worker, &worker_queues) {
                count_as_failed.decr(key, 1);
            }
            let _: redis::Value = until_redis_answers(|| async {
                count_as_failed.query_async(&mut con.clone()).await
            })
            .await?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn args_key_matches_node_resque() {
        assert_eq!(args_key(&[json!(1), json!("a b c")]), "1-ab c");
        assert_eq!(args_key(&[json!({"to":"x"})]), r#"{"to":"x"}"#);
    }

    #[test]
    fn ttl_is_seconds_not_milliseconds() {
        assert_eq!(Retry::new(3, 5000).ttl_s(), 65);
    }
}
