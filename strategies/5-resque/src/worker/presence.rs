//! How a worker shows itself in Redis, to node-resque and to Ruby Resque alike: the
//! `workers` set, its `started` key, and two liveness signals refreshed every ping interval,
//! node-resque's `worker:ping:NAME` and Ruby's `workers:heartbeat` entry, all removed when
//! it stops. A worker that stops pinging (or whose process is gone) is found by the others.

use super::options::WorkerOptions;
use crate::client::Queue;
use crate::wire;
use serde_json::json;
use tokio_util::sync::CancellationToken;

pub async fn register(queue: &Queue, options: &WorkerOptions) -> redis::RedisResult<()> {
    let keys = queue.keys();
    let id = options.id();
    redis::pipe()
        .atomic()
        .sadd(keys.workers(), &id)
        .ignore()
        // Ruby's `Time#to_s`: resque-web shows it as "started 3 minutes ago" (node-resque
        // writes Unix seconds here but never reads them back).
        .set(
            keys.worker_started(&id),
            wire::ruby_time(chrono::Utc::now()),
        )
        .ignore()
        .set(keys.ping(&options.name), ping_value(options))
        .ignore()
        .hset(keys.heartbeats(), &id, heartbeat_value())
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
        .hdel(keys.heartbeats(), &id)
        .ignore()
        .del(&keys.worker_stats("failed", name, &options.queue_list()))
        .ignore()
        .del(&keys.worker_stats("processed", name, &options.queue_list()))
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

/// The time of a `workers:heartbeat` entry. Ruby Resque takes it from Redis's clock and
/// prunes a worker whose entry is older than its prune interval (5 minutes by default); this
/// host's clock serves, as the ping's `time` does for node-resque.
pub fn heartbeat_value() -> String {
    wire::iso_time(chrono::Utc::now())
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
            .hset(keys.heartbeats(), options.id(), heartbeat_value())
            .ignore()
            .query_async(&mut queue.connection())
            .await;
    }
}
