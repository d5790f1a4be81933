//! The `strategy-6` binary as real child processes: web front, consumer groups, SIGKILL
//! mid-batch under both delivery modes, Redis going away, the replay role.

mod common;

use common::*;
use kit::client::HttpClient;
use kit::RedisServer;
use mailer::{Faults, Latency, Sink, SinkConfig};
use redis::AsyncCommands;
use std::collections::HashSet;
use std::time::Duration;
use strategy_6::{Backend, Log};
use testkit::{check_bad_requests, ChildProcess};

const BIN: &str = env!("CARGO_BIN_EXE_strategy-6");

fn consumer(redis: &RedisServer, sink: &Sink, extra: &[&str]) -> ChildProcess {
    let mut args = vec!["--role", "consumer"];
    args.extend_from_slice(extra);
    ChildProcess::start(
        BIN,
        args,
        &[("REDIS_URL", &redis.url()), ("SMTP_URL", &sink.url())],
    )
    .unwrap()
}

/// `emailEvent`s for `user{i}@example.com`, one per `i`, with `i` as the mail's text so
/// that deliveries can be told apart.
fn email_events(range: std::ops::Range<usize>) -> Vec<strategy_6::NewEvent> {
    range
        .map(|i| {
            let to = format!("user{i}@example.com");
            strategy_6::NewEvent::new(
                "emailEvent",
                to.clone(),
                serde_json::json!({"to": to, "subject": "s", "text": format!("{i}")}),
            )
        })
        .collect()
}

async fn ready(process: &ChildProcess) {
    assert!(
        process.wait_for_log("consumer ready", DEADLINE).await,
        "no `consumer ready`:\n{}",
        process.logs()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_becomes_an_event_that_the_mailer_group_sends_and_the_audit_group_logs() {
    let redis = RedisServer::start().unwrap();
    let sink = Sink::start_local(SinkConfig::default()).await.unwrap();
    let envs = [("REDIS_URL", redis.url()), ("SMTP_URL", sink.url())];
    let envs: Vec<(&str, &str)> = envs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let web = ChildProcess::start_http(BIN, ["--role", "web"], &envs)
        .await
        .unwrap();
    let mailer = consumer(&redis, &sink, &["--group", "mailer"]);
    let audit = consumer(&redis, &sink, &["--group", "audit"]);
    ready(&mailer).await;
    ready(&audit).await;

    let client = HttpClient::new(Duration::from_secs(5));
    let answer = client
        .get(&web.url("/ada%40example.com/Hello/World"))
        .await
        .unwrap();
    assert_eq!(answer.status, 200);
    assert_eq!(answer.json["email"]["to"], "ada@example.com");
    assert!(answer.json["event"]["partition"].is_u64());
    assert_eq!(
        answer.json["event"]["offset"], 0,
        "first event of its partition"
    );

    assert!(sink.wait_for(1, DEADLINE).await);
    assert_eq!(sink.deliveries()[0].to, "ada@example.com");
    assert!(
        audit.wait_for_log("audit: emailEvent", DEADLINE).await,
        "{}",
        audit.logs()
    );
    assert!(
        mailer
            .wait_for_log("consumer success on handler: email handler", DEADLINE)
            .await
    );

    // Bad input (the shared table) is refused at the door and never becomes an event.
    let failures = check_bad_requests(&web.url("")).await;
    assert!(failures.is_empty(), "{failures:#?}");
    let log = log_on(&redis, Backend::Lists).await;
    let mut total = 0;
    for p in log.partitions() {
        let (first, end) = log.range(p).await.unwrap();
        total += end - first;
    }
    assert_eq!(total, 1);
}

/// One line per event, in words: each fact once (not `on partition 1 partition=1`), and
/// settings as their flags spell them (`at-least-once`, not `AtLeastOnce`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_consumer_says_each_fact_once_in_the_words_of_its_flags() {
    let redis = RedisServer::start().unwrap();
    let sink = Sink::start_local(SinkConfig::default()).await.unwrap();
    let mailer = consumer(&redis, &sink, &[]);
    ready(&mailer).await;
    let log = log_on(&redis, Backend::Lists).await;
    log.publish_batch(email_events(0..1)).await.unwrap();
    for words in ["consumer success on handler", "live member(s)"] {
        assert!(
            mailer.wait_for_log(words, DEADLINE).await,
            "{}",
            mailer.logs()
        );
    }
    let logs = mailer.logs();
    let line = |words: &str| -> String {
        let found = logs.lines().find(|line| line.contains(words));
        found
            .unwrap_or_else(|| panic!("no `{words}`:\n{logs}"))
            .to_owned()
    };
    for (words, repeated) in [
        ("consumer polling partition", "partition="),
        ("consumer found event", "partition="),
        ("consumer found event", "id="),
        ("Sent an email to user0@example.com", "to="),
        ("live member(s)", "group="),
    ] {
        let line = line(words);
        assert!(
            !line.contains(repeated),
            "`{repeated}` repeats a fact of: {line}"
        );
    }
    assert!(line("consumer ready").contains("delivery at-least-once, lists backend"));
    for rust_name in ["AtLeastOnce", "AtMostOnce", "Lists", "Streams"] {
        assert!(!logs.contains(rust_name), "{logs}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_web_front_answers_503_while_redis_is_down_and_recovers() {
    let mut redis = RedisServer::start().unwrap();
    let url = redis.url();
    let web = ChildProcess::start_http(BIN, ["--role", "web"], &[("REDIS_URL", &url)])
        .await
        .unwrap();
    let client = HttpClient::new(Duration::from_secs(10));
    redis.stop();
    let answer = client
        .get(&web.url("/a%40example.com/Hi/there"))
        .await
        .unwrap();
    assert_eq!(answer.status, 503);
    assert!(answer.json["error"]
        .as_str()
        .unwrap()
        .contains("unavailable"));

    redis.restart().unwrap();
    let deadline = std::time::Instant::now() + DEADLINE;
    let mut status = 0;
    while status != 200 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
        status = client
            .get(&web.url("/a%40example.com/Hi/there"))
            .await
            .map(|a| a.status.as_u16())
            .unwrap_or(0);
    }
    assert_eq!(status, 200, "publishing works again after Redis came back");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consumer_rides_out_a_redis_restart() {
    let mut redis = RedisServer::start_with(kit::RedisOptions {
        aof: true,
        ..kit::RedisOptions::default()
    })
    .unwrap();
    let sink = Sink::start_local(SinkConfig::default()).await.unwrap();
    let mailer = consumer(&redis, &sink, &[]);
    ready(&mailer).await;
    let log = log_on(&redis, Backend::Lists).await;
    log.publish_batch(email_events(0..10)).await.unwrap();
    assert!(sink.wait_for(10, DEADLINE).await);
    // Committed too (a moment after the sink has the mail): a restart before the commit
    // would send those mails again, which at-least-once allows but this test counts.
    assert!(
        wait_until_async(|| async {
            for partition in log.partitions() {
                let positions = log.positions(partition).await.unwrap();
                if positions.iter().any(|p| p.lag != Some(0)) {
                    return false;
                }
            }
            true
        })
        .await
    );

    redis.restart().unwrap();
    let log = log_on(&redis, Backend::Lists).await;
    log.publish_batch(email_events(10..20)).await.unwrap();
    assert!(sink.wait_for(20, DEADLINE).await, "{}", mailer.logs());
    let unique: HashSet<String> = sink.deliveries().iter().map(|d| d.text.clone()).collect();
    assert_eq!(unique.len(), 20, "{}", mailer.logs());
}

/// SIGKILL a consumer while a batch is in flight (the mailer is slow), start another one.
/// Returns (events published, unique mails delivered, mails delivered in total).
async fn kill_mid_batch(backend: Backend, delivery: &str) -> (usize, usize, usize) {
    let redis = RedisServer::start().unwrap();
    // Sends of 50 to 500 ms: a batch's keys are sent concurrently, so with one fixed
    // latency a whole batch would finish in the same instant and the kill could fall
    // between two batches. Spread out, most of the batch is still in flight when the first
    // three mails arrive.
    let sink = Sink::start_local(SinkConfig {
        faults: Faults {
            latency: Latency {
                min_ms: 50,
                max_ms: 500,
            },
            ..Faults::default()
        },
        ..SinkConfig::default()
    })
    .await
    .unwrap();
    let args = [
        "--delivery",
        delivery,
        "--backend",
        backend.name(),
        "--batch-size",
        "10",
        // The second consumer waits for the killed one's leases to expire: keep it short.
        "--lease-ms",
        "1000",
    ];
    let log = log_on(&redis, backend).await;
    let published = 80;
    log.publish_batch(email_events(0..published)).await.unwrap();

    let mut first = consumer(&redis, &sink, &args);
    ready(&first).await;
    assert!(sink.wait_for(3, DEADLINE).await, "{}", first.logs());
    first.kill(); // mid-batch: each partition has most of a batch of 10 in flight

    let mut second = consumer(&redis, &sink, &args);
    ready(&second).await;
    assert!(
        wait_until_async(|| caught_up(&log, backend)).await,
        "the group never caught up:\n{}",
        second.logs()
    );
    // Let the second consumer finish what it read, then count.
    assert!(second
        .terminate(DEADLINE)
        .await
        .is_some_and(|s| s.success()));
    let deliveries = sink.deliveries();
    let unique: HashSet<String> = deliveries.iter().map(|d| d.text.clone()).collect();
    (published, unique.len(), deliveries.len())
}

/// True once the group has read everything and (at-least-once) acknowledged it.
async fn caught_up(log: &Log, backend: Backend) -> bool {
    let mut conn = log.connection();
    for p in log.partitions() {
        match backend {
            Backend::Lists => {
                let (_, end) = log.range(p).await.unwrap();
                let offset: Option<u64> = conn.hget(log.keys().offsets(p), "mailer").await.unwrap();
                if offset != Some(end) {
                    return false;
                }
            }
            Backend::Streams => {
                let groups: Vec<std::collections::HashMap<String, redis::Value>> =
                    redis::cmd("XINFO")
                        .arg("GROUPS")
                        .arg(log.keys().stream(p))
                        .query_async(&mut conn)
                        .await
                        .unwrap_or_default();
                let Some(group) = groups.first() else {
                    return false;
                };
                let int = |name: &str| match group.get(name) {
                    Some(redis::Value::Int(n)) => Some(*n),
                    _ => None,
                };
                if int("lag") != Some(0) || int("pending") != Some(0) {
                    return false;
                }
            }
        }
    }
    true
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_batch_loses_nothing_at_least_once_lists() {
    let (published, unique, _) = kill_mid_batch(Backend::Lists, "at-least-once").await;
    assert_eq!(unique, published, "every event was delivered");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_batch_loses_the_batch_at_most_once_lists() {
    let (published, unique, total) = kill_mid_batch(Backend::Lists, "at-most-once").await;
    assert!(
        unique < published,
        "the in-flight batch is lost ({unique} of {published})"
    );
    assert_eq!(total, unique, "but nothing is delivered twice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_batch_loses_nothing_at_least_once_streams() {
    let (published, unique, _) = kill_mid_batch(Backend::Streams, "at-least-once").await;
    assert_eq!(unique, published, "every event was delivered");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_batch_loses_the_batch_at_most_once_streams() {
    let (published, unique, total) = kill_mid_batch(Backend::Streams, "at-most-once").await;
    assert!(
        unique < published,
        "the in-flight batch is lost ({unique} of {published})"
    );
    assert_eq!(total, unique, "but nothing is delivered twice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_replay_role_makes_the_group_send_history_again() {
    let redis = RedisServer::start().unwrap();
    let sink = Sink::start_local(SinkConfig::default()).await.unwrap();
    let log = log_on(&redis, Backend::Lists).await;
    log.publish_batch(email_events(0..6)).await.unwrap();
    let mailer = consumer(&redis, &sink, &[]);
    ready(&mailer).await;
    assert!(sink.wait_for(6, DEADLINE).await);

    let mut replay = ChildProcess::start(
        BIN,
        ["--role", "replay", "--group", "mailer", "--to", "start"],
        &[("REDIS_URL", &redis.url())],
    )
    .unwrap();
    assert!(
        wait_until(|| replay.try_wait().is_some()).await,
        "replay did not exit"
    );
    assert!(
        replay.logs().contains("replay: group mailer partition"),
        "{}",
        replay.logs()
    );
    assert!(sink.wait_for(12, DEADLINE).await, "history sent again");

    // A bad target is a clear error, not a crash, and not a silent no-op.
    for (args, error) in [
        (vec!["--to", "yesterday"], "not `start`"),
        (
            vec!["--to", "start", "--partition", "9"],
            "there is no partition 9",
        ),
    ] {
        let mut bad = ChildProcess::start(
            BIN,
            ["--role", "replay"].into_iter().chain(args),
            &[("REDIS_URL", &redis.url())],
        )
        .unwrap();
        assert!(wait_until(|| bad.try_wait().is_some()).await);
        assert!(!bad.try_wait().unwrap().success());
        assert!(bad.logs().contains(error), "{}", bad.logs());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mailer_group_parks_what_it_cannot_send_and_never_mails_a_bad_payload() {
    let redis = RedisServer::start().unwrap();
    // Every send fails with a transient 451.
    let sink = Sink::start_local(SinkConfig {
        faults: Faults {
            failure_rate: 1.0,
            ..Faults::default()
        },
        ..SinkConfig::default()
    })
    .await
    .unwrap();
    let log = log_on(&redis, Backend::Lists).await;
    let unsendable = log
        .publish(strategy_6::NewEvent::new(
            "emailEvent",
            "a@example.com",
            serde_json::json!({"to": "a@example.com", "subject": "s", "text": "t"}),
        ))
        .await
        .unwrap();
    let bad = log
        .publish(strategy_6::NewEvent::new(
            "emailEvent",
            "b@example.com",
            serde_json::json!({"to": "b@example.com\r\nBcc: x@example.com", "subject": "s", "text": "t"}),
        ))
        .await
        .unwrap();
    let mailer = consumer(
        &redis,
        &sink,
        &["--max-attempts", "3", "--retry-base-ms", "10"],
    );
    ready(&mailer).await;
    let parked_both = || async { log.dead_letters("mailer").await.unwrap().len() == 2 };
    assert!(wait_until_async(parked_both).await, "{}", mailer.logs());
    let letters = log.dead_letters("mailer").await.unwrap();
    assert_eq!(letters.len(), 2, "{}", mailer.logs());
    let find = |id: &str| letters.iter().find(|l| l.event["id"] == id).unwrap();
    assert_eq!(find(&unsendable.id).attempts, 3, "retried, then parked");
    assert_eq!(find(&bad.id).attempts, 1, "a bad payload is parked at once");
    assert!(find(&bad.id).error.contains("invalid email"));
    assert_eq!(sink.stats().accepted, 0);
    assert_eq!(
        sink.stats().transient_failures,
        3,
        "the bad payload never reached SMTP"
    );
    // `GET /parked`, how the load harness learns what was parked, lists both mails.
    let web = ChildProcess::start_http(
        BIN,
        ["--role", "web"],
        &[("REDIS_URL", &redis.url()), ("SMTP_URL", &sink.url())],
    )
    .await
    .unwrap();
    let parked = HttpClient::new(Duration::from_secs(5))
        .get(&web.url("/parked"))
        .await
        .unwrap();
    assert_eq!(parked.status, 200, "{}", parked.json);
    assert_eq!(parked.json["count"], 2, "{}", parked.json);
    let mut recipients: Vec<&str> = parked.json["parked"]
        .as_array()
        .unwrap()
        .iter()
        .map(|email| email["to"].as_str().unwrap())
        .collect();
    recipients.sort();
    assert_eq!(
        recipients,
        ["a@example.com", "b@example.com\r\nBcc: x@example.com"]
    );
}

/// Producers and consumers must cut the log alike. The first process records the partition
/// count and the backend in Redis; one started with other values stops with an error that
/// says what to use, instead of leasing partitions nobody writes to (and leaving some of
/// the real ones unread).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_that_cuts_the_log_differently_is_refused() {
    let redis = RedisServer::start().unwrap();
    let sink = Sink::start_local(SinkConfig::default()).await.unwrap();
    let first = consumer(&redis, &sink, &[]);
    ready(&first).await;
    for other_cut in [["--partitions", "8"], ["--backend", "streams"]] {
        let mut other = consumer(&redis, &sink, &other_cut);
        assert!(
            wait_until(|| other.try_wait().is_some()).await,
            "{other_cut:?} kept running:\n{}",
            other.logs()
        );
        assert!(!other.try_wait().unwrap().success());
        assert!(
            other.logs().contains("--partitions 4 --backend lists"),
            "{}",
            other.logs()
        );
        assert!(!other.logs().contains("consumer ready"));
    }
}

/// `--role all` is one demo: if its web front cannot start, it exits with the reason
/// instead of living on as a consumer nobody can send to.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn role_all_exits_when_its_port_is_taken() {
    let redis = RedisServer::start().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let mut all =
        ChildProcess::start(BIN, ["--port", &port], &[("REDIS_URL", &redis.url())]).unwrap();
    assert!(
        wait_until(|| all.try_wait().is_some()).await,
        "kept running:\n{}",
        all.logs()
    );
    assert!(!all.try_wait().unwrap().success());
    assert!(all.logs().contains("cannot listen"), "{}", all.logs());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_a_corrupted_partition_is_reported_once_shown_in_healthz_and_flows_once_repaired() {
    a_corrupted_partition_is_reported_once_shown_in_healthz_and_flows_once_repaired(Backend::Lists)
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_a_corrupted_partition_is_reported_once_shown_in_healthz_and_flows_once_repaired() {
    a_corrupted_partition_is_reported_once_shown_in_healthz_and_flows_once_repaired(
        Backend::Streams,
    )
    .await
}

/// What the log stored, overwritten by hand: on lists, a group's offset that is not a number
/// (partition 2) and the log key as a string (partition 1); on Streams, the stream key as a
/// string (partition 1). Each stalls its own partition only. The consumer says so once (the
/// key, what it holds, what to do), the web's `/healthz` lists the partition as stuck while
/// the web goes on taking mail, and once the key is repaired the partition flows again.
async fn a_corrupted_partition_is_reported_once_shown_in_healthz_and_flows_once_repaired(
    backend: Backend,
) {
    let redis = RedisServer::start().unwrap();
    let sink = Sink::start_local(SinkConfig::default()).await.unwrap();
    let backend_args = ["--backend", backend.name()];
    let web = ChildProcess::start_http(
        BIN,
        ["--role", "web"].into_iter().chain(backend_args),
        &[("REDIS_URL", &redis.url())],
    )
    .await
    .unwrap();
    let mailer = consumer(&redis, &sink, &backend_args);
    ready(&mailer).await;
    let log = log_on(&redis, backend).await;
    let client = HttpClient::new(Duration::from_secs(5));
    let send = |partition: u32, n: usize| {
        let to = address_in(&log, partition, n);
        let url = web.url(&format!("/{}/s/t", to.replace('@', "%40")));
        let client = &client;
        async move {
            let answer = client.get(&url).await.unwrap();
            assert_eq!(answer.status, 200, "{}", answer.json);
            to
        }
    };
    // Each partition has been read once, so the consumer has its place in each.
    let mut sent = Vec::new();
    for p in log.partitions() {
        sent.push(send(p, 0).await);
    }
    assert!(sink.wait_for(4, DEADLINE).await, "{}", mailer.logs());

    let mut conn = log.connection();
    let mut stuck = vec![(1, log.keys().log(1))];
    if backend == Backend::Lists {
        let _: () = conn.set(log.keys().log(1), "x").await.unwrap();
        let _: () = conn
            .hset(log.keys().offsets(2), "mailer", "abc")
            .await
            .unwrap();
        stuck.push((2, log.keys().offsets(2)));
    } else {
        stuck[0].1 = log.keys().stream(1);
        let _: () = conn.set(log.keys().stream(1), "x").await.unwrap();
    }
    let unreadable: HashSet<u32> = stuck.iter().map(|(p, _)| *p).collect();

    // The web still takes mail for every partition it can append to; the readable ones flow.
    let healthy: Vec<u32> = log.partitions().filter(|p| *p != 1).collect::<Vec<_>>();
    for p in &healthy {
        sent.push(send(*p, 1).await);
    }
    let flowing = healthy.iter().filter(|p| !unreadable.contains(p)).count();
    assert!(
        sink.wait_for(4 + flowing, DEADLINE).await,
        "{}",
        mailer.logs()
    );

    // `/healthz`: still 200 (the web can take work), and it names what is stuck.
    let health = || async {
        let answer = client.get(&web.url("/healthz")).await.unwrap();
        assert_eq!(answer.status, 200, "{}", answer.json);
        answer.json
    };
    let listed = |json: &serde_json::Value| -> HashSet<u32> {
        json["stuck"]
            .as_array()
            .map(|all| {
                all.iter()
                    .filter(|s| s["group"] == "mailer")
                    .filter_map(|s| s["partition"].as_u64().map(|p| p as u32))
                    .collect()
            })
            .unwrap_or_default()
    };
    assert!(
        wait_until_async(|| async { listed(&health().await) == unreadable }).await,
        "{}\n{}",
        health().await,
        mailer.logs()
    );
    let json = health().await;
    for (p, key) in &stuck {
        let entry = json["stuck"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["partition"] == *p)
            .unwrap();
        assert!(
            entry["reason"].as_str().unwrap().contains(key.as_str()),
            "{json}"
        );
    }

    // Said once, loudly, with the key and what to do: not once per retry.
    tokio::time::sleep(Duration::from_secs(5)).await;
    for (p, key) in &stuck {
        let lines: Vec<String> = mailer
            .logs()
            .lines()
            .filter(|line| line.contains(key.as_str()))
            .map(str::to_owned)
            .collect();
        assert_eq!(lines.len(), 1, "{}", mailer.logs());
        assert!(
            lines[0].contains(&format!("cannot read partition {p}")),
            "{}",
            lines[0]
        );
        assert!(lines[0].contains("ERROR"), "{}", lines[0]);
        assert!(lines[0].contains("--role replay"), "{}", lines[0]);
    }

    // Repaired as the report says: the foreign key removed, the group's place set again
    // with the replay role (partition 2 from the event it had not handled yet).
    let _: () = conn.del(&stuck[0].1).await.unwrap();
    replay_partition(&redis, backend, 1, "start").await;
    if backend == Backend::Lists {
        replay_partition(&redis, backend, 2, "1").await;
    }
    sent.push(send(1, 2).await);
    assert!(
        wait_until_async(|| async { listed(&health().await).is_empty() }).await,
        "{}\n{}",
        health().await,
        mailer.logs()
    );
    let all_sent: HashSet<String> = sent.into_iter().collect();
    assert!(
        wait_until(|| {
            let delivered: HashSet<String> = sink.deliveries().into_iter().map(|d| d.to).collect();
            delivered == all_sent
        })
        .await,
        "{}",
        mailer.logs()
    );
}

/// Runs the replay role on one partition of the `mailer` group, and waits for it to succeed.
async fn replay_partition(redis: &RedisServer, backend: Backend, partition: u32, to: &str) {
    let partition = partition.to_string();
    let mut replay = ChildProcess::start(
        BIN,
        [
            "--role",
            "replay",
            "--backend",
            backend.name(),
            "--group",
            "mailer",
            "--partition",
            &partition,
            "--to",
            to,
        ],
        &[("REDIS_URL", &redis.url())],
    )
    .unwrap();
    assert!(wait_until(|| replay.try_wait().is_some()).await);
    assert!(replay.try_wait().unwrap().success(), "{}", replay.logs());
}

/// The `n`-th address (counting from 0) whose key lands in `partition`.
fn address_in(log: &Log, partition: u32, n: usize) -> String {
    (0..)
        .map(|i| format!("user{i}@example.com"))
        .filter(|to| log.partition_for(to) == partition)
        .nth(n)
        .unwrap()
}

/// Ctrl-C in a terminal sends SIGINT to the whole foreground process group. The demo
/// (`--role all`, no REDIS_URL: a private redis-server) must stop in order: the consumer
/// finishes its batch and commits, then the web stops, then the private Redis goes. Its
/// Redis sits in a process group of its own, so the Ctrl-C does not kill it under the
/// consumer's last commits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_stops_the_demo_in_order_with_nothing_left_uncommitted() {
    let mut demo = ProcessGroup::start(&["--mailer-latency-ms", "50"]);
    assert!(
        demo.wait_for_log("consumer ready", DEADLINE).await,
        "{}",
        demo.logs()
    );
    // Mail in flight when the Ctrl-C comes: 20 mails at 50 ms each, in batches.
    let client = HttpClient::new(Duration::from_secs(5));
    for i in 0..20 {
        let url = format!("http://127.0.0.1:{}/user{i}%40example.com/s/t", demo.port);
        let answer = client.get(&url).await.unwrap();
        assert_eq!(answer.status, 200, "{}", demo.logs());
    }
    assert!(
        demo.wait_for_log("Sent an email", DEADLINE).await,
        "{}",
        demo.logs()
    );
    demo.ctrl_c();
    let status = demo.wait(DEADLINE).await;
    let logs = demo.logs();
    assert!(status.is_some_and(|s| s.success()), "{status:?}\n{logs}");
    assert!(logs.contains("consumer stopped"), "{logs}");
    assert!(!logs.contains("broken pipe"), "{logs}");
    assert!(!logs.contains("could not commit"), "{logs}");
}

/// `strategy-6` as a terminal starts it: the leader of a process group of its own, which
/// [`ProcessGroup::ctrl_c`] signals as a whole, as Ctrl-C does.
struct ProcessGroup {
    child: std::process::Child,
    port: u16,
    log_path: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl ProcessGroup {
    fn start(args: &[&str]) -> ProcessGroup {
        use std::os::unix::process::CommandExt;
        let dir = tempfile::tempdir().unwrap();
        let log_path = dir.path().join("output.log");
        let log = std::fs::File::create(&log_path).unwrap();
        let port = kit::redis_server::free_port();
        let mut command = std::process::Command::new(BIN);
        command.env_clear();
        for key in ["PATH", "HOME", "TMPDIR"] {
            if let Some(value) = std::env::var_os(key) {
                command.env(key, value);
            }
        }
        let child = command
            .args(["--port", &port.to_string()])
            .args(args)
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .stdin(std::process::Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .process_group(0)
            .spawn()
            .unwrap();
        ProcessGroup {
            child,
            port,
            log_path,
            _dir: dir,
        }
    }

    fn logs(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    async fn wait_for_log(&self, needle: &str, timeout: Duration) -> bool {
        let deadline = std::time::Instant::now() + timeout;
        while !self.logs().contains(needle) {
            if std::time::Instant::now() > deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        true
    }

    /// SIGINT to every process of the group, as a terminal's Ctrl-C.
    fn ctrl_c(&self) {
        let group = format!("-{}", self.child.id());
        let status = std::process::Command::new("kill")
            .args(["-s", "INT", "--", &group])
            .status()
            .unwrap();
        assert!(status.success(), "kill -s INT -- {group}");
    }

    async fn wait(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let deadline = std::time::Instant::now() + timeout;
        while std::time::Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        None
    }
}

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
