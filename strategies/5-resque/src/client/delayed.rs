//! Delayed jobs, in resque-scheduler's keys as node-resque writes them:
//! `delayed_queue_schedule` (a zset of due times, in seconds), `delayed:TS` (the jobs due
//! then) and `timestamps:<job bytes>` (which `delayed:TS` hold that exact job).
//! Moving due jobs onto their queue is the scheduler's job ([`crate::scheduler`]).

use super::error::{QueueError, Result};
use super::queue::Queue;
use crate::wire::{self, Job};
use redis::AsyncCommands;
use serde_json::Value;
use std::collections::BTreeMap;

/// node-resque rounds milliseconds to the nearest second (resque-scheduler truncates).
pub fn to_seconds(ts_ms: i64) -> i64 {
    (ts_ms as f64 / 1000.0).round() as i64
}

impl Queue {
    /// Runs `class(args)` on `queue` at `ts_ms` (Unix ms). The same job at the same second
    /// is refused with [`QueueError::DuplicateDelayedJob`], or `Ok(false)` if `suppress_duplicate`.
    pub async fn enqueue_at(
        &self,
        ts_ms: i64,
        queue: &str,
        class: &str,
        args: Vec<Value>,
        suppress_duplicate: bool,
    ) -> Result<bool> {
        let ts = to_seconds(ts_ms);
        let item = wire::encode(queue, class, &args);
        let member = format!("delayed:{ts}");
        let mut con = self.con.clone();
        let exists: bool = con.sismember(self.keys.timestamps(&item), &member).await?;
        if exists {
            return if suppress_duplicate {
                Ok(false)
            } else {
                Err(QueueError::DuplicateDelayedJob)
            };
        }
        let _: () = redis::pipe()
            .atomic()
            .rpush(self.keys.delayed(ts), &item)
            .ignore()
            .sadd(self.keys.timestamps(&item), &member)
            .ignore()
            .zadd(self.keys.delayed_schedule(), ts, ts)
            .ignore()
            .query_async(&mut con)
            .await?;
        Ok(true)
    }

    /// [`Queue::enqueue_at`] `delay_ms` from now.
    pub async fn enqueue_in(
        &self,
        delay_ms: u64,
        queue: &str,
        class: &str,
        args: Vec<Value>,
        suppress_duplicate: bool,
    ) -> Result<bool> {
        let at = chrono::Utc::now().timestamp_millis() + delay_ms as i64;
        self.enqueue_at(at, queue, class, args, suppress_duplicate)
            .await
    }

    /// When this exact job is scheduled, in Unix seconds.
    pub async fn scheduled_at(&self, queue: &str, class: &str, args: &[Value]) -> Result<Vec<i64>> {
        let item = wire::encode(queue, class, args);
        let members: Vec<String> = self
            .con
            .clone()
            .smembers(self.keys.timestamps(&item))
            .await?;
        let mut seconds: Vec<i64> = members
            .iter()
            .filter_map(|m| m.strip_prefix("delayed:")?.parse().ok())
            .collect();
        seconds.sort_unstable();
        Ok(seconds)
    }

    /// Removes this exact delayed job wherever it is scheduled; returns the seconds it was
    /// scheduled at. The schedule zset is left to the scheduler, which drops empty entries.
    pub async fn del_delayed(&self, queue: &str, class: &str, args: &[Value]) -> Result<Vec<i64>> {
        let item = wire::encode(queue, class, args);
        let seconds = self.scheduled_at(queue, class, args).await?;
        let mut pipe = redis::pipe();
        pipe.atomic();
        for ts in &seconds {
            pipe.lrem(self.keys.delayed(*ts), 0, &item).ignore();
            pipe.srem(self.keys.timestamps(&item), format!("delayed:{ts}"))
                .ignore();
        }
        if !seconds.is_empty() {
            let _: () = pipe.query_async(&mut self.con.clone()).await?;
        }
        Ok(seconds)
    }

    /// Every time (Unix ms, ascending) that has delayed jobs.
    pub async fn timestamps(&self) -> Result<Vec<i64>> {
        let keys = self.scan(&self.keys.key("delayed:*")).await?;
        let mut ms: Vec<i64> = keys
            .iter()
            .filter_map(|k| {
                self.keys
                    .strip(k)
                    .strip_prefix("delayed:")?
                    .parse::<i64>()
                    .ok()
            })
            .map(|s| s * 1000)
            .collect();
        ms.sort_unstable();
        Ok(ms)
    }

    /// The jobs due at `ts_ms` (rounded to its second).
    pub async fn delayed_at(&self, ts_ms: i64) -> Result<Vec<Job>> {
        let raws: Vec<String> = self
            .con
            .clone()
            .lrange(self.keys.delayed(to_seconds(ts_ms)), 0, -1)
            .await?;
        Ok(raws
            .iter()
            .filter_map(|raw| Job::decode(raw).ok())
            .collect())
    }

    /// Every delayed job, by due time in ms.
    pub async fn all_delayed(&self) -> Result<BTreeMap<i64, Vec<Job>>> {
        let mut all = BTreeMap::new();
        for ts in self.timestamps().await? {
            all.insert(ts, self.delayed_at(ts).await?);
        }
        Ok(all)
    }
}
