//! Every Queue method against a real Redis, asserting the bytes node-resque would write.

mod common;

use common::*;
use redis::AsyncCommands;
use serde_json::json;
use std::time::Duration;
use strategy_5::QueueError;

#[tokio::test]
async fn enqueue_writes_node_resque_bytes() {
    let s = setup().await;
    assert!(s
        .queue
        .enqueue("math", "add", vec![json!(1), json!(2)])
        .await
        .unwrap());
    assert!(s
        .queue
        .enqueue(
            "emailQueue",
            "sendEmail",
            vec![json!({"to":"a@b.c","subject":"s/é","text":"t"})]
        )
        .await
        .unwrap());
    assert_eq!(
        s.raw_list("resque:queue:math").await,
        vec![r#"{"class":"add","queue":"math","args":[1,2]}"#]
    );
    assert_eq!(
        s.raw_list("resque:queue:emailQueue").await,
        vec![
            r#"{"class":"sendEmail","queue":"emailQueue","args":[{"to":"a@b.c","subject":"s/é","text":"t"}]}"#
        ]
    );
    assert_eq!(s.queue.queues().await.unwrap(), vec!["emailQueue", "math"]);
}

#[tokio::test]
async fn bulk_enqueue_keeps_order_and_bytes() {
    let s = setup().await;
    let jobs: Vec<_> = (0..500)
        .map(|i| {
            (
                if i % 2 == 0 { "a" } else { "b" }.to_string(),
                "f".to_string(),
                vec![json!(i)],
            )
        })
        .collect();
    assert_eq!(s.queue.enqueue_bulk(&jobs).await.unwrap(), 500);
    let a = s.raw_list("resque:queue:a").await;
    assert_eq!(a.len(), 250);
    assert_eq!(a[0], r#"{"class":"f","queue":"a","args":[0]}"#);
    assert_eq!(a[1], r#"{"class":"f","queue":"a","args":[2]}"#);
    assert_eq!(s.queue.length("b").await.unwrap(), 250);
    assert_eq!(s.queue.queues().await.unwrap(), vec!["a", "b"]);
}

#[tokio::test]
async fn queued_del_del_by_class_and_del_queue() {
    let s = setup().await;
    for i in 0..3 {
        s.queue.enqueue("q", "keep", vec![json!(i)]).await.unwrap();
        s.queue.enqueue("q", "drop", vec![json!(i)]).await.unwrap();
    }
    // A Ruby-shaped job of the same class: del_by_class decodes, so it goes too.
    let _: () = s
        .queue
        .connection()
        .rpush("resque:queue:q", r#"{"class":"drop","args":[9]}"#)
        .await
        .unwrap();
    let queued = s.queue.queued("q", 0, -1).await.unwrap();
    assert_eq!(queued.len(), 7);
    assert_eq!(queued[0].class, "keep");
    assert_eq!(queued[6].queue, None);
    assert_eq!(s.queue.del("q", "keep", &[json!(1)], 0).await.unwrap(), 1);
    assert_eq!(s.queue.del("q", "keep", &[json!(42)], 0).await.unwrap(), 0);
    assert_eq!(s.queue.del_by_class("q", "drop").await.unwrap(), 4);
    assert_eq!(
        s.raw_list("resque:queue:q").await,
        vec![
            r#"{"class":"keep","queue":"q","args":[0]}"#,
            r#"{"class":"keep","queue":"q","args":[2]}"#
        ]
    );
    s.queue.del_queue("q").await.unwrap();
    assert!(!s.exists("resque:queue:q").await);
    assert!(s.queue.queues().await.unwrap().is_empty());
}

#[tokio::test]
async fn stats_failed_remove_and_retry() {
    let s = setup().await;
    let mut con = s.queue.connection();
    let _: () = con.set("resque:stat:processed", 3).await.unwrap();
    let _: () = con.set("resque:stat:failed:h:1", 2).await.unwrap();
    let stats = s.queue.stats().await.unwrap();
    assert_eq!(stats["processed"], "3");
    assert_eq!(stats["failed:h:1"], "2");

    // Entries as node-resque writes them.
    let entry = |i: u32| {
        format!(
            r#"{{"worker":"h:1","queue":"q","payload":{{"class":"f","queue":"q","args":[{i}]}},"exception":"Error","error":"x","backtrace":null,"failed_at":"Fri Nov 27 2026 18:35:30 GMT+0000 (Coordinated Universal Time)"}}"#
        )
    };
    for i in 0..3 {
        let _: () = con.rpush("resque:failed", entry(i)).await.unwrap();
    }
    assert_eq!(s.queue.failed_count().await.unwrap(), 3);
    let failed = s.queue.failed(0, -1).await.unwrap();
    assert_eq!(failed[1]["payload"]["args"], json!([1]));
    assert_eq!(s.queue.remove_failed(&failed[0]).await.unwrap(), 1);
    s.queue.retry_and_remove_failed(&failed[1]).await.unwrap();
    assert!(matches!(
        s.queue.retry_and_remove_failed(&failed[1]).await,
        Err(QueueError::NotInFailedQueue)
    ));
    assert_eq!(s.raw_list("resque:failed").await, vec![entry(2)]);
    assert_eq!(
        s.raw_list("resque:queue:q").await,
        vec![r#"{"class":"f","queue":"q","args":[1]}"#]
    );
    assert!(s.queue.retry_failed_at(0).await.unwrap());
    assert!(!s.queue.retry_failed_at(0).await.unwrap());
    assert_eq!(s.queue.length("q").await.unwrap(), 2);
}

#[tokio::test]
async fn workers_working_on_and_force_clean_leave_no_keys() {
    let s = setup().await;
    let mut con = s.queue.connection();
    let payload = r#"{"class":"f","queue":"q","args":[]}"#;
    let working = format!(
        r#"{{"run_at":"Fri Nov 27 2020 18:35:29 GMT+0000 (Coordinated Universal Time)","queue":"q","worker":"h:7","payload":{payload}}}"#
    );
    let _: () = redis::pipe()
        .sadd("resque:workers", "h:7:q,r")
        .sadd("resque:workers", "h:8:q")
        .set("resque:worker:h:7:q,r", &working)
        .set("resque:worker:h:7:q,r:started", 1)
        .set("resque:worker:h:8:q:started", 1)
        .set(
            "resque:worker:ping:h:7",
            r#"{"time":1,"name":"h:7","queues":"q,r"}"#,
        )
        .set("resque:stat:processed:h:7", 1)
        .query_async(&mut con)
        .await
        .unwrap();
    let workers = s.queue.workers().await.unwrap();
    assert_eq!(workers["h:7"], "q,r");
    assert_eq!(workers["h:8"], "q");
    assert_eq!(
        s.queue.working_on("h:7", "q,r").await.unwrap().unwrap()["payload"]["args"],
        json!([])
    );
    let all = s.queue.all_working_on().await.unwrap();
    assert_eq!(all["h:8"], json!("started"));
    assert_eq!(all["h:7"]["worker"], json!("h:7"));

    // clean_old_workers: h:7's job started in 2020, h:8 is idle.
    let cleaned = s
        .queue
        .clean_old_workers(Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(cleaned.keys().collect::<Vec<_>>(), vec!["h:7"]);
    let entry = &cleaned["h:7"];
    assert_eq!(entry["exception"], "Worker Timeout (killed manually)");
    assert_eq!(entry["backtrace"][1], "queue#forceCleanWorker");
    // The payload keeps its bytes: an empty args list stays a list (node-resque writes {}).
    assert!(s.raw_list("resque:failed").await[0]
        .contains(r#""payload":{"class":"f","queue":"q","args":[]}"#));
    assert_eq!(s.keys("resque:worker:h:7*").await, Vec::<String>::new());
    assert!(!s.exists("resque:stat:processed:h:7").await);
    assert_eq!(s.get("resque:stat:failed").await.as_deref(), Some("1"));
    assert_eq!(s.queue.force_clean_worker("h:8").await.unwrap(), None);
    assert_eq!(s.keys("resque:worker*").await, Vec::<String>::new());
    assert_eq!(
        s.get("resque:stat:failed").await.as_deref(),
        Some("1"),
        "no job, no failure"
    );
    assert_eq!(s.queue.force_clean_worker("nobody:1").await.unwrap(), None);
}

#[tokio::test]
async fn locks_and_del_lock() {
    let s = setup().await;
    let mut con = s.queue.connection();
    let _: () = con.set("resque:lock:f:q:[1]", 5).await.unwrap();
    let _: () = con.set("resque:workerslock:f:q:[1]", 6).await.unwrap();
    let _: () = con.set("resque:other", 7).await.unwrap();
    let locks = s.queue.locks().await.unwrap();
    assert_eq!(locks.len(), 2);
    assert_eq!(locks["lock:f:q:[1]"], "5");
    assert_eq!(s.queue.del_lock("lock:f:q:[1]").await.unwrap(), 1);
    assert_eq!(s.queue.locks().await.unwrap().len(), 1);
}

#[tokio::test]
async fn delayed_jobs_use_resque_scheduler_keys() {
    let s = setup().await;
    let at = 1_900_000_000_400i64; // rounds down to ...000
    assert!(s
        .queue
        .enqueue_at(at, "q", "f", vec![json!(1)], false)
        .await
        .unwrap());
    let item = r#"{"class":"f","queue":"q","args":[1]}"#;
    assert_eq!(s.raw_list("resque:delayed:1900000000").await, vec![item]);
    let members: Vec<String> = s
        .queue
        .connection()
        .smembers(format!("resque:timestamps:{item}"))
        .await
        .unwrap();
    assert_eq!(members, vec!["delayed:1900000000"]);
    let score: Vec<(String, f64)> = s
        .queue
        .connection()
        .zrange_withscores("resque:delayed_queue_schedule", 0, -1)
        .await
        .unwrap();
    assert_eq!(score, vec![("1900000000".to_string(), 1_900_000_000.0)]);

    assert!(matches!(
        s.queue
            .enqueue_at(at, "q", "f", vec![json!(1)], false)
            .await,
        Err(QueueError::DuplicateDelayedJob)
    ));
    assert!(!s
        .queue
        .enqueue_at(at, "q", "f", vec![json!(1)], true)
        .await
        .unwrap());
    s.queue
        .enqueue_at(at + 5000, "q", "f", vec![json!(1)], false)
        .await
        .unwrap();
    s.queue
        .enqueue_at(at + 5000, "q", "g", vec![], false)
        .await
        .unwrap();

    assert_eq!(
        s.queue.scheduled_at("q", "f", &[json!(1)]).await.unwrap(),
        vec![1_900_000_000, 1_900_000_005]
    );
    assert_eq!(
        s.queue.timestamps().await.unwrap(),
        vec![1_900_000_000_000, 1_900_000_005_000]
    );
    let later = s.queue.delayed_at(1_900_000_005_000).await.unwrap();
    assert_eq!(
        later.iter().map(|j| j.class.as_str()).collect::<Vec<_>>(),
        vec!["f", "g"]
    );
    assert_eq!(s.queue.all_delayed().await.unwrap().len(), 2);
    assert_eq!(
        s.queue.del_delayed("q", "f", &[json!(1)]).await.unwrap(),
        vec![1_900_000_000, 1_900_000_005]
    );
    assert!(s
        .queue
        .scheduled_at("q", "f", &[json!(1)])
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        s.queue.delayed_at(1_900_000_005_000).await.unwrap().len(),
        1
    );
}
