//! The log's promises, each proven against a real Redis, on both backends.

mod common;

use common::*;
use kit::RedisServer;
use redis::AsyncCommands;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;
use strategy_6::{Backend, Delivery, LogError, NewEvent, Position, ReplayTarget};

on_both_backends!(
    events_of_a_partition_are_handled_in_publish_order,
    keys_of_a_partition_are_handled_concurrently_each_key_in_order,
    every_group_sees_every_event,
    two_members_of_a_group_split_the_partitions_without_duplicates,
    an_event_published_after_the_consumer_went_idle_is_not_skipped,
    replay_redelivers_history,
    a_failing_event_is_dead_lettered_after_max_attempts_and_the_rest_flows,
    retention_drops_old_events_and_keeps_positions_valid,
    a_batch_larger_than_one_call_is_appended_whole_and_in_order,
    retention_by_time_drops_exactly_what_was_published_before_the_cutoff,
    an_entry_that_is_not_utf8_is_parked_and_its_batch_flows_at_least_once,
    an_entry_that_is_not_utf8_is_parked_and_its_batch_flows_at_most_once,
);

async fn events_of_a_partition_are_handled_in_publish_order(backend: Backend) {
    let redis = RedisServer::start().unwrap();
    let log = log_on(&redis, backend).await;
    let appended = log.publish_batch(events(200, 7)).await.unwrap();

    // Positions grow in publish order within each partition.
    let mut last: HashMap<u32, Position> = HashMap::new();
    for a in &appended {
        if let Some(previous) = last.insert(a.partition, a.position.clone()) {
            assert!(previous < a.position, "{previous} then {}", a.position);
        }
    }

    let recorder = Recorder::new();
    let consumer = start(&log, config("mailer"), recorder.clone()).await;
    assert!(
        wait_until(|| recorder.count() == 200).await,
        "handled {}",
        recorder.count()
    );
    consumer.stop().await;

    // Per key (so per partition), the handler saw the events in the order they were sent.
    assert_each_key_in_order(&recorder);
}

/// A busy partition sends more than one mail at a time: its batch is one chain per key, the
/// chains at the same time, so more events are in the handler at once than there are
/// partitions (one at a time per partition would cap it at 4). Never two of one key, and
/// each key's events in publish order.
async fn keys_of_a_partition_are_handled_concurrently_each_key_in_order(backend: Backend) {
    let redis = RedisServer::start().unwrap();
    let log = log_on(&redis, backend).await;
    // Published before the consumer starts: every read finds a full batch.
    log.publish_batch(events(120, 24)).await.unwrap();
    let recorder = Arc::new(Recorder {
        delay: Some(Duration::from_millis(20)),
        ..Recorder::default()
    });
    let consumer = start(&log, config("mailer"), recorder.clone()).await;
    assert!(
        wait_until(|| recorder.count() == 120).await,
        "handled {}",
        recorder.count()
    );
    consumer.stop().await;

    let partitions = log.config().partitions as usize;
    let most = *recorder.most_in_flight.lock().unwrap();
    assert!(
        most > partitions,
        "at most {most} events in the handler at once"
    );
    assert_eq!(
        *recorder.overlapping_keys.lock().unwrap(),
        Vec::<String>::new()
    );
    assert_each_key_in_order(&recorder);
}

/// Each key's events reached the handler in publish order (`payload.seq` grows).
fn assert_each_key_in_order(recorder: &Recorder) {
    let mut seq_by_key: HashMap<String, Vec<u64>> = HashMap::new();
    for event in recorder.seen.lock().unwrap().iter() {
        seq_by_key
            .entry(event.key.clone())
            .or_default()
            .push(event.payload["seq"].as_u64().unwrap());
    }
    for (key, seqs) in seq_by_key {
        assert!(seqs.is_sorted(), "key {key} out of order: {seqs:?}");
    }
}

async fn every_group_sees_every_event(backend: Backend) {
    let redis = RedisServer::start().unwrap();
    let log = log_on(&redis, backend).await;
    log.publish_batch(events(50, 10)).await.unwrap();
    let (mailer, audit) = (Recorder::new(), Recorder::new());
    let a = start(&log, config("mailer"), mailer.clone()).await;
    let b = start(&log, config("audit"), audit.clone()).await;
    // Some events arrive while both groups are running, too.
    log.publish_batch(events(50, 10)).await.unwrap();
    assert!(wait_until(|| mailer.count() == 100 && audit.count() == 100).await);
    let mut ids_a = mailer.ids();
    let mut ids_b = audit.ids();
    ids_a.sort();
    ids_b.sort();
    assert_eq!(ids_a, ids_b, "both groups handled the same events");
    a.stop().await;
    b.stop().await;
}

async fn two_members_of_a_group_split_the_partitions_without_duplicates(backend: Backend) {
    let redis = RedisServer::start().unwrap();
    let log = log_on(&redis, backend).await;
    let (one, two) = (Recorder::new(), Recorder::new());
    let a = start(&log, config("mailer"), one.clone()).await;
    let b = start(&log, config("mailer"), two.clone()).await;
    // Steady state: the group has balanced to two partitions each.
    assert!(
        wait_until(|| a.held() == 2 && b.held() == 2).await,
        "held {} and {}",
        a.held(),
        b.held()
    );

    log.publish_batch(events(400, 40)).await.unwrap();
    assert!(wait_until(|| one.count() + two.count() >= 400).await);
    tokio::time::sleep(Duration::from_millis(200)).await; // let any duplicate show up
    let all: Vec<String> = one.ids().into_iter().chain(two.ids()).collect();
    let unique: HashSet<&String> = all.iter().collect();
    assert_eq!(all.len(), 400, "no event handled twice");
    assert_eq!(unique.len(), 400);
    assert!(one.count() > 0 && two.count() > 0, "both members worked");
    a.stop().await;
    b.stop().await;
}

/// The original moved its cursor on even when a read found nothing, and left a drained time
/// bucket for good, so an event written "late" was never read. Here positions are assigned
/// by Redis at append time and an empty read moves nothing.
async fn an_event_published_after_the_consumer_went_idle_is_not_skipped(backend: Backend) {
    let redis = RedisServer::start().unwrap();
    let log = log_on(&redis, backend).await;
    // A producer that connected long ago (its clock, if it had one, would say "earlier").
    let late_producer = log_on(&redis, backend).await;
    log.publish_batch(events(8, 1)).await.unwrap();
    let recorder = Recorder::new();
    let consumer = start(&log, config("mailer"), recorder.clone()).await;
    assert!(wait_until(|| recorder.count() == 8).await);
    // Several idle rounds: empty reads, blocked waits.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let late = late_producer
        .publish(NewEvent::new(
            "emailEvent",
            "user0@example.com",
            serde_json::json!({"seq": 8}),
        ))
        .await
        .unwrap();
    assert!(
        wait_until(|| recorder.ids().contains(&late.id)).await,
        "the late event was skipped"
    );
    assert_eq!(recorder.count(), 9);
    consumer.stop().await;
}

async fn replay_redelivers_history(backend: Backend) {
    let redis = RedisServer::start().unwrap();
    let log = log_on(&redis, backend).await;
    let first = log.publish_batch(events(10, 1)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await; // a later millisecond for the second half
    let second = log.publish_batch(events(10, 1)).await.unwrap();
    let recorder = Recorder::new();
    let consumer = start(&log, config("mailer"), recorder.clone()).await;
    assert!(wait_until(|| recorder.count() == 20).await);

    // From the start: everything again.
    log.replay("mailer", &ReplayTarget::Start, None)
        .await
        .unwrap();
    assert!(
        wait_until(|| recorder.count() == 40).await,
        "handled {}",
        recorder.count()
    );

    // From a time: the second half again.
    log.replay("mailer", &ReplayTarget::Time(second[0].published_at), None)
        .await
        .unwrap();
    assert!(
        wait_until(|| recorder.count() == 50).await,
        "handled {}",
        recorder.count()
    );

    // From a position: the last three again.
    let p = second[7].partition;
    let moved = log
        .replay(
            "mailer",
            &ReplayTarget::Position(second[7].position.clone()),
            Some(p),
        )
        .await
        .unwrap();
    assert_eq!(moved.len(), 1);
    assert_eq!(moved[0].now, second[7].position, "the next event it reads");
    assert!(
        wait_until(|| recorder.count() == 53).await,
        "handled {}",
        recorder.count()
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(recorder.count(), 53);
    consumer.stop().await;

    let ids = recorder.ids();
    let count = |id: &String| ids.iter().filter(|i| *i == id).count();
    assert_eq!(count(&first[0].id), 2);
    assert_eq!(count(&second[0].id), 3);
    assert_eq!(count(&second[9].id), 4);
}

async fn a_failing_event_is_dead_lettered_after_max_attempts_and_the_rest_flows(backend: Backend) {
    let redis = RedisServer::start().unwrap();
    let log = log_on(&redis, backend).await;
    let recorder = Recorder::new();
    recorder.fail_key("poison@example.com");
    let poison = log
        .publish(NewEvent::new(
            "emailEvent",
            "poison@example.com",
            serde_json::json!({}),
        ))
        .await
        .unwrap();
    let partition = poison.partition;
    // Behind it in the same partition: events that must not be held up forever.
    let mut behind = Vec::new();
    for i in 0.. {
        let key = format!("user{i}@example.com");
        if log.partition_for(&key) == partition {
            behind.push(NewEvent::new(
                "emailEvent",
                key,
                serde_json::json!({ "seq": i }),
            ));
            if behind.len() == 5 {
                break;
            }
        }
    }
    log.publish_batch(behind).await.unwrap();

    let consumer = start(
        &log,
        strategy_6::ConsumerConfig {
            max_attempts: 3,
            ..config("mailer")
        },
        recorder.clone(),
    )
    .await;
    // The events behind it are of other keys: they are handled while it is retried, and it
    // is parked once its attempts are spent.
    assert!(wait_until(|| recorder.count() == 5).await);
    assert!(
        wait_until_async(|| async { !log.dead_letters("mailer").await.unwrap().is_empty() }).await
    );
    let letters = log.dead_letters("mailer").await.unwrap();
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0].attempts, 3);
    assert_eq!(letters[0].position, poison.position);
    assert_eq!(letters[0].event["id"], poison.id.as_str());
    let tries = recorder
        .attempts
        .lock()
        .unwrap()
        .iter()
        .filter(|id| **id == poison.id)
        .count();
    assert_eq!(tries, 3, "three attempts, then parked");
    consumer.stop().await;

    // The group moved past it: a new member of the group does not see it again.
    let again = Recorder::new();
    let consumer = start(&log, config("mailer"), again.clone()).await;
    log.publish(NewEvent::new(
        "emailEvent",
        "after@example.com",
        serde_json::json!({}),
    ))
    .await
    .unwrap();
    assert!(wait_until(|| again.count() == 1).await);
    assert!(!again.attempts.lock().unwrap().contains(&poison.id));
    consumer.stop().await;
}

async fn retention_drops_old_events_and_keeps_positions_valid(backend: Backend) {
    let redis = RedisServer::start().unwrap();
    let log = log_on(&redis, backend).await;
    let old = log.publish_batch(events(10, 1)).await.unwrap();
    let partition = old[0].partition;
    // The group has read the first four.
    let recorder = Recorder::new();
    let mut consumer_config = config("mailer");
    consumer_config.batch_size = 4;
    let mut cursor = log
        .cursor(
            "mailer",
            partition,
            &consumer_config.member,
            Delivery::AtLeastOnce,
        )
        .await
        .unwrap();
    let lease = strategy_6::lease::Lease::acquire(
        &log.connection(),
        log.keys(),
        "mailer",
        partition,
        &consumer_config.member,
        Duration::from_secs(5),
    )
    .await
    .unwrap()
    .expect("the lease is free");
    let batch = cursor.next_batch(4, Duration::ZERO).await.unwrap();
    assert_eq!(batch.len(), 4);
    assert!(cursor.commit(&batch).await.unwrap());
    lease.release().await;
    drop(cursor);

    // Keep only the newest three of the ten.
    let dropped = log.trim(0, 3).await.unwrap();
    assert_eq!(dropped, 7);
    let newer = log.publish_batch(events(2, 1)).await.unwrap();
    if backend == Backend::Lists {
        // Offsets keep counting from where they were: nothing is renumbered.
        assert_eq!(newer[0].position, Position::Offset(10));
        assert_eq!(log.range(partition).await.unwrap(), (7, 12));
    } else {
        assert!(newer[0].position > old[9].position);
        assert_eq!(log.range(partition).await.unwrap(), (0, 5));
    }

    // The group resumes at the oldest retained event (it missed 4..6, which were trimmed).
    let consumer = start(&log, consumer_config, recorder.clone()).await;
    assert!(
        wait_until(|| recorder.count() == 5).await,
        "handled {}",
        recorder.count()
    );
    let expected: Vec<String> = old[7..]
        .iter()
        .chain(&newer)
        .map(|a| a.id.clone())
        .collect();
    assert_eq!(recorder.ids(), expected);
    consumer.stop().await;
}

async fn a_batch_larger_than_one_call_is_appended_whole_and_in_order(backend: Backend) {
    let redis = RedisServer::start().unwrap();
    let log = log_on(&redis, backend).await;
    let appended = log.publish_batch(events(2500, 1)).await.unwrap();
    assert_eq!(appended.len(), 2500);
    assert!(appended.windows(2).all(|w| w[0].position < w[1].position));
    if backend == Backend::Lists {
        assert_eq!(appended[2499].position, Position::Offset(2499));
    }
    assert_eq!(log.range(appended[0].partition).await.unwrap().1, 2500);
}

/// Redis keeps every member that ever read a partition stream as a consumer of the group;
/// a member that takes a partition over deletes the previous ones once nothing of theirs
/// is pending, so restarted members do not pile up in `XINFO CONSUMERS`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_a_new_holder_deletes_the_consumers_before_it() {
    let redis = RedisServer::start().unwrap();
    let log = log_on(&redis, Backend::Streams).await;
    let mut last_member = String::new();
    for _restart in 0..3 {
        log.publish_batch(events(20, 5)).await.unwrap();
        let recorder = Recorder::new();
        let consumer = start(&log, config("mailer"), recorder.clone()).await;
        assert!(wait_until(|| recorder.count() == 20).await);
        last_member = consumer.member().to_string();
        consumer.stop().await;
    }
    let mut conn = log.connection();
    for p in log.partitions() {
        let consumers: Vec<HashMap<String, redis::Value>> = redis::cmd("XINFO")
            .arg("CONSUMERS")
            .arg(log.keys().stream(p))
            .arg("mailer")
            .query_async(&mut conn)
            .await
            .unwrap_or_default();
        let names: Vec<String> = consumers
            .iter()
            .filter_map(|c| match c.get("name") {
                Some(redis::Value::BulkString(name)) => Some(String::from_utf8_lossy(name).into()),
                _ => None,
            })
            .collect();
        assert!(
            names.iter().all(|name| *name == last_member),
            "partition {p}: {names:?}, expected only {last_member}"
        );
    }
}

async fn retention_by_time_drops_exactly_what_was_published_before_the_cutoff(backend: Backend) {
    let redis = RedisServer::start().unwrap();
    let log = log_on(&redis, backend).await;
    let old = log.publish_batch(events(7, 1)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await; // a later millisecond for the rest
    let new = log.publish_batch(events(5, 1)).await.unwrap();
    let partition = old[0].partition;

    let dropped = log.trim(new[0].published_at, 0).await.unwrap();
    assert_eq!(dropped, 7, "the events before the cutoff, and only those");
    let (first, end) = log.range(partition).await.unwrap();
    assert_eq!(end - first, 5);
    if backend == Backend::Lists {
        assert_eq!((first, end), (7, 12), "offsets keep their meaning");
    }
}

/// The race between a lease running out and a commit: a member that was paused past its
/// lease (here: its renewals stopped) and lost the partition to another member can neither
/// read nor commit any more, so it cannot move the offset under the new owner, who reads
/// the uncommitted batch again. (List backend: on Streams, XACK is not fenced.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_a_member_that_lost_its_lease_can_neither_read_nor_commit() {
    let redis = RedisServer::start().unwrap();
    let log = log_on(&redis, Backend::Lists).await;
    let published = log.publish_batch(events(6, 1)).await.unwrap();
    let partition = published[0].partition;
    let take = |member: &'static str, ttl: Duration| {
        let log = log.clone();
        async move {
            strategy_6::lease::Lease::acquire(
                &log.connection(),
                log.keys(),
                "mailer",
                partition,
                member,
                ttl,
            )
            .await
            .unwrap()
        }
    };

    let paused = take("paused", Duration::from_millis(500)).await.unwrap();
    let mut stale = log
        .cursor("mailer", partition, "paused", Delivery::AtLeastOnce)
        .await
        .unwrap();
    let batch = stale.next_batch(4, Duration::ZERO).await.unwrap();
    assert_eq!(batch.len(), 4);
    drop(paused); // stops renewing, as a paused process would

    // Another member takes the partition once the lease has run out.
    let lease_key = log.keys().lease(partition, "mailer");
    let expired = || {
        let (mut conn, key) = (log.connection(), lease_key.clone());
        async move { !conn.exists::<_, bool>(key).await.unwrap() }
    };
    assert!(wait_until_async(expired).await, "the lease never ran out");
    let _new_lease = take("new", Duration::from_secs(30)).await.unwrap();
    let mut owner = log
        .cursor("mailer", partition, "new", Delivery::AtLeastOnce)
        .await
        .unwrap();

    let commit = stale.commit(&batch).await;
    assert!(matches!(commit, Err(LogError::LeaseLost(_))), "{commit:?}");
    let read = stale.next_batch(4, Duration::ZERO).await;
    assert!(matches!(read, Err(LogError::LeaseLost(_))), "{read:?}");
    let again = owner.next_batch(10, Duration::ZERO).await.unwrap();
    let ids: Vec<_> = again
        .iter()
        .map(|r| r.event.as_ref().unwrap().id.clone())
        .collect();
    let all: Vec<_> = published.iter().map(|a| a.id.clone()).collect();
    assert_eq!(
        ids, all,
        "the new owner starts where the last commit left off"
    );
}

async fn an_entry_that_is_not_utf8_is_parked_and_its_batch_flows_at_least_once(backend: Backend) {
    let entry: &[&[u8]] = &[b"event", b"\xff\xfe"];
    not_an_event_is_parked_and_its_batch_flows(backend, Delivery::AtLeastOnce, entry, "\\xff\\xfe")
        .await
}

async fn an_entry_that_is_not_utf8_is_parked_and_its_batch_flows_at_most_once(backend: Backend) {
    let entry: &[&[u8]] = &[b"event", b"\xff\xfe"];
    not_an_event_is_parked_and_its_batch_flows(backend, Delivery::AtMostOnce, entry, "\\xff\\xfe")
        .await
}

/// A Streams entry is fields and values, and any of them can be bytes: one whose field name
/// is not UTF-8 (and so has no `event` field) is parked whole, not a reply nobody can read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_an_entry_whose_field_name_is_not_utf8_is_parked_whole() {
    let entry: &[&[u8]] = &[b"\xff\xfe", b"x"];
    not_an_event_is_parked_and_its_batch_flows(
        Backend::Streams,
        Delivery::AtLeastOnce,
        entry,
        "\\xff\\xfe x",
    )
    .await
}

/// Bytes that are not UTF-8, written into a partition by something other than the log (a
/// tool, another program), in the middle of a batch: parked in the dead letters like any
/// entry that is not an event, its bytes kept (escaped: `parked_as`), and the events
/// around it handled. Neither stuck on it (at-least-once) nor skipping its whole batch
/// (at-most-once).
async fn not_an_event_is_parked_and_its_batch_flows(
    backend: Backend,
    delivery: Delivery,
    entry: &[&[u8]],
    parked_as: &str,
) {
    let redis = RedisServer::start().unwrap();
    let log = log_on(&redis, backend).await;
    let before = log.publish_batch(events(2, 1)).await.unwrap();
    let partition = before[0].partition;
    write_entry(&log, backend, partition, entry).await;
    let after = log.publish_batch(events(2, 1)).await.unwrap();

    let recorder = Recorder::new();
    let consumer = start(
        &log,
        strategy_6::ConsumerConfig {
            delivery,
            ..config("mailer")
        },
        recorder.clone(),
    )
    .await;
    assert!(
        wait_until(|| recorder.count() == 4).await,
        "handled {}",
        recorder.count()
    );
    consumer.stop().await;
    let expected: Vec<String> = before.iter().chain(&after).map(|a| a.id.clone()).collect();
    assert_eq!(recorder.ids(), expected, "the events around it, in order");
    let letters = log.dead_letters("mailer").await.unwrap();
    assert_eq!(letters.len(), 1, "{letters:?}");
    assert_eq!(letters[0].partition, partition);
    assert_eq!(letters[0].event, serde_json::json!(parked_as));
    assert!(letters[0].error.contains("UTF-8"), "{}", letters[0].error);
}

/// Writes an entry behind the log's back: on lists, the last of `fields` as a list element;
/// on Streams, `fields` as the entry's field-value pairs.
async fn write_entry(log: &strategy_6::Log, backend: Backend, partition: u32, fields: &[&[u8]]) {
    let mut conn = log.connection();
    match backend {
        Backend::Lists => {
            let _: u64 = conn
                .rpush(log.keys().log(partition), fields[fields.len() - 1])
                .await
                .unwrap();
        }
        Backend::Streams => {
            let mut xadd = redis::cmd("XADD");
            xadd.arg(log.keys().stream(partition)).arg("*");
            for field in fields {
                xadd.arg(*field);
            }
            let _: String = xadd.query_async(&mut conn).await.unwrap();
        }
    }
}

/// Retention and replay find events by their stamp; an entry something else wrote has
/// none. It counts as not older than any time, so that a trim keeps it (and everything
/// after it) rather than failing, for every partition after it too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_retention_by_time_passes_over_an_entry_without_a_stamp() {
    let redis = RedisServer::start().unwrap();
    let log = log_on(&redis, Backend::Lists).await;
    let old = log.publish_batch(events(3, 1)).await.unwrap();
    let partition = old[0].partition;
    write_entry(&log, Backend::Lists, partition, &[b"\xff\xfe"]).await;
    tokio::time::sleep(Duration::from_millis(20)).await; // a later millisecond for the rest
    let new = log.publish_batch(events(2, 1)).await.unwrap();

    let dropped = log.trim(new[0].published_at, 0).await.unwrap();
    assert_eq!(dropped, 3, "the stamped events before the cutoff");
    assert_eq!(log.range(partition).await.unwrap(), (3, 6));
}
