//! Strategy 4 in one process, through a real Redis and a real SMTP sink:
//!
//! * `pubsub/publish`: what the web front's answer waits for, one PUBLISH round trip
//!   (on a channel nobody listens to, so the worker stays idle);
//! * `pubsub/publish-to-delivery`: from PUBLISH to the sink's `250`, through the worker's
//!   subscription, backlog and SMTP send (throttle 0).
//!
//! `cargo bench -p benches --bench pubsub` writes target/criterion/pubsub/report/index.html.

use criterion::{criterion_group, criterion_main, Criterion};
use kit::{EmailService, RedisServer};
use mailer::{Email, Mailer, Sink, SinkConfig};
use std::time::Duration;
use strategy_4::publisher::Publisher;
use strategy_4::worker::{self, WorkerConfig};
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;

fn pubsub(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let redis = RedisServer::start().unwrap();
    let client = redis::Client::open(redis.url()).unwrap();
    let shutdown = CancellationToken::new();
    // Built inside the runtime: lettre's pool and the lazy Redis connection spawn tasks.
    let (sink, heard, unheard) = rt.block_on(async {
        let sink = Sink::start_local(SinkConfig::default()).await.unwrap();
        let config = WorkerConfig {
            client: client.clone(),
            channel: "emailz".into(),
            mailer: Mailer::from_url(&sink.url(), 1).unwrap(),
            throttle: Duration::ZERO,
        };
        let (ready, subscribed) = oneshot::channel();
        tokio::spawn(worker::run(config, Some(ready), shutdown.clone()));
        subscribed.await.unwrap();
        let heard = Publisher::new(client.clone(), "emailz".into()).unwrap();
        let unheard = Publisher::new(client, "nobody-listens".into()).unwrap();
        (sink, heard, unheard)
    });
    let email = Email::new("bench@example.com", "Hello", "World").unwrap();

    let mut group = c.benchmark_group("pubsub");
    group
        .sample_size(30)
        .measurement_time(Duration::from_secs(5));
    group.bench_function("publish", |b| {
        b.to_async(&rt)
            .iter(|| async { unheard.submit(email.clone()).await.unwrap() })
    });
    group.bench_function("publish-to-delivery", |b| {
        b.to_async(&rt).iter(|| async {
            let delivered = sink.stats().accepted as usize;
            heard.submit(email.clone()).await.unwrap();
            assert!(sink.wait_for(delivered + 1, Duration::from_secs(10)).await);
        })
    });
    group.finish();
    shutdown.cancel();
}

criterion_group!(benches, pubsub);
criterion_main!(benches);
