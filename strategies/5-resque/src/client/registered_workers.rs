//! Registered workers, read and cleaned from the outside: node-resque's `workers`,
//! `workingOn`, `allWorkingOn`, `cleanOldWorkers` and `forceCleanWorker`.

use super::error::Result;
use super::queue::Queue;
use crate::wire::{self, failed_entry, split_worker_id, JobError};
use redis::AsyncCommands;
use serde_json::Value;
use std::collections::BTreeMap;

impl Queue {
    /// Registered workers: name (`host:pid`) -> queues (`a,b`).
    pub async fn workers(&self) -> Result<BTreeMap<String, String>> {
        let ids: Vec<String> = self.con.clone().smembers(self.keys.workers()).await?;
        Ok(ids.iter().map(|id| split_worker_id(id)).collect())
    }

    /// What worker `name` on `queues` works on (`worker:name:queues`), parsed.
    pub async fn working_on(&self, name: &str, queues: &str) -> Result<Option<Value>> {
        let raw = self.working_on_raw(&format!("{name}:{queues}")).await?;
        Ok(raw.map(|raw| serde_json::from_str(&raw).unwrap_or(Value::String(raw))))
    }

    /// The working-on value of worker `id`, as text. Read as bytes: it embeds the job's
    /// payload, which may be anything a client pushed (see [`crate::wire::Payload`]), and a
    /// value that would not read as text must not stop the admin views or the cleaners.
    async fn working_on_raw(&self, id: &str) -> Result<Option<String>> {
        let raw: Option<Vec<u8>> = self.con.clone().get(self.keys.worker(id)).await?;
        Ok(raw.map(|bytes| String::from_utf8_lossy(&bytes).into_owned()))
    }

    /// When worker `name` on `queues` registered (`worker:name:queues:started`): Unix
    /// seconds as node-resque and this crate write it, or a date as another Resque writes
    /// it. `None` when absent or unreadable.
    pub async fn worker_started_at(
        &self,
        name: &str,
        queues: &str,
    ) -> Result<Option<chrono::DateTime<chrono::Utc>>> {
        let raw: Option<String> = self
            .con
            .clone()
            .get(self.keys.worker_started(&format!("{name}:{queues}")))
            .await?;
        Ok(raw.and_then(|raw| match raw.parse::<i64>() {
            Ok(seconds) => chrono::DateTime::from_timestamp(seconds, 0),
            Err(_) => wire::parse_date(&raw),
        }))
    }

    /// Every worker: `"started"` when idle, else its working-on payload, as node-resque's
    /// `allWorkingOn` answers (it keys them by the payload's `worker`; here they are keyed by
    /// the registered name, which also works for Ruby workers whose payload has no
    /// `worker`). For a person, [`Queue::working_on`] says `None` for an idle worker.
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
                .and_then(wire::parse_date);
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
        let working = self.working_on_raw(&id).await?;
        let entry = working.and_then(|raw| {
            let value: Value = serde_json::from_str(&raw).ok()?;
            let payload = value.get("payload")?;
            let queue = value
                .get("queue")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let now = wire::js_date(chrono::Utc::now());
            let error = JobError {
                exception: "Worker Timeout (killed manually)".into(),
                error: "Worker Timeout (killed manually)".into(),
                backtrace: vec![
                    format!("killed by {} at {now}", wire::hostname()),
                    "queue#forceCleanWorker".into(),
                    "node-resque".into(),
                ],
                permanent: false,
            };
            Some(failed_entry(
                &id,
                queue,
                &payload.to_string().into(),
                &error,
                &now,
            ))
        });
        let mut pipe = redis::pipe();
        pipe.atomic()
            .del(&self.keys.worker_stats("failed", name, queues))
            .del(&self.keys.worker_stats("processed", name, queues))
            .del(self.keys.ping(name))
            .hdel(self.keys.heartbeats(), &id)
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
}
