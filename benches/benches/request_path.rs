//! Where a request's time goes on the web fronts that talk to Redis (4, 5, 6), beside the
//! floor (`0 hyper-hello`), in one run: a probe, faster than criterion and with more to say.
//!
//! Each strategy is measured three ways, one after the other:
//!
//! * `web alone`: only its web role, against a Redis of its own without persistence: the
//!   request path and nothing else on the machine; then `web alone, fsync`, the same against
//!   a Redis that syncs its append-only file before answering each write (`appendfsync
//!   always`): what a disk sync per request costs.
//! * `harness`: every role the load harness starts (workers, scheduler, web), against the
//!   harness's Redis (append-only file synced once a second), as `--bench strategies` and
//!   `loadtest compare` run it: what the workers cost the web.
//! * `role all`: `--role all`, one process doing everything, against a Redis without
//!   persistence.
//!
//! For each: the closed-loop answer time (mean, p50, p99, and the mean as a ratio to the
//! floor's, measured first, in the middle and last), the Redis round trips per request
//! (`total_writes_processed` of `INFO stats`: a pipeline or a script is one), the Redis
//! commands per request (`INFO commandstats` before and after, the probe's own INFO left
//! out, the commands a script runs counted one by one; with workers running, their polling
//! is in both), and the CPU time per request of every process (`/proc/<pid>/stat`).
//!
//! Beside each floor it times one Redis round trip (`PING` through redis-rs), so the report
//! can say what the least a request path with one round trip costs on this machine at that
//! moment: floor + round trip. On a 2-core machine a loopback Redis round trip costs about
//! as much as the whole bare HTTP exchange, so that sum is already near 2x the floor.
//!
//! `cargo bench -p benches --bench request_path` (`PROBE_REQUESTS`, default 2000, per setup;
//! `PROBE_STRATEGIES`, default `4,5,6`).
//! On shared cores, read the ratios, never the absolute figures, and note the load average.

use kit::client::HttpClient;
use kit::{RedisOptions, RedisServer};
use loadtest::catalog::{Ready, Strategy, FLOOR};
use loadtest::deployment::Deployment;
use mailer::{Sink, SinkConfig};
use serde_json::json;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};
use testkit::ChildProcess;

mod measure;
use measure::{command_calls, cpu_ticks, ticks_per_second};

/// What one setup measured.
struct Measured {
    label: String,
    answers_us: Vec<f64>,
    /// Redis commands per request, by command, the probe's own `INFO` left out.
    commands: BTreeMap<String, f64>,
    /// Redis round trips per request: replies Redis wrote to its sockets
    /// (`total_writes_processed`; pipelined commands share one write, a script is one).
    round_trips: Option<f64>,
    /// CPU µs per request, by process.
    cpu_us: Vec<(String, f64)>,
}

fn main() {
    let requests: usize = std::env::var("PROBE_REQUESTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(2000);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let bin_dir = loadtest::binaries::profile_dir().unwrap();
    let ids_wanted = std::env::var("PROBE_STRATEGIES").unwrap_or_else(|_| "4,5,6".into());
    let ids: Vec<&str> = ids_wanted.split(',').map(str::trim).collect();
    let strategies: Vec<&'static Strategy> = ids
        .iter()
        .map(|id| loadtest::catalog::find(id).unwrap())
        .collect();
    let mut packages: Vec<&str> = strategies.iter().map(|s| s.binary).collect();
    packages.push(FLOOR.binary);
    loadtest::binaries::build(&bin_dir, &packages).unwrap();
    let sink = runtime
        .block_on(Sink::start_local(SinkConfig::default()))
        .unwrap();

    let mut results = Vec::new();
    let floor = |runtime: &tokio::runtime::Runtime| {
        runtime.block_on(async {
            let deployment =
                Deployment::start(&FLOOR, &FLOOR.variants[0], &bin_dir, &sink.url(), None)
                    .await
                    .unwrap();
            let measured = measure(
                "0 hyper-hello",
                &deployment.url("/emails"),
                None,
                &deployment.pids(),
                requests,
            )
            .await;
            deployment.stop().await;
            measured
        })
    };
    // Each time the floor is measured, one Redis round trip is too, right after it.
    let mut round_trips_us = Vec::new();
    results.push(floor(&runtime));
    round_trips_us.push(runtime.block_on(redis_round_trip_us(requests)));
    for (index, strategy) in strategies.iter().enumerate() {
        if index > 0 && index == strategies.len() / 2 {
            results.push(floor(&runtime));
            round_trips_us.push(runtime.block_on(redis_round_trip_us(requests)));
        }
        let variant = &strategy.variants[0];
        runtime.block_on(async {
            // Web alone, against a Redis without persistence, then against one that syncs
            // its append-only file before answering each write.
            let web = strategy
                .roles
                .iter()
                .find(|role| matches!(role.ready, Ready::Http))
                .unwrap();
            let args: Vec<&str> = web
                .args
                .iter()
                .copied()
                .chain(variant.args_for(web.name))
                .collect();
            for aof in [false, true] {
                let redis = RedisServer::start_with(RedisOptions {
                    aof,
                    ..RedisOptions::default()
                })
                .unwrap();
                let process = start(&bin_dir, strategy.binary, &args, &redis, &sink.url()).await;
                let label = format!(
                    "{} web alone{}",
                    strategy.id,
                    if aof { ", fsync" } else { "" }
                );
                results.push(measure_one(&label, &process, "web", &redis, requests).await);
            }

            // As the harness runs it.
            let deployment = Deployment::start(strategy, variant, &bin_dir, &sink.url(), None)
                .await
                .unwrap();
            let label = format!("{} harness", strategy.id);
            let redis_url = deployment.redis_url();
            results.push(
                measure(
                    &label,
                    &deployment.url("/emails"),
                    redis_url.as_deref(),
                    &deployment.pids(),
                    requests,
                )
                .await,
            );
            deployment.stop().await;

            // One process, against a Redis without persistence.
            let redis = RedisServer::start().unwrap();
            let process = start(
                &bin_dir,
                strategy.binary,
                &["--role", "all"],
                &redis,
                &sink.url(),
            )
            .await;
            let label = format!("{} role all", strategy.id);
            results.push(measure_one(&label, &process, "all", &redis, requests).await);
        });
    }
    results.push(floor(&runtime));
    round_trips_us.push(runtime.block_on(redis_round_trip_us(requests)));
    report(&results, &round_trips_us, requests);
}

/// Starts `binary` with `args` (and `--port`), against `redis` and the sink, until healthy.
async fn start(
    bin_dir: &Path,
    binary: &str,
    args: &[&str],
    redis: &RedisServer,
    smtp_url: &str,
) -> ChildProcess {
    let redis_url = redis.url();
    let envs = [("REDIS_URL", redis_url.as_str()), ("SMTP_URL", smtp_url)];
    ChildProcess::start_http(bin_dir.join(binary), args, &envs)
        .await
        .unwrap()
}

/// [`measure`] for one process of ours (named `role`) and its own Redis.
async fn measure_one(
    label: &str,
    process: &ChildProcess,
    role: &str,
    redis: &RedisServer,
    requests: usize,
) -> Measured {
    let pids = [
        (role, process.pid().unwrap()),
        ("redis", redis.pid().unwrap()),
    ];
    let url = process.url("/emails");
    measure(label, &url, Some(&redis.url()), &pids, requests).await
}

/// A warm-up, then `requests` closed-loop `POST /emails`.
async fn measure(
    label: &str,
    url: &str,
    redis_url: Option<&str>,
    pids: &[(&str, u32)],
    requests: usize,
) -> Measured {
    let client = HttpClient::new(Duration::from_secs(10));
    let email = json!({"to": "probe@example.com", "subject": "Hello", "text": "World"});
    for _ in 0..requests / 10 {
        client.post_json(url, &email).await.unwrap();
    }
    let mut redis = match redis_url {
        Some(url) => Some(
            redis::Client::open(url)
                .unwrap()
                .get_multiplexed_async_connection()
                .await
                .unwrap(),
        ),
        None => None,
    };
    let commands_before = match &mut redis {
        Some(con) => command_calls(con).await,
        None => BTreeMap::new(),
    };
    let writes_before = match &mut redis {
        Some(con) => Some(socket_writes(con).await),
        None => None,
    };
    let cpu_before: Vec<u64> = pids.iter().map(|(_, pid)| cpu_ticks(*pid)).collect();
    let mut answers_us = Vec::with_capacity(requests);
    for _ in 0..requests {
        let started = Instant::now();
        let answer = client.post_json(url, &email).await.unwrap();
        answers_us.push(started.elapsed().as_secs_f64() * 1e6);
        assert!(answer.status.is_success(), "{label}: {}", answer.json);
    }
    let cpu_us = pids
        .iter()
        .zip(cpu_before)
        .map(|((name, pid), before)| {
            let ticks = cpu_ticks(*pid).saturating_sub(before);
            (
                name.to_string(),
                ticks as f64 * 1e6 / ticks_per_second() / requests as f64,
            )
        })
        .collect();
    // The reply to the `INFO` that read `writes_before` was written after it: one write of
    // the probe's own to leave out.
    let round_trips = match (&mut redis, writes_before) {
        (Some(con), Some(before)) => {
            let after = socket_writes(con).await;
            Some(after.saturating_sub(before + 1) as f64 / requests as f64)
        }
        _ => None,
    };
    let commands = match &mut redis {
        Some(con) => {
            let after = command_calls(con).await;
            after
                .into_iter()
                .map(|(name, calls)| {
                    let before = commands_before.get(&name).copied().unwrap_or(0);
                    (name, (calls - before) as f64 / requests as f64)
                })
                .filter(|(_, per_request)| *per_request > 0.0)
                .collect()
        }
        None => BTreeMap::new(),
    };
    eprintln!("{label}: done");
    Measured {
        label: label.to_string(),
        answers_us,
        commands,
        round_trips,
        cpu_us,
    }
}

/// `total_writes_processed` of `INFO stats`: how many times Redis wrote replies to a
/// client socket. A request that costs one round trip costs one write, however many
/// commands its pipeline or script holds.
async fn socket_writes(con: &mut redis::aio::MultiplexedConnection) -> u64 {
    let info: String = redis::cmd("INFO")
        .arg("stats")
        .query_async(con)
        .await
        .unwrap();
    info.lines()
        .find_map(|line| line.strip_prefix("total_writes_processed:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
}

/// The mean time of one Redis round trip (`PING`) from this process through redis-rs, the
/// client the strategies use, against a Redis without persistence: what one round trip adds
/// to a request at the least.
async fn redis_round_trip_us(requests: usize) -> f64 {
    let redis = RedisServer::start().unwrap();
    let con = redis::Client::open(redis.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let ping = || {
        let mut con = con.clone();
        async move {
            let _: String = redis::cmd("PING").query_async(&mut con).await.unwrap();
        }
    };
    for _ in 0..requests / 10 {
        ping().await;
    }
    let started = Instant::now();
    for _ in 0..requests {
        ping().await;
    }
    started.elapsed().as_secs_f64() * 1e6 / requests as f64
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)]
}

fn report(results: &[Measured], round_trips_us: &[f64], requests: usize) {
    let mean = |m: &Measured| m.answers_us.iter().sum::<f64>() / m.answers_us.len() as f64;
    let floors: Vec<f64> = results
        .iter()
        .filter(|m| m.label.starts_with("0 "))
        .map(mean)
        .collect();
    let floor = floors.iter().sum::<f64>() / floors.len() as f64;
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "\n{requests} closed-loop POST /emails per setup; floor mean {floor:.0} µs (runs: {}); load average {}",
        floors.iter().map(|f| format!("{f:.0}")).collect::<Vec<_>>().join(", "),
        load.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
    );
    let round_trip = round_trips_us.iter().sum::<f64>() / round_trips_us.len() as f64;
    println!(
        "one Redis round trip (PING through redis-rs) {round_trip:.0} µs (runs: {}): a request \
         path with one round trip costs at least floor + round trip = {:.0} µs, {:.2}x the floor",
        round_trips_us
            .iter()
            .map(|f| format!("{f:.0}"))
            .collect::<Vec<_>>()
            .join(", "),
        floor + round_trip,
        (floor + round_trip) / floor
    );
    println!(
        "{:<18} {:>8} {:>8} {:>8} {:>7} {:>6}  {:<40} cpu µs/request",
        "setup", "mean µs", "p50", "p99", "x floor", "trips", "redis commands/request"
    );
    for m in results {
        let mut sorted = m.answers_us.clone();
        sorted.sort_by(f64::total_cmp);
        let total: f64 = m.commands.values().sum();
        let commands = if m.commands.is_empty() {
            "-".to_string()
        } else {
            let each: Vec<String> = m
                .commands
                .iter()
                .map(|(name, n)| format!("{name} {n:.2}"))
                .collect();
            format!("{total:.2}: {}", each.join(", "))
        };
        let cpu: Vec<String> = m
            .cpu_us
            .iter()
            .map(|(name, us)| format!("{name} {us:.0}"))
            .collect();
        let trips = m
            .round_trips
            .map_or("-".to_string(), |trips| format!("{trips:.2}"));
        println!(
            "{:<18} {:>8.0} {:>8.0} {:>8.0} {:>7.2} {:>6}  {:<40} {}",
            m.label,
            mean(m),
            percentile(&sorted, 0.5),
            percentile(&sorted, 0.99),
            mean(m) / floor,
            trips,
            commands,
            cpu.join(", ")
        );
    }
}
