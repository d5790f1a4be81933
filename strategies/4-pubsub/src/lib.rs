//! # Strategy 4: Redis pub/sub between web processes and worker processes
//!
//! The web front PUBLISHes each email on a Redis channel and answers at once; worker
//! processes SUBSCRIBE to that channel, queue what they hear in memory, and send it one at a
//! time. Web and workers now live in separate processes, even on separate machines, and
//! any number of each can run. But Redis pub/sub is a radio broadcast, not a queue: it
//! delivers to whoever is listening at that instant and keeps nothing.
//!
//! ```text
//!  client ──GET──► web ──PUBLISH emailz──► Redis ──► worker A: backlog ──SMTP──► mail server
//!         ◄─ 200 {"receivers": N} ─┘         │  └──► worker B: backlog ──SMTP──► (a second copy)
//!                                            └─ nobody subscribed: N = 0, the mail is gone
//! ```
//!
//! A single web and worker pair delivers (test `one_web_one_worker_delivers`), and
//! `--role all` is the whole demo in one process with a private redis-server
//! (`role_all_runs_the_whole_demo_with_a_private_redis`).
//!
//! ## Delivery guarantee: at-most-once, broadcast
//!
//! Every worker subscribed at the moment of the PUBLISH gets its own copy and sends it at
//! most once, so two workers send every mail twice: pub/sub shares messages, not work
//! (test: `two_workers_deliver_every_mail_twice`). The original demo ignored PUBLISH's
//! reply; here the client sees it as `receivers`. Mail is lost, silently (the client got
//! 200), when:
//!
//! * **nobody is subscribed at the moment of the PUBLISH** (no worker running, all of them
//!   restarting, or between a worker losing its connection and resubscribing): `receivers`
//!   is 0 and the web logs a warning, but nothing else happens. A worker that subscribes a
//!   second later hears nothing of it. Tests: `zero_workers_mean_zero_receivers_and_no_mail`,
//!   `mail_published_while_the_worker_is_not_subscribed_is_lost`. **`--require-receivers`**
//!   turns that silent loss into a refusal: the web answers `503` with a JSON error, so the
//!   client knows (test: `with_require_receivers_a_mail_nobody_heard_is_a_503`). It cannot
//!   help a worker that heard the mail and then died with it.
//! * **a worker dies with a backlog**: its queue was only in its memory. Test:
//!   `killed_worker_loses_its_backlog`.
//! * **a worker is stopped** (SIGTERM/SIGINT): it finishes the mail in progress and logs how
//!   many queued mails it abandons. Graceful shutdown drains nothing from Redis, because
//!   there is nothing in Redis to drain. Test: `sigterm_finishes_the_mail_in_progress_and_counts_the_rest`.
//! * **the SMTP server refuses a mail for good** (5xx): the worker logs an error and gives up.
//!   Transient failures (4xx, dropped connections) go to the back of the queue and are
//!   retried as long as the worker lives. Test: `transient_failures_are_retried_permanent_ones_given_up`.
//! * **Redis drops a subscriber** (a restart, a network cut, or a subscriber that stopped
//!   reading: Redis disconnects it past 32 MiB of unread output, or 8 MiB for 60 s): what was
//!   not yet read is gone, and so is everything published until the worker resubscribes.
//!   The worker resubscribes at once, then with a backoff capped at 500 ms, and logs what
//!   it missed; a connection that went silent is found by a PING every 5 s. When the same
//!   Redis process closed the connection (its `run_id` did not change), the worker says
//!   so: `Redis dropped this subscriber: client-output-buffer-limit pubsub ...`, the mails
//!   Redis had buffered for it are lost (a CLIENT KILL looks the same from the subscriber's
//!   side). Tests: `worker_resubscribes_after_redis_restarts`,
//!   `worker_resubscribes_when_redis_drops_it`, `worker_notices_a_redis_that_stopped_answering`,
//!   `redis_dropping_a_slow_subscriber_is_said_in_the_log`.
//! * **a worker's backlog is full**: a worker reads eagerly, so one that cannot keep up does
//!   not fall behind in Redis: its in-memory backlog grows instead (it logs `queued=N`), and
//!   so does what a crash would lose. It grows up to `--max-backlog` mails (default 2000);
//!   past that, each new mail is dropped with an error line, `backlog full`, counting the
//!   drops. Nothing can make the publisher wait: a full worker can only lose, or grow
//!   without bound. Test: `a_full_backlog_drops_new_mail_and_counts_every_drop`.
//!
//! When the web front cannot reach Redis, the client gets a 503 with an error: that mail is
//! refused, not lost (test: `worker_resubscribes_after_redis_restarts`). One 503 is
//! ambiguous: a PUBLISH that timed out (after 2 s) may have reached Redis before the answer
//! was lost, so a client that retries it can get the mail twice.
//!
//! Bad input gets a 400 and is never published (test:
//! `bad_input_is_refused_and_nothing_is_published`); a message on the channel that is not a
//! valid email is logged and skipped by the worker (test: `garbage_on_the_channel_is_skipped`).
//!
//! ## Roles
//!
//! `--role all` (the default: web and one worker in one process, with a private
//! redis-server when no `REDIS_URL` is given), `web`, `worker`. The split roles meet in one
//! Redis, so they need `REDIS_URL` (`split_roles_require_redis_url`); `--role all` exits
//! when its port is taken rather than run a worker nobody can reach
//! (`role_all_exits_when_its_port_is_taken`).
//!
//! ## Map of the crate
//!
//! * this file: the flags ([`Args`]) and [`run`], which starts the roles;
//! * [`publisher`]: the web role's [`kit::EmailService`], one PUBLISH per mail;
//!   `dashboard.rs`: `/dashboard`, who is subscribed now, what Redis buffers for each, and
//!   what this web process's PUBLISHes were told;
//! * [`worker`]: the worker role, two loops side by side until shutdown: `subscriber.rs`
//!   (the pub/sub connection, resubscribing when Redis drops it; `cut_off.rs` says why it
//!   was dropped) fills `backlog.rs` (the bounded in-memory queue, the only copy of what
//!   the worker heard), and `sender.rs` drains it over SMTP.
//!
//! [`publisher`] and [`worker`] are public so the benchmarks can run both in one process.
//!
//! See ARCHITECTURE.md, section "Strategy 4: Redis pub/sub"

mod backlog;
mod cut_off;
mod dashboard;
pub mod publisher;
mod sender;
mod subscriber;
pub mod worker;

use clap::{Parser, ValueEnum};
use kit::{HttpArgs, MailArgs, RedisArgs};
use publisher::Publisher;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;
use worker::WorkerConfig;

/// Strategy 4: web processes PUBLISH each email on a Redis channel, worker processes
/// SUBSCRIBE and send. Whoever is not subscribed at that moment never hears of the mail.
#[derive(Parser, Debug)]
#[command(version, about)]
pub struct Args {
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
    /// Worker: the most mails waiting in its memory. Past it each new mail from Redis is
    /// dropped, with an error line that counts the drops: pub/sub cannot ask the publisher
    /// to wait, so a worker that cannot keep up either loses mail or grows without bound.
    #[arg(long, env = "MAX_BACKLOG", default_value_t = worker::DEFAULT_MAX_BACKLOG as u32,
          value_parser = clap::value_parser!(u32).range(1..))]
    max_backlog: u32,
    /// Web: a PUBLISH that reached no subscriber answers 503 with a JSON error, so the
    /// client knows the mail will not be sent and can try again. Without it the client is
    /// told 200 (with `"receivers": 0`) for a mail nobody heard, as in the original.
    #[arg(long, env = "REQUIRE_RECEIVERS")]
    require_receivers: bool,
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

/// Runs the roles `--role` names until SIGTERM/SIGINT.
pub async fn run(args: Args) -> anyhow::Result<()> {
    if args.role != Role::All && args.redis.redis_url.is_none() {
        // A private Redis would be one that no other web or worker process can reach.
        anyhow::bail!("--role web and --role worker need REDIS_URL (or --redis-url): the processes meet in that Redis");
    }
    let shutdown = kit::shutdown::on_signal();
    // Kept alive until the end: dropping it stops the private redis-server.
    let (redis_url, _private_redis) = kit::embedded::redis(&args.redis)?;
    let client = redis::Client::open(redis_url.as_str())?;
    match args.role {
        Role::Web => run_web(&args, client, None, shutdown).await,
        Role::Worker => {
            let mail = kit::embedded::mail(&args.mail).await?;
            let config = worker_config(&args, client, mail.mailer.clone());
            worker::run_bounded(config, args.max_backlog as usize, None, shutdown).await;
            Ok(())
        }
        Role::All => {
            let mail = kit::embedded::mail(&args.mail).await?;
            let config = worker_config(&args, client.clone(), mail.mailer.clone());
            let (ready, subscribed) = oneshot::channel();
            // One process: the web role's dashboard can show this worker's backlog.
            let backlog = Arc::new(backlog::Backlog::new(args.max_backlog as usize));
            let worker = tokio::spawn({
                let (backlog, shutdown) = (backlog.clone(), shutdown.clone());
                async move { worker::run_on(config, &backlog, Some(ready), shutdown).await }
            });
            // Open the web front only once the worker listens: otherwise the demo's first
            // mails would be published to nobody.
            tokio::select! {
                _ = subscribed => {}
                _ = shutdown.cancelled() => {}
            }
            let served = run_web(&args, client, Some(backlog), shutdown.clone()).await;
            // Also when the web front could not start (its port taken): a worker alone
            // would keep the demo running with no way in.
            shutdown.cancel();
            worker.await?;
            served
        }
    }
}

/// The web role; `backlog` is the worker's when both run in this process (`--role all`).
async fn run_web(
    args: &Args,
    client: redis::Client,
    backlog: Option<Arc<backlog::Backlog>>,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let publisher = Publisher::new(client.clone(), args.channel.clone())?
        .require_receivers(args.require_receivers);
    let watched = dashboard::Watched::new(publisher, &client, args.channel.clone())?;
    let publisher = Arc::new(watched.with_backlog(backlog));
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
