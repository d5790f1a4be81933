//! Shared by the integration tests: each test gets its own redis-server.
#![allow(dead_code)]

use kit::{RedisOptions, RedisServer};
use mailer::{Faults, Sink, SinkConfig};
use redis::AsyncCommands;
use serde_json::Value;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use strategy_5::worker::{Worker, WorkerOptions};
use strategy_5::JobResult;
use strategy_5::{EventSender, JobDef, Jobs, Keys, Queue};
use tokio_util::sync::CancellationToken;

pub const DEADLINE: Duration = Duration::from_secs(20);

pub struct Setup {
    pub redis: RedisServer,
    pub client: redis::Client,
    pub queue: Queue,
}

pub async fn setup() -> Setup {
    setup_with(RedisOptions::default()).await
}

pub async fn setup_with(options: RedisOptions) -> Setup {
    let redis = RedisServer::start_with(options).expect("redis-server");
    let client = redis::Client::open(redis.url()).unwrap();
    let con = strategy_5::connect::commands(&client).await.unwrap();
    let queue = Queue::new(con, Keys::default());
    Setup {
        redis,
        client,
        queue,
    }
}

impl Setup {
    pub async fn raw_list(&self, key: &str) -> Vec<String> {
        self.queue.connection().lrange(key, 0, -1).await.unwrap()
    }

    pub async fn get(&self, key: &str) -> Option<String> {
        self.queue.connection().get(key).await.unwrap()
    }

    pub async fn exists(&self, key: &str) -> bool {
        self.queue.connection().exists(key).await.unwrap()
    }

    pub async fn keys(&self, pattern: &str) -> Vec<String> {
        let mut keys: Vec<String> = self.queue.connection().keys(pattern).await.unwrap();
        keys.sort();
        keys
    }

    /// Starts a worker task; cancel the token to stop it.
    pub fn worker(
        &self,
        options: WorkerOptions,
        jobs: Jobs,
    ) -> (
        CancellationToken,
        tokio::task::JoinHandle<anyhow::Result<()>>,
        EventSender,
    ) {
        let events = EventSender::new("test");
        let worker = Worker::new(
            options,
            self.queue.clone(),
            self.client.clone(),
            Arc::new(jobs),
            events.clone(),
        );
        let stop = worker.stop_token();
        (stop, tokio::spawn(worker.run()), events)
    }
}

/// Polls `check` until it is true; panics after [`DEADLINE`] (testkit's loop, for a bool).
pub async fn wait_until<F, Fut>(what: &str, check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    assert!(
        testkit::eventually(DEADLINE, check).await,
        "timed out after {DEADLINE:?} waiting until {what}"
    );
}

pub fn parse(raw: &str) -> Value {
    serde_json::from_str(raw).unwrap()
}

/// A job that counts its runs in `runs`, then ends as `outcome` says.
pub fn counting(runs: &Arc<AtomicUsize>, outcome: fn() -> JobResult) -> JobDef {
    let runs = runs.clone();
    JobDef::new(move |_| {
        let runs = runs.clone();
        async move {
            runs.fetch_add(1, Ordering::SeqCst);
            outcome()
        }
    })
}

pub fn succeed() -> JobResult {
    Ok(Value::Null)
}

/// A real SMTP sink on a free port, misbehaving as `faults` say.
pub async fn sink(faults: Faults) -> Sink {
    Sink::start_local(SinkConfig {
        faults,
        ..SinkConfig::default()
    })
    .await
    .unwrap()
}

/// The attributes of a bus job (its one argument, a JSON string), given the job as JSON.
pub fn bus_attributes(job: &Value) -> Value {
    serde_json::from_str(job["args"][0].as_str().expect("a JSON-string argument")).unwrap()
}

/// The field names of a JSON object, in their order.
pub fn keys_of(object: &Value) -> Vec<&str> {
    object
        .as_object()
        .expect("a JSON object")
        .keys()
        .map(String::as_str)
        .collect()
}
