//! The producer and admin side: node-resque's `Queue`, command for command.
//!
//! The failed list ([`crate::failed`]), workers ([`crate::worker_admin`]) and delayed jobs
//! ([`crate::delayed`]) are further `impl Queue` blocks.
//!
//! Every write keeps node-resque's wire format, so node-resque's own Queue (and resque-web)
//! read what this one writes, and the other way round.

use crate::jobs::Jobs;
use crate::plugins::PluginContext;
use crate::wire::{self, Job, Keys};
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
        let payload = wire::encode(queue, class, &args);
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
                .push(wire::encode(queue, class, args));
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
        let payload = wire::encode(queue, class, args);
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
