//! The scheduler: atomic promotion of due delayed jobs, leader failover, stuck workers.

mod common;

use common::*;
use redis::AsyncCommands;
use serde_json::json;
use std::time::Duration;
use strategy_5::scheduler::{Scheduler, SchedulerOptions};
use strategy_5::EventSender;

fn scheduler(s: &Setup, name: &str) -> Scheduler {
    let options = SchedulerOptions {
        name: name.into(),
        poll_interval: Duration::from_millis(50),
        leader_lock_timeout: Duration::from_secs(2),
        stuck_worker_timeout: Some(Duration::from_secs(30)),
        retry_stuck_jobs: false,
    };
    Scheduler::new(options, s.queue.clone(), EventSender::new("test"))
}

#[tokio::test]
async fn promotes_due_jobs_byte_for_byte_and_leaves_future_ones() {
    let s = setup().await;
    let now = chrono::Utc::now().timestamp_millis();
    s.queue
        .enqueue_at(now - 5_000, "math", "add", vec![json!(1), json!(2)], false)
        .await
        .unwrap();
    s.queue
        .enqueue_at(now + 3_600_000, "math", "add", vec![json!(3)], false)
        .await
        .unwrap();
    // resque-scheduler's shape (class, args, queue) and an item that names no queue.
    let past = (now - 5_000 + 500) / 1000 - 3;
    let mut con = s.queue.connection();
    let _: () = con
        .rpush(
            format!("resque:delayed:{past}"),
            r#"{"class":"Add","args":[3,4],"queue":"math"}"#,
        )
        .await
        .unwrap();
    let _: () = con
        .rpush(
            format!("resque:delayed:{past}"),
            r#"{"class":"Lost","args":[]}"#,
        )
        .await
        .unwrap();
    let _: () = con
        .zadd("resque:delayed_queue_schedule", past, past)
        .await
        .unwrap();

    let mut leader = scheduler(&s, "h:1");
    leader.poll().await.unwrap();
    assert!(leader.is_leader());
    assert_eq!(
        s.raw_list("resque:queue:math").await,
        vec![
            r#"{"class":"Add","args":[3,4],"queue":"math"}"#,
            r#"{"class":"add","queue":"math","args":[1,2]}"#
        ]
    );
    assert_eq!(s.queue.queues().await.unwrap(), vec!["math"]);
    assert_eq!(
        s.queue.failed(0, -1).await.unwrap()[0]["error"],
        "delayed item names no queue"
    );
    // Only the future job is left, with its bookkeeping; the due ones left no keys behind.
    assert_eq!(s.queue.timestamps().await.unwrap().len(), 1);
    let schedule: Vec<String> = con
        .zrange("resque:delayed_queue_schedule", 0, -1)
        .await
        .unwrap();
    assert_eq!(schedule.len(), 1);
    assert_eq!(
        s.keys("resque:timestamps:*").await,
        vec![r#"resque:timestamps:{"class":"add","queue":"math","args":[3]}"#]
    );
}

#[tokio::test]
async fn one_leader_at_a_time_and_failover() {
    let s = setup().await;
    let (a, b) = (scheduler(&s, "host-a:1"), scheduler(&s, "host-b:2"));
    let (stop_a, stop_b) = (a.stop_token(), b.stop_token());
    let task_a = tokio::spawn(a.run());
    wait_until("a leads", || async {
        s.queue.leader().await.unwrap().as_deref() == Some("host-a:1")
    })
    .await;
    let task_b = tokio::spawn(b.run());
    // b polls many times meanwhile and never takes the lock from a live leader.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(s.queue.leader().await.unwrap().as_deref(), Some("host-a:1"));
    // A graceful stop releases the lock: b takes over on its next poll.
    stop_a.cancel();
    task_a.await.unwrap();
    wait_until("b leads", || async {
        s.queue.leader().await.unwrap().as_deref() == Some("host-b:2")
    })
    .await;
    // A crashed leader (no release) is replaced once its lock expires.
    task_b.abort();
    let _ = task_b.await;
    drop(stop_b);
    let c = scheduler(&s, "host-c:3");
    let (stop_c, task_c) = (c.stop_token(), tokio::spawn(c.run()));
    wait_until("c leads after the TTL", || async {
        s.queue.leader().await.unwrap().as_deref() == Some("host-c:3")
    })
    .await;
    // The promotion is the leader's job: a delayed job due now is moved by c.
    s.queue
        .enqueue_at(
            chrono::Utc::now().timestamp_millis() - 2000,
            "q",
            "f",
            vec![],
            false,
        )
        .await
        .unwrap();
    wait_until("promoted by the new leader", || async {
        s.queue.length("q").await.unwrap() == 1
    })
    .await;
    stop_c.cancel();
    task_c.await.unwrap();
    assert_eq!(s.queue.leader().await.unwrap(), None);
}

#[tokio::test]
async fn stuck_workers_are_cleaned_from_their_pings() {
    let s = setup().await;
    let old = chrono::Utc::now().timestamp() - 120;
    let fresh = chrono::Utc::now().timestamp();
    // From a host whose clock runs ahead: a fresh ping, not a negative age read as huge.
    let ahead = fresh + 30;
    let working = r#"{"run_at":"Fri Nov 27 2026 18:35:29 GMT+0000 (Coordinated Universal Time)","queue":"q","worker":"far:9","payload":{"class":"f","queue":"q","args":[1]}}"#;
    let _: () = redis::pipe()
        .sadd("resque:workers", "far:9:q")
        .sadd("resque:workers", "near:8:q")
        .sadd("resque:workers", "ahead:7:q")
        .set("resque:worker:far:9:q", working)
        .set("resque:worker:far:9:q:started", old)
        .set(
            "resque:worker:ping:far:9",
            format!(r#"{{"time":{old},"name":"far:9","queues":"q"}}"#),
        )
        .set(
            "resque:worker:ping:near:8",
            format!(r#"{{"time":{fresh},"name":"near:8","queues":"q"}}"#),
        )
        .set(
            "resque:worker:ping:ahead:7",
            format!(r#"{{"time":{ahead},"name":"ahead:7","queues":"q"}}"#),
        )
        .query_async(&mut s.queue.connection())
        .await
        .unwrap();
    scheduler(&s, "h:1").poll().await.unwrap();
    let workers = s.queue.workers().await.unwrap();
    assert!(!workers.contains_key("far:9"));
    assert!(workers.contains_key("near:8"));
    assert!(
        workers.contains_key("ahead:7"),
        "a ping from the future is not stuck"
    );
    let failed = s.queue.failed(0, -1).await.unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["error"], "Worker Timeout (killed manually)");
    assert_eq!(
        failed[0]["payload"],
        json!({"class":"f","queue":"q","args":[1]})
    );
    assert_eq!(s.keys("resque:worker*far:9*").await, Vec::<String>::new());
    // retry_stuck_jobs puts exactly those jobs back, byte for byte as node-resque encodes.
    let _: () = s
        .queue
        .connection()
        .rpush(
            "resque:failed",
            r#"{"queue":"q","payload":{"class":"g","args":[]},"backtrace":["other"]}"#,
        )
        .await
        .unwrap();
    assert_eq!(s.queue.retry_stuck_jobs().await.unwrap(), 1);
    assert_eq!(
        s.raw_list("resque:queue:q").await,
        vec![r#"{"class":"f","queue":"q","args":[1]}"#]
    );
    assert_eq!(
        s.queue.failed_count().await.unwrap(),
        1,
        "other failures stay"
    );
}

#[tokio::test]
async fn dead_worker_jobs_in_processing_lists_are_requeued_by_the_scheduler() {
    let s = setup().await;
    // A worker of this host whose process is gone: pid 0x7ffffffe does not exist.
    let name = format!("{}:2147483646", strategy_5::wire::hostname());
    let job = r#"{"class":"f","queue":"q","args":[7]}"#;
    let _: () = redis::pipe()
        .sadd("resque:workers", format!("{name}:q"))
        .rpush(format!("resque:processing:q:{name}"), job)
        .set(
            format!("resque:worker:{name}:q"),
            format!(r#"{{"run_at":"x","queue":"q","worker":"{name}","payload":{job}}}"#),
        )
        .query_async(&mut s.queue.connection())
        .await
        .unwrap();
    scheduler(&s, "h:1").poll().await.unwrap();
    assert_eq!(s.raw_list("resque:queue:q").await, vec![job]);
    assert_eq!(
        s.queue.failed_count().await.unwrap(),
        0,
        "requeued, so not failed"
    );
    assert!(s.queue.workers().await.unwrap().is_empty());
    assert_eq!(s.keys("resque:processing:*").await, Vec::<String>::new());
}

#[tokio::test]
async fn a_dead_leader_on_this_host_is_replaced_without_waiting_for_the_ttl() {
    let s = setup().await;
    let dead = format!("{}:2147483646", strategy_5::wire::hostname());
    let _: () = s
        .queue
        .connection()
        .set_ex("resque:resque_scheduler_leader_lock", &dead, 180)
        .await
        .unwrap();
    let mut sched = scheduler(&s, "h:1");
    sched.poll().await.unwrap();
    assert!(
        !sched.is_leader(),
        "the lock is released, taken on the next poll"
    );
    sched.poll().await.unwrap();
    assert!(sched.is_leader());
    assert_eq!(s.queue.leader().await.unwrap().as_deref(), Some("h:1"));
    // A live holder on another host keeps it.
    let _: () = s
        .queue
        .connection()
        .set_ex("resque:resque_scheduler_leader_lock", "elsewhere:1", 180)
        .await
        .unwrap();
    sched.poll().await.unwrap();
    sched.poll().await.unwrap();
    assert!(!sched.is_leader());
}
