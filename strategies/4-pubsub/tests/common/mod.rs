//! What every strategy-4 test needs: its own Redis, its own mail sink, and the strategy's
//! binary started in the role under test.

#![allow(dead_code)] // each test file uses its own share of these helpers

use kit::client::{Answer, HttpClient};
use kit::RedisServer;
use mailer::{Delivery, Faults, Sink, SinkConfig};
use redis::aio::MultiplexedConnection;
use std::collections::HashMap;
use std::time::Duration;
use testkit::ChildProcess;

pub const BIN: &str = env!("CARGO_BIN_EXE_strategy-4");
/// Generous: CI is a loaded 2-core machine.
pub const DEADLINE: Duration = Duration::from_secs(30);
/// How long a test waits before believing that something that should not happen did not.
pub const QUIET_PERIOD: Duration = Duration::from_secs(2);

pub fn redis() -> RedisServer {
    RedisServer::start().expect("starting redis-server")
}

/// A connection of the test's own, to publish or configure Redis behind the strategy's back.
pub async fn connect(redis: &RedisServer) -> MultiplexedConnection {
    redis::Client::open(redis.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .expect("connecting to the test's redis-server")
}

pub async fn sink() -> Sink {
    sink_with(Faults::default()).await
}

pub async fn sink_with(faults: Faults) -> Sink {
    Sink::start_local(SinkConfig {
        faults,
        ..SinkConfig::default()
    })
    .await
    .expect("starting the mail sink")
}

/// A `--role web` process, healthy (its `/healthz` reached Redis).
pub async fn web(redis: &RedisServer) -> ChildProcess {
    ChildProcess::start_http(BIN, ["--role", "web"], &[("REDIS_URL", &redis.url())])
        .await
        .expect("starting the web role")
}

/// A `--role worker` process that has confirmed its subscription.
pub async fn worker(redis: &RedisServer, sink: &Sink, throttle_ms: u64) -> ChildProcess {
    worker_at(&redis.url(), sink, throttle_ms).await
}

/// The same, reaching Redis through `redis_url` (for instance as another Redis user).
pub async fn worker_at(redis_url: &str, sink: &Sink, throttle_ms: u64) -> ChildProcess {
    worker_with(
        redis_url,
        sink,
        &["--throttle-ms", &throttle_ms.to_string()],
    )
    .await
}

/// A subscribed `--role worker` process with these flags.
pub async fn worker_with(redis_url: &str, sink: &Sink, flags: &[&str]) -> ChildProcess {
    let process = ChildProcess::start(
        BIN,
        ["--role", "worker"].iter().chain(flags),
        &[("REDIS_URL", redis_url), ("SMTP_URL", &sink.url())],
    )
    .expect("starting the worker role");
    expect_log(&process, "worker ready").await;
    process
}

/// `PUBLISH emailz` of a valid email with this subject and text, from the test's own
/// connection; returns the receivers.
pub async fn publish_directly(redis: &mut MultiplexedConnection, subject: &str, text: &str) -> u64 {
    let email = serde_json::json!({"to": "you@example.com", "subject": subject, "text": text});
    redis::AsyncCommands::publish(redis, "emailz", email.to_string())
        .await
        .expect("PUBLISH")
}

/// The `key=N` of the worker's last line, the summary it logs when it stops.
pub fn summary_count(process: &ChildProcess, key: &str) -> usize {
    let logs = process.logs();
    let summary = logs
        .lines()
        .rfind(|l| l.contains("worker stopped"))
        .unwrap_or_else(|| panic!("no summary in:\n{logs}"));
    summary
        .split(&format!("{key}="))
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no {key}= in the summary: {summary}"))
}

/// A memory figure of a process in KiB, from /proc/PID/status: `VmRSS` (resident now) or
/// `VmHWM` (the most it was ever resident).
pub fn memory_kib(process: &ChildProcess, field: &str) -> u64 {
    let pid = process.pid().expect("running");
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc/PID/status");
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in:\n{status}"))
}

/// Waits until `process` has logged `needle`, and fails the test with its output if it
/// never does.
pub async fn expect_log(process: &ChildProcess, needle: &str) {
    assert!(
        process.wait_for_log(needle, DEADLINE).await,
        "no {needle:?} in the output:\n{}",
        process.logs()
    );
}

/// `GET /<to>/<subject>/<text>` with `to` = `<subject>@example.com`.
pub async fn send(web: &ChildProcess, subject: &str) -> Answer {
    let path = format!("/{subject}%40example.com/{subject}/hello%20from%20{subject}");
    HttpClient::default()
        .get(&web.url(&path))
        .await
        .expect("the web role answers")
}

/// Sends one mail that must be accepted, and returns its `receivers`.
pub async fn publish(web: &ChildProcess, subject: &str) -> u64 {
    let answer = send(web, subject).await;
    assert_eq!(answer.status, 200, "{subject}: {:?}", answer.json);
    assert_eq!(answer.json["email"]["subject"], subject);
    receivers(&answer)
}

pub fn receivers(answer: &Answer) -> u64 {
    answer.json["receivers"]
        .as_u64()
        .unwrap_or_else(|| panic!("no receivers in {:?}", answer.json))
}

/// How many times each subject was delivered.
pub fn copies(deliveries: &[Delivery]) -> HashMap<String, usize> {
    let mut copies = HashMap::new();
    for delivery in deliveries {
        *copies.entry(delivery.subject.clone()).or_default() += 1;
    }
    copies
}

/// How many lines of a process's output contain `needle`.
pub fn count_lines(process: &ChildProcess, needle: &str) -> usize {
    process
        .logs()
        .lines()
        .filter(|l| l.contains(needle))
        .count()
}

/// True once `condition` holds; false if `timeout` passed first (testkit's loop).
pub async fn eventually(timeout: Duration, mut condition: impl FnMut() -> bool) -> bool {
    testkit::eventually(timeout, || std::future::ready(condition())).await
}
