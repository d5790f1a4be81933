//! Strategy 5's QueueBus on a private redis-server: what one publish costs, and what an
//! event costs to drive (match it against every subscription, push one rider job per
//! match) and to drive and ride (every rider job run too), with 1, 4 and 16 subscribed
//! applications.
//!
//! `cargo bench -p benches --bench queue_bus` writes target/criterion/queue_bus/report/index.html.

mod common;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use serde_json::{json, Map, Value};
use std::time::Duration;
use strategy_5::bus::{worker_job, Bus, Riders, INCOMING_QUEUE, WORKER_CLASS};
use strategy_5::Jobs;

/// Events per measured drain.
const EVENTS: usize = 200;

fn queue_bus(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (_redis, client, queue) = common::private_queue(&rt);
    let bus = Bus::new(queue.clone());
    let attributes = event();

    let mut group = c.benchmark_group("queue_bus");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(5));

    group.throughput(Throughput::Elements(1));
    group.bench_function("publish", |b| {
        b.to_async(&rt)
            .iter(|| async { bus.publish("email_requested", &attributes).await.unwrap() })
    });

    group.throughput(Throughput::Elements(EVENTS as u64));
    for apps in [1usize, 4, 16] {
        for ride in [false, true] {
            let name = if ride { "drive_and_ride" } else { "drive" };
            group.bench_function(BenchmarkId::new(name, format!("{apps}_apps")), |b| {
                b.to_async(&rt).iter_custom(|iters| {
                    let (bus, client) = (bus.clone(), client.clone());
                    async move {
                        let mut total = Duration::ZERO;
                        for _ in 0..iters {
                            let queues = prepare(&bus, apps).await;
                            let queues = if ride {
                                queues
                            } else {
                                vec![INCOMING_QUEUE.into()]
                            };
                            let jobs = EVENTS * if ride { 1 + apps } else { 1 };
                            total += drain(&bus, &client, queues, jobs).await;
                        }
                        total
                    }
                })
            });
        }
    }
    group.finish();
}

fn event() -> Map<String, Value> {
    let Value::Object(map) = json!({"to": "a@example.com", "subject": "s", "text": "t"}) else {
        unreachable!("json! of an object")
    };
    map
}

/// An empty Redis, `apps` applications subscribed to `email_requested`, and [`EVENTS`]
/// events waiting. Returns the queues a worker takes: the apps', then `bus_incoming`.
async fn prepare(bus: &Bus, apps: usize) -> Vec<String> {
    let _: () = redis::cmd("FLUSHALL")
        .query_async(&mut bus.queue().connection())
        .await
        .unwrap();
    let matcher = Map::from_iter([("bus_event_type".to_owned(), json!("email_requested"))]);
    let mut queues = Vec::new();
    for app in 0..apps {
        let app = format!("app_{app}");
        queues.push(
            bus.subscribe(&app, "default", "noop", &matcher)
                .await
                .unwrap(),
        );
    }
    queues.push(INCOMING_QUEUE.into());
    let attributes = event();
    for _ in 0..EVENTS {
        bus.publish("email_requested", &attributes).await.unwrap();
    }
    queues
}

/// Runs one worker slot on `queues` until `jobs` jobs are recorded as processed.
async fn drain(bus: &Bus, client: &redis::Client, queues: Vec<String>, jobs: usize) -> Duration {
    let riders = Riders::new().with("noop", |_| async { Ok(Value::Null) });
    let definitions = Jobs::new().with(WORKER_CLASS, worker_job(bus.clone(), riders));
    common::drain(bus.queue(), client, definitions, queues, 1, jobs).await
}

criterion_group!(benches, queue_bus);
criterion_main!(benches);
