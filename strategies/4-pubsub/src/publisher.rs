//! The web role's side of the channel: each valid email becomes one PUBLISH.
//!
//! PUBLISH answers with the number of subscribers that received the message, and that
//! number is the whole promise: Redis keeps nothing. With 0 the mail is gone the moment the
//! client is told 200. The answer carries the number as `receivers` so the client can see
//! it, and the log says it out loud.

use kit::{BoxFuture, EmailService, Refusal};
use mailer::Email;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::AsyncCommands;
use serde_json::{json, Map, Value};
use std::time::Duration;

pub struct Publisher {
    /// Reconnects by itself after Redis restarts. Requests made while Redis is down fail
    /// after a couple of quick reconnect attempts, and the client gets a 503.
    redis: ConnectionManager,
    channel: String,
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
        Ok(Publisher { redis, channel })
    }
}

impl EmailService for Publisher {
    fn submit(&self, email: Email) -> BoxFuture<'_, Result<Map<String, Value>, Refusal>> {
        let mut redis = self.redis.clone();
        Box::pin(async move {
            let payload = serde_json::to_string(&email).expect("an Email always serializes");
            let receivers: u64 = redis
                .publish(&self.channel, &payload)
                .await
                .map_err(|e| {
                    tracing::warn!(to = %email.to, error = %e, "Redis is unreachable: the mail was refused with 503");
                    // A timeout is ambiguous: Redis may have published before the answer was
                    // lost. The client is told to retry, which can then deliver it twice.
                    Refusal::unavailable(format!("Redis is unreachable, the mail was not published: {e}"))
                })?;
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
        let mut redis = self.redis.clone();
        Box::pin(async move {
            let pong: redis::RedisResult<String> = redis::cmd("PING").query_async(&mut redis).await;
            match pong {
                Ok(_) => Ok(json!({ "status": "ok", "channel": self.channel })),
                Err(e) => Err(Refusal::unavailable(format!("Redis is unreachable: {e}"))),
            }
        })
    }
}
