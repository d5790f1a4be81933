//! Throughput probe for `scripts/peers/bench-resque`: one measurement per run, printed as
//! JSON (`{"seconds": ...}`), so the script can compare it with node-resque's.
//!
//! ```text
//! bench REDIS_URL enqueue N          N single enqueues, one after the other
//! bench REDIS_URL enqueue-64 N       N single enqueues, 64 in flight on the one connection
//! bench REDIS_URL enqueue-bulk N     N jobs in one pipelined bulk enqueue
//! bench REDIS_URL load N             queue N no-op jobs (untimed setup)
//! bench REDIS_URL work N SLOTS       run N queued no-op jobs with SLOTS worker slots
//! bench REDIS_URL latency N          idle pick-up: enqueue -> job starts, N times (p50/p99 ms)
//! bench REDIS_URL load-email N       queue N sendEmail jobs for the strategy-5 binary
//! bench REDIS_URL wait-processed N   seconds from now until `stat:processed` reaches N (start
//!                                    it, then the worker: the time includes the worker's start)
//! ```

use futures_util::stream::{self, StreamExt, TryStreamExt};
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};
use strategy_5::worker::{MultiWorker, MultiWorkerOptions, WorkerOptions};
use strategy_5::{EventSender, JobDef, Jobs, Keys, Queue};

const QUEUE: &str = "bench";
/// Concurrent enqueues, as from a web server's many requests at once.
const IN_FLIGHT: usize = 64;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    // One request after another is bound by round trips: a single-threaded runtime saves
    // the cross-thread wake-ups, and node-resque runs on one thread too. Concurrent enqueues
    // share one multiplexed connection, so a second thread has nothing to do but hand off.
    // Worker slots run in parallel: they get every core.
    let runtime = match args.get(2).map(String::as_str) {
        Some("work") => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?,
        _ => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?,
    };
    runtime.block_on(run(args))
}

async fn run(args: Vec<String>) -> anyhow::Result<()> {
    let usage =
        "usage: bench REDIS_URL enqueue|enqueue-64|enqueue-bulk|load|work|latency|load-email|wait-processed N [SLOTS]";
    let (url, command) = (args.get(1).expect(usage), args.get(2).expect(usage));
    let n: usize = args.get(3).expect(usage).parse()?;
    let client = redis::Client::open(url.as_str())?;
    let queue = Queue::new(
        strategy_5::connect::commands(&client).await?,
        Keys::default(),
    );
    let jobs_list = || {
        (0..n)
            .map(|i| (QUEUE.to_string(), "noop".to_string(), vec![json!(i)]))
            .collect::<Vec<_>>()
    };
    let started = Instant::now();
    match command.as_str() {
        "enqueue" => {
            for i in 0..n {
                queue.enqueue(QUEUE, "noop", vec![json!(i)]).await?;
            }
        }
        "enqueue-64" => {
            // Each enqueue is still its own round trip; the connection pipelines whichever
            // are in flight, as it would for concurrent web requests.
            stream::iter(0..n)
                .map(Ok)
                .try_for_each_concurrent(IN_FLIGHT, |i| {
                    let queue = &queue;
                    async move { queue.enqueue(QUEUE, "noop", vec![json!(i)]).await.map(drop) }
                })
                .await?;
        }
        "enqueue-bulk" => {
            queue.enqueue_bulk(&jobs_list()).await?;
        }
        "load" => {
            for chunk in jobs_list().chunks(10_000) {
                queue.enqueue_bulk(chunk).await?;
            }
        }
        "load-email" => {
            let emails: Vec<_> = (0..n)
                .map(|i| {
                    let email =
                        json!({"to": format!("u{i}@example.com"), "subject": "s", "text": "t"});
                    (
                        "emailQueue".to_string(),
                        "sendEmail".to_string(),
                        vec![email],
                    )
                })
                .collect();
            queue.enqueue_bulk(&emails).await?;
        }
        "wait-processed" => wait_processed(&queue, n).await?,
        "latency" => return latency(queue, client, n).await,
        "work" => {
            let slots: usize = args.get(4).map(|s| s.parse()).transpose()?.unwrap_or(1);
            return work(queue, client, n, slots).await;
        }
        other => anyhow::bail!("unknown command {other}; {usage}"),
    }
    println!("{}", json!({ "seconds": started.elapsed().as_secs_f64() }));
    Ok(())
}

async fn work(queue: Queue, client: redis::Client, n: usize, slots: usize) -> anyhow::Result<()> {
    let jobs = Jobs::new().with("noop", JobDef::new(|_| async { Ok(json!(null)) }));
    let mut worker = WorkerOptions::new(&[QUEUE]);
    worker.block_timeout = Duration::from_secs(1);
    let mut options = MultiWorkerOptions::new(worker);
    options.min = slots;
    options.max = slots;
    let multi = MultiWorker::new(
        options,
        queue.clone(),
        client,
        Arc::new(jobs),
        EventSender::new("bench"),
    );
    let stop = multi.stop_token();
    let started = Instant::now();
    let task = tokio::spawn(multi.run());
    wait_processed(&queue, n).await?;
    let seconds = started.elapsed().as_secs_f64();
    stop.cancel();
    task.await?;
    println!("{}", json!({ "seconds": seconds }));
    Ok(())
}

/// Returns once `n` jobs succeeded, by the counter every Resque worker increments.
async fn wait_processed(queue: &Queue, n: usize) -> anyhow::Result<()> {
    // Polling the counter costs a few hundred round trips a second: noise next to the jobs.
    let mut con = queue.connection();
    loop {
        let processed: Option<usize> =
            redis::AsyncCommands::get(&mut con, "resque:stat:processed").await?;
        if processed.unwrap_or(0) >= n {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Enqueues one job at a time to an idle worker (blocked in BLPOP) and measures how long
/// until the job starts running.
async fn latency(queue: Queue, client: redis::Client, n: usize) -> anyhow::Result<()> {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Instant>();
    let jobs = Jobs::new().with(
        "stamp",
        JobDef::new(move |_| {
            let tx = tx.clone();
            async move {
                let _ = tx.send(Instant::now());
                Ok(json!(null))
            }
        }),
    );
    let mut options = WorkerOptions::new(&[QUEUE]);
    options.block_timeout = Duration::from_secs(5);
    let worker = strategy_5::Worker::new(
        options,
        queue.clone(),
        client,
        Arc::new(jobs),
        EventSender::new("bench"),
    );
    let stop = worker.stop_token();
    let task = tokio::spawn(worker.run());
    let mut samples = Vec::with_capacity(n);
    for i in 0..n {
        // Let the worker record the last job and go back to its blocking pop.
        tokio::time::sleep(Duration::from_millis(2)).await;
        let sent = Instant::now();
        queue.enqueue(QUEUE, "stamp", vec![json!(i)]).await?;
        let started = rx.recv().await.expect("worker alive");
        samples.push(started.duration_since(sent).as_secs_f64() * 1000.0);
    }
    stop.cancel();
    task.await??;
    samples.sort_by(f64::total_cmp);
    let at = |q: f64| samples[((samples.len() as f64 * q) as usize).min(samples.len() - 1)];
    println!(
        "{}",
        json!({ "p50_ms": at(0.5), "p99_ms": at(0.99), "max_ms": at(1.0) })
    );
    Ok(())
}
