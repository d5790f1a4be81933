//! The `failed` list: listing, removing and retrying entries, node-resque's way (entries are
//! found by their exact bytes, so they must round-trip through JSON unchanged).

use super::error::{QueueError, Result};
use super::queue::Queue;
use crate::wire;
use redis::AsyncCommands;
use serde_json::Value;

impl Queue {
    pub async fn failed_count(&self) -> Result<usize> {
        Ok(self.con.clone().llen(self.keys.failed()).await?)
    }

    /// Failed entries `start..=stop`, parsed (entries that are not JSON come back as strings).
    pub async fn failed(&self, start: isize, stop: isize) -> Result<Vec<Value>> {
        let raws: Vec<String> = self
            .con
            .clone()
            .lrange(self.keys.failed(), start, stop)
            .await?;
        Ok(raws
            .into_iter()
            .map(|raw| serde_json::from_str(&raw).unwrap_or(Value::String(raw)))
            .collect())
    }

    /// `LREM failed 1 <entry>`: the entry as `failed()` returned it.
    pub async fn remove_failed(&self, entry: &Value) -> Result<usize> {
        Ok(self
            .con
            .clone()
            .lrem(self.keys.failed(), 1, entry.to_string())
            .await?)
    }

    /// Removes the entry at `index` of the failed list; `Ok(false)` if there is none.
    pub async fn remove_failed_at(&self, index: isize) -> Result<bool> {
        let raw: Option<String> = self.con.clone().lindex(self.keys.failed(), index).await?;
        let Some(raw) = raw else { return Ok(false) };
        let removed: usize = self.con.clone().lrem(self.keys.failed(), 1, &raw).await?;
        Ok(removed == 1)
    }

    /// Deletes the whole failed list (resque-web's "Clear Failed Jobs"); returns how many
    /// entries it held.
    pub async fn clear_failed(&self) -> Result<usize> {
        let (count,): (usize,) = redis::pipe()
            .atomic()
            .llen(self.keys.failed())
            .del(self.keys.failed())
            .ignore()
            .query_async(&mut self.con.clone())
            .await?;
        Ok(count)
    }

    /// Removes the entry and enqueues its job again (node-resque's `retryAndRemoveFailed`).
    pub async fn retry_and_remove_failed(&self, entry: &Value) -> Result<()> {
        let (queue, class, args) = failed_job(entry)?;
        if self.remove_failed(entry).await? == 0 {
            return Err(QueueError::NotInFailedQueue);
        }
        self.enqueue(&queue, &class, args).await?;
        Ok(())
    }

    /// Retries the entry at `index` of the failed list; `Ok(false)` if there is none.
    pub async fn retry_failed_at(&self, index: isize) -> Result<bool> {
        let raw: Option<String> = self.con.clone().lindex(self.keys.failed(), index).await?;
        let Some(raw) = raw else { return Ok(false) };
        let entry: Value = serde_json::from_str(&raw)
            .map_err(|_| QueueError::Invalid("failed entry is not JSON".into()))?;
        let (queue, class, args) = failed_job(&entry)?;
        let removed: usize = self.con.clone().lrem(self.keys.failed(), 1, &raw).await?;
        if removed == 0 {
            return Err(QueueError::NotInFailedQueue);
        }
        self.enqueue(&queue, &class, args).await?;
        Ok(true)
    }

    /// Retries every failed entry that names a job; returns how many were re-enqueued.
    pub async fn retry_all_failed(&self) -> Result<usize> {
        let mut retried = 0;
        // Always index 0: each retry removes the head, entries that cannot be retried stay.
        let mut index = 0;
        while self.failed_count().await? > index as usize {
            match self.retry_failed_at(index).await {
                Ok(true) => retried += 1,
                Ok(false) => break,
                Err(QueueError::Redis(e)) => return Err(e.into()),
                Err(_) => index += 1,
            }
        }
        Ok(retried)
    }

    /// Retries the jobs of workers that were force-cleaned (stuck or dead), recognised as
    /// node-resque does by `backtrace[1] == "queue#forceCleanWorker"`. Returns how many.
    pub async fn retry_stuck_jobs(&self) -> Result<usize> {
        let raws: Vec<String> = self.con.clone().lrange(self.keys.failed(), 0, -1).await?;
        let mut retried = 0;
        for raw in raws {
            let Ok(entry) = serde_json::from_str::<Value>(&raw) else {
                continue;
            };
            if entry["backtrace"][1] != "queue#forceCleanWorker" {
                continue;
            }
            let Ok((queue, class, args)) = failed_job(&entry) else {
                continue;
            };
            let removed: usize = self.con.clone().lrem(self.keys.failed(), 1, &raw).await?;
            if removed == 1 {
                self.enqueue(&queue, &class, args).await?;
                retried += 1;
            }
        }
        Ok(retried)
    }
}

/// The queue, class and args a failed entry names.
fn failed_job(entry: &Value) -> Result<(String, String, Vec<Value>)> {
    let payload = entry
        .get("payload")
        .ok_or_else(|| QueueError::Invalid("failed entry has no payload".into()))?;
    let class = payload
        .get("class")
        .and_then(Value::as_str)
        .ok_or_else(|| QueueError::Invalid("failed payload has no class".into()))?;
    let queue = entry
        .get("queue")
        .and_then(Value::as_str)
        .filter(|q| !q.is_empty())
        .or_else(|| payload.get("queue").and_then(Value::as_str))
        .ok_or_else(|| QueueError::Invalid("failed entry names no queue".into()))?;
    let args = wire::arrayify(payload.get("args").cloned().unwrap_or(Value::Null));
    Ok((queue.to_owned(), class.to_owned(), args))
}
