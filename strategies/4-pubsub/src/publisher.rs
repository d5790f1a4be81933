//! The web role's side of the channel: each valid email becomes one PUBLISH.
//!
//! PUBLISH answers with the number of subscribers that received the message, and that
//! number is the whole promise: Redis keeps nothing. With 0 the mail is gone the moment the
//! client is told 200. The answer carries the number as `receivers` so the client can see
//! it, and the log says it out loud.
//!
//! With `--require-receivers` a PUBLISH that reached nobody is answered `503` with a JSON
//! error instead: the mail is just as gone, but the client knows, and can try again once a
//! worker listens. It cannot unsend a PUBLISH that did reach someone, so a client that
//! retries a timed-out one may still get the mail twice.

use kit::{BoxFuture, EmailService, Refusal};
use mailer::Email;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{FromRedisValue, RedisResult};
use serde_json::{json, Map, Value};
use std::time::Duration;

/// The web role's [`EmailService`]: one PUBLISH per mail, answered with its receivers.
pub struct Publisher {
    /// Reconnects by itself after Redis restarts. Requests made while Redis is down fail
    /// after a couple of quick reconnect attempts, and the client gets a 503.
    redis: ConnectionManager,
    channel: String,
    /// `--require-receivers`: a PUBLISH nobody heard is a 503, not a 200.
    require_receivers: bool,
}

impl Publisher {
    /// Does not connect yet: the web front starts even while Redis is down, and its
    /// `/healthz` says 503 until Redis answers.
    pub fn new(client: redis::Client, channel: String) -> redis::RedisResult<Publisher> {
        let config = ConnectionManagerConfig::new()
            .set_number_of_retries(2)
            .set_min_delay(Duration::from_millis(50))
            .set_max_delay(Duration::from_millis(500))
            .set_connection_timeout(Some(Duration::from_secs(1)))
            // PUBLISH is instant, but a loaded 2-core machine can stall for longer than the
            // redis crate's default 500 ms.
            .set_response_timeout(Some(Duration::from_secs(2)));
        let redis = client.get_connection_manager_lazy(config)?;
        Ok(Publisher {
            redis,
            channel,
            require_receivers: false,
        })
    }

    /// Refuses (503) a mail whose PUBLISH reached no subscriber, instead of answering 200.
    pub fn require_receivers(mut self, require: bool) -> Publisher {
        self.require_receivers = require;
        self
    }

    /// Runs `cmd`, and once more if the first try found no connection at all.
    ///
    /// After an outage the connection manager hands the next command the error of its last
    /// failed reconnect, even when Redis is back by now, and only then reconnects. A refused
    /// connection means the command never left this process, so trying again is safe and
    /// asks the Redis that is there now. Any other error stands: a PUBLISH whose connection
    /// broke may have reached Redis, and repeating it could send the mail twice.
    async fn query<T: FromRedisValue>(&self, cmd: &redis::Cmd) -> RedisResult<T> {
        let mut redis = self.redis.clone();
        match cmd.query_async(&mut redis).await {
            Err(e) if e.is_connection_refusal() => cmd.query_async(&mut redis).await,
            answered => answered,
        }
    }
}

impl EmailService for Publisher {
    fn submit(&self, email: Email) -> BoxFuture<'_, Result<Map<String, Value>, Refusal>> {
        Box::pin(async move {
            let payload = serde_json::to_string(&email).expect("an Email always serializes");
            let receivers: u64 = self
                .query(redis::cmd("PUBLISH").arg(&self.channel).arg(&payload))
                .await
                .map_err(|e| {
                    tracing::warn!(to = %email.to, error = %e, "Redis is unreachable: the mail was refused with 503");
                    Refusal::unavailable(if e.is_timeout() {
                        // Redis may have published before its answer was lost: a client
                        // that retries this one can get the mail twice.
                        format!("no answer from Redis in time, the mail may have been published: {e}")
                    } else {
                        format!("Redis is unreachable, the mail was not published: {e}")
                    })
                })?;
            // workshop 4.1: solution begin
            if receivers == 0 && self.require_receivers {
                // Redis has already dropped the message: refusing is all that is left, and
                // it is enough, because the client can send it again.
                tracing::warn!(
                    to = %email.to,
                    channel = %self.channel,
                    "nobody is subscribed to {}: the mail is gone, and the client was told 503",
                    self.channel
                );
                return Err(Refusal::unavailable(format!(
                    "no worker is subscribed to {}: the mail was heard by nobody and will not \
                     be sent; try again later",
                    self.channel
                )));
            }
            // workshop 4.1: solution end
            // workshop 4.1: starter
            // // --require-receivers is accepted, and a mail nobody heard still gets a 200.
            // let _ = self.require_receivers;
            // workshop 4.1: starter end
            if receivers == 0 {
                tracing::warn!(
                    to = %email.to,
                    channel = %self.channel,
                    "nobody is subscribed to {}: the mail is gone, and the client was told 200 anyway",
                    self.channel
                );
            } else {
                tracing::info!(receivers, "email :{payload}");
            }
            let mut fields = Map::new();
            fields.insert("receivers".into(), json!(receivers));
            Ok(fields)
        })
    }

    fn health(&self) -> BoxFuture<'_, Result<Value, Refusal>> {
        Box::pin(async move {
            match self.query::<String>(&redis::cmd("PING")).await {
                Ok(_) => Ok(json!({ "status": "ok", "channel": self.channel })),
                Err(e) => Err(Refusal::unavailable(format!("Redis is unreachable: {e}"))),
            }
        })
    }
}
