//! Each plugin through a real worker (or a real enqueue) on a real Redis.

mod common;

use common::*;
use kit::RedisOptions;
use redis::AsyncCommands;
use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use strategy_5::plugins::{DelayQueueLock, JobLock, Noop, QueueLock, Retry};
use strategy_5::worker::WorkerOptions;
use strategy_5::JobResult;
use strategy_5::{JobDef, JobError, Jobs, Keys, Queue, WorkerEvent};
use tokio::sync::Notify;

fn fail() -> JobResult {
    Err(JobError::new("nope"))
}

fn with_jobs(s: &Setup, jobs: &Jobs) -> Queue {
    Queue::new(s.queue.connection(), Keys::default()).with_jobs(Arc::new(jobs.clone()))
}

#[tokio::test]
async fn queue_lock_refuses_a_second_copy_until_the_first_runs() {
    let s = setup().await;
    let runs = Arc::new(AtomicUsize::new(0));
    let jobs = Jobs::new().with(
        "f",
        counting(&runs, succeed).with_plugin(QueueLock::default()),
    );
    let queue = with_jobs(&s, &jobs);
    assert!(queue.enqueue("q", "f", vec![json!(1)]).await.unwrap());
    assert!(
        !queue.enqueue("q", "f", vec![json!(1)]).await.unwrap(),
        "same args: refused"
    );
    assert!(
        queue.enqueue("q", "f", vec![json!(2)]).await.unwrap(),
        "other args: allowed"
    );
    let ttl: i64 = s
        .queue
        .connection()
        .ttl("resque:lock:f:q:[1]")
        .await
        .unwrap();
    assert!(ttl > 0 && ttl <= 3600);
    assert_eq!(s.queue.length("q").await.unwrap(), 2);
    let (stop, task, _) = s.worker(WorkerOptions::new(&["q"]), jobs.clone());
    wait_until("both ran", || async { runs.load(Ordering::SeqCst) == 2 }).await;
    assert!(
        !s.exists("resque:lock:f:q:[1]").await,
        "released before perform"
    );
    assert!(queue.enqueue("q", "f", vec![json!(1)]).await.unwrap());
    stop.cancel();
    task.await.unwrap().unwrap();
}

#[tokio::test]
async fn job_lock_delays_a_duplicate_while_one_runs() {
    let s = setup().await;
    let runs = Arc::new(AtomicUsize::new(0));
    let jobs = Jobs::new().with(
        "f",
        counting(&runs, succeed).with_plugin(JobLock::default()),
    );
    // Another worker holds the lock for f(1).
    let _: () = s
        .queue
        .connection()
        .set("resque:workerslock:f:q:[1]", 1)
        .await
        .unwrap();
    s.queue.enqueue("q", "f", vec![json!(1)]).await.unwrap();
    s.queue.enqueue("q", "f", vec![json!(2)]).await.unwrap();
    let (stop, task, _) = s.worker(WorkerOptions::new(&["q"]), jobs);
    wait_until("f(2) ran", || async { runs.load(Ordering::SeqCst) == 1 }).await;
    wait_until("f(1) delayed", || async {
        !s.queue
            .scheduled_at("q", "f", &[json!(1)])
            .await
            .unwrap()
            .is_empty()
    })
    .await;
    assert!(
        !s.exists("resque:workerslock:f:q:[2]").await,
        "released after perform"
    );
    assert!(
        s.exists("resque:workerslock:f:q:[1]").await,
        "the other worker's lock is untouched"
    );
    assert_eq!(s.queue.failed_count().await.unwrap(), 0);
    stop.cancel();
    task.await.unwrap().unwrap();
}

#[tokio::test]
async fn delay_queue_lock_refuses_a_job_that_is_already_delayed() {
    let s = setup().await;
    let runs = Arc::new(AtomicUsize::new(0));
    let jobs = Jobs::new().with("f", counting(&runs, succeed).with_plugin(DelayQueueLock));
    let queue = with_jobs(&s, &jobs);
    queue
        .enqueue_in(60_000, "q", "f", vec![json!(1)], false)
        .await
        .unwrap();
    assert!(!queue.enqueue("q", "f", vec![json!(1)]).await.unwrap());
    assert!(queue.enqueue("q", "f", vec![json!(2)]).await.unwrap());
}

#[tokio::test]
async fn noop_turns_a_failure_into_a_success() {
    let s = setup().await;
    let runs = Arc::new(AtomicUsize::new(0));
    let jobs = Jobs::new().with("f", counting(&runs, fail).with_plugin(Noop));
    s.queue.enqueue("q", "f", vec![]).await.unwrap();
    let (stop, task, _) = s.worker(WorkerOptions::new(&["q"]), jobs);
    wait_until("counted as processed", || async {
        s.get("resque:stat:processed").await.as_deref() == Some("1")
    })
    .await;
    assert_eq!(s.queue.failed_count().await.unwrap(), 0);
    stop.cancel();
    task.await.unwrap().unwrap();
}

#[tokio::test]
async fn retry_reenqueues_with_a_ttl_in_seconds_and_fails_after_the_limit() {
    let s = setup().await;
    let runs = Arc::new(AtomicUsize::new(0));
    let retry = Retry {
        limit: 3,
        delay_ms: 5_000,
        backoff_ms: vec![0, 0],
    };
    let jobs = Jobs::new().with("f", counting(&runs, fail).with_plugin(retry));
    s.queue.enqueue("q", "f", vec![json!("a b")]).await.unwrap();
    let (stop, task, _) = s.worker(WorkerOptions::new(&["q"]), jobs);
    wait_until("first attempt delayed", || async {
        !s.queue
            .scheduled_at("q", "f", &[json!("a b")])
            .await
            .unwrap()
            .is_empty()
    })
    .await;
    // node-resque would set 5000 (seconds) here: the delay in ms read as seconds.
    let ttl: i64 = s
        .queue
        .connection()
        .ttl("resque:resque-retry:f:ab")
        .await
        .unwrap();
    assert!(ttl > 0 && ttl <= 65, "ttl {ttl}");
    let last: String = s.get("resque:failure-resque-retry:f:ab").await.unwrap();
    assert_eq!(parse(&last)["error"], "nope");
    assert_eq!(
        s.queue.failed_count().await.unwrap(),
        0,
        "a retried attempt is not in failed"
    );
    // Promote the retries by hand until the last attempt fails for good.
    wait_until("three attempts", || async {
        strategy_5::scheduler::promote_due(&s.queue).await.unwrap();
        runs.load(Ordering::SeqCst) == 3
    })
    .await;
    wait_until("in failed once", || async {
        s.queue.failed_count().await.unwrap() == 1
    })
    .await;
    assert!(!s.exists("resque:resque-retry:f:ab").await);
    assert!(!s.exists("resque:failure-resque-retry:f:ab").await);
    assert_eq!(s.get("resque:stat:failed").await.as_deref(), Some("3"));
    stop.cancel();
    task.await.unwrap().unwrap();
}

#[tokio::test]
async fn retry_fails_a_permanent_error_at_once() {
    let s = setup().await;
    let runs = Arc::new(AtomicUsize::new(0));
    let refused = counting(&runs, || {
        Err(JobError::named("SMTPError", "550 no such mailbox").permanent())
    });
    let jobs = Jobs::new().with("f", refused.with_plugin(Retry::new(5, 0)));
    s.queue.enqueue("q", "f", vec![json!("x")]).await.unwrap();
    let (stop, task, _) = s.worker(WorkerOptions::new(&["q"]), jobs);
    wait_until("in failed", || async {
        s.queue.failed_count().await.unwrap() == 1
    })
    .await;
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    assert!(s
        .queue
        .scheduled_at("q", "f", &[json!("x")])
        .await
        .unwrap()
        .is_empty());
    assert!(!s.exists("resque:resque-retry:f:x").await);
    assert_eq!(
        s.queue.failed(0, 0).await.unwrap()[0]["exception"],
        "SMTPError"
    );
    stop.cancel();
    task.await.unwrap().unwrap();
}

/// The Retry plugin's bookkeeping after a job that succeeded (deleting its attempt count)
/// meets a Redis that is down for a moment. The job ran, its mail went out: it is recorded
/// as a success once Redis is back, and nothing is parked in `failed` to be sent again.
#[tokio::test]
async fn a_success_whose_bookkeeping_meets_a_redis_restart_is_recorded_as_a_success() {
    // Kept across the restart: the bookkeeping left undone when Redis went away is still
    // there to be done when it is back.
    let mut s = setup_with(RedisOptions {
        aof: true,
        ..RedisOptions::default()
    })
    .await;
    let runs = Arc::new(AtomicUsize::new(0));
    let (sent, carry_on) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
    let job = {
        let (runs, sent, carry_on) = (runs.clone(), sent.clone(), carry_on.clone());
        JobDef::new(move |_| {
            let (runs, sent, carry_on) = (runs.clone(), sent.clone(), carry_on.clone());
            async move {
                runs.fetch_add(1, Ordering::SeqCst);
                sent.notify_one();
                // The after-perform hooks run once this returns: Redis is down by then.
                carry_on.notified().await;
                Ok(json!("sent"))
            }
        })
    };
    let jobs = Jobs::new().with("f", job.with_plugin(Retry::new(3, 0)));
    // An earlier attempt of the same job failed: a success must forget that count.
    let _: () = s
        .queue
        .connection()
        .set("resque:resque-retry:f:x", 0)
        .await
        .unwrap();
    s.queue.enqueue("q", "f", vec![json!("x")]).await.unwrap();
    let (stop, task, _) = s.worker(WorkerOptions::new(&["q"]), jobs);
    tokio::time::timeout(DEADLINE, sent.notified())
        .await
        .expect("the job runs");
    s.redis.kill();
    carry_on.notify_one();
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    s.redis.restart().unwrap();
    wait_until("the outcome recorded", || async {
        s.get("resque:stat:processed").await.is_some() || s.queue.failed_count().await.unwrap() > 0
    })
    .await;
    assert_eq!(
        s.queue.failed(0, -1).await.unwrap(),
        Vec::<serde_json::Value>::new(),
        "a job that succeeded is parked as failed"
    );
    assert_eq!(s.get("resque:stat:processed").await.as_deref(), Some("1"));
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    assert!(
        !s.exists("resque:resque-retry:f:x").await,
        "the attempt count is deleted once Redis is back"
    );
    stop.cancel();
    task.await.unwrap().unwrap();
}

/// A failure the Retry plugin takes over (another attempt is scheduled) is still a failure:
/// the worker reports it as one that a plugin took, never as a success.
#[tokio::test]
async fn a_failure_handed_to_retry_is_not_reported_as_a_success() {
    let s = setup().await;
    let runs = Arc::new(AtomicUsize::new(0));
    // The next attempt is a minute away: it does not run during the test.
    let jobs = Jobs::new().with(
        "f",
        counting(&runs, fail).with_plugin(Retry::new(3, 60_000)),
    );
    s.queue.enqueue("q", "f", vec![json!("x")]).await.unwrap();
    let (stop, task, events) = s.worker(WorkerOptions::new(&["q"]), jobs);
    let mut rx = events.subscribe();
    wait_until("the attempt handed over and recorded", || async {
        s.get("resque:stat:processed").await.is_some()
    })
    .await;
    stop.cancel();
    task.await.unwrap().unwrap();
    let mut outcomes = Vec::new();
    while let Ok(event) = rx.try_recv() {
        if let e @ (WorkerEvent::Success { .. }
        | WorkerEvent::Failure { .. }
        | WorkerEvent::FailureTakenOver { .. }) = event.event
        {
            outcomes.push(e);
        }
    }
    assert!(
        !outcomes
            .iter()
            .any(|e| matches!(e, WorkerEvent::Success { .. })),
        "reported as a success: {outcomes:?}"
    );
    assert!(
        matches!(&outcomes[..], [WorkerEvent::FailureTakenOver { plugin: "Retry", error, .. }] if error == "Error: nope"),
        "{outcomes:?}"
    );
    assert_eq!(s.queue.failed_count().await.unwrap(), 0);
}
