//! `strategy-5 --bus` as real child processes: the demo's fan-out to the mailer and an audit
//! app, the admin routes of the bus, a parked mail, and a driver SIGKILLed while it fans
//! events out (what is lost or duplicated, with and without reliable fetch).

mod common;

use common::{bus_attributes, sink, DEADLINE};
use kit::client::HttpClient;
use kit::RedisServer;
use mailer::{Faults, Sink};
use redis::AsyncCommands;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::time::Duration;
use strategy_5::bus::Bus;
use strategy_5::{Keys, Queue};
use testkit::{wait_until, ChildProcess};

const BIN: &str = env!("CARGO_BIN_EXE_strategy-5");

async fn all_roles(redis: &RedisServer, sink: &Sink, extra: &[&str]) -> ChildProcess {
    let mut args = vec!["--role", "all", "--bus", "--bus-app", "offload_audit"];
    args.extend_from_slice(extra);
    let app = ChildProcess::start_http(
        BIN,
        args,
        &[("REDIS_URL", &redis.url()), ("SMTP_URL", &sink.url())],
    )
    .await
    .unwrap();
    assert!(
        app.wait_for_log("worker ready", DEADLINE).await,
        "{}",
        app.logs()
    );
    app
}

async fn get_json(client: &HttpClient, url: &str) -> (u16, Value) {
    let answer = client.get(url).await.unwrap();
    (answer.status.as_u16(), answer.json)
}

#[tokio::test]
async fn the_bus_demo_sends_once_and_the_audit_app_logs_the_same_event() {
    let redis = RedisServer::start().unwrap();
    let sink = sink(Faults::default()).await;
    let app = all_roles(&redis, &sink, &[]).await;
    let client = HttpClient::new(Duration::from_secs(5));
    let (status, answer) = get_json(&client, &app.url("/ada@example.com/Hello/World")).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["event"]["bus_event_type"], "email_requested");
    let id = answer["event"]["bus_id"].as_str().unwrap().to_owned();
    assert!(sink.wait_for(1, DEADLINE).await);
    assert_eq!(sink.deliveries()[0].to, "ada@example.com");
    let logged =
        format!("bus event app=offload_audit type=email_requested id={id} to=ada@example.com");
    assert!(app.wait_for_log(&logged, DEADLINE).await, "{}", app.logs());

    let (_, apps) = get_json(&client, &app.url("/resque/bus/apps")).await;
    assert_eq!(apps, json!({"apps": ["offload_audit", "offload_mailer"]}));
    let (_, subs) = get_json(&client, &app.url("/resque/bus/subscriptions")).await;
    assert_eq!(
        subs["subscriptions"]["offload_mailer"]["offload_mailer_default_sendEmail"],
        json!({"queue_name": "offload_mailer_default", "key": "offload_mailer_default_sendEmail", "class": "sendEmail", "matcher": {"bus_event_type": "email_requested"}})
    );
    let queues = wait_until("bus queues drained", DEADLINE, || async {
        let (_, q) = get_json(&client, &app.url("/resque/bus/queues")).await;
        (q["queues"].as_object()?.values().all(|n| n == 0)).then_some(q)
    })
    .await;
    let names: Vec<&String> = queues["queues"].as_object().unwrap().keys().collect();
    assert_eq!(
        names,
        [
            "bus_incoming",
            "offload_audit_default",
            "offload_mailer_default"
        ]
    );
    // Same access rules as every admin route: reads only, and JSON POSTs elsewhere.
    let post = client
        .post_json(&app.url("/resque/bus/apps"), &json!({}))
        .await
        .unwrap();
    assert_eq!(post.status, 405);
    // Exactly one mail once the queues are drained and every slot is idle: the audit
    // app's ride sent nothing, and the mailer rode once.
    wait_until("every slot idle", DEADLINE, || async {
        let (_, workers) = get_json(&client, &app.url("/resque/workers")).await;
        let workers = workers["workers"].as_object()?.clone();
        workers
            .values()
            .all(|w| w["working_on"].is_null())
            .then_some(())
    })
    .await;
    assert_eq!(sink.deliveries().len(), 1);
}

#[tokio::test]
async fn a_refused_mail_is_parked_and_the_audit_app_still_gets_the_event() {
    let redis = RedisServer::start().unwrap();
    let sink = sink(Faults {
        failure_rate: 1.0,
        ..Faults::default()
    })
    .await;
    let app = all_roles(&redis, &sink, &[]).await;
    let client = HttpClient::new(Duration::from_secs(5));
    let (status, _) = get_json(&client, &app.url("/bob@example.com/Hi/There")).await;
    assert_eq!(status, 200);
    let parked = wait_until("the mail is parked", DEADLINE, || async {
        let (_, parked) = get_json(&client, &app.url("/parked")).await;
        (parked["count"] == 1).then_some(parked)
    })
    .await;
    assert_eq!(parked["parked"][0]["to"], "bob@example.com", "{parked}");
    assert!(
        app.wait_for_log("bus event app=offload_audit", DEADLINE)
            .await
    );
    let (_, failed) = get_json(&client, &app.url("/resque/failed")).await;
    assert_eq!(failed["count"], 1);
    assert_eq!(failed["failed"][0]["queue"], "offload_mailer_default");
}

/// How many rider jobs each event got in each of three apps no process rides.
async fn fan_out_counts(bus: &Bus, ids: &[String]) -> BTreeMap<String, usize> {
    let mut counts: BTreeMap<String, usize> = ids.iter().map(|id| (id.clone(), 0)).collect();
    for queue in ["x1_default", "x2_default", "x3_default"] {
        for job in bus.queue().queued(queue, 0, -1).await.unwrap() {
            let attrs = bus_attributes(&job.to_value());
            *counts.get_mut(attrs["bus_id"].as_str().unwrap()).unwrap() += 1;
        }
    }
    counts
}

/// Publishes `n` events three apps subscribe to, starts a driver, SIGKILLs it while it
/// drives, then starts another (which cleans up after the dead one and drives the rest).
/// Returns each event's number of rider jobs and the `failed` list.
async fn kill_the_driver_mid_fan_out(extra: &[&str]) -> (BTreeMap<String, usize>, Vec<Value>) {
    let redis = RedisServer::start().unwrap();
    let sink = sink(Faults::default()).await;
    let client = redis::Client::open(redis.url()).unwrap();
    let con = strategy_5::connect::commands(&client).await.unwrap();
    let bus = Bus::new(Queue::new(con, Keys::default()));
    let matcher = Map::from_iter([("bus_event_type".to_owned(), Value::from("e"))]);
    for app in ["x1", "x2", "x3"] {
        bus.subscribe(app, "default", "c", &matcher).await.unwrap();
    }
    let mut ids = Vec::new();
    for n in 0..3000 {
        let attrs = Map::from_iter([("n".to_owned(), Value::from(n))]);
        ids.push(
            bus.publish("e", &attrs).await.unwrap()["bus_id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let mut args = vec!["--role", "worker", "--bus", "--min", "4", "--max", "4"];
    args.extend_from_slice(extra);
    let env = [("REDIS_URL", redis.url()), ("SMTP_URL", sink.url())];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut driver = ChildProcess::start(BIN, &args, &env).unwrap();
    wait_until("the driver is half way", DEADLINE, || async {
        (bus.queue().length("x1_default").await.ok()? >= 300).then_some(())
    })
    .await;
    driver.kill();
    let left: usize = bus.queue().length("bus_incoming").await.unwrap();
    assert!(
        left > 0,
        "the kill came after the last event: nothing was in flight"
    );
    // A new driver on the same host finds the dead one (its pid is gone) and cleans up.
    let second = ChildProcess::start(BIN, &args, &env).unwrap();
    wait_until("every event driven", DEADLINE * 3, || async {
        let idle = bus
            .queue()
            .all_working_on()
            .await
            .ok()?
            .values()
            .all(|v| v == "started");
        let empty = bus.queue().length("bus_incoming").await.ok()? == 0;
        (idle && empty).then_some(())
    })
    .await;
    drop(second);
    let failed = bus.queue().failed(0, -1).await.unwrap();
    let mut con = bus.queue().connection();
    let leftover: Vec<String> = con.keys("resque:processing:*").await.unwrap();
    assert!(leftover.is_empty(), "processing lists left: {leftover:?}");
    (fan_out_counts(&bus, &ids).await, failed)
}

/// Without reliable fetch: every event reaches all three apps or none (the fan-out is one
/// MULTI), and the events none reached are the ones the killed slots held, each a
/// `Worker Timeout` in `failed`. Nothing is duplicated.
#[tokio::test]
async fn a_killed_driver_loses_whole_events_and_says_so() {
    let (counts, failed) = kill_the_driver_mid_fan_out(&[]).await;
    let lost: Vec<&String> = counts
        .iter()
        .filter(|(_, n)| **n == 0)
        .map(|(id, _)| id)
        .collect();
    assert!(
        counts.values().all(|n| *n == 0 || *n == 3),
        "a partial fan-out: {counts:?}"
    );
    assert!(
        lost.len() <= 4,
        "at most one event per killed slot: {lost:?}"
    );
    let timed_out: Vec<String> = failed
        .iter()
        .filter(|f| {
            f["exception"]
                .as_str()
                .unwrap()
                .starts_with("Worker Timeout")
        })
        .map(|f| {
            let attrs = bus_attributes(&f["payload"]);
            attrs["bus_id"].as_str().unwrap().to_owned()
        })
        .collect();
    for id in &lost {
        assert!(
            timed_out.contains(id),
            "{id} was lost without a failed entry: {failed:?}"
        );
    }
}

/// With reliable fetch: nothing is lost; an event whose fan-out had gone through before
/// the kill is driven again, so all three apps get it twice (never some apps only).
#[tokio::test]
async fn a_killed_reliable_driver_loses_nothing_and_may_deliver_an_event_twice_to_every_app() {
    let (counts, failed) = kill_the_driver_mid_fan_out(&["--reliable"]).await;
    assert!(failed.is_empty(), "{failed:?}");
    assert!(
        counts.values().all(|n| *n == 3 || *n == 6),
        "lost or partial: {counts:?}"
    );
    let twice = counts.values().filter(|n| **n == 6).count();
    assert!(twice <= 4, "at most one event per killed slot: {twice}");
}
