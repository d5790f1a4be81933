//! What one SMTP send costs through lettre to the sink, with and without the sink's
//! `TCP_QUICKACK` workaround for lettre's Nagle stall (see shared/mailer/src/sink/quickack.rs).
//!
//! `cargo bench -p benches --bench mailer` writes target/criterion/mailer/report/index.html.

use criterion::{criterion_group, criterion_main, Criterion};
use mailer::{Email, Mailer, Sink, SinkConfig};
use std::time::Duration;

fn send(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    // lettre's pool spawns a task when it is built and when it is dropped: stay inside the runtime.
    let _inside = rt.enter();
    let email = Email::new("bench@example.com", "Hello", "World").unwrap();
    let mut group = c.benchmark_group("mailer");
    group
        .sample_size(30)
        .measurement_time(Duration::from_secs(5));
    for quickack in [true, false] {
        let sink = rt
            .block_on(Sink::start_local(SinkConfig {
                quickack,
                ..SinkConfig::default()
            }))
            .unwrap();
        let mailer = Mailer::from_url(&sink.url(), 1).unwrap();
        let name = if quickack {
            "send/quickack"
        } else {
            "send/no-quickack"
        };
        group.bench_function(name, |b| {
            b.to_async(&rt)
                .iter(|| async { mailer.send(&email).await.unwrap() })
        });
    }
    group.finish();
}

criterion_group!(benches, send);
criterion_main!(benches);
