//! The producer side, node-resque's `Queue`: put a job on a queue, and look at the queues.
//!
//! An enqueue is two writes, made in one round trip:
//!
//! ```text
//!  SADD resque:queues emailQueue                  (so tools can list the queues)
//!  RPUSH resque:queue:emailQueue {"class":"sendEmail","queue":"emailQueue","args":[..]}
//! ```
//!
//! Once `RPUSH` has answered, the job is in Redis: the web process may die, the workers may
//! all be down, and the job still waits. That is the whole guarantee of the producer side.
//!
//! The other parts of node-resque's Queue are further `impl Queue` blocks next to this file:
//! the failed list (`failed_list.rs`), registered workers (`registered_workers.rs`), delayed
//! jobs (`delayed.rs`) and the counters and locks (`overview.rs`).

use super::error::Result;
use crate::wire::{self, Job, Keys};
use futures_util::future::BoxFuture;
use redis::aio::ConnectionManager;
use redis::AsyncCommands;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;

/// A queue client. Cheap to clone: the connection is shared and multiplexed, so a web
/// server's many requests (and every worker slot) enqueue through one socket.
#[derive(Clone)]
pub struct Queue {
    /// Reconnects by itself (with backoff) when Redis restarts: a caller sees an error for
    /// the commands sent while Redis was away, and the next ones go through again.
    pub(crate) con: ConnectionManager,
    /// The namespace every key lives under (`resque:` by default, node-resque's too).
    pub(crate) keys: Keys,
    /// The plugins to run around an enqueue; `None`: plain pushes (a queue built without
    /// job definitions, as an admin tool or a test uses it).
    hooks: Option<Arc<dyn EnqueueHooks>>,
}

/// What the queue needs from the job definitions: the plugins that run around an enqueue
/// (QueueLock refuses a duplicate, DelayQueueLock a job that is already delayed).
///
/// The queue knows the definitions only through this trait. Plugins act through a `Queue`
/// (a lock takes a key, Retry schedules a delayed job), so if the queue named the registry
/// that holds them, queue, registry and plugins would each depend on the next in a circle.
/// The registry, [`crate::Jobs`], implements this trait instead.
pub trait EnqueueHooks: Send + Sync {
    /// Runs before the job is written. `Ok(false)`: a plugin refused it, nothing is written.
    fn before_enqueue<'a>(
        &'a self,
        queue: &'a Queue,
        job: NewJob<'a>,
    ) -> BoxFuture<'a, Result<bool>>;

    /// Runs once the job is in Redis.
    fn after_enqueue<'a>(&'a self, queue: &'a Queue, job: NewJob<'a>) -> BoxFuture<'a, Result<()>>;
}

/// A job being enqueued, as the hooks see it: where it goes, its class, its args.
#[derive(Debug, Clone, Copy)]
pub struct NewJob<'a> {
    pub queue: &'a str,
    pub class: &'a str,
    pub args: &'a [Value],
}

impl Queue {
    pub fn new(con: ConnectionManager, keys: Keys) -> Queue {
        Queue {
            con,
            keys,
            hooks: None,
        }
    }

    /// With job definitions, `enqueue` runs their before/after-enqueue plugins.
    pub fn with_jobs(mut self, jobs: Arc<dyn EnqueueHooks>) -> Queue {
        self.hooks = Some(jobs);
        self
    }

    /// A queue on `url`, in node-resque's default namespace, without job definitions.
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

    /// The shared connection. A clone is a handle to the same socket, not a new one.
    pub fn connection(&self) -> ConnectionManager {
        self.con.clone()
    }

    // ----- enqueue -----

    /// `SADD queues q` + `RPUSH queue:q <job>`. `Ok(false)`: a plugin vetoed.
    pub async fn enqueue(&self, queue: &str, class: &str, args: Vec<Value>) -> Result<bool> {
        let job = NewJob {
            queue,
            class,
            args: &args,
        };
        // 1. The plugins may refuse the job before anything is written: a lock that is
        //    taken must leave no trace of the refused copy in Redis.
        if let Some(hooks) = &self.hooks {
            if !hooks.before_enqueue(self, job).await? {
                return Ok(false);
            }
        }
        // 2. The bytes node-resque would write. Workers of any Resque flavour read them, and
        //    commands that find a job by value (`del`, `LREM`) match them exactly.
        let payload = wire::encode(queue, class, &args);
        // 3. Pipelined, as Ruby Resque does (node-resque wraps the two in MULTI): one round
        //    trip either way, and half the commands for Redis to run. Not atomic, and it
        //    need not be: Redis runs them in order, so the queue is listed (what a `*`
        //    worker reads to find it) before its first job is pushed. The caller is
        //    answered only after RPUSH: from then on the job is durable.
        let mut con = self.con.clone();
        let _: () = redis::pipe()
            .sadd(self.keys.queues(), queue)
            .ignore()
            .rpush(self.keys.queue(queue), payload)
            .ignore()
            .query_async(&mut con)
            .await?;
        // 4. After-enqueue plugins see a job that is already queued; an error here is
        //    reported, but the job stays queued.
        if let Some(hooks) = &self.hooks {
            hooks.after_enqueue(self, job).await?;
        }
        Ok(true)
    }

    /// Many jobs in one pipelined round trip (`SADD` once per queue, one `RPUSH` per queue
    /// with all its jobs). No plugins run: bulk enqueue is for loading, not for gating.
    pub async fn enqueue_bulk(&self, jobs: &[(String, String, Vec<Value>)]) -> Result<usize> {
        // One RPUSH per queue, with all of that queue's jobs: Redis appends them in one step.
        let mut by_queue: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for (queue, class, args) in jobs {
            by_queue
                .entry(queue.as_str())
                .or_default()
                .push(wire::encode(queue, class, args));
        }
        // The BTreeMap makes the queues' order fixed; a job's order within its queue is the
        // order given.
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

    /// Every queue that has ever been enqueued to (the `queues` set), sorted.
    pub async fn queues(&self) -> Result<Vec<String>> {
        let mut queues: Vec<String> = self.con.clone().smembers(self.keys.queues()).await?;
        queues.sort();
        Ok(queues)
    }

    /// Deletes a queue and its jobs. In MULTI, so no worker lists a queue that is gone.
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

    /// Jobs waiting on `queue` (not those a worker has taken).
    pub async fn length(&self, queue: &str) -> Result<usize> {
        Ok(self.con.clone().llen(self.keys.queue(queue)).await?)
    }

    /// Jobs `start..=stop` of a queue (negative indexes count from the end). Entries that
    /// are not jobs are skipped: another client may have pushed anything, and a listing
    /// must not fail for it (a worker sends such an entry to `failed`).
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
        // LREM compares bytes: a job written by another client with other spacing or key
        // order is not found this way (`del_by_class` decodes instead).
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
        // Each match is removed by its exact bytes, all in one MULTI; an entry a worker
        // popped in the meantime is simply not found (LREM removes 0).
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
}
