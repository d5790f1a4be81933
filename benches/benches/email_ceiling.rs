//! The physical ceiling of any email strategy on this machine, and how near 5 and 6 come to
//! it draining a backlog, in one run: a probe, not criterion.
//!
//! * `ceiling`: lettre's pooled transport (`mailer::Mailer`, the client every strategy sends
//!   through) blasting the sink from 64 tasks at once, no queue at all.
//! * `5 worker`: the strategy-5 binary's worker role, started and ready, then `CEILING_MAILS`
//!   `sendEmail` jobs pushed in one bulk enqueue; timed until the sink holds them all.
//! * `6 consumer`: the strategy-6 binary's consumer role, ready, then as many email events
//!   published in one batch; timed the same way.
//!
//! `cargo bench -p benches --bench email_ceiling` (`CEILING_MAILS`, default 4000;
//! `CEILING_LATENCY_MS`, the sink's latency per message, default 0). Read the ratios.

use kit::RedisServer;
use loadtest::binaries;
use mailer::{Email, Faults, Latency, Mailer, Sink, SinkConfig};
use serde_json::json;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use testkit::ChildProcess;

const SENDERS: usize = 64;
const DEADLINE: Duration = Duration::from_secs(300);

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let mails = env_or("CEILING_MAILS", 4000) as usize;
    let latency_ms = env_or("CEILING_LATENCY_MS", 0);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let bin_dir = binaries::profile_dir().unwrap();
    binaries::build(&bin_dir, &["strategy-5", "strategy-6"]).unwrap();
    let results = runtime.block_on(async {
        let ceiling = mails as f64 / ceiling(mails, latency_ms).await.as_secs_f64();
        let resque = mails as f64
            / resque_drain(&bin_dir, mails, latency_ms)
                .await
                .as_secs_f64();
        let log = mails as f64
            / event_log_drain(&bin_dir, mails, latency_ms)
                .await
                .as_secs_f64();
        [
            ("ceiling", ceiling),
            ("5 worker", resque),
            ("6 consumer", log),
        ]
    });
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "\n{mails} mails, sink latency {latency_ms} ms; load average {}",
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    let top = results[0].1;
    for (name, rate) in results {
        println!(
            "{name:<12} {rate:>8.0} mails/s  {:>5.2} of the ceiling",
            rate / top
        );
    }
}

async fn sink(latency_ms: u64) -> Sink {
    Sink::start_local(SinkConfig {
        faults: Faults {
            latency: Latency::fixed(latency_ms),
            ..Faults::default()
        },
        ..SinkConfig::default()
    })
    .await
    .unwrap()
}

fn email(i: usize) -> Email {
    Email::new(
        format!("user{i}@example.com"),
        format!("ceiling #{i}"),
        "hi",
    )
    .unwrap()
}

/// `mails` sends from [`SENDERS`] tasks through one pooled client.
async fn ceiling(mails: usize, latency_ms: u64) -> Duration {
    let sink = sink(latency_ms).await;
    let mailer = Arc::new(Mailer::from_url(&sink.url(), SENDERS as u32).unwrap());
    let started = Instant::now();
    let tasks: Vec<_> = (0..SENDERS)
        .map(|sender| {
            let mailer = mailer.clone();
            tokio::spawn(async move {
                for i in (sender..mails).step_by(SENDERS) {
                    mailer.send(&email(i)).await.unwrap();
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    started.elapsed()
}

/// Starts `binary` with `args` against `redis` and `sink`, until it logs its ready line.
async fn start_ready(
    bin_dir: &Path,
    binary: &str,
    args: &[&str],
    role: &str,
    redis: &RedisServer,
    sink: &Sink,
) -> ChildProcess {
    let (redis_url, smtp_url) = (redis.url(), sink.url());
    let envs = [
        ("REDIS_URL", redis_url.as_str()),
        ("SMTP_URL", smtp_url.as_str()),
    ];
    let process = ChildProcess::start(bin_dir.join(binary), args, &envs).unwrap();
    assert!(
        process
            .wait_for_log(&kit::ready::words(role), Duration::from_secs(30))
            .await,
        "{}",
        process.logs()
    );
    process
}

async fn drained(sink: &Sink, mails: usize, started: Instant, process: &ChildProcess) -> Duration {
    assert!(sink.wait_for(mails, DEADLINE).await, "{}", process.logs());
    started.elapsed()
}

async fn resque_drain(bin_dir: &Path, mails: usize, latency_ms: u64) -> Duration {
    let (redis, sink) = (RedisServer::start().unwrap(), sink(latency_ms).await);
    let worker = start_ready(
        bin_dir,
        "strategy-5",
        &["--role", "worker"],
        "worker",
        &redis,
        &sink,
    )
    .await;
    let queue = strategy_5::Queue::connect(&redis.url()).await.unwrap();
    let jobs: Vec<_> = (0..mails)
        .map(|i| {
            let e = email(i);
            let args = vec![json!({ "to": e.to, "subject": e.subject, "text": e.text })];
            ("emailQueue".to_string(), "sendEmail".to_string(), args)
        })
        .collect();
    let started = Instant::now();
    queue.enqueue_bulk(&jobs).await.unwrap();
    drained(&sink, mails, started, &worker).await
}

async fn event_log_drain(bin_dir: &Path, mails: usize, latency_ms: u64) -> Duration {
    let (redis, sink) = (RedisServer::start().unwrap(), sink(latency_ms).await);
    let args = ["--role", "consumer", "--group", "mailer"];
    let consumer = start_ready(bin_dir, "strategy-6", &args, "consumer", &redis, &sink).await;
    let log = strategy_6::Log::connect(
        strategy_6::Connector::Single(redis.url()),
        strategy_6::LogConfig::default(),
    )
    .await
    .unwrap();
    let events: Vec<_> = (0..mails)
        .map(|i| {
            let e = email(i);
            let payload = serde_json::to_value(&e).unwrap();
            strategy_6::NewEvent::new("emailEvent", e.to.clone(), payload)
        })
        .collect();
    let started = Instant::now();
    log.publish_batch(events).await.unwrap();
    drained(&sink, mails, started, &consumer).await
}
