//! A JSON admin API over the queue (what resque-web shows, for curl):
//!
//! | route                       | answer                                                |
//! |-----------------------------|-------------------------------------------------------|
//! | `GET /resque/stats`         | counters (numbers), queue lengths, failed entries, leader |
//! | `GET /resque/queues`        | each queue and its length                             |
//! | `GET /resque/failed`        | the first 100 failed entries and the count            |
//! | `GET /resque/workers`       | each worker: queues, its job (null when idle), start  |
//! | `GET /resque/delayed`       | delayed jobs by due time (ms)                         |
//! | `POST /resque/failed/retry` | body `{"index": N}` retries one, `{}` retries all     |
//! | `GET /resque/bus/apps`      | the QueueBus applications (`bus_apps`)                |
//! | `GET /resque/bus/subscriptions` | each app's subscriptions, or why one is unusable  |
//! | `GET /resque/bus/queues`    | `bus_incoming` and each subscription's queue, lengths |
//!
//! Who may ask is [`kit::access`]'s to say: GETs from this machine are open; a POST
//! must be JSON, from this server's own origin, and carry the token when there is one.
//!
//! `/dashboard` ([`super::dashboard`]) draws its pages from the same calls.
//!
//! Errors are `{"error": ...}`: 400 for a bad body, 401 without the token, 403 from another
//! origin, 404 for a failed entry that is not there, 415 for a POST that is not JSON, 503
//! while Redis does not answer.

use bytes::Bytes;
use hyper::{HeaderMap, Method, StatusCode};
use kit::access::AdminAccess;
use kit::BoxFuture;
use serde_json::{json, Map, Value};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use strategy_5::bus::{Bus, INCOMING_QUEUE};
use strategy_5::worker::MultiWorkerStatus;
use strategy_5::{Queue, QueueError};

pub struct Admin {
    pub queue: Queue,
    /// The bus on the same Redis (its keys are there whether or not `--bus` is on).
    pub bus: Bus,
    /// Checked before any admin route runs.
    pub access: AdminAccess,
    /// The multi-worker in this process, if any: its slots and runtime lag are shown.
    pub multi_worker: Option<Arc<MultiWorkerStatus>>,
}

impl Admin {
    pub fn route<'a>(
        &'a self,
        method: &'a Method,
        path: &'a str,
        headers: &'a HeaderMap,
        body: Bytes,
    ) -> Option<BoxFuture<'a, (StatusCode, Value)>> {
        if !path.starts_with("/resque/") {
            return None;
        }
        Some(Box::pin(async move {
            if let Err((status, why)) = self.access.check(method, headers) {
                return (status, json!({ "error": why }));
            }
            let answer = match (method, path) {
                (&Method::GET, "/resque/stats") => self.stats().await,
                (&Method::GET, "/resque/queues") => self.queues().await,
                (&Method::GET, "/resque/failed") => self.failed().await,
                (&Method::GET, "/resque/workers") => self.workers().await,
                (&Method::GET, "/resque/delayed") => self.delayed().await,
                (&Method::POST, "/resque/failed/retry") => self.retry(&body).await,
                (&Method::GET, "/resque/bus/apps") => self.bus_apps().await,
                (&Method::GET, "/resque/bus/subscriptions") => self.bus_subscriptions().await,
                (&Method::GET, "/resque/bus/queues") => self.bus_queues().await,
                // A known route asked with the wrong method: say so, rather than "not found".
                (_, "/resque/failed/retry") => return method_not_allowed("POST", path),
                (
                    _,
                    "/resque/stats"
                    | "/resque/queues"
                    | "/resque/failed"
                    | "/resque/workers"
                    | "/resque/delayed"
                    | "/resque/bus/apps"
                    | "/resque/bus/subscriptions"
                    | "/resque/bus/queues",
                ) => return method_not_allowed("GET", path),
                _ => {
                    return (
                        StatusCode::NOT_FOUND,
                        json!({ "error": format!("no route {method} {path}") }),
                    )
                }
            };
            match answer {
                Ok(value) => (StatusCode::OK, value),
                Err(e) => (status_of(&e), json!({ "error": e.to_string() })),
            }
        }))
    }

    async fn queue_lengths(&self) -> Result<Map<String, Value>, QueueError> {
        self.lengths_of(self.queue.queues().await?).await
    }

    /// Each named queue (once) and its length.
    async fn lengths_of(&self, names: Vec<String>) -> Result<Map<String, Value>, QueueError> {
        let mut lengths = Map::new();
        for name in names {
            if !lengths.contains_key(&name) {
                let length = self.queue.length(&name).await?;
                lengths.insert(name, length.into());
            }
        }
        Ok(lengths)
    }

    /// Numbers only, and one meaning per name: `stats.failed` is Resque's counter of failed
    /// jobs (attempts the Retry plugin took over included), `failed_entries` the length of
    /// the failed list (what `/resque/failed` lists; a retry takes an entry out).
    pub(crate) async fn stats(&self) -> Result<Value, QueueError> {
        // Redis keeps the counters as strings; a value that is not a number (another
        // client's key under `stat:`) shows as null rather than as a string.
        let counters: Map<String, Value> = self
            .queue
            .stats()
            .await?
            .into_iter()
            .map(|(name, value)| (name, value.parse::<i64>().map_or(Value::Null, Value::from)))
            .collect();
        let mut answer = json!({
            "stats": counters,
            "queues": self.queue_lengths().await?,
            "failed_entries": self.queue.failed_count().await?,
            "workers": self.queue.workers().await?.len(),
            "leader": self.queue.leader().await?,
        });
        if let Some(status) = &self.multi_worker {
            let lag_us = status.lag_us.load(Ordering::Relaxed);
            answer["multi_worker"] = json!({
                "slots": status.slots.load(Ordering::Relaxed),
                "working": status.working.load(Ordering::Relaxed),
                "lag_ms": (lag_us != u64::MAX).then(|| lag_us as f64 / 1000.0),
            });
        }
        Ok(answer)
    }

    pub(crate) async fn queues(&self) -> Result<Value, QueueError> {
        Ok(json!({ "queues": self.queue_lengths().await? }))
    }

    pub(crate) async fn failed(&self) -> Result<Value, QueueError> {
        Ok(json!({
            "count": self.queue.failed_count().await?,
            "failed": self.queue.failed(0, 99).await?,
        }))
    }

    /// Each worker's queues, its job (`null` when idle: node-resque's `allWorkingOn` says
    /// `"started"`, which reads like a job's state) and when it started, in a field of its
    /// own (RFC 3339).
    pub(crate) async fn workers(&self) -> Result<Value, QueueError> {
        let mut workers = Map::new();
        for (name, queues) in self.queue.workers().await? {
            let working_on = self.queue.working_on(&name, &queues).await?;
            let started_at = self
                .queue
                .worker_started_at(&name, &queues)
                .await?
                .map(|at| at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
            let worker = json!({
                "queues": queues,
                "working_on": working_on,
                "started_at": started_at,
            });
            workers.insert(name, worker);
        }
        Ok(json!({ "workers": workers }))
    }

    pub(crate) async fn delayed(&self) -> Result<Value, QueueError> {
        let delayed: Map<String, Value> = self
            .queue
            .all_delayed()
            .await?
            .into_iter()
            .map(|(ts, jobs)| (ts.to_string(), jobs.iter().map(|j| j.to_value()).collect()))
            .collect();
        Ok(json!({ "delayed": delayed }))
    }

    pub(crate) async fn bus_apps(&self) -> Result<Value, QueueError> {
        Ok(json!({ "apps": self.bus.apps().await? }))
    }

    /// Each record as Redis holds it, or `{"error": why}` where the driver cannot use it.
    pub(crate) async fn bus_subscriptions(&self) -> Result<Value, QueueError> {
        let apps: Map<String, Value> = self
            .bus
            .subscriptions()
            .await?
            .into_iter()
            .map(|(app, subs)| {
                let subs: Map<String, Value> = subs
                    .into_iter()
                    .map(|(field, sub)| {
                        let shown = sub.map_or_else(|why| json!({ "error": why }), |s| s.record);
                        (field, shown)
                    })
                    .collect();
                (app, Value::Object(subs))
            })
            .collect();
        Ok(json!({ "subscriptions": apps }))
    }

    /// `bus_incoming`, then every queue a subscription names, with their lengths.
    pub(crate) async fn bus_queues(&self) -> Result<Value, QueueError> {
        let mut names = vec![INCOMING_QUEUE.to_owned()];
        for subs in self.bus.subscriptions().await?.into_values() {
            names.extend(subs.into_values().flatten().map(|sub| sub.queue_name));
        }
        Ok(json!({ "queues": self.lengths_of(names).await? }))
    }

    async fn retry(&self, body: &[u8]) -> Result<Value, QueueError> {
        // No body is not `{}`: retrying everything is asked for in so many words.
        let request: Value = serde_json::from_slice(body).map_err(|e| {
            QueueError::Invalid(format!("body is not JSON ({{}} or {{\"index\": N}}): {e}"))
        })?;
        // Anything but an object would read as "no index", which means "retry everything".
        if !request.is_object() {
            return Err(QueueError::Invalid(
                "body must be a JSON object: {} or {\"index\": N}".into(),
            ));
        }
        match request.get("index") {
            None => Ok(json!({ "retried": self.queue.retry_all_failed().await? })),
            Some(index) => {
                let index = index
                    .as_i64()
                    .ok_or_else(|| QueueError::Invalid("\"index\" must be an integer".into()))?;
                if !self.queue.retry_failed_at(index as isize).await? {
                    return Err(QueueError::NotInFailedQueue);
                }
                Ok(json!({ "retried": 1 }))
            }
        }
    }
}

fn method_not_allowed(allowed: &str, path: &str) -> (StatusCode, Value) {
    (
        StatusCode::METHOD_NOT_ALLOWED,
        json!({ "error": format!("{path} takes {allowed}") }),
    )
}

/// The client's mistake is a 4xx; Redis being away is a 503 (try again later); a plugin
/// that broke is the server's fault.
pub(crate) fn status_of(error: &QueueError) -> StatusCode {
    match error {
        QueueError::Redis(_) => StatusCode::SERVICE_UNAVAILABLE,
        QueueError::NotInFailedQueue => StatusCode::NOT_FOUND,
        QueueError::Invalid(_) | QueueError::DuplicateDelayedJob => StatusCode::BAD_REQUEST,
        QueueError::Plugin(..) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}
