//! What the Resque benches share: a private Redis with a queue on it, and draining queues
//! with a multi-worker.

use kit::RedisServer;
use std::sync::Arc;
use std::time::{Duration, Instant};
use strategy_5::worker::{MultiWorker, MultiWorkerOptions, WorkerOptions};
use strategy_5::{EventSender, Jobs, Keys, Queue};

/// A private redis-server (stopped when dropped), a client for it and a queue on it.
pub fn private_queue(rt: &tokio::runtime::Runtime) -> (RedisServer, redis::Client, Queue) {
    let redis = RedisServer::start().unwrap();
    let client = redis::Client::open(redis.url()).unwrap();
    let queue = rt.block_on(async {
        Queue::new(
            strategy_5::connect::commands(&client).await.unwrap(),
            Keys::default(),
        )
    });
    (redis, client, queue)
}

/// Runs a multi-worker with `slots` fixed slots on `queues` until `processed` jobs are
/// recorded as processed; returns how long that took.
pub async fn drain(
    queue: &Queue,
    client: &redis::Client,
    jobs: Jobs,
    queues: Vec<String>,
    slots: usize,
    processed: usize,
) -> Duration {
    let mut worker = WorkerOptions::new(&[]);
    worker.queues = queues;
    let mut options = MultiWorkerOptions::new(worker);
    options.min = slots;
    options.max = slots;
    let multi = MultiWorker::new(
        options,
        queue.clone(),
        client.clone(),
        Arc::new(jobs),
        EventSender::new("bench"),
    );
    let stop = multi.stop_token();
    let started = Instant::now();
    let task = tokio::spawn(multi.run());
    let mut con = queue.connection();
    let key = queue.keys().stat("processed");
    loop {
        let done: Option<usize> = redis::AsyncCommands::get(&mut con, &key).await.unwrap();
        if done.unwrap_or(0) >= processed {
            break;
        }
        tokio::time::sleep(Duration::from_micros(500)).await;
    }
    let elapsed = started.elapsed();
    stop.cancel();
    task.await.unwrap();
    elapsed
}
