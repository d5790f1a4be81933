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
//! * `5 worker, pool 64`, then `5 worker, 64 slots, pool 64`: the same with as many SMTP
//!   connections as the ceiling's client keeps (`SMTP_POOL_SIZE=64`), then also with every
//!   slot started at once (`--min 64`): what the default pool of 10 and the slot ramp cost.
//!
//! For each, where the time goes: the CPU time per mail of every process (`/proc/<pid>/stat`;
//! the sink runs inside this probe, so the ceiling's row is client and sink together, and the
//! drains' `sink` row also holds the enqueue and the probe's waiting), the rate those CPU
//! times allow on this machine's cores if nothing else ran (cores / CPU per mail), and the
//! Redis commands per mail (`INFO commandstats` before and after; a script's commands are
//! counted one by one, so this is Redis's work, not the round trips).
//!
//! `cargo bench -p benches --bench email_ceiling` (`CEILING_MAILS`, default 4000;
//! `CEILING_LATENCY_MS`, the sink's latency per message, default 0). Read the ratios.

use kit::RedisServer;
use loadtest::binaries;
use mailer::{Email, Faults, Latency, Mailer, Sink, SinkConfig};
use serde_json::json;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use testkit::ChildProcess;

mod measure;

const SENDERS: usize = 64;
const DEADLINE: Duration = Duration::from_secs(300);

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// One row: a rate and where it went.
struct Drain {
    label: &'static str,
    rate: f64,
    /// CPU µs per mail, by process.
    cpu_us: Vec<(&'static str, f64)>,
    /// Redis commands per mail, by command.
    commands: BTreeMap<String, f64>,
}

/// CPU (and Redis command) counts taken when the timer starts, to subtract at the end.
struct Meter {
    pids: Vec<(&'static str, u32)>,
    ticks: Vec<u64>,
    redis: Option<redis::aio::MultiplexedConnection>,
    commands: BTreeMap<String, u64>,
}

impl Meter {
    async fn start(pids: Vec<(&'static str, u32)>, redis: Option<&RedisServer>) -> Meter {
        let mut redis = match redis {
            Some(server) => Some(
                redis::Client::open(server.url())
                    .unwrap()
                    .get_multiplexed_async_connection()
                    .await
                    .unwrap(),
            ),
            None => None,
        };
        let commands = match &mut redis {
            Some(con) => measure::command_calls(con).await,
            None => BTreeMap::new(),
        };
        let ticks = pids
            .iter()
            .map(|(_, pid)| measure::cpu_ticks(*pid))
            .collect();
        Meter {
            pids,
            ticks,
            redis,
            commands,
        }
    }

    async fn finish(mut self, label: &'static str, mails: usize, elapsed: Duration) -> Drain {
        let cpu_us = self
            .pids
            .iter()
            .zip(&self.ticks)
            .map(|((name, pid), before)| {
                let ticks = measure::cpu_ticks(*pid).saturating_sub(*before);
                let us = ticks as f64 * 1e6 / measure::ticks_per_second() / mails as f64;
                (*name, us)
            })
            .collect();
        let commands = match &mut self.redis {
            Some(con) => measure::command_calls(con)
                .await
                .into_iter()
                .map(|(name, calls)| {
                    let before = self.commands.get(&name).copied().unwrap_or(0);
                    (name, calls.saturating_sub(before) as f64 / mails as f64)
                })
                .filter(|(_, per_mail)| *per_mail >= 0.01)
                .collect(),
            None => BTreeMap::new(),
        };
        Drain {
            label,
            rate: mails as f64 / elapsed.as_secs_f64(),
            cpu_us,
            commands,
        }
    }
}

fn main() {
    let mails = env_or("CEILING_MAILS", 4000) as usize;
    let latency_ms = env_or("CEILING_LATENCY_MS", 0);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let bin_dir = binaries::profile_dir().unwrap();
    binaries::build(&bin_dir, &["strategy-5", "strategy-6"]).unwrap();
    let results = runtime.block_on(async {
        vec![
            ceiling(mails, latency_ms).await,
            resque_drain(&bin_dir, mails, latency_ms, Slots::Defaults).await,
            resque_drain(&bin_dir, mails, latency_ms, Slots::Pool64).await,
            resque_drain(&bin_dir, mails, latency_ms, Slots::All64).await,
            event_log_drain(&bin_dir, mails, latency_ms).await,
        ]
    });
    report(&results, mails, latency_ms);
}

fn report(results: &[Drain], mails: usize, latency_ms: u64) {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "\n{mails} mails, sink latency {latency_ms} ms, {cores} cores; load average {}",
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    println!(
        "{:<30} {:>8} {:>8}  {:<44} {:>10}  redis commands/mail",
        "setup", "mails/s", "x top", "cpu µs/mail", "cpu bound"
    );
    let top = results[0].rate;
    for drain in results {
        let total: f64 = drain.cpu_us.iter().map(|(_, us)| us).sum();
        let mut cpu: Vec<String> = drain
            .cpu_us
            .iter()
            .map(|(name, us)| format!("{name} {us:.0}"))
            .collect();
        cpu.insert(0, format!("{total:.0}:"));
        let commands = if drain.commands.is_empty() {
            "-".to_string()
        } else {
            let each: Vec<String> = drain
                .commands
                .iter()
                .map(|(name, n)| format!("{name} {n:.2}"))
                .collect();
            let all: f64 = drain.commands.values().sum();
            format!("{all:.2}: {}", each.join(", "))
        };
        // If these processes had the cores to themselves: cores / CPU per mail.
        let bound = cores as f64 * 1e6 / total;
        println!(
            "{:<30} {:>8.0} {:>8.2}  {:<44} {:>10.0}  {}",
            drain.label,
            drain.rate,
            drain.rate / top,
            cpu.join(" "),
            bound,
            commands
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
async fn ceiling(mails: usize, latency_ms: u64) -> Drain {
    let sink = sink(latency_ms).await;
    let mailer = Arc::new(Mailer::from_url(&sink.url(), SENDERS as u32).unwrap());
    let meter = Meter::start(vec![("client + sink", std::process::id())], None).await;
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
    meter.finish("ceiling", mails, started.elapsed()).await
}

/// Starts `binary` with `args` against `redis` and `sink`, until it logs its ready line.
async fn start_ready(
    bin_dir: &Path,
    binary: &str,
    args: &[&str],
    extra_envs: &[(&str, &str)],
    role: &str,
    redis: &RedisServer,
    sink: &Sink,
) -> ChildProcess {
    let (redis_url, smtp_url) = (redis.url(), sink.url());
    let mut envs = vec![
        ("REDIS_URL", redis_url.as_str()),
        ("SMTP_URL", smtp_url.as_str()),
    ];
    envs.extend_from_slice(extra_envs);
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

/// The process, its Redis and the sink (this probe's own process).
fn drain_pids(
    name: &'static str,
    process: &ChildProcess,
    redis: &RedisServer,
) -> Vec<(&'static str, u32)> {
    vec![
        (name, process.pid().unwrap()),
        ("redis", redis.pid().unwrap()),
        ("sink", std::process::id()),
    ]
}

/// How the strategy-5 worker is started for one row.
#[derive(Clone, Copy)]
enum Slots {
    /// The binary's defaults: slots ramp up from 1, 10 SMTP connections.
    Defaults,
    /// The defaults but 64 SMTP connections, one per slot at most.
    Pool64,
    /// 64 slots from the start (`--min 64`) and 64 SMTP connections.
    All64,
}

async fn resque_drain(bin_dir: &Path, mails: usize, latency_ms: u64, slots: Slots) -> Drain {
    let (redis, sink) = (RedisServer::start().unwrap(), sink(latency_ms).await);
    let pool_64: &[(&str, &str)] = &[("SMTP_POOL_SIZE", "64")];
    let (args, envs, label): (&[&str], _, _) = match slots {
        Slots::Defaults => (&["--role", "worker"], &[][..], "5 worker"),
        Slots::Pool64 => (&["--role", "worker"], pool_64, "5 worker, pool 64"),
        Slots::All64 => (
            &["--role", "worker", "--min", "64"],
            pool_64,
            "5 worker, 64 slots, pool 64",
        ),
    };
    let worker = start_ready(bin_dir, "strategy-5", args, envs, "worker", &redis, &sink).await;
    let queue = strategy_5::Queue::connect(&redis.url()).await.unwrap();
    let jobs: Vec<_> = (0..mails)
        .map(|i| {
            let e = email(i);
            let args = vec![json!({ "to": e.to, "subject": e.subject, "text": e.text })];
            ("emailQueue".to_string(), "sendEmail".to_string(), args)
        })
        .collect();
    let meter = Meter::start(drain_pids("worker", &worker, &redis), Some(&redis)).await;
    let started = Instant::now();
    queue.enqueue_bulk(&jobs).await.unwrap();
    let elapsed = drained(&sink, mails, started, &worker).await;
    meter.finish(label, mails, elapsed).await
}

async fn event_log_drain(bin_dir: &Path, mails: usize, latency_ms: u64) -> Drain {
    let (redis, sink) = (RedisServer::start().unwrap(), sink(latency_ms).await);
    let args = ["--role", "consumer", "--group", "mailer"];
    let consumer = start_ready(bin_dir, "strategy-6", &args, &[], "consumer", &redis, &sink).await;
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
    let meter = Meter::start(drain_pids("consumer", &consumer, &redis), Some(&redis)).await;
    let started = Instant::now();
    log.publish_batch(events).await.unwrap();
    let elapsed = drained(&sink, mails, started, &consumer).await;
    meter.finish("6 consumer", mails, elapsed).await
}
