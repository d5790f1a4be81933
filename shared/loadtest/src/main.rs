//! `loadtest compare`: runs the strategies side by side and writes the report.
//!
//! ```text
//! loadtest compare --strategies 1,2 --scenarios steady,worker-crash --requests 200 --rate 100
//! ```
//!
//! See the library's documentation (`shared/loadtest/src/lib.rs`) for how a run works.

use anyhow::Context;
use clap::{Parser, Subcommand};
use loadtest::catalog::{self, Strategy};
use loadtest::run::RunSettings;
use loadtest::scenario::Scenario;
use std::path::PathBuf;
use std::time::Duration;

/// The side-by-side load harness: latency and loss of every strategy under faults.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run every selected strategy (and variant) under every selected scenario, then write
    /// report.json, report.md and SVG charts.
    Compare(CompareArgs),
    /// Run each selected strategy under a long steady load and print its processes'
    /// resident memory (RSS, MiB) at the start, every `--every` requests, and at the end:
    /// what stays flat is bounded, what keeps rising is not.
    Memory(MemoryArgs),
    /// Serve the floor every report carries as `0 hyper-hello`: a bare hyper server that
    /// answers 202 to `POST /emails` and does no work (the harness starts it by itself).
    Hello(HelloArgs),
}

#[derive(clap::Args, Debug)]
struct HelloArgs {
    /// Port to listen on.
    #[arg(long, default_value_t = 3000)]
    port: u16,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
}

#[derive(clap::Args, Debug)]
struct CompareArgs {
    /// Strategies to run, by number (default: every strategy of the catalog).
    #[arg(long, value_delimiter = ',', value_parser = parse_strategy)]
    strategies: Vec<&'static Strategy>,
    /// Scenarios to run each strategy under.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "steady,flaky-mailer,worker-crash,redis-restart,late-worker"
    )]
    scenarios: Vec<Scenario>,
    /// Variants to run, by name (`reliable`, `at-least-once`, ...; default: every variant
    /// of each selected strategy).
    #[arg(long, value_delimiter = ',')]
    variants: Vec<String>,
    /// Requests per run.
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u64).range(2..=1_000_000))]
    requests: u64,
    /// Requests per second (open loop: sent on schedule, answered or not).
    #[arg(long, default_value_t = 100.0, value_parser = parse_rate)]
    rate: f64,
    /// The mail server's latency per message. Above zero, mail is in flight long enough for
    /// a crash to catch some.
    #[arg(long, default_value_t = 50)]
    mailer_latency_ms: u64,
    /// Longest wait, after the load, for delivery to settle.
    #[arg(long, default_value_t = 30.0)]
    settle_s: f64,
    /// Delivery has settled once no new mail arrived for this long. Long enough for a
    /// restarted worker to take over its predecessor's work (leases, dead-worker checks).
    #[arg(long, default_value_t = 5.0)]
    quiet_s: f64,
    /// Directory for report.json, report.md, the charts and each run's logs
    /// (default: reports/<UTC time>/).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Makes the run repeatable: which messages the flaky mail server refuses depends on
    /// this seed and on each message, not on chance or on the order sends arrive in.
    #[arg(long)]
    seed: Option<u64>,
    /// Where the strategy binaries are (default: the directory of this executable, where
    /// cargo puts every binary of the workspace).
    #[arg(long)]
    bin_dir: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
struct MemoryArgs {
    /// Strategies to run, by number, one after another.
    #[arg(long, value_delimiter = ',', value_parser = parse_strategy, required = true)]
    strategies: Vec<&'static Strategy>,
    /// The variant to run, by name, for the strategies that have it (default: each
    /// strategy's first variant).
    #[arg(long)]
    variant: Option<String>,
    /// Requests per strategy.
    #[arg(long, default_value_t = 100_000, value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    requests: u64,
    /// Requests per second (open loop).
    #[arg(long, default_value_t = 1000.0, value_parser = parse_rate)]
    rate: f64,
    /// Read RSS each time this many more requests were sent.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..))]
    every: u64,
    /// The mail server's latency per message; a slow one makes the queues fill.
    #[arg(long, default_value_t = 50)]
    mailer_latency_ms: u64,
    /// Longest wait, after the load, for delivery to settle.
    #[arg(long, default_value_t = 60.0)]
    settle_s: f64,
    /// Delivery has settled once no new mail arrived for this long.
    #[arg(long, default_value_t = 3.0)]
    quiet_s: f64,
    /// Where the strategy binaries are (default: the directory of this executable).
    #[arg(long)]
    bin_dir: Option<PathBuf>,
}

async fn memory(args: MemoryArgs) -> anyhow::Result<()> {
    let settings = loadtest::memory_run::MemorySettings {
        requests: args.requests as usize,
        rate: args.rate,
        every: args.every as usize,
        mailer_latency_ms: args.mailer_latency_ms,
        settle: Duration::from_secs_f64(args.settle_s.max(0.0)),
        quiet: Duration::from_secs_f64(args.quiet_s.max(0.1)),
        bin_dir: match args.bin_dir {
            Some(dir) => dir,
            None => loadtest::binaries::profile_dir()?,
        },
    };
    if let Some(name) = &args.variant {
        let known = args
            .strategies
            .iter()
            .any(|s| s.variants.iter().any(|v| v.name == name));
        anyhow::ensure!(known, "no selected strategy has a variant {name:?}");
    }
    println!(
        "RSS in MiB; {} requests at {}/s, mail server latency {} ms\n",
        settings.requests, settings.rate, settings.mailer_latency_ms
    );
    for strategy in args.strategies {
        let variant = match &args.variant {
            Some(name) => strategy
                .variants
                .iter()
                .find(|v| v.name == name)
                .unwrap_or(&strategy.variants[0]),
            None => &strategy.variants[0],
        };
        let progress = |phase: String| eprintln!("{}: {phase}", strategy.label(variant));
        let run = loadtest::memory_run::run(strategy, variant, &settings, &progress)
            .await
            .with_context(|| format!("strategy {}", strategy.id))?;
        println!("{}", loadtest::memory_run::table(&run));
    }
    Ok(())
}

fn parse_strategy(id: &str) -> Result<&'static Strategy, String> {
    catalog::find(id.trim()).ok_or_else(|| {
        let ids: Vec<_> = catalog::STRATEGIES.iter().map(|s| s.id).collect();
        format!("unknown strategy {id:?}; known: {}", ids.join(", "))
    })
}

fn parse_rate(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(rate) if rate > 0.0 && rate <= 100_000.0 => Ok(rate),
        _ => Err(format!(
            "{s:?} is not a rate between 0 and 100000 per second"
        )),
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = match Cli::parse().command {
        Command::Compare(args) => args,
        Command::Memory(args) => return memory(args).await,
        Command::Hello(args) => {
            return loadtest::floor::serve(&format!("{}:{}", args.host, args.port)).await
        }
    };
    let bin_dir = match args.bin_dir {
        Some(dir) => dir,
        None => loadtest::binaries::profile_dir()?,
    };
    let settings = RunSettings {
        requests: args.requests as usize,
        rate: args.rate,
        mailer_latency_ms: args.mailer_latency_ms,
        settle: Duration::from_secs_f64(args.settle_s.max(0.0)),
        quiet: Duration::from_secs_f64(args.quiet_s.max(0.1)),
        bin_dir,
        seed: args.seed,
    };
    let out = args.out.unwrap_or_else(|| {
        let now = chrono::Utc::now().format("%Y-%m-%d-%H%M%S");
        PathBuf::from("reports").join(now.to_string())
    });
    let mut strategies = args.strategies;
    if strategies.is_empty() {
        strategies = catalog::STRATEGIES.iter().collect();
    }
    strategies.dedup_by_key(|s| s.id);
    let mut scenarios = args.scenarios;
    scenarios.dedup();
    for name in &args.variants {
        let known = strategies
            .iter()
            .any(|s| s.variants.iter().any(|v| v.name == name));
        anyhow::ensure!(known, "no selected strategy has a variant {name:?}");
    }
    loadtest::compare::compare(&strategies, &scenarios, &args.variants, &settings, &out)
        .await
        .context("the comparison failed")?;
    println!("{}", out.join("report.md").display());
    Ok(())
}
