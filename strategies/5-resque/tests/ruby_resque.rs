//! What Ruby Resque and resque-web read of our workers and scheduler, written beside what
//! node-resque reads: a worker's `started` as Ruby's `Time#to_s`, its `workers:heartbeat`
//! entry, its counters under the full worker id, its failures linked to that id with a
//! backtrace array; and resque-scheduler's leader lock held with node-resque's.

mod common;

use common::*;
use redis::AsyncCommands;
use serde_json::{json, Value};
use std::time::Duration;
use strategy_5::scheduler::{Scheduler, SchedulerOptions};
use strategy_5::worker::WorkerOptions;
use strategy_5::{EventSender, JobDef, JobError, Jobs};

const RUBY_LOCK: &str = "resque:resque:resque_scheduler_master_lock";
const NODE_LOCK: &str = "resque:resque_scheduler_leader_lock";

fn jobs() -> Jobs {
    Jobs::new()
        .with("add", JobDef::new(|_| async { Ok(json!(3)) }))
        .with(
            "boom",
            JobDef::new(|_| async { Err(JobError::new("kaboom")) }),
        )
}

/// How far `text` (in the format given) is from now, in seconds.
fn age_seconds(text: &str, format: &str) -> i64 {
    let at = chrono::DateTime::parse_from_str(text, format)
        .unwrap_or_else(|e| panic!("{text:?} is not {format}: {e}"));
    (chrono::Utc::now().timestamp() - at.timestamp()).abs()
}

#[tokio::test]
async fn a_worker_shows_its_start_heartbeat_counts_and_failures_to_ruby_resque() {
    let s = setup().await;
    let mut options = WorkerOptions::new(&["math", "fail"]);
    options.ping_interval = Duration::from_millis(200);
    let (name, id) = (options.name.clone(), options.id());
    let (stop, task, _) = s.worker(options, jobs());
    wait_until("registered", || async {
        s.queue.workers().await.unwrap().contains_key(&name)
    })
    .await;

    // resque-web's "started" and "heartbeat" columns parse these with Time.parse.
    let started = s.get(&format!("resque:worker:{id}:started")).await.unwrap();
    assert!(
        age_seconds(&started, "%Y-%m-%d %H:%M:%S %z") < 60,
        "{started}"
    );
    let heartbeat: Option<String> = s
        .queue
        .connection()
        .hget("resque:workers:heartbeat", &id)
        .await
        .unwrap();
    let heartbeat = heartbeat.expect("a heartbeat entry under the worker id");
    assert!(
        age_seconds(&heartbeat, "%Y-%m-%dT%H:%M:%S%:z") < 60,
        "{heartbeat}"
    );

    s.queue.enqueue("math", "add", vec![]).await.unwrap();
    s.queue
        .enqueue("fail", "boom", vec![json!("x")])
        .await
        .unwrap();
    wait_until("both jobs recorded", || async {
        s.get("resque:stat:failed").await.is_some()
            && s.get("resque:stat:processed").await.is_some()
    })
    .await;
    // Each count under both names: node-resque's `stat:S:NAME`, Ruby's `stat:S:NAME:QUEUES`.
    for key in [name.as_str(), id.as_str()] {
        for stat in ["processed", "failed"] {
            assert_eq!(
                s.get(&format!("resque:stat:{stat}:{key}")).await.as_deref(),
                Some("1"),
                "stat:{stat}:{key}"
            );
        }
    }
    // The failure names a worker resque-web finds in `workers`, and its backtrace is an
    // array (resque-web joins its lines).
    let failed = s.raw_list("resque:failed").await;
    let entry: Value = serde_json::from_str(&failed[0]).unwrap();
    assert_eq!(entry["worker"], json!(id));
    let registered: Vec<String> = s
        .queue
        .connection()
        .smembers("resque:workers")
        .await
        .unwrap();
    assert!(registered.contains(&id), "{registered:?}");
    assert!(entry["backtrace"].is_array(), "{entry}");

    // The heartbeat is refreshed while the worker lives.
    let first = heartbeat;
    wait_until("a newer heartbeat", || async {
        let now: Option<String> = s
            .queue
            .connection()
            .hget("resque:workers:heartbeat", &id)
            .await
            .unwrap();
        now.is_some_and(|now| now > first)
    })
    .await;

    stop.cancel();
    task.await.unwrap().unwrap();
    let left: Option<String> = s
        .queue
        .connection()
        .hget("resque:workers:heartbeat", &id)
        .await
        .unwrap();
    assert_eq!(left, None, "unregistering removes the heartbeat");
    assert_eq!(s.keys("resque:stat:*:*").await, Vec::<String>::new());
}

#[tokio::test]
async fn the_scheduler_and_resque_scheduler_never_lead_together() {
    let s = setup().await;
    let options = SchedulerOptions {
        name: "h:1".into(),
        poll_interval: Duration::from_millis(50),
        leader_lock_timeout: Duration::from_secs(30),
        stuck_worker_timeout: None,
        retry_stuck_jobs: false,
    };
    let mut ours = Scheduler::new(options, s.queue.clone(), EventSender::new("test"));
    // A Ruby scheduler leads (resque-scheduler's value is `hostname:pid`).
    let _: () = s
        .queue
        .connection()
        .set_ex(RUBY_LOCK, "rubyhost:77", 180)
        .await
        .unwrap();
    ours.poll().await.unwrap();
    assert!(!ours.is_leader());
    assert_eq!(s.get(NODE_LOCK).await, None, "ours took no lock at all");

    // It is gone: ours takes both locks, so neither a Ruby nor a node scheduler can lead.
    let _: () = s.queue.connection().del(RUBY_LOCK).await.unwrap();
    ours.poll().await.unwrap();
    assert!(ours.is_leader());
    for key in [NODE_LOCK, RUBY_LOCK] {
        assert_eq!(s.get(key).await.as_deref(), Some("h:1"), "{key}");
        let ttl: i64 = s.queue.connection().ttl(key).await.unwrap();
        assert!(ttl > 0 && ttl <= 30, "{key} ttl {ttl}");
    }
    // resque-scheduler takes its lock with SET NX: it cannot while ours holds it.
    let taken: Option<String> = redis::cmd("SET")
        .arg(RUBY_LOCK)
        .arg("rubyhost:77")
        .arg("NX")
        .arg("EX")
        .arg(180)
        .query_async(&mut s.queue.connection())
        .await
        .unwrap();
    assert_eq!(taken, None);

    // Stopping releases both.
    strategy_5::scheduler::leader::release(&s.queue, "h:1")
        .await
        .unwrap();
    assert_eq!(s.get(NODE_LOCK).await, None);
    assert_eq!(s.get(RUBY_LOCK).await, None);
}
