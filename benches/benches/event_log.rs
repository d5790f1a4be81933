//! Strategy 6's event log: publish and consume, one event and batched, on both backends
//! side by side, plus pick-up latency (publish -> an idle, blocked consumer has it).
//!
//! `cargo bench -p benches --bench event_log` writes target/criterion/event_log/report/index.html
//! and prints pick-up latency percentiles (criterion only reports means and medians).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use hdrhistogram::Histogram;
use kit::RedisServer;
use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use strategy_6::cursor::Cursor;
use strategy_6::lease::Lease;
use strategy_6::{Backend, Connector, Delivery, Log, LogConfig, NewEvent};

const BATCH: usize = 100;
const BACKENDS: [(Backend, &str); 2] = [(Backend::Lists, "lists"), (Backend::Streams, "streams")];

fn event(i: u64, key: &str) -> NewEvent {
    NewEvent::new(
        "emailEvent",
        key,
        json!({ "to": "bench@example.com", "subject": "Hello", "text": format!("message {i}") }),
    )
}

async fn log(redis: &RedisServer, backend: Backend, prefix: &str) -> Log {
    Log::connect(
        Connector::Single(redis.url()),
        LogConfig {
            prefix: prefix.into(),
            partitions: 4,
            backend,
        },
    )
    .await
    .unwrap()
}

fn publish(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let redis = RedisServer::start().unwrap();
    let mut group = c.benchmark_group("event_log");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(3));
    for (backend, name) in BACKENDS {
        let log = rt.block_on(log(&redis, backend, &format!("publish-{name}")));
        let counter = std::sync::atomic::AtomicU64::new(0);
        group.throughput(Throughput::Elements(1));
        group.bench_function(BenchmarkId::new("publish/single", name), |b| {
            b.to_async(&rt).iter(|| async {
                let i = counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                log.publish(event(i, &format!("user{}", i % 64)))
                    .await
                    .unwrap()
            })
        });
        group.throughput(Throughput::Elements(BATCH as u64));
        group.bench_function(BenchmarkId::new("publish/batch100", name), |b| {
            b.to_async(&rt).iter(|| async {
                let events = (0..BATCH as u64)
                    .map(|i| event(i, &format!("user{}", i % 64)))
                    .collect();
                log.publish_batch(events).await.unwrap()
            })
        });
        rt.block_on(log.trim(0, 1)).unwrap();
    }
    group.finish();
}

/// One member consuming one partition: read `batch` at a time, commit after each batch.
fn consume(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let redis = RedisServer::start().unwrap();
    let mut group = c.benchmark_group("event_log");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(3));
    for (backend, name) in BACKENDS {
        for batch in [1usize, BATCH] {
            let prefix = format!("consume-{name}-{batch}");
            let log = rt.block_on(log(&redis, backend, &prefix));
            let partition = log.partition_for("one-key");
            let (_lease, cursor) = rt.block_on(take_partition(&log, partition)).unwrap();
            // Criterion's async iter_custom wants futures that own what they use.
            let cursor = Arc::new(tokio::sync::Mutex::new(cursor));
            group.throughput(Throughput::Elements(batch as u64));
            let label = if batch == 1 {
                "consume/single"
            } else {
                "consume/batch100"
            };
            group.bench_function(BenchmarkId::new(label, name), |b| {
                b.to_async(&rt).iter_custom(|iters| {
                    let (cursor, log) = (cursor.clone(), log.clone());
                    async move {
                        let mut cursor = cursor.lock().await;
                        // Fill the partition outside the timed part.
                        let total = iters as usize * batch;
                        for chunk in (0..total as u64).collect::<Vec<_>>().chunks(1000) {
                            let events = chunk.iter().map(|i| event(*i, "one-key")).collect();
                            log.publish_batch(events).await.unwrap();
                        }
                        let start = Instant::now();
                        let mut left = total;
                        while left > 0 {
                            let records = cursor.next_batch(batch, Duration::ZERO).await.unwrap();
                            assert!(!records.is_empty(), "ran dry with {left} left");
                            left -= records.len();
                            assert!(cursor.commit(&records).await.unwrap());
                        }
                        start.elapsed()
                    }
                })
            });
        }
    }
    group.finish();
}

/// The bench group's lease on `partition` (held for the whole run) and a cursor on it.
/// `None` if Redis is gone or the lease is taken.
async fn take_partition(log: &Log, partition: u32) -> Option<(Lease, Cursor)> {
    let lease = Lease::acquire(
        &log.connection(),
        log.keys(),
        "bench",
        partition,
        "member",
        Duration::from_secs(3600),
    )
    .await
    .ok()??;
    let cursor = log
        .cursor("bench", partition, "member", Delivery::AtLeastOnce)
        .await
        .ok()?;
    Some((lease, cursor))
}

/// Publish one event while the consumer is idle and blocked; time until it has the event.
fn pickup(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let redis = RedisServer::start().unwrap();
    let mut group = c.benchmark_group("event_log");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(3));
    for (backend, name) in BACKENDS {
        let log = rt.block_on(log(&redis, backend, &format!("pickup-{name}")));
        let rx = spawn_reader(&rt, &log, "one-key");
        let rx = Arc::new(tokio::sync::Mutex::new(rx));
        let histogram = Arc::new(Mutex::new(Histogram::<u64>::new(3).unwrap()));
        group.throughput(Throughput::Elements(1));
        group.bench_function(BenchmarkId::new("pickup", name), |b| {
            b.to_async(&rt).iter_custom(|iters| {
                let (log, rx, histogram) = (log.clone(), rx.clone(), histogram.clone());
                async move {
                    let mut total = Duration::ZERO;
                    for i in 0..iters {
                        // Let the reader go idle and block before publishing.
                        tokio::time::sleep(Duration::from_millis(2)).await;
                        let sent = Instant::now();
                        log.publish(event(i, "one-key")).await.unwrap();
                        let seen = rx.lock().await.recv().await.unwrap();
                        let latency = seen.duration_since(sent);
                        histogram
                            .lock()
                            .unwrap()
                            .record(latency.as_micros() as u64)
                            .unwrap();
                        total += latency;
                    }
                    total
                }
            })
        });
        let h = histogram.lock().unwrap();
        if h.is_empty() {
            continue; // filtered out
        }
        eprintln!(
            "event_log/pickup/{name}: n={} p50={}us p99={}us max={}us",
            h.len(),
            h.value_at_quantile(0.5),
            h.value_at_quantile(0.99),
            h.max()
        );
    }
    group.finish();
}

/// A reader that takes the lease of `key`'s partition and reports when each record arrives.
fn spawn_reader(
    rt: &tokio::runtime::Runtime,
    log: &Log,
    key: &str,
) -> tokio::sync::mpsc::UnboundedReceiver<Instant> {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Instant>();
    let log = log.clone();
    let partition = log.partition_for(key);
    rt.spawn(async move {
        // Errors mean the benchmark is over and Redis is gone: just stop.
        let Some((_lease, mut cursor)) = take_partition(&log, partition).await else {
            return;
        };
        loop {
            // An error means the benchmark is over and Redis is gone.
            let Ok(records) = cursor.next_batch(BATCH, Duration::from_secs(1)).await else {
                return;
            };
            if records.is_empty() {
                continue;
            }
            let seen = Instant::now();
            if cursor.commit(&records).await.is_err() {
                return;
            }
            for _ in &records {
                if tx.send(seen).is_err() {
                    return;
                }
            }
        }
    });
    rx
}

/// The two backends measured in alternating rounds, so that the noise of a shared machine
/// hits both alike; prints lists/streams ratios. (Criterion runs benchmarks one after the
/// other, so a neighbour's compile job can favour whichever ran at a quiet moment.)
fn side_by_side(_c: &mut Criterion) {
    const ROUNDS: usize = 10;
    let rt = tokio::runtime::Runtime::new().unwrap();
    let redis = RedisServer::start().unwrap();
    let logs: Vec<Log> = BACKENDS
        .iter()
        .map(|(backend, name)| rt.block_on(log(&redis, *backend, &format!("side-{name}"))))
        .collect();
    let mut readers: Vec<_> = logs
        .iter()
        .map(|log| spawn_reader(&rt, log, "one-key"))
        .collect();
    let mut publish = [Duration::ZERO; 2];
    let mut consume = [Duration::ZERO; 2];
    let mut consumed = [0usize; 2];
    let mut pickup: Vec<Histogram<u64>> = (0..2).map(|_| Histogram::new(3).unwrap()).collect();
    for round in 0..ROUNDS {
        for turn in 0..2 {
            let b = (round + turn) % 2; // alternate which backend goes first
            let (log, reader) = (&logs[b], &mut readers[b]);
            rt.block_on(async {
                // Publish one at a time (the reader picks them up as they come).
                let start = Instant::now();
                for i in 0..200 {
                    log.publish(event(i, "one-key")).await.unwrap();
                }
                publish[b] += start.elapsed();
                for _ in 0..200 {
                    reader.recv().await.unwrap();
                }
                // Pick-up: publish to an idle, blocked reader.
                for i in 0..50 {
                    tokio::time::sleep(Duration::from_millis(2)).await;
                    let sent = Instant::now();
                    log.publish(event(i, "one-key")).await.unwrap();
                    let seen = reader.recv().await.unwrap();
                    pickup[b]
                        .record(seen.duration_since(sent).as_micros() as u64)
                        .unwrap();
                }
                // A backlog of 2000, published in one batch, drained 100 at a time: from the
                // start of the publish to the reader having the last one.
                let events: Vec<_> = (0..2000).map(|i| event(i, "one-key")).collect();
                let start = Instant::now();
                log.publish_batch(events).await.unwrap();
                for _ in 0..2000 {
                    reader.recv().await.unwrap();
                }
                consume[b] += start.elapsed();
                consumed[b] += 2000;
            });
        }
    }
    let rate = |n: usize, d: Duration| n as f64 / d.as_secs_f64();
    eprintln!("side by side, {ROUNDS} alternating rounds (lists / streams):");
    let publish_rate = [
        rate(200 * ROUNDS, publish[0]),
        rate(200 * ROUNDS, publish[1]),
    ];
    eprintln!(
        "  publish/single   lists {:>8.0}/s  streams {:>8.0}/s  ratio {:.2}",
        publish_rate[0],
        publish_rate[1],
        publish_rate[0] / publish_rate[1]
    );
    let consume_rate = [rate(consumed[0], consume[0]), rate(consumed[1], consume[1])];
    eprintln!(
        "  backlog (publish_batch + consume by 100) lists {:>8.0}/s  streams {:>8.0}/s  ratio {:.2}",
        consume_rate[0],
        consume_rate[1],
        consume_rate[0] / consume_rate[1]
    );
    for (b, (_, name)) in BACKENDS.iter().enumerate() {
        eprintln!(
            "  pickup {name:<8} p50 {}us p99 {}us max {}us (n={})",
            pickup[b].value_at_quantile(0.5),
            pickup[b].value_at_quantile(0.99),
            pickup[b].max(),
            pickup[b].len()
        );
    }
}

criterion_group!(benches, publish, consume, pickup, side_by_side);
criterion_main!(benches);
