//! Where pub/sub loses mail, each way shown happening: a killed worker's backlog, a
//! stopped worker's queue, a mail the server refused for good, and the gap while Redis is
//! away. And what it does not lose: transient failures are retried.

mod common;

use common::*;
use mailer::{Faults, Latency};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use redis::aio::MultiplexedConnection;

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

    // A new worker starts empty: Redis has nothing to give it, so the backlog stays lost.
    let _replacement = common::worker(&redis, &sink, 0).await;
    assert_eq!(publish(&web, "after-the-crash").await, 1);
    assert!(
        eventually(DEADLINE, || copies(&sink.deliveries())
            .contains_key("after-the-crash"))
        .await
    );
    // Counted only now: a mail the killed worker had just finished handing over may land
    // after the kill, and must not be mistaken for a lost one or for a late arrival.
    let settled = sink.deliveries().len();
    assert!(!sink.wait_for(settled + 1, QUIET_PERIOD).await);
    let copies = copies(&sink.deliveries());
    assert!(
        copies.values().all(|&n| n == 1),
        "nothing was delivered twice: {copies:?}"
    );
    let from_the_backlog = copies.len() - 1;
    assert!(
        from_the_backlog < accepted,
        "the backlog died with the worker: {from_the_backlog} of {accepted} delivered"
    );
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
    expect_log(&worker, "failed sending email for good, giving up").await;

    sink.set_faults(Faults {
        failure_rate: 1.0,
        ..Faults::default()
    });
    assert_eq!(publish(&web, "retried").await, 1);
    assert!(
        eventually(DEADLINE, || sink.stats().transient_failures >= 3).await,
        "the worker keeps trying"
    );
    expect_log(&worker, "failed sending email, trying again :(").await;

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
    expect_log(&worker, "lost the subscription to Redis").await;
    // With Redis down the client is told: 503, not a silent 200.
    for subject in ["while-down", "still-down"] {
        let answer = send(&web, subject).await;
        assert_eq!(answer.status, 503, "{:?}", answer.json);
        assert!(answer.json["error"].as_str().unwrap().contains("Redis"));
    }
    // Stay down until the web front's own reconnect attempts have given up (the worker's
    // retries serve as the clock): that is when a stale error could outlive the outage.
    let failed_retries = || count_lines(&worker, "cannot subscribe to Redis");
    let before = failed_retries();
    assert!(eventually(DEADLINE, || failed_retries() >= before + 2).await);

    redis
        .restart()
        .expect("redis-server starts again on the same port");
    expect_log(&worker, "worker ready (resubscribed)").await;
    expect_log(&worker, "were missed").await;

    // Redis is back, so the web front publishes again from the first request on (it must
    // not answer with the error of its last failed reconnect), and the worker hears it all.
    let after: Vec<String> = (0..3).map(|i| format!("after{i}")).collect();
    for subject in &after {
        assert_eq!(publish(&web, subject).await, 1, "{}", web.logs());
    }
    assert!(sink.wait_for(1 + after.len(), DEADLINE).await);
    assert!(!sink.wait_for(2 + after.len(), QUIET_PERIOD).await);
    let copies = copies(&sink.deliveries());
    for subject in &after {
        assert_eq!(copies.get(subject), Some(&1), "{copies:?}");
    }
    assert_eq!(copies.get("while-down"), None, "a refused mail is not sent");
    assert_eq!(copies.get("still-down"), None, "a refused mail is not sent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_published_while_the_worker_is_not_subscribed_is_lost() {
    let redis_server = redis();
    let sink = sink().await;
    let mut admin = connect(&redis_server).await;
    // The worker logs in as a user of its own, so that its right to listen can be taken
    // away while Redis stays up and the web front (the default user) keeps publishing.
    set_worker_rights(&mut admin, &["on", ">secret", "~*", "&*", "+@all"]).await;
    let worker_url = format!("redis://worker:secret@127.0.0.1:{}/", redis_server.port());
    let worker = worker_at(&worker_url, &sink, 0).await;
    let web = web(&redis_server).await;

    // Revoking the channel disconnects the subscriber and keeps it from subscribing again.
    set_worker_rights(&mut admin, &["resetchannels"]).await;
    expect_log(&worker, "lost the subscription to Redis").await;
    expect_log(&worker, "cannot subscribe to Redis").await;
    assert_eq!(
        publish(&web, "in-the-gap").await,
        0,
        "the client is told 200, and nobody heard it"
    );

    set_worker_rights(&mut admin, &["&*"]).await;
    expect_log(&worker, "worker ready (resubscribed)").await;
    assert_eq!(publish(&web, "after-the-gap").await, 1);
    assert!(sink.wait_for(1, DEADLINE).await);
    assert!(
        !sink.wait_for(2, QUIET_PERIOD).await,
        "{:?}",
        sink.deliveries()
    );
    assert_eq!(sink.deliveries()[0].subject, "after-the-gap");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_resubscribes_when_redis_drops_it() {
    let redis_server = redis();
    let sink = sink().await;
    let worker = worker(&redis_server, &sink, 0).await;
    let web = web(&redis_server).await;

    // What Redis does to a subscriber that stops reading (client-output-buffer-limit pubsub),
    // done on purpose: Redis stays up, the subscriber is cut off.
    let mut redis = connect(&redis_server).await;
    let killed: u64 = redis::cmd("CLIENT")
        .arg(&["KILL", "TYPE", "pubsub"])
        .query_async(&mut redis)
        .await
        .unwrap();
    assert_eq!(killed, 1);
    expect_log(&worker, "worker ready (resubscribed)").await;
    assert_eq!(publish(&web, "after-the-cut").await, 1);
    assert!(sink.wait_for(1, DEADLINE).await);
    assert_eq!(sink.deliveries()[0].subject, "after-the-cut");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_notices_a_redis_that_stopped_answering() {
    let redis = redis();
    let sink = sink().await;
    let worker = worker(&redis, &sink, 0).await;
    let pid = Pid::from_raw(redis.pid().expect("running") as i32);

    // A frozen Redis keeps its sockets open: nothing closes the subscription, only the
    // worker's heartbeat PING going unanswered can tell that nobody is listening any more.
    kill(pid, Signal::SIGSTOP).unwrap();
    expect_log(&worker, "no answer to PING").await;
    kill(pid, Signal::SIGCONT).unwrap();
    expect_log(&worker, "worker ready (resubscribed)").await;

    let web = web(&redis).await;
    assert_eq!(publish(&web, "after-the-freeze").await, 1);
    assert!(sink.wait_for(1, DEADLINE).await);
}

/// `ACL SETUSER worker <rules>`: what the Redis user `worker` may do.
async fn set_worker_rights(admin: &mut MultiplexedConnection, rules: &[&str]) {
    redis::cmd("ACL")
        .arg("SETUSER")
        .arg("worker")
        .arg(rules)
        .exec_async(admin)
        .await
        .unwrap();
}

/// What a worker may use with 21 mails of 60 KB in memory: it starts at about 10 MiB
/// (debug build), the mails weigh 1.3 MB, and reading a burst of them costs a few MiB more
/// for a moment. The 450 mails published below weigh 27 MB, twice that once parsed.
const MEMORY_BOUND_KIB: u64 = 35 * 1024;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_backlog_drops_new_mail_and_counts_every_drop() {
    let redis = redis();
    let sink = sink().await;
    // One mail, then a pause longer than the test: the backlog can only fill.
    let mut worker = worker_with(
        &redis.url(),
        &sink,
        &["--throttle-ms", "600000", "--max-backlog", "20"],
    )
    .await;
    let pid = Pid::from_raw(worker.pid().expect("running") as i32);
    let mut publisher = connect(&redis).await;
    let text = "x".repeat(60_000);
    let mut publish = async |from: usize, to: usize| {
        for i in from..to {
            assert_eq!(
                publish_directly(&mut publisher, &format!("m{i}"), &text).await,
                1
            );
        }
    };

    // Frozen, the worker reads nothing: Redis keeps what it publishes to it, under the
    // output buffer limit (32 MiB), and hands it all over at once when the worker thaws.
    kill(pid, Signal::SIGSTOP).unwrap();
    publish(0, 100).await;
    kill(pid, Signal::SIGCONT).unwrap();
    assert!(
        hears(&worker, 100).await,
        "the thawed worker heard every mail"
    );
    // Then mail after mail, each heard (and dropped) as it comes.
    let published = 450;
    publish(100, published).await;
    assert!(
        hears(&worker, published).await,
        "the worker heard every mail"
    );
    let rss = memory_kib(&worker, "VmRSS");
    assert!(rss < MEMORY_BOUND_KIB, "the worker holds {rss} KiB");

    let status = worker.terminate(DEADLINE).await.expect("exits on SIGTERM");
    assert!(status.success(), "{status:?}");
    let (sent, abandoned) = (
        summary_count(&worker, "sent"),
        summary_count(&worker, "abandoned"),
    );
    let dropped = summary_count(&worker, "dropped");
    // Every mail heard is sent, abandoned at shutdown, or dropped with a line of its own.
    assert_eq!(sent + abandoned + dropped, published, "{}", worker.logs());
    assert_eq!(dropped, count_lines(&worker, "backlog full"));
    assert!(
        abandoned <= 21 && dropped >= published - 21,
        "{}",
        worker.logs()
    );
    assert_eq!(sink.deliveries().len(), sent);
    eprintln!("backlog of 20: {dropped} of {published} dropped, worker at {rss} KiB");
}

/// Waits until the worker has logged `count` mails heard from Redis.
async fn hears(worker: &testkit::ChildProcess, count: usize) -> bool {
    eventually(DEADLINE, || {
        count_lines(worker, "Message from Redis!") == count
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_dropping_a_slow_subscriber_is_said_in_the_log() {
    let redis = redis();
    let sink = sink().await;
    let mut publisher = connect(&redis).await;
    // A small limit, so that a frozen subscriber overflows it soon.
    redis::cmd("CONFIG")
        .arg(&["SET", "client-output-buffer-limit", "pubsub 1mb 0 0"])
        .exec_async(&mut publisher)
        .await
        .unwrap();
    let worker = worker_with(&redis.url(), &sink, &["--throttle-ms", "0"]).await;
    let pid = Pid::from_raw(worker.pid().expect("running") as i32);

    kill(pid, Signal::SIGSTOP).unwrap();
    // Until Redis cuts the frozen subscriber off: from then on, a PUBLISH reaches nobody.
    let text = "x".repeat(60_000);
    let mut published = 0;
    while publish_directly(&mut publisher, &format!("m{published}"), &text).await == 1 {
        published += 1;
        assert!(
            published < 5000,
            "Redis never dropped the frozen subscriber"
        );
    }
    kill(pid, Signal::SIGCONT).unwrap();
    expect_log(
        &worker,
        "Redis dropped this subscriber: client-output-buffer-limit pubsub",
    )
    .await;
    expect_log(&worker, "worker ready (resubscribed)").await;
}
