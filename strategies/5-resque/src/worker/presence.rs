//! How a worker shows itself in Redis, as node-resque does: the `workers` set, its
//! `started` key and a `worker:ping:NAME` refreshed every ping interval, all removed when it
//! stops. A worker that stops pinging (or whose process is gone) is found by the others.

use super::options::WorkerOptions;
use crate::client::Queue;
use serde_json::json;
use tokio_util::sync::CancellationToken;

pub async fn register(queue: &Queue, options: &WorkerOptions) -> redis::RedisResult<()> {
    let keys = queue.keys();
    let id = options.id();
    redis::pipe()
        .atomic()
        .sadd(keys.workers(), &id)
        .ignore()
        .set(keys.worker_started(&id), chrono::Utc::now().timestamp())
        .ignore()
        .set(keys.ping(&options.name), ping_value(options))
        .ignore()
        .query_async(&mut queue.connection())
        .await
}

/// node-resque's `untrack`.
pub async fn unregister(queue: &Queue, options: &WorkerOptions) -> redis::RedisResult<()> {
    let keys = queue.keys();
    let (id, name) = (options.id(), &options.name);
    redis::pipe()
        .atomic()
        .srem(keys.workers(), &id)
        .ignore()
        .del(keys.ping(name))
        .ignore()
        .del(keys.worker(&id))
        .ignore()
        .del(keys.worker_started(&id))
        .ignore()
        .del(keys.worker_stat("failed", name))
        .ignore()
        .del(keys.worker_stat("processed", name))
        .ignore()
        .query_async(&mut queue.connection())
        .await
}

pub fn ping_value(options: &WorkerOptions) -> String {
    json!({
        "time": chrono::Utc::now().timestamp(),
        "name": options.name,
        "queues": options.queues.join(","),
    })
    .to_string()
}

pub async fn ping_loop(queue: Queue, options: WorkerOptions, stop: CancellationToken) {
    let keys = queue.keys().clone();
    loop {
        tokio::select! {
            _ = tokio::time::sleep(options.ping_interval) => {}
            _ = stop.cancelled() => return,
        }
        // SADD again too: a Redis that restarted without persistence forgot the worker.
        let _: redis::RedisResult<()> = redis::pipe()
            .sadd(keys.workers(), options.id())
            .ignore()
            .set(keys.ping(&options.name), ping_value(&options))
            .ignore()
            .query_async(&mut queue.connection())
            .await;
    }
}
