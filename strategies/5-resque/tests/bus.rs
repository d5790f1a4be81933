//! The bus against a real Redis: fan-out to several apps, unsubscribe, a failing handler,
//! what foreign clients may leave in Redis (broken subscriptions, jobs that are not bus
//! envelopes), delayed publish through the scheduler, and the heartbeat after a pause.

mod common;

use common::*;
use redis::AsyncCommands;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use strategy_5::bus::{worker_job, Bus, Riders, INCOMING_QUEUE, WORKER_CLASS};
use strategy_5::scheduler::{Scheduler, SchedulerOptions};
use strategy_5::worker::WorkerOptions;
use strategy_5::{EventSender, JobError, Jobs};

/// What the handlers were given, by handler class.
type Seen = Arc<Mutex<Vec<(String, Map<String, Value>)>>>;

fn obj(value: Value) -> Map<String, Value> {
    value.as_object().expect("an object").clone()
}

/// Handlers that record what they get; `"failing"` fails every time.
fn recording(classes: &[&str], seen: &Seen) -> Riders {
    let mut riders = Riders::new();
    for class in classes {
        let (class, seen) = (class.to_string(), seen.clone());
        riders = riders.with(&class.clone(), move |attributes| {
            let (class, seen) = (class.clone(), seen.clone());
            async move {
                seen.lock().unwrap().push((class.clone(), attributes));
                if class == "failing" {
                    return Err(JobError::new("the handler broke"));
                }
                Ok(Value::Null)
            }
        });
    }
    riders
}

/// Subscribes `app` (priority `default`) to events of `event_type`, handled by `class`.
async fn subscribe_to(bus: &Bus, app: &str, class: &str, event_type: &str) {
    let matcher = obj(json!({ "bus_event_type": event_type }));
    bus.subscribe(app, "default", class, &matcher)
        .await
        .unwrap();
}

fn bus_worker(s: &Setup, queues: &[&str], riders: Riders) -> tokio_util::sync::CancellationToken {
    let mut options = WorkerOptions::new(queues);
    options.block_timeout = Duration::from_millis(200);
    let jobs = Jobs::new().with(WORKER_CLASS, worker_job(Bus::new(s.queue.clone()), riders));
    s.worker(options, jobs).0
}

fn count(seen: &Seen, class: &str) -> usize {
    seen.lock()
        .unwrap()
        .iter()
        .filter(|(c, _)| c == class)
        .count()
}

async fn failed(s: &Setup) -> Vec<Value> {
    s.queue.failed(0, -1).await.unwrap()
}

#[tokio::test]
async fn every_subscribed_app_gets_each_event_once_and_others_none() {
    let s = setup().await;
    let bus = Bus::new(s.queue.clone());
    let created = obj(json!({"bus_event_type": "user_created"}));
    bus.subscribe("app_a", "default", "onA", &created)
        .await
        .unwrap();
    bus.subscribe("app_b", "high", "onB", &created)
        .await
        .unwrap();
    bus.subscribe(
        "App C",
        "default",
        "onC",
        &obj(json!({"email": "bus_special_value_present"})),
    )
    .await
    .unwrap();
    subscribe_to(&bus, "app_d", "onD", "user_deleted").await;
    let mut ids = Vec::new();
    for n in 0..5 {
        let event = bus
            .publish(
                "user_created",
                &obj(json!({"email": format!("u{n}@example.com"), "n": n})),
            )
            .await
            .unwrap();
        ids.push(event["bus_id"].as_str().unwrap().to_owned());
    }
    // Before any driver: the events wait on bus_incoming as node-queue-bus's envelope.
    let incoming = s.raw_list("resque:queue:bus_incoming").await;
    assert_eq!(incoming.len(), 5);
    let job = parse(&incoming[0]);
    assert_eq!(job["class"], "QueueBus::Worker");
    assert_eq!(job["queue"], "bus_incoming");
    let attrs = bus_attributes(&job);
    let names = keys_of(&attrs);
    assert_eq!(
        names,
        [
            "bus_event_type",
            "bus_published_at",
            "bus_id",
            "bus_app_hostname",
            "email",
            "n",
            "bus_class_proxy"
        ]
    );
    assert_eq!(attrs["bus_class_proxy"], "QueueBus::Driver");

    let seen = Seen::default();
    let queues = [
        "app_a_default",
        "app_b_high",
        "app_c_default",
        "app_d_default",
        INCOMING_QUEUE,
    ];
    let stop = bus_worker(&s, &queues, recording(&["onA", "onB", "onC", "onD"], &seen));
    wait_until("15 rides", || async { seen.lock().unwrap().len() >= 15 }).await;
    // Every queue drained: nothing else is coming.
    wait_until("queues empty", || async {
        let mut total = 0;
        for q in queues {
            total += s.queue.length(q).await.unwrap();
        }
        total == 0
            && s.queue
                .all_working_on()
                .await
                .unwrap()
                .values()
                .all(|v| v == "started")
    })
    .await;
    stop.cancel();
    let seen = seen.lock().unwrap().clone();
    let mut by_app: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (class, attrs) in &seen {
        by_app
            .entry(class)
            .or_default()
            .push(attrs["bus_id"].as_str().unwrap());
    }
    for class in ["onA", "onB", "onC"] {
        let mut got = by_app[class].clone();
        got.sort();
        let mut want: Vec<&str> = ids.iter().map(String::as_str).collect();
        want.sort();
        assert_eq!(got, want, "{class} gets each event exactly once");
    }
    assert!(!by_app.contains_key("onD"));
    // What a rider gets: the driver's fields, the event, the proxy.
    let (_, ride) = seen.iter().find(|(c, _)| c == "onB").unwrap();
    assert_eq!(ride["bus_rider_app_key"], "app_b");
    assert_eq!(ride["bus_rider_queue"], "app_b_high");
    assert_eq!(ride["bus_rider_sub_key"], "app_b_high_onB");
    assert_eq!(ride["bus_class_proxy"], "onB");
    assert!(ride["bus_executed_at"].is_i64());
    assert!(failed(&s).await.is_empty());
}

#[tokio::test]
async fn unsubscribing_stops_delivery_and_the_last_one_removes_the_app() {
    let s = setup().await;
    let bus = Bus::new(s.queue.clone());
    let any = obj(json!({"bus_event_type": "(?-mix:.)"}));
    bus.subscribe("app_a", "default", "one", &any)
        .await
        .unwrap();
    bus.subscribe("app_a", "default", "two", &any)
        .await
        .unwrap();
    assert!(bus.unsubscribe("app_a", "default", "one").await.unwrap());
    assert_eq!(bus.apps().await.unwrap(), ["app_a"]);
    bus.publish("ping", &Map::new()).await.unwrap();
    let seen = Seen::default();
    let stop = bus_worker(
        &s,
        &["app_a_default", INCOMING_QUEUE],
        recording(&["one", "two"], &seen),
    );
    wait_until("one ride", || async { count(&seen, "two") == 1 }).await;
    assert!(bus.unsubscribe("app_a", "default", "two").await.unwrap());
    assert!(bus.apps().await.unwrap().is_empty());
    assert!(!s.exists("resque:bus_app:app_a").await);
    // No subscription left: the next event is driven to nobody.
    bus.publish("ping", &Map::new()).await.unwrap();
    wait_until("driven", || async {
        s.queue.length(INCOMING_QUEUE).await.unwrap() == 0
    })
    .await;
    wait_until("processed 3", || async {
        s.get("resque:stat:processed").await.as_deref() == Some("3")
    })
    .await;
    stop.cancel();
    assert_eq!(count(&seen, "one"), 0);
    assert_eq!(count(&seen, "two"), 1);
    bus.subscribe("app_b", "default", "x", &any).await.unwrap();
    bus.unsubscribe_all("app_b").await.unwrap();
    assert!(bus.apps().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_failing_handler_leaves_its_entry_and_the_other_apps_get_the_event() {
    let s = setup().await;
    let bus = Bus::new(s.queue.clone());
    subscribe_to(&bus, "app_ok", "fine", "user_created").await;
    subscribe_to(&bus, "app_bad", "failing", "user_created").await;
    bus.publish("user_created", &obj(json!({"id": 7})))
        .await
        .unwrap();
    let seen = Seen::default();
    let stop = bus_worker(
        &s,
        &["app_ok_default", "app_bad_default", INCOMING_QUEUE],
        recording(&["fine", "failing"], &seen),
    );
    wait_until("a failed entry", || async {
        s.queue.failed_count().await.unwrap() == 1
    })
    .await;
    wait_until("the good app rode", || async { count(&seen, "fine") == 1 }).await;
    stop.cancel();
    let entry = &failed(&s).await[0];
    assert_eq!(entry["queue"], "app_bad_default");
    assert_eq!(entry["error"], "the handler broke");
    assert_eq!(entry["payload"]["class"], "QueueBus::Worker");
    let attrs = bus_attributes(&entry["payload"]);
    assert_eq!(attrs["bus_class_proxy"], "failing");
    assert_eq!(attrs["id"], 7);
    // Retrying the entry rides that app again, and only that app.
    s.queue.retry_failed_at(0).await.unwrap();
    assert_eq!(s.queue.length("app_bad_default").await.unwrap(), 1);
    assert_eq!(s.queue.length("app_ok_default").await.unwrap(), 0);
}

#[tokio::test]
async fn broken_foreign_subscriptions_are_reported_and_the_rest_still_delivered() {
    let s = setup().await;
    let bus = Bus::new(s.queue.clone());
    subscribe_to(&bus, "good", "fine", "e").await;
    let mut con = s.queue.connection();
    let broken = [
        ("not_json", "{oops"),
        (
            "lookahead",
            r#"{"queue_name":"x_default","key":"lookahead","class":"c","matcher":{"bus_event_type":"(?-mix:(?=e)e)"}}"#,
        ),
        (
            "no_queue",
            r#"{"key":"no_queue","class":"c","matcher":{"bus_event_type":"e"}}"#,
        ),
    ];
    for (field, raw) in broken {
        let _: () = con
            .hset("resque:bus_app:foreign", field, raw)
            .await
            .unwrap();
    }
    let _: () = con.sadd("resque:bus_apps", "foreign").await.unwrap();
    // An app key that holds a string, not a hash.
    let _: () = con.set("resque:bus_app:stringy", "x").await.unwrap();
    let _: () = con.sadd("resque:bus_apps", "stringy").await.unwrap();

    bus.publish("e", &Map::new()).await.unwrap();
    let seen = Seen::default();
    let stop = bus_worker(
        &s,
        &["good_default", INCOMING_QUEUE],
        recording(&["fine"], &seen),
    );
    wait_until("delivered", || async { count(&seen, "fine") == 1 }).await;
    wait_until("reported", || async {
        s.queue.failed_count().await.unwrap() == 1
    })
    .await;
    let entry = &failed(&s).await[0];
    assert_eq!(entry["queue"], INCOMING_QUEUE);
    assert_eq!(entry["exception"], "BusSubscriptionError");
    let error = entry["error"].as_str().unwrap();
    for needle in [
        "[\"good_default\"]",
        "4 unusable",
        "foreign/not_json",
        "foreign/lookahead",
        "foreign/no_queue",
        "queue_name",
        "stringy",
        "not a hash",
    ] {
        assert!(error.contains(needle), "{needle:?} in {error}");
    }
    // The worker goes on: the next event is delivered too.
    bus.publish("e", &Map::new()).await.unwrap();
    wait_until("delivered again", || async { count(&seen, "fine") == 2 }).await;
    stop.cancel();
}

#[tokio::test]
async fn jobs_that_are_not_bus_envelopes_fail_visibly() {
    let s = setup().await;
    let mut con = s.queue.connection();
    let bad = [
        (
            r#"{"class":"QueueBus::Worker","queue":"bus_incoming","args":[]}"#,
            "BusEnvelopeError",
            "no argument",
        ),
        (
            r#"{"class":"QueueBus::Worker","queue":"bus_incoming","args":[5]}"#,
            "BusEnvelopeError",
            "not a JSON string",
        ),
        (
            r#"{"class":"QueueBus::Worker","queue":"bus_incoming","args":["{nope"]}"#,
            "BusEnvelopeError",
            "not JSON",
        ),
        (
            r#"{"class":"QueueBus::Worker","args":["{\"a\":1}"]}"#,
            "BusEnvelopeError",
            "bus_class_proxy",
        ),
        // A Ruby DSL rider in our queue, for a sub key no handler here has: Ruby drops it.
        (
            r#"{"class":"QueueBus::Worker","args":["{\"bus_rider_app_key\":\"r\",\"bus_rider_sub_key\":\"nobody\",\"bus_class_proxy\":\"::QueueBus::Rider\"}"]}"#,
            "BusError",
            "no handler for bus_class_proxy \"QueueBus::Rider\"",
        ),
    ];
    for (raw, ..) in bad {
        let _: () = con.rpush("resque:queue:bus_incoming", raw).await.unwrap();
    }
    let stop = bus_worker(&s, &[INCOMING_QUEUE], Riders::new());
    wait_until("all failed", || async {
        s.queue.failed_count().await.unwrap() == bad.len()
    })
    .await;
    stop.cancel();
    let entries = failed(&s).await;
    for (entry, (raw, exception, why)) in entries.iter().zip(bad) {
        assert_eq!(entry["exception"], exception, "{raw}");
        assert!(
            entry["error"].as_str().unwrap().contains(why),
            "{why:?} in {entry}"
        );
        assert_eq!(entry["payload"], parse(raw), "the payload is kept");
    }
}

#[tokio::test]
async fn a_delayed_publish_is_promoted_then_published_with_its_id() {
    let s = setup().await;
    let bus = Bus::new(s.queue.clone());
    subscribe_to(&bus, "later", "onLater", "tick").await;
    let delayed = bus
        .publish_in(0, "tick", &obj(json!({"k": "v"})))
        .await
        .unwrap();
    let due = delayed["bus_delayed_until"].as_i64().unwrap();
    assert_eq!(delayed["bus_class_proxy"], "QueueBus::Publisher");
    assert!(delayed.get("bus_published_at").is_none());
    assert_eq!(s.raw_list(&format!("resque:delayed:{due}")).await.len(), 1);
    let options = SchedulerOptions {
        poll_interval: Duration::from_millis(50),
        ..SchedulerOptions::default()
    };
    let scheduler = Scheduler::new(options, s.queue.clone(), EventSender::new("test"));
    let stop_scheduler = scheduler.stop_token();
    tokio::spawn(scheduler.run());
    let seen = Seen::default();
    let stop = bus_worker(
        &s,
        &["later_default", INCOMING_QUEUE],
        recording(&["onLater"], &seen),
    );
    wait_until("delivered", || async { count(&seen, "onLater") == 1 }).await;
    stop.cancel();
    stop_scheduler.cancel();
    let (_, ride) = seen.lock().unwrap()[0].clone();
    assert_eq!(ride["bus_id"], delayed["bus_id"]);
    assert_eq!(ride["bus_delayed_until"], due);
    assert_eq!(ride["k"], "v");
    assert!(ride["bus_published_at"].as_i64().unwrap() >= due - 1);
}

#[tokio::test]
async fn the_heartbeat_publishes_every_minute_missed_during_a_pause() {
    let s = setup().await;
    let bus = Bus::new(s.queue.clone());
    let now = chrono::Utc::now().timestamp();
    let minute = now / 60;
    let mut con = s.queue.connection();
    let _: () = con
        .set("resque:bus:heartbeat:timestamp", minute - 5)
        .await
        .unwrap();
    assert_eq!(bus.heartbeat(now).await.unwrap(), 5);
    let published: Vec<i64> = s
        .raw_list("resque:queue:bus_incoming")
        .await
        .iter()
        .map(|raw| {
            let attrs = bus_attributes(&parse(raw));
            assert_eq!(attrs["bus_event_type"], "heartbeat_minutes");
            attrs["epoch_minutes"].as_i64().unwrap()
        })
        .collect();
    assert_eq!(published, (minute - 4..=minute).collect::<Vec<_>>());
    assert_eq!(
        s.get("resque:bus:heartbeat:timestamp").await,
        Some(minute.to_string())
    );
    assert!(!s.exists("resque:bus:heartbeat:lock").await);
    // Caught up: the same minute again publishes nothing.
    assert_eq!(bus.heartbeat(now).await.unwrap(), 0);
    // Another heartbeat holds the lock: nothing, and the lock is left to its holder.
    let _: () = con
        .set("resque:bus:heartbeat:lock", now + 90)
        .await
        .unwrap();
    assert_eq!(bus.heartbeat(now + 60).await.unwrap(), 0);
    // Its holder died: once the lock has expired it is taken over.
    assert_eq!(bus.heartbeat(now + 120).await.unwrap(), 2);
}

#[tokio::test]
async fn heartbeat_triggers_in_node_and_ruby_shape_are_driven_to_subscribers() {
    let s = setup().await;
    let bus = Bus::new(s.queue.clone());
    subscribe_to(&bus, "clock", "onMinute", "heartbeat_minutes").await;
    bus.trigger_heartbeat().await.unwrap();
    let seen = Seen::default();
    let stop = bus_worker(
        &s,
        &["clock_default", INCOMING_QUEUE],
        recording(&["onMinute"], &seen),
    );
    wait_until("a minute event", || async { count(&seen, "onMinute") == 1 }).await;
    // Ruby's cron trigger: args hold only the proxy, with its leading `::`. Set back the
    // timestamp so that it has a minute to publish.
    let minute = chrono::Utc::now().timestamp() / 60;
    let mut con = s.queue.connection();
    let _: () = con
        .set("resque:bus:heartbeat:timestamp", minute - 1)
        .await
        .unwrap();
    let _: () = con
        .rpush("resque:queue:bus_incoming", r#"{"class":"QueueBus::Worker","args":["{\"bus_class_proxy\":\"::QueueBus::Heartbeat\"}"]}"#)
        .await
        .unwrap();
    wait_until("the next minute event", || async {
        count(&seen, "onMinute") >= 2
    })
    .await;
    stop.cancel();
    assert!(failed(&s).await.is_empty());
}

/// A handler that publishes again what it was given passes on the `bus_rider_*` fields of
/// its own ride; the next ride must still name the subscription that matched it (node and
/// Ruby let the event's stale fields win).
#[tokio::test]
async fn rider_fields_in_an_event_do_not_override_the_drivers() {
    let s = setup().await;
    let bus = Bus::new(s.queue.clone());
    subscribe_to(&bus, "fresh", "onFresh", "again").await;
    let stale = obj(json!({
        "bus_rider_app_key": "old_app",
        "bus_rider_sub_key": "old_app_default_old",
        "bus_rider_queue": "old_app_default",
        "bus_rider_class_name": "old",
        "bus_driven_at": 1,
    }));
    bus.publish("again", &stale).await.unwrap();
    let seen = Seen::default();
    let stop = bus_worker(
        &s,
        &["fresh_default", INCOMING_QUEUE],
        recording(&["onFresh"], &seen),
    );
    wait_until("ridden", || async { count(&seen, "onFresh") == 1 }).await;
    stop.cancel();
    let (_, ride) = seen.lock().unwrap()[0].clone();
    assert_eq!(ride["bus_rider_app_key"], "fresh");
    assert_eq!(ride["bus_rider_sub_key"], "fresh_default_onFresh");
    assert_eq!(ride["bus_rider_queue"], "fresh_default");
    assert_eq!(ride["bus_rider_class_name"], "onFresh");
    assert_ne!(ride["bus_driven_at"], 1);
}
