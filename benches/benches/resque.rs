//! Strategy 5's queue on a private redis-server: what one enqueue costs, what a pipelined
//! bulk enqueue costs per job, and how fast a worker drains a queue of no-op jobs.
//!
//! `cargo bench -p benches --bench resque` writes target/criterion/resque/report/index.html.
//! For the comparison with node-resque, see scripts/peers/bench-resque.

mod common;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use serde_json::json;
use std::time::Duration;
use strategy_5::{JobDef, Jobs, Queue};

const BULK: usize = 1000;

fn resque(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (_redis, client, queue) = common::private_queue(&rt);
    let flush = |queue: &Queue| {
        rt.block_on(async {
            let _: () = redis::cmd("FLUSHALL")
                .query_async(&mut queue.connection())
                .await
                .unwrap();
        })
    };

    let mut group = c.benchmark_group("resque");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(5));

    group.throughput(Throughput::Elements(1));
    group.bench_function("enqueue", |b| {
        b.to_async(&rt).iter(|| async {
            queue
                .enqueue("bench", "noop", vec![json!(1)])
                .await
                .unwrap()
        })
    });
    flush(&queue);

    group.throughput(Throughput::Elements(BULK as u64));
    let jobs: Vec<_> = (0..BULK)
        .map(|i| ("bench".to_string(), "noop".to_string(), vec![json!(i)]))
        .collect();
    group.bench_function(BenchmarkId::new("enqueue_bulk", BULK), |b| {
        b.to_async(&rt)
            .iter(|| async { queue.enqueue_bulk(&jobs).await.unwrap() })
    });
    flush(&queue);

    for slots in [1usize, 8] {
        group.throughput(Throughput::Elements(BULK as u64));
        group.bench_function(
            BenchmarkId::new("process", format!("{BULK}_jobs_{slots}_slots")),
            |b| {
                b.to_async(&rt).iter_custom(|iters| {
                    let (queue, client, jobs) = (queue.clone(), client.clone(), jobs.clone());
                    async move {
                        let mut total = Duration::ZERO;
                        for _ in 0..iters {
                            let _: () = redis::cmd("FLUSHALL")
                                .query_async(&mut queue.connection())
                                .await
                                .unwrap();
                            queue.enqueue_bulk(&jobs).await.unwrap();
                            total += drain(&queue, &client, slots).await;
                        }
                        total
                    }
                })
            },
        );
    }
    group.finish();
}

/// Runs a multi-worker with `slots` fixed slots until the queue of no-op jobs is empty.
async fn drain(queue: &Queue, client: &redis::Client, slots: usize) -> Duration {
    let jobs = Jobs::new().with("noop", JobDef::new(|_| async { Ok(json!(null)) }));
    common::drain(queue, client, jobs, vec!["bench".into()], slots, BULK).await
}

criterion_group!(benches, resque);
criterion_main!(benches);
