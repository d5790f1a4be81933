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

/// Runs until `shutdown`; `ready`, if given, fires once the first SUBSCRIBE is confirmed.
///
/// On shutdown the mail being sent is finished, and whatever is still queued is abandoned
/// and counted. Nothing is left in Redis to drain: pub/sub stores nothing, so the queue in
/// this process was the only copy of those mails.
pub async fn run(
    config: WorkerConfig,
    ready: Option<oneshot::Sender<()>>,
    shutdown: CancellationToken,
) {
    let backlog = Backlog::default();
    let listening = subscriber::run(
        config.client,
        config.channel,
        &backlog,
        ready,
        shutdown.clone(),
    );
    let sending = sender::run(config.mailer, &backlog, config.throttle, &shutdown);
    let ((), stats) = tokio::join!(listening, sending);
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
        "{message}"
    );
}
