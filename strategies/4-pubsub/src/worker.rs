//! The worker role: a subscriber filling the backlog and a sender draining it, running side
//! by side until shutdown.

use crate::backlog::Backlog;
use crate::{sender, subscriber};
use mailer::Mailer;
use std::time::Duration;
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;

pub struct WorkerConfig {
    pub client: redis::Client,
    pub channel: String,
    pub mailer: Mailer,
    pub throttle: Duration,
}

/// `--max-backlog` when it is not given: the most mails waiting in a worker's memory.
pub const DEFAULT_MAX_BACKLOG: usize = 2000;

/// [`run_bounded`] with the default bound, [`DEFAULT_MAX_BACKLOG`].
pub async fn run(
    config: WorkerConfig,
    ready: Option<oneshot::Sender<()>>,
    shutdown: CancellationToken,
) {
    run_bounded(config, DEFAULT_MAX_BACKLOG, ready, shutdown).await
}

/// Runs until `shutdown`, with at most `max_backlog` mails waiting in memory (past it, new
/// ones are dropped and counted); `ready`, if given, fires once the first SUBSCRIBE is
/// confirmed.
///
/// On shutdown the mail being sent is finished, and whatever is still queued is abandoned
/// and counted. Nothing is left in Redis to drain: pub/sub stores nothing, so the queue in
/// this process was the only copy of those mails.
pub async fn run_bounded(
    config: WorkerConfig,
    max_backlog: usize,
    ready: Option<oneshot::Sender<()>>,
    shutdown: CancellationToken,
) {
    run_on(config, &Backlog::new(max_backlog), ready, shutdown).await
}

/// [`run_bounded`] on a backlog the caller made: `--role all` shows it on the web role's
/// `/dashboard`, since both parts run in this one process.
pub(crate) async fn run_on(
    config: WorkerConfig,
    // Shared by the two loops below: when they return, whatever is still in it is gone.
    backlog: &Backlog,
    ready: Option<oneshot::Sender<()>>,
    shutdown: CancellationToken,
) {
    // Two loops, because listening must never wait for sending: the subscriber pushes each
    // mail into the backlog as Redis hands it over, while the sender takes them one at a
    // time at SMTP speed (see `subscriber::listen` for what a subscriber that stops reading
    // costs).
    let listening = subscriber::run(
        config.client,
        config.channel,
        backlog,
        ready,
        shutdown.clone(),
    );
    let sending = sender::run(config.mailer, backlog, config.throttle, &shutdown);
    // Both run on this task (no spawn), so they can borrow the backlog. On shutdown the
    // subscriber stops at once; the sender finishes the mail it is sending first.
    let ((), stats) = tokio::join!(listening, sending);
    // Heard from Redis, never sent: no other copy exists anywhere.
    let abandoned = backlog.len();
    let message = if abandoned == 0 {
        "worker stopped, nothing was queued".to_string()
    } else {
        format!(
            "worker stopped, {abandoned} queued mails abandoned: they lived only in this \
             process and Redis kept no copy"
        )
    };
    tracing::info!(
        sent = stats.sent,
        retries = stats.retries,
        given_up = stats.given_up,
        abandoned,
        dropped = backlog.dropped(),
        "{message}"
    );
}
