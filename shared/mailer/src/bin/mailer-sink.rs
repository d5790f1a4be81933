//! `mailer-sink`: the SMTP sink on its own, printing one line per delivery (like MailHog).
//!
//! ```text
//! cargo run -p mailer --bin mailer-sink -- --port 2525 --ledger mail.jsonl --latency-ms 20..80
//! ```

use clap::Parser;
use mailer::sink::{parse_rate, Faults, Latency, Sink, SinkConfig};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

/// A real SMTP server that accepts every message (or fails on purpose) and records it.
// No bare `about`: it would show the mailer package's description instead of this line.
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    /// Address to listen on.
    #[arg(long, env = "HOST", default_value = "127.0.0.1")]
    host: String,
    /// Port to listen on (0 picks a free one).
    #[arg(long, env = "PORT", default_value_t = 2525)]
    port: u16,
    /// Append one JSON line per accepted message to this file.
    #[arg(long, env = "LEDGER")]
    ledger: Option<PathBuf>,
    /// Delay before answering each message: `MS` or `MIN..MAX`.
    #[arg(
        long,
        alias = "latency",
        env = "MAILER_LATENCY_MS",
        default_value = "0"
    )]
    latency_ms: Latency,
    /// Share of messages refused with 451 (transient; clients should retry).
    #[arg(long, env = "MAILER_FAILURE_RATE", default_value = "0", value_parser = parse_rate)]
    failure_rate: f64,
    /// Share of messages refused with 554 (permanent).
    #[arg(long, env = "MAILER_PERMANENT_FAILURE_RATE", default_value = "0", value_parser = parse_rate)]
    permanent_failure_rate: f64,
    /// Share of messages whose connection is closed at the end of DATA, without a reply.
    #[arg(long, env = "MAILER_DROP_RATE", default_value = "0", value_parser = parse_rate)]
    drop_rate: f64,
    /// Make the failures repeatable: which messages fail depends on this seed and on each
    /// message (recipient, subject, text, and how often it was sent before), not on chance.
    #[arg(long, env = "MAILER_SEED")]
    seed: Option<u64>,
    /// Do not set TCP_QUICKACK (shows lettre's ~40 ms Nagle stall per message).
    #[arg(long)]
    no_quickack: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // As kit::logging does it (mailer cannot depend on kit): colours only on a terminal,
    // so a redirected log stays plain text.
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_target(false)
        .with_ansi(std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none())
        // A closed stdout must not panic the logging task (see kit::logging).
        .log_internal_errors(false)
        .init();
    let args = Args::parse();
    let config = SinkConfig {
        faults: Faults {
            latency: args.latency_ms,
            failure_rate: args.failure_rate,
            permanent_failure_rate: args.permanent_failure_rate,
            drop_rate: args.drop_rate,
            seed: args.seed,
        },
        ledger: args.ledger.clone(),
        quickack: !args.no_quickack,
        log_deliveries: true,
    };
    let sink = Sink::start(&format!("{}:{}", args.host, args.port), config).await?;
    tracing::info!(
        url = %sink.url(),
        ledger = %args.ledger.as_deref().unwrap_or(Path::new("(none)")).display(),
        latency = %args.latency_ms,
        failure_rate = args.failure_rate,
        permanent_failure_rate = args.permanent_failure_rate,
        drop_rate = args.drop_rate,
        "mailer-sink listening"
    );
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    let stats = sink.stats();
    tracing::info!(
        accepted = stats.accepted,
        transient_failures = stats.transient_failures,
        permanent_failures = stats.permanent_failures,
        dropped = stats.dropped,
        sender_hung_up = stats.aborted,
        "mailer-sink stopped"
    );
    Ok(())
}
