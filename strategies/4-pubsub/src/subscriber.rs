//! The worker's ear: a dedicated pub/sub connection that SUBSCRIBEs to the channel and
//! pushes each mail into the [`Backlog`]. When Redis goes away it reconnects with backoff,
//! and says plainly what that cost: everything published meanwhile went to nobody, and
//! when Redis itself dropped the subscriber, what it had buffered for it too (`cut_off.rs`).
//!
//! A subscribed RESP2 connection can run nothing but (P)SUBSCRIBE, UNSUBSCRIBE and PING,
//! which is why the worker has a connection of its own for this. The redis crate's
//! [`redis::aio::PubSub`] has no response timeout (unlike its multiplexed connections, which
//! time out after 500 ms), so waiting forever for the next message is fine.

use crate::backlog::Backlog;
use crate::cut_off::{self, RedisProcess};
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
    // Set while the worker is deaf: from a lost subscription until the next SUBSCRIBE is
    // confirmed. Everything published in that window went to nobody (or to other workers).
    let mut unsubscribed_since: Option<Instant> = None;
    let mut retry_in = FIRST_RETRY;
    loop {
        // 1. Connect and SUBSCRIBE, bounded by a timeout: a Redis that accepts the TCP
        //    connection but never answers (frozen, or behind a dead proxy) would otherwise
        //    keep the worker waiting here forever, deaf and saying nothing.
        let attempt = tokio::select! {
            _ = shutdown.cancelled() => return,
            attempt = tokio::time::timeout(SUBSCRIBE_TIMEOUT, subscribe(&client, &channel)) => attempt,
        };
        let (sink, stream) = match attempt {
            Ok(Ok(subscription)) => subscription,
            // 2. No subscription: every moment now loses what is published, so try again
            //    soon, but back off so a Redis that is down is not hammered.
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
        // 3. Subscribed: from here on a PUBLISH counts this worker among its receivers. Say
        //    so, and after an outage say what it cost: Redis kept nothing for us meanwhile.
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
        // Only after the first SUBSCRIBE: `--role all` opens its web front on this, so the
        // demo's first mails are not published to nobody.
        if let Some(ready) = ready.take() {
            let _ = ready.send(());
        }
        // Which Redis process this is: should the connection close while the same one still
        // runs, Redis dropped this subscriber itself (`cut_off`).
        let listening_to = RedisProcess::ask(&client).await;
        // 4. Listen until shutdown or until the subscription is lost.
        let reason = match listen(sink, stream, &channel, backlog, &shutdown).await {
            Ended::Shutdown => return,
            Ended::Closed => cut_off::why_closed(&client, listening_to.as_ref()).await,
            Ended::Lost(reason) => reason,
        };
        tracing::error!(
            %reason,
            queued = backlog.len(),
            "lost the subscription to Redis, reconnecting: mails published until the \
             worker resubscribes are lost"
        );
        unsubscribed_since = Some(Instant::now());
        // 5. A subscription that lasted was a good one: the loss is news, so
        //    resubscribe at once. One that ended at once may be a Redis (or a proxy)
        //    that drops every subscriber: back off instead of a tight loop.
        if subscribed_at.elapsed() >= STABLE_AFTER {
            retry_in = FIRST_RETRY; // resubscribe at once: Redis was fine until now
        } else if !back_off(&mut retry_in, &shutdown).await {
            return;
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

/// A new dedicated connection, subscribed. Never the multiplexed connection other commands
/// use: a subscribed connection can run nothing else.
async fn subscribe(
    client: &redis::Client,
    channel: &str,
) -> redis::RedisResult<(PubSubSink, PubSubStream)> {
    let mut pubsub = client.get_async_pubsub().await?;
    // Since redis 1.8 this returns once Redis confirmed the subscription: from here on,
    // a PUBLISH counts this worker among its receivers.
    pubsub.subscribe(channel).await?;
    // Split so the loop can PING (the sink half) while it waits for messages (the stream).
    Ok(pubsub.split())
}

/// Why [`listen`] returned.
enum Ended {
    Shutdown,
    /// Redis closed the connection: a restart, CLIENT KILL, a full output buffer.
    Closed,
    /// The connection is as good as dead; the reason is logged.
    Lost(String),
}

/// Moves every message into the backlog as it arrives, until shutdown or until the
/// connection is found dead (closed, or silent to a PING).
///
/// It never waits for the sender: a message goes into memory at once, however slow SMTP
/// is. A subscriber that stopped reading would fall behind in Redis instead, in its output
/// buffer, until Redis disconnects it past its limit and everything unread is lost at once.
/// So this loop stays cheap (parse, check, queue or drop): the redis crate reads the socket
/// in a task of its own, into an unbounded queue that only this loop empties.
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
            // Shutdown first: on a busy channel a message is always ready, and it must not
            // keep the worker from stopping. What stays unread is lost with the process.
            biased;
            _ = shutdown.cancelled() => return Ended::Shutdown,
            // `None`: Redis closed the connection (a restart, CLIENT KILL, a full output
            // buffer).
            message = stream.next() => match message {
                Some(message) => accept(message.get_payload_bytes(), channel, backlog),
                None => return Ended::Closed,
            },
            // A PING is one of the few commands a subscribed connection may send. No answer
            // within the timeout: the connection is as good as dead, even though TCP has
            // not said so (a half-open connection never does).
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
            backlog.push_new(email);
        }
        Err(error) => {
            let preview: String = String::from_utf8_lossy(payload).chars().take(200).collect();
            tracing::error!(%channel, %error, payload = %preview, "ignoring a message that is not a valid email");
        }
    }
}
