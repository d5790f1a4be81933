//! The worker's ear: a dedicated pub/sub connection that SUBSCRIBEs to the channel and
//! pushes each mail into the [`Backlog`]. When Redis goes away it reconnects with backoff,
//! and says plainly what that cost: everything published meanwhile went to nobody.
//!
//! A subscribed RESP2 connection can run nothing but (P)SUBSCRIBE, UNSUBSCRIBE and PING,
//! which is why the worker has a connection of its own for this. The redis crate's
//! [`redis::aio::PubSub`] has no response timeout (unlike its multiplexed connections, which
//! time out after 500 ms), so waiting forever for the next message is fine.

use crate::backlog::Backlog;
use futures_util::StreamExt;
use mailer::Email;
use redis::aio::{PubSubSink, PubSubStream};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;

/// How long connecting and subscribing may take before the attempt counts as failed.
const SUBSCRIBE_TIMEOUT: Duration = Duration::from_secs(3);
/// A quiet channel looks the same as a dead connection; a PING this often tells them apart
/// (a half-open TCP connection would otherwise keep the worker deaf forever).
const HEARTBEAT_EVERY: Duration = Duration::from_secs(5);
const HEARTBEAT_TIMEOUT: Duration = Duration::from_secs(3);
/// Reconnect delays: short at first, because every moment unsubscribed loses mail.
const FIRST_RETRY: Duration = Duration::from_millis(50);
const MAX_RETRY: Duration = Duration::from_millis(500);
/// A subscription that ends sooner than this counts as a failed attempt, so a Redis (or a
/// proxy) that drops every subscriber at once is retried with backoff, not in a tight loop.
const STABLE_AFTER: Duration = Duration::from_secs(1);

/// Listens on `channel` until `shutdown`, reconnecting as often as needed. `ready` fires
/// after the first successful SUBSCRIBE.
pub async fn run(
    client: redis::Client,
    channel: String,
    backlog: &Backlog,
    mut ready: Option<oneshot::Sender<()>>,
    shutdown: CancellationToken,
) {
    let mut unsubscribed_since: Option<Instant> = None;
    let mut retry_in = FIRST_RETRY;
    loop {
        let attempt = tokio::select! {
            _ = shutdown.cancelled() => return,
            attempt = tokio::time::timeout(SUBSCRIBE_TIMEOUT, subscribe(&client, &channel)) => attempt,
        };
        let (sink, stream) = match attempt {
            Ok(Ok(subscription)) => subscription,
            failed => {
                let error = match failed {
                    Ok(Err(e)) => e.to_string(),
                    _ => format!("no answer within {SUBSCRIBE_TIMEOUT:?}"),
                };
                tracing::warn!(%error, retry_in_ms = retry_in.as_millis() as u64, "cannot subscribe to Redis");
                if !back_off(&mut retry_in, &shutdown).await {
                    return;
                }
                continue;
            }
        };
        let subscribed_at = Instant::now();
        match unsubscribed_since.take() {
            None => kit::ready::announce("worker", format_args!("subscribed to {channel}")),
            Some(since) => {
                tracing::info!("worker ready (resubscribed) to {channel}");
                tracing::warn!(
                    %channel,
                    unsubscribed_ms = since.elapsed().as_millis() as u64,
                    "mails published on {channel} while this worker was not subscribed were missed: \
                     pub/sub keeps nothing for absent subscribers"
                );
            }
        }
        if let Some(ready) = ready.take() {
            let _ = ready.send(());
        }
        match listen(sink, stream, &channel, backlog, &shutdown).await {
            Ended::Shutdown => return,
            Ended::Lost(reason) => {
                tracing::error!(
                    %reason,
                    queued = backlog.len(),
                    "lost the subscription to Redis, reconnecting: mails published until the \
                     worker resubscribes are lost"
                );
                unsubscribed_since = Some(Instant::now());
                if subscribed_at.elapsed() >= STABLE_AFTER {
                    retry_in = FIRST_RETRY; // resubscribe at once: Redis was fine until now
                } else if !back_off(&mut retry_in, &shutdown).await {
                    return;
                }
            }
        }
    }
}

/// Waits `retry_in` and doubles it for next time (up to [`MAX_RETRY`]); false on shutdown.
async fn back_off(retry_in: &mut Duration, shutdown: &CancellationToken) -> bool {
    tokio::select! {
        _ = shutdown.cancelled() => return false,
        _ = tokio::time::sleep(*retry_in) => {}
    }
    *retry_in = (*retry_in * 2).min(MAX_RETRY);
    true
}

async fn subscribe(
    client: &redis::Client,
    channel: &str,
) -> redis::RedisResult<(PubSubSink, PubSubStream)> {
    let mut pubsub = client.get_async_pubsub().await?;
    // Since redis 1.8 this returns once Redis confirmed the subscription: from here on,
    // a PUBLISH counts this worker among its receivers.
    pubsub.subscribe(channel).await?;
    Ok(pubsub.split())
}

enum Ended {
    Shutdown,
    Lost(String),
}

async fn listen(
    mut sink: PubSubSink,
    mut stream: PubSubStream,
    channel: &str,
    backlog: &Backlog,
    shutdown: &CancellationToken,
) -> Ended {
    let mut heartbeat = tokio::time::interval(HEARTBEAT_EVERY);
    heartbeat.tick().await; // the first tick is immediate; we just subscribed
    loop {
        tokio::select! {
            biased;
            _ = shutdown.cancelled() => return Ended::Shutdown,
            message = stream.next() => match message {
                Some(message) => accept(message.get_payload_bytes(), channel, backlog),
                None => return Ended::Lost("the connection was closed".into()),
            },
            _ = heartbeat.tick() => {
                match tokio::time::timeout(HEARTBEAT_TIMEOUT, sink.ping::<redis::Value>()).await {
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => return Ended::Lost(format!("PING failed: {e}")),
                    Err(_) => return Ended::Lost(format!("no answer to PING within {HEARTBEAT_TIMEOUT:?}")),
                }
            }
        }
    }
}

/// Queues a message if it is a valid email. Anyone can PUBLISH on the channel (redis-cli
/// included), so a message is checked as carefully as an HTTP request.
fn accept(payload: &[u8], channel: &str, backlog: &Backlog) {
    let email = serde_json::from_slice::<Email>(payload)
        .map_err(|e| e.to_string())
        .and_then(|email| email.validate().map(|_| email).map_err(|e| e.to_string()));
    match email {
        Ok(email) => {
            tracing::info!(to = %email.to, "Message from Redis!");
            backlog.push_back(email);
        }
        Err(error) => {
            let preview: String = String::from_utf8_lossy(payload).chars().take(200).collect();
            tracing::error!(%channel, %error, payload = %preview, "ignoring a message that is not a valid email");
        }
    }
}
