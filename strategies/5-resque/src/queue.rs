//! The producer and admin side: node-resque's `Queue`, command for command.
//!
//! Every write keeps node-resque's wire format, so node-resque's own Queue (and resque-web)
//! read what this one writes, and the other way round.

use crate::failure::{failed_entry, JobError};
use crate::job::{self, Job};
use crate::jobs::Jobs;
use crate::keys::Keys;
use crate::plugins::PluginContext;
use redis::aio::ConnectionManager;
use redis::AsyncCommands;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;

pub type Result<T> = std::result::Result<T, QueueError>;

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("Job already enqueued at this time with same arguments")]
    DuplicateDelayedJob,
    #[error("This job is not in failed queue")]
    NotInFailedQueue,
    #[error("plugin {0}: {1}")]
    Plugin(&'static str, anyhow::Error),
    #[error("{0}")]
    Invalid(String),
}

/// A queue client. Cheap to clone: the connection is shared and multiplexed.
#[derive(Clone)]
pub struct Queue {
    pub(crate) con: ConnectionManager,
    pub(crate) keys: Keys,
    jobs: Arc<Jobs>,
}

/// Who a registered worker is: `host:pid` and the queues it works.
pub fn split_worker_id(id: &str) -> (String, String) {
    let mut parts = id.splitn(3, ':');
    let host = parts.next().unwrap_or_default();
    match (parts.next(), parts.next()) {
        (Some(pid), Some(queues)) => (format!("{host}:{pid}"), queues.to_owned()),
        (Some(queues), None) => (host.to_owned(), queues.to_owned()),
        _ => (host.to_owned(), String::new()),
    }
}

impl Queue {
    pub fn new(con: ConnectionManager, keys: Keys) -> Queue {
        Queue {
            con,
            keys,
            jobs: Arc::new(Jobs::new()),
        }
    }

    /// With job definitions, `enqueue` runs their before/after-enqueue plugins.
    pub fn with_jobs(mut self, jobs: Arc<Jobs>) -> Queue {
        self.jobs = jobs;
        self
    }

    pub async fn connect(url: &str) -> Result<Queue> {
        let client = redis::Client::open(url)?;
        Ok(Queue::new(
            crate::connect::commands(&client).await?,
            Keys::default(),
        ))
    }

    pub fn keys(&self) -> &Keys {
        &self.keys
    }

    pub fn connection(&self) -> ConnectionManager {
        self.con.clone()
    }

    // ----- enqueue -----

    /// `SADD queues q` + `RPUSH queue:q <job>`. `Ok(false)`: a plugin vetoed.
    pub async fn enqueue(&self, queue: &str, class: &str, args: Vec<Value>) -> Result<bool> {
        let plugins = self
            .jobs
            .get(class)
            .map(|d| d.plugins.clone())
            .unwrap_or_default();
        let cx = PluginContext {
            queue: self,
            queue_name: queue,
            class,
            args: &args,
            worker: None,
        };
        for plugin in &plugins {
            let allowed = plugin
                .before_enqueue(&cx)
                .await
                .map_err(|e| QueueError::Plugin(plugin.name(), e))?;
            if !allowed {
                return Ok(false);
            }
        }
        let payload = job::encode(queue, class, &args);
        let mut con = self.con.clone();
        // Pipelined, as Ruby Resque does (node-resque wraps the two in MULTI): one round
        // trip either way, and half the commands for Redis to run. SADD is bookkeeping only.
        let _: () = redis::pipe()
            .sadd(self.keys.queues(), queue)
            .ignore()
            .rpush(self.keys.queue(queue), payload)
            .ignore()
            .query_async(&mut con)
            .await?;
        for plugin in &plugins {
            plugin
                .after_enqueue(&cx)
                .await
                .map_err(|e| QueueError::Plugin(plugin.name(), e))?;
        }
        Ok(true)
    }

    /// Many jobs in one pipelined round trip (`SADD` once per queue, one `RPUSH` per queue
    /// with all its jobs). No plugins run: bulk enqueue is for loading, not for gating.
    pub async fn enqueue_bulk(&self, jobs: &[(String, String, Vec<Value>)]) -> Result<usize> {
        let mut by_queue: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for (queue, class, args) in jobs {
            by_queue
                .entry(queue.as_str())
                .or_default()
                .push(job::encode(queue, class, args));
        }
        let mut pipe = redis::pipe();
        for (queue, payloads) in &by_queue {
            pipe.sadd(self.keys.queues(), *queue).ignore();
            pipe.rpush(self.keys.queue(queue), payloads).ignore();
        }
        let mut con = self.con.clone();
        let _: () = pipe.query_async(&mut con).await?;
        Ok(jobs.len())
    }

    // ----- queues -----

    pub async fn queues(&self) -> Result<Vec<String>> {
        let mut queues: Vec<String> = self.con.clone().smembers(self.keys.queues()).await?;
        queues.sort();
        Ok(queues)
    }

    pub async fn del_queue(&self, queue: &str) -> Result<()> {
        let _: () = redis::pipe()
            .atomic()
            .del(self.keys.queue(queue))
            .ignore()
            .srem(self.keys.queues(), queue)
            .ignore()
            .query_async(&mut self.con.clone())
            .await?;
        Ok(())
    }

    pub async fn length(&self, queue: &str) -> Result<usize> {
        Ok(self.con.clone().llen(self.keys.queue(queue)).await?)
    }

    /// Jobs `start..=stop` of a queue (negative indexes count from the end). Entries that
    /// are not jobs are skipped.
    pub async fn queued(&self, queue: &str, start: isize, stop: isize) -> Result<Vec<Job>> {
        let raws: Vec<String> = self
            .con
            .clone()
            .lrange(self.keys.queue(queue), start, stop)
            .await?;
        Ok(raws
            .iter()
            .filter_map(|raw| Job::decode(raw).ok())
            .collect())
    }

    /// Removes up to `count` (0 = all) jobs whose bytes equal node-resque's encoding.
    pub async fn del(
        &self,
        queue: &str,
        class: &str,
        args: &[Value],
        count: isize,
    ) -> Result<usize> {
        let payload = job::encode(queue, class, args);
        Ok(self
            .con
            .clone()
            .lrem(self.keys.queue(queue), count, payload)
            .await?)
    }

    /// Removes every job of `class`, whatever its shape (decodes each entry).
    pub async fn del_by_class(&self, queue: &str, class: &str) -> Result<usize> {
        let key = self.keys.queue(queue);
        let raws: Vec<String> = self.con.clone().lrange(&key, 0, -1).await?;
        let mut pipe = redis::pipe();
        pipe.atomic();
        let mut matched = 0;
        for raw in raws
            .iter()
            .filter(|raw| Job::decode(raw).is_ok_and(|j| j.class == class))
        {
            pipe.lrem(&key, 0, raw);
            matched += 1;
        }
        if matched == 0 {
            return Ok(0);
        }
        let removed: Vec<usize> = pipe.query_async(&mut self.con.clone()).await?;
        Ok(removed.iter().sum())
    }

    /// `stat:*` counters: `processed`, `failed`, `processed:NAME`, ...
    pub async fn stats(&self) -> Result<BTreeMap<String, String>> {
        let keys = self.scan(&self.keys.key("stat:*")).await?;
        if keys.is_empty() {
            return Ok(BTreeMap::new());
        }
        let values: Vec<Option<String>> = self.con.clone().mget(&keys).await?;
        Ok(keys
            .iter()
            .zip(values)
            .filter_map(|(k, v)| {
                let name = self.keys.strip(k).strip_prefix("stat:")?.to_owned();
                Some((name, v?))
            })
            .collect())
    }

    // ----- failed -----

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

    // ----- workers -----

    /// Registered workers: name (`host:pid`) -> queues (`a,b`).
    pub async fn workers(&self) -> Result<BTreeMap<String, String>> {
        let ids: Vec<String> = self.con.clone().smembers(self.keys.workers()).await?;
        Ok(ids.iter().map(|id| split_worker_id(id)).collect())
    }

    /// What worker `name` on `queues` works on (`worker:name:queues`), parsed.
    pub async fn working_on(&self, name: &str, queues: &str) -> Result<Option<Value>> {
        let raw: Option<String> = self
            .con
            .clone()
            .get(self.keys.worker(&format!("{name}:{queues}")))
            .await?;
        Ok(raw.map(|raw| serde_json::from_str(&raw).unwrap_or(Value::String(raw))))
    }

    /// Every worker: `"started"` when idle, else its working-on payload (node-resque keys it
    /// by the payload's `worker`; here it is keyed by the registered name, which also works
    /// for Ruby workers whose payload has no `worker`).
    pub async fn all_working_on(&self) -> Result<BTreeMap<String, Value>> {
        let mut all = BTreeMap::new();
        for (name, queues) in self.workers().await? {
            let value = self
                .working_on(&name, &queues)
                .await?
                .unwrap_or_else(|| "started".into());
            all.insert(name, value);
        }
        Ok(all)
    }

    /// Fails the job of each worker whose job started more than `age` ago and unregisters it.
    pub async fn clean_old_workers(
        &self,
        age: std::time::Duration,
    ) -> Result<BTreeMap<String, Value>> {
        let now = chrono::Utc::now();
        let mut cleaned = BTreeMap::new();
        for (name, value) in self.all_working_on().await? {
            let run_at = value
                .get("run_at")
                .and_then(Value::as_str)
                .and_then(job::parse_date);
            if let Some(run_at) = run_at {
                if (now - run_at).to_std().unwrap_or_default() > age {
                    let payload = self.force_clean_worker(&name).await?;
                    cleaned.insert(name, payload.unwrap_or(Value::Null));
                }
            }
        }
        Ok(cleaned)
    }

    /// Unregisters worker `name` as node-resque does, deleting its working-on key
    /// (`worker:name:queues`, which node-resque leaks), and fails the job it was working on.
    /// Returns the failed entry, if there was a job.
    pub async fn force_clean_worker(&self, name: &str) -> Result<Option<Value>> {
        let Some(queues) = self.workers().await?.remove(name) else {
            return Ok(None);
        };
        if !self.claim_worker(name, &queues).await? {
            return Ok(None); // someone else is cleaning it
        }
        self.clean_worker_keys(name, &queues).await
    }

    /// Removes `name:queues` from `workers`; true for exactly one of several cleaners.
    pub(crate) async fn claim_worker(&self, name: &str, queues: &str) -> Result<bool> {
        let removed: usize = self
            .con
            .clone()
            .srem(self.keys.workers(), format!("{name}:{queues}"))
            .await?;
        Ok(removed == 1)
    }

    /// Deletes the keys of an unregistered worker; its working-on job (if any) is recorded
    /// as failed in node-resque's forceCleanWorker shape.
    pub(crate) async fn clean_worker_keys(
        &self,
        name: &str,
        queues: &str,
    ) -> Result<Option<Value>> {
        let id = format!("{name}:{queues}");
        let working: Option<String> = self.con.clone().get(self.keys.worker(&id)).await?;
        let entry = working.and_then(|raw| {
            let value: Value = serde_json::from_str(&raw).ok()?;
            let payload = value.get("payload")?;
            let queue = value
                .get("queue")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let now = job::js_date(chrono::Utc::now());
            let error = JobError {
                exception: "Worker Timeout (killed manually)".into(),
                error: "Worker Timeout (killed manually)".into(),
                backtrace: vec![
                    format!("killed by {} at {now}", job::hostname()),
                    "queue#forceCleanWorker".into(),
                    "node-resque".into(),
                ],
            };
            Some(failed_entry(
                name,
                queue,
                &payload.to_string(),
                &error,
                &now,
            ))
        });
        let mut pipe = redis::pipe();
        pipe.atomic()
            .del(self.keys.worker_stat("failed", name))
            .del(self.keys.worker_stat("processed", name))
            .del(self.keys.ping(name))
            .del(self.keys.worker_started(&id))
            .del(self.keys.worker(&id))
            .srem(self.keys.workers(), &id);
        if let Some(entry) = &entry {
            pipe.incr(self.keys.stat("failed"), 1)
                .rpush(self.keys.failed(), entry);
        }
        let _: redis::Value = pipe.query_async(&mut self.con.clone()).await?;
        Ok(entry.map(|e| serde_json::from_str(&e).expect("built as JSON")))
    }

    // ----- locks -----

    /// Plugin locks (`lock:*`, `workerslock:*`) and their values.
    pub async fn locks(&self) -> Result<BTreeMap<String, String>> {
        let mut keys = self.scan(&self.keys.key("lock:*")).await?;
        keys.extend(self.scan(&self.keys.key("workerslock:*")).await?);
        let mut locks = BTreeMap::new();
        for key in keys {
            let value: Option<String> = self.con.clone().get(&key).await?;
            if let Some(value) = value {
                locks.insert(self.keys.strip(&key).to_owned(), value);
            }
        }
        Ok(locks)
    }

    pub async fn del_lock(&self, key: &str) -> Result<usize> {
        Ok(self.con.clone().del(self.keys.key(key)).await?)
    }

    /// The scheduler holding the leader lock, if any.
    pub async fn leader(&self) -> Result<Option<String>> {
        Ok(self.con.clone().get(self.keys.leader_lock()).await?)
    }

    pub(crate) async fn scan(&self, pattern: &str) -> Result<Vec<String>> {
        let mut con = self.con.clone();
        let mut cursor: u64 = 0;
        let mut keys = Vec::new();
        loop {
            let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(pattern)
                .arg("COUNT")
                .arg(1000)
                .query_async(&mut con)
                .await?;
            keys.extend(batch);
            if next == 0 {
                return Ok(keys);
            }
            cursor = next;
        }
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
    let args = job::arrayify(payload.get("args").cloned().unwrap_or(Value::Null));
    Ok((queue.to_owned(), class.to_owned(), args))
}
