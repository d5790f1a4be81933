//! The worker against a real Redis: registration, outcomes in node-resque's shapes, bad
//! payloads, priority, blocking pick-up and a Redis restart; and one step at a time
//! (`work_once`), with the bytes each step leaves in Redis.

mod common;

use common::*;
use redis::AsyncCommands;
use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use strategy_5::worker::{Ended, Outcome, TakenJob, Worker, WorkerOptions};
use strategy_5::{EventSender, JobDef, JobError, Jobs, WorkerEvent};

fn options(queues: &[&str]) -> WorkerOptions {
    let mut o = WorkerOptions::new(queues);
    // Far longer than any wait below: a job is only picked up in time if the blocking pop
    // wakes up for it, not because a poll came round.
    o.block_timeout = Duration::from_secs(60);
    o
}

fn math_jobs() -> Jobs {
    Jobs::new()
        .with(
            "add",
            JobDef::new(|args| async move {
                Ok(json!(args.iter().filter_map(|a| a.as_i64()).sum::<i64>()))
            }),
        )
        .with(
            "boom",
            JobDef::new(|_| async { Err(JobError::new("kaboom")) }),
        )
}

#[tokio::test]
async fn registers_runs_and_records_like_node_resque() {
    let s = setup().await;
    let opts = options(&["math", "fail"]);
    let (name, id) = (opts.name.clone(), opts.id());
    let (stop, task, events) = s.worker(opts, math_jobs());
    let mut rx = events.subscribe();
    wait_until("registered", || async {
        s.queue.workers().await.unwrap().contains_key(&name)
    })
    .await;
    assert!(id.ends_with(":math,fail"));
    let started = s.get(&format!("resque:worker:{id}:started")).await.unwrap();
    assert!(
        strategy_5::wire::parse_date(&started).is_some(),
        "{started}"
    );
    let ping = parse(&s.get(&format!("resque:worker:ping:{name}")).await.unwrap());
    assert_eq!(ping["name"], json!(name));
    assert_eq!(ping["queues"], json!("math,fail"));

    s.queue
        .enqueue("math", "add", vec![json!(1), json!(2)])
        .await
        .unwrap();
    s.queue
        .enqueue("fail", "boom", vec![json!("x")])
        .await
        .unwrap();
    wait_until("both jobs done", || async {
        s.get("resque:stat:failed").await.is_some()
            && s.get("resque:stat:processed").await.is_some()
    })
    .await;
    assert_eq!(
        s.get(&format!("resque:stat:processed:{name}"))
            .await
            .as_deref(),
        Some("1")
    );
    assert_eq!(
        s.get(&format!("resque:stat:failed:{name}"))
            .await
            .as_deref(),
        Some("1")
    );
    let failed = s.raw_list("resque:failed").await;
    assert_eq!(failed.len(), 1);
    let entry = parse(&failed[0]);
    let keys = keys_of(&entry);
    assert_eq!(
        keys,
        [
            "worker",
            "queue",
            "payload",
            "exception",
            "error",
            "backtrace",
            "failed_at"
        ]
    );
    assert_eq!(entry["worker"], json!(id));
    assert_eq!(entry["queue"], "fail");
    assert_eq!(entry["exception"], "Error");
    assert_eq!(entry["error"], "kaboom");
    assert!(failed[0].contains(r#""payload":{"class":"boom","queue":"fail","args":["x"]}"#));
    assert!(
        !s.exists(&format!("resque:worker:{id}")).await,
        "working-on key cleared"
    );

    stop.cancel();
    task.await.unwrap().unwrap();
    // Events follow the Redis writes they report: all are in once the worker has ended.
    let mut seen = Vec::new();
    while let Ok(event) = rx.try_recv() {
        seen.push(event.event);
    }
    assert!(seen
        .iter()
        .any(|e| matches!(e, WorkerEvent::Success { result, .. } if *result == json!(3))));
    assert!(seen
        .iter()
        .any(|e| matches!(e, WorkerEvent::Failure { error, .. } if error == "Error: kaboom")));

    assert!(s.queue.workers().await.unwrap().is_empty());
    assert_eq!(s.keys("resque:worker*").await, Vec::<String>::new());
    assert!(!s.exists(&format!("resque:stat:processed:{name}")).await);
}

#[tokio::test]
async fn unknown_class_and_malformed_json_go_to_failed() {
    let s = setup().await;
    let (stop, task, _) = s.worker(options(&["q"]), math_jobs());
    let _: () = s
        .queue
        .connection()
        .rpush("resque:queue:q", "{not json")
        .await
        .unwrap();
    let _: () = s
        .queue
        .connection()
        .rpush("resque:queue:q", r#"{"args":[]}"#)
        .await
        .unwrap();
    s.queue.enqueue("q", "nope", vec![]).await.unwrap();
    s.queue.enqueue("q", "add", vec![json!(2)]).await.unwrap();
    wait_until("all four handled", || async {
        s.queue.failed_count().await.unwrap() == 3 && s.get("resque:stat:processed").await.is_some()
    })
    .await;
    let failed = s.queue.failed(0, -1).await.unwrap();
    assert_eq!(failed[0]["payload"], json!("{not json"));
    assert_eq!(failed[1]["payload"], json!({"args": []}));
    assert_eq!(
        failed[2]["error"],
        json!("No job defined for class \"nope\"")
    );
    stop.cancel();
    task.await.unwrap().unwrap();
}

#[tokio::test]
async fn queues_are_worked_in_priority_order_and_all_shapes_run() {
    let s = setup().await;
    let order = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = order.clone();
    let jobs = Jobs::new().with(
        "rec",
        JobDef::new(move |args| {
            let seen = seen.clone();
            async move {
                seen.lock()
                    .unwrap()
                    .push(args[0].as_str().unwrap().to_owned());
                Ok(json!(null))
            }
        }),
    );
    // Queued before the worker starts, so the order is the worker's choice.
    s.queue
        .enqueue("low", "rec", vec![json!("low1")])
        .await
        .unwrap();
    let _: () = s
        .queue
        .connection()
        .rpush("resque:queue:high", r#"{"class":"rec","args":["ruby"]}"#)
        .await
        .unwrap();
    let _: () = s
        .queue
        .connection()
        .rpush(
            "resque:queue:high",
            r#"{"class":"rec","args":["sched"],"queue":"high"}"#,
        )
        .await
        .unwrap();
    s.queue
        .enqueue("low", "rec", vec![json!("low2")])
        .await
        .unwrap();
    let (stop, task, _) = s.worker(options(&["high", "low"]), jobs);
    wait_until("four jobs", || async { order.lock().unwrap().len() == 4 }).await;
    assert_eq!(*order.lock().unwrap(), ["ruby", "sched", "low1", "low2"]);
    stop.cancel();
    task.await.unwrap().unwrap();
}

#[tokio::test]
async fn idle_worker_wakes_up_for_a_new_job_and_stops_while_blocked() {
    let s = setup().await;
    let runs = Arc::new(AtomicUsize::new(0));
    let jobs = Jobs::new().with("tick", counting(&runs, succeed));
    let (stop, task, events) = s.worker(options(&["a", "b"]), jobs);
    let mut rx = events.subscribe();
    // Wait until it has gone idle (blocked in BLPOP), then enqueue on the second queue.
    loop {
        let e = tokio::time::timeout(DEADLINE, rx.recv())
            .await
            .unwrap()
            .unwrap();
        if e.event == WorkerEvent::Pause {
            break;
        }
    }
    s.queue.enqueue("b", "tick", vec![]).await.unwrap();
    wait_until("job run without a 60 s poll", || async {
        runs.load(Ordering::SeqCst) == 1
    })
    .await;
    // The outcome is reported at once, not when the next 60 s wait ends.
    loop {
        let e = tokio::time::timeout(DEADLINE, rx.recv())
            .await
            .expect("success reported while idle")
            .unwrap();
        if matches!(e.event, WorkerEvent::Success { .. }) {
            break;
        }
    }
    // The working-on key is written for a job taken by the blocking pop too, then cleared.
    wait_until("working-on cleared", || async {
        s.keys("resque:worker:*:a,b").await.is_empty()
    })
    .await;
    // Stopping while blocked must not take 60 s: CLIENT UNBLOCK ends the wait.
    stop.cancel();
    tokio::time::timeout(Duration::from_secs(20), task)
        .await
        .expect("stopped while blocked")
        .unwrap()
        .unwrap();
    // No job was popped into the void by the interrupted wait.
    s.queue.enqueue("a", "tick", vec![]).await.unwrap();
    assert_eq!(s.queue.length("a").await.unwrap(), 1);
}

#[tokio::test]
async fn star_worker_finds_queues_created_later() {
    let s = setup().await;
    let runs = Arc::new(AtomicUsize::new(0));
    let jobs = Jobs::new().with("tick", counting(&runs, succeed));
    let mut opts = options(&["*"]);
    opts.block_timeout = Duration::from_millis(200);
    let id = opts.id();
    assert!(id.ends_with(":*"));
    let (stop, task, _) = s.worker(opts, jobs);
    s.queue.enqueue("brand-new", "tick", vec![]).await.unwrap();
    wait_until("job on a new queue", || async {
        runs.load(Ordering::SeqCst) == 1
    })
    .await;
    stop.cancel();
    task.await.unwrap().unwrap();
}

#[tokio::test]
async fn worker_survives_a_redis_restart() {
    let mut s = setup().await;
    let runs = Arc::new(AtomicUsize::new(0));
    let jobs = Jobs::new().with("tick", counting(&runs, succeed));
    let (stop, task, _) = s.worker(options(&["q"]), jobs);
    s.queue.enqueue("q", "tick", vec![]).await.unwrap();
    wait_until("first job", || async { runs.load(Ordering::SeqCst) == 1 }).await;
    s.redis.restart().unwrap();
    // Enqueue through the reconnecting manager until Redis takes it.
    wait_until("enqueue after restart", || async {
        s.queue.enqueue("q", "tick", vec![]).await.is_ok()
    })
    .await;
    wait_until("job after restart", || async {
        runs.load(Ordering::SeqCst) >= 2
    })
    .await;
    stop.cancel();
    task.await.unwrap().unwrap();
}

#[tokio::test]
async fn reliable_worker_puts_back_what_a_previous_run_under_its_name_left() {
    let s = setup().await;
    let mut opts = options(&["math"]);
    opts.name = "box:1".into();
    opts.reliable = true;
    // A run with the same name (a container restarted as pid 1) was killed mid-job.
    let leftover = r#"{"class":"add","queue":"math","args":[40,2]}"#;
    let _: () = s
        .queue
        .connection()
        .rpush("resque:processing:math:box:1", leftover)
        .await
        .unwrap();
    let (stop, task, events) = s.worker(opts, math_jobs());
    let mut rx = events.subscribe();
    let result = loop {
        let event = tokio::time::timeout(DEADLINE, rx.recv())
            .await
            .expect("the leftover job runs")
            .unwrap();
        if let WorkerEvent::Success { result, .. } = event.event {
            break result;
        }
    };
    assert_eq!(result, json!(42));
    stop.cancel();
    task.await.unwrap().unwrap();
    assert!(s.raw_list("resque:processing:math:box:1").await.is_empty());
    assert_eq!(s.get("resque:stat:processed").await.as_deref(), Some("1"));
}

/// A worker the test steps by hand: never `run`, so it neither registers nor pings.
fn stepped_worker(s: &Setup, options: WorkerOptions, jobs: Jobs) -> Worker {
    Worker::new(
        options,
        s.queue.clone(),
        s.client.clone(),
        Arc::new(jobs),
        EventSender::new("test"),
    )
}

#[tokio::test]
async fn work_once_runs_a_job_and_the_next_step_records_it() {
    let s = setup().await;
    let mut opts = options(&["math"]);
    // The second step finds nothing and waits this long before it answers Idle.
    opts.block_timeout = Duration::from_millis(100);
    let (name, id) = (opts.name.clone(), opts.id());
    let mut worker = stepped_worker(&s, opts, math_jobs());
    s.queue
        .enqueue("math", "add", vec![json!(1), json!(2)])
        .await
        .unwrap();
    let payload = r#"{"class":"add","queue":"math","args":[1,2]}"#;

    let Outcome::Performed(done) = worker.work_once().await.unwrap() else {
        panic!("a job was queued: the step must run it");
    };
    assert_eq!(
        done.job,
        TakenJob {
            queue: "math".into(),
            payload: payload.into()
        }
    );
    assert_eq!(done.ended, Ended::Succeeded(json!(3)));
    // Run, not yet recorded: off its queue, named by the working-on key, not counted.
    assert_eq!(s.queue.length("math").await.unwrap(), 0);
    let working = s.get(&format!("resque:worker:{id}")).await.unwrap();
    assert!(working.starts_with(r#"{"run_at":""#), "{working}");
    assert!(
        working.ends_with(&format!(
            r#"","queue":"math","worker":"{name}","payload":{payload}}}"#
        )),
        "{working}"
    );
    assert_eq!(s.get("resque:stat:processed").await, None);

    // The next step records it, finds the queue empty, and waits in vain.
    assert_eq!(worker.work_once().await.unwrap(), Outcome::Idle);
    assert_eq!(s.get("resque:stat:processed").await.as_deref(), Some("1"));
    assert_eq!(
        s.get(&format!("resque:stat:processed:{name}"))
            .await
            .as_deref(),
        Some("1")
    );
    assert_eq!(s.get("resque:stat:failed").await, None);
    assert!(
        !s.exists(&format!("resque:worker:{id}")).await,
        "working-on key cleared"
    );
}

#[tokio::test]
async fn work_once_when_stopping_records_the_failure_and_takes_nothing() {
    let s = setup().await;
    let opts = options(&["fail"]);
    let id = opts.id();
    let mut worker = stepped_worker(&s, opts, math_jobs());
    let stop = worker.stop_token();
    for arg in ["x", "y"] {
        s.queue
            .enqueue("fail", "boom", vec![json!(arg)])
            .await
            .unwrap();
    }

    let Outcome::Performed(done) = worker.work_once().await.unwrap() else {
        panic!("a job was queued: the step must run it");
    };
    assert_eq!(done.ended, Ended::Failed(JobError::new("kaboom")));
    assert!(
        s.raw_list("resque:failed").await.is_empty(),
        "a failure is written by the next step, not by the one that ran the job"
    );

    stop.cancel();
    assert_eq!(worker.work_once().await.unwrap(), Outcome::Stopped);
    let failed = s.raw_list("resque:failed").await;
    assert_eq!(failed.len(), 1);
    let expected = format!(
        r#"{{"worker":"{id}","queue":"fail","payload":{{"class":"boom","queue":"fail","args":["x"]}},"exception":"Error","error":"kaboom","backtrace":[],"failed_at":""#
    );
    assert!(failed[0].starts_with(&expected), "{}", failed[0]);
    assert_eq!(s.get("resque:stat:failed").await.as_deref(), Some("1"));
    assert_eq!(s.get("resque:stat:processed").await, None);
    // The stopping step took nothing: the second job still waits, byte for byte.
    assert_eq!(
        s.raw_list("resque:queue:fail").await,
        [r#"{"class":"boom","queue":"fail","args":["y"]}"#]
    );
}

/// A queue is a Redis list, so any client can push bytes that are not text. A worker that
/// meets one behind a failing job: the failing job is in `failed` once, the bytes once (as
/// readable text, escaped), and nothing is left in a processing list.
async fn a_payload_that_is_not_utf8_is_failed_once_after_the_failure_before_it(reliable: bool) {
    let s = setup().await;
    let mut opts = options(&["q"]);
    opts.reliable = reliable;
    s.queue
        .enqueue("q", "boom", vec![json!("x")])
        .await
        .unwrap();
    let _: () = s
        .queue
        .connection()
        .rpush("resque:queue:q", &[0xff_u8, 0xfe][..])
        .await
        .unwrap();
    s.queue.enqueue("q", "add", vec![json!(1)]).await.unwrap();
    let (stop, task, _) = s.worker(opts, math_jobs());
    wait_until("the job after the bytes recorded", || async {
        s.get("resque:stat:processed").await.is_some()
    })
    .await;
    stop.cancel();
    task.await.unwrap().unwrap();

    let failed = s.queue.failed(0, -1).await.unwrap();
    let errors: Vec<&str> = failed
        .iter()
        .map(|f| f["error"].as_str().unwrap())
        .collect();
    assert_eq!(failed.len(), 2, "{failed:#?}");
    assert_eq!(errors[0], "kaboom");
    assert_eq!(failed[1]["exception"], "SyntaxError");
    assert!(errors[1].contains("not UTF-8"), "{}", errors[1]);
    assert_eq!(failed[1]["payload"], json!(r"\xff\xfe"));
    assert_eq!(s.get("resque:stat:failed").await.as_deref(), Some("2"));
    assert_eq!(s.keys("resque:processing:*").await, Vec::<String>::new());
}

#[tokio::test]
async fn a_payload_that_is_not_utf8_is_failed_once() {
    a_payload_that_is_not_utf8_is_failed_once_after_the_failure_before_it(false).await;
}

#[tokio::test]
async fn a_payload_that_is_not_utf8_is_failed_once_with_reliable_fetch() {
    a_payload_that_is_not_utf8_is_failed_once_after_the_failure_before_it(true).await;
}

/// `failed` of the wrong type (another client's mistake) cannot take a failure. The step
/// that meets it counts nothing it could not record, reports the job it could not record
/// once, and takes the next job: the worker does not stall retrying the same write.
#[tokio::test]
async fn a_failure_that_cannot_be_recorded_is_reported_once_and_the_worker_goes_on() {
    let s = setup().await;
    let mut opts = options(&["q"]);
    opts.block_timeout = Duration::from_millis(100);
    let events = EventSender::new("test");
    let mut rx = events.subscribe();
    let mut worker = Worker::new(
        opts,
        s.queue.clone(),
        s.client.clone(),
        Arc::new(math_jobs()),
        events,
    );
    let _: () = s
        .queue
        .connection()
        .set("resque:failed", "x")
        .await
        .unwrap();
    s.queue
        .enqueue("q", "boom", vec![json!("x")])
        .await
        .unwrap();
    s.queue.enqueue("q", "add", vec![json!(1)]).await.unwrap();

    let Outcome::Performed(first) = worker.work_once().await.unwrap() else {
        panic!("boom was queued");
    };
    assert_eq!(first.ended, Ended::Failed(JobError::new("kaboom")));
    let second = worker.work_once().await;
    assert_eq!(
        s.get("resque:stat:failed").await,
        None,
        "counted a failure it could not record"
    );
    let Ok(Outcome::Performed(second)) = second else {
        panic!("the step after the unrecordable failure must take the next job: {second:?}");
    };
    assert_eq!(second.ended, Ended::Succeeded(json!(1)));
    assert_eq!(worker.work_once().await.unwrap(), Outcome::Idle);
    assert_eq!(s.get("resque:stat:processed").await.as_deref(), Some("1"));
    assert_eq!(s.get("resque:stat:failed").await, None);
    assert_eq!(s.get("resque:failed").await.as_deref(), Some("x"));

    let mut not_recorded = Vec::new();
    while let Ok(event) = rx.try_recv() {
        if let WorkerEvent::NotRecorded { job, reason, .. } = event.event {
            not_recorded.push((job, reason));
        }
    }
    assert_eq!(not_recorded.len(), 1, "{not_recorded:?}");
    assert!(not_recorded[0].0.contains(r#""class":"boom""#));
    assert!(
        not_recorded[0].1.contains("resque:failed"),
        "{}",
        not_recorded[0].1
    );
}
