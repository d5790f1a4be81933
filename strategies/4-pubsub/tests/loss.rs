//! Where pub/sub loses mail, each way shown happening: a killed worker's backlog, a
//! stopped worker's queue, a mail the server refused for good, and the gap while Redis is
//! away. And what it does not lose: transient failures are retried.

mod common;

use common::*;
use mailer::{Faults, Latency};
use std::collections::HashSet;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_worker_loses_its_backlog() {
    let redis = redis();
    let sink = sink().await;
    let mut worker = worker(&redis, &sink, 200).await;
    let web = web(&redis).await;

    let accepted = 20;
    for i in 0..accepted {
        assert_eq!(publish(&web, &format!("backlog{i}")).await, 1);
    }
    // One mail per 200 ms: when the first arrives, the rest wait in the worker's memory.
    assert!(sink.wait_for(1, DEADLINE).await);
    worker.kill();

    let delivered = sink.deliveries();
    assert!(
        delivered.len() < accepted,
        "the backlog died with the worker: {} of {accepted} delivered",
        delivered.len()
    );
    let unique: HashSet<_> = delivered.iter().map(|d| &d.subject).collect();
    assert_eq!(unique.len(), delivered.len(), "nothing was delivered twice");

    // A new worker starts empty: Redis has nothing to give it, so the backlog stays lost.
    let _replacement = common::worker(&redis, &sink, 0).await;
    assert_eq!(publish(&web, "after-the-crash").await, 1);
    assert!(sink.wait_for(delivered.len() + 1, DEADLINE).await);
    assert!(!sink.wait_for(delivered.len() + 2, QUIET_PERIOD).await);
    let last = sink.deliveries().pop().unwrap();
    assert_eq!(last.subject, "after-the-crash");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_finishes_the_mail_in_progress_and_counts_the_rest() {
    let redis = redis();
    // A slow server, so that a send is likely in progress when SIGTERM arrives.
    let sink = sink_with(Faults {
        latency: Latency::fixed(300),
        ..Faults::default()
    })
    .await;
    let mut worker = worker(&redis, &sink, 100).await;
    let web = web(&redis).await;

    let accepted = 10;
    for i in 0..accepted {
        assert_eq!(publish(&web, &format!("queued{i}")).await, 1);
    }
    assert!(
        eventually(DEADLINE, || count_lines(&worker, "trying to send an email")
            >= 2)
        .await,
        "{}",
        worker.logs()
    );
    let status = worker.terminate(DEADLINE).await.expect("exits on SIGTERM");
    assert!(status.success(), "{status:?}\n{}", worker.logs());

    let logs = worker.logs();
    let abandoned: usize = logs
        .split("abandoned=")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("the worker reports what it abandons:\n{logs}"));
    let delivered = sink.deliveries().len();
    assert!(
        delivered >= 2,
        "the mail in progress was finished: {delivered}"
    );
    assert!(abandoned > 0, "some mails were still queued:\n{logs}");
    // Every accepted mail is either delivered or counted as abandoned: none vanished in flight.
    assert_eq!(delivered + abandoned, accepted, "{logs}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transient_failures_are_retried_permanent_ones_given_up() {
    let redis = redis();
    let sink = sink_with(Faults {
        permanent_failure_rate: 1.0,
        ..Faults::default()
    })
    .await;
    let worker = worker(&redis, &sink, 0).await;
    let web = web(&redis).await;

    assert_eq!(publish(&web, "refused").await, 1);
    assert!(
        worker
            .wait_for_log("failed sending email for good, giving up", DEADLINE)
            .await,
        "{}",
        worker.logs()
    );

    sink.set_faults(Faults {
        failure_rate: 1.0,
        ..Faults::default()
    });
    assert_eq!(publish(&web, "retried").await, 1);
    assert!(
        eventually(DEADLINE, || sink.stats().transient_failures >= 3).await,
        "the worker keeps trying"
    );
    assert!(worker
        .logs()
        .contains("failed sending email, trying again :("));

    sink.set_faults(Faults::default());
    assert!(
        sink.wait_for(1, DEADLINE).await,
        "delivered once the server recovers"
    );
    assert!(!sink.wait_for(2, QUIET_PERIOD).await);
    assert_eq!(sink.deliveries()[0].subject, "retried");
    assert_eq!(
        sink.stats().permanent_failures,
        1,
        "a permanent failure is not retried"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_resubscribes_after_redis_restarts() {
    let mut redis = redis();
    let sink = sink().await;
    let worker = worker(&redis, &sink, 0).await;
    let web = web(&redis).await;
    assert_eq!(publish(&web, "before").await, 1);
    assert!(sink.wait_for(1, DEADLINE).await);

    redis.kill();
    assert!(
        worker
            .wait_for_log("lost the subscription to Redis", DEADLINE)
            .await,
        "{}",
        worker.logs()
    );
    // With Redis down the client is told: 503, not a silent 200.
    let answer = send(&web, "while-down").await;
    assert_eq!(answer.status, 503, "{:?}", answer.json);
    assert!(answer.json["error"].as_str().unwrap().contains("Redis"));

    redis
        .restart()
        .expect("redis-server starts again on the same port");
    assert!(
        worker
            .wait_for_log("worker ready (resubscribed)", DEADLINE)
            .await,
        "{}",
        worker.logs()
    );
    assert!(worker.logs().contains("were missed"));

    // The web role reconnects on its own; a request that races it gets a 503.
    let mut reached = Vec::new();
    let mut unheard = Vec::new();
    let mut i = 0;
    let deadline = std::time::Instant::now() + DEADLINE;
    while reached.len() < 3 {
        let subject = format!("after{i}");
        i += 1;
        let answer = send(&web, &subject).await;
        match (answer.status.as_u16(), answer.json["receivers"].as_u64()) {
            (200, Some(0)) => unheard.push(subject),
            (200, Some(_)) => reached.push(subject),
            (503, _) => assert!(
                std::time::Instant::now() < deadline,
                "the web role never reconnected:\n{}",
                web.logs()
            ),
            other => panic!("unexpected answer {other:?}: {:?}", answer.json),
        }
    }
    assert!(sink.wait_for(1 + reached.len(), DEADLINE).await);
    assert!(!sink.wait_for(2 + reached.len(), QUIET_PERIOD).await);
    let copies = copies(&sink.deliveries());
    for subject in &reached {
        assert_eq!(
            copies.get(subject),
            Some(&1),
            "{subject} was heard, so it arrives"
        );
    }
    for subject in &unheard {
        assert_eq!(
            copies.get(subject),
            None,
            "{subject} reached nobody, so it never arrives"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_resubscribes_when_redis_drops_it() {
    let redis_server = redis();
    let sink = sink().await;
    let worker = worker(&redis_server, &sink, 0).await;
    let web = web(&redis_server).await;

    // What Redis does to a subscriber that stops reading (client-output-buffer-limit pubsub),
    // done on purpose: Redis stays up, the subscriber is cut off.
    let client = redis::Client::open(redis_server.url()).unwrap();
    let mut redis = client.get_multiplexed_async_connection().await.unwrap();
    let killed: u64 = redis::cmd("CLIENT")
        .arg(&["KILL", "TYPE", "pubsub"])
        .query_async(&mut redis)
        .await
        .unwrap();
    assert_eq!(killed, 1);
    assert!(
        worker
            .wait_for_log("worker ready (resubscribed)", DEADLINE)
            .await,
        "{}",
        worker.logs()
    );
    assert_eq!(publish(&web, "after-the-cut").await, 1);
    assert!(sink.wait_for(1, DEADLINE).await);
    assert_eq!(sink.deliveries()[0].subject, "after-the-cut");
}
