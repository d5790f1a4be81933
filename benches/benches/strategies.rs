//! What one request costs on each strategy's web front, against a bare hyper server as the
//! floor, in two groups:
//!
//! * `strategies`: the mail server answers at once (latency 0), so the numbers are what each
//!   strategy adds to a request: an SMTP round trip for 1, a spawn for 2, a hop over a socket
//!   or through Redis for 3 to 6. Read it with that in mind: here strategy 1 looks cheap, and
//!   5 and 6, which do more on the request path than 1 does, look slower than 1.
//! * `strategies-50ms-mailer`: the same, against a mail server that takes 50 ms per message,
//!   as the load harness's does. This is the order the talk teaches: 1 waits for SMTP on
//!   every request, the others answer before the mail is sent.
//!
//! `cargo bench -p benches --bench strategies` writes target/criterion/<group>/report/index.html,
//! one page per group comparing them all. The strategy binaries are built by the bench if
//! needed; a strategy whose binary does not start is skipped with a note.
//!
//! Criterion drives a closed loop (one request after another), which is right for the cost
//! of one request; throughput and loss under load belong to `loadtest compare`.

use criterion::{criterion_group, criterion_main, Criterion};
use kit::client::HttpClient;
use loadtest::catalog::{Strategy, FLOOR, STRATEGIES};
use loadtest::deployment::Deployment;
use mailer::{Faults, Latency, Sink, SinkConfig};
use serde_json::json;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// One group: the floor (the harness's `0 hyper-hello`, a bare hyper server started as a
/// process like the strategies), then every strategy of the catalog (its first variant),
/// each against a sink that takes `mailer_latency_ms` per message.
fn group(c: &mut Criterion, name: &str, mailer_latency_ms: u64) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let bin_dir = loadtest::binaries::profile_dir().unwrap();
    let floor_and_strategies: Vec<&'static Strategy> =
        std::iter::once(&FLOOR).chain(STRATEGIES).collect();
    let packages: Vec<&str> = floor_and_strategies.iter().map(|s| s.binary).collect();
    loadtest::binaries::build(&bin_dir, &packages).unwrap();
    let sink = runtime
        .block_on(Sink::start_local(SinkConfig {
            faults: Faults {
                latency: Latency::fixed(mailer_latency_ms),
                ..Faults::default()
            },
            ..SinkConfig::default()
        }))
        .unwrap();
    let client = HttpClient::new(Duration::from_secs(10));
    let email = json!({"to": "bench@example.com", "subject": "Hello", "text": "World"});

    let mut group = c.benchmark_group(name);
    group
        .sample_size(30)
        .measurement_time(Duration::from_secs(5));

    for strategy in floor_and_strategies {
        let variant = &strategy.variants[0];
        let started = runtime.block_on(Deployment::start(
            strategy,
            variant,
            &bin_dir,
            &sink.url(),
            None,
        ));
        let deployment = match started {
            Ok(deployment) => deployment,
            Err(e) => {
                let reason = loadtest::report::short_error(&e.to_string());
                eprintln!("{name}/{}: skipped: {reason}", strategy.id);
                continue;
            }
        };
        let url = deployment.url("/emails");
        // A closed loop can outrun a strategy's worker: a bounded backlog (3's, 4's) then
        // answers 503, which is an answer too. Counted and printed, so a figure made mostly
        // of refusals says so.
        let (answered, refused) = (AtomicU64::new(0), AtomicU64::new(0));
        group.bench_function(format!("{}-{}", strategy.id, strategy.title), |b| {
            b.to_async(&runtime).iter(|| async {
                let answer = client.post_json(&url, &email).await.unwrap();
                answered.fetch_add(1, Ordering::Relaxed);
                if answer.status.as_u16() == 503 {
                    refused.fetch_add(1, Ordering::Relaxed);
                } else {
                    assert!(answer.status.is_success(), "{}", answer.json);
                }
            })
        });
        let refused = refused.into_inner();
        if refused > 0 {
            eprintln!(
                "{name}/{}: {refused} of {} requests answered 503 (the backlog was full)",
                strategy.id,
                answered.into_inner()
            );
        }
        runtime.block_on(deployment.stop());
    }
    group.finish();
}

fn strategies(c: &mut Criterion) {
    group(c, "strategies", 0);
}

fn strategies_with_a_50ms_mailer(c: &mut Criterion) {
    group(c, "strategies-50ms-mailer", 50);
}

criterion_group!(benches, strategies, strategies_with_a_50ms_mailer);
criterion_main!(benches);
