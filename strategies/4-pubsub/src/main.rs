//! `strategy-4`: the roles of strategy 4 (see the library's docs for the lesson):
//! `--role all` (web and one worker, with a private redis-server when no `REDIS_URL`),
//! `--role web`, `--role worker`.

use clap::{Parser, ValueEnum};
use kit::{HttpArgs, MailArgs, RedisArgs};
use std::sync::Arc;
use std::time::Duration;
use strategy_4::publisher::Publisher;
use strategy_4::worker;
use strategy_4::worker::WorkerConfig;
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;

/// Strategy 4: web processes PUBLISH each email on a Redis channel, worker processes
/// SUBSCRIBE and send. Whoever is not subscribed at that moment never hears of the mail.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Which part to run: `all` (web and one worker in one process), `web` or `worker`.
    /// Any number of web and worker processes can share one Redis; `web` and `worker` need
    /// REDIS_URL to find it.
    #[arg(long, env = "ROLE", value_enum, default_value_t = Role::All)]
    role: Role,
    /// The Redis channel mails travel on.
    #[arg(long, env = "CHANNEL", default_value = "emailz")]
    channel: String,
    /// Worker: pause after each send attempt, in milliseconds (the original sent at most one
    /// mail per second).
    #[arg(long, env = "THROTTLE_MS", default_value_t = 1000)]
    throttle_ms: u64,
    #[command(flatten)]
    http: HttpArgs,
    #[command(flatten)]
    mail: MailArgs,
    #[command(flatten)]
    redis: RedisArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Role {
    All,
    Web,
    Worker,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    kit::logging::init();
    let args = Args::parse();
    if args.role != Role::All && args.redis.redis_url.is_none() {
        // A private Redis would be one that no other web or worker process can reach.
        anyhow::bail!("--role web and --role worker need REDIS_URL (or --redis-url): the processes meet in that Redis");
    }
    let shutdown = kit::shutdown::on_signal();
    // Kept alive until the end: dropping it stops the private redis-server.
    let (redis_url, _private_redis) = kit::embedded::redis(&args.redis)?;
    let client = redis::Client::open(redis_url.as_str())?;
    match args.role {
        Role::Web => run_web(&args, client, shutdown).await,
        Role::Worker => {
            let mail = kit::embedded::mail(&args.mail).await?;
            let config = worker_config(&args, client, mail.mailer.clone());
            worker::run(config, None, shutdown).await;
            Ok(())
        }
        Role::All => {
            let mail = kit::embedded::mail(&args.mail).await?;
            let config = worker_config(&args, client.clone(), mail.mailer.clone());
            let (ready, subscribed) = oneshot::channel();
            let worker = tokio::spawn(worker::run(config, Some(ready), shutdown.clone()));
            // Open the web front only once the worker listens: otherwise the demo's first
            // mails would be published to nobody.
            tokio::select! {
                _ = subscribed => {}
                _ = shutdown.cancelled() => {}
            }
            let served = run_web(&args, client, shutdown.clone()).await;
            // Also when the web front could not start (its port taken): a worker alone
            // would keep the demo running with no way in.
            shutdown.cancel();
            worker.await?;
            served
        }
    }
}

async fn run_web(
    args: &Args,
    client: redis::Client,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let publisher = Arc::new(Publisher::new(client, args.channel.clone())?);
    let listener = kit::http::bind(&args.http.addr()).await?;
    kit::http::serve(listener, publisher, shutdown).await;
    Ok(())
}

fn worker_config(args: &Args, client: redis::Client, mailer: mailer::Mailer) -> WorkerConfig {
    WorkerConfig {
        client,
        channel: args.channel.clone(),
        mailer,
        throttle: Duration::from_millis(args.throttle_ms),
    }
}
